/*
 * greylist.c - normalisation, keys and the triplet state machine; see greylist.h
 */
#include "autoconf.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "greylist.h"
#include "log.h"
#include "util.h"

void grey_key_part(const char *in, size_t inlen, uint64_t hash, int oversized,
                   char *out, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t limit = len < GREY_PART_MAX + 1 ? len : GREY_PART_MAX + 1;
    size_t room = limit - 1 - 17; /* keep space for "#" and 16 hex digits */
    size_t o = 0;
    int cut = 0;

    if (len < 32)
        log_panic("grey_key_part: buffer of %zu bytes", len);
    for (size_t i = 0; i < inlen; i++) {
        unsigned char c = (unsigned char)in[i];
        int esc = c < 0x21 || c > 0x7e || c == '%' || c == '|' || c == '<' || c == '>';
        if (o + (esc ? 3 : 1) > room) {
            cut = 1;
            break;
        }
        if (esc) {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        } else {
            out[o++] = (char)c;
        }
    }
    /*
     * The hash covers the whole normalised text: a cut text stays unique,
     * and a retry of the same long address (whose raw argument differs by
     * a BATV tag, VERP digits or +ext) finds the same key.  Only when the
     * parser itself had to cut the address (a part beyond 256 bytes: the
     * whole text is gone) does the caller pass a hash of the raw argument,
     * hashed together with the text's (never XORed: equal hashes
     * cancelled to #0000000000000000).
     */
    if (cut || oversized) {
        uint64_t h = util_hash64(in, inlen);
        if (hash != 0) {
            unsigned char both[16];
            memcpy(both, &h, 8);
            memcpy(both + 8, &hash, 8);
            h = util_hash64(both, sizeof both);
        }
        o += (size_t)snprintf(out + o, limit - o, "#%016llx", (unsigned long long)h);
    }
    out[o] = '\0';
}

/* grey_unwrap_local - strip BATV and SRS wrappers; returns the real domain
 * (pointer into local) or NULL when the address's own domain stands */
static char *grey_unwrap_local(char *local)
{
    char *p;

    /* BATV: prvs=TAG=local (also msprvs1= and btv1==) */
    if (strncmp(local, "prvs=", 5) == 0 || strncmp(local, "msprvs1=", 8) == 0
        || strncmp(local, "btv1=", 5) == 0) {
        p = strchr(local, '=');
        while (*p == '=')
            p++;
        p = strchr(p, '=');         /* the end of the tag */
        if (p != NULL) {
            while (*p == '=')
                p++;
            if (*p != '\0')
                memmove(local, p, strlen(p) + 1);
        }
        return NULL;
    }
    /* SRS0=HHH=TT=domain=local and SRS1=HHH=forwarder==HHH=TT=domain=local */
    if ((strncmp(local, "srs0", 4) == 0 || strncmp(local, "srs1", 4) == 0)
        && local[4] != '\0' && strchr("=+-", local[4]) != NULL) {
        char copy[2 * ENV_LOCAL_MAX + ENV_DOMAIN_MAX + 4], domain[ENV_DOMAIN_MAX + 1];
        char *f[3];
        int n = 0;
        /* work on a copy: text that only looks like SRS must stay intact */
        util_strlcpy(copy, local + 5, sizeof copy);
        p = copy;
        if (local[3] == '1') {
            if ((p = strstr(p, "==")) == NULL)
                return NULL;
            p += 2;
        }
        /* hash, timestamp, domain, then the original local part (may hold '=') */
        while (n < 3 && p != NULL) {
            f[n++] = p;
            if ((p = strchr(p, '=')) != NULL)
                *p++ = '\0';
        }
        if (n < 3 || p == NULL || *p == '\0' || *f[2] == '\0')
            return NULL;
        util_strlcpy(domain, f[2], sizeof domain);
        /* the local part, then the domain after its NUL, in local's buffer */
        size_t l = strlen(p);
        memmove(local, p, l + 1);
        memcpy(local + l + 1, domain, strlen(domain) + 1);
        return local + l + 1;
    }
    return NULL;
}

/* grey_parser_hash - the raw argument's hash when env_parse() had to cut a
 * part (the normalised text is then not the whole address), else 0 */
static uint64_t grey_parser_hash(const struct env_addr *addr)
{
    int cut = strlen(addr->local) >= ENV_LOCAL_MAX || strlen(addr->domain) >= ENV_DOMAIN_MAX;
    return cut && addr->hash != 0 ? addr->hash : 0;
}

void grey_normalise_sender(const struct env_addr *addr, char *out, size_t len)
{
    char local[2 * ENV_LOCAL_MAX + ENV_DOMAIN_MAX + 4];
    char text[sizeof local + ENV_DOMAIN_MAX + 2];
    const char *domain = addr->domain;
    char *real_domain, *w;

    if (addr->flags & ENV_NULL) {
        util_strlcpy(out, "<>", len);
        return;
    }
    util_strlcpy(local, addr->local, sizeof local);
    util_lower(local);
    real_domain = grey_unwrap_local(local);
    if (real_domain != NULL)
        domain = real_domain;
    /* +extension */
    if ((w = strchr(local, '+')) != NULL && w != local)
        *w = '\0';
    /* every run of digits becomes one '#': VERP ids, list message numbers */
    w = local;
    for (const char *r = local; *r;) {
        if (isdigit((unsigned char)*r)) {
            while (isdigit((unsigned char)*r))
                r++;
            *w++ = '#';     /* w < r now: the digits are behind us */
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    snprintf(text, sizeof text, "%s%s%s", local, domain[0] ? "@" : "", domain);
    util_lower(text);
    grey_key_part(text, strlen(text), grey_parser_hash(addr),
                  (addr->flags & ENV_OVERSIZED) != 0, out, len);
}

void grey_normalise_rcpt(const struct env_addr *addr, char *out, size_t len)
{
    char text[ENV_LOCAL_MAX + ENV_DOMAIN_MAX + 2];

    if (addr->flags & ENV_NULL) {
        util_strlcpy(out, "<>", len);
        return;
    }
    snprintf(text, sizeof text, "%s%s%s", addr->local, addr->domain[0] ? "@" : "",
             addr->domain);
    util_lower(text);
    grey_key_part(text, strlen(text), grey_parser_hash(addr),
                  (addr->flags & ENV_OVERSIZED) != 0, out, len);
}

void grey_client_net(const struct cfg_greylist *g, const struct net_addr *client,
                     struct net_cidr *out)
{
    out->addr = *client;
    out->prefix = client->family == AF_INET ? g->ipv4_prefix : g->ipv6_prefix;
    net_mask(&out->addr, out->prefix);
}

/* grey_refresh - how old a known record's last use may be before a use is
 * written again (0: every use is written) */
static uint64_t grey_refresh(const struct cfg_greylist *g)
{
    return g->read_mostly ? g->pass_lifetime / GREY_REFRESH_DIV : 0;
}

/* grey_start - a triplet seen for the first time (or starting over) */
static struct grey_outcome grey_start(const struct cfg_greylist *g,
                                      struct rec_triplet *t, time_t now, time_t *expires)
{
    struct grey_outcome o = {GREY_NEW, g->delay, 0, 1};
    t->first_seen = t->last_seen = (uint64_t)now;
    t->passes = 0;
    *expires = now + (time_t)g->retry_window;
    if (g->delay == 0) {
        /* delay 0 (tests, or greylisting off): the first attempt passes */
        t->passes = 1;
        *expires = now + (time_t)g->pass_lifetime;
        o.state = GREY_PASSED;
        o.remaining = 0;
    }
    return o;
}

struct grey_outcome grey_step(const struct cfg_greylist *g, int found,
                              struct rec_triplet *t, time_t now, time_t *expires)
{
    struct grey_outcome o = {GREY_NEW, 0, 0, 1};
    uint64_t unow = (uint64_t)now;

    if (!found)
        return grey_start(g, t, now, expires);
    /* boundaries match the store's: a record is gone at its expiry time */
    if (t->passes > 0) {
        if (unow >= t->last_seen + g->pass_lifetime)
            return grey_start(g, t, now, expires);
        o.state = GREY_KNOWN;
        uint64_t refresh = grey_refresh(g);
        /* read-mostly: nothing to write while the last use is recent.
         * (Without a refresh interval every use counts, also one whose
         * clock is a second behind the host that wrote last_seen.) */
        if (refresh > 0 && unow < t->last_seen + refresh) {
            o.changed = 0;
            return o;
        }
        if (t->passes < UINT32_MAX)
            t->passes++;
        if (unow > t->last_seen)
            t->last_seen = unow;
        *expires = (time_t)(t->last_seen + g->pass_lifetime);
        return o;
    }
    /* pending; a clock that went backwards counts as no time passed */
    uint64_t waited = unow > t->first_seen ? unow - t->first_seen : 0;
    if (waited >= g->retry_window)
        return grey_start(g, t, now, expires);
    if (waited < g->delay) {
        o.state = GREY_EARLY;
        o.remaining = (unsigned)(g->delay - waited);
        if (unow > t->last_seen)
            t->last_seen = unow;
        *expires = (time_t)(t->first_seen + g->retry_window);
        return o;
    }
    o.state = GREY_PASSED;
    o.delayed = (unsigned)waited;
    t->passes = 1;
    t->last_seen = unow;
    *expires = now + (time_t)g->pass_lifetime;
    return o;
}

int grey_client_count(const struct cfg_greylist *g, int found, struct rec_client *c,
                      time_t now, time_t *expires)
{
    uint64_t unow = (uint64_t)now;
    int counted = !found || unow >= c->last_counted + 3600;

    /* read-mostly: a pass within the hour of the last one counted, with a
     * recent last pass, changes nothing worth a write */
    if (!counted && grey_refresh(g) > 0 && unow < c->last_pass + grey_refresh(g))
        return 0;
    if (!found)
        memset(c, 0, sizeof *c);
    if (counted) {
        if (c->passes < UINT32_MAX)
            c->passes++;
        c->last_counted = unow;
    }
    if (unow > c->last_pass)
        c->last_pass = unow;
    *expires = now + (time_t)g->pass_lifetime;
    return 1;
}

int grey_client_listed(const struct cfg_greylist *g, int found,
                       const struct rec_client *c, time_t now)
{
    return found && g->auto_whitelist > 0 && c->passes >= g->auto_whitelist
           && (uint64_t)now <= c->last_pass + g->pass_lifetime;
}
