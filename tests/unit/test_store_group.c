/*
 * NAME
 *   test_store_group - store_update()'s read-first path and LMDB group
 *   commit, under concurrent decisions
 * DESCRIPTION
 *   A real LMDB environment per case.  N threads x M updates of one counter
 *   record end at exactly N*M; transfers between two records keep their sum
 *   and end exact; a mix of counting, transfers, writes that abort and
 *   updates that change nothing runs in the same batches and every count
 *   is exact, with no record written by an aborting callback; the
 *   read-first pass answers an update that changes nothing without a write
 *   transaction (the store's counters say so) and calls the callback once;
 *   batches really form when callbacks take time (fewer than half as many
 *   write transactions as updates); and a
 *   1 MB map grows while batches of large values are being written.
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
#include <time.h>

#include "config.h"
#include "store.h"
#include "unit_util.h"

#define NOW ((time_t)1700000000)
#define MB (1024 * 1024)
#define THREADS 8
#define EACH 400

struct fixture {
    char dir[PATH_MAX];
    struct cfg_store cs;
    struct store *st;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    char err[512] = "";
    if (f == NULL)
        return -1;
    unit_tmpdir(f->dir, sizeof f->dir);
    f->cs.backend = BACKEND_LMDB;
    if ((size_t)snprintf(f->cs.path, sizeof f->cs.path, "%s/db", f->dir) >= sizeof f->cs.path)
        abort();
    f->cs.map_size = 64 * MB;
    f->cs.sync_interval = 1;
    f->cs.sweep_interval = 60;
    f->st = store_open(&f->cs, err, sizeof err);
    if (f->st == NULL) {
        fprintf(stderr, "store_open: %s\n", err);
        return -1;
    }
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

/* get_u64/put_u64 - a counter value: 8 bytes, host order */
static uint64_t get_u64(const struct store_rec *r)
{
    uint64_t v = 0;
    if (r->found && r->len == sizeof v)
        memcpy(&v, r->val, sizeof v);
    return v;
}

static void put_u64(struct store_rec *r, uint64_t v)
{
    memcpy(r->val, &v, sizeof v);
    r->len = sizeof v;
    r->expires = 0;
    r->action = STORE_WRITE;
}

static uint64_t read_u64(struct store *st, const char *key)
{
    uint64_t v = 0;
    size_t len = sizeof v;
    if (store_get(st, key, &v, &len, NULL, NOW) != STORE_OK || len != sizeof v)
        return UINT64_MAX;
    return v;
}

/* the callbacks: each counts its calls in *arg when arg is not NULL */
static int cb_incr(void *arg, struct store_rec *rec, size_t n)
{
    (void)n;
    if (arg)
        (*(unsigned *)arg)++;
    put_u64(&rec[0], get_u64(&rec[0]) + 1);
    return 0;
}

static int cb_transfer(void *arg, struct store_rec *rec, size_t n)
{
    (void)arg;
    (void)n;
    if (get_u64(&rec[0]) == 0)
        return -1;     /* nothing left to move: abort */
    put_u64(&rec[0], get_u64(&rec[0]) - 1);
    put_u64(&rec[1], get_u64(&rec[1]) + 1);
    return 0;
}

static int cb_write_abort(void *arg, struct store_rec *rec, size_t n)
{
    (void)arg;
    (void)n;
    put_u64(&rec[0], 12345);
    return -1;
}

static int cb_big(void *arg, struct store_rec *rec, size_t n)
{
    (void)arg;
    (void)n;
    memset(rec[0].val, 'b', STORE_MAX_VALUE);
    rec[0].len = STORE_MAX_VALUE;
    rec[0].expires = 0;
    rec[0].action = STORE_WRITE;
    return 0;
}

static int cb_keep(void *arg, struct store_rec *rec, size_t n)
{
    (void)n;
    if (arg)
        (*(unsigned *)arg)++;
    (void)rec;
    return 0;
}

struct worker {
    struct store *st;
    int kind;       /* 0 count, 1 transfer, 2 abort, 3 keep, 4 big values */
    int id;
    int errors;
};

static void *work(void *p)
{
    struct worker *w = p;
    for (int i = 0; i < EACH; i++) {
        struct store_rec rec[2];
        char key[64];
        int rc = STORE_OK;
        memset(rec, 0, sizeof rec);
        switch (w->kind) {
        case 0:
            rec[0].key = "c|counter";
            rc = store_update(w->st, rec, 1, NOW, cb_incr, NULL);
            break;
        case 1:
            rec[0].key = "c|from";
            rec[1].key = "c|to";
            rc = store_update(w->st, rec, 2, NOW, cb_transfer, NULL);
            break;
        case 2:
            snprintf(key, sizeof key, "c|aborted-%d-%d", w->id, i);
            rec[0].key = key;
            rc = store_update(w->st, rec, 1, NOW, cb_write_abort, NULL);
            break;
        case 3:
            rec[0].key = "c|counter";
            rc = store_update(w->st, rec, 1, NOW, cb_keep, NULL);
            break;
        case 4:
            snprintf(key, sizeof key, "c|big-%d-%d", w->id, i);
            rec[0].key = key;
            rc = store_update(w->st, rec, 1, NOW, cb_big, NULL);
            break;
        }
        if (rc != STORE_OK)
            w->errors++;
    }
    return NULL;
}

/* run - THREADS workers of the given kinds, joined */
static void run(struct store *st, const int *kinds)
{
    pthread_t t[THREADS];
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){st, kinds[i], i, 0};
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].errors, 0);
    }
}

static void test_one_counter(void **state)
{
    struct fixture *f = *state;
    const int kinds[THREADS] = {0, 0, 0, 0, 0, 0, 0, 0};
    struct store_stats s;

    run(f->st, kinds);
    assert_int_equal(read_u64(f->st, "c|counter"), (uint64_t)THREADS * EACH);
    assert_int_equal(store_stats(f->st, &s), STORE_OK);
    assert_int_equal(s.updates_written, (uint64_t)THREADS * EACH);
    assert_int_equal(s.updates_read_only, 0);
    assert_true(s.group_commits <= s.updates_written);
}

/* cb_slow - cb_incr that takes 0.3 ms, as a decision on a cold disk might */
static int cb_slow(void *arg, struct store_rec *rec, size_t n)
{
    struct timespec ts = {0, 300000};
    nanosleep(&ts, NULL);
    return cb_incr(arg, rec, n);
}

static void *work_slow(void *p)
{
    struct worker *w = p;
    for (int i = 0; i < 50; i++) {
        struct store_rec rec[1];
        memset(rec, 0, sizeof rec);
        rec[0].key = "c|slow";
        if (store_update(w->st, rec, 1, NOW, cb_slow, NULL) != STORE_OK)
            w->errors++;
    }
    return NULL;
}

static void test_batches_form(void **state)
{
    struct fixture *f = *state;
    pthread_t t[THREADS];
    struct worker w[THREADS];
    struct store_stats s;

    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){f->st, 0, i, 0};
        assert_int_equal(pthread_create(&t[i], NULL, work_slow, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].errors, 0);
    }
    assert_int_equal(read_u64(f->st, "c|slow"), THREADS * 50);
    assert_int_equal(store_stats(f->st, &s), STORE_OK);
    print_message("%llu updates in %llu group commits\n",
                  (unsigned long long)s.updates_written, (unsigned long long)s.group_commits);
    /* while one batch runs the others queue: far fewer commits than updates */
    assert_true(s.group_commits * 2 < s.updates_written);
}

static void test_transfers(void **state)
{
    struct fixture *f = *state;
    const int kinds[THREADS] = {1, 1, 1, 1, 1, 1, 1, 1};
    struct store_rec rec[1];
    uint64_t total = (uint64_t)THREADS * EACH - 100;   /* 100 transfers abort */

    memset(rec, 0, sizeof rec);
    rec[0].key = "c|from";
    for (uint64_t i = 0; i < total; i++)
        assert_int_equal(store_update(f->st, rec, 1, NOW, cb_incr, NULL), STORE_OK);
    run(f->st, kinds);
    assert_int_equal(read_u64(f->st, "c|from"), 0);
    assert_int_equal(read_u64(f->st, "c|to"), total);
}

static void test_mixed(void **state)
{
    struct fixture *f = *state;
    const int kinds[THREADS] = {0, 2, 0, 3, 2, 0, 3, 0};
    struct store_stats s;
    char key[64];

    run(f->st, kinds);
    assert_int_equal(read_u64(f->st, "c|counter"), 4 * EACH);
    /* no aborting callback left a record behind */
    for (int id = 0; id < THREADS; id++)
        for (int i = 0; i < EACH; i += 37) {
            uint64_t v;
            size_t len = sizeof v;
            snprintf(key, sizeof key, "c|aborted-%d-%d", id, i);
            assert_int_equal(store_get(f->st, key, &v, &len, NULL, NOW), STORE_NOTFOUND);
        }
    assert_int_equal(store_stats(f->st, &s), STORE_OK);
    /* keep: always read-only (a snapshot), once it exists; abort: write path */
    assert_true(s.updates_read_only >= 2 * EACH - 2);
    assert_int_equal(s.updates_written, 4 * EACH + 2 * EACH + (2 * EACH - s.updates_read_only));
}

static void test_read_first(void **state)
{
    struct fixture *f = *state;
    struct store_rec rec[1];
    struct store_stats a, b;
    unsigned calls = 0;

    memset(rec, 0, sizeof rec);
    rec[0].key = "c|counter";
    assert_int_equal(store_update(f->st, rec, 1, NOW, cb_incr, &calls), STORE_OK);
    /* it writes: once on the snapshot, once in the write transaction */
    assert_int_equal(calls, 2);
    assert_int_equal(store_stats(f->st, &a), STORE_OK);
    calls = 0;
    memset(rec, 0, sizeof rec);
    rec[0].key = "c|counter";
    assert_int_equal(store_update(f->st, rec, 1, NOW, cb_keep, &calls), STORE_OK);
    assert_int_equal(calls, 1);
    /* the callback saw the committed value */
    assert_int_equal(get_u64(&rec[0]), 1);
    assert_int_equal(store_stats(f->st, &b), STORE_OK);
    assert_int_equal(b.group_commits, a.group_commits);
    assert_int_equal(b.updates_written, a.updates_written);
    assert_int_equal(b.updates_read_only, a.updates_read_only + 1);
    /* an absent record that stays absent: read-only as well */
    calls = 0;
    memset(rec, 0, sizeof rec);
    rec[0].key = "c|absent";
    assert_int_equal(store_update(f->st, rec, 1, NOW, cb_keep, &calls), STORE_OK);
    assert_int_equal(calls, 1);
    assert_int_equal(rec[0].found, 0);
}

static void test_map_grows_in_batches(void **state)
{
    struct fixture *f = *state;
    const int kinds[THREADS] = {4, 4, 4, 4, 4, 4, 4, 4};
    char err[512] = "", key[64];
    struct store_stats s;

    /* reopen with a small map: 8 x 400 values of 1 KB need ~7 MB */
    store_close(f->st);
    unit_rmtree(f->dir);
    unit_tmpdir(f->dir, sizeof f->dir);
    if ((size_t)snprintf(f->cs.path, sizeof f->cs.path, "%s/db", f->dir) >= sizeof f->cs.path)
        abort();
    f->cs.map_size = 1 * MB;
    f->st = store_open(&f->cs, err, sizeof err);
    assert_non_null(f->st);
    run(f->st, kinds);
    for (int id = 0; id < THREADS; id++)
        for (int i = 0; i < EACH; i++) {
            struct store_rec rec[1];
            unsigned calls = 0;
            memset(rec, 0, sizeof rec);
            snprintf(key, sizeof key, "c|big-%d-%d", id, i);
            rec[0].key = key;
            assert_int_equal(store_update(f->st, rec, 1, NOW, cb_keep, &calls), STORE_OK);
            assert_int_equal(rec[0].found, 1);
            assert_int_equal(rec[0].len, STORE_MAX_VALUE);
            assert_int_equal(rec[0].val[STORE_MAX_VALUE - 1], 'b');
        }
    assert_int_equal(store_stats(f->st, &s), STORE_OK);
    assert_true(s.bytes_max > 1 * MB);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_counter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batches_form, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transfers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mixed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_grows_in_batches, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
