/*
 * NAME
 *   redis_sentinel - find the Redis primary through Sentinel; see redis_sentinel.h
 * DESCRIPTION
 *   A Sentinel's answer is network input: the host must look like an
 *   address or a host name and fit, the port must be a number in range,
 *   or the answer is skipped like a Sentinel that did not answer.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "redis_sentinel.h"

/* parse_port - "1".."65535" into *port; 0 or -1 */
static int parse_port(const char *s, size_t len, int *port)
{
    char buf[8], *end;
    long p;

    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = 0;
    if (buf[0] < '0' || buf[0] > '9')
        return -1;
    errno = 0;
    p = strtol(buf, &end, 10);
    if (*end != 0 || errno || p < 1 || p > 65535)
        return -1;
    *port = (int)p;
    return 0;
}

/* host_ok - an IPv4/IPv6 address or a host name, nothing else */
static int host_ok(const char *s, size_t len)
{
    if (len == 0 || len >= 256)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:%",
                    s[i]) || s[i] == 0)
            return 0;
    return 1;
}

/* parse_node - one "host:port", "[v6]:port" or "host" of the list; 0 or -1 */
static int parse_node(const char *tok, size_t len, char *host, size_t hostlen, int *port)
{
    const char *h = tok, *colon = NULL;
    size_t hl;

    *port = REDIS_SENTINEL_PORT;
    if (len > 0 && tok[0] == '[') {
        const char *close = memchr(tok, ']', len);
        if (close == NULL)
            return -1;
        h = tok + 1;
        hl = (size_t)(close - h);
        if (close + 1 < tok + len) {
            if (close[1] != ':')
                return -1;
            colon = close + 1;
        }
        if (memchr(h, ':', hl) == NULL)
            return -1;          /* brackets are for IPv6 only */
    } else {
        for (size_t i = 0; i < len; i++)
            if (tok[i] == ':') {
                if (colon)
                    return -1;  /* an IPv6 address needs brackets */
                colon = tok + i;
            }
        hl = colon ? (size_t)(colon - tok) : len;
    }
    if (!host_ok(h, hl) || hl >= hostlen)
        return -1;
    if (colon && parse_port(colon + 1, (size_t)(tok + len - colon - 1), port) < 0)
        return -1;
    memcpy(host, h, hl);
    host[hl] = 0;
    return 0;
}

/* redis_sentinels_parse - list, name and password into *s; 0 or -1 */
int redis_sentinels_parse(struct redis_sentinels *s, const char *list,
                          const char *master, const char *password,
                          char *errbuf, size_t errlen)
{
    const char *p = list;

    memset(s, 0, sizeof *s);
    while (*p) {
        size_t len;

        p += strspn(p, ", \t");
        if (*p == 0)
            break;
        len = strcspn(p, ", \t");
        if (s->n == REDIS_SENTINELS_MAX) {
            snprintf(errbuf, errlen, "redis_sentinels: more than %d Sentinels",
                     REDIS_SENTINELS_MAX);
            return -1;
        }
        if (parse_node(p, len, s->node[s->n].host, sizeof s->node[s->n].host,
                       &s->node[s->n].port) < 0) {
            snprintf(errbuf, errlen, "redis_sentinels: %.*s: expected host:port or [ipv6]:port",
                     (int)(len > 200 ? 200 : len), p);
            return -1;
        }
        s->n++;
        p += len;
    }
    if (s->n == 0) {
        snprintf(errbuf, errlen, "redis_sentinels: no Sentinel given");
        return -1;
    }
    if (master == NULL || master[0] == 0 || strlen(master) >= sizeof s->master) {
        snprintf(errbuf, errlen, "redis_sentinels needs redis_master_name");
        return -1;
    }
    snprintf(s->master, sizeof s->master, "%s", master);
    snprintf(s->password, sizeof s->password, "%s", password ? password : "");
    return 0;
}

/* ask_one - one Sentinel's answer; 0, or -1 with why (*refused: it said no) */
static int ask_one(const struct redis_sentinels *s, int i, struct timeval timeout,
                   char *host, size_t hostlen, int *port, char *why, size_t whylen,
                   int *refused)
{
    redisContext *ctx;
    redisReply *r = NULL;
    int ret = -1;

    *refused = 0;
    ctx = redisConnectWithTimeout(s->node[i].host, s->node[i].port, timeout);
    if (ctx == NULL || ctx->err) {
        snprintf(why, whylen, "%s", ctx ? ctx->errstr : "out of memory");
        goto out;
    }
    if (redisSetTimeout(ctx, timeout) != REDIS_OK) {
        snprintf(why, whylen, "cannot set timeout: %s", ctx->errstr);
        goto out;
    }
    if (s->password[0]) {
        r = redisCommand(ctx, "AUTH %s", s->password);
        if (r == NULL) {
            snprintf(why, whylen, "AUTH: %s", ctx->errstr);
            goto out;
        }
        if (r->type == REDIS_REPLY_ERROR) {
            snprintf(why, whylen, "refused redis_sentinel_password: %.120s", r->str);
            *refused = 1;
            goto out;
        }
        freeReplyObject(r);
    }
    r = redisCommand(ctx, "SENTINEL get-master-addr-by-name %s", s->master);
    if (r == NULL) {
        snprintf(why, whylen, "%s", ctx->errstr[0] ? ctx->errstr : "no reply");
    } else if (r->type == REDIS_REPLY_ERROR) {
        snprintf(why, whylen, "%.160s", r->str);
        *refused = 1;
    } else if (r->type == REDIS_REPLY_NIL) {
        snprintf(why, whylen, "does not know a master named %.100s", s->master);
        *refused = 1;
    } else if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
               r->element[0]->type != REDIS_REPLY_STRING ||
               r->element[1]->type != REDIS_REPLY_STRING ||
               !host_ok(r->element[0]->str, r->element[0]->len) ||
               r->element[0]->len >= hostlen ||
               parse_port(r->element[1]->str, r->element[1]->len, port) < 0) {
        snprintf(why, whylen, "unexpected reply to SENTINEL get-master-addr-by-name");
    } else {
        memcpy(host, r->element[0]->str, r->element[0]->len);
        host[r->element[0]->len] = 0;
        ret = 0;
    }
out:
    if (r)
        freeReplyObject(r);
    if (ctx)
        redisFree(ctx);
    return ret;
}

/* redis_sentinel_query - the primary's host and port from the first Sentinel that knows */
int redis_sentinel_query(const struct redis_sentinels *s, struct timeval timeout,
                         char *host, size_t hostlen, int *port, char *why,
                         size_t whylen, int *refused)
{
    int said_no = 0;
    size_t used = 0;

    why[0] = 0;
    for (int i = 0; i < s->n; i++) {
        char one[200];
        int no;

        if (ask_one(s, i, timeout, host, hostlen, port, one, sizeof one, &no) == 0)
            return 0;
        said_no += no;
        if (used < whylen) {
            int n = snprintf(why + used, whylen - used, "%sSentinel %s:%d: %s",
                             i ? "; " : "", s->node[i].host, s->node[i].port, one);
            used += n > 0 ? (size_t)n : 0;
        }
    }
    *refused = said_no == s->n;
    return -1;
}
