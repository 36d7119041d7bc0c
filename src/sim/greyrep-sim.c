/*
 * NAME
 *   greyrep-sim - how much greylisting stops and delays, in virtual time
 * SYNOPSIS
 *   greyrep-sim [--seed N] [--mix FILE] [--messages N] [--days N]
 *               [--config FILE] [--jobs N] [--json] [--svg FILE] [-V]
 *   greyrep-sim --config FILE --replay FILE
 * DESCRIPTION
 *   Builds a month of synthetic mail from a traffic mix (sim_run.c) and
 *   replays it through greyrep's own decision code once per mode, each
 *   mode a greyrep configuration with its own LMDB store in a temporary
 *   directory.  Modes run in forked children, --jobs at a time (one per
 *   core), and hand their figures back through a pipe.  See greyrep-sim(8).
 * DIAGNOSTICS
 *   Exit 0 on success, 1 on a failed run or bad input (one line on stderr
 *   naming what was wrong), 2 on a usage error.
 */
#include "autoconf.h"

#include <errno.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "netaddr.h"
#include "policy.h"
#include "sim/sim_decide.h"
#include "sim/sim.h"
#include "sim/sim_report.h"
#include "sim/sim_run.h"
#include "util.h"

#ifndef SIM_DEFAULT_MIX
#define SIM_DEFAULT_MIX "/usr/share/greyrep/greyrep-sim.mix"
#endif
#define MAX_MODES SIM_MAX_MODES

/* usage - print usage and exit 2 */
static void usage(void)
{
    fputs("usage: greyrep-sim [--seed N] [--mix FILE] [--messages N] [--days N]\n"
          "                   [--config FILE] [--jobs N] [--json] [--svg FILE] [-V]\n"
          "       greyrep-sim --config FILE --replay FILE\n",
          stderr);
    exit(2);
}

/* rm_store - remove the LMDB files of a temporary store and its directory */
static void rm_store(const char *dir)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/data.mdb", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/lock.mdb", dir);
    unlink(p);
    rmdir(dir);
}

/* replay - --replay: decide each line of file (OFFSET IP HELO SENDER RCPT)
 * at virtual time epoch + OFFSET through cfg, with no DNS check, and print
 * "OFFSET VERDICT REASON" a line; tests compare it with a running greyrep */
static int replay(const char *file, struct cfg *cfg)
{
    FILE *fp = fopen(file, "r");
    const char *tmp = getenv("TMPDIR");
    char dir[4096], err[512], buf[1200];
    struct sim_decider *d;
    unsigned line = 0;
    int rc = 0;

    if (fp == NULL) {
        fprintf(stderr, "greyrep-sim: %s: %s\n", file, strerror(errno));
        return 1;
    }
    snprintf(dir, sizeof dir, "%s/greyrep-sim.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL || (d = sim_decider_open(cfg, dir, err, sizeof err)) == NULL) {
        fprintf(stderr, "greyrep-sim: store in %s: %s\n", dir, strerror(errno));
        fclose(fp);
        return 1;
    }
    while (fgets(buf, sizeof buf, fp) != NULL) {
        char *w[5], *save = NULL;
        int n = 0;
        uint64_t off;
        struct net_addr ip;
        struct sim_attempt a;
        struct verdict v;

        line++;
        if (buf[0] == '#')
            continue;
        for (char *t = strtok_r(buf, " \t\r\n", &save); t && n < 5;
             t = strtok_r(NULL, " \t\r\n", &save))
            w[n++] = t;
        if (n == 0)
            continue;
        if (n != 5 || util_parse_u64(w[0], 0, 365 * 86400, &off) < 0
            || net_parse(w[1], &ip) < 0 || ip.family != AF_INET) {
            fprintf(stderr, "greyrep-sim: %s:%u: want OFFSET IPV4 HELO SENDER RCPT\n", file,
                    line);
            rc = 1;
            break;
        }
        a.client = (uint32_t)ip.a[0] << 24 | (uint32_t)ip.a[1] << 16 | (uint32_t)ip.a[2] << 8
                   | ip.a[3];
        a.helo = w[2];
        a.sender = strcmp(w[3], "<>") == 0 ? "" : w[3];
        a.rcpt = w[4];
        a.dns = NULL;
        sim_decide(d, &a, SIM_EPOCH + (time_t)off, &v);
        printf("%llu %s %s\n", (unsigned long long)off,
               v.action == V_ACCEPT ? "accept" : v.action == V_REJECT ? "reject" : "tempfail",
               policy_reason_name(v.reason));
    }
    fclose(fp);
    sim_decider_close(d);
    rm_store(dir);
    return rc;
}

/* run_child - one mode in a child process; figures to fd */
static void run_child(const struct sim_traffic *t, struct sim_mode_def *m, int fd)
{
    struct sim_mode_result *res = calloc(1, sizeof *res);
    const char *tmp = getenv("TMPDIR");
    struct rusage ru;
    char dir[4096], err[512];
    int rc = 1;

    if (res == NULL)
        _exit(1);
    /* memory-backed when there is one: the store's writes are not the
     * figure being measured */
    if (tmp == NULL || *tmp == '\0')
        tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof dir, "%s/greyrep-sim.XXXXXX", tmp);
    if (mkdtemp(dir) == NULL) {
        fprintf(stderr, "greyrep-sim: %s: %s\n", dir, strerror(errno));
        _exit(1);
    }
    util_strlcpy(res->name, m->name, sizeof res->name);
    util_strlcpy(res->note, m->note, sizeof res->note);
    res->selective_missing = m->selective_missing;
    if (sim_mode_run(t, m->cfg, dir, res, err, sizeof err) < 0) {
        fprintf(stderr, "greyrep-sim: mode %s: %s\n", m->name, err);
    } else {
        const char *p = (const char *)res;
        if (getrusage(RUSAGE_SELF, &ru) == 0)
            res->cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec
                       + ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
        size_t left = sizeof *res;
        rc = 0;
        while (left > 0) {
            ssize_t w = write(fd, p, left);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                rc = 1;
                break;
            }
            p += w;
            left -= (size_t)w;
        }
    }
    rm_store(dir);
    _exit(rc);
}

/* read_all - the whole result from a child; -1 if it fell short */
static int read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t r = read(fd, p, len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        len -= (size_t)r;
    }
    return 0;
}

/* run_modes - every mode, at most jobs at a time, the last (usually the
 * slowest: the administrator's own, then milter-greylist-like) first;
 * 0 if all finished.  A result fits in a pipe's buffer, so a child never
 * waits for the parent to read. */
static int run_modes(const struct sim_traffic *t, struct sim_mode_def *m, int n, int jobs,
                     struct sim_mode_result *res)
{
    pid_t pid[MAX_MODES];
    int fd[MAX_MODES], failed = 0, running = 0, next = n - 1;

    fflush(NULL);
    while (next >= 0 || running > 0) {
        if (next >= 0 && running < jobs) {
            int p[2], i = next--;
            if (pipe(p) < 0 || (pid[i] = fork()) < 0) {
                fprintf(stderr, "greyrep-sim: cannot start mode %s: %s\n", m[i].name,
                        strerror(errno));
                return -1;
            }
            if (pid[i] == 0) {
                close(p[0]);
                run_child(t, &m[i], p[1]);
            }
            close(p[1]);
            fd[i] = p[0];
            running++;
            continue;
        }
        int status, i;
        pid_t done = wait(&status);
        if (done < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        for (i = 0; i < n && pid[i] != done; i++)
            ;
        if (i == n)
            continue;
        running--;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0
            || read_all(fd[i], &res[i], sizeof res[i]) < 0) {
            fprintf(stderr, "greyrep-sim: mode %s failed\n", m[i].name);
            failed = 1;
        }
        close(fd[i]);
    }
    return failed ? -1 : 0;
}

int main(int argc, char **argv)
{
    const char *mix_file = SIM_DEFAULT_MIX, *svg = NULL, *config = NULL, *replay_file = NULL;
    uint64_t seed = 1, messages = 0, days = 30, jobs = 2;
    int json = 0, nmodes;
    struct sim_mix mix;
    struct sim_traffic t;
    struct sim_mode_def modes[MAX_MODES];
    struct sim_mode_result *res;
    struct sim_run_info info;
    struct timespec t0, t1;
    char err[600];

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
            printf("greyrep-sim %s\n", PACKAGE_VERSION);
            return 0;
        } else if (strcmp(a, "--json") == 0) {
            json = 1;
            continue;
        }
        if (v == NULL)
            usage();
        i++;
        if (strcmp(a, "--seed") == 0) {
            if (util_parse_u64(v, 0, UINT64_MAX, &seed) < 0)
                goto bad;
        } else if (strcmp(a, "--messages") == 0) {
            if (util_parse_u64(v, 1, 10000000, &messages) < 0)
                goto bad;
        } else if (strcmp(a, "--days") == 0) {
            if (util_parse_u64(v, 1, 365, &days) < 0)
                goto bad;
        } else if (strcmp(a, "--jobs") == 0) {
            if (util_parse_u64(v, 1, MAX_MODES, &jobs) < 0)
                goto bad;
        } else if (strcmp(a, "--mix") == 0) {
            mix_file = v;
        } else if (strcmp(a, "--svg") == 0) {
            svg = v;
        } else if (strcmp(a, "--config") == 0) {
            config = v;
        } else if (strcmp(a, "--replay") == 0) {
            replay_file = v;
        } else {
            usage();
        }
        continue;
    bad:
        fprintf(stderr, "greyrep-sim: %s: bad value '%.60s'\n", a, v);
        return 2;
    }
    log_open("greyrep-sim", 1, 0);
    if (replay_file != NULL) {
        struct cfg *cfg;
        if (config == NULL)
            usage();
        if ((cfg = cfg_load(config, NULL, NULL)) == NULL) {
            fprintf(stderr, "greyrep-sim: %s: invalid configuration\n", config);
            return 1;
        }
        int rc = replay(replay_file, cfg);
        cfg_free(cfg);
        return rc;
    }
    if (sim_mix_load(mix_file, &mix, err, sizeof err) < 0) {
        fprintf(stderr, "greyrep-sim: %s\n", err);
        return 1;
    }
    if (messages == 0) {
        double w = 0;
        for (unsigned c = 0; c < mix.n; c++)
            w += mix.c[c].weight;
        messages = (uint64_t)(w * (double)days + 0.5);
        if (messages < 1 || messages > 10000000) {
            fprintf(stderr, "greyrep-sim: %s: the mix makes %llu messages; give --messages\n",
                    mix_file, (unsigned long long)messages);
            return 1;
        }
    }
    if ((nmodes = sim_modes_build(modes, MAX_MODES, config)) < 0)
        return 1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (sim_traffic_build(&t, &mix, seed, (size_t)messages, (unsigned)days) < 0) {
        fprintf(stderr, "greyrep-sim: out of memory building the traffic\n");
        return 1;
    }
    if ((res = calloc((size_t)nmodes, sizeof *res)) == NULL
        || run_modes(&t, modes, nmodes, (int)jobs, res) < 0)
        return 1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    info.seed = seed;
    info.messages = t.nmsgs;
    info.days = (unsigned)days;
    info.mix_file = mix_file;
    info.wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (json)
        sim_report_json(stdout, &info, &mix, res, nmodes);
    else
        sim_report_text(stdout, &info, &mix, res, nmodes);
    if (svg != NULL && sim_report_svg(svg, &info, &mix, res, nmodes) < 0) {
        fprintf(stderr, "greyrep-sim: %s: cannot write: %s\n", svg, strerror(errno));
        return 1;
    }
    for (int i = 0; i < nmodes; i++)
        cfg_free(modes[i].cfg);
    sim_traffic_free(&t);
    free(res);
    return fflush(stdout) == 0 ? 0 : 1;
}
