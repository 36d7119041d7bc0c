/*
 * NAME
 *   greyrep - the greylisting milter daemon
 * SYNOPSIS
 *   greyrep [-c FILE] [-f] [-s] [-n] [-p SOCKET] [-V] [-d]
 * DESCRIPTION
 *   Start-up order matters and is: read and check the configuration; open
 *   the milter socket (as root, so it may live in a root-owned directory);
 *   give it the configured mode and group; become a daemon; write the
 *   pidfile; drop privileges to [milter] user; only then open the store
 *   (LMDB must never be opened before fork()) and start the threads.
 *
 *   Under systemd (Type=notify) it sends READY=1 once the socket is open
 *   and the store ready, and STOPPING=1 when libmilter returns; see notify.h.
 *   -s keeps log lines out of stderr (syslog only), so that a journal that
 *   reads both does not show each line twice.
 *
 *   Signals: SIGUSR1 reloads the configuration and whitelist files, caught
 *   by a thread of ours with sigwait(); SIGTERM, SIGINT and SIGHUP are
 *   libmilter's and stop the daemon.
 * DIAGNOSTICS
 *   Problems at start-up go to stderr and syslog and exit 1; usage errors
 *   exit 2.
 */
#include "autoconf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checks.h"
#include "config.h"
#include "decide.h"
#include "orgdomain.h"
#include "log.h"
#include "metrics.h"
#include "milter.h"
#include "negotiate.h"
#include "notify.h"
#include "record.h"
#include "store.h"
#include "util.h"

static struct store *the_store;
static struct decider *the_decider;
static struct checks *the_checks;
static volatile int stopping;
static pthread_mutex_t stop_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stop_cond = PTHREAD_COND_INITIALIZER;

/* usage - the synopsis: to stdout and exit 0 for --help, else stderr and 2 */
static void usage(int help)
{
    fprintf(help ? stdout : stderr,
            "usage: greyrep [-c FILE] [-f] [-s] [-n] [-p SOCKET] [-V] [-d]\n%s",
            help ? "  -c FILE    configuration file (default " CFG_DEFAULT_FILE ")\n"
                   "  -f         stay in the foreground, log to stderr too\n"
                   "  -s         log to syslog only (not to stderr as well)\n"
                   "  -n         check the configuration and exit\n"
                   "  -p SOCKET  listen on SOCKET instead of [milter] socket\n"
                   "  -V         print the version and exit\n"
                   "  -d         debug logging\n"
                   "  --help     this text\n"
                 : "");
    exit(help ? 0 : 2);
}

/* print_problem - config problems at start-up and with -n */
static void print_problem(void *arg, const char *line)
{
    int *logged = arg;
    if (logged && *logged)
        log_err("%s", line);
    else
        fprintf(stderr, "%s\n", line);
}

/* unix_path - the file of a unix: or local: socket, else NULL */
static const char *unix_path(const char *sock)
{
    if (strncmp(sock, "unix:", 5) == 0)
        return sock + 5;
    if (strncmp(sock, "local:", 6) == 0)
        return sock + 6;
    return NULL;
}

/* check_pidfile - refuse to start beside a running greyrep */
static void check_pidfile(const char *path)
{
    char buf[32];
    FILE *fp = fopen(path, "r");
    uint64_t pid;

    if (fp == NULL)
        return;
    if (fgets(buf, sizeof buf, fp) != NULL) {
        buf[strcspn(buf, "\n")] = '\0';
        if (util_parse_u64(buf, 1, 1 << 30, &pid) == 0 && (pid_t)pid != getpid()
            && kill((pid_t)pid, 0) == 0)
            log_fatal("greyrep already runs as pid %llu (pidfile %s)",
                      (unsigned long long)pid, path);
    }
    fclose(fp);
}

/* write_pidfile - after daemonising; its directory is created if missing */
static void write_pidfile(const char *path, uid_t uid, gid_t gid)
{
    char dir[PATH_MAX];
    char *slash;
    FILE *fp;

    util_strlcpy(dir, path, sizeof dir);
    if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
        *slash = '\0';
        if (mkdir(dir, 0755) == 0 && getuid() == 0 && chown(dir, uid, gid) != 0)
            log_warn("cannot chown %s: %s", dir, strerror(errno));
    }
    if ((fp = fopen(path, "w")) == NULL)
        log_fatal("cannot write pidfile %s: %s", path, strerror(errno));
    fprintf(fp, "%ld\n", (long)getpid());
    fclose(fp);
}

/* set_nodelay - libmilter keeps its listening socket to itself; find it.
 * Linux copies TCP_NODELAY from the listener to accepted sockets, which
 * saves a delayed-ACK wait (~40 ms) per message over TCP. */
static void set_nodelay(void)
{
    for (int fd = 3; fd < 1024; fd++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int listening = 0, one = 1;
        socklen_t ol = sizeof listening;
        if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
            continue;
        if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)
            continue;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &ol) != 0 || !listening)
            continue;
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
            log_warn("TCP_NODELAY on the milter socket: %s", strerror(errno));
    }
}

/* store_dir_safe - an existing LMDB directory any local user may write to
 * is refused (records could be replaced under us); 0 or -1, logged */
static int store_dir_safe(const struct cfg *cfg)
{
    struct stat sb;

    if (cfg->store.backend != BACKEND_LMDB || stat(cfg->store.path, &sb) != 0)
        return 0;
    if (!(sb.st_mode & S_IWOTH))
        return 0;
    log_err("%s:0: [store] path %s is world-writable (mode %04o): refusing it; "
            "chmod o-w %s", cfg->file, cfg->store.path, (unsigned)(sb.st_mode & 07777),
            cfg->store.path);
    return -1;
}

/* prepare_dir - create the store directory and give it to the user */
static void prepare_dir(const char *path, uid_t uid, gid_t gid)
{
    DIR *d;
    struct dirent *e;
    char file[PATH_MAX + 300];

    if (mkdir(path, 0750) != 0 && errno != EEXIST)
        log_fatal("cannot create %s: %s", path, strerror(errno));
    if (chown(path, uid, gid) != 0)
        log_fatal("cannot chown %s: %s", path, strerror(errno));
    if ((d = opendir(path)) == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, "data.mdb") != 0 && strcmp(e->d_name, "lock.mdb") != 0)
            continue;
        snprintf(file, sizeof file, "%s/%s", path, e->d_name);
        if (chown(file, uid, gid) != 0)
            log_warn("cannot chown %s: %s", file, strerror(errno));
    }
    closedir(d);
}

/* drop_privileges - become [milter] user after the socket is open */
static void drop_privileges(const struct cfg *cfg)
{
    struct passwd *pw;
    gid_t sgid;
    const char *sock = unix_path(cfg->socket);

    if (getuid() != 0 || cfg->user[0] == '\0') {
        if (sock != NULL && chmod(sock, cfg->socket_mode) != 0)
            log_warn("cannot chmod %s: %s", sock, strerror(errno));
        return;
    }
    if ((pw = getpwnam(cfg->user)) == NULL)
        log_fatal("[milter] user %s does not exist", cfg->user);
    sgid = pw->pw_gid;
    if (cfg->socket_group[0] != '\0') {
        struct group *gr = getgrnam(cfg->socket_group);
        if (gr == NULL)
            log_fatal("[milter] socket_group %s does not exist", cfg->socket_group);
        sgid = gr->gr_gid;
    }
    if (sock != NULL && (chown(sock, pw->pw_uid, sgid) != 0 || chmod(sock, cfg->socket_mode) != 0))
        log_fatal("cannot set owner and mode of %s: %s", sock, strerror(errno));
    if (cfg->store.backend == BACKEND_LMDB)
        prepare_dir(cfg->store.path, pw->pw_uid, pw->pw_gid);
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0
        || setuid(pw->pw_uid) != 0)
        log_fatal("cannot become user %s: %s", cfg->user, strerror(errno));
    if (setuid(0) == 0)
        log_panic("privileges were not dropped");
}

/* restart_only - settings that a reload cannot change, compared */
static void warn_restart_only(const struct cfg *old, const struct cfg *new)
{
    if (strcmp(old->socket, new->socket) != 0 || strcmp(old->user, new->user) != 0
        || memcmp(&old->store, &new->store, sizeof old->store) != 0
        || strcmp(old->dns_servers, new->dns_servers) != 0
        || old->dkim_min_key_bits != new->dkim_min_key_bits)
        log_warn("reload: [milter] socket/user, [store], [dns] servers and [dkim] min_key_bits "
                 "take effect at the next restart");
}

/* log_steps - with -d, the protocol steps new connections will ask for
 * (each connection logs what its MTA granted) */
static void log_steps(const struct cfg *cfg)
{
    char buf[400];
    if (log_debug_enabled())
        log_debug("milter protocol steps for new connections: %s",
                  neg_format(neg_steps(cfg, ~0UL), buf, sizeof buf));
}

/* reload - SIGUSR1: build the new configuration beside the old one */
static void reload(const char *file)
{
    int logged = 1;
    struct cfg *old = cfg_current();
    struct cfg *fresh = cfg_load(file, print_problem, &logged);

    if (fresh == NULL) {
        log_err("reload of %s failed: keeping the old configuration", file);
    } else {
        warn_restart_only(old, fresh);
        /* keep what only a restart can change, so the running state is consistent */
        memcpy(fresh->socket, old->socket, sizeof fresh->socket);
        fresh->store = old->store;
        cfg_install(fresh);
        log_info("configuration reloaded from %s", file);
        log_steps(fresh);
    }
    cfg_release(old);
}

/* signal_thread - waits for SIGUSR1 (blocked in every other thread) */
static void *signal_thread(void *arg)
{
    const char *file = arg;
    sigset_t set;
    int sig;

    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    for (;;) {
        if (sigwait(&set, &sig) != 0)
            continue;
        if (stopping)
            break;
        if (sig == SIGUSR1)
            reload(file);
    }
    return NULL;
}

/* on_expired - a triplet record the sweep removed: an abandoned pending
 * one is counted and teaches reputation */
static void on_expired(void *arg, const char *key, size_t klen, const void *val, size_t vlen,
                       time_t expired)
{
    struct cfg *cfg = cfg_current();
    (void)arg;
    metrics_on_expired(NULL, key, klen, val, vlen, expired);
    if (cfg == NULL)
        return;
    decide_expired(the_decider, cfg, key, klen, val, vlen, expired);
    cfg_release(cfg);
}

/* maintenance_thread - flush, stale readers, sweeps, counters */
static void *maintenance_thread(void *arg)
{
    time_t started = util_now(), last_sweep = started, last_counters = 0;
    (void)arg;

    pthread_mutex_lock(&stop_lock);
    while (!stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&stop_cond, &stop_lock, &ts);
        if (stopping)
            break;
        pthread_mutex_unlock(&stop_lock);

        struct cfg *cfg = cfg_current();
        time_t now = util_now();
        store_maintain(the_store);
        if (now - last_sweep >= (time_t)cfg->store.sweep_interval) {
            /* in slices, so that a stop does not wait for a long sweep */
            size_t removed = 0, slice;
            int rc;
            do {
                slice = 0;
                rc = store_expire(the_store, now, 10000, &slice);
                removed += slice;
            } while (rc == STORE_OK && slice == 10000 && !stopping);
            if (removed > 0)
                log_info("expired %zu records%s", removed, stopping ? " (stopped early)" : "");
            last_sweep = now;
        }
        if (now - last_counters >= METRICS_WRITE_INTERVAL) {
            /* this instance's counters, for greyrepctl stats and report */
            metrics_write(the_store, now, started);
            last_counters = now;
        }
        cfg_release(cfg);
        pthread_mutex_lock(&stop_lock);
    }
    pthread_mutex_unlock(&stop_lock);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *file = CFG_DEFAULT_FILE, *sock_override = NULL;
    int foreground = 0, check_only = 0, debug = 0, syslog_only = 0, opt, logged = 0;
    struct cfg *cfg;
    struct passwd *pw;
    uid_t uid = 0;
    gid_t gid = 0;
    char err[512], pidfile[PATH_MAX];
    sigset_t set;
    pthread_t sig_tid, maint_tid;
    int rc;

    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    /* getopt names a missing or unknown option itself ("option requires
     * an argument -- 'c'") before the usage line */
    while ((opt = getopt_long(argc, argv, "c:fsnp:Vdh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'h': usage(1); break;
        case 'c': file = optarg; break;
        case 'f': foreground = 1; break;
        case 's': syslog_only = 1; break;
        case 'n': check_only = 1; break;
        case 'p': sock_override = optarg; break;
        case 'd': debug = 1; break;
        case 'V':
            printf("greyrep %s\n", PACKAGE_VERSION);
            return 0;
        default: usage(0);
        }
    }
    if (optind != argc) {
        fprintf(stderr, "greyrep: unexpected argument %s\n", argv[optind]);
        usage(0);
    }
    /* -s: syslog only (-n always prints its findings) */
    log_open("greyrep", check_only || !syslog_only, !check_only);
    log_set_debug(debug);

    cfg = cfg_load(file, print_problem, &logged);
    if (cfg == NULL) {
        if (!check_only)
            log_err("invalid configuration in %s", file);
        return 1;
    }
    if (store_dir_safe(cfg) < 0) {
        cfg_free(cfg);
        return 1;
    }
    if (sock_override != NULL) {
        const char *why;
        if (strlen(sock_override) >= sizeof cfg->socket)
            log_fatal("-p: socket name too long");
        if ((why = cfg_socket_problem(sock_override)) != NULL) {
            fprintf(stderr, "greyrep: -p: %s\n", why);
            return 1;
        }
        util_strlcpy(cfg->socket, sock_override, sizeof cfg->socket);
    }
    if (check_only) {
        printf("%s: configuration is valid\n", file);
        cfg_free(cfg);
        return 0;
    }
    if (!foreground)
        log_open("greyrep", 0, 1);
    check_pidfile(cfg->pidfile);
    if (getuid() == 0 && cfg->user[0] != '\0') {
        if ((pw = getpwnam(cfg->user)) == NULL)
            log_fatal("[milter] user %s does not exist", cfg->user);
        uid = pw->pw_uid;
        gid = pw->pw_gid;
    } else {
        uid = getuid();
        gid = getgid();
    }

    if (smfi_setconn(cfg->socket) == MI_FAILURE)
        log_fatal("invalid milter socket %s", cfg->socket);
    if (smfi_register(milter_desc) == MI_FAILURE)
        log_fatal("smfi_register failed");
    /* 1: remove a stale unix socket (the pidfile check ran above) */
    errno = 0;
    if (smfi_opensocket(1) == MI_FAILURE)
        log_fatal("cannot open milter socket %s: %s", cfg->socket,
                  errno != 0 ? strerror(errno) : "libmilter gave no reason");
    set_nodelay();

    if (!foreground && daemon(0, 0) != 0)
        log_fatal("daemon: %s", strerror(errno));
    write_pidfile(cfg->pidfile, uid, gid);
    drop_privileges(cfg);

    /* Every thread we or our libraries start inherits this mask: SIGUSR1
     * goes to our signal thread only, and SIGTERM/SIGINT/SIGHUP to
     * libmilter's, which waits for them with sigwait() */
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    util_strlcpy(pidfile, cfg->pidfile, sizeof pidfile);
    the_store = store_open(&cfg->store, err, sizeof err);
    if (the_store == NULL)
        log_fatal("store: %s", err);
    /* the checks start even when all are off, so a reload can turn them on */
    the_checks = chk_open(cfg, err, sizeof err);
    if (the_checks == NULL)
        log_fatal("DNS checks: %s", err);
    if ((the_decider = decider_new(the_store)) == NULL)
        log_fatal("out of memory");
    /* reputation: the public suffix list once, and abandonments from the
     * sweep, counted and learnt */
    org_init(NULL);
    store_on_expire(the_store, "t|", on_expired, NULL);
    milter_init(the_decider, the_checks);
    log_steps(cfg);
    cfg_install(cfg);

    if (pthread_create(&sig_tid, NULL, signal_thread, (void *)file) != 0
        || pthread_create(&maint_tid, NULL, maintenance_thread, NULL) != 0)
        log_fatal("cannot start threads");
    /* [metrics] listen: read at start only (a reload does not move it) */
    if (metrics_http_start(cfg->metrics_listen, util_now(), err, sizeof err) < 0)
        log_fatal("%s", err);

    log_info("greyrep %s ready on %s, store %s", PACKAGE_VERSION, cfg->socket,
             store_backend_name(the_store));
    if (notify_send("READY=1\nSTATUS=accepting milter connections") != 0)
        log_warn("cannot notify systemd (NOTIFY_SOCKET): %s", strerror(errno));
    rc = smfi_main();
    log_info("stopping");
    if (notify_send("STOPPING=1") != 0)
        log_warn("cannot notify systemd (NOTIFY_SOCKET): %s", strerror(errno));

    pthread_mutex_lock(&stop_lock);
    stopping = 1;
    pthread_cond_broadcast(&stop_cond);
    pthread_mutex_unlock(&stop_lock);
    pthread_join(maint_tid, NULL);
    metrics_http_stop();
    pthread_kill(sig_tid, SIGUSR1);
    pthread_join(sig_tid, NULL);
    chk_close(the_checks);
    decider_free(the_decider);
    store_close(the_store);
    cfg_install(NULL);
    /* best effort: after dropping privileges these may not be ours to remove */
    unlink(pidfile);
    return rc == MI_SUCCESS ? 0 : 1;
}
