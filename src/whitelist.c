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
#include <regex.h>
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

struct wl_regex {
    regex_t re;
    char *text;         /* "/RE/" as listed */
    time_t expires;
};

struct wl {
    struct wl_name *names;
    size_t nnames, cap;
    struct wl_net *nets;
    size_t nnets, netcap;
    struct wl_regex *res;
    size_t nres, recap;
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
    for (size_t i = 0; i < wl->nres; i++) {
        regfree(&wl->res[i].re);
        free(wl->res[i].text);
    }
    free(wl->res);
    free(wl);
}

size_t wl_count(const struct wl *wl)
{
    return wl->nnames + wl->nnets + wl->nres;
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

/* wl_domain_problem - NULL for a valid domain (letters, digits, '-', '_',
 * dots between non-empty labels), else why not */
static const char *wl_domain_problem(const char *d)
{
    const char *label = d, *last = d;

    if (*d == '\0')
        return "empty name";
    if (strlen(d) > 253)
        return "name longer than 253 characters";
    for (const char *p = d;; p++) {
        if (*p == '.' || *p == '\0') {
            if (p == label)
                return "empty label (two dots, or a dot at the start)";
            if (p - label > 63)
                return "label longer than 63 characters";
            last = label;
            if (*p == '\0')
                break;
            label = p + 1;
        } else if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_') {
            return "character not allowed in a host name";
        }
    }
    /* a numeric top label is an IP address gone wrong (300.1.2.3), never a name */
    for (const char *p = last;; p++) {
        if (*p == '\0')
            return "numeric last label: not a host name (a bad IP address?)";
        if (!isdigit((unsigned char)*p))
            break;
    }
    return NULL;
}

/* wl_strip_dot - "name." is the same name as "name" (DNS root dot) */
static void wl_strip_dot(char *s)
{
    size_t n = strlen(s);
    if (n > 1 && s[n - 1] == '.' && s[n - 2] != '.')
        s[n - 1] = '\0';
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

/* wl_ipv4_shape - only digits, dots and '/': meant as an IPv4 entry */
static int wl_ipv4_shape(const char *s)
{
    if (!isdigit((unsigned char)*s))
        return 0;
    return strspn(s, "0123456789./") == strlen(s);
}

/* wl_parse_ipv4 - "a.b.c.d[/n]" or a partial "a", "a.b", "a.b.c" meaning
 * its /8, /16 or /24 network, into CIDR text; -1 and why */
static int wl_parse_ipv4(const char *s, char *out, size_t len, const char **why)
{
    unsigned oct[4], n = 0, prefix;
    const char *p = s;

    for (;;) {
        unsigned v = 0, digits = 0;
        if (p[0] == '0' && isdigit((unsigned char)p[1])) {
            *why = "IPv4 octet with a leading zero (octal or decimal?)";
            return -1;
        }
        while (isdigit((unsigned char)*p)) {
            if (++digits > 3) {
                *why = "IPv4 octet with more than three digits";
                return -1;
            }
            v = v * 10 + (unsigned)(*p++ - '0');
        }
        if (digits == 0) {
            *why = "empty IPv4 octet";
            return -1;
        }
        if (v > 255) {
            *why = "IPv4 octet over 255";
            return -1;
        }
        if (n == 4) {
            *why = "more than four IPv4 octets";
            return -1;
        }
        oct[n++] = v;
        if (*p != '.')
            break;
        p++;
    }
    prefix = n * 8;
    if (*p == '/') {
        unsigned v = 0, digits = 0;
        if (n != 4) {
            *why = "a /prefix needs all four octets";
            return -1;
        }
        for (p++; isdigit((unsigned char)*p) && digits < 3; p++, digits++)
            v = v * 10 + (unsigned)(*p - '0');
        if (digits == 0 || *p != '\0') {
            *why = "bad network prefix";
            return -1;
        }
        if (v > 32) {
            *why = "network prefix over /32";
            return -1;
        }
        prefix = v;
    } else if (*p != '\0') {
        *why = "not an IPv4 address";
        return -1;
    }
    for (unsigned i = n; i < 4; i++)
        oct[i] = 0;
    snprintf(out, len, "%u.%u.%u.%u/%u", oct[0], oct[1], oct[2], oct[3], prefix);
    return 0;
}

/* wl_regex_cost - NULL if the ERE stays cheap to compile, else why not.
 * glibc's regcomp() grows exponentially with stacked repetitions: "a" and
 * twenty '+' take a second, seventy exhaust a gigabyte, and so do three
 * nested {0,100}.  So: no repetition of a repetition, groups nested at
 * most WL_REGEX_DEPTH deep, {m,n} bounds at most WL_REGEX_BOUND, at most
 * two {...} in one expression. */
static const char *wl_regex_cost(const char *re)
{
    int depth = 0, braces = 0, after_rep = 0;

    for (const char *p = re; *p; p++) {
        if (*p == '\\') {
            if (*++p == '\0')
                return "trailing backslash";
            if (*p >= '1' && *p <= '9')
                return "a back-reference (not POSIX ERE; slow to match)";
            after_rep = 0;
        } else if (*p == '[') {
            p++;
            if (*p == '^')
                p++;
            if (*p == ']')
                p++;
            for (; *p && *p != ']'; p++)
                if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
                    char close = p[1];
                    for (p += 2; *p && !(*p == close && p[1] == ']'); p++)
                        ;
                    if (*p == '\0')
                        return "unterminated [ expression";
                    p++;
                }
            if (*p == '\0')
                return "unterminated [ expression";
            after_rep = 0;
        } else if (*p == '*' || *p == '+' || *p == '?' || *p == '{') {
            if (after_rep)
                return "a repetition of a repetition (like a++ or a*{2})";
            if (*p == '{') {
                unsigned long v;
                char *end;
                if (++braces > 2)
                    return "more than two {m,n} repetitions";
                for (const char *q = p + 1;; q = end + 1) {
                    v = strtoul(q, &end, 10);
                    if (end == q && *end != ',' && *end != '}')
                        return "malformed {m,n}";
                    if (v > WL_REGEX_BOUND)
                        return "a {m,n} bound over 32";
                    if (*end == '}')
                        break;
                    if (*end != ',')
                        return "malformed {m,n}";
                }
                p = end;
            }
            after_rep = 1;
        } else if (*p == '(') {
            if (++depth > WL_REGEX_DEPTH)
                return "groups nested more than 5 deep";
            after_rep = 0;
        } else if (*p == ')') {
            depth--;
            after_rep = 0;
        } else {
            after_rep = 0;
        }
    }
    return NULL;
}

/* wl_check_regex - "/RE/": a POSIX ERE of bounded length that compiles */
static int wl_check_regex(const char *s, const char **why)
{
    size_t n = strlen(s);
    char body[WL_REGEX_MAX + 1];
    regex_t re;

    if (n < 3 || s[n - 1] != '/') {
        *why = n < 3 ? "empty regular expression" : "regular expression without closing /";
        return -1;
    }
    if (n - 2 > WL_REGEX_MAX) {
        *why = "regular expression longer than 200 characters";
        return -1;
    }
    memcpy(body, s + 1, n - 2);
    body[n - 2] = '\0';
    if ((*why = wl_regex_cost(body)) != NULL)
        return -1;
    if (regcomp(&re, body, REG_EXTENDED | REG_NOSUB | REG_ICASE) != 0) {
        *why = "not a valid POSIX extended regular expression";
        return -1;
    }
    regfree(&re);
    return 0;
}

int wl_normalise(enum wl_type t, const char *value, char *out, size_t len,
                 const char **why)
{
    char buf[WL_VALUE_MAX + 1];
    const char *at, *problem;

    if (strlen(value) > WL_VALUE_MAX) {
        *why = "entry too long";
        return -1;
    }
    util_strlcpy(buf, value, sizeof buf);
    if (t == WL_HOST && buf[0] == '/') {
        /* a regular expression keeps its text: case is handled by REG_ICASE */
        if (wl_check_regex(buf, why) < 0)
            return -1;
        util_strlcpy(out, buf, len);
        return 0;
    }
    if (t != WL_IP)
        util_lower(buf);
    switch (t) {
    case WL_IP: {
        struct net_cidr c;
        char v4[NET_STRLEN];
        if (wl_ipv4_shape(buf)) {
            if (wl_parse_ipv4(buf, v4, sizeof v4, why) < 0)
                return -1;
            util_strlcpy(buf, v4, sizeof buf);
        }
        if (net_parse_cidr(buf, &c) < 0) {
            const char *slash = strrchr(buf, '/');
            uint64_t prefix;
            if (slash != NULL && strchr(buf, ':') != NULL
                && util_parse_u64(slash + 1, 0, 1000, &prefix) == 0 && prefix > 128)
                *why = "network prefix over /128";
            else
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
        wl_strip_dot(buf);
        if (wl_ipv4_shape(buf)) {
            *why = "looks like an IPv4 address: use an ip entry";
            return -1;
        }
        if ((problem = wl_domain_problem(buf[0] == '.' ? buf + 1 : buf)) != NULL) {
            *why = problem;
            return -1;
        }
        break;
    case WL_SENDER:
    case WL_RCPT:
        wl_strip_dot(buf);
        at = strrchr(buf, '@');
        if (at == NULL) {
            *why = "not an address, local@ or @domain";
            return -1;
        }
        if (at == buf) {
            if ((problem = wl_domain_problem(at + 1)) != NULL) {
                *why = problem;
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
        } else if ((problem = wl_domain_problem(at + 1)) != NULL) {
            *why = problem;
            return -1;
        }
        break;
    }
    util_strlcpy(out, buf, len);
    return 0;
}

int wl_client_type(const char *entry, enum wl_type *out)
{
    struct net_cidr c;
    if (entry[0] == '/')
        *out = WL_HOST;
    else if (wl_ipv4_shape(entry) || strchr(entry, ':') != NULL
             || net_parse_cidr(entry, &c) == 0)
        *out = WL_IP;
    else
        *out = WL_HOST;
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
    if (t == WL_HOST && norm[0] == '/') {
        struct wl_regex *r;
        size_t n = strlen(norm);
        for (size_t i = 0; i < wl->nres; i++)
            if (strcmp(wl->res[i].text, norm) == 0) {
                if (wl->res[i].expires != 0 && (expires == 0 || expires > wl->res[i].expires))
                    wl->res[i].expires = expires;
                return 0;
            }
        if (wl->nres == wl->recap) {
            wl->recap = wl->recap ? wl->recap * 2 : 8;
            wl->res = realloc(wl->res, wl->recap * sizeof *wl->res);
            if (wl->res == NULL)
                log_fatal("out of memory");
        }
        r = &wl->res[wl->nres];
        norm[n - 1] = '\0';     /* compiled once, here: the body between the slashes */
        if (regcomp(&r->re, norm + 1, REG_EXTENDED | REG_NOSUB | REG_ICASE) != 0) {
            *why = "not a valid POSIX extended regular expression";
            return -1;
        }
        norm[n - 1] = '/';
        if ((r->text = strdup(norm)) == NULL)
            log_fatal("out of memory");
        r->expires = expires;
        wl->nres++;
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
        if (clients_file)
            wl_client_type(entry, &type);
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
    for (size_t i = 0; i < wl->nres; i++) {
        const struct wl_regex *r = &wl->res[i];
        if ((r->expires == 0 || r->expires > now) && regexec(&r->re, name, 0, NULL, 0) == 0) {
            snprintf(what, len, "host %s", r->text);
            return 1;
        }
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
