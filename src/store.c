/*
 * store.c - pick a backend and check arguments; see store.h
 */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "store_impl.h"
#include "util.h"

struct store *store_open(const struct cfg_store *cfg, char *errbuf, size_t errlen)
{
    switch (cfg->backend) {
    case BACKEND_LMDB:
        return store_lmdb_open(cfg, errbuf, errlen);
    case BACKEND_REDIS:
#ifdef HAVE_REDIS
        return store_redis_open(cfg, errbuf, errlen);
#else
        snprintf(errbuf, errlen, "built without Redis support");
        return NULL;
#endif
    }
    snprintf(errbuf, errlen, "unknown store backend");
    return NULL;
}

void store_close(struct store *st)
{
    if (st != NULL)
        st->ops->close(st);
}

/* store_key_ok - keys are short, non-empty text */
static int store_key_ok(const char *key)
{
    size_t n = key ? strlen(key) : 0;
    if (n == 0 || n >= STORE_MAX_KEY) {
        log_warn("store: refusing a key of %zu bytes", n);
        return 0;
    }
    return 1;
}

int store_get(struct store *st, const char *key, void *val, size_t *vlen,
              time_t *expires, time_t now)
{
    if (!store_key_ok(key))
        return STORE_ERROR;
    return st->ops->get(st, key, val, vlen, expires, now);
}

int store_put(struct store *st, const char *key, const void *val, size_t vlen,
              time_t expires)
{
    if (!store_key_ok(key) || vlen > STORE_MAX_VALUE)
        return STORE_ERROR;
    return st->ops->put(st, key, val, vlen, expires);
}

int store_put_many(struct store *st, const struct store_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!store_key_ok(items[i].key) || items[i].vlen > STORE_MAX_VALUE)
            return STORE_ERROR;
    if (n == 0)
        return STORE_OK;
    return st->ops->put_many(st, items, n);
}

int store_del(struct store *st, const char *key)
{
    if (!store_key_ok(key))
        return STORE_ERROR;
    return st->ops->del(st, key);
}

int store_update(struct store *st, struct store_rec *rec, size_t n, time_t now,
                 store_update_fn fn, void *arg)
{
    int rc;

    if (n == 0 || n > STORE_MAX_KEYS)
        log_panic("store_update: %zu keys", n);
    for (size_t i = 0; i < n; i++)
        if (!store_key_ok(rec[i].key))
            return STORE_ERROR;
    rc = st->ops->update(st, rec, n, now, fn, arg);
    for (size_t i = 0; i < n; i++)
        if (rec[i].compare_only && rec[i].action != STORE_KEEP)
            log_panic("store_update: %s is compare-only but was changed", rec[i].key);
    return rc;
}

int store_iterate(struct store *st, const char *prefix, time_t now,
                  store_iterate_fn fn, void *arg)
{
    return st->ops->iterate(st, prefix, now, fn, arg);
}

void store_on_expire(struct store *st, const char *prefix, store_expired_fn fn, void *arg)
{
    if (strlen(prefix) >= sizeof st->expired_prefix)
        log_panic("store_on_expire: prefix %s too long", prefix);
    util_strlcpy(st->expired_prefix, prefix, sizeof st->expired_prefix);
    st->expired_fn = fn;
    st->expired_arg = arg;
}

int store_expire(struct store *st, time_t now, size_t max, size_t *removed)
{
    *removed = 0;
    return st->ops->expire(st, now, max, removed);
}

int store_stats(struct store *st, struct store_stats *out)
{
    memset(out, 0, sizeof *out);
    return st->ops->stats(st, out);
}

void store_maintain(struct store *st)
{
    st->ops->maintain(st);
}

const char *store_backend_name(const struct store *st)
{
    return st->ops->name;
}
