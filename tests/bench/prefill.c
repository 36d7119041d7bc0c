/*
 * NAME
 *   greyrep-prefill - fill an LMDB store with millions of triplets, fast
 * SYNOPSIS
 *   greyrep-prefill -c CONF -n TOTAL [-x EXPIRED] [--hit-draws K] [options]
 * DESCRIPTION
 *   Writes TOTAL triplet records ("t|NET|SENDER|RCPT") into the LMDB store
 *   named by the [store] path of CONF, for the benchmarks of bench.sh.
 *   Keys are built with greyrep's own decide_triplet_key() (sender
 *   normalisation, network masking from CONF's [greylist] prefixes) and
 *   values with rec_triplet_encode(), so they are byte for byte what
 *   greyrep itself would write.  The records go straight into LMDB in
 *   transactions of BATCH records (store.h has no bulk write; one
 *   store_put() per record would take an hour for 10M); the value layout
 *   on disk (an 8-byte big-endian expiry, then the record) is the one of
 *   src/store_lmdb.c, and a sample is read back through store_open() and
 *   store_get() at the end, so a change of that layout fails here loudly.
 *
 *   Three populations, drawn from the same distributions as
 *   greyrep-loadgen's new clients, senders and recipients:
 *
 *   hits     the triplets greyrep-loadgen will send as "new" messages:
 *            the tool replays loadgen's per-thread random streams (same
 *            --seed, threads, -6, -r, --users, --domain, --net4, --net6),
 *            K draws per thread, and stores each as a pending triplet first
 *            seen now.  A loadgen "new" message then finds an existing,
 *            cold record spread anywhere in the store and gets the same
 *            answer as a new triplet (451, retry too early), so the run is
 *            the same for every store size.  At most TOTAL/2 records.
 *   expired  EXPIRED records whose expiry has passed (for the sweep test).
 *   filler   the rest: live records, 70% pending, 30% passed.
 *
 *   The hit generator mirrors tests/bench/loadgen.c (lg_mix, lg_rand,
 *   lg_derive, lg_net_pick, lg_rcpt): keep the two in step.
 * OPTIONS
 *   -c CONF             greyrep.conf: [store] path, [greylist] settings
 *   -n TOTAL            records to write in all (1..100000000)
 *   -x EXPIRED          of which expired (default 0)
 *   --hit-draws K       loadgen draws to replay per thread (default 0)
 *   --hit-threads T     loadgen's -T (default 2)
 *   --seed N            loadgen's --seed (default 1)
 *   --seeds COUNT       replay the seeds N .. N+COUNT-1 (one per loadgen run;
 *                       default 1)
 *   -6 FRACTION         loadgen's -6 (default 0.2)
 *   -r MIN[-MAX]        loadgen's -r (default 1)
 *   --users N           loadgen's --users (default 10000)
 *   --domain DOMAIN     loadgen's --domain (default example.org)
 *   --net4 CIDR         loadgen's --net4 (default 198.18.0.0/15)
 *   --net6 CIDR         loadgen's --net6 (default 2001:2::/48)
 *   --batch N           records per write transaction (default 100000)
 * DIAGNOSTICS
 *   One summary line on standard output.  Exit 0 on success, 1 on a
 *   failure (message on standard error), 2 on a usage error.  The store
 *   directory must not hold a store yet.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "config.h"
#include "decide.h"
#include "envaddr.h"
#include "log.h"
#include "netaddr.h"
#include "record.h"
#include "store.h"
#include "util.h"

#define PF_SAMPLES 16

/* A client network as loadgen keeps it. */
struct pf_net {
    int family;
    unsigned char addr[16];
    int prefix;
};

struct pf_opts {
    const char *conf;
    uint64_t total, expired, hit_draws, seed, seeds, users, batch;
    unsigned threads;
    double ipv6;
    int rcpt_min, rcpt_max;
    const char *domain;
    struct pf_net net4, net6;
};

/* The writer: one open environment and the transaction being filled. */
struct pf_writer {
    MDB_env *env;
    MDB_dbi dbi;
    MDB_txn *txn;
    uint64_t in_txn, written, dups;
    uint64_t batch;
    char samples[PF_SAMPLES][STORE_MAX_KEY];
    int sample_live[PF_SAMPLES];
    int nsamples;
};

static struct pf_opts opt;
static const struct cfg *pf_cfg;

/* pf_mix - loadgen's lg_mix (splitmix64 finaliser) */
static uint64_t pf_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* pf_rand - loadgen's lg_rand on a stream */
static uint64_t pf_rand(uint64_t *rng)
{
    *rng += 0x9e3779b97f4a7c15ULL;
    return pf_mix(*rng);
}

/* pf_net_pick - loadgen's lg_net_pick, into a net_addr */
static void pf_net_pick(const struct pf_net *net, uint64_t r1, uint64_t r2,
                        struct net_addr *out)
{
    unsigned char rnd[16];
    int len = net->family == AF_INET ? 4 : 16;

    memcpy(rnd, &r1, 8);
    memcpy(rnd + 8, &r2, 8);
    memset(out, 0, sizeof *out);
    out->family = net->family;
    for (int i = 0; i < len; i++) {
        int bits = net->prefix - 8 * i;
        if (bits >= 8)
            out->a[i] = net->addr[i];
        else if (bits <= 0)
            out->a[i] = rnd[i];
        else
            out->a[i] = (unsigned char)((net->addr[i] & (0xff << (8 - bits)))
                                        | (rnd[i] & (0xff >> bits)));
    }
}

/* pf_put - add one record to the current transaction; commit every batch */
static int pf_put(struct pf_writer *w, const char *key, const struct rec_triplet *t,
                  time_t expires, int sample)
{
    unsigned char buf[8 + REC_MAX];
    uint64_t e = (uint64_t)expires;
    MDB_val k = {strlen(key), (void *)key}, v;
    int rc;

    /* store_lmdb.c's layout: big-endian expiry, then the record */
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)(e >> (56 - 8 * i));
    v.mv_size = 8 + rec_triplet_encode(t, buf + 8);
    v.mv_data = buf;
    if (w->txn == NULL && (rc = mdb_txn_begin(w->env, NULL, 0, &w->txn)) != 0) {
        fprintf(stderr, "greyrep-prefill: mdb_txn_begin: %s\n", mdb_strerror(rc));
        return -1;
    }
    rc = mdb_put(w->txn, w->dbi, &k, &v, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST) {
        w->dups++;
        return 1;
    }
    if (rc != 0) {
        fprintf(stderr, "greyrep-prefill: mdb_put: %s\n", mdb_strerror(rc));
        return -1;
    }
    w->written++;
    if (sample && w->nsamples < PF_SAMPLES) {
        util_strlcpy(w->samples[w->nsamples], key, STORE_MAX_KEY);
        w->sample_live[w->nsamples++] = expires > time(NULL);
    }
    if (++w->in_txn >= w->batch) {
        if ((rc = mdb_txn_commit(w->txn)) != 0) {
            fprintf(stderr, "greyrep-prefill: mdb_txn_commit: %s\n", mdb_strerror(rc));
            return -1;
        }
        w->txn = NULL;
        w->in_txn = 0;
    }
    return 0;
}

/* pf_key - the store key greyrep computes for this client, sender, rcpt */
static void pf_key(const struct net_addr *client, const char *sender, const char *rcpt,
                   char *key, size_t len)
{
    struct env_addr s, r;

    env_parse(sender, &s);
    env_parse(rcpt, &r);
    decide_triplet_key(pf_cfg, client, NULL, &s, &r, key, len);
}

/* pf_hit_message - store the triplets of one loadgen message seed as
 * pending, first seen now; counts them off *left; -1 on a store error */
static int pf_hit_message(struct pf_writer *w, uint64_t s, time_t now, uint64_t *left)
{
    struct net_addr client;
    char sender[80], rcpt[128], key[STORE_MAX_KEY];
    uint64_t h1 = pf_mix(s ^ 0x11);
    int v6 = (double)(h1 % 1000000) < opt.ipv6 * 1000000.0;
    int nrcpt = opt.rcpt_min
                + (int)(pf_mix(s ^ 0x66) % (uint64_t)(opt.rcpt_max - opt.rcpt_min + 1));
    struct rec_triplet t = {(uint64_t)now, (uint64_t)now, 0};

    pf_net_pick(v6 ? &opt.net6 : &opt.net4, pf_mix(s ^ 0x22), pf_mix(s ^ 0x33), &client);
    snprintf(sender, sizeof sender, "<%012llx@d%05llx.example.net>",
             (unsigned long long)(pf_mix(s ^ 0x44) & 0xffffffffffffULL),
             (unsigned long long)(pf_mix(s ^ 0x55) % 0x100000));
    for (int i = 0; i < nrcpt && *left > 0; i++) {
        uint64_t user = pf_mix(s ^ (0x1000 + (uint64_t)i)) % opt.users;
        snprintf(rcpt, sizeof rcpt, "<%08llx@%s>",
                 (unsigned long long)(pf_mix(user ^ 0x77) & 0xffffffffULL), opt.domain);
        pf_key(&client, sender, rcpt, key, sizeof key);
        int rc = pf_put(w, key, &t, now + (time_t)pf_cfg->grey.retry_window, 1);
        if (rc < 0)
            return -1;
        if (rc == 0)
            (*left)--;
    }
    return 0;
}

/* pf_random_record - one filler or expired record from the same distributions */
static int pf_random_record(struct pf_writer *w, uint64_t *rng, time_t now, int expired)
{
    struct net_addr client;
    char sender[80], rcpt[128], key[STORE_MAX_KEY];
    struct rec_triplet t;
    time_t expires;
    uint64_t r = pf_rand(rng);
    const struct cfg_greylist *g = &pf_cfg->grey;

    pf_net_pick((double)(r % 1000000) < opt.ipv6 * 1000000.0 ? &opt.net6 : &opt.net4,
                pf_rand(rng), pf_rand(rng), &client);
    snprintf(sender, sizeof sender, "<%012llx@d%05llx.example.net>",
             (unsigned long long)(pf_rand(rng) & 0xffffffffffffULL),
             (unsigned long long)(pf_rand(rng) % 0x100000));
    snprintf(rcpt, sizeof rcpt, "<%08llx@%s>",
             (unsigned long long)(pf_mix((pf_rand(rng) % opt.users) ^ 0x77) & 0xffffffffULL),
             opt.domain);
    pf_key(&client, sender, rcpt, key, sizeof key);
    r = pf_rand(rng);
    if (expired) {
        /* a pending triplet that nobody retried: gone retry_window after */
        expires = now - 1 - (time_t)(r % 86400);
        t.first_seen = t.last_seen = (uint64_t)(expires - (time_t)g->retry_window);
        t.passes = 0;
    } else if (r % 10 < 7) {
        t.first_seen = (uint64_t)now - (r >> 8) % (g->retry_window * 9 / 10 + 1);
        t.last_seen = t.first_seen;
        t.passes = 0;
        expires = (time_t)(t.first_seen + g->retry_window);
    } else {
        t.last_seen = (uint64_t)now - (r >> 8) % (g->pass_lifetime * 9 / 10 + 1);
        t.first_seen = t.last_seen - 86400;
        t.passes = 1 + (uint32_t)((r >> 40) % 50);
        expires = (time_t)(t.last_seen + g->pass_lifetime);
    }
    return pf_put(w, key, &t, expires, (r >> 20) % 100000 == 0);
}

/* pf_verify - read samples back through greyrep's own store code */
static int pf_verify(struct pf_writer *w, time_t now)
{
    char err[512];
    struct store *st = store_open(&pf_cfg->store, err, sizeof err);
    int bad = 0;

    if (st == NULL) {
        fprintf(stderr, "greyrep-prefill: store_open: %s\n", err);
        return -1;
    }
    for (int i = 0; i < w->nsamples; i++) {
        unsigned char val[STORE_MAX_VALUE];
        size_t vlen = sizeof val;
        struct rec_triplet t;
        int rc = store_get(st, w->samples[i], val, &vlen, NULL, now);
        if (w->sample_live[i] ? rc != STORE_OK || rec_triplet_decode(val, vlen, &t) < 0
                              : rc != STORE_NOTFOUND) {
            fprintf(stderr, "greyrep-prefill: read back %s: %s\n", w->samples[i],
                    rc == STORE_OK ? "unexpected record" : "not found");
            bad++;
        }
    }
    store_close(st);
    return bad ? -1 : 0;
}

/* pf_parse_net - "a.b.c.d/n" or "x::/n" into a loadgen network */
static int pf_parse_net(const char *s, struct pf_net *net)
{
    struct net_cidr c;

    if (net_parse_cidr(s, &c) < 0)
        return -1;
    net->family = c.addr.family;
    memcpy(net->addr, c.addr.a, 16);
    net->prefix = (int)c.prefix;
    return 0;
}

static void pf_usage(void)
{
    fprintf(stderr,
            "usage: greyrep-prefill -c CONF -n TOTAL [-x EXPIRED] [--hit-draws K]\n"
            "       [--hit-threads T] [--seed N] [--seeds COUNT] [-6 FRACTION] [-r MIN[-MAX]]\n"
            "       [--users N] [--domain DOMAIN] [--net4 CIDR] [--net6 CIDR] [--batch N]\n");
    exit(2);
}

/* pf_num - a number in [min, max] or a usage error */
static uint64_t pf_num(const char *s, const char *what, uint64_t min, uint64_t max)
{
    uint64_t v;
    if (util_parse_u64(s, min, max, &v) < 0) {
        fprintf(stderr, "greyrep-prefill: %s: %s is not a number in %llu..%llu\n", what, s,
                (unsigned long long)min, (unsigned long long)max);
        pf_usage();
    }
    return v;
}

/* pf_report - cfg_load's problem lines */
static void pf_report(void *arg, const char *line)
{
    (void)arg;
    fprintf(stderr, "%s\n", line);
}

static void pf_options(int argc, char **argv)
{
    static const struct option lo[] = {
        {"hit-draws", 1, 0, 'K'}, {"hit-threads", 1, 0, 'T'}, {"seed", 1, 0, 'S'},
        {"users", 1, 0, 'U'},     {"domain", 1, 0, 'D'},      {"net4", 1, 0, '4'},
        {"net6", 1, 0, 'V'},      {"batch", 1, 0, 'B'},       {"seeds", 1, 0, 'N'},
        {0, 0, 0, 0},
    };
    int c;
    char *end;

    opt.threads = 2;
    opt.seed = 1;
    opt.seeds = 1;
    opt.ipv6 = 0.2;
    opt.rcpt_min = opt.rcpt_max = 1;
    opt.users = 10000;
    opt.domain = "example.org";
    opt.batch = 100000;
    if (pf_parse_net("198.18.0.0/15", &opt.net4) < 0 || pf_parse_net("2001:2::/48", &opt.net6) < 0)
        log_panic("default networks");
    while ((c = getopt_long(argc, argv, "c:n:x:6:r:h", lo, NULL)) != -1) {
        switch (c) {
        case 'c': opt.conf = optarg; break;
        case 'n': opt.total = pf_num(optarg, "-n", 1, 100000000); break;
        case 'x': opt.expired = pf_num(optarg, "-x", 0, 100000000); break;
        case 'K': opt.hit_draws = pf_num(optarg, "--hit-draws", 0, 100000000); break;
        case 'T': opt.threads = (unsigned)pf_num(optarg, "--hit-threads", 1, 64); break;
        case 'S': opt.seed = pf_num(optarg, "--seed", 0, UINT64_MAX); break;
        case 'N': opt.seeds = pf_num(optarg, "--seeds", 1, 1000); break;
        case 'U': opt.users = pf_num(optarg, "--users", 1, 1000000000); break;
        case 'D': opt.domain = optarg; break;
        case 'B': opt.batch = pf_num(optarg, "--batch", 1, 10000000); break;
        case '6':
            opt.ipv6 = strtod(optarg, &end);
            if (*end != '\0' || opt.ipv6 < 0 || opt.ipv6 > 1)
                pf_usage();
            break;
        case 'r':
            opt.rcpt_min = (int)strtol(optarg, &end, 10);
            opt.rcpt_max = *end == '-' ? (int)strtol(end + 1, &end, 10) : opt.rcpt_min;
            if (*end != '\0' || opt.rcpt_min < 1 || opt.rcpt_max < opt.rcpt_min
                || opt.rcpt_max > 100)
                pf_usage();
            break;
        case '4':
            if (pf_parse_net(optarg, &opt.net4) < 0 || opt.net4.family != AF_INET)
                pf_usage();
            break;
        case 'V':
            if (pf_parse_net(optarg, &opt.net6) < 0 || opt.net6.family != AF_INET6)
                pf_usage();
            break;
        default: pf_usage();
        }
    }
    if (optind != argc || opt.conf == NULL || opt.total == 0 || opt.expired > opt.total)
        pf_usage();
}

int main(int argc, char **argv)
{
    struct pf_writer *w;
    struct cfg *cfg;
    struct timespec t0, t1;
    char data[PATH_MAX + 16];
    struct stat sb;
    time_t now = time(NULL);
    uint64_t hits_max, hits_left, filler, rng;
    MDB_stat ms;
    size_t mapsize;
    int rc;

    log_open("greyrep-prefill", 1, 0);
    pf_options(argc, argv);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if ((cfg = cfg_load(opt.conf, pf_report, NULL)) == NULL)
        return 1;
    pf_cfg = cfg;
    if (cfg->store.backend != BACKEND_LMDB) {
        fprintf(stderr, "greyrep-prefill: %s: [store] backend is not lmdb\n", opt.conf);
        return 1;
    }
    snprintf(data, sizeof data, "%s/data.mdb", cfg->store.path);
    if (stat(data, &sb) == 0) {
        fprintf(stderr, "greyrep-prefill: %s exists: start from an empty store\n", data);
        return 1;
    }
    if (mkdir(cfg->store.path, 0750) != 0 && errno != EEXIST) {
        fprintf(stderr, "greyrep-prefill: %s: %s\n", cfg->store.path, strerror(errno));
        return 1;
    }
    if ((w = calloc(1, sizeof *w)) == NULL)
        return 1;
    w->batch = opt.batch;
    /* a record takes about 150 bytes, but a batch of random inserts copies
     * most leaves, and the pages it frees are reused only two commits
     * later: room for three copies of the tree (the file grows only as far
     * as it is written; greyrep opens it with at least its size) */
    mapsize = (size_t)(opt.total * 512 + (256ULL << 20));
    if (mapsize < cfg->store.map_size)
        mapsize = cfg->store.map_size;
    if ((rc = mdb_env_create(&w->env)) != 0 || (rc = mdb_env_set_mapsize(w->env, mapsize)) != 0
        || (rc = mdb_env_open(w->env, cfg->store.path, MDB_NOSYNC, 0640)) != 0
        || (rc = mdb_txn_begin(w->env, NULL, 0, &w->txn)) != 0
        || (rc = mdb_dbi_open(w->txn, NULL, 0, &w->dbi)) != 0) {
        fprintf(stderr, "greyrep-prefill: LMDB %s: %s\n", cfg->store.path, mdb_strerror(rc));
        return 1;
    }

    /* hits: draw k of every stream before draw k+1 of any, so a cut keeps
     * the first messages of every loadgen run */
    hits_max = (opt.total - opt.expired) / 2;
    hits_left = opt.hit_draws ? hits_max : 0;
    {
        size_t nstreams = (size_t)(opt.threads * opt.seeds);
        uint64_t *streams = calloc(nstreams, sizeof *streams);
        if (streams == NULL)
            return 1;
        /* loadgen.c: th[i].rng = lg_mix(opt.seed * 0x100000001b3ULL + i) */
        for (uint64_t s = 0; s < opt.seeds; s++)
            for (unsigned i = 0; i < opt.threads; i++)
                streams[s * opt.threads + i] = pf_mix((opt.seed + s) * 0x100000001b3ULL + i);
        for (uint64_t k = 0; k < opt.hit_draws && hits_left > 0; k++)
            for (size_t i = 0; i < nstreams && hits_left > 0; i++)
                if (pf_hit_message(w, pf_rand(&streams[i]), now, &hits_left) < 0)
                    return 1;
        free(streams);
    }
    uint64_t hits = w->written;
    rng = pf_mix(opt.seed ^ 0x5eedf111ULL);
    for (uint64_t n = 0; n < opt.expired;) {
        if ((rc = pf_random_record(w, &rng, now, 1)) < 0)
            return 1;
        n += rc == 0;
    }
    filler = opt.total - w->written;
    for (uint64_t n = 0; n < filler;) {
        if ((rc = pf_random_record(w, &rng, now, 0)) < 0)
            return 1;
        n += rc == 0;
    }
    if (w->txn != NULL && (rc = mdb_txn_commit(w->txn)) != 0) {
        fprintf(stderr, "greyrep-prefill: mdb_txn_commit: %s\n", mdb_strerror(rc));
        return 1;
    }
    w->txn = NULL;
    mdb_env_sync(w->env, 1);
    {
        MDB_txn *txn;
        MDB_envinfo info;
        mdb_txn_begin(w->env, NULL, MDB_RDONLY, &txn);
        mdb_stat(txn, w->dbi, &ms);
        mdb_txn_abort(txn);
        mdb_env_info(w->env, &info);
        mapsize = (size_t)(info.me_last_pgno + 1) * ms.ms_psize;
    }
    mdb_env_close(w->env);
    if (pf_verify(w, now) < 0)
        return 1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("prefill: %llu records (%llu hits, %llu expired, %llu filler; %llu duplicate "
           "draws skipped), depth %u, %.0f MB used, %.1f s\n",
           (unsigned long long)ms.ms_entries, (unsigned long long)hits,
           (unsigned long long)opt.expired, (unsigned long long)filler,
           (unsigned long long)w->dups, ms.ms_depth, (double)mapsize / 1048576.0,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    cfg_free(cfg);
    free(w);
    return ms.ms_entries == opt.total ? 0 : 1;
}
