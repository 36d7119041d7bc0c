/*
 * NAME
 *   store_lmdb - the embedded LMDB backend of store.h
 * DESCRIPTION
 *   One environment, one unnamed database.  A value on disk is an 8-byte
 *   big-endian expiry followed by the record.  Rules that LMDB imposes and
 *   this file keeps:
 *   - MDB_NOTLS, and no transaction outlives one call of this file;
 *   - the map is grown in place when a write hits MDB_MAP_FULL: the write
 *     is aborted, the map doubled while no transaction of this process is
 *     active (the resize lock), and the write retried; MDB_MAP_RESIZED
 *     (another process grew it) is answered with mdb_env_set_mapsize(0);
 *   - expired records are deleted in small transactions (at most
 *     SWEEP_BATCH deletions or SWEEP_SCAN records looked at), and after
 *     each the sweeper pauses at least as long as it held the writer lock
 *     (1 ms or more): LMDB's lock is not fair, and a sweeper that asks
 *     again at once keeps winning it while decisions wait (measured: max
 *     RCPT latency 135-205 ms during a 1M sweep without the pause);
 *   - stale reader slots are cleared in store_maintain();
 *   - store_update() reads first, in a read transaction (no writer lock);
 *     only an update that changes something queues for a group commit
 *     (store.h): the thread that finds no batch running takes the queue
 *     (at most GC_MAX), runs every callback in one write transaction,
 *     commits, and wakes the others with their results.  Without nested
 *     transactions: an aborting callback wrote nothing yet, and an LMDB
 *     error poisons the whole transaction, so the batch is replayed
 *     without the update that met it.
 * DURABILITY
 *   With sync_interval > 0 the environment is opened MDB_NOSYNC: a commit
 *   has reached the OS page cache when it returns, so a killed process
 *   (kill -9) loses nothing committed; the data file is flushed every
 *   sync_interval, so an OS crash loses at most that much.  With
 *   sync_interval = 0 every commit is flushed.
 */
#include "autoconf.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "store_impl.h"
#include "util.h"

#define SWEEP_BATCH 100     /* deletions per sweep transaction */
#define SWEEP_SCAN 1000     /* records looked at per sweep transaction */
#define MAX_GROW_TRIES 8
#define GC_MAX 64           /* decisions per group commit at most */
#define FAIL_QUIET 5        /* s without a failed write before "work again" */

struct store_lmdb {
    struct store base;
    MDB_env *env;
    MDB_dbi dbi;
    pthread_rwlock_t resize;   /* transactions read-lock, a resize write-locks */
    pthread_mutex_t sync_lock;
    /* group commit (store_update): a queue of waiting decisions, guarded
     * by gc_lock; one thread at a time leads a batch */
    pthread_mutex_t gc_lock;
    pthread_cond_t gc_cond;
    struct lm_req *gc_head, *gc_tail;
    int gc_leading;
    uint64_t batches, batched;  /* batches committed, decisions in them */
    uint64_t read_only;         /* updates answered by the read-first pass */
    pthread_mutex_t fail_lock; /* the write-failure log state below */
    int fail_rc[8];            /* kinds logged since writes last worked */
    int nfail_rc;
    unsigned long failures;    /* failed writes since then */
    time_t last_failure;
    unsigned sync_interval;
    time_t last_sync;
    char path[PATH_MAX];
};

#define LM(st) ((struct store_lmdb *)(void *)(st))

/* put_exp/get_exp - the expiry prefix of a stored value */
static void put_exp(unsigned char *p, time_t t)
{
    uint64_t v = (uint64_t)t;
    for (int i = 7; i >= 0; i--)
        *p++ = (unsigned char)(v >> (i * 8));
}

static time_t get_exp(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return (time_t)v;
}

/* live - does a stored value decode and is it unexpired at now? */
static int live(const MDB_val *v, time_t now)
{
    if (v->mv_size < 8)
        return 0;
    time_t e = get_exp(v->mv_data);
    return e == 0 || e > now;
}

/* lm_begin - begin a transaction under the resize read lock */
static int lm_begin(struct store_lmdb *lm, unsigned flags, MDB_txn **txn)
{
    for (;;) {
        int rc;
        pthread_rwlock_rdlock(&lm->resize);
        rc = mdb_txn_begin(lm->env, NULL, flags, txn);
        if (rc == 0)
            return 0;
        pthread_rwlock_unlock(&lm->resize);
        if (rc != MDB_MAP_RESIZED) {
            log_err("store: mdb_txn_begin: %s", mdb_strerror(rc));
            return rc;
        }
        /* another process grew the map: adopt its size */
        pthread_rwlock_wrlock(&lm->resize);
        rc = mdb_env_set_mapsize(lm->env, 0);
        pthread_rwlock_unlock(&lm->resize);
        if (rc != 0) {
            log_err("store: mdb_env_set_mapsize: %s", mdb_strerror(rc));
            return rc;
        }
    }
}

/* lm_end - commit (or abort) and drop the resize lock */
static int lm_end(struct store_lmdb *lm, MDB_txn *txn, int commit)
{
    int rc = 0;
    if (commit)
        rc = mdb_txn_commit(txn);
    else
        mdb_txn_abort(txn);
    pthread_rwlock_unlock(&lm->resize);
    return rc;
}

/* lm_grow - double the map unless another thread already did */
static int lm_grow(struct store_lmdb *lm, size_t seen)
{
    MDB_envinfo info;
    int rc = 0;

    pthread_rwlock_wrlock(&lm->resize);
    mdb_env_info(lm->env, &info);
    if (info.me_mapsize == seen) {
        rc = mdb_env_set_mapsize(lm->env, seen * 2);
        if (rc == 0)
            log_info("store: LMDB map grown to %zu MB", seen * 2 >> 20);
        else
            log_err("store: cannot grow the LMDB map: %s", mdb_strerror(rc));
    }
    pthread_rwlock_unlock(&lm->resize);
    return rc;
}

/* lm_mapsize - the current map size; only with the resize lock held */
static size_t lm_mapsize(struct store_lmdb *lm)
{
    MDB_envinfo info;
    mdb_env_info(lm->env, &info);
    return info.me_mapsize;
}

/* lm_sync_now - flush when every commit must be durable */
static void lm_sync_now(struct store_lmdb *lm)
{
    if (lm->sync_interval == 0)
        mdb_env_sync(lm->env, 1);
}

/* lm_write_failed - log a failed write once per kind (errno / LMDB code)
 * until writes work again: a full disk fails every decision, and one line
 * per message would bury the log (each decision still logs its answer) */
static void lm_write_failed(struct store_lmdb *lm, const char *what, int rc)
{
    int seen = 0;

    pthread_mutex_lock(&lm->fail_lock);
    lm->failures++;
    lm->last_failure = util_now();
    for (int i = 0; i < lm->nfail_rc; i++)
        seen |= lm->fail_rc[i] == rc;
    if (!seen && lm->nfail_rc < (int)(sizeof lm->fail_rc / sizeof lm->fail_rc[0]))
        lm->fail_rc[lm->nfail_rc++] = rc;
    pthread_mutex_unlock(&lm->fail_lock);
    if (!seen)
        log_err("store: %s: %s (logged once until writes work again)", what,
                mdb_strerror(rc));
}

/* lm_write_ok - after failures, say once that writes work again: when one
 * succeeds FAIL_QUIET s after the last failure (on a nearly full disk some
 * writes still fit, which is no recovery yet) */
static void lm_write_ok(struct store_lmdb *lm)
{
    unsigned long n = 0;

    pthread_mutex_lock(&lm->fail_lock);
    if (lm->failures > 0 && util_now() - lm->last_failure >= FAIL_QUIET) {
        n = lm->failures;
        lm->failures = 0;
        lm->nfail_rc = 0;
    }
    pthread_mutex_unlock(&lm->fail_lock);
    if (n > 0)
        log_info("store: writes work again after %lu failed", n);
}

typedef int (*lm_write_fn)(struct store_lmdb *, MDB_txn *, void *);

/* LM_REPLAY - fn's answer: abort, and the caller runs it again (neither an
 * LMDB nor an errno code, nor STORE_OK/STORE_ERROR) */
#define LM_REPLAY (-2)

/* lm_write - run fn in a write transaction; grow the map and retry when full.
 * fn returns 0 to commit, 1 to abort quietly, LM_REPLAY to abort and have
 * lm_write return LM_REPLAY, or an LMDB error. */
static int lm_write(struct store_lmdb *lm, const char *what, lm_write_fn fn, void *arg)
{
    for (int tries = 0; tries < MAX_GROW_TRIES; tries++) {
        MDB_txn *txn;
        size_t size;
        int rc = lm_begin(lm, 0, &txn);
        if (rc != 0)
            return STORE_ERROR;
        /* under the resize lock: mdb_env_info() reads the map, which a
         * resize in another thread unmaps */
        size = lm_mapsize(lm);
        rc = fn(lm, txn, arg);
        if (rc == 1 || rc == LM_REPLAY) {
            lm_end(lm, txn, 0);
            return rc == 1 ? STORE_OK : LM_REPLAY;
        }
        if (rc == 0)
            rc = lm_end(lm, txn, 1);
        else
            lm_end(lm, txn, 0);
        if (rc == 0) {
            lm_sync_now(lm);
            lm_write_ok(lm);
            return STORE_OK;
        }
        if (rc != MDB_MAP_FULL) {
            lm_write_failed(lm, what, rc);
            return STORE_ERROR;
        }
        if (lm_grow(lm, size) != 0)
            return STORE_ERROR;
    }
    log_err("store: %s: map still full after growing", what);
    return STORE_ERROR;
}

static void lm_close(struct store *st)
{
    struct store_lmdb *lm = LM(st);
    mdb_env_sync(lm->env, 1);
    mdb_env_close(lm->env);
    if (lm->batches > 0)
        log_debug("store: %llu decisions written in %llu group commits",
                  (unsigned long long)lm->batched, (unsigned long long)lm->batches);
    pthread_rwlock_destroy(&lm->resize);
    pthread_mutex_destroy(&lm->sync_lock);
    pthread_mutex_destroy(&lm->gc_lock);
    pthread_cond_destroy(&lm->gc_cond);
    pthread_mutex_destroy(&lm->fail_lock);
    free(lm);
}

static int lm_get(struct store *st, const char *key, void *val, size_t *vlen,
                  time_t *expires, time_t now)
{
    struct store_lmdb *lm = LM(st);
    MDB_txn *txn;
    MDB_val k = {strlen(key), (void *)key}, v;
    int rc, ret;

    if (lm_begin(lm, MDB_RDONLY, &txn) != 0)
        return STORE_ERROR;
    rc = mdb_get(txn, lm->dbi, &k, &v);
    if (rc == MDB_NOTFOUND || (rc == 0 && !live(&v, now))) {
        ret = STORE_NOTFOUND;
    } else if (rc != 0) {
        log_err("store: mdb_get: %s", mdb_strerror(rc));
        ret = STORE_ERROR;
    } else {
        size_t n = v.mv_size - 8;
        if (n > *vlen)
            n = *vlen;
        memcpy(val, (unsigned char *)v.mv_data + 8, n);
        *vlen = n;
        if (expires)
            *expires = get_exp(v.mv_data);
        ret = STORE_OK;
    }
    lm_end(lm, txn, 0);
    return ret;
}

struct lm_put_arg {
    const char *key;
    const void *val;
    size_t vlen;
    time_t expires;
};

/* lm_put_one - write one record inside a transaction */
static int lm_put_one(struct store_lmdb *lm, MDB_txn *txn, const char *key,
                      const void *val, size_t vlen, time_t expires)
{
    unsigned char buf[8 + STORE_MAX_VALUE];
    MDB_val k = {strlen(key), (void *)key}, v = {vlen + 8, buf};
    put_exp(buf, expires);
    memcpy(buf + 8, val, vlen);
    return mdb_put(txn, lm->dbi, &k, &v, 0);
}

static int lm_put_fn(struct store_lmdb *lm, MDB_txn *txn, void *arg)
{
    struct lm_put_arg *a = arg;
    return lm_put_one(lm, txn, a->key, a->val, a->vlen, a->expires);
}

static int lm_put(struct store *st, const char *key, const void *val, size_t vlen,
                  time_t expires)
{
    struct lm_put_arg a = {key, val, vlen, expires};
    return lm_write(LM(st), "put", lm_put_fn, &a);
}

static int lm_del_fn(struct store_lmdb *lm, MDB_txn *txn, void *arg)
{
    const char *key = arg;
    MDB_val k = {strlen(key), (void *)key};
    int rc = mdb_del(txn, lm->dbi, &k, NULL);
    return rc == MDB_NOTFOUND ? 1 : rc;
}

static int lm_del(struct store *st, const char *key)
{
    return lm_write(LM(st), "delete", lm_del_fn, (void *)key);
}

/* lm_load - fill rec[0..n) from txn (reset first); an LMDB error, or 0 */
static int lm_load(struct store_lmdb *lm, MDB_txn *txn, struct store_rec *rec, size_t n,
                   time_t now)
{
    for (size_t i = 0; i < n; i++) {
        struct store_rec *r = &rec[i];
        MDB_val k = {strlen(r->key), (void *)r->key}, v;
        int rc;
        r->action = STORE_KEEP;
        r->found = 0;
        r->len = 0;
        r->expires = 0;
        rc = mdb_get(txn, lm->dbi, &k, &v);
        if (rc != 0 && rc != MDB_NOTFOUND)
            return rc;
        if (rc == 0 && live(&v, now) && v.mv_size - 8 <= STORE_MAX_VALUE) {
            r->found = 1;
            r->len = v.mv_size - 8;
            r->expires = get_exp(v.mv_data);
            memcpy(r->val, (unsigned char *)v.mv_data + 8, r->len);
        }
    }
    return 0;
}

/* lm_apply - write what the callback decided; an LMDB error, or 0 */
static int lm_apply(struct store_lmdb *lm, MDB_txn *txn, struct store_rec *rec, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct store_rec *r = &rec[i];
        int rc;
        if (r->action == STORE_WRITE) {
            if (r->len > STORE_MAX_VALUE)
                log_panic("store_update: value of %zu bytes", r->len);
            rc = lm_put_one(lm, txn, r->key, r->val, r->len, r->expires);
        } else if (r->action == STORE_DELETE) {
            MDB_val k = {strlen(r->key), (void *)r->key};
            rc = mdb_del(txn, lm->dbi, &k, NULL);
            if (rc == MDB_NOTFOUND)
                rc = 0;
        } else {
            continue;
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* all_keep - did the callback leave every record as it was? */
static int all_keep(const struct store_rec *rec, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (rec[i].action != STORE_KEEP)
            return 0;
    return 1;
}

/* lm_read_first - run the callback on a read-only snapshot: 1 when it
 * changed nothing (the answer is final), 0 when it must run again in a
 * write transaction, -1 on an error (logged) */
static int lm_read_first(struct store_lmdb *lm, struct store_rec *rec, size_t n, time_t now,
                         store_update_fn fn, void *arg)
{
    MDB_txn *txn;
    int rc, ret;

    if (lm_begin(lm, MDB_RDONLY, &txn) != 0)
        return -1;
    rc = lm_load(lm, txn, rec, n, now);
    lm_end(lm, txn, 0);
    if (rc != 0) {
        log_err("store: update: %s", mdb_strerror(rc));
        return -1;
    }
    ret = fn(arg, rec, n) == 0 && all_keep(rec, n);
    return ret;
}

/* One decision waiting for (or in) a group commit. */
struct lm_req {
    struct store_rec *rec;
    size_t n;
    time_t now;
    store_update_fn fn;
    void *arg;
    int state;              /* REQ_* */
    int result;             /* STORE_OK or STORE_ERROR once done */
    struct lm_req *next;
};

enum { REQ_QUEUED, REQ_APPLIED, REQ_ABORTED, REQ_FAILED, REQ_DONE };

struct lm_batch_arg {
    struct lm_req *head;
};

/* lm_batch_fn - every request of a batch in one write transaction, in
 * queue order.  A callback that aborts wrote nothing and is simply left
 * out.  An LMDB error while applying one request poisons the whole
 * transaction: that request is marked failed and the caller replays the
 * batch without it (returns LM_REPLAY). */
static int lm_batch_fn(struct store_lmdb *lm, MDB_txn *txn, void *arg)
{
    struct lm_batch_arg *a = arg;
    int wrote = 0;

    for (struct lm_req *q = a->head; q != NULL; q = q->next) {
        int rc;
        if (q->state == REQ_FAILED)
            continue;
        rc = lm_load(lm, txn, q->rec, q->n, q->now);
        if (rc == 0) {
            if (q->fn(q->arg, q->rec, q->n) != 0) {
                q->state = REQ_ABORTED;
                continue;
            }
            rc = lm_apply(lm, txn, q->rec, q->n);
        }
        if (rc == MDB_MAP_FULL)
            return rc;            /* lm_write grows the map and calls again */
        if (rc != 0) {
            log_err("store: update: %s", mdb_strerror(rc));
            q->state = REQ_FAILED;
            return LM_REPLAY;
        }
        q->state = REQ_APPLIED;
        wrote = 1;
    }
    return wrote ? 0 : 1;
}

/* lm_run_batch - one leader's work: a write transaction for the batch,
 * replayed without a request that LMDB refused */
static void lm_run_batch(struct store_lmdb *lm, struct lm_req *head)
{
    struct lm_batch_arg a = {head};
    int rc;

    for (;;) {
        for (struct lm_req *q = head; q != NULL; q = q->next)
            if (q->state != REQ_FAILED)
                q->state = REQ_QUEUED;
        rc = lm_write(lm, "update", lm_batch_fn, &a);
        if (rc == LM_REPLAY)
            continue;       /* at most once per request: each replay fails one more */
        break;
    }
    for (struct lm_req *q = head; q != NULL; q = q->next)
        q->result = rc == STORE_OK && q->state != REQ_FAILED ? STORE_OK : STORE_ERROR;
}

static int lm_update(struct store *st, struct store_rec *rec, size_t n, time_t now,
                     store_update_fn fn, void *arg)
{
    struct store_lmdb *lm = LM(st);
    struct lm_req me = {rec, n, now, fn, arg, REQ_QUEUED, STORE_ERROR, NULL};
    int first = lm_read_first(lm, rec, n, now, fn, arg);

    if (first > 0)
        __atomic_fetch_add(&lm->read_only, 1, __ATOMIC_RELAXED);
    if (first != 0)
        return first > 0 ? STORE_OK : STORE_ERROR;
    /* group commit: queue up; whoever finds no leader leads the next batch */
    pthread_mutex_lock(&lm->gc_lock);
    if (lm->gc_tail)
        lm->gc_tail->next = &me;
    else
        lm->gc_head = &me;
    lm->gc_tail = &me;
    while (me.state != REQ_DONE) {
        struct lm_req *batch, *last;
        size_t k = 1;
        if (lm->gc_leading) {
            pthread_cond_wait(&lm->gc_cond, &lm->gc_lock);
            continue;
        }
        /* lead: take up to GC_MAX requests off the queue */
        lm->gc_leading = 1;
        batch = last = lm->gc_head;
        while (k < GC_MAX && last->next != NULL) {
            last = last->next;
            k++;
        }
        lm->gc_head = last->next;
        if (lm->gc_head == NULL)
            lm->gc_tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&lm->gc_lock);
        lm_run_batch(lm, batch);
        pthread_mutex_lock(&lm->gc_lock);
        lm->batches++;
        lm->batched += k;   /* also counts the aborted and the failed */
        for (struct lm_req *q = batch, *nx; q != NULL; q = nx) {
            nx = q->next;   /* q may return (and vanish) once marked done */
            q->next = NULL;
            q->state = REQ_DONE;
        }
        lm->gc_leading = 0;
        pthread_cond_broadcast(&lm->gc_cond);
    }
    pthread_mutex_unlock(&lm->gc_lock);
    return me.result;
}

static int lm_iterate(struct store *st, const char *prefix, time_t now,
                      store_iterate_fn fn, void *arg)
{
    struct store_lmdb *lm = LM(st);
    size_t plen = strlen(prefix);
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k = {plen, (void *)prefix}, v;
    int rc, ret = STORE_OK;

    if (lm_begin(lm, MDB_RDONLY, &txn) != 0)
        return STORE_ERROR;
    if ((rc = mdb_cursor_open(txn, lm->dbi, &cur)) != 0) {
        log_err("store: mdb_cursor_open: %s", mdb_strerror(rc));
        lm_end(lm, txn, 0);
        return STORE_ERROR;
    }
    rc = plen ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0) {
        if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
            break;
        if (live(&v, now) && fn(arg, k.mv_data, k.mv_size, (unsigned char *)v.mv_data + 8,
                                v.mv_size - 8, get_exp(v.mv_data)) != 0)
            break;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (rc != 0 && rc != MDB_NOTFOUND) {
        log_err("store: iterate: %s", mdb_strerror(rc));
        ret = STORE_ERROR;
    }
    mdb_cursor_close(cur);
    lm_end(lm, txn, 0);
    return ret;
}

/* An expired record to report once its batch has committed. */
struct lm_expired {
    size_t klen, vlen;
    time_t expired;
    char key[STORE_MAX_KEY];
    unsigned char val[STORE_MAX_VALUE];
};

struct lm_sweep_arg {
    struct lm_expired *report;  /* SWEEP_BATCH of them, or NULL: none wanted */
    size_t nreport;
    time_t now;
    char next[STORE_MAX_KEY];  /* where the next batch starts */
    size_t nextlen;
    int done;
    size_t removed;
    size_t max;
};

/* lm_note_expired - keep a copy of an expired record under the reported
 * prefix (the cursor's data is gone once it is deleted) */
static void lm_note_expired(struct store_lmdb *lm, struct lm_sweep_arg *a, const MDB_val *k,
                            const MDB_val *v)
{
    const char *prefix = lm->base.expired_prefix;
    size_t plen = strlen(prefix);
    struct lm_expired *e = &a->report[a->nreport];

    if (k->mv_size < plen || memcmp(k->mv_data, prefix, plen) != 0 || k->mv_size >= sizeof e->key
        || v->mv_size < 8 || v->mv_size - 8 > sizeof e->val)
        return;
    e->klen = k->mv_size;
    memcpy(e->key, k->mv_data, k->mv_size);
    e->key[e->klen] = '\0';
    e->vlen = v->mv_size - 8;
    memcpy(e->val, (const unsigned char *)v->mv_data + 8, e->vlen);
    e->expired = get_exp(v->mv_data);
    a->nreport++;
}

/* lm_sweep_fn - one small batch of the expiry sweep */
static int lm_sweep_fn(struct store_lmdb *lm, MDB_txn *txn, void *arg)
{
    struct lm_sweep_arg *a = arg;
    MDB_cursor *cur;
    MDB_val k = {a->nextlen, a->next}, v;
    size_t scanned = 0, deleted = 0;
    int rc;

    a->nreport = 0;     /* a retried batch reports afresh */
    if ((rc = mdb_cursor_open(txn, lm->dbi, &cur)) != 0)
        return rc;
    rc = a->nextlen ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)
                    : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0 && scanned < SWEEP_SCAN && deleted < SWEEP_BATCH
           && (a->max == 0 || a->removed + deleted < a->max)) {
        scanned++;
        if (!live(&v, a->now)) {
            if (a->report != NULL)
                lm_note_expired(lm, a, &k, &v);
            if ((rc = mdb_cursor_del(cur, 0)) != 0)
                break;
            deleted++;
            rc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT);
            if (rc == MDB_NOTFOUND || rc == EINVAL)
                rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
            continue;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (rc == MDB_NOTFOUND) {
        a->done = 1;
        rc = 0;
    } else if (rc == 0) {
        /* remember the first key not yet looked at */
        a->nextlen = k.mv_size < sizeof a->next ? k.mv_size : sizeof a->next;
        memcpy(a->next, k.mv_data, a->nextlen);
    }
    mdb_cursor_close(cur);
    if (rc == 0)
        a->removed += deleted;
    return rc;
}

static int lm_expire(struct store *st, time_t now, size_t max, size_t *removed)
{
    struct lm_sweep_arg a;
    memset(&a, 0, sizeof a);
    a.now = now;
    a.max = max;
    if (st->expired_fn != NULL && (a.report = calloc(SWEEP_BATCH, sizeof *a.report)) == NULL) {
        log_err("store: expire: out of memory");
        return STORE_ERROR;
    }
    while (!a.done && (max == 0 || a.removed < max)) {
        struct timespec t0, t1, pause = {0, 1000000};
        long held;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (lm_write(LM(st), "expire", lm_sweep_fn, &a) != STORE_OK) {
            *removed = a.removed;
            free(a.report);
            return STORE_ERROR;
        }
        /* committed: now the records are gone, tell who wants to know */
        for (size_t i = 0; i < a.nreport; i++)
            st->expired_fn(st->expired_arg, a.report[i].key, a.report[i].klen,
                           a.report[i].val, a.report[i].vlen, a.report[i].expired);
        a.nreport = 0;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        held = (t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec);
        if (held > pause.tv_nsec)
            pause.tv_nsec = held < 100000000L ? held : 100000000L;
        if (!a.done)
            nanosleep(&pause, NULL);
    }
    *removed = a.removed;
    free(a.report);
    return STORE_OK;
}

static int lm_stats(struct store *st, struct store_stats *out)
{
    struct store_lmdb *lm = LM(st);
    MDB_stat ms;
    MDB_envinfo info;
    MDB_txn *txn;

    if (lm_begin(lm, MDB_RDONLY, &txn) != 0)
        return STORE_ERROR;
    mdb_stat(txn, lm->dbi, &ms);
    mdb_env_info(lm->env, &info);
    lm_end(lm, txn, 0);
    out->records = ms.ms_entries;
    out->bytes_used = (uint64_t)(info.me_last_pgno + 1) * ms.ms_psize;
    out->bytes_max = info.me_mapsize;
    out->updates_read_only = __atomic_load_n(&lm->read_only, __ATOMIC_RELAXED);
    pthread_mutex_lock(&lm->gc_lock);
    out->group_commits = lm->batches;
    out->updates_written = lm->batched;
    pthread_mutex_unlock(&lm->gc_lock);
    return STORE_OK;
}

static void lm_maintain(struct store *st)
{
    struct store_lmdb *lm = LM(st);
    time_t now = util_now();
    int dead = 0;

    mdb_reader_check(lm->env, &dead);
    if (dead > 0)
        log_info("store: cleared %d stale LMDB reader slots", dead);
    pthread_mutex_lock(&lm->sync_lock);
    if (lm->sync_interval > 0 && now - lm->last_sync >= (time_t)lm->sync_interval) {
        int rc = mdb_env_sync(lm->env, 1);
        if (rc != 0)
            log_err("store: mdb_env_sync: %s", mdb_strerror(rc));
        lm->last_sync = now;
    }
    pthread_mutex_unlock(&lm->sync_lock);
}

struct lm_many_arg {
    const struct store_item *items;
    size_t n;
};

/* lm_put_many_fn - every item in the one transaction lm_write() runs */
static int lm_put_many_fn(struct store_lmdb *lm, MDB_txn *txn, void *arg)
{
    const struct lm_many_arg *a = arg;
    for (size_t i = 0; i < a->n; i++) {
        const struct store_item *it = &a->items[i];
        int rc = lm_put_one(lm, txn, it->key, it->val, it->vlen, it->expires);
        if (rc != 0)
            return rc;          /* aborted: nothing of the batch is written */
    }
    return 0;
}

/* lm_put_many - all items, one write transaction */
static int lm_put_many(struct store *st, const struct store_item *items, size_t n)
{
    struct lm_many_arg a = {items, n};
    return lm_write(LM(st), "put many", lm_put_many_fn, &a);
}

static const struct store_ops lmdb_ops = {
    "lmdb", lm_close, lm_get, lm_put, lm_del, lm_update, lm_iterate, lm_expire,
    lm_stats, lm_maintain, lm_put_many,
};

struct store *store_lmdb_open(const struct cfg_store *cfg, char *errbuf, size_t errlen)
{
    struct store_lmdb *lm = calloc(1, sizeof *lm);
    pthread_rwlockattr_t attr;
    unsigned flags = MDB_NOTLS;
    MDB_txn *txn;
    struct stat sb;
    char data[PATH_MAX + 16];
    size_t mapsize = cfg->map_size;
    int rc;

    if (lm == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    lm->base.ops = &lmdb_ops;
    lm->sync_interval = cfg->sync_interval;
    lm->last_sync = util_now();
    util_strlcpy(lm->path, cfg->path, sizeof lm->path);
    pthread_rwlockattr_init(&attr);
    /* a waiting resize must not starve behind a stream of readers */
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&lm->resize, &attr);
    pthread_rwlockattr_destroy(&attr);
    pthread_mutex_init(&lm->sync_lock, NULL);
    pthread_mutex_init(&lm->gc_lock, NULL);
    pthread_cond_init(&lm->gc_cond, NULL);
    pthread_mutex_init(&lm->fail_lock, NULL);

    if (mkdir(cfg->path, 0750) != 0 && errno != EEXIST) {
        snprintf(errbuf, errlen, "cannot create %s: %s", cfg->path, strerror(errno));
        goto fail;
    }
    /* never open with a map smaller than the file: that would truncate */
    snprintf(data, sizeof data, "%s/data.mdb", cfg->path);
    if (stat(data, &sb) == 0 && (uint64_t)sb.st_size > mapsize)
        mapsize = (size_t)sb.st_size;
    if (cfg->sync_interval > 0)
        flags |= MDB_NOSYNC;
    if ((rc = mdb_env_create(&lm->env)) != 0
        || (rc = mdb_env_set_maxreaders(lm->env, 512)) != 0
        || (rc = mdb_env_set_mapsize(lm->env, mapsize)) != 0
        || (rc = mdb_env_open(lm->env, cfg->path, flags, 0640)) != 0) {
        snprintf(errbuf, errlen, "cannot open LMDB environment %s: %s", cfg->path,
                 mdb_strerror(rc));
        if (lm->env)
            mdb_env_close(lm->env);
        goto fail;
    }
    if ((rc = mdb_txn_begin(lm->env, NULL, 0, &txn)) != 0
        || (rc = mdb_dbi_open(txn, NULL, 0, &lm->dbi)) != 0
        || (rc = mdb_txn_commit(txn)) != 0) {
        snprintf(errbuf, errlen, "cannot open LMDB database in %s: %s", cfg->path,
                 mdb_strerror(rc));
        mdb_env_close(lm->env);
        goto fail;
    }
    return &lm->base;
fail:
    pthread_rwlock_destroy(&lm->resize);
    pthread_mutex_destroy(&lm->sync_lock);
    pthread_mutex_destroy(&lm->gc_lock);
    pthread_cond_destroy(&lm->gc_cond);
    pthread_mutex_destroy(&lm->fail_lock);
    free(lm);
    return NULL;
}
