/*
 * NAME
 *   store - greyrep's small key/value store with expiry
 * SYNOPSIS
 *   #include "store.h"
 * DESCRIPTION
 *   Every piece of state (triplets, clients, whitelist entries, counters) is
 *   a key -> (value, expiry) pair.  Keys are printable text (see record.h for
 *   their shapes); values are opaque, versioned bytes.  Two backends sit
 *   behind this one interface: LMDB (store_lmdb.c, the embedded default) and
 *   Redis (store_redis.c, for several MX hosts).
 *
 *   The only way to change records in a decision is store_update(): it reads
 *   up to STORE_MAX_KEYS records, hands them to a pure callback, and writes
 *   what the callback returns as one atomic step.  LMDB does that inside one
 *   write transaction; Redis does it with an optimistic compare-and-swap
 *   script and retries the callback when another host got there first, so
 *   concurrent deciders never lose an update.
 *
 *   An expiry of 0 means "never".  A record whose expiry has passed is
 *   absent for every reader, whether or not the sweeper has removed it yet.
 * ERRORS
 *   Functions return STORE_OK, STORE_NOTFOUND (get only) or STORE_ERROR.
 *   On STORE_ERROR one line has been logged already; callers answer with the
 *   configured on_error action and say nothing more about the store.
 * THREADS
 *   A struct store may be shared by all threads of a process.  No transaction
 *   or connection is held between calls.  Multiple processes (greyrep and
 *   greyrepctl) may open the same store at once.
 */
#ifndef GREYREP_STORE_H
#define GREYREP_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define STORE_OK 0
#define STORE_NOTFOUND 1
#define STORE_ERROR (-1)

#define STORE_MAX_KEYS 16 /* a decision: triplet, client, stamp, reputation */
#define STORE_MAX_KEY 512    /* keys are shorter: LMDB allows 511 bytes */
#define STORE_MAX_VALUE 1024 /* longest value in bytes */

struct store;
struct cfg_store;

/* One record as it travels through store_update(). */
struct store_rec {
    const char *key;          /* in: the key (NUL-terminated, < STORE_MAX_KEY) */
    int compare_only;         /* in: read only to see whether it changed (the
                               * callback keeps it; Redis takes no update lock
                               * for it, the compare-and-swap still checks it) */
    int found;                /* in: 1 if a live record exists */
    unsigned char val[STORE_MAX_VALUE];
    size_t len;               /* in: old length; out: new length */
    time_t expires;           /* in: old expiry; out: new expiry (0 = never) */
    enum { STORE_KEEP, STORE_WRITE, STORE_DELETE } action; /* out */
    int report_expiry;        /* out, with STORE_WRITE: the store_on_expire()
                               * hook wants this record when it expires (Redis
                               * reports only such records; LMDB reports every
                               * record under the hook's prefix) */
};

/*
 * store_update_fn - decide the new values from the old ones
 *   Called with every rec[i].found/val/len/expires filled and action set to
 *   STORE_KEEP.  Must be pure (no I/O, no clock): it may be called more than
 *   once for one store_update() when another writer raced it.  Return 0 to
 *   commit the actions, -1 to abort without writing anything.
 */
typedef int (*store_update_fn)(void *arg, struct store_rec *rec, size_t n);

/*
 * store_expired_fn - a record the sweep removed because its time was up.
 *   Called by store_expire() after the transaction that removed it has
 *   committed and outside any transaction, so it may use the store; each
 *   expired record is reported at most once (a crash between the removal
 *   and the call loses the report, never duplicates it).
 */
typedef void (*store_expired_fn)(void *arg, const char *key, size_t klen, const void *val,
                                 size_t vlen, time_t expired);

/* store_iterate_fn - one live record; return nonzero to stop early. */
typedef int (*store_iterate_fn)(void *arg, const char *key, size_t klen,
                                const void *val, size_t vlen, time_t expires);

struct store_stats {
    uint64_t records;     /* records present (may include expired ones) */
    uint64_t bytes_used;  /* backend's estimate of space in use */
    uint64_t bytes_max;   /* LMDB map size; 0 for Redis */
};

/* store_open - open the backend named in cfg; NULL with errbuf filled on failure */
struct store *store_open(const struct cfg_store *cfg, char *errbuf, size_t errlen);
void store_close(struct store *st);

/* store_get - copy a live record's value (at most *vlen bytes) */
int store_get(struct store *st, const char *key, void *val, size_t *vlen,
              time_t *expires, time_t now);
/* store_put - create or replace a record */
int store_put(struct store *st, const char *key, const void *val, size_t vlen,
              time_t expires);
/* One record for store_put_many(). */
struct store_item {
    const char *key;          /* NUL-terminated, < STORE_MAX_KEY */
    const void *val;
    size_t vlen;              /* <= STORE_MAX_VALUE */
    time_t expires;           /* 0 = never */
};
/* store_put_many - create or replace n records as one atomic step: every
 * one is written, or (STORE_ERROR) none.  LMDB: one write transaction;
 * Redis: one MULTI/EXEC.  For bulk admin writes (greyrepctl load), not for
 * decisions. */
int store_put_many(struct store *st, const struct store_item *items, size_t n);
/* store_del - remove a record; deleting an absent record is STORE_OK */
int store_del(struct store *st, const char *key);
/* store_update - atomic read-modify-write of n (<= STORE_MAX_KEYS) records */
int store_update(struct store *st, struct store_rec *rec, size_t n, time_t now,
                 store_update_fn fn, void *arg);
/* store_iterate - every live record whose key starts with prefix, in key order
 * for LMDB, in no particular order for Redis */
int store_iterate(struct store *st, const char *prefix, time_t now,
                  store_iterate_fn fn, void *arg);
/* store_expire - remove up to max (0 = all) expired records; count in *removed.
 * Works in small transactions so that deciders never wait long behind it.
 * Records under the store_on_expire() prefix are reported to its function. */
int store_expire(struct store *st, time_t now, size_t max, size_t *removed);
/* store_on_expire - report expired records whose key starts with prefix
 * (shorter than 32 bytes) to fn from store_expire(); call once, before the
 * store is shared between threads.  LMDB reports every such record its
 * sweep removes.  Redis removes records by itself, so it keeps an index of
 * the records written with report_expiry (a sorted set and a copy of each
 * value, under the key prefix + "\1x"/"\1xv"), and store_expire() pops
 * what has expired from it: across every host sharing the Redis server,
 * each record is reported once. */
void store_on_expire(struct store *st, const char *prefix, store_expired_fn fn, void *arg);
int store_stats(struct store *st, struct store_stats *out);
/* store_maintain - periodic housekeeping (flush to disk, stale readers,
 * reconnects); called about once a second by the daemon's maintenance thread */
void store_maintain(struct store *st);
/* store_backend_name - "lmdb" or "redis" */
const char *store_backend_name(const struct store *st);

#endif
