/*
 * whitelist.c - whitelists; see whitelist.h
 *
 * Exact names live in one open-addressing hash table keyed by "tag:text"
 * (the whole key is hashed: structured traffic must not collapse into a
 * few buckets); networks are a short array scanned in order.
 */
#include "autoconf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"
#include "whitelist.h"

struct wl_name {
    char *key;          /* "tag:text"; NULL = empty slot */
    time_t expires;
};

struct wl_net {
    struct net_cidr cidr;
    time_t expires;
};

struct wl {
    struct wl_name *names;
    size_t nnames, cap;
    struct wl_net *nets;
    size_t nnets, netcap;
};

static const char *wl_names[] = {"ip", "host", "sender", "rcpt"};

struct wl *wl_new(void)
{
    struct wl *wl = calloc(1, sizeof *wl);
    if (wl == NULL)
        log_fatal("out of memory");
    return wl;
}

void wl_free(struct wl *wl)
{
    if (wl == NULL)
        return;
    for (size_t i = 0; i < wl->cap; i++)
        free(wl->names[i].key);
    free(wl->names);
    free(wl->nets);
    free(wl);
}

size_t wl_count(const struct wl *wl)
{
    return wl->nnames + wl->nnets;
}

int wl_parse_type(const char *s, enum wl_type *out)
{
    for (size_t i = 0; i < sizeof wl_names / sizeof wl_names[0]; i++)
        if (strcmp(s, wl_names[i]) == 0) {
            *out = (enum wl_type)i;
            return 0;
        }
    return -1;
}

const char *wl_type_name(enum wl_type t)
{
    return wl_names[t];
}

/* wl_valid_domain - letters, digits, '-', '.', '_'; no empty label */
static int wl_valid_domain(const char *d)
{
    if (*d == '\0' || *d == '.' || strlen(d) > 255 || strstr(d, "..") != NULL)
        return 0;
    for (; *d; d++)
        if (!isalnum((unsigned char)*d) && *d != '-' && *d != '.' && *d != '_')
            return 0;
    return 1;
}

/* wl_valid_local - printable ASCII without space, '@' or brackets */
static int wl_valid_local(const char *s, size_t n)
{
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '@' || s[i] == '<' || s[i] == '>')
            return 0;
    return 1;
}

int wl_normalise(enum wl_type t, const char *value, char *out, size_t len,
                 const char **why)
{
    char buf[WL_VALUE_MAX + 1];
    const char *at;

    if (strlen(value) > WL_VALUE_MAX) {
        *why = "entry too long";
        return -1;
    }
    util_strlcpy(buf, value, sizeof buf);
    if (t != WL_IP)
        util_lower(buf);
    switch (t) {
    case WL_IP: {
        struct net_cidr c;
        if (net_parse_cidr(buf, &c) < 0) {
            *why = "not an IP address or CIDR network";
            return -1;
        }
        if (c.prefix == net_max_prefix(&c.addr))
            net_format(&c.addr, out, len);
        else
            net_format_cidr(&c, out, len);
        return 0;
    }
    case WL_HOST:
        if (!wl_valid_domain(buf[0] == '.' ? buf + 1 : buf)) {
            *why = "not a host name or .domain suffix";
            return -1;
        }
        break;
    case WL_SENDER:
    case WL_RCPT:
        at = strrchr(buf, '@');
        if (at == NULL) {
            *why = "not an address, local@ or @domain";
            return -1;
        }
        if (at == buf) {
            if (!wl_valid_domain(at + 1)) {
                *why = "invalid domain";
                return -1;
            }
        } else if (!wl_valid_local(buf, (size_t)(at - buf))) {
            *why = "invalid local part";
            return -1;
        } else if (at[1] == '\0') {
            if (t == WL_SENDER) {
                *why = "local@ entries are for recipients only";
                return -1;
            }
        } else if (!wl_valid_domain(at + 1)) {
            *why = "invalid domain";
            return -1;
        }
        break;
    }
    util_strlcpy(out, buf, len);
    return 0;
}

/* wl_find - slot of key, or the empty slot where it would go */
static struct wl_name *wl_find(const struct wl *wl, const char *key)
{
    size_t mask = wl->cap - 1;
    size_t i = (size_t)util_hash64(key, strlen(key)) & mask;
    while (wl->names[i].key != NULL && strcmp(wl->names[i].key, key) != 0)
        i = (i + 1) & mask;
    return &wl->names[i];
}

/* wl_insert_name - add "tag:text" to the hash table (later expiry wins) */
static void wl_insert_name(struct wl *wl, const char *tag, const char *text, time_t expires)
{
    char key[WL_VALUE_MAX + 8];
    struct wl_name *slot;

    if (wl->nnames * 2 >= wl->cap) {
        struct wl old = *wl;
        wl->cap = wl->cap ? wl->cap * 2 : 64;
        wl->names = calloc(wl->cap, sizeof *wl->names);
        if (wl->names == NULL)
            log_fatal("out of memory");
        for (size_t i = 0; i < old.cap; i++)
            if (old.names[i].key != NULL)
                *wl_find(wl, old.names[i].key) = old.names[i];
        free(old.names);
    }
    snprintf(key, sizeof key, "%s:%s", tag, text);
    slot = wl_find(wl, key);
    if (slot->key != NULL) {
        if (slot->expires != 0 && (expires == 0 || expires > slot->expires))
            slot->expires = expires;
        return;
    }
    slot->key = strdup(key);
    if (slot->key == NULL)
        log_fatal("out of memory");
    slot->expires = expires;
    wl->nnames++;
}

/* wl_lookup - is "tag:text" listed and unexpired? */
static int wl_lookup(const struct wl *wl, const char *tag, const char *text, time_t now)
{
    char key[WL_VALUE_MAX + 8];
    const struct wl_name *slot;

    if (wl->cap == 0 || strlen(text) > WL_VALUE_MAX)
        return 0;
    snprintf(key, sizeof key, "%s:%s", tag, text);
    slot = wl_find(wl, key);
    return slot->key != NULL && (slot->expires == 0 || slot->expires > now);
}

int wl_add(struct wl *wl, enum wl_type t, const char *value, time_t expires,
           const char **why)
{
    char norm[WL_VALUE_MAX + 1];

    if (wl_normalise(t, value, norm, sizeof norm, why) < 0)
        return -1;
    if (t == WL_IP) {
        if (wl->nnets == wl->netcap) {
            wl->netcap = wl->netcap ? wl->netcap * 2 : 16;
            wl->nets = realloc(wl->nets, wl->netcap * sizeof *wl->nets);
            if (wl->nets == NULL)
                log_fatal("out of memory");
        }
        net_parse_cidr(norm, &wl->nets[wl->nnets].cidr);
        wl->nets[wl->nnets++].expires = expires;
        return 0;
    }
    wl_insert_name(wl, wl_names[t], norm, expires);
    return 0;
}

int wl_load_file(struct wl *wl, int clients_file, enum wl_type t, const char *path,
                 cfg_report_fn report, void *arg)
{
    char line[1024], msg[PATH_MAX + 1200];
    unsigned lineno = 0;
    int bad = 0;
    FILE *fp = fopen(path, "r");

    if (fp == NULL) {
        snprintf(msg, sizeof msg, "%s:0: cannot open: %s", path, strerror(errno));
        report(arg, msg);
        return -1;
    }
    while (fgets(line, sizeof line, fp) != NULL) {
        char *hash, *entry;
        const char *why = NULL;
        enum wl_type type = t;

        lineno++;
        if (strchr(line, '\n') == NULL && !feof(fp)) {
            snprintf(msg, sizeof msg, "%s:%u: line too long", path, lineno);
            report(arg, msg);
            bad = 1;
            int c;
            while ((c = fgetc(fp)) != EOF && c != '\n')
                ;
            continue;
        }
        if ((hash = strchr(line, '#')) != NULL)
            *hash = '\0';
        entry = util_trim(line);
        if (*entry == '\0')
            continue;
        if (clients_file) {
            struct net_cidr c;
            type = net_parse_cidr(entry, &c) == 0 ? WL_IP : WL_HOST;
        }
        if (wl_add(wl, type, entry, 0, &why) < 0) {
            snprintf(msg, sizeof msg, "%s:%u: %s: %s", path, lineno, entry, why);
            report(arg, msg);
            bad = 1;
        }
    }
    fclose(fp);
    return bad ? -1 : 0;
}

int wl_match_client(const struct wl *wl, const struct net_addr *addr,
                    const char *verified_host, time_t now, char *what, size_t len)
{
    char name[WL_VALUE_MAX + 1];

    for (size_t i = 0; i < wl->nnets; i++) {
        const struct wl_net *n = &wl->nets[i];
        if ((n->expires == 0 || n->expires > now) && net_cidr_match(&n->cidr, addr)) {
            net_format_cidr(&n->cidr, name, sizeof name);
            snprintf(what, len, "ip %s", name);
            return 1;
        }
    }
    if (verified_host == NULL || *verified_host == '\0'
        || strlen(verified_host) > WL_VALUE_MAX)
        return 0;
    util_strlcpy(name, verified_host, sizeof name);
    util_lower(name);
    if (wl_lookup(wl, "host", name, now)) {
        snprintf(what, len, "host %s", name);
        return 1;
    }
    for (const char *dot = strchr(name, '.'); dot != NULL; dot = strchr(dot + 1, '.'))
        if (wl_lookup(wl, "host", dot, now)) {
            snprintf(what, len, "host %s", dot);
            return 1;
        }
    return 0;
}

/* wl_match_addr - full address, then local@ (rcpt only), then @domain */
static int wl_match_addr(const struct wl *wl, const char *tag, int with_local,
                         const struct env_addr *a, time_t now, char *what, size_t len)
{
    char text[ENV_LOCAL_MAX + ENV_DOMAIN_MAX + 2];

    if (a->flags & (ENV_NULL | ENV_MALFORMED | ENV_OVERSIZED))
        return 0;
    snprintf(text, sizeof text, "%s@%s", a->local, a->domain);
    util_lower(text);
    if (a->domain[0] != '\0' && wl_lookup(wl, tag, text, now))
        goto found;
    if (with_local) {
        snprintf(text, sizeof text, "%s@", a->local);
        util_lower(text);
        if (wl_lookup(wl, tag, text, now))
            goto found;
    }
    if (a->domain[0] != '\0') {
        snprintf(text, sizeof text, "@%s", a->domain);
        if (wl_lookup(wl, tag, text, now))
            goto found;
    }
    return 0;
found:
    snprintf(what, len, "%s %s", tag, text);
    return 1;
}

int wl_match_sender(const struct wl *wl, const struct env_addr *a, time_t now,
                    char *what, size_t len)
{
    return wl_match_addr(wl, "sender", 0, a, now, what, len);
}

int wl_match_rcpt(const struct wl *wl, const struct env_addr *a, time_t now,
                  char *what, size_t len)
{
    return wl_match_addr(wl, "rcpt", 1, a, now, what, len);
}
