/*
 * NAME
 *   store_redis - the Redis backend of store.h, for several MX hosts
 * SYNOPSIS
 *   #include "store_impl.h"
 *
 *   struct store *store_redis_open(const struct cfg_store *cfg,
 *                                  char *errbuf, size_t errlen);
 * DESCRIPTION
 *   Every record is one Redis string under cfg->redis_prefix + key, its
 *   expiry a Redis TTL set with PEXPIREAT, so Redis expires records by
 *   itself and store_expire() has nothing to do.
 *
 *   store_update() is optimistic: one Lua script reads all keys with their
 *   absolute expiry, the pure callback decides, and a second Lua script
 *   applies every write only if every key still holds the value and expiry
 *   that was read (absent = absent).  When another writer got there first
 *   the script changes nothing and returns the records as they are now;
 *   we re-run the callback on those, up to UPDATE_TRIES times.  Threads
 *   of one process take turns per key (striped locks), so only other
 *   processes can make the swap fail, and hot keys do not starve.  Both
 *   scripts are loaded with SCRIPT LOAD on each new connection and called
 *   with EVALSHA; a NOSCRIPT answer (SCRIPT FLUSH, a new server) reloads
 *   them.
 *
 *   Connections come from redis_pool.c.  A Redis that is down is noticed
 *   by the first call that fails (at most redis_timeout_ms for a hung
 *   server, at once for a refused connection); from then on calls fail at
 *   once with STORE_ERROR, and one call per back-off interval (100 ms
 *   doubling to 1 s), or store_maintain(), tries to reconnect, so service
 *   resumes within about a second of Redis returning.
 * DIAGNOSTICS
 *   One log line when Redis goes down and one when it is back; other
 *   server errors are logged at most once per 10 seconds, with a count
 *   of what was left out.  A wrong password or database number at
 *   open is an error in errbuf; an unreachable server at open is not
 *   (greyrep starts, answers on_error, and connects when Redis comes).
 * BUGS
 *   SCAN may report a key twice when Redis rehashes during store_iterate().
 *   On servers older than 7.0 (no PEXPIRETIME) an expiry not written by
 *   greyrep may, rarely, read as one second off and cause a retry.
 */
#include "autoconf.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "config.h"
#include "log.h"
#include "redis_pool.h"
#include "store.h"
#include "store_impl.h"

#define STRIPES 64              /* update locks, by hash of the key */
#define UPDATE_TRIES 256        /* CAS attempts before store_update gives up */
#define UPDATE_CLAIM 8          /* conflicts before a writer claims its turn */
#define SCAN_COUNT "1000"
#define FULLKEY_MAX (64 + STORE_MAX_KEY)

/* A claim key is the first key + "\1claim": our keys never hold a byte
 * below 0x20 (record.h escapes them), so it names no record. */
#define CLAIM_SUFFIX "\1claim"
#define CLAIM_SUFFIX_LEN 6
#define CLAIM_MS "1000"         /* a claim outlives a crashed claimant this long */
#define CLAIM_WAIT_US 200       /* a writer blocked by a claim looks again after */
#define CLAIM_WAITS 6000        /* ... at most this many times (1.2 s) */

/*
 * Expiry is read as absolute unix seconds, rounded up, so a record that we
 * wrote with PEXPIREAT T*1000 reads back as exactly T, in both scripts.
 */

#define LUA_EXPSEC                                                            \
    "local function expsec(k)\n"                                              \
    "  local ms = redis.pcall('PEXPIRETIME', k)\n"                            \
    "  if type(ms) ~= 'number' then\n"                                        \
    "    ms = redis.call('PTTL', k)\n"                                        \
    "    if ms >= 0 then\n"                                                   \
    "      local t = redis.call('TIME')\n"                                    \
    "      ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + ms\n" \
    "    end\n"                                                               \
    "  end\n"                                                                 \
    "  if ms < 0 then return 0 end\n"                                         \
    "  return math.floor((ms + 999) / 1000)\n"                                \
    "end\n"                                                                   \
    "local function snapshot()\n"                                             \
    "  local out = {}\n"                                                      \
    "  for i, k in ipairs(KEYS) do\n"                                         \
    "    local v = redis.call('GET', k)\n"                                    \
    "    out[2*i-1] = v\n"                                                    \
    "    if v then out[2*i] = expsec(k) else out[2*i] = 0 end\n"              \
    "  end\n"                                                                 \
    "  return out\n"                                                          \
    "end\n"

/* KEYS = the keys; returns value-or-nil, expiry (0 = none) per key. */
static const char lua_read[] =
    "if redis.replicate_commands then redis.replicate_commands() end\n"
    LUA_EXPSEC
    "return snapshot()\n";

/*
 * KEYS = the keys; ARGV has 7 per key: check (0 none, 1 must be absent,
 * 2 must hold value+expiry), old value, old expiry s, action (K, W, D),
 * new value, new expiry ms (0 = never), expiry index (N: index the record
 * to report its expiry, U: take it out of the index, -: not indexed);
 * then the index's sorted set and value hash, and the writer's claim id.
 * Returns 1 if applied; 2 if another writer holds a claim on the first key
 * (see update_locked): nothing is applied until it is done; otherwise what
 * the read script would return now, so that a retry needs no read.
 */
static const char lua_cas[] =
    "if redis.replicate_commands then redis.replicate_commands() end\n"
    LUA_EXPSEC
    "local ck = KEYS[1] .. '\\1claim'\n"
    "local claim = redis.call('GET', ck)\n"
    "if claim and claim ~= ARGV[#ARGV] then return 2 end\n"
    "local xz, xh = ARGV[#ARGV - 2], ARGV[#ARGV - 1]\n"
    "for i, k in ipairs(KEYS) do\n"
    "  local b = (i - 1) * 7\n"
    "  local chk = ARGV[b + 1]\n"
    "  if chk ~= '0' then\n"
    "    local v = redis.call('GET', k)\n"
    "    if chk == '1' then\n"
    "      if v then return snapshot() end\n"
    "    elseif (not v) or v ~= ARGV[b + 2]\n"
    "        or expsec(k) ~= tonumber(ARGV[b + 3]) then\n"
    "      return snapshot()\n"
    "    end\n"
    "  end\n"
    "end\n"
    "for i, k in ipairs(KEYS) do\n"
    "  local b = (i - 1) * 7\n"
    "  local a, x = ARGV[b + 4], ARGV[b + 7]\n"
    "  if a == 'W' then\n"
    "    redis.call('SET', k, ARGV[b + 5])\n"
    "    local ms = tonumber(ARGV[b + 6])\n"
    "    if ms > 0 then redis.call('PEXPIREAT', k, ms) end\n"
    "    if x == 'N' then\n"
    "      redis.call('ZADD', xz, ms, k)\n"
    "      redis.call('HSET', xh, k, ARGV[b + 5])\n"
    "    end\n"
    "  elseif a == 'D' then\n"
    "    redis.call('DEL', k)\n"
    "  end\n"
    "  if a ~= 'K' and x == 'U' then\n"
    "    redis.call('ZREM', xz, k)\n"
    "    redis.call('HDEL', xh, k)\n"
    "  end\n"
    "end\n"
    "if claim then redis.call('DEL', ck) end\n"
    "return 1\n";

/*
 * KEYS = the expiry index's sorted set and value hash; ARGV = now in ms,
 * the most to look at.  Takes the records whose indexed expiry has passed
 * out of the index and returns how many it looked at, then key, value,
 * expiry ms for each that Redis has really removed.  One still there with the indexed value is left for
 * the next sweep (Redis's clock is behind ours); one with another value
 * was rewritten by a greyrep that keeps no index, and is dropped from it.
 * Atomic, so of several hosts sweeping one server each record goes to one.
 */
static const char lua_pop_expired[] =
    "local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES',\n"
    "                       'LIMIT', 0, tonumber(ARGV[2]))\n"
    "local out = {#due / 2}\n"
    "for i = 1, #due, 2 do\n"
    "  local k = due[i]\n"
    "  local v = redis.call('HGET', KEYS[2], k)\n"
    "  local now = redis.call('GET', k)\n"
    "  if not (now and now == v) then\n"
    "    redis.call('ZREM', KEYS[1], k)\n"
    "    redis.call('HDEL', KEYS[2], k)\n"
    "    if v and not now then\n"
    "      out[#out + 1] = k\n"
    "      out[#out + 1] = v\n"
    "      out[#out + 1] = due[i + 1]\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return out\n";

enum { SCRIPT_READ, SCRIPT_CAS, SCRIPT_POP_EXPIRED, SCRIPT_COUNT };
static const char *const script_text[SCRIPT_COUNT] = { lua_read, lua_cas, lua_pop_expired };

#define EXPIRY_ZSET "\1x"      /* after the prefix: the expiry index ... */
#define EXPIRY_HASH "\1xv"     /* ... and the values it will report */
#define EXPIRY_POP "100"        /* records popped a call */

struct store_redis {
    struct store base;          /* first: see store_impl.h */
    struct redis_pool *pool;
    char prefix[64];            /* of every key, read-only after open */
    size_t prefix_len;
    /*
     * Threads of one process that update the same key take turns here, so
     * that only other hosts (or handles) can make a compare-and-swap fail:
     * eight threads racing optimistically on one hot counter would starve
     * some of them past UPDATE_TRIES.
     */
    pthread_mutex_t stripe[STRIPES];
};

/* full_key - prefix + key into buf; its length, or -1 if too long */
static int full_key(const struct store_redis *rs, const char *key, char *buf,
                    size_t size)
{
    int n = snprintf(buf, size, "%s%s", rs->prefix, key);

    return n < 0 || (size_t)n >= size ? -1 : n;
}

/*
 * read_keys - run the read script over nkeys full keys on *cp; the reply
 * (2 elements per key: value or nil, expiry s), or NULL (logged).
 */
static redisReply *read_keys(struct store_redis *rs, struct redis_conn **cp,
                             const char *const *keys, const size_t *klen,
                             size_t nkeys)
{
    const char **argv;
    size_t *argvlen;
    char nbuf[24];
    redisReply *r;

    if ((argv = calloc(nkeys + 3, sizeof *argv)) == NULL ||
        (argvlen = calloc(nkeys + 3, sizeof *argvlen)) == NULL) {
        free(argv);
        log_err("redis %s: out of memory", redis_pool_addr(rs->pool));
        return NULL;
    }
    snprintf(nbuf, sizeof nbuf, "%zu", nkeys);
    argv[0] = "EVALSHA";
    argvlen[0] = 7;
    argvlen[1] = 40;
    argv[2] = nbuf;
    argvlen[2] = strlen(nbuf);
    for (size_t i = 0; i < nkeys; i++) {
        argv[3 + i] = keys[i];
        argvlen[3 + i] = klen[i];
    }
    r = redis_pool_exec(rs->pool, cp, (int)(nkeys + 3), argv, argvlen, 1, SCRIPT_READ);
    free(argv);
    free(argvlen);
    if (r && (r->type != REDIS_REPLY_ARRAY || r->elements != 2 * nkeys)) {
        redis_pool_warn(rs->pool, "read script: unexpected reply");
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

/* reply_value - element i of a read reply: 1 present (*v, *len, *exp), 0 absent */
static int reply_value(const redisReply *r, size_t i, const char **v,
                       size_t *len, time_t *exp)
{
    const redisReply *val = r->element[2 * i], *e = r->element[2 * i + 1];

    if (val->type != REDIS_REPLY_STRING)
        return 0;
    *v = val->str;
    *len = val->len;
    *exp = e->type == REDIS_REPLY_INTEGER ? (time_t)e->integer : 0;
    return 1;
}

/* redis_close - close every connection; no call may be in progress */
static void redis_close(struct store *st)
{
    struct store_redis *rs = (struct store_redis *)st;

    redis_pool_free(rs->pool);
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_destroy(&rs->stripe[i]);
    free(rs);
}

/* redis_get - one record, absent if Redis or the caller's now expired it */
static int redis_get(struct store *st, const char *key, void *val, size_t *vlen,
                     time_t *expires, time_t now)
{
    struct store_redis *rs = (struct store_redis *)st;
    struct redis_conn *c;
    char fk[FULLKEY_MAX];
    const char *keys[1] = { fk }, *v;
    size_t klen[1], len;
    time_t exp;
    redisReply *r;
    int kl, ret = STORE_NOTFOUND;

    if ((kl = full_key(rs, key, fk, sizeof fk)) < 0)
        return STORE_ERROR;
    klen[0] = (size_t)kl;
    if ((c = redis_pool_get(rs->pool)) == NULL)
        return STORE_ERROR;
    r = read_keys(rs, &c, keys, klen, 1);
    redis_pool_put(rs->pool, c);
    if (r == NULL)
        return STORE_ERROR;
    if (reply_value(r, 0, &v, &len, &exp) && (exp == 0 || exp > now)) {
        if (len > *vlen)
            len = *vlen;
        memcpy(val, v, len);
        *vlen = len;
        if (expires)
            *expires = exp;
        ret = STORE_OK;
    }
    freeReplyObject(r);
    return ret;
}

/*
 * cas_run - the CAS script for n records on *cp: 1 applied, 0 conflict
 * (*fresh is then what the records hold now, as from read_keys), -1 error.
 * old (a read reply) holds what the writes depend on; NULL means write
 * unconditionally.
 */
static int cas_run(struct store_redis *rs, struct redis_conn **cp,
                   struct store_rec *rec, size_t n, const redisReply *old,
                   time_t now, int retry, const char *claim, redisReply **fresh)
{
    char fk[STORE_MAX_KEYS][FULLKEY_MAX], oexp[STORE_MAX_KEYS][24];
    char nexp[STORE_MAX_KEYS][24], nbuf[8], xz[FULLKEY_MAX], xh[FULLKEY_MAX];
    const char *argv[6 + 7 * STORE_MAX_KEYS];
    size_t argvlen[6 + 7 * STORE_MAX_KEYS];
    const char *xprefix = rs->base.expired_prefix;
    size_t xplen = strlen(xprefix);
    redisReply *r;
    int argc = 3, kl;

    snprintf(nbuf, sizeof nbuf, "%zu", n);
    argv[0] = "EVALSHA";
    argvlen[0] = 7;
    argvlen[1] = 40;
    argv[2] = nbuf;
    argvlen[2] = strlen(nbuf);
    for (size_t i = 0; i < n; i++) {
        if ((kl = full_key(rs, rec[i].key, fk[i], sizeof fk[i])) < 0)
            return -1;
        argv[argc] = fk[i];
        argvlen[argc++] = (size_t)kl;
    }
    for (size_t i = 0; i < n; i++) {
        const char *v = "";
        size_t len = 0;
        time_t exp = 0;
        const char *check = old == NULL ? "0"
                            : reply_value(old, i, &v, &len, &exp) ? "2" : "1";
        const char *action = "K";

        snprintf(oexp[i], sizeof oexp[i], "%lld", (long long)exp);
        snprintf(nexp[i], sizeof nexp[i], "%lld", (long long)rec[i].expires * 1000);
        if (rec[i].action == STORE_DELETE ||
            (rec[i].action == STORE_WRITE && rec[i].expires != 0 &&
             rec[i].expires <= now))
            action = "D";
        else if (rec[i].action == STORE_WRITE)
            action = "W";
        argv[argc] = check;
        argvlen[argc++] = 1;
        argv[argc] = v;
        argvlen[argc++] = len;
        argv[argc] = oexp[i];
        argvlen[argc++] = strlen(oexp[i]);
        argv[argc] = action;
        argvlen[argc++] = 1;
        argv[argc] = (const char *)rec[i].val;
        argvlen[argc++] = *action == 'W' ? rec[i].len : 0;
        argv[argc] = nexp[i];
        argvlen[argc++] = strlen(nexp[i]);
        /* a record under the hook's prefix is indexed while it asks to be
         * reported, and taken out of the index by any other change */
        argv[argc] = xplen == 0 || strncmp(rec[i].key, xprefix, xplen) != 0 ? "-"
                     : *action == 'W' && rec[i].report_expiry && rec[i].expires != 0 ? "N"
                                                                                      : "U";
        argvlen[argc++] = 1;
    }
    snprintf(xz, sizeof xz, "%s" EXPIRY_ZSET, rs->prefix);
    snprintf(xh, sizeof xh, "%s" EXPIRY_HASH, rs->prefix);
    argv[argc] = xz;
    argvlen[argc++] = strlen(xz);
    argv[argc] = xh;
    argvlen[argc++] = strlen(xh);
    argv[argc] = claim;
    argvlen[argc++] = strlen(claim);
    if ((r = redis_pool_exec(rs->pool, cp, argc, argv, argvlen, retry, SCRIPT_CAS)) == NULL)
        return -1;
    if (r->type == REDIS_REPLY_INTEGER && (r->integer == 1 || r->integer == 2)) {
        int ret = (int)r->integer;
        freeReplyObject(r);
        return ret;
    }
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 * n && fresh) {
        *fresh = r;
        return 0;
    }
    redis_pool_warn(rs->pool, "CAS script: unexpected reply");
    freeReplyObject(r);
    return -1;
}

/* redis_put - create or replace one record */
static int redis_put(struct store *st, const char *key, const void *val,
                     size_t vlen, time_t expires)
{
    struct store_redis *rs = (struct store_redis *)st;
    struct redis_conn *c;
    struct store_rec rec;
    int ret;

    if (vlen > sizeof rec.val)
        return STORE_ERROR;
    rec.key = key;
    memcpy(rec.val, val, vlen);
    rec.len = vlen;
    rec.expires = expires;
    rec.action = STORE_WRITE;
    if ((c = redis_pool_get(rs->pool)) == NULL)
        return STORE_ERROR;
    ret = cas_run(rs, &c, &rec, 1, NULL, time(NULL), 1, "", NULL);
    redis_pool_put(rs->pool, c);
    return ret == 1 ? STORE_OK : STORE_ERROR;
}

/* redis_del - remove one record */
static int redis_del(struct store *st, const char *key)
{
    struct store_redis *rs = (struct store_redis *)st;
    struct redis_conn *c;
    char fk[FULLKEY_MAX];
    const char *argv[2] = { "DEL", fk };
    size_t argvlen[2] = { 3, 0 };
    redisReply *r;
    int kl;

    if ((kl = full_key(rs, key, fk, sizeof fk)) < 0)
        return STORE_ERROR;
    argvlen[1] = (size_t)kl;
    if ((c = redis_pool_get(rs->pool)) == NULL)
        return STORE_ERROR;
    r = redis_pool_exec(rs->pool, &c, 2, argv, argvlen, 1, -1);
    if (r != NULL && rs->base.expired_prefix[0] != '\0'
        && strncmp(key, rs->base.expired_prefix, strlen(rs->base.expired_prefix)) == 0) {
        /* a deleted record did not expire: out of the expiry index too */
        char xz[FULLKEY_MAX], xh[FULLKEY_MAX];
        const char *zargv[3] = { "ZREM", xz, fk }, *hargv[3] = { "HDEL", xh, fk };
        size_t zlen[3] = { 4, 0, (size_t)kl }, hlen[3] = { 4, 0, (size_t)kl };
        redisReply *x;

        zlen[1] = (size_t)snprintf(xz, sizeof xz, "%s" EXPIRY_ZSET, rs->prefix);
        hlen[1] = (size_t)snprintf(xh, sizeof xh, "%s" EXPIRY_HASH, rs->prefix);
        if ((x = redis_pool_exec(rs->pool, &c, 3, zargv, zlen, 1, -1)) != NULL)
            freeReplyObject(x);
        if ((x = redis_pool_exec(rs->pool, &c, 3, hargv, hlen, 1, -1)) != NULL)
            freeReplyObject(x);
    }
    redis_pool_put(rs->pool, c);
    if (r == NULL)
        return STORE_ERROR;
    freeReplyObject(r);
    return STORE_OK;
}

/* multi_cmd - one command inside MULTI on *cp: queued? (never resent) */
static int multi_cmd(struct store_redis *rs, struct redis_conn **cp, int argc,
                     const char **argv, const size_t *argvlen)
{
    redisReply *r;
    int ok;

    if (*cp == NULL)
        return 0;
    if ((r = redis_pool_exec(rs->pool, cp, argc, argv, argvlen, 0, -1)) == NULL)
        return 0;
    ok = r->type == REDIS_REPLY_STATUS;     /* "QUEUED" */
    freeReplyObject(r);
    return ok;
}

/* redis_put_many - SET (and PEXPIREAT) every item inside one MULTI/EXEC:
 * Redis applies all of them at EXEC or, if we never get there, none */
static int redis_put_many(struct store *st, const struct store_item *items, size_t n)
{
    struct store_redis *rs = (struct store_redis *)st;
    struct redis_conn *c;
    char fk[FULLKEY_MAX], ms[32];
    const char *one[1] = { "MULTI" };
    size_t onelen[1] = { 5 };
    redisReply *r;
    int ok = 1;

    if ((c = redis_pool_get(rs->pool)) == NULL)
        return STORE_ERROR;
    if ((r = redis_pool_exec(rs->pool, &c, 1, one, onelen, 1, -1)) == NULL) {
        redis_pool_put(rs->pool, c);
        return STORE_ERROR;
    }
    freeReplyObject(r);
    for (size_t i = 0; ok && i < n; i++) {
        int kl = full_key(rs, items[i].key, fk, sizeof fk);
        const char *set[3] = { "SET", fk, items[i].val };
        size_t setlen[3] = { 3, (size_t)kl, items[i].vlen };
        ok = kl >= 0 && multi_cmd(rs, &c, 3, set, setlen);
        if (ok && items[i].expires > 0) {
            int ml = snprintf(ms, sizeof ms, "%lld", (long long)items[i].expires * 1000);
            const char *exp[3] = { "PEXPIREAT", fk, ms };
            size_t explen[3] = { 9, (size_t)kl, (size_t)ml };
            ok = multi_cmd(rs, &c, 3, exp, explen);
        }
    }
    one[0] = ok ? "EXEC" : "DISCARD";
    onelen[0] = ok ? 4 : 7;
    r = c != NULL ? redis_pool_exec(rs->pool, &c, 1, one, onelen, 0, -1) : NULL;
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements == 0)
        ok = 0;                 /* aborted or discarded: nothing was applied */
    if (r != NULL)
        freeReplyObject(r);
    redis_pool_put(rs->pool, c);
    if (!ok) {
        redis_pool_warn(rs->pool, "store: a batch of %zu records was not written", n);
        return STORE_ERROR;
    }
    return STORE_OK;
}

/* claim_cmd - SET the claim of key (NX, short-lived) or DEL it; reply ok? */
static int claim_cmd(struct store_redis *rs, struct redis_conn **cp, const char *key,
                     size_t klen, const char *claim)
{
    char ck[FULLKEY_MAX + CLAIM_SUFFIX_LEN];
    const char *argv[6];
    size_t lens[6];
    redisReply *r;
    int argc, ok;

    if (*cp == NULL || klen + CLAIM_SUFFIX_LEN > sizeof ck)
        return 0;
    memcpy(ck, key, klen);
    memcpy(ck + klen, CLAIM_SUFFIX, CLAIM_SUFFIX_LEN);
    argv[1] = ck;
    lens[1] = klen + CLAIM_SUFFIX_LEN;
    if (claim != NULL) {
        argv[0] = "SET", lens[0] = 3;
        argv[2] = claim, lens[2] = strlen(claim);
        argv[3] = "NX", lens[3] = 2;
        argv[4] = "PX", lens[4] = 2;
        argv[5] = CLAIM_MS, lens[5] = strlen(CLAIM_MS);
        argc = 6;
    } else {
        argv[0] = "DEL", lens[0] = 3;
        argc = 2;
    }
    if ((r = redis_pool_exec(rs->pool, cp, argc, argv, lens, 0, -1)) == NULL)
        return 0;
    ok = r->type == REDIS_REPLY_STATUS;    /* "OK"; nil when someone holds it */
    freeReplyObject(r);
    return ok;
}

/* claim_take / claim_drop - the turn of a writer that keeps losing */
static int claim_take(struct store_redis *rs, struct redis_conn **cp, const char *key,
                      size_t klen, const char *claim)
{
    return claim_cmd(rs, cp, key, klen, claim);
}

static void claim_drop(struct store_redis *rs, struct redis_conn **cp, const char *key,
                       size_t klen)
{
    claim_cmd(rs, cp, key, klen, NULL);
}

/*
 * update_locked - read n records, run fn, compare-and-swap the result;
 * re-run fn when another writer changed any of the records meanwhile.
 */
static int update_locked(struct store_redis *rs, struct store_rec *rec,
                         size_t n, time_t now, store_update_fn fn, void *arg,
                         const char *const *keys, const size_t *klen)
{
    /*
     * A conflict hands back the records as they are now, so a retry goes
     * straight to the callback and costs one round trip.  Every round has
     * a winner, but not a fair one: a writer on a busy host can lose
     * round after round to a quicker host.  After UPDATE_CLAIM lost rounds
     * it claims the key's next turn (a short-lived claim key that the CAS
     * script honours), which bounds its wait.
     */
    redisReply *old = NULL;
    struct redis_conn *c;
    char claim[64];
    int claimed = 0, blocked = 0;
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(claim, sizeof claim, "%lx.%lx.%lx", (unsigned long)(uintptr_t)&claim,
             (unsigned long)ts.tv_sec, (unsigned long)ts.tv_nsec);
    for (unsigned attempt = 0; attempt < UPDATE_TRIES; attempt++) {
        redisReply *fresh = NULL;
        int writes = 0, ret;

        c = redis_pool_get(rs->pool);
        if (c == NULL) {
            if (old)
                freeReplyObject(old);
            return STORE_ERROR;
        }
        if (old == NULL && (old = read_keys(rs, &c, keys, klen, n)) == NULL) {
            redis_pool_put(rs->pool, c);
            return STORE_ERROR;
        }
        for (size_t i = 0; i < n; i++) {
            const char *v;
            size_t len;
            time_t exp;

            rec[i].found = 0;
            rec[i].len = 0;
            rec[i].expires = 0;
            rec[i].action = STORE_KEEP;
            if (!reply_value(old, i, &v, &len, &exp) || (exp != 0 && exp <= now))
                continue;
            if (len > sizeof rec[i].val) {
                redis_pool_warn(rs->pool, "%s: value of %zu bytes is too long, treated as absent",
                             rec[i].key, len);
                continue;
            }
            rec[i].found = 1;
            memcpy(rec[i].val, v, len);
            rec[i].len = len;
            rec[i].expires = exp;
        }
        if (fn(arg, rec, n) != 0) {
            freeReplyObject(old);
            if (claimed)
                claim_drop(rs, &c, keys[0], klen[0]);
            redis_pool_put(rs->pool, c);
            return STORE_OK;
        }
        for (size_t i = 0; i < n; i++) {
            if (rec[i].action == STORE_WRITE && rec[i].len > sizeof rec[i].val)
                log_panic("store_update: %s: callback wrote %zu bytes",
                          rec[i].key, rec[i].len);
            writes |= rec[i].action != STORE_KEEP;
        }
        /* Nothing to write: what was read was one consistent snapshot. */
        ret = writes ? cas_run(rs, &c, rec, n, old, now, 0, claimed ? claim : "", &fresh) : 1;
        if (ret == 2) {
            /* another writer's claimed turn: wait for it, bounded */
            struct timespec pause = {0, CLAIM_WAIT_US * 1000L};
            redis_pool_put(rs->pool, c);
            if (++blocked > CLAIM_WAITS)
                break;
            nanosleep(&pause, NULL);
            attempt--;
            continue;
        }
        freeReplyObject(old);
        old = fresh;
        if (ret == 1 && writes)
            claimed = 0;        /* the script released it */
        /* Losing round after round means others keep winning this key
         * (optimistic writers are not fair): claim the next turn, which
         * the script then keeps for us against every other writer. */
        if (ret == 0 && attempt + 1 >= UPDATE_CLAIM && !claimed)
            claimed = claim_take(rs, &c, keys[0], klen[0], claim);
        if (ret != 0 && claimed) {
            claim_drop(rs, &c, keys[0], klen[0]);
            claimed = 0;
        }
        redis_pool_put(rs->pool, c);
        if (ret < 0)
            return STORE_ERROR;
        if (ret == 1)
            return STORE_OK;
    }
    if (claimed && (c = redis_pool_get(rs->pool)) != NULL) {
        claim_drop(rs, &c, keys[0], klen[0]);
        redis_pool_put(rs->pool, c);
    }
    if (old)
        freeReplyObject(old);
    log_warn("redis %s: update of %s: still conflicting after %d tries",
             redis_pool_addr(rs->pool), rec[0].key, UPDATE_TRIES);
    return STORE_ERROR;
}

/* stripe_of - the update lock of a full key (FNV-1a over every byte) */
static unsigned stripe_of(const char *key, size_t len)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)key[i]) * 16777619u;
    return h % STRIPES;
}

/* stripes_lock - lock the distinct stripes of the n keys that may be
 * written, in ascending order; how many.  A compare-only record (the admin
 * stamp every decision reads) takes none: otherwise every decision of the
 * process would queue on its one stripe. */
static size_t stripes_lock(struct store_redis *rs, const struct store_rec *rec,
                           const char *const *keys, const size_t *klen, size_t n,
                           unsigned *held)
{
    size_t nheld = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned s;
        size_t j, k;

        if (rec[i].compare_only)
            continue;
        s = stripe_of(keys[i], klen[i]);

        for (k = 0; k < nheld && held[k] != s; k++)
            ;
        if (k < nheld)
            continue;
        for (j = nheld; j > 0 && held[j - 1] > s; j--)
            held[j] = held[j - 1];
        held[j] = s;
        nheld++;
    }
    for (size_t k = 0; k < nheld; k++)
        pthread_mutex_lock(&rs->stripe[held[k]]);
    return nheld;
}

/* stripes_unlock - undo stripes_lock */
static void stripes_unlock(struct store_redis *rs, const unsigned *held,
                           size_t nheld)
{
    while (nheld > 0)
        pthread_mutex_unlock(&rs->stripe[held[--nheld]]);
}

/* redis_update - store_update with the keys' update locks held */
static int redis_update(struct store *st, struct store_rec *rec, size_t n,
                        time_t now, store_update_fn fn, void *arg)
{
    struct store_redis *rs = (struct store_redis *)st;
    char fk[STORE_MAX_KEYS][FULLKEY_MAX];
    const char *keys[STORE_MAX_KEYS];
    size_t klen[STORE_MAX_KEYS], nheld;
    unsigned held[STORE_MAX_KEYS];
    int kl, ret;

    if (n == 0 || n > STORE_MAX_KEYS)
        return STORE_ERROR;
    for (size_t i = 0; i < n; i++) {
        if ((kl = full_key(rs, rec[i].key, fk[i], sizeof fk[i])) < 0)
            return STORE_ERROR;
        keys[i] = fk[i];
        klen[i] = (size_t)kl;
    }
    nheld = stripes_lock(rs, rec, keys, klen, n, held);
    ret = update_locked(rs, rec, n, now, fn, arg, keys, klen);
    stripes_unlock(rs, held, nheld);
    return ret;
}

/* glob_escape - copy s into buf with Redis glob characters escaped */
static int glob_escape(const char *s, char *buf, size_t size, size_t *at)
{
    for (; *s; s++) {
        if (*at + 3 > size)
            return -1;
        if (strchr("*?[]\\", *s))
            buf[(*at)++] = '\\';
        buf[(*at)++] = *s;
    }
    buf[*at] = 0;
    return 0;
}

/*
 * redis_iterate - SCAN for prefix*, then read each batch with the read
 * script.  No connection is held while fn runs, so fn may call the store.
 */
static int redis_iterate(struct store *st, const char *prefix, time_t now,
                         store_iterate_fn fn, void *arg)
{
    struct store_redis *rs = (struct store_redis *)st;
    char pattern[2 * FULLKEY_MAX + 2], cursor[32] = "0";
    size_t at = 0;
    int ret = STORE_OK, stop = 0;

    if (glob_escape(rs->prefix, pattern, sizeof pattern, &at) < 0 ||
        glob_escape(prefix, pattern, sizeof pattern, &at) < 0)
        return STORE_ERROR;
    pattern[at++] = '*';
    pattern[at] = 0;

    do {
        const char *argv[6] = { "SCAN", cursor, "MATCH", pattern, "COUNT", SCAN_COUNT };
        size_t argvlen[6] = { 4, strlen(cursor), 5, at, 5, strlen(SCAN_COUNT) };
        struct redis_conn *c = redis_pool_get(rs->pool);
        redisReply *scan, *vals = NULL, *keys;
        const char **kp = NULL;
        size_t *kl = NULL;

        if (c == NULL)
            return STORE_ERROR;
        scan = redis_pool_exec(rs->pool, &c, 6, argv, argvlen, 1, -1);
        if (scan == NULL) {
            redis_pool_put(rs->pool, c);
            return STORE_ERROR;
        }
        if (scan->type != REDIS_REPLY_ARRAY || scan->elements != 2 ||
            scan->element[0]->type != REDIS_REPLY_STRING ||
            scan->element[0]->len >= sizeof cursor ||
            scan->element[1]->type != REDIS_REPLY_ARRAY) {
            redis_pool_warn(rs->pool, "SCAN: unexpected reply");
            freeReplyObject(scan);
            redis_pool_put(rs->pool, c);
            return STORE_ERROR;
        }
        memcpy(cursor, scan->element[0]->str, scan->element[0]->len + 1);
        keys = scan->element[1];
        if (keys->elements > 0) {
            kp = calloc(keys->elements, sizeof *kp);
            kl = calloc(keys->elements, sizeof *kl);
            if (kp == NULL || kl == NULL) {
                log_err("redis %s: out of memory", redis_pool_addr(rs->pool));
                ret = STORE_ERROR;
            } else {
                for (size_t i = 0; i < keys->elements; i++) {
                    kp[i] = keys->element[i]->str;
                    kl[i] = keys->element[i]->len;
                }
                if ((vals = read_keys(rs, &c, kp, kl, keys->elements)) == NULL)
                    ret = STORE_ERROR;
            }
        }
        redis_pool_put(rs->pool, c);
        for (size_t i = 0; vals && !stop && i < keys->elements; i++) {
            const char *v;
            size_t len;
            time_t exp;

            if (kl[i] < rs->prefix_len || !reply_value(vals, i, &v, &len, &exp) ||
                (exp != 0 && exp <= now))
                continue;
            stop = fn(arg, kp[i] + rs->prefix_len, kl[i] - rs->prefix_len, v,
                      len, exp);
        }
        if (vals)
            freeReplyObject(vals);
        free(kp);
        free(kl);
        freeReplyObject(scan);
    } while (ret == STORE_OK && !stop && strcmp(cursor, "0") != 0);
    return ret;
}

/* redis_report_expired - pop one batch from the expiry index and report
 * it; how many were looked at (reported or not), or -1 */
static int redis_report_expired(struct store_redis *rs, time_t now)
{
    char xz[FULLKEY_MAX], xh[FULLKEY_MAX], ms[24];
    const char *argv[7] = { "EVALSHA", NULL, "2", xz, xh, ms, EXPIRY_POP };
    size_t argvlen[7] = { 7, 40, 1, 0, 0, 0, strlen(EXPIRY_POP) };
    struct redis_conn *c;
    redisReply *r;
    int popped;

    argvlen[3] = (size_t)snprintf(xz, sizeof xz, "%s" EXPIRY_ZSET, rs->prefix);
    argvlen[4] = (size_t)snprintf(xh, sizeof xh, "%s" EXPIRY_HASH, rs->prefix);
    argvlen[5] = (size_t)snprintf(ms, sizeof ms, "%lld", (long long)now * 1000);
    if ((c = redis_pool_get(rs->pool)) == NULL)
        return -1;
    r = redis_pool_exec(rs->pool, &c, 7, argv, argvlen, 1, SCRIPT_POP_EXPIRED);
    redis_pool_put(rs->pool, c);
    if (r == NULL)
        return -1;
    if (r->type != REDIS_REPLY_ARRAY || r->elements % 3 != 1
        || r->element[0]->type != REDIS_REPLY_INTEGER) {
        redis_pool_warn(rs->pool, "expiry index: unexpected reply");
        freeReplyObject(r);
        return -1;
    }
    popped = (int)r->element[0]->integer;  /* fewer than asked for: none left due */
    for (size_t i = 1; i + 2 < r->elements; i += 3) {
        const redisReply *k = r->element[i], *v = r->element[i + 1], *e = r->element[i + 2];
        char key[STORE_MAX_KEY];

        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING
            || k->len <= rs->prefix_len || k->len - rs->prefix_len >= sizeof key
            || v->len > STORE_MAX_VALUE)
            continue;
        memcpy(key, k->str + rs->prefix_len, k->len - rs->prefix_len);
        key[k->len - rs->prefix_len] = '\0';
        rs->base.expired_fn(rs->base.expired_arg, key, k->len - rs->prefix_len, v->str, v->len,
                            e->type == REDIS_REPLY_STRING ? (time_t)(atoll(e->str) / 1000) : now);
    }
    freeReplyObject(r);
    return popped;
}

/* redis_expire - Redis removes expired records itself; what remains is to
 * report those the on-expire hook asked for */
static int redis_expire(struct store *st, time_t now, size_t max, size_t *removed)
{
    struct store_redis *rs = (struct store_redis *)st;
    size_t done = 0;
    int n, rounds = 0;

    *removed = 0;
    if (st->expired_fn == NULL)
        return STORE_OK;
    /* bounded: records Redis has not removed yet stay due until it does */
    do {
        if ((n = redis_report_expired(rs, now)) < 0)
            return STORE_ERROR;
        done += (size_t)n;
    } while (n == atoi(EXPIRY_POP) && ++rounds < 1000 && (max == 0 || done < max));
    return STORE_OK;
}

/* redis_stats - DBSIZE and INFO memory's used_memory */
static int redis_stats(struct store *st, struct store_stats *out)
{
    struct store_redis *rs = (struct store_redis *)st;
    const char *argv1[1] = { "DBSIZE" }, *argv2[2] = { "INFO", "memory" };
    size_t len1[1] = { 6 }, len2[2] = { 4, 6 };
    struct redis_conn *c;
    redisReply *r;
    const char *p;

    memset(out, 0, sizeof *out);
    if ((c = redis_pool_get(rs->pool)) == NULL)
        return STORE_ERROR;
    if ((r = redis_pool_exec(rs->pool, &c, 1, argv1, len1, 1, -1)) == NULL) {
        redis_pool_put(rs->pool, c);
        return STORE_ERROR;
    }
    if (r->type == REDIS_REPLY_INTEGER && r->integer > 0)
        out->records = (uint64_t)r->integer;
    freeReplyObject(r);
    if ((r = redis_pool_exec(rs->pool, &c, 2, argv2, len2, 1, -1)) == NULL) {
        redis_pool_put(rs->pool, c);
        return STORE_ERROR;
    }
    if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) {
        for (p = r->str; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
            if (strncmp(p, "used_memory:", 12) == 0) {
                out->bytes_used = strtoull(p + 12, NULL, 10);
                break;
            }
    }
    freeReplyObject(r);
    redis_pool_put(rs->pool, c);
    return STORE_OK;
}

/* redis_maintain - while Redis is down, try to reconnect (with back-off) */
static void redis_maintain(struct store *st)
{
    redis_pool_maintain(((struct store_redis *)st)->pool);
}

static const struct store_ops redis_ops = {
    .name = "redis",
    .close = redis_close,
    .get = redis_get,
    .put = redis_put,
    .del = redis_del,
    .update = redis_update,
    .iterate = redis_iterate,
    .expire = redis_expire,
    .stats = redis_stats,
    .maintain = redis_maintain,
    .put_many = redis_put_many,
};

/* store_redis_open - check the settings and try a first connection */
struct store *store_redis_open(const struct cfg_store *cfg, char *errbuf,
                               size_t errlen)
{
    struct store_redis *rs;
    struct redis_pool_opts o = {
        .addr = cfg->redis[0] ? cfg->redis : "127.0.0.1:6379",
        .user = cfg->redis_user,
        .password = cfg->redis_password,
        .db = cfg->redis_db,
        .timeout_ms = cfg->redis_timeout_ms ? cfg->redis_timeout_ms : 500,
        .sentinels = cfg->redis_sentinels,
        .master_name = cfg->redis_master_name,
        .sentinel_password = cfg->redis_sentinel_password,
    };

    if ((rs = calloc(1, sizeof *rs)) == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    rs->base.ops = &redis_ops;
    snprintf(rs->prefix, sizeof rs->prefix, "%s", cfg->redis_prefix);
    rs->prefix_len = strlen(rs->prefix);
    rs->pool = redis_pool_new(&o, script_text, SCRIPT_COUNT, errbuf, errlen);
    if (rs->pool == NULL) {
        free(rs);
        return NULL;
    }
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_init(&rs->stripe[i], NULL);
    return &rs->base;
}
