/*
 * NAME
 *   redis_pool - a small pool of Redis connections; see redis_pool.h
 * DESCRIPTION
 *   One mutex guards the idle list, the connection count and the outage
 *   state; connecting and commands run outside it.  A connection made
 *   before an outage or a restart is never handed out again: the pool's
 *   generation changes and older connections are closed when returned.
 */
#include "autoconf.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "log.h"
#include "redis_pool.h"
#include "redis_sentinel.h"

#define BACKOFF_MIN_MS 100      /* first reconnect delay after an outage */
#define BACKOFF_MAX_MS 1000
#define LOG_INTERVAL 10         /* s between two lines about server errors */

struct redis_conn {
    redisContext *ctx;
    unsigned gen;               /* pool generation it was made in */
    int reused;                 /* came from the idle list, may be stale */
    struct redis_conn *next;
};

/*
 * A pool rather than a connection per thread: libmilter's workers come and
 * go and one connection may be served by several of them, so per-thread
 * connections would need destructors, would multiply with the worker
 * count on every MX host against one shared Redis, and would each have to
 * notice an outage by themselves.  A pool bounds the connections, keeps
 * them warm, is created lazily (greyrepctl uses one), and lets one place
 * know that Redis is down.  A command takes well under a millisecond, so
 * REDIS_POOL_MAX connections serve far more concurrent decisions than that.
 */
struct redis_pool {
    /* from the configuration, read-only after redis_pool_new() */
    char addr[256];             /* as configured, for log lines */
    char user[128];             /* ACL user; empty: the default user */
    char password[128];
    int db;
    struct timeval timeout;
    const char *script_text[REDIS_POOL_MAX_SCRIPTS];
    int nscripts;
    struct redis_sentinels sent; /* sent.n == 0: the fixed address */
    /* the pool and the outage state, under lock */
    pthread_mutex_t lock;
    char host[256];             /* where connections go: changes with Sentinels */
    int port;                   /* 0 for a unix socket in host */
    int64_t next_check_ms;      /* next Sentinel check while up */
    pthread_cond_t cond;        /* a connection was returned, or Redis went down */
    struct redis_conn *idle;
    unsigned nconn;             /* open connections, idle or lent */
    unsigned gen;               /* bumped when every idle connection is suspect */
    char sha[REDIS_POOL_MAX_SCRIPTS][41];
    int down;
    int probing;                /* one caller is trying to reconnect */
    unsigned backoff_ms;
    int64_t next_try_ms;        /* monotonic; no reconnect before */
    int64_t down_since_ms;
    unsigned long failed_calls; /* during this outage */
    time_t last_log;            /* rate limit for other errors */
    unsigned long log_skipped;
};

/* now_ms - monotonic milliseconds */
static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* redis_pool_warn - log a run-time error at most once per LOG_INTERVAL */
void redis_pool_warn(struct redis_pool *rp, const char *fmt, ...)
{
    char buf[512];
    unsigned long skipped;
    time_t now = time(NULL);
    va_list ap;

    pthread_mutex_lock(&rp->lock);
    if (rp->last_log != 0 && now - rp->last_log < LOG_INTERVAL) {
        rp->log_skipped++;
        pthread_mutex_unlock(&rp->lock);
        return;
    }
    rp->last_log = now;
    skipped = rp->log_skipped;
    rp->log_skipped = 0;
    pthread_mutex_unlock(&rp->lock);

    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (skipped)
        log_warn("redis %s: %s (and %lu more errors)", rp->addr, buf, skipped);
    else
        log_warn("redis %s: %s", rp->addr, buf);
}

/* conn_free - close one connection */
static void conn_free(struct redis_conn *c)
{
    if (c) {
        if (c->ctx)
            redisFree(c->ctx);
        free(c);
    }
}

/* drop_idle_locked - close every idle connection, and later returns of older ones */
static void drop_idle_locked(struct redis_pool *rp)
{
    struct redis_conn *c;

    rp->gen++;
    while ((c = rp->idle) != NULL) {
        rp->idle = c->next;
        rp->nconn--;
        conn_free(c);
    }
}

/* mark_down_locked - Redis failed: fail fast until the next reconnect try */
static void mark_down_locked(struct redis_pool *rp, const char *why)
{
    int64_t now = now_ms();

    if (!rp->down) {
        rp->down = 1;
        rp->down_since_ms = now;
        rp->failed_calls = 0;
        rp->backoff_ms = BACKOFF_MIN_MS;
        if (rp->sent.n)
            log_err("redis %s (at %s:%d): %s; store calls fail until it is back",
                    rp->addr, rp->host, rp->port, why);
        else
            log_err("redis %s: %s; store calls fail until it is back", rp->addr, why);
    } else {
        rp->backoff_ms = rp->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
                                                             : rp->backoff_ms * 2;
    }
    rp->failed_calls++;
    rp->next_try_ms = now + rp->backoff_ms;
    drop_idle_locked(rp);
    pthread_cond_broadcast(&rp->cond);
}

/* mark_up_locked - a connection worked: end the outage, if any */
static void mark_up_locked(struct redis_pool *rp)
{
    if (rp->down) {
        if (rp->sent.n)
            log_info("redis %s: back after %.1f s, primary %s:%d; %lu store calls failed meanwhile",
                     rp->addr, (now_ms() - rp->down_since_ms) / 1000.0, rp->host,
                     rp->port, rp->failed_calls);
        else
            log_info("redis %s: back after %.1f s; %lu store calls failed meanwhile",
                     rp->addr, (now_ms() - rp->down_since_ms) / 1000.0,
                     rp->failed_calls);
        rp->down = 0;
        rp->backoff_ms = 0;
    }
}

/* What each pipelined reply of conn_setup answers. */
enum setup_step { STEP_AUTH = -1, STEP_SELECT = -2, STEP_ROLE = -3 };

/* setup_refused - why for an error reply to a setup step, in words an admin can act on */
static void setup_refused(const struct redis_pool *rp, int step, const char *err,
                          char *why, size_t whylen)
{
    if (strncmp(err, "NOPERM", 6) == 0)
        snprintf(why, whylen, "%s refused by the ACL of user %s (see the ACL line in "
                 "multi-mx.md): %s", step == STEP_SELECT ? "SELECT" : step == STEP_ROLE ?
                 "ROLE" : step == STEP_AUTH ? "AUTH" : "SCRIPT LOAD",
                 rp->user[0] ? rp->user : "default", err);
    else if (step == STEP_AUTH && rp->user[0])
        snprintf(why, whylen, "AUTH as user %s refused (check redis_user and "
                 "redis_password): %s", rp->user, err);
    else if (step == STEP_AUTH)
        snprintf(why, whylen, "AUTH refused (check redis_password): %s", err);
    else if (strncmp(err, "NOAUTH", 6) == 0)
        snprintf(why, whylen, "the server wants a password (set redis_password): %s", err);
    else
        snprintf(why, whylen, "%s", err);
}

/* role_is_master - does a ROLE reply say "master"? */
static int role_is_master(const redisReply *r)
{
    return r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
           r->element[0]->type == REDIS_REPLY_STRING &&
           strcmp(r->element[0]->str, "master") == 0;
}

/*
 * conn_setup - AUTH, SELECT, ROLE (with Sentinels) and SCRIPT LOAD on a new
 * connection, pipelined; 0, or -1 with why filled.  *server_said is set when
 * Redis refused us (bad user, password, ACL, db) rather than failing to
 * answer, being busy loading, or being a replica.
 */
static int conn_setup(struct redis_pool *rp, redisContext *ctx, char *why,
                      size_t whylen, int *server_said)
{
    char db[16];
    int step[3 + REDIS_POOL_MAX_SCRIPTS];
    int expect = 0, ret = 0;

    if (rp->password[0]) {
        if (rp->user[0])
            redisAppendCommand(ctx, "AUTH %s %s", rp->user, rp->password);
        else
            redisAppendCommand(ctx, "AUTH %s", rp->password);
        step[expect++] = STEP_AUTH;
    }
    if (rp->db != 0) {
        snprintf(db, sizeof db, "%d", rp->db);
        redisAppendCommand(ctx, "SELECT %s", db);
        step[expect++] = STEP_SELECT;
    }
    if (rp->sent.n) {
        redisAppendCommand(ctx, "ROLE");
        step[expect++] = STEP_ROLE;
    }
    for (int i = 0; i < rp->nscripts; i++) {
        redisAppendCommand(ctx, "SCRIPT LOAD %s", rp->script_text[i]);
        step[expect++] = i;
    }
    for (int i = 0; i < expect; i++) {
        redisReply *r = NULL;
        int script = step[i];

        if (redisGetReply(ctx, (void **)&r) != REDIS_OK || r == NULL) {
            snprintf(why, whylen, "%s", ctx->errstr[0] ? ctx->errstr : "no reply");
            return -1;
        }
        if (r->type == REDIS_REPLY_ERROR) {
            if (ret == 0) {
                setup_refused(rp, step[i], r->str, why, whylen);
                *server_said = strncmp(r->str, "LOADING", 7) != 0;
            }
            ret = -1;
        } else if (step[i] == STEP_ROLE && ret == 0 && !role_is_master(r)) {
            /* a replica, or a primary being demoted: not a config error */
            snprintf(why, whylen, "ROLE: not the primary (%s)",
                     r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
                     r->element[0]->type == REDIS_REPLY_STRING ? r->element[0]->str : "?");
            ret = -1;
        } else if (script >= 0 && ret == 0) {
            if (r->type != REDIS_REPLY_STRING || r->len != 40) {
                snprintf(why, whylen, "SCRIPT LOAD: unexpected reply");
                *server_said = 1;
                ret = -1;
            } else {
                pthread_mutex_lock(&rp->lock);
                memcpy(rp->sha[script], r->str, 41);
                pthread_mutex_unlock(&rp->lock);
            }
        }
        freeReplyObject(r);
    }
    return ret;
}

/* conn_new - connect, with bounded timeouts; NULL with why filled */
static struct redis_conn *conn_new(struct redis_pool *rp, char *why,
                                   size_t whylen, int *server_said)
{
    redisContext *ctx;
    struct redis_conn *c;
    char host[sizeof rp->host];
    int port;

    *server_said = 0;
    pthread_mutex_lock(&rp->lock);
    memcpy(host, rp->host, sizeof host);
    port = rp->port;
    pthread_mutex_unlock(&rp->lock);
    if (port == 0)
        ctx = redisConnectUnixWithTimeout(host, rp->timeout);
    else
        ctx = redisConnectWithTimeout(host, port, rp->timeout);
    if (ctx == NULL) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    if (ctx->err) {
        snprintf(why, whylen, "connect: %s", ctx->errstr);
        redisFree(ctx);
        return NULL;
    }
    if (redisSetTimeout(ctx, rp->timeout) != REDIS_OK) {
        snprintf(why, whylen, "cannot set timeout: %s", ctx->errstr);
        redisFree(ctx);
        return NULL;
    }
    if (port != 0)
        (void)redisEnableKeepAlive(ctx);
    if (conn_setup(rp, ctx, why, whylen, server_said) < 0) {
        redisFree(ctx);
        return NULL;
    }
    if ((c = calloc(1, sizeof *c)) == NULL) {
        snprintf(why, whylen, "out of memory");
        redisFree(ctx);
        return NULL;
    }
    c->ctx = ctx;
    return c;
}

/*
 * locate_primary - ask the Sentinels where the primary is and point new
 * connections there; 0, or -1 with why filled (*refused: every Sentinel
 * refused us).  A new address makes every open connection suspect.
 */
static int locate_primary(struct redis_pool *rp, char *why, size_t whylen, int *refused)
{
    char host[sizeof rp->host];
    int port;

    if (redis_sentinel_query(&rp->sent, rp->timeout, host, sizeof host, &port, why,
                             whylen, refused) < 0)
        return -1;
    pthread_mutex_lock(&rp->lock);
    if (strcmp(host, rp->host) != 0 || port != rp->port) {
        if (rp->host[0])
            log_info("redis %s: the Sentinels name %s:%d as the primary (was %s:%d)",
                     rp->addr, host, port, rp->host, rp->port);
        else
            log_info("redis %s: the Sentinels name %s:%d as the primary",
                     rp->addr, host, port);
        memcpy(rp->host, host, sizeof rp->host);
        rp->port = port;
        drop_idle_locked(rp);
    }
    rp->next_check_ms = now_ms() + REDIS_SENTINEL_CHECK_MS;
    pthread_mutex_unlock(&rp->lock);
    return 0;
}

/*
 * redis_pool_get - a connection for one call, or NULL (already logged).  While
 * Redis is down this returns NULL at once, except for the one caller per
 * back-off interval that tries to reconnect.
 */
struct redis_conn *redis_pool_get(struct redis_pool *rp)
{
    struct redis_conn *c;
    struct timespec deadline;
    char why[1024];
    int server_said, probe;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += rp->timeout.tv_sec;
    deadline.tv_nsec += rp->timeout.tv_usec * 1000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }

    pthread_mutex_lock(&rp->lock);
    for (;;) {
        if (rp->down && (rp->probing || now_ms() < rp->next_try_ms ||
                         rp->nconn >= REDIS_POOL_MAX)) {
            rp->failed_calls++;
            pthread_mutex_unlock(&rp->lock);
            return NULL;
        }
        if (!rp->down && rp->idle) {
            c = rp->idle;
            rp->idle = c->next;
            c->reused = 1;
            pthread_mutex_unlock(&rp->lock);
            return c;
        }
        if (rp->down || rp->nconn < REDIS_POOL_MAX)
            break;
        if (pthread_cond_timedwait(&rp->cond, &rp->lock, &deadline) == ETIMEDOUT) {
            pthread_mutex_unlock(&rp->lock);
            redis_pool_warn(rp, "all %d connections busy for %ld ms", REDIS_POOL_MAX,
                         (long)(rp->timeout.tv_sec * 1000 + rp->timeout.tv_usec / 1000));
            return NULL;
        }
    }
    probe = rp->down;
    rp->probing |= probe;
    rp->nconn++;
    pthread_mutex_unlock(&rp->lock);

    /* Every reconnect try of an outage asks the Sentinels afresh. */
    if (probe && rp->sent.n && locate_primary(rp, why, sizeof why, &server_said) < 0)
        c = NULL;
    else
        c = conn_new(rp, why, sizeof why, &server_said);

    pthread_mutex_lock(&rp->lock);
    rp->probing &= !probe;
    if (c == NULL) {
        rp->nconn--;
        mark_down_locked(rp, why);
    } else {
        c->gen = rp->gen;
        mark_up_locked(rp);
    }
    pthread_mutex_unlock(&rp->lock);
    return c;
}

/* redis_pool_put - give a connection back; broken ones (ctx->err) are closed */
void redis_pool_put(struct redis_pool *rp, struct redis_conn *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&rp->lock);
    if (c->ctx->err || c->gen != rp->gen) {
        rp->nconn--;
        conn_free(c);
    } else {
        c->next = rp->idle;
        rp->idle = c;
    }
    pthread_cond_signal(&rp->cond);
    pthread_mutex_unlock(&rp->lock);
}

/* conn_stale - did a pooled connection fail because the server had closed it? */
static int conn_stale(const struct redis_conn *c, int saved_errno)
{
    return c->reused && (c->ctx->err == REDIS_ERR_EOF ||
                         (c->ctx->err == REDIS_ERR_IO &&
                          (saved_errno == ECONNRESET || saved_errno == EPIPE)));
}

/*
 * redis_pool_exec - one command on *cp; the reply, or NULL (logged) on failure.
 *   When the connection fails, *cp is closed and set to NULL.  An idempotent
 *   command that met a connection the server had closed (a restart)
 *   is sent once more on a new connection; a timeout is never retried, so
 *   a hung server costs one timeout.  script >= 0 names the script that
 *   argv[1] calls, so that NOSCRIPT can reload it.
 */
redisReply *redis_pool_exec(struct redis_pool *rp, struct redis_conn **cp,
                            int argc, const char **argv, const size_t *argvlen,
                            int idempotent, int script)
{
    redisReply *r;
    char sha[41];
    int saved_errno;

    for (int attempt = 0;; attempt++) {
        struct redis_conn *c = *cp;

        if (script >= 0) {
            /* The SHA is the same on every server; a reply fills it. */
            pthread_mutex_lock(&rp->lock);
            memcpy(sha, rp->sha[script], sizeof sha);
            pthread_mutex_unlock(&rp->lock);
            argv[1] = sha;
        }
        errno = 0;
        r = redisCommandArgv(c->ctx, argc, argv, argvlen);
        saved_errno = errno;
        if (r == NULL) {
            int stale = conn_stale(c, saved_errno);
            char why[160];

            if (c->ctx->err == REDIS_ERR_IO &&
                (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK))
                snprintf(why, sizeof why, "%s: no answer within %ld ms", argv[0],
                         (long)(rp->timeout.tv_sec * 1000 + rp->timeout.tv_usec / 1000));
            else
                snprintf(why, sizeof why, "%s: %s", argv[0], c->ctx->errstr);
            pthread_mutex_lock(&rp->lock);
            rp->nconn--;
            if (stale && idempotent && attempt == 0)
                drop_idle_locked(rp); /* they were all made before the restart */
            else
                mark_down_locked(rp, why);
            pthread_mutex_unlock(&rp->lock);
            conn_free(c);
            *cp = NULL;
            if (!(stale && idempotent && attempt == 0) ||
                (*cp = redis_pool_get(rp)) == NULL)
                return NULL;
            continue;
        }
        if (r->type != REDIS_REPLY_ERROR)
            return r;
        if (script >= 0 && attempt < 2 && strncmp(r->str, "NOSCRIPT", 8) == 0) {
            redisReply *l = redisCommand(c->ctx, "SCRIPT LOAD %s", rp->script_text[script]);
            freeReplyObject(r);
            if (l == NULL) {
                pthread_mutex_lock(&rp->lock);
                rp->nconn--;
                mark_down_locked(rp, "SCRIPT LOAD failed");
                pthread_mutex_unlock(&rp->lock);
                conn_free(c);
                *cp = NULL;
                return NULL;
            }
            if (l->type == REDIS_REPLY_STRING && l->len == 40) {
                pthread_mutex_lock(&rp->lock);
                memcpy(rp->sha[script], l->str, 41);
                pthread_mutex_unlock(&rp->lock);
            }
            freeReplyObject(l);
            continue;
        }
        if (strncmp(r->str, "LOADING", 7) == 0) {
            pthread_mutex_lock(&rp->lock);
            mark_down_locked(rp, r->str);
            pthread_mutex_unlock(&rp->lock);
        } else if (strncmp(r->str, "READONLY", 8) == 0) {
            /* a demoted primary: drop this connection too, so the next
             * one follows a failover behind the same address */
            pthread_mutex_lock(&rp->lock);
            rp->nconn--;
            mark_down_locked(rp, r->str);
            pthread_mutex_unlock(&rp->lock);
            freeReplyObject(r);
            conn_free(c);
            *cp = NULL;
            return NULL;
        } else if (strncmp(r->str, "NOPERM", 6) == 0) {
            redis_pool_warn(rp, "%s refused by the ACL of user %s (see the ACL line in "
                            "multi-mx.md): %s", argv[0], rp->user[0] ? rp->user : "default",
                            r->str);
        } else {
            redis_pool_warn(rp, "%s: %s", argv[0], r->str);
        }
        freeReplyObject(r);
        return NULL;
    }
}

/* parse_addr - "host:port", "[v6]:port", "host" or "unix:/path"; 0 or -1 */
static int parse_addr(struct redis_pool *rp, const char *addr, char *errbuf,
                      size_t errlen)
{
    const char *port = NULL, *end;
    size_t hlen;
    char *ep;
    long p;

    if (strncmp(addr, "unix:", 5) == 0) {
        if (addr[5] != '/') {
            snprintf(errbuf, errlen, "redis = %s: unix socket path must be absolute", addr);
            return -1;
        }
        snprintf(rp->host, sizeof rp->host, "%s", addr + 5);
        rp->port = 0;
        return 0;
    }
    if (addr[0] == '[') {
        if ((end = strchr(addr, ']')) == NULL || (end[1] != 0 && end[1] != ':')) {
            snprintf(errbuf, errlen, "redis = %s: expected [address]:port", addr);
            return -1;
        }
        hlen = (size_t)(end - addr - 1);
        addr++;
        port = end[1] == ':' ? end + 2 : NULL;
    } else {
        end = strrchr(addr, ':');
        if (end && strchr(addr, ':') != end) {
            snprintf(errbuf, errlen, "redis = %s: write an IPv6 address as [address]:port", addr);
            return -1;
        }
        hlen = end ? (size_t)(end - addr) : strlen(addr);
        port = end ? end + 1 : NULL;
    }
    if (hlen == 0 || hlen >= sizeof rp->host) {
        snprintf(errbuf, errlen, "redis = %s: bad host", addr);
        return -1;
    }
    memcpy(rp->host, addr, hlen);
    rp->host[hlen] = 0;
    rp->port = 6379;
    if (port) {
        errno = 0;
        p = strtol(port, &ep, 10);
        if (*port == 0 || *ep != 0 || errno || p < 1 || p > 65535) {
            snprintf(errbuf, errlen, "redis = %s: bad port", addr);
            return -1;
        }
        rp->port = (int)p;
    }
    return 0;
}

/* redis_pool_new - parse, remember, and try a first connection */
struct redis_pool *redis_pool_new(const struct redis_pool_opts *o,
                                  const char *const *scripts, int nscripts,
                                  char *errbuf, size_t errlen)
{
    struct redis_pool *rp;
    struct redis_conn *c = NULL;
    pthread_condattr_t ca;
    struct sigaction sa;
    char why[1024];
    int server_said = 0;

    if (o->db < 0 || nscripts < 0 || nscripts > REDIS_POOL_MAX_SCRIPTS) {
        snprintf(errbuf, errlen, "redis_db %d: must be 0 or more", o->db);
        return NULL;
    }
    if (o->user[0] && !o->password[0]) {
        snprintf(errbuf, errlen, "redis_user %s: needs redis_password", o->user);
        return NULL;
    }
    if ((rp = calloc(1, sizeof *rp)) == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    if (o->sentinels[0]) {
        if (redis_sentinels_parse(&rp->sent, o->sentinels, o->master_name,
                                  o->sentinel_password, errbuf, errlen) < 0) {
            free(rp);
            return NULL;
        }
        snprintf(rp->addr, sizeof rp->addr, "master %s", rp->sent.master);
    } else {
        snprintf(rp->addr, sizeof rp->addr, "%s", o->addr);
        if (parse_addr(rp, rp->addr, errbuf, errlen) < 0) {
            free(rp);
            return NULL;
        }
    }
    snprintf(rp->user, sizeof rp->user, "%s", o->user);
    snprintf(rp->password, sizeof rp->password, "%s", o->password);
    rp->db = o->db;
    rp->timeout.tv_sec = o->timeout_ms / 1000;
    rp->timeout.tv_usec = (o->timeout_ms % 1000) * 1000;
    for (int i = 0; i < nscripts; i++)
        rp->script_text[i] = scripts[i];
    rp->nscripts = nscripts;

    pthread_mutex_init(&rp->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&rp->cond, &ca);
    pthread_condattr_destroy(&ca);

    /*
     * hiredis writes with write(2): a restarted Redis would kill a process
     * that still has the default SIGPIPE action.  libmilter ignores it
     * already; do the same for greyrepctl and the tests.
     */
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
        sa.sa_handler = SIG_IGN;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = 0;
        sigaction(SIGPIPE, &sa, NULL);
    }

    if ((rp->sent.n == 0 || locate_primary(rp, why, sizeof why, &server_said) == 0) &&
        (c = conn_new(rp, why, sizeof why, &server_said)) != NULL) {
        c->gen = rp->gen;
        rp->nconn = 1;
        redis_pool_put(rp, c);
    } else if (server_said) {
        /* Redis answered and refused us: the configuration is wrong. */
        snprintf(errbuf, errlen, "redis %s: %s", rp->addr, why);
        redis_pool_free(rp);
        return NULL;
    } else {
        pthread_mutex_lock(&rp->lock);
        mark_down_locked(rp, why);
        pthread_mutex_unlock(&rp->lock);
    }
    return rp;
}

/* redis_pool_free - close every connection; no call may be in progress */
void redis_pool_free(struct redis_pool *rp)
{
    if (rp == NULL)
        return;
    pthread_mutex_lock(&rp->lock);
    drop_idle_locked(rp);
    pthread_mutex_unlock(&rp->lock);
    pthread_mutex_destroy(&rp->lock);
    pthread_cond_destroy(&rp->cond);
    free(rp);
}

/* redis_pool_maintain - reconnect while down; with Sentinels, check the primary now and then */
void redis_pool_maintain(struct redis_pool *rp)
{
    int down, check = 0;

    pthread_mutex_lock(&rp->lock);
    down = rp->down;
    if (!down && rp->sent.n && now_ms() >= rp->next_check_ms) {
        /* a failover that left the old primary writable (a partition) */
        rp->next_check_ms = now_ms() + REDIS_SENTINEL_CHECK_MS;
        check = 1;
    }
    pthread_mutex_unlock(&rp->lock);
    if (down)
        redis_pool_put(rp, redis_pool_get(rp));
    else if (check) {
        char why[1024];
        int refused;

        if (locate_primary(rp, why, sizeof why, &refused) < 0)
            redis_pool_warn(rp, "cannot check the primary: %s", why);
    }
}

/* redis_pool_addr - the address as configured */
const char *redis_pool_addr(const struct redis_pool *rp)
{
    return rp->addr;
}
