/*
 * NAME
 *   test_store_redis - store_redis.c against a real redis-server
 * SYNOPSIS
 *   REDIS_URL=127.0.0.1:6391 [REDIS_CTL='sh redis-test.sh ctl'] test_store_redis
 * DESCRIPTION
 *   Runs the store interface against the Redis named by REDIS_URL (no
 *   other data should live in its database 0; the test uses the
 *   "greyrep-test:" prefixes and flushes nothing else).  REDIS_CTL, when
 *   set, is a command that takes stop, start, pause or resume and returns
 *   once Redis is in that state (tests/unit/redis-test.sh provides it):
 *   the outage cases use it.  Prints PASS:/FAIL:/SKIP: name per case;
 *   exits 1 if any case failed, 77 (automake's skip) without REDIS_URL.
 *   REDIS_SOCKET, when set, is the same server's unix socket.
 */
#include "autoconf.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "config.h"
#include "log.h"
#include "store.h"
#include "store_impl.h"

#define TIMEOUT_MS 300

static int failures;
static const char *redis_url;
static redisContext *raw; /* our own connection, to look behind the store */

/* check - record a failed expectation of the current case */
#define check(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "  %s:%d: %s\n", __FILE__, __LINE__, #cond);       \
            ok = 0;                                                            \
        }                                                                      \
    } while (0)

/* now_ms - monotonic milliseconds, for timings */
static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* report - one PASS:/FAIL: line */
static void report(const char *name, int ok)
{
    printf("%s: %s\n", ok ? "PASS" : "FAIL", name);
    fflush(stdout);
    if (!ok)
        failures++;
}

/* open_store - a Redis store with the given key prefix */
static struct store *open_store(const char *prefix)
{
    struct cfg_store cfg;
    char err[256];
    struct store *st;

    memset(&cfg, 0, sizeof cfg);
    cfg.backend = BACKEND_REDIS;
    snprintf(cfg.redis, sizeof cfg.redis, "%s", redis_url);
    cfg.redis_timeout_ms = TIMEOUT_MS;
    snprintf(cfg.redis_prefix, sizeof cfg.redis_prefix, "%s", prefix);
    if ((st = store_redis_open(&cfg, err, sizeof err)) == NULL) {
        fprintf(stderr, "store_redis_open: %s\n", err);
        exit(1);
    }
    return st;
}

/* raw_cmd - a command on our own connection (reconnecting if needed) */
static redisReply *raw_cmd(const char *fmt, ...)
{
    redisReply *r;
    va_list ap;

    if (raw == NULL || raw->err) {
        char host[256], *colon;
        if (raw)
            redisFree(raw);
        snprintf(host, sizeof host, "%s", redis_url);
        colon = strrchr(host, ':');
        *colon = 0;
        raw = redisConnect(host, atoi(colon + 1));
    }
    va_start(ap, fmt);
    r = redisvCommand(raw, fmt, ap);
    va_end(ap);
    return r;
}

/* raw_int - an integer reply of a raw command, -999 on anything else */
static long long raw_int(const char *fmt, const char *arg)
{
    redisReply *r = raw_cmd(fmt, arg);
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -999;

    if (r)
        freeReplyObject(r);
    return v;
}

/* ctl - drive the test server through REDIS_CTL; 0 on success */
static int ctl(const char *what)
{
    char cmd[1024];

    snprintf(cmd, sizeof cmd, "%s %s", getenv("REDIS_CTL"), what);
    if (raw) {
        redisFree(raw);
        raw = NULL;
    }
    return system(cmd) == 0 ? 0 : -1;
}

/* test_put_get_del - the plain record operations, binary values */
static void test_put_get_del(struct store *st)
{
    static const unsigned char v1[] = { 1, 0, 'a', 0xff, 0 };
    unsigned char buf[64];
    size_t len = sizeof buf;
    time_t exp = 1, now = time(NULL);
    int ok = 1;

    check(store_del(st, "pgd") == STORE_OK);
    check(store_get(st, "pgd", buf, &len, &exp, now) == STORE_NOTFOUND);
    check(store_put(st, "pgd", v1, sizeof v1, 0) == STORE_OK);
    len = sizeof buf;
    check(store_get(st, "pgd", buf, &len, &exp, now) == STORE_OK);
    check(len == sizeof v1 && memcmp(buf, v1, len) == 0 && exp == 0);
    check(store_put(st, "pgd", "xy", 2, now + 100) == STORE_OK);
    len = sizeof buf;
    check(store_get(st, "pgd", buf, &len, &exp, now) == STORE_OK);
    check(len == 2 && memcmp(buf, "xy", 2) == 0 && exp == now + 100);
    check(raw_int("PTTL greyrep-test:%s", "pgd") > 98000);
    check(store_put(st, "pgd", "", 0, 0) == STORE_OK); /* empty value, TTL cleared */
    len = sizeof buf;
    check(store_get(st, "pgd", buf, &len, &exp, now) == STORE_OK && len == 0 && exp == 0);
    check(raw_int("PTTL greyrep-test:%s", "pgd") == -1);
    check(store_del(st, "pgd") == STORE_OK);
    len = sizeof buf;
    check(store_get(st, "pgd", buf, &len, &exp, now) == STORE_NOTFOUND);
    check(store_del(st, "pgd") == STORE_OK);
    report("put_get_del", ok);
}

/* test_put_many - one MULTI/EXEC: every record, with its TTL */
static void test_put_many(struct store *st)
{
    static char keys[500][16];
    static struct store_item items[500];
    unsigned char buf[64];
    size_t len;
    time_t exp, now = time(NULL);
    int ok = 1;

    for (int i = 0; i < 500; i++) {
        snprintf(keys[i], sizeof keys[i], "pm|%03d", i);
        items[i] = (struct store_item){keys[i], "val", 3, i % 2 ? now + 100 : 0};
    }
    check(store_put(st, "pm|000", "old", 3, now + 50) == STORE_OK);
    check(store_put_many(st, items, 0) == STORE_OK);
    check(store_put_many(st, items, 500) == STORE_OK);
    len = sizeof buf;
    check(store_get(st, "pm|499", buf, &len, &exp, now) == STORE_OK && len == 3
          && memcmp(buf, "val", 3) == 0 && exp == now + 100);
    len = sizeof buf;
    check(store_get(st, "pm|000", buf, &len, &exp, now) == STORE_OK && exp == 0);
    check(raw_int("PTTL greyrep-test:%s", "pm|000") == -1);
    check(raw_int("PTTL greyrep-test:%s", "pm|001") > 98000);
    for (int i = 0; i < 500; i++)
        check(store_del(st, keys[i]) == STORE_OK);
    report("put_many", ok);
}

/* test_expiry - Redis removes a record at its expiry; past expiry = absent */
static void test_expiry(struct store *st)
{
    char buf[16];
    size_t len = sizeof buf;
    time_t now = time(NULL), exp;
    long long pttl;
    double t0 = now_ms();
    int ok = 1, gone = 0;

    /* two seconds ahead: a second boundary on a loaded machine between
     * time() and the PTTL must not make the record expire under us */
    check(store_put(st, "ttl", "v", 1, now + 2) == STORE_OK);
    pttl = raw_int("PTTL greyrep-test:%s", "ttl");
    check(pttl > 0 && pttl <= 2000);
    check(store_get(st, "ttl", buf, &len, &exp, now) == STORE_OK && exp == now + 2);
    /* The caller's clock rules too: at now + 2 the record is absent. */
    len = sizeof buf;
    check(store_get(st, "ttl", buf, &len, &exp, now + 2) == STORE_NOTFOUND);
    /* now = 0: only Redis's own expiry can hide it. */
    while (now_ms() - t0 < 4000) {
        len = sizeof buf;
        if (store_get(st, "ttl", buf, &len, &exp, 0) == STORE_NOTFOUND) {
            gone = 1;
            break;
        }
        usleep(50000);
    }
    check(gone);
    check(raw_int("EXISTS greyrep-test:%s", "ttl") == 0);
    check(store_put(st, "past", "v", 1, now - 10) == STORE_OK);
    check(raw_int("EXISTS greyrep-test:%s", "past") == 0);
    report("expiry_ttl", ok);
}

struct seen {
    char keys[16][64];
    int n;
    int stop_after;
};

/* collect - store_iterate callback: remember the keys */
static int collect(void *arg, const char *key, size_t klen, const void *val,
                   size_t vlen, time_t expires)
{
    struct seen *s = arg;

    (void)val;
    (void)vlen;
    (void)expires;
    if (s->n < 16)
        snprintf(s->keys[s->n], sizeof s->keys[0], "%.*s", (int)klen, key);
    s->n++;
    return s->stop_after && s->n >= s->stop_after;
}

/* has - did an iteration report key? */
static int has(const struct seen *s, const char *key)
{
    for (int i = 0; i < s->n && i < 16; i++)
        if (strcmp(s->keys[i], key) == 0)
            return 1;
    return 0;
}

/* test_iterate - prefixes with glob characters, in the key and in the store's prefix */
static void test_iterate(struct store *st)
{
    static const char *keys[] = { "it:a*b", "it:a?c", "it:[x]", "it:plain",
                                  "itx:other", "i*:glob", "it:\\z" };
    struct store *gl = open_store("greyrep-test:g[1]*?:");
    struct seen s;
    time_t now = time(NULL);
    int ok = 1;

    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        check(store_put(st, keys[i], "v", 1, 0) == STORE_OK);
    check(store_put(st, "it:old", "v", 1, now + 50) == STORE_OK);
    check(store_put(gl, "it:a*b", "w", 1, 0) == STORE_OK);

    memset(&s, 0, sizeof s);
    check(store_iterate(st, "it:a*", now, collect, &s) == STORE_OK);
    check(s.n == 1 && has(&s, "it:a*b"));
    memset(&s, 0, sizeof s);
    check(store_iterate(st, "it:", now, collect, &s) == STORE_OK);
    check(s.n == 6 && has(&s, "it:[x]") && has(&s, "it:\\z") && has(&s, "it:old"));
    memset(&s, 0, sizeof s);
    check(store_iterate(st, "it:", now + 50, collect, &s) == STORE_OK); /* expired for the caller */
    check(s.n == 5 && !has(&s, "it:old"));
    memset(&s, 0, sizeof s);
    check(store_iterate(st, "i*", now, collect, &s) == STORE_OK);
    check(s.n == 1 && has(&s, "i*:glob"));
    memset(&s, 0, sizeof s);
    check(store_iterate(st, "it:[", now, collect, &s) == STORE_OK);
    check(s.n == 1 && has(&s, "it:[x]"));
    memset(&s, 0, sizeof s);
    s.stop_after = 2;
    check(store_iterate(st, "it:", now, collect, &s) == STORE_OK && s.n == 2);
    /* A store prefix with glob characters sees only its own keys. */
    memset(&s, 0, sizeof s);
    check(store_iterate(gl, "", now, collect, &s) == STORE_OK);
    check(s.n == 1 && has(&s, "it:a*b"));

    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        check(store_del(st, keys[i]) == STORE_OK);
    check(store_del(st, "it:old") == STORE_OK);
    check(store_del(gl, "it:a*b") == STORE_OK);
    store_close(gl);
    report("iterate_prefix", ok);
}

struct upd {
    int calls;
    struct store *other;    /* when set, race the first call through it */
    const char *race_key;
    int race_mode;          /* 0 value change, 1 expiry change only */
    time_t now;
};

/* set_num - write a decimal counter into a record */
static void set_num(struct store_rec *r, long v, time_t expires)
{
    r->len = (size_t)snprintf((char *)r->val, sizeof r->val, "%ld", v);
    r->expires = expires;
    r->action = STORE_WRITE;
}

/* get_num - a record's decimal counter, 0 when absent */
static long get_num(const struct store_rec *r)
{
    char buf[32];

    if (!r->found || r->len >= sizeof buf)
        return 0;
    memcpy(buf, r->val, r->len);
    buf[r->len] = 0;
    return atol(buf);
}

/* incr_both - update callback: a += 1, b = a * 10; races once if asked */
static int incr_both(void *arg, struct store_rec *rec, size_t n)
{
    struct upd *u = arg;
    long a = get_num(&rec[0]);

    if (u->calls++ == 0 && u->other) {
        /* A test hook, not a pure callback: another writer wins the race. */
        if (u->race_mode == 0)
            store_put(u->other, u->race_key, "100", 3, 0);
        else
            store_put(u->other, u->race_key, rec[0].val, rec[0].len, u->now + 500);
    }
    set_num(&rec[0], a + 1, u->now + 1000);
    if (n > 1)
        set_num(&rec[1], (a + 1) * 10, 0);
    return 0;
}

/* read_num - a counter record through store_get, -1 when absent */
static long read_num(struct store *st, const char *key, time_t *exp)
{
    char buf[32];
    size_t len = sizeof buf - 1;

    if (store_get(st, key, buf, &len, exp, time(NULL)) != STORE_OK)
        return -1;
    buf[len] = 0;
    return atol(buf);
}

/* test_update_two - both records change in one step, delete works */
static void test_update_two(struct store *st)
{
    struct store_rec rec[2];
    struct upd u = { .now = time(NULL) };
    time_t exp;
    int ok = 1;

    store_del(st, "u2:a");
    store_del(st, "u2:b");
    memset(rec, 0, sizeof rec);
    rec[0].key = "u2:a";
    rec[1].key = "u2:b";
    check(store_update(st, rec, 2, u.now, incr_both, &u) == STORE_OK && u.calls == 1);
    check(read_num(st, "u2:a", &exp) == 1 && exp == u.now + 1000);
    check(read_num(st, "u2:b", &exp) == 10 && exp == 0);
    check(store_update(st, rec, 2, u.now, incr_both, &u) == STORE_OK);
    check(read_num(st, "u2:a", NULL) == 2 && read_num(st, "u2:b", NULL) == 20);
    check(rec[0].found && rec[1].found); /* the second call saw the first's records */
    report("update_two_keys", ok);
}

/* delete_second - update callback: keep a, delete b */
static int delete_second(void *arg, struct store_rec *rec, size_t n)
{
    (void)arg;
    (void)n;
    rec[1].action = STORE_DELETE;
    return 0;
}

/* dry_run - update callback that decides writes and then aborts */
static int dry_run(void *arg, struct store_rec *rec, size_t n)
{
    (void)arg;
    for (size_t i = 0; i < n; i++)
        set_num(&rec[i], 42, 0);
    return -1;
}

/* test_update_delete_dry - STORE_DELETE, and -1 writes nothing */
static void test_update_delete_dry(struct store *st)
{
    struct store_rec rec[2];
    int ok = 1;

    memset(rec, 0, sizeof rec);
    rec[0].key = "u2:a";
    rec[1].key = "u2:b";
    check(store_update(st, rec, 2, time(NULL), delete_second, NULL) == STORE_OK);
    check(read_num(st, "u2:a", NULL) == 2 && read_num(st, "u2:b", NULL) == -1);
    report("update_delete", ok);

    ok = 1;
    rec[0].key = "dry:a";
    rec[1].key = "dry:b";
    store_del(st, "dry:a");
    check(store_update(st, rec, 2, time(NULL), dry_run, NULL) == STORE_OK);
    check(raw_int("EXISTS greyrep-test:%s", "dry:a") == 0);
    check(raw_int("EXISTS greyrep-test:%s", "dry:b") == 0);
    rec[0].key = "u2:a";
    check(store_update(st, rec, 2, time(NULL), dry_run, NULL) == STORE_OK);
    check(read_num(st, "u2:a", NULL) == 2);
    store_del(st, "u2:a");
    report("update_dry_run", ok);
}

/* test_conflict - another writer between read and CAS: fn runs again */
static void test_conflict(struct store *st, struct store *other)
{
    struct store_rec rec[2];
    struct upd u = { .other = other, .now = time(NULL) };
    time_t exp;
    int ok = 1;

    /* The value changes under us. */
    store_put(st, "cf:a", "5", 1, 0);
    store_del(st, "cf:b");
    memset(rec, 0, sizeof rec);
    rec[0].key = "cf:a";
    rec[1].key = "cf:b";
    u.race_key = "cf:a";
    check(store_update(st, rec, 2, u.now, incr_both, &u) == STORE_OK);
    check(u.calls == 2 && read_num(st, "cf:a", NULL) == 101);
    check(read_num(st, "cf:b", NULL) == 1010);
    report("update_conflict_value", ok);

    /* Absent when read, created meanwhile (by a write to the second key). */
    ok = 1;
    store_del(st, "cf:b");
    u.calls = 0;
    u.race_key = "cf:b";
    check(store_update(st, rec, 2, u.now, incr_both, &u) == STORE_OK);
    check(u.calls == 2 && read_num(st, "cf:a", NULL) == 102);
    check(read_num(st, "cf:b", NULL) == 1020);
    report("update_conflict_absent", ok);

    /* Only the expiry changes: still a conflict. */
    ok = 1;
    u.calls = 0;
    u.race_key = "cf:a";
    u.race_mode = 1;
    check(store_update(st, rec, 2, u.now, incr_both, &u) == STORE_OK);
    check(u.calls == 2 && read_num(st, "cf:a", &exp) == 103 && exp == u.now + 1000);
    report("update_conflict_expiry", ok);

    /* The scripts vanish (SCRIPT FLUSH, a new server): reloaded. */
    ok = 1;
    freeReplyObject(raw_cmd("SCRIPT FLUSH"));
    u.calls = 0;
    u.other = NULL;
    check(store_update(st, rec, 2, u.now, incr_both, &u) == STORE_OK);
    check(u.calls == 1 && read_num(st, "cf:a", NULL) == 104);
    store_del(st, "cf:a");
    store_del(st, "cf:b");
    report("update_noscript", ok);
}

struct worker {
    struct store *st;
    int n;
    int errors;
};

/* incr_one - update callback: counter += 1 */
static int incr_one(void *arg, struct store_rec *rec, size_t n)
{
    (void)arg;
    (void)n;
    set_num(&rec[0], get_num(&rec[0]) + 1, 0);
    return 0;
}

/* worker_run - n increments of the shared counter */
static void *worker_run(void *arg)
{
    struct worker *w = arg;

    for (int i = 0; i < w->n; i++) {
        struct store_rec rec;

        memset(&rec, 0, sizeof rec);
        rec.key = "conc:counter";
        if (store_update(w->st, &rec, 1, time(NULL), incr_one, NULL) != STORE_OK)
            w->errors++;
    }
    return NULL;
}

/* test_concurrency - 8 threads on two handles, no increment lost */
static void test_concurrency(struct store *a, struct store *b)
{
    enum { THREADS = 8, PER = 2000 };
    pthread_t tid[THREADS];
    struct worker w[THREADS];
    double t0 = now_ms();
    int ok = 1, errors = 0;
    long final;

    store_del(a, "conc:counter");
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){ .st = i % 2 ? b : a, .n = PER };
        pthread_create(&tid[i], NULL, worker_run, &w[i]);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(tid[i], NULL);
        errors += w[i].errors;
    }
    final = read_num(a, "conc:counter", NULL);
    printf("  %d x %d increments: %.0f ms, final %ld, %d errors\n", THREADS, PER,
           now_ms() - t0, final, errors);
    check(errors == 0 && final == THREADS * PER);
    store_del(a, "conc:counter");
    report("update_concurrency", ok);
}

/* test_stats - DBSIZE and used memory; expire is a no-op */
static void test_stats(struct store *st)
{
    struct store_stats ss;
    size_t removed = 7;
    int ok = 1;

    store_put(st, "stats", "v", 1, 0);
    check(store_stats(st, &ss) == STORE_OK);
    check(ss.records >= 1 && ss.bytes_used > 0 && ss.bytes_max == 0);
    check(store_expire(st, time(NULL), 0, &removed) == STORE_OK && removed == 0);
    store_del(st, "stats");
    report("stats_expire", ok);
}

/* What the on-expire hook was told. */
struct reported {
    int n, bad;
    char keys[8][64];
};

static void on_expired(void *arg, const char *key, size_t klen, const void *val, size_t vlen,
                       time_t expired)
{
    struct reported *r = arg;

    if (r->n < 8)
        snprintf(r->keys[r->n], sizeof r->keys[0], "%.*s", (int)klen, key);
    if (vlen != 7 || memcmp(val, "pending", 7) != 0 || expired > time(NULL))
        r->bad++;
    r->n++;
}

/* write_flagged - one store_update writing key with value and expiry,
 * asking for an expiry report or not */
struct flagged {
    const char *val;
    time_t expires;
    int report;
};
static int write_flagged(void *arg, struct store_rec *rec, size_t n)
{
    const struct flagged *f = arg;
    (void)n;
    rec[0].len = strlen(f->val);
    memcpy(rec[0].val, f->val, rec[0].len);
    rec[0].expires = f->expires;
    rec[0].action = STORE_WRITE;
    rec[0].report_expiry = f->report;
    return 0;
}

/* test_expiry_reports - records written with report_expiry under the hook's
 * prefix are reported once after Redis expired them; a record rewritten
 * without the flag, one never flagged and one under another prefix are not */
static void test_expiry_reports(void)
{
    struct store *a = open_store("greyrep-test-x:"), *b = open_store("greyrep-test-x:");
    struct reported seen;
    struct store_rec rec;
    time_t now = time(NULL);
    size_t removed = 9;
    int ok = 1;
    static const struct {
        const char *key, *val;
        int expires_in, report;
    } w[] = {
        {"t|abandoned", "pending", 1, 1},
        {"t|passed", "pending", 1, 1},      /* rewritten below, without the flag */
        {"t|passed", "passed", 1, 0},
        {"t|quiet", "pending", 1, 0},
        {"c|other", "pending", 1, 1},       /* not under the prefix */
        {"t|later", "pending", 3600, 1},    /* not expired yet */
    };

    memset(&seen, 0, sizeof seen);
    store_on_expire(a, "t|", on_expired, &seen);
    store_on_expire(b, "t|", on_expired, &seen);
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
        struct flagged f = {w[i].val, now + w[i].expires_in, w[i].report};
        memset(&rec, 0, sizeof rec);
        rec.key = w[i].key;
        check(store_update(a, &rec, 1, now, write_flagged, &f) == STORE_OK);
    }
    /* nothing is due yet */
    check(store_expire(a, now, 0, &removed) == STORE_OK && removed == 0 && seen.n == 0);
    sleep(2);   /* Redis expires by its own clock */
    now = time(NULL);
    check(store_expire(a, now, 0, &removed) == STORE_OK && removed == 0);
    check(store_expire(b, now, 0, &removed) == STORE_OK);   /* a second host */
    check(seen.n == 1 && seen.bad == 0 && strcmp(seen.keys[0], "t|abandoned") == 0);
    printf("  reported %d: %s\n", seen.n, seen.n ? seen.keys[0] : "-");
    check(raw_int("ZCARD greyrep-test-x:%s", "\1x") == 1);  /* t|later, until it expires */
    store_del(a, "t|later");    /* deleted is not expired: out of the index */
    check(raw_int("ZCARD greyrep-test-x:%s", "\1x") == 0);
    check(raw_int("HLEN greyrep-test-x:%s", "\1xv") == 0);
    store_close(a);
    store_close(b);
    report("expiry_reports", ok);
}

/* test_open_errors - a refusing server is a config error, a silent one is not */
static void test_open_errors(void)
{
    struct cfg_store cfg;
    char err[256] = "";
    struct store *st;
    int ok = 1;

    memset(&cfg, 0, sizeof cfg);
    cfg.backend = BACKEND_REDIS;
    snprintf(cfg.redis, sizeof cfg.redis, "%s", redis_url);
    snprintf(cfg.redis_password, sizeof cfg.redis_password, "wrong");
    check(store_redis_open(&cfg, err, sizeof err) == NULL && err[0]);
    printf("  wrong password: %s\n", err);
    cfg.redis_password[0] = 0;
    cfg.redis_db = 100000;
    err[0] = 0;
    check(store_redis_open(&cfg, err, sizeof err) == NULL && err[0]);
    printf("  bad db: %s\n", err);
    cfg.redis_db = 0;
    snprintf(cfg.redis, sizeof cfg.redis, "::1:6379");
    check(store_redis_open(&cfg, err, sizeof err) == NULL);
    snprintf(cfg.redis, sizeof cfg.redis, "127.0.0.1:0");
    check(store_redis_open(&cfg, err, sizeof err) == NULL);
    snprintf(cfg.redis, sizeof cfg.redis, "unix:relative");
    check(store_redis_open(&cfg, err, sizeof err) == NULL);
    /* Nobody listens on port 1: open succeeds, calls fail at once. */
    snprintf(cfg.redis, sizeof cfg.redis, "127.0.0.1:1");
    cfg.redis_timeout_ms = TIMEOUT_MS;
    st = store_redis_open(&cfg, err, sizeof err);
    check(st != NULL);
    if (st) {
        double t0 = now_ms();
        char buf[8];
        size_t len = sizeof buf;
        check(store_get(st, "x", buf, &len, NULL, 0) == STORE_ERROR);
        check(now_ms() - t0 < 50);
        store_close(st);
    }
    report("open_errors", ok);
}

struct caller {
    struct store *st;
    double ok_at;       /* when the first call succeeded; 0 = none yet */
    int slow;           /* a failing call took longer than the timeout */
};

/* caller_run - a call every 10 ms until one succeeds (at most 8 s) */
static void *caller_run(void *arg)
{
    struct caller *c = arg;
    double t0 = now_ms();
    char buf[8];
    size_t len;

    while (now_ms() - t0 < 8000) {
        double t1 = now_ms();

        len = sizeof buf;
        if (store_get(c->st, "none", buf, &len, NULL, 0) != STORE_ERROR) {
            c->ok_at = now_ms();
            break;
        }
        if (now_ms() - t1 > TIMEOUT_MS + 400)
            c->slow = 1;
        usleep(10000);
    }
    return NULL;
}

/*
 * outage - stop (or pause) Redis: the first call fails within the timeout,
 * the next ones at once; start (resume) it: calls work within about 1 s.
 */
static void outage(struct store *st, const char *down, const char *up,
                   const char *name)
{
    char buf[8];
    size_t len = sizeof buf;
    double t0, first, worst = 0, back;
    int ok = 1, fast = 1, calls = 0, slow = 0;
    struct caller cl = { 0 };
    pthread_t tid;

    check(store_put(st, "outage", "v", 1, 0) == STORE_OK); /* a warm pool */
    check(ctl(down) == 0);
    t0 = now_ms();
    check(store_get(st, "outage", buf, &len, NULL, 0) == STORE_ERROR);
    first = now_ms() - t0;
    /* margins are generous: the point is "about one timeout", not "many" */
    check(first < TIMEOUT_MS + 400);
    for (int i = 0; i < 100; i++) {
        double t1 = now_ms();
        len = sizeof buf;
        check(store_get(st, "outage", buf, &len, NULL, 0) == STORE_ERROR);
        if (now_ms() - t1 > worst)
            worst = now_ms() - t1;
    }
    /*
     * Calls keep coming (every 10 ms for 2.5 s): the back-off grows to its
     * 1 s ceiling, and only the calls that try to reconnect may wait.
     */
    t0 = now_ms();
    while (now_ms() - t0 < 2500) {
        double t1 = now_ms(), took;
        len = sizeof buf;
        check(store_get(st, "outage", buf, &len, NULL, 0) == STORE_ERROR);
        took = now_ms() - t1;
        calls++;
        if (took > 5)
            slow++;
        if (took > TIMEOUT_MS + 400)
            fast = 0;
        usleep(10000);
    }
    check(fast && slow <= 8);
    /* Calls go on while Redis comes back; "back" = ready to answer PING. */
    cl.st = st;
    pthread_create(&tid, NULL, caller_run, &cl);
    check(ctl(up) == 0);
    t0 = now_ms();
    pthread_join(tid, NULL);
    back = cl.ok_at == 0 ? -1 : cl.ok_at < t0 ? 0 : cl.ok_at - t0;
    check(back >= 0 && back < 1300);
    check(!cl.slow);
    printf("  %s: first failure %.1f ms, next 100 calls at most %.2f ms each; "
           "%d of %d calls in 2.5 s slower than 5 ms (reconnect tries); "
           "working again %.0f ms after Redis was back\n",
           name, first, worst, slow, calls, back);
    report(name, ok);
}

/* test_restart - a quick restart between calls goes unnoticed */
static void test_restart(struct store *st)
{
    char buf[8];
    size_t len = sizeof buf;
    int ok = 1;

    check(store_put(st, "rs", "v", 1, 0) == STORE_OK); /* pooled connections */
    check(ctl("stop") == 0 && ctl("start") == 0);
    check(store_get(st, "rs", buf, &len, NULL, 0) == STORE_NOTFOUND); /* no --save */
    check(store_put(st, "rs", "w", 1, 0) == STORE_OK);
    store_del(st, "rs");
    report("restart_between_calls", ok);
}

/* test_other_addresses - unix:/path and [::1]:port */
static void test_other_addresses(void)
{
    const char *sock = getenv("REDIS_SOCKET");
    char url[300], buf[8];
    const char *colon = strrchr(redis_url, ':');
    size_t len;
    struct store *st;
    redisContext *v6;
    int ok = 1;

    if (sock == NULL) {
        printf("SKIP: unix_socket (REDIS_SOCKET not set)\n");
    } else {
        snprintf(url, sizeof url, "unix:%s", sock);
        redis_url = url;
        st = open_store("greyrep-test:");
        redis_url = getenv("REDIS_URL");
        len = sizeof buf;
        check(store_put(st, "ux", "u", 1, 0) == STORE_OK);
        check(store_get(st, "ux", buf, &len, NULL, 0) == STORE_OK && len == 1 && buf[0] == 'u');
        check(store_del(st, "ux") == STORE_OK);
        store_close(st);
        report("unix_socket", ok);
    }

    ok = 1;
    v6 = redisConnect("::1", atoi(colon + 1));
    if (v6 == NULL || v6->err) {
        printf("SKIP: ipv6_address (redis-server not reachable on ::1)\n");
    } else {
        snprintf(url, sizeof url, "[::1]%s", colon);
        redis_url = url;
        st = open_store("greyrep-test:");
        redis_url = getenv("REDIS_URL");
        len = sizeof buf;
        check(store_put(st, "v6", "6", 1, 0) == STORE_OK);
        check(store_get(st, "v6", buf, &len, NULL, 0) == STORE_OK && len == 1);
        check(store_del(st, "v6") == STORE_OK);
        store_close(st);
        report("ipv6_address", ok);
    }
    if (v6)
        redisFree(v6);
}

int main(void)
{
    struct store *a, *b;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if ((redis_url = getenv("REDIS_URL")) == NULL || !*redis_url) {
        printf("SKIP: store_redis (REDIS_URL not set)\n");
        return 77;
    }
    log_open("test_store_redis", 1, 0);
    a = open_store("greyrep-test:");
    b = open_store("greyrep-test:");

    test_put_get_del(a);
    test_put_many(a);
    test_expiry(a);
    test_iterate(a);
    test_update_two(a);
    test_update_delete_dry(a);
    test_conflict(a, b);
    test_concurrency(a, b);
    test_stats(a);
    test_expiry_reports();
    test_open_errors();
    test_other_addresses();
    if (getenv("REDIS_CTL")) {
        test_restart(a);
        outage(a, "stop", "start", "outage_stopped");
        outage(a, "pause", "resume", "outage_hung");
    } else {
        printf("SKIP: restart_between_calls (REDIS_CTL not set)\n");
        printf("SKIP: outage_stopped (REDIS_CTL not set)\n");
        printf("SKIP: outage_hung (REDIS_CTL not set)\n");
    }
    store_close(a);
    store_close(b);
    if (raw)
        redisFree(raw);
    return failures ? 1 : 0;
}
