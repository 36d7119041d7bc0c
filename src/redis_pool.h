/*
 * NAME
 *   redis_pool - a small pool of Redis connections that knows when Redis is down
 * SYNOPSIS
 *   #include "redis_pool.h"
 * DESCRIPTION
 *   Used by store_redis.c only.  redis_pool_new() parses the address
 *   ("host:port", "[v6]:port", "host" or "unix:/path"), remembers the
 *   ACL user, password, database and Lua scripts, and tries a first
 *   connection.  Every new connection sends AUTH ("AUTH user password"
 *   with a user, else "AUTH password") and SELECT and loads the scripts.
 *
 *   With Sentinels (redis_sentinel.h) there is no fixed address: at start,
 *   at the first reconnect try of every outage, and every
 *   REDIS_SENTINEL_CHECK_MS while Redis is up, the pool asks the
 *   Sentinels where the primary is, and every new connection also sends
 *   ROLE: a node that is not a master counts as down.  When the answer
 *   changes, connections to the old primary are closed as they come back.
 *   A demoted primary still answering on the old connections replies
 *   READONLY to the first write, which is an outage like any other, so the
 *   pool follows a failover within about a second of the Sentinels
 *   knowing the new primary (the back-off below, plus one timeout per
 *   Sentinel that does not answer).
 *
 *   A call takes a connection with redis_pool_get(), runs commands with
 *   redis_pool_exec() and gives it back with redis_pool_put().  Connections
 *   are made lazily, at most REDIS_POOL_MAX; a caller waits at most the
 *   timeout for one to be free.
 *
 *   The first failure (refused, reset, or no answer within the timeout)
 *   marks Redis down, logs one line, and closes the idle connections.
 *   While down, redis_pool_get() returns NULL at once, except for one
 *   caller per back-off interval (100 ms doubling to 1 s) that tries to
 *   connect; its success logs one line and ends the outage.
 * ERRORS
 *   redis_pool_new() returns NULL with errbuf filled for a bad address or
 *   when Redis answers but refuses us (user, password, ACL, database
 *   number) or every Sentinel refuses us: those are configuration errors.
 *   An unreachable server is not: the pool starts down.  At run time the
 *   same refusals (a password changed on the server) are an outage: one
 *   log line naming the cause, calls fail until a reconnect succeeds.  A
 *   command that the ACL forbids (NOPERM) fails with a warning.  Every
 *   other function that fails has logged already (rate-limited), so
 *   callers only pass the failure on.
 * THREADS
 *   All functions are thread-safe; a connection is used by one thread at a
 *   time, between get and put.
 */
#ifndef GREYREP_REDIS_POOL_H
#define GREYREP_REDIS_POOL_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "log.h"

#define REDIS_POOL_MAX 16         /* connections per pool */
#define REDIS_POOL_MAX_SCRIPTS 4
/* While up, ask the Sentinels this often: greyrep calls redis_pool_maintain()
 * once a second, so at every call (a little less, for the jitter). */
#define REDIS_SENTINEL_CHECK_MS 900

struct redis_pool;
struct redis_conn;

/* What to connect to and how; strings may be empty, never NULL. */
struct redis_pool_opts {
    const char *addr;             /* the server; ignored with sentinels */
    const char *user;             /* ACL user; empty: AUTH password alone */
    const char *password;         /* empty: no AUTH */
    int db;
    unsigned timeout_ms;
    const char *sentinels;        /* "host:port, ..."; empty: none */
    const char *master_name;      /* the primary's name at the Sentinels */
    const char *sentinel_password;
};

/* redis_pool_new - a pool for o; scripts[i] is then script number i */
struct redis_pool *redis_pool_new(const struct redis_pool_opts *o,
                                  const char *const *scripts, int nscripts,
                                  char *errbuf, size_t errlen);
/* redis_pool_free - close every connection; no call may be in progress */
void redis_pool_free(struct redis_pool *rp);

/* redis_pool_get - a connection, or NULL (Redis down, or all busy) */
struct redis_conn *redis_pool_get(struct redis_pool *rp);
/* redis_pool_put - give a connection back (NULL is ignored) */
void redis_pool_put(struct redis_pool *rp, struct redis_conn *c);

/*
 * redis_pool_exec - one command on *cp: its reply, or NULL on failure,
 * including an error reply.  A connection that failed is closed and *cp
 * becomes NULL.  idempotent: the command may be sent again on a new
 * connection when the pooled one turns out closed by the server.  script
 * >= 0: argv is EVALSHA, sha, ...; argv[1] is filled in here, and NOSCRIPT
 * makes the pool load that script again.
 */
redisReply *redis_pool_exec(struct redis_pool *rp, struct redis_conn **cp,
                            int argc, const char **argv, const size_t *argvlen,
                            int idempotent, int script);

/* redis_pool_warn - a warning about this server, at most one per 10 s */
void redis_pool_warn(struct redis_pool *rp, const char *fmt, ...) LOG_PRINTF(2, 3);
/* redis_pool_maintain - reconnect while down (with back-off); with
 * Sentinels, every REDIS_SENTINEL_CHECK_MS while up, ask where the primary is */
void redis_pool_maintain(struct redis_pool *rp);
/* redis_pool_addr - the address as configured, for log lines */
const char *redis_pool_addr(const struct redis_pool *rp);

#endif
