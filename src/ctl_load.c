/*
 * ctl_load.c - greyrepctl dump, load and del; see ctl_load.h
 */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_json.h"
#include "ctl_load.h"
#include "decide.h"
#include "netaddr.h"
#include "record.h"
#include "util.h"
#include "whitelist.h"

#define ADMIN_STAMP_KEY "v|whitelist"   /* decide.c's */
#define ADMIN_STAMP_LEN 16

/* printable - every byte a visible ASCII character (keys escape the rest) */
static int printable(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
            return 0;
    return 1;
}

/* triplet_key_ok - "NET|SENDER|RCPT" as decide_triplet_key() writes it */
static int triplet_key_ok(const char *rest)
{
    char net[STORE_MAX_KEY], shown[NET_STRLEN];
    const char *p1 = strchr(rest, '|'), *p2 = p1 ? strchr(p1 + 1, '|') : NULL;
    struct net_cidr c;

    if (!printable(rest) || p1 == NULL || p2 == NULL || strchr(p2 + 1, '|') != NULL
        || p1 == rest || p2 == p1 + 1 || p2[1] == '\0')
        return 0;
    memcpy(net, rest, (size_t)(p1 - rest));
    net[p1 - rest] = '\0';
    if (strncmp(net, "spf:", 4) == 0)
        return net[4] != '\0';
    return net_parse_cidr(net, &c) == 0
           && strcmp(net_format_cidr(&c, shown, sizeof shown), net) == 0;
}

/* wl_key_ok - "TYPE|VALUE" with VALUE in wl_normalise()'s canonical form */
static int wl_key_ok(const char *rest)
{
    char type[16], norm[WL_VALUE_MAX + 1];
    const char *bar = strchr(rest, '|'), *why;
    enum wl_type t;

    if (bar == NULL || (size_t)(bar - rest) >= sizeof type)
        return 0;
    memcpy(type, rest, (size_t)(bar - rest));
    type[bar - rest] = '\0';
    return wl_parse_type(type, &t) == 0
           && wl_normalise(t, bar + 1, norm, sizeof norm, &why) == 0
           && strcmp(norm, bar + 1) == 0;
}

const char *ctl_record_problem(const char *key, const unsigned char *val, size_t vlen)
{
    struct rec_triplet t;
    struct rec_client c;
    struct rec_wl w;
    struct rec_counters n;
    struct net_addr a;
    char shown[NET_STRLEN];

    if (key[0] == '\0' || key[1] != '|')
        return "not a key greyrep knows (t|, c|, w|, v|whitelist, s|)";
    switch (key[0]) {
    case 't':
        if (!triplet_key_ok(key + 2))
            return "not a triplet key (t|NET|SENDER|RCPT)";
        return rec_triplet_decode(val, vlen, &t) < 0 ? "value is not a triplet record" : NULL;
    case 'c':
        if (net_parse(key + 2, &a) < 0 || strcmp(net_format(&a, shown, sizeof shown), key + 2))
            return "not a client key (c|ADDRESS)";
        return rec_client_decode(val, vlen, &c) < 0 ? "value is not a client record" : NULL;
    case 'w':
        if (!wl_key_ok(key + 2))
            return "not a whitelist key (w|TYPE|VALUE, VALUE as greyrepctl writes it)";
        return rec_wl_decode(val, vlen, &w) < 0 ? "value is not a whitelist record" : NULL;
    case 'v':
        if (strcmp(key, ADMIN_STAMP_KEY) != 0)
            return "not a key greyrep knows (v|whitelist is the only v| key)";
        return vlen != ADMIN_STAMP_LEN ? "value is not a whitelist stamp" : NULL;
    case 's':
        if (!printable(key + 2))
            return "not a counters key (s|HOST)";
        return rec_counters_decode(val, vlen, &n) < 0 ? "value is not a counters record" : NULL;
    default:
        return "not a key greyrep knows (t|, c|, w|, v|whitelist, s|)";
    }
}

/* hexval - one hex digit, or -1 (no sscanf: it would skip white space) */
static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* shorten - at most 60 bytes of s, for an error message */
static void shorten(char *bad, size_t badlen, const char *s, size_t len)
{
    snprintf(bad, badlen, "%.*s%s", (int)(len > 60 ? 60 : len), s, len > 60 ? "..." : "");
}

const char *ctl_load_line(const char *line, char *key, unsigned char *val, size_t *vlen,
                          int64_t *expires, char *bad, size_t badlen)
{
    struct json_obj obj;
    const struct json_field *k, *e, *v;
    const char *why = NULL;

    bad[0] = '\0';
    if (json_parse_line(line, &obj, &why) < 0) {
        shorten(bad, badlen, line, strlen(line));
        return why;
    }
    k = json_get(&obj, "key");
    e = json_get(&obj, "expires");
    v = json_get(&obj, "value");
    if (k == NULL || k->str == NULL) {
        why = "no \"key\" string";
    } else if (k->len == 0 || k->len >= STORE_MAX_KEY || strlen(k->str) != k->len) {
        why = "key empty, longer than 511 bytes or with a NUL";
        shorten(bad, badlen, k->str, k->len);
    } else if (e == NULL || e->str != NULL || e->num < 0) {
        why = "no \"expires\" number (0 or a unix time)";
    } else if (v == NULL || v->str == NULL) {
        why = "no \"value\" string";
    } else if (v->len % 2 != 0 || v->len / 2 > STORE_MAX_VALUE) {
        why = "value is not an even number of hex digits (at most 2048)";
        shorten(bad, badlen, v->str, v->len);
    } else {
        for (size_t i = 0; i < v->len / 2; i++) {
            int hi = hexval(v->str[2 * i]), lo = hexval(v->str[2 * i + 1]);
            if (hi < 0 || lo < 0) {
                why = "value is not hex";
                shorten(bad, badlen, v->str, v->len);
                break;
            }
            val[i] = (unsigned char)(hi << 4 | lo);
        }
        if (why == NULL) {
            *vlen = v->len / 2;
            memcpy(key, k->str, k->len + 1);
            *expires = e->num;
            if ((why = ctl_record_problem(key, val, *vlen)) != NULL)
                shorten(bad, badlen, k->str, k->len);
        }
    }
    json_free(&obj);
    return why;
}

/* dump_one - one record as a JSON line, with decoded fields for people */
static int dump_one(void *arg, const char *key, size_t klen, const void *val, size_t vlen,
                    time_t expires)
{
    const unsigned char *v = val;
    char k[STORE_MAX_KEY];
    const char *problem = "key longer than 511 bytes";
    (void)arg;

    if (klen < sizeof k) {
        memcpy(k, key, klen);
        k[klen] = '\0';
        problem = memchr(key, '\0', klen) ? "key holds a NUL" : ctl_record_problem(k, val, vlen);
    }
    printf("{\"key\":");
    json_string(stdout, key, klen);
    printf(",\"expires\":%lld,\"value\":\"", (long long)expires);
    for (size_t i = 0; i < vlen; i++)
        printf("%02x", v[i]);
    printf("\"");
    /* decoded fields, for people reading the dump; load ignores them */
    if (problem != NULL) {
        printf(",\"problem\":");
        json_string(stdout, problem, strlen(problem));
    } else if (key[0] == 't') {
        struct rec_triplet t;
        rec_triplet_decode(val, vlen, &t);
        printf(",\"type\":\"triplet\",\"first_seen\":%llu,\"last_seen\":%llu,\"passes\":%u",
               (unsigned long long)t.first_seen, (unsigned long long)t.last_seen, t.passes);
    } else if (key[0] == 'c') {
        struct rec_client c;
        rec_client_decode(val, vlen, &c);
        printf(",\"type\":\"client\",\"passes\":%u,\"last_pass\":%llu", c.passes,
               (unsigned long long)c.last_pass);
    } else if (key[0] == 'w') {
        printf(",\"type\":\"whitelist\"");
    }
    printf("}\n");
    return ferror(stdout) ? 1 : 0;
}

int ctl_dump(struct store *st)
{
    int rc = store_iterate(st, "", util_now(), dump_one, NULL) == STORE_OK ? 0 : 1;
    if (fflush(stdout) != 0 || ferror(stdout))
        rc = 1;
    if (rc)
        fprintf(stderr, "greyrepctl: dump: store failure or output error\n");
    return rc;
}

/* one checked line, kept until everything is checked */
struct load_rec {
    char key[STORE_MAX_KEY];
    unsigned char val[STORE_MAX_VALUE];
    size_t vlen;
    int64_t expires;
};

int ctl_load(struct store *st, const char *file)
{
    FILE *fp = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
    const char *name = strcmp(file, "-") == 0 ? "-" : file;
    struct load_rec *recs = NULL;
    struct store_item *items = NULL;
    size_t n = 0, cap = 0, linecap = 0, live = 0;
    char *line = NULL, bad[128];
    unsigned lineno = 0;
    int whitelist = 0, stamp = 0, rc = 1;
    time_t now = util_now();
    ssize_t got;

    if (fp == NULL) {
        fprintf(stderr, "greyrepctl: cannot open %s: %s\n", file, strerror(errno));
        return 1;
    }
    while ((got = getline(&line, &linecap, fp)) > 0) {
        const char *why;
        lineno++;
        if (strlen(line) != (size_t)got) {
            fprintf(stderr, "greyrepctl: %s:%u: a NUL byte in the line\n", name, lineno);
            goto out;
        }
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0')
            continue;
        if (n == cap) {
            size_t ncap = cap ? 2 * cap : 64;
            struct load_rec *r = realloc(recs, ncap * sizeof *recs);
            if (r == NULL) {
                fprintf(stderr, "greyrepctl: %s:%u: out of memory\n", name, lineno);
                goto out;
            }
            recs = r;
            cap = ncap;
        }
        struct load_rec *r = &recs[n];
        if ((why = ctl_load_line(line, r->key, r->val, &r->vlen, &r->expires, bad,
                                 sizeof bad)) != NULL) {
            fprintf(stderr, "greyrepctl: %s:%u: %s%s%s\n", name, lineno, why,
                    bad[0] ? ": " : "", bad);
            goto out;
        }
        n++;
    }
    if (ferror(fp)) {
        fprintf(stderr, "greyrepctl: %s: read error after line %u\n", name, lineno);
        goto out;
    }
    if ((items = calloc(n ? n : 1, sizeof *items)) == NULL) {
        fprintf(stderr, "greyrepctl: out of memory\n");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (recs[i].expires != 0 && recs[i].expires <= now)
            continue;           /* expired while it was on disk */
        items[live++] = (struct store_item){recs[i].key, recs[i].val, recs[i].vlen,
                                            (time_t)recs[i].expires};
        whitelist |= recs[i].key[0] == 'w';
        stamp |= strcmp(recs[i].key, ADMIN_STAMP_KEY) == 0;
    }
    if (store_put_many(st, items, live) != STORE_OK) {
        fprintf(stderr, "greyrepctl: %s: store failure: nothing was loaded\n", name);
        goto out;
    }
    /* a dump carries its own stamp; without one, tell running daemons */
    if (whitelist && !stamp && decide_admin_bump(st) != STORE_OK) {
        fprintf(stderr, "greyrepctl: store failure writing the whitelist stamp\n");
        goto out;
    }
    fprintf(stderr, "greyrepctl: loaded %zu records (%zu expired skipped)\n", live, n - live);
    rc = 0;
out:
    free(items);
    free(recs);
    free(line);
    if (fp != stdin)
        fclose(fp);
    return rc;
}

int ctl_del(struct store *st, const char *key)
{
    unsigned char buf[STORE_MAX_VALUE];
    size_t len = sizeof buf;
    int rc;

    if (key[0] == '\0' || strlen(key) >= STORE_MAX_KEY) {
        fprintf(stderr, "greyrepctl: del: a key is 1 to 511 bytes\n");
        return 1;
    }
    rc = store_get(st, key, buf, &len, NULL, util_now());
    if (rc == STORE_NOTFOUND) {
        fprintf(stderr, "greyrepctl: del: no record %s\n", key);
        return 1;
    }
    if (rc != STORE_OK || store_del(st, key) != STORE_OK) {
        fprintf(stderr, "greyrepctl: del: store failure\n");
        return 1;
    }
    /* the daemons' mirror of the admin whitelist must forget it too */
    if ((strncmp(key, "w|", 2) == 0 || strcmp(key, ADMIN_STAMP_KEY) == 0)
        && decide_admin_bump(st) != STORE_OK) {
        fprintf(stderr, "greyrepctl: del: store failure writing the whitelist stamp\n");
        return 1;
    }
    return 0;
}
