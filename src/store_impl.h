/*
 * store_impl.h - what a store backend provides (private to store*.c)
 *
 * store.c checks arguments, then calls through this table.  A backend
 * embeds struct store as its first member.
 */
#ifndef GREYREP_STORE_IMPL_H
#define GREYREP_STORE_IMPL_H

#include "store.h"

struct store_ops {
    const char *name;
    void (*close)(struct store *);
    int (*get)(struct store *, const char *key, void *val, size_t *vlen,
               time_t *expires, time_t now);
    int (*put)(struct store *, const char *key, const void *val, size_t vlen,
               time_t expires);
    int (*del)(struct store *, const char *key);
    int (*update)(struct store *, struct store_rec *rec, size_t n, time_t now,
                  store_update_fn fn, void *arg);
    int (*iterate)(struct store *, const char *prefix, time_t now,
                   store_iterate_fn fn, void *arg);
    int (*expire)(struct store *, time_t now, size_t max, size_t *removed);
    int (*stats)(struct store *, struct store_stats *);
    void (*maintain)(struct store *);
    int (*put_many)(struct store *, const struct store_item *items, size_t n);
};

struct store {
    const struct store_ops *ops;
    /* store_on_expire(): set before the store is shared, read-only after */
    char expired_prefix[32];
    store_expired_fn expired_fn;
    void *expired_arg;
};

struct store *store_lmdb_open(const struct cfg_store *cfg, char *errbuf, size_t errlen);
#ifdef HAVE_REDIS
struct store *store_redis_open(const struct cfg_store *cfg, char *errbuf, size_t errlen);
#endif

#endif
