/*
 * NAME
 *   test_store_lmdb - unit tests of the LMDB store backend (store.h)
 * DESCRIPTION
 *   A real LMDB environment in a scratch directory per test: put, get,
 *   delete and their argument checks; expiry (an expired record is absent
 *   for every reader before the sweep removes it); atomic updates of two
 *   keys, and an update whose callback aborts; prefix iteration in key
 *   order; the sweep over 20,000 expired records in small batches; the map
 *   growing from 1 MB while writing several MB; reopening; a second process
 *   (forked before it opens the environment, as LMDB demands) whose writes
 *   and map growth the first one sees; values that do not decode, both at
 *   the store level (written with liblmdb directly) and through
 *   decide_rcpt().
 */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pthread.h>

#include <lmdb.h>
#include <sys/stat.h>

#include "config.h"
#include "decide.h"
#include "log.h"
#include "record.h"
#include "store.h"
#include "unit_util.h"

#define NOW ((time_t)1700000000)
#define MB (1024 * 1024)

struct fixture {
    char dir[PATH_MAX];
    struct cfg_store cs;
    struct store *st;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    unit_tmpdir(f->dir, sizeof f->dir);
    f->cs.backend = BACKEND_LMDB;
    if ((size_t)snprintf(f->cs.path, sizeof f->cs.path, "%s/db", f->dir) >= sizeof f->cs.path)
        abort();
    f->cs.map_size = 1 * MB;
    f->cs.sync_interval = 1;     /* MDB_NOSYNC: fast, and kill -9 safe */
    f->cs.sweep_interval = 60;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    store_close(f->st);
    unit_rmtree(f->dir);
    free(f);
    return 0;
}

/* reopen - (re)open the fixture's store */
static struct store *reopen(struct fixture *f)
{
    char err[512] = "";
    store_close(f->st);
    f->st = store_open(&f->cs, err, sizeof err);
    if (f->st == NULL)
        fail_msg("store_open(%s): %s", f->cs.path, err);
    return f->st;
}

/* count_fn / count - live records under a prefix */
static int count_fn(void *arg, const char *key, size_t klen, const void *val, size_t vlen,
                    time_t expires)
{
    (void)key;
    (void)klen;
    (void)val;
    (void)vlen;
    (void)expires;
    (*(size_t *)arg)++;
    return 0;
}

static size_t count(struct store *st, const char *prefix, time_t now)
{
    size_t n = 0;
    assert_int_equal(store_iterate(st, prefix, now, count_fn, &n), STORE_OK);
    return n;
}

/* --- bulk writes: up to STORE_MAX_KEYS records in one update ---------- */

struct bulk {
    const char *keys[STORE_MAX_KEYS];
    size_t vlen;
    time_t expires[STORE_MAX_KEYS];
    unsigned char fill;
};

static int bulk_fn(void *arg, struct store_rec *rec, size_t n)
{
    struct bulk *b = arg;
    for (size_t i = 0; i < n; i++) {
        memset(rec[i].val, b->fill, b->vlen);
        memcpy(rec[i].val, rec[i].key, strlen(rec[i].key) < b->vlen ? strlen(rec[i].key) : b->vlen);
        rec[i].len = b->vlen;
        rec[i].expires = b->expires[i];
        rec[i].action = STORE_WRITE;
    }
    return 0;
}

/* key_of - the key of record i in a bulk load */
static const char *key_of(char *buf, size_t len, const char *prefix, size_t i)
{
    snprintf(buf, len, "%s%07zu", prefix, i);
    return buf;
}

/* bulk_load - n records prefixNNNNNNN; expiry from exp(i) */
static void bulk_load(struct store *st, const char *prefix, size_t n, size_t vlen,
                      time_t (*exp)(size_t))
{
    char keys[STORE_MAX_KEYS][64];
    for (size_t i = 0; i < n; i += STORE_MAX_KEYS) {
        struct store_rec rec[STORE_MAX_KEYS];
        struct bulk b;
        size_t k = n - i < STORE_MAX_KEYS ? n - i : STORE_MAX_KEYS;

        memset(rec, 0, sizeof rec);
        memset(&b, 0, sizeof b);
        b.vlen = vlen;
        b.fill = (unsigned char)(i & 0xff);
        for (size_t j = 0; j < k; j++) {
            rec[j].key = key_of(keys[j], sizeof keys[j], prefix, i + j);
            b.expires[j] = exp(i + j);
        }
        if (store_update(st, rec, k, NOW, bulk_fn, &b) != STORE_OK)
            fail_msg("bulk load of %s: record %zu failed", prefix, i);
    }
}

static time_t exp_never(size_t i) { (void)i; return 0; }
static time_t exp_past(size_t i) { return NOW - 1 - (time_t)(i % 1000); }
/* one in 400 lives, scattered across every sweep batch */
static time_t exp_mixed(size_t i) { return i % 400 == 0 ? NOW + 3600 : NOW - 10; }

/* --- tests ------------------------------------------------------------ */

static void test_put_get_del(void **state)
{
    struct fixture *f = *state;
    struct store *st = reopen(f);
    unsigned char val[64];
    size_t len;
    time_t exp = 123;

    assert_string_equal(store_backend_name(st), "lmdb");
    len = sizeof val;
    assert_int_equal(store_get(st, "t|a", val, &len, &exp, NOW), STORE_NOTFOUND);
    assert_int_equal(store_put(st, "t|a", "hello", 5, 0), STORE_OK);
    len = sizeof val;
    assert_int_equal(store_get(st, "t|a", val, &len, &exp, NOW), STORE_OK);
    assert_int_equal(len, 5);
    assert_memory_equal(val, "hello", 5);
    assert_true(exp == 0);
    /* replace, with an expiry */
    assert_int_equal(store_put(st, "t|a", "bye", 3, NOW + 60), STORE_OK);
    len = sizeof val;
    assert_int_equal(store_get(st, "t|a", val, &len, &exp, NOW), STORE_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(val, "bye", 3);
    assert_true(exp == NOW + 60);
    /* expires may be NULL; a short buffer gets the first bytes */
    len = 2;
    assert_int_equal(store_get(st, "t|a", val, &len, NULL, NOW), STORE_OK);
    assert_int_equal(len, 2);
    assert_memory_equal(val, "by", 2);
    /* an empty value is a value */
    assert_int_equal(store_put(st, "t|empty", "", 0, 0), STORE_OK);
    len = sizeof val;
    assert_int_equal(store_get(st, "t|empty", val, &len, NULL, NOW), STORE_OK);
    assert_int_equal(len, 0);
    /* delete, twice */
    assert_int_equal(store_del(st, "t|a"), STORE_OK);
    len = sizeof val;
    assert_int_equal(store_get(st, "t|a", val, &len, NULL, NOW), STORE_NOTFOUND);
    assert_int_equal(store_del(st, "t|a"), STORE_OK);
    assert_int_equal(store_del(st, "never|existed"), STORE_OK);
    assert_int_equal(count(st, "", NOW), 1);
}

/* test_put_many - all records of a batch in one step, or none (the
 * greyrepctl load of issue 10); a batch larger than the map grows it */
static void test_put_many(void **state)
{
    struct fixture *f = *state;
    struct store *st = reopen(f);
    static char keys[3000][16];
    static struct store_item items[3000];
    static unsigned char big[1000];
    unsigned char val[STORE_MAX_VALUE];
    size_t len;
    time_t exp;
    char longkey[STORE_MAX_KEY + 10];

    memset(big, 'v', sizeof big);
    for (int i = 0; i < 3000; i++) {
        snprintf(keys[i], sizeof keys[i], "t|k%04d", i);
        items[i] = (struct store_item){keys[i], big, sizeof big, i % 2 ? NOW + 60 : 0};
    }
    assert_int_equal(store_put_many(st, items, 0), STORE_OK);
    /* one bad key: nothing of the batch is written */
    memset(longkey, 'x', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    items[1500].key = longkey;
    assert_int_equal(store_put_many(st, items, 3000), STORE_ERROR);
    assert_int_equal(count(st, "t|", NOW), 0);
    items[1500].key = keys[1500];
    /* 3 MB into a 1 MB map: it grows, every record is there */
    assert_int_equal(store_put_many(st, items, 3000), STORE_OK);
    assert_int_equal(count(st, "t|", NOW), 3000);
    len = sizeof val;
    assert_int_equal(store_get(st, "t|k2999", val, &len, &exp, NOW), STORE_OK);
    assert_int_equal(len, sizeof big);
    assert_true(exp == NOW + 60);
    len = sizeof val;
    assert_int_equal(store_get(st, "t|k0000", val, &len, &exp, NOW), STORE_OK);
    assert_true(exp == 0);
    /* and it replaces what was there */
    items[0].val = "new";
    items[0].vlen = 3;
    assert_int_equal(store_put_many(st, items, 1), STORE_OK);
    len = sizeof val;
    assert_int_equal(store_get(st, "t|k0000", val, &len, NULL, NOW), STORE_OK);
    assert_int_equal(len, 3);
    st = reopen(f);
    assert_int_equal(count(st, "t|", NOW), 3000);
}

/* test_limits - keys and values at and beyond their limits */
static void test_limits(void **state)
{
    struct fixture *f = *state;
    struct store *st = reopen(f);
    static char key[STORE_MAX_KEY + 2];
    static unsigned char val[STORE_MAX_VALUE + 2], out[STORE_MAX_VALUE + 2];
    size_t len;

    /* one byte over the longest key */
    memset(key, 'k', STORE_MAX_KEY);
    key[STORE_MAX_KEY] = '\0';
    assert_int_equal(store_put(st, key, "v", 1, 0), STORE_ERROR);
    len = sizeof out;
    assert_int_equal(store_get(st, key, out, &len, NULL, NOW), STORE_ERROR);
    assert_int_equal(store_del(st, key), STORE_ERROR);
    assert_int_equal(store_put(st, "", "v", 1, 0), STORE_ERROR);
    assert_int_equal(store_del(st, ""), STORE_ERROR);

    memset(val, 0xab, sizeof val);
    assert_int_equal(store_put(st, "v|max", val, STORE_MAX_VALUE, 0), STORE_OK);
    len = sizeof out;
    assert_int_equal(store_get(st, "v|max", out, &len, NULL, NOW), STORE_OK);
    assert_int_equal(len, STORE_MAX_VALUE);
    assert_memory_equal(out, val, STORE_MAX_VALUE);
    assert_int_equal(store_put(st, "v|toolong", val, STORE_MAX_VALUE + 1, 0), STORE_ERROR);
    len = sizeof out;
    assert_int_equal(store_get(st, "v|toolong", out, &len, NULL, NOW), STORE_NOTFOUND);
    /* keys are bytes, not text: 8-bit and '|' are fine */
    assert_int_equal(store_put(st, "t|\xff\xfe|x", "8", 1, 0), STORE_OK);
    len = sizeof out;
    assert_int_equal(store_get(st, "t|\xff\xfe|x", out, &len, NULL, NOW), STORE_OK);
}

/* peek_fn - an update callback that only looks */
static int peek_fn(void *arg, struct store_rec *rec, size_t n)
{
    (void)arg;
    (void)rec;
    (void)n;
    return -1;
}

/* test_long_keys - every key store.h accepts (shorter than STORE_MAX_KEY)
 * can be written, read, updated and iterated: decide.c builds triplet keys
 * of up to STORE_MAX_KEY - 1 bytes (LMDB's own default limit is 511) */
static void test_long_keys(void **state)
{
    static const size_t lens[] = {100, 511, 512, 600, STORE_MAX_KEY - 1};
    struct fixture *f = *state;
    struct store *st = reopen(f);
    static char key[STORE_MAX_KEY];

    size_t tried = 0;

    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        unsigned char val[16];
        size_t len = sizeof val;
        struct store_rec rec[1];

        if (lens[i] >= STORE_MAX_KEY)
            continue;
        tried++;
        memset(key, 'a' + (int)i, lens[i]);
        key[0] = 'L';
        key[1] = '|';
        key[lens[i]] = '\0';
        if (store_put(st, key, "v", 1, 0) != STORE_OK)
            fail_msg("store_put of a key of %zu bytes failed", lens[i]);
        assert_int_equal(store_get(st, key, val, &len, NULL, NOW), STORE_OK);
        memset(rec, 0, sizeof rec);
        rec[0].key = key;
        if (store_update(st, rec, 1, NOW, peek_fn, NULL) != STORE_OK || !rec[0].found)
            fail_msg("store_update of a key of %zu bytes failed", lens[i]);
    }
    assert_int_equal(count(st, "L|", NOW), tried);
}

/* test_expiry - absent for every reader once expired, before any sweep */
static void test_expiry(void **state)
{
    struct fixture *f = *state;
    struct store *st = reopen(f);
    unsigned char val[16];
    size_t len;
    struct store_stats ss;

    assert_int_equal(store_put(st, "c|1", "x", 1, NOW + 10), STORE_OK);
    assert_int_equal(store_put(st, "c|2", "y", 1, 0), STORE_OK);
    len = sizeof val;
    assert_int_equal(store_get(st, "c|1", val, &len, NULL, NOW + 9), STORE_OK);
    len = sizeof val;
    assert_int_equal(store_get(st, "c|1", val, &len, NULL, NOW + 10), STORE_NOTFOUND);
    len = sizeof val;
    assert_int_equal(store_get(st, "c|1", val, &len, NULL, NOW + 100000), STORE_NOTFOUND);
    assert_int_equal(count(st, "c|", NOW + 9), 2);
    assert_int_equal(count(st, "c|", NOW + 10), 1);
    /* still on disk until swept */
    assert_int_equal(store_stats(st, &ss), STORE_OK);
    assert_true(ss.records == 2);
    /* an update sees it as absent */
    {
        struct store_rec rec[1];
        memset(rec, 0, sizeof rec);
        rec[0].key = "c|1";
        assert_int_equal(store_update(st, rec, 1, NOW + 10, peek_fn, NULL), STORE_OK);
        assert_int_equal(rec[0].found, 0);
        rec[0].key = "c|2";
        assert_int_equal(store_update(st, rec, 1, NOW + 10, peek_fn, NULL), STORE_OK);
        assert_int_equal(rec[0].found, 1);
        assert_int_equal(rec[0].len, 1);
        assert_int_equal(rec[0].val[0], 'y');
    }
}

/* update callbacks for test_update */
struct counter_arg {
    int calls;
    int abort;
    int seen_found[2];
    size_t seen_len[2];
    time_t seen_expires[2];
};

static int counter_fn(void *arg, struct store_rec *rec, size_t n)
{
    struct counter_arg *a = arg;
    a->calls++;
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++) {
        uint32_t v = 0;
        a->seen_found[i] = rec[i].found;
        a->seen_len[i] = rec[i].len;
        a->seen_expires[i] = rec[i].expires;
        assert_int_equal(rec[i].action, STORE_KEEP);
        if (rec[i].found) {
            assert_int_equal(rec[i].len, 4);
            memcpy(&v, rec[i].val, 4);
        }
        v += (uint32_t)(i + 1);
        memcpy(rec[i].val, &v, 4);
        rec[i].len = 4;
        rec[i].expires = NOW + 1000 * (time_t)(i + 1);
        rec[i].action = STORE_WRITE;
    }
    return a->abort ? -1 : 0;
}

static uint32_t get_u32(struct store *st, const char *key)
{
    uint32_t v = 0;
    size_t len = sizeof v;
    if (store_get(st, key, &v, &len, NULL, NOW) != STORE_OK)
        return UINT32_MAX;
    assert_int_equal(len, 4);
    return v;
}

/* test_update - two keys, read and written in one step */
static void test_update(void **state)
{
    struct fixture *f = *state;
    struct store *st = reopen(f);
    struct store_rec rec[2];
    struct counter_arg a;

    memset(rec, 0, sizeof rec);
    memset(&a, 0, sizeof a);
    rec[0].key = "t|one";
    rec[1].key = "c|two";
    assert_int_equal(store_update(st, rec, 2, NOW, counter_fn, &a), STORE_OK);
    /* it writes: run on the read-first snapshot, then in the write path */
    assert_int_equal(a.calls, 2);
    assert_int_equal(a.seen_found[0], 0);
    assert_int_equal(a.seen_found[1], 0);
    assert_int_equal(get_u32(st, "t|one"), 1);
    assert_int_equal(get_u32(st, "c|two"), 2);

    memset(&a, 0, sizeof a);
    assert_int_equal(store_update(st, rec, 2, NOW, counter_fn, &a), STORE_OK);
    assert_int_equal(a.seen_found[0], 1);
    assert_int_equal(a.seen_found[1], 1);
    assert_int_equal(a.seen_len[0], 4);
    assert_true(a.seen_expires[0] == NOW + 1000);
    assert_true(a.seen_expires[1] == NOW + 2000);
    assert_int_equal(get_u32(st, "t|one"), 2);
    assert_int_equal(get_u32(st, "c|two"), 4);

    /* the callback aborts: nothing is written, and that is not an error */
    memset(&a, 0, sizeof a);
    a.abort = 1;
    assert_int_equal(store_update(st, rec, 2, NOW, counter_fn, &a), STORE_OK);
    /* an abort in the read-first pass is tried again under the write path */
    assert_int_equal(a.calls, 2);
    assert_int_equal(get_u32(st, "t|one"), 2);
    assert_int_equal(get_u32(st, "c|two"), 4);

    /* an aborted update of absent keys creates nothing */
    memset(rec, 0, sizeof rec);
    rec[0].key = "t|new";
    rec[1].key = "c|new";
    assert_int_equal(store_update(st, rec, 2, NOW, counter_fn, &a), STORE_OK);
    assert_int_equal(get_u32(st, "t|new"), UINT32_MAX);
    assert_int_equal(count(st, "", NOW), 2);

    /* a record expired at the time of the update is offered as absent */
    memset(rec, 0, sizeof rec);
    memset(&a, 0, sizeof a);
    rec[0].key = "t|one";
    rec[1].key = "c|two";
    assert_int_equal(store_update(st, rec, 2, NOW + 1500, counter_fn, &a), STORE_OK);
    assert_int_equal(a.seen_found[0], 0);
    assert_int_equal(a.seen_found[1], 1);
}

/* delete_first_fn - delete rec[0], keep rec[1] */
static int delete_first_fn(void *arg, struct store_rec *rec, size_t n)
{
    (void)arg;
    (void)n;
    rec[0].action = STORE_DELETE;
    rec[1].action = STORE_KEEP;
    return 0;
}

static void test_update_delete(void **state)
{
    struct fixture *f = *state;
    struct store *st = reopen(f);
    struct store_rec rec[2];

    assert_int_equal(store_put(st, "a", "1", 1, 0), STORE_OK);
    assert_int_equal(store_put(st, "b", "2", 1, 0), STORE_OK);
    memset(rec, 0, sizeof rec);
    rec[0].key = "a";
    rec[1].key = "b";
    assert_int_equal(store_update(st, rec, 2, NOW, delete_first_fn, NULL), STORE_OK);
    assert_int_equal(count(st, "a", NOW), 0);
    assert_int_equal(count(st, "b", NOW), 1);
    /* deleting an absent record in an update is fine */
    assert_int_equal(store_update(st, rec, 2, NOW, delete_first_fn, NULL), STORE_OK);
}

/* collect_fn - remember the keys seen, stop after arg->stop */
struct seen {
    char keys[16][32];
    size_t n, stop;
};

static int collect_fn(void *arg, const char *key, size_t klen, const void *val, size_t vlen,
                      time_t expires)
{
    struct seen *s = arg;
    (void)val;
    (void)expires;
    assert_true(klen < sizeof s->keys[0]);
    assert_int_equal(vlen, 1);
    if (s->n < 16) {
        memcpy(s->keys[s->n], key, klen);
        s->keys[s->n][klen] = '\0';
    }
    s->n++;
    return s->stop && s->n >= s->stop;
}

/* test_iterate - by prefix, in key order, live records only */
static void test_iterate(void **state)
{
    static const char *keys[] = {"t|c", "c|x", "t|a", "u|y", "t", "t|b", "s|z", "t|d", "t}"};
    struct fixture *f = *state;
    struct store *st = reopen(f);
    struct seen s;

    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_int_equal(store_put(st, keys[i], "v", 1, strcmp(keys[i], "t|d") == 0 ? NOW : 0),
                         STORE_OK);
    memset(&s, 0, sizeof s);
    assert_int_equal(store_iterate(st, "t|", NOW, collect_fn, &s), STORE_OK);
    assert_int_equal(s.n, 3);   /* t|d has expired */
    assert_string_equal(s.keys[0], "t|a");
    assert_string_equal(s.keys[1], "t|b");
    assert_string_equal(s.keys[2], "t|c");

    memset(&s, 0, sizeof s);
    assert_int_equal(store_iterate(st, "t|", NOW - 1, collect_fn, &s), STORE_OK);
    assert_int_equal(s.n, 4);
    assert_string_equal(s.keys[3], "t|d");

    /* stop early */
    memset(&s, 0, sizeof s);
    s.stop = 2;
    assert_int_equal(store_iterate(st, "t|", NOW, collect_fn, &s), STORE_OK);
    assert_int_equal(s.n, 2);

    /* everything, in order */
    memset(&s, 0, sizeof s);
    assert_int_equal(store_iterate(st, "", NOW, collect_fn, &s), STORE_OK);
    assert_int_equal(s.n, 8);
    for (size_t i = 1; i < s.n; i++)
        assert_true(strcmp(s.keys[i - 1], s.keys[i]) < 0);

    /* a prefix nothing has, before, between and after the keys */
    assert_int_equal(count(st, "a|", NOW), 0);
    assert_int_equal(count(st, "d|", NOW), 0);
    assert_int_equal(count(st, "zz", NOW), 0);
    assert_int_equal(count(st, "t|a", NOW), 1);
}

/* test_expire - the sweep removes exactly the expired records, in batches */
static void test_expire(void **state)
{
    struct fixture *f = *state;
    struct store *st = reopen(f);
    struct store_stats ss;
    size_t removed = 12345;

    bulk_load(st, "a|", 20000, 16, exp_past);
    bulk_load(st, "m|", 20000, 16, exp_mixed);   /* 50 live among them */
    bulk_load(st, "z|", 10, 16, exp_never);
    assert_int_equal(store_stats(st, &ss), STORE_OK);
    assert_true(ss.records == 40010);
    assert_true(ss.bytes_max > 1 * MB);   /* and the map grew on the way */

    /* nothing expired yet at a time before them all */
    assert_int_equal(store_expire(st, NOW - 5000, 0, &removed), STORE_OK);
    assert_int_equal(removed, 0);

    /* a limited sweep stops at its limit */
    assert_int_equal(store_expire(st, NOW, 1234, &removed), STORE_OK);
    assert_int_equal(removed, 1234);
    assert_int_equal(store_stats(st, &ss), STORE_OK);
    assert_true(ss.records == 40010 - 1234);

    /* the rest */
    assert_int_equal(store_expire(st, NOW, 0, &removed), STORE_OK);
    assert_int_equal(removed, 40000 - 50 - 1234);
    assert_int_equal(store_stats(st, &ss), STORE_OK);
    assert_true(ss.records == 60);
    assert_int_equal(count(st, "", NOW), 60);
    assert_int_equal(count(st, "m|", NOW), 50);
    assert_int_equal(count(st, "z|", NOW), 10);
    /* the survivors are the right ones */
    for (size_t i = 0; i < 20000; i += 400) {
        char key[64];
        unsigned char val[16];
        size_t len = sizeof val;
        key_of(key, sizeof key, "m|", i);
        assert_int_equal(store_get(st, key, val, &len, NULL, NOW), STORE_OK);
    }
    /* again: nothing left to do */
    assert_int_equal(store_expire(st, NOW, 0, &removed), STORE_OK);
    assert_int_equal(removed, 0);
    /* much later the mixed ones go too, the "never" ones never */
    assert_int_equal(store_expire(st, NOW + 3600, 0, &removed), STORE_OK);
    assert_int_equal(removed, 50);
    assert_int_equal(store_stats(st, &ss), STORE_OK);
    assert_true(ss.records == 10);
}

/* What the on-expire hook saw. */
struct expired_seen {
    struct store *st;
    size_t n, bad;
    char last[64];
};

/* on_expired - count a report; check it is under the prefix and its value
 * is the one stored, then use the store from inside the hook */
static void on_expired(void *arg, const char *key, size_t klen, const void *val, size_t vlen,
                       time_t expired)
{
    struct expired_seen *s = arg;
    char copy[64];

    if (klen >= sizeof copy || strncmp(key, "t|", 2) != 0 || key[klen] != '\0'
        || vlen != 5 || memcmp(val, "value", 5) != 0 || expired > NOW)
        s->bad++;
    s->n++;
    snprintf(copy, sizeof copy, "learnt|%.*s", (int)klen, key);
    if (store_put(s->st, copy, "1", 1, 0) != STORE_OK)
        s->bad++;
}

/* test_expire_hook - exactly the expired records under the prefix are
 * reported, once, after they are gone; the hook may use the store */
static void test_expire_hook(void **state)
{
    struct fixture *f = *state;
    struct store *st = reopen(f);
    struct expired_seen seen = {st, 0, 0, ""};
    size_t removed;
    char key[64];

    store_on_expire(st, "t|", on_expired, &seen);
    for (int i = 0; i < 250; i++) {     /* more than one sweep batch */
        snprintf(key, sizeof key, "t|pending|%03d", i);
        assert_int_equal(store_put(st, key, "value", 5, NOW - 10), STORE_OK);
        snprintf(key, sizeof key, "c|other|%03d", i);
        assert_int_equal(store_put(st, key, "value", 5, NOW - 10), STORE_OK);
        snprintf(key, sizeof key, "t|live|%03d", i);
        assert_int_equal(store_put(st, key, "value", 5, NOW + 3600), STORE_OK);
    }
    assert_int_equal(store_expire(st, NOW, 0, &removed), STORE_OK);
    assert_int_equal(removed, 500);
    assert_int_equal(seen.n, 250);
    assert_int_equal(seen.bad, 0);
    assert_int_equal(count(st, "learnt|t|pending|", NOW), 250);
    assert_int_equal(count(st, "t|pending|", NOW), 0);
    assert_int_equal(count(st, "t|live|", NOW), 250);
    /* a second sweep reports nothing again */
    assert_int_equal(store_expire(st, NOW, 0, &removed), STORE_OK);
    assert_int_equal(removed, 0);
    assert_int_equal(seen.n, 250);
}

/* test_expire_empty - a sweep of an empty store */
static void test_expire_empty(void **state)
{
    struct fixture *f = *state;
    struct store *st = reopen(f);
    size_t removed = 99;
    assert_int_equal(store_expire(st, NOW, 0, &removed), STORE_OK);
    assert_int_equal(removed, 0);
}

/* check_big - every record of a bulk load of big values reads back */
static void check_big(struct store *st, const char *prefix, size_t n, size_t vlen)
{
    for (size_t i = 0; i < n; i++) {
        char key[64];
        unsigned char val[STORE_MAX_VALUE];
        size_t len = sizeof val;
        key_of(key, sizeof key, prefix, i);
        if (store_get(st, key, val, &len, NULL, NOW) != STORE_OK)
            fail_msg("%s lost", key);
        if (len != vlen || memcmp(val, key, strlen(key)) != 0
            || val[vlen - 1] != (unsigned char)((i - i % STORE_MAX_KEYS) & 0xff))
            fail_msg("%s: wrong value", key);
    }
}

/* test_map_growth - from 1 MB to several, without a failed write */
static void test_map_growth(void **state)
{
    struct fixture *f = *state;
    struct store *st = reopen(f);
    struct store_stats ss;
    unsigned char big[900];

    assert_int_equal(store_stats(st, &ss), STORE_OK);
    assert_true(ss.bytes_max == 1 * MB);
    /* single puts (one per transaction) ... */
    memset(big, 'p', sizeof big);
    for (size_t i = 0; i < 2000; i++) {
        char key[64];
        key_of(key, sizeof key, "p|", i);
        if (store_put(st, key, big, sizeof big, 0) != STORE_OK)
            fail_msg("put %zu failed", i);
    }
    /* ... and updates of four records at a time */
    bulk_load(st, "u|", 4000, 1000, exp_never);
    assert_int_equal(store_stats(st, &ss), STORE_OK);
    assert_true(ss.records == 6000);
    assert_true(ss.bytes_max >= 4 * MB);
    assert_true(ss.bytes_used > 1 * MB);
    assert_true(ss.bytes_used <= ss.bytes_max);
    check_big(st, "u|", 4000, 1000);
    assert_int_equal(count(st, "p|", NOW), 2000);

    /* reopen with the configured 1 MB: the map must not shrink below the data */
    reopen(f);
    st = f->st;
    assert_int_equal(store_stats(st, &ss), STORE_OK);
    assert_true(ss.records == 6000);
    check_big(st, "u|", 4000, 1000);
    assert_int_equal(count(st, "p|", NOW), 2000);
    /* and it keeps growing after the reopen */
    bulk_load(st, "v|", 2000, 1000, exp_never);
    check_big(st, "v|", 2000, 1000);
}

/* map_writer - one thread of test_map_growth_threads: puts of its own keys */
struct map_writer {
    struct store *st;
    int id;
    int failed;
};

static void *map_writer(void *arg)
{
    struct map_writer *w = arg;
    unsigned char big[700];
    memset(big, 'w', sizeof big);
    for (size_t i = 0; i < 1500 && !w->failed; i++) {
        char key[64];
        snprintf(key, sizeof key, "w%d|%06zu", w->id, i);
        if (store_put(w->st, key, big, sizeof big, 0) != STORE_OK)
            w->failed = 1;
    }
    return NULL;
}

/* test_map_growth_threads - the map grows while other threads write: a
 * regression test for reading the map size outside the resize lock, which
 * crashed (SIGSEGV in mdb_env_info) when a resize unmapped it meanwhile */
static void test_map_growth_threads(void **state)
{
    struct fixture *f = *state;
    struct store *st = reopen(f);
    struct map_writer w[4];
    pthread_t th[4];
    struct store_stats ss;

    for (int i = 0; i < 4; i++) {
        w[i] = (struct map_writer){st, i, 0};
        assert_int_equal(pthread_create(&th[i], NULL, map_writer, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_false(w[i].failed);
    }
    assert_int_equal(store_stats(st, &ss), STORE_OK);
    assert_true(ss.records == 6000);
    assert_true(ss.bytes_max >= 4 * MB);
    assert_int_equal(count(st, "w3|", NOW), 1500);
}

/* test_reopen - everything written is there after close and open */
static void test_reopen(void **state)
{
    struct fixture *f = *state;
    struct store *st = reopen(f);
    unsigned char val[16];
    size_t len = sizeof val;
    time_t exp;

    assert_int_equal(store_put(st, "w|ip|192.0.2.1", "x", 1, NOW + 5), STORE_OK);
    bulk_load(st, "r|", 100, 10, exp_never);
    store_close(st);
    f->st = NULL;
    /* every commit flushed (sync_interval = 0) this time */
    f->cs.sync_interval = 0;
    st = reopen(f);
    assert_int_equal(store_get(st, "w|ip|192.0.2.1", val, &len, &exp, NOW), STORE_OK);
    assert_true(exp == NOW + 5);
    assert_int_equal(count(st, "r|", NOW), 100);
    assert_int_equal(store_put(st, "after", "y", 1, 0), STORE_OK);
    store_maintain(st);
    reopen(f);
    assert_int_equal(count(f->st, "", NOW), 102);
}

/* the child of test_second_process: its own environment, opened after fork */
static int child_writer(void *arg)
{
    struct fixture *f = arg;
    char err[512];
    unsigned char val[16];
    size_t len = sizeof val;
    struct store *st = store_open(&f->cs, err, sizeof err);

    if (st == NULL) {
        fprintf(stderr, "child: store_open: %s\n", err);
        return 1;
    }
    /* it sees what the parent wrote before */
    if (store_get(st, "parent|before", val, &len, NULL, NOW) != STORE_OK || len != 1
        || val[0] != 'P') {
        fprintf(stderr, "child: parent's record not seen\n");
        return 1;
    }
    /* several MB: the map grows in this process, under the parent's feet */
    unsigned char big[1000];
    memset(big, 'c', sizeof big);
    for (size_t i = 0; i < 4000; i++) {
        char key[64];
        snprintf(key, sizeof key, "child|%07zu", i);
        if (store_put(st, key, big, sizeof big, 0) != STORE_OK) {
            fprintf(stderr, "child: put %zu failed\n", i);
            return 1;
        }
    }
    if (store_put(st, "child|done", "C", 1, 0) != STORE_OK)
        return 1;
    store_close(st);
    return 0;
}

/* test_second_process - another process's writes and map growth are seen */
static void test_second_process(void **state)
{
    struct fixture *f = *state;
    struct store *st = reopen(f);
    char why[128];
    unsigned char val[STORE_MAX_VALUE];
    size_t len;
    struct store_stats ss;

    assert_int_equal(store_put(st, "parent|before", "P", 1, 0), STORE_OK);
    /* the parent has read (and so set up its reader slot) before the child */
    assert_int_equal(count(st, "", NOW), 1);
    if (unit_isolated(child_writer, f, why, sizeof why) != NULL)
        fail_msg("child writer %s", why);

    len = sizeof val;
    assert_int_equal(store_get(st, "child|done", val, &len, NULL, NOW), STORE_OK);
    assert_int_equal(val[0], 'C');
    assert_int_equal(count(st, "child|", NOW), 4001);
    len = sizeof val;
    assert_int_equal(store_get(st, "child|0003999", val, &len, NULL, NOW), STORE_OK);
    assert_int_equal(len, 1000);
    assert_int_equal(val[999], 'c');
    /* and the parent writes on, in the map the child grew */
    assert_int_equal(store_stats(st, &ss), STORE_OK);
    assert_true(ss.bytes_max > 1 * MB);
    bulk_load(st, "parent|", 1000, 1000, exp_never);
    check_big(st, "parent|", 1000, 1000);
    assert_int_equal(store_put(st, "parent|after", "P", 1, 0), STORE_OK);
}

/* raw_put - write a value exactly as given, behind the store's back */
static void raw_put(const char *path, const char *key, const void *val, size_t vlen)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k = {strlen(key), (void *)key}, v = {vlen, (void *)val};

    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_mapsize(env, 64 * MB), 0);
    assert_int_equal(mdb_env_open(env, path, MDB_NOTLS, 0640), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

/* test_raw_garbage - values too short for their expiry prefix are absent
 * for every reader, and swept; values too long are cut, never overrun */
static void test_raw_garbage(void **state)
{
    struct fixture *f = *state;
    struct store *st = reopen(f);
    static unsigned char huge[8 + STORE_MAX_VALUE + 500];
    unsigned char val[STORE_MAX_VALUE];
    size_t len, removed;
    struct store_rec rec[2];
    struct counter_arg a;

    assert_int_equal(store_put(st, "g|ok", "fine", 4, 0), STORE_OK);
    store_close(st);
    f->st = NULL;
    raw_put(f->cs.path, "g|short", "abc", 3);
    raw_put(f->cs.path, "g|empty", "", 0);
    memset(huge, 0, 8);   /* expiry 0: never */
    memset(huge + 8, 'h', sizeof huge - 8);
    raw_put(f->cs.path, "g|huge", huge, sizeof huge);
    st = reopen(f);

    len = sizeof val;
    assert_int_equal(store_get(st, "g|short", val, &len, NULL, NOW), STORE_NOTFOUND);
    len = sizeof val;
    assert_int_equal(store_get(st, "g|empty", val, &len, NULL, NOW), STORE_NOTFOUND);
    len = sizeof val;
    assert_int_equal(store_get(st, "g|huge", val, &len, NULL, NOW), STORE_OK);
    assert_int_equal(len, sizeof val);
    assert_int_equal(count(st, "g|", NOW), 2);   /* ok and huge */

    /* an update is offered neither as found */
    memset(rec, 0, sizeof rec);
    memset(&a, 0, sizeof a);
    a.abort = 1;
    rec[0].key = "g|short";
    rec[1].key = "g|huge";
    assert_int_equal(store_update(st, rec, 2, NOW, counter_fn, &a), STORE_OK);
    assert_int_equal(a.seen_found[0], 0);
    assert_int_equal(a.seen_found[1], 0);
    /* and may replace both */
    a.abort = 0;
    assert_int_equal(store_update(st, rec, 2, NOW, counter_fn, &a), STORE_OK);
    assert_int_equal(get_u32(st, "g|short"), 1);
    assert_int_equal(get_u32(st, "g|huge"), 2);

    /* the sweep removes what cannot be read */
    assert_int_equal(store_expire(st, NOW, 0, &removed), STORE_OK);
    assert_int_equal(removed, 1);   /* g|empty */
    assert_int_equal(count(st, "g|", NOW), 3);
}

/* test_corrupt_record_decide - an undecodable triplet is absent, not a crash */
static void test_corrupt_record_decide(void **state)
{
    struct fixture *f = *state;
    struct store *st = reopen(f);
    struct cfg *cfg = cfg_defaults();
    struct net_addr client;
    struct env_addr s, r;
    struct decide_input in;
    struct msg_facts facts;
    struct decider *d = decider_new(st);
    struct verdict v;
    char tkey[STORE_MAX_KEY], ckey[128];
    unsigned char val[64];
    size_t len;
    struct rec_triplet t;
    static const unsigned char bad_version[21] = {99};

    assert_non_null(d);
    assert_int_equal(net_parse("198.51.100.20", &client), 0);
    env_parse("<sender@example.org>", &s);
    env_parse("<rcpt@example.net>", &r);
    memset(&in, 0, sizeof in);
    memset(&facts, 0, sizeof facts);
    facts.client_ip = 1;
    facts.client = client;
    in.facts = &facts;
    in.sender = &s;
    in.rcpt = &r;
    decide_triplet_key(cfg, &client, NULL, &s, &r, tkey, sizeof tkey);
    decide_client_key(&client, ckey, sizeof ckey);

    /* garbage, a wrong version, a truncated record: each one absent */
    for (int round = 0; round < 3; round++) {
        if (round == 0)
            assert_int_equal(store_put(st, tkey, "garbage", 7, 0), STORE_OK);
        else if (round == 1)
            assert_int_equal(store_put(st, tkey, bad_version, sizeof bad_version, 0), STORE_OK);
        else
            assert_int_equal(store_put(st, tkey, "\x01\x00", 2, 0), STORE_OK);
        assert_int_equal(store_put(st, ckey, "junk", 4, 0), STORE_OK);
        decide_rcpt(d, cfg, &in, NOW, 0, &v, NULL, 0);
        assert_int_equal(v.action, V_TEMPFAIL);
        assert_int_equal(v.reason, R_GREY_NEW);
        assert_int_equal(v.remaining, cfg->grey.delay);
        assert_true(v.bad_record);
        /* the record was replaced by a good one */
        len = sizeof val;
        assert_int_equal(store_get(st, tkey, val, &len, NULL, NOW), STORE_OK);
        assert_int_equal(rec_triplet_decode(val, len, &t), 0);
        assert_true(t.first_seen == (uint64_t)NOW);
    }
    /* and the triplet goes on normally from there; the client record (still
     * junk: only a pass writes it) is absent too, and replaced by the pass */
    decide_rcpt(d, cfg, &in, NOW + cfg->grey.delay, 0, &v, NULL, 0);
    assert_int_equal(v.action, V_ACCEPT);
    assert_int_equal(v.reason, R_GREY_PASSED);
    assert_true(v.bad_record);
    {
        struct rec_client c;
        len = sizeof val;
        assert_int_equal(store_get(st, ckey, val, &len, NULL, NOW), STORE_OK);
        assert_int_equal(rec_client_decode(val, len, &c), 0);
        assert_int_equal(c.passes, 1);
    }
    decide_rcpt(d, cfg, &in, NOW + cfg->grey.delay + 1, 0, &v, NULL, 0);
    assert_int_equal(v.reason, R_GREY_KNOWN);
    assert_false(v.bad_record);
    decider_free(d);
    cfg_free(cfg);
}

/* test_open_failure - a path that cannot be a directory */
static void test_open_failure(void **state)
{
    struct fixture *f = *state;
    char file[PATH_MAX + 64], err[512] = "";
    struct cfg_store cs = f->cs;

    unit_write(f->dir, "plainfile", "x", file, sizeof file);
    if ((size_t)snprintf(cs.path, sizeof cs.path, "%s/db", file) >= sizeof cs.path)
        abort();
    assert_null(store_open(&cs, err, sizeof err));
    assert_true(err[0] != '\0');
    /* an environment directory that is a file */
    if ((size_t)snprintf(cs.path, sizeof cs.path, "%s", file) >= sizeof cs.path)
        abort();
    err[0] = '\0';
    assert_null(store_open(&cs, err, sizeof err));
    assert_true(err[0] != '\0');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_get_del, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_many, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iterate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expire, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expire_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expire_hook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_growth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_process, setup, teardown),
        cmocka_unit_test_setup_teardown(test_raw_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_record_decide, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_growth_threads, setup, teardown),
    };
    log_open("test_store_lmdb", 1, 0);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
