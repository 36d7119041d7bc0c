/*
 * NAME
 *   dnsbl.c - DNS block list zones, query names, lookups and score
 * DESCRIPTION
 *   See dnsbl.h for the zone syntax and the contract.  Parsing is strict:
 *   numbers through strtol with ranges and no trailing bytes, addresses
 *   through inet_pton, zone names checked label by label.
 */
#include "autoconf.h"

#include <sys/types.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dnsbl.h"
#include "util.h"

/* 127.0.0.2 - 127.255.254.255: see dnsbl.h */
#define DNSBL_DEFAULT_LO 0x7f000002u
#define DNSBL_DEFAULT_HI 0x7ffffeffu

struct dnsbl_lookup {
    struct dnsbl_list list; /* a copy: config may reload */
    struct dns_query *q[DNSBL_MAX_ZONES];
    bool done;
    struct dnsbl_outcome outcome;
};

/* dnsbl_error - format err if there is room; returns -1 */
static int dnsbl_error(char *err, size_t errlen, const char *fmt, const char *arg)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, fmt, arg);
    return -1;
}

/* dnsbl_snippet - up to 40 bytes of s for an error, one printable line */
static void dnsbl_snippet(char *out, size_t size, const char *s, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len && i < 40 && n + 1 < size; i++)
        out[n++] = (s[i] > 0x20 && s[i] < 0x7f) ? s[i] : '?';
    out[n] = '\0';
}

/* dnsbl_zone_ok - a DNS name short enough to prefix with an address */
static bool dnsbl_zone_ok(const char *s, size_t len)
{
    return len <= DNSBL_ZONE_MAX && util_dns_name_ok(s, len);
}

/* dnsbl_ipv4 - dotted quad of exactly len bytes to host order */
static bool dnsbl_ipv4(const char *s, size_t len, uint32_t *out)
{
    char buf[16];
    struct in_addr a;

    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (inet_pton(AF_INET, buf, &a) != 1)
        return false;
    *out = ntohl(a.s_addr);
    return true;
}

/* dnsbl_parse_code - A, A-B or A/N into a range */
static bool dnsbl_parse_code(const char *s, size_t len, struct dnsbl_range *r)
{
    const char *dash = memchr(s, '-', len), *slash = memchr(s, '/', len);

    if (dash != NULL && slash != NULL)
        return false;
    if (dash != NULL)
        return dnsbl_ipv4(s, (size_t)(dash - s), &r->lo) &&
               dnsbl_ipv4(dash + 1, len - (size_t)(dash - s) - 1, &r->hi) && r->lo <= r->hi;
    if (slash != NULL) {
        size_t plen = len - (size_t)(slash - s) - 1;
        unsigned prefix = 0;
        uint32_t mask;
        if (plen == 0 || plen > 2)
            return false;
        for (size_t i = 0; i < plen; i++) {
            if (!isdigit((unsigned char)slash[1 + i]))
                return false;
            prefix = prefix * 10 + (unsigned)(slash[1 + i] - '0');
        }
        if (prefix > 32 || !dnsbl_ipv4(s, (size_t)(slash - s), &r->lo))
            return false;
        mask = prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
        r->lo &= mask;
        r->hi = r->lo | ~mask;
        return true;
    }
    if (!dnsbl_ipv4(s, len, &r->lo))
        return false;
    r->hi = r->lo;
    return true;
}

/* dnsbl_parse_zone - ZONE[=WEIGHT][:CODE[,CODE...]] */
int dnsbl_parse_zone(const char *spec, struct dnsbl_zone *out, char *err, size_t errlen)
{
    const char *end, *eq, *colon, *zone_end;
    char tmp[64];
    size_t len;

    if (spec == NULL || out == NULL)
        return dnsbl_error(err, errlen, "%s", "no zone given");
    memset(out, 0, sizeof *out);
    out->weight = 1;
    len = strnlen(spec, 1025);
    if (len > 1024)
        return dnsbl_error(err, errlen, "%s", "zone entry too long");
    end = spec + len;
    colon = memchr(spec, ':', len);
    eq = memchr(spec, '=', colon != NULL ? (size_t)(colon - spec) : len);
    zone_end = eq != NULL ? eq : colon != NULL ? colon : end;

    len = (size_t)(zone_end - spec);
    if (len > 0 && spec[len - 1] == '.')
        len--; /* a final dot is harmless */
    if (len == 0)
        return dnsbl_error(err, errlen, "%s", "zone name missing");
    if (!dnsbl_zone_ok(spec, len)) {
        dnsbl_snippet(tmp, sizeof tmp, spec, len);
        return dnsbl_error(err, errlen, "bad zone name \"%s\"", tmp);
    }
    memcpy(out->name, spec, len);
    out->name[len] = '\0';
    for (char *p = out->name; *p; p++)
        *p = (char)tolower((unsigned char)*p);

    if (eq != NULL) {
        const char *w = eq + 1, *w_end = colon != NULL ? colon : end;
        char *stop;
        long v;
        if (w_end == w || (size_t)(w_end - w) >= sizeof tmp)
            return dnsbl_error(err, errlen, "%s", "weight missing or too long after '='");
        memcpy(tmp, w, (size_t)(w_end - w));
        tmp[w_end - w] = '\0';
        errno = 0;
        v = strtol(tmp, &stop, 10);
        if (errno != 0 || *stop != '\0' || stop == tmp || isspace((unsigned char)tmp[0]) ||
            v < DNSBL_WEIGHT_MIN || v > DNSBL_WEIGHT_MAX) {
            dnsbl_snippet(tmp, sizeof tmp, w, (size_t)(w_end - w));
            return dnsbl_error(err, errlen,
                               "weight \"%s\" is not an integer from -1000 to 1000", tmp);
        }
        out->weight = (int)v;
    }
    if (colon != NULL) {
        const char *p = colon + 1;
        if (p == end)
            return dnsbl_error(err, errlen, "%s", "return codes missing after ':'");
        while (p <= end) {
            const char *comma = memchr(p, ',', (size_t)(end - p));
            const char *c_end = comma != NULL ? comma : end;
            if (out->ncodes >= DNSBL_MAX_CODES)
                return dnsbl_error(err, errlen, "%s", "more than 16 return codes");
            if (!dnsbl_parse_code(p, (size_t)(c_end - p), &out->codes[out->ncodes])) {
                dnsbl_snippet(tmp, sizeof tmp, p, (size_t)(c_end - p));
                return dnsbl_error(err, errlen, "bad return code \"%s\" (want A, A-B or A/N)",
                                   tmp);
            }
            out->ncodes++;
            if (comma == NULL)
                break;
            p = comma + 1;
        }
    }
    return 0;
}

/* dnsbl_list_add - append one zone */
int dnsbl_list_add(struct dnsbl_list *l, const char *spec, char *err, size_t errlen)
{
    struct dnsbl_zone z;

    if (l == NULL)
        return dnsbl_error(err, errlen, "%s", "no list");
    if (dnsbl_parse_zone(spec, &z, err, errlen) < 0)
        return -1;
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->zones[i].name, z.name) == 0)
            return dnsbl_error(err, errlen, "zone %s given twice", z.name);
    if (l->n >= DNSBL_MAX_ZONES)
        return dnsbl_error(err, errlen, "%s", "more than 32 zones");
    l->zones[l->n++] = z;
    return 0;
}

/* dnsbl_list_parse - white-space separated zones */
int dnsbl_list_parse(struct dnsbl_list *l, const char *specs, char *err, size_t errlen)
{
    char one[1100];
    const char *p = specs;

    if (l == NULL)
        return dnsbl_error(err, errlen, "%s", "no list");
    memset(l, 0, sizeof *l);
    if (specs == NULL)
        return 0;
    for (;;) {
        size_t len;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '\0')
            return 0;
        len = 0;
        while (p[len] != '\0' && !isspace((unsigned char)p[len]))
            len++;
        if (len >= sizeof one)
            return dnsbl_error(err, errlen, "%s", "zone entry too long");
        memcpy(one, p, len);
        one[len] = '\0';
        if (dnsbl_list_add(l, one, err, errlen) < 0)
            return -1;
        p += len;
    }
}

/* dnsbl_query_name - reversed octets or nibbles, then the zone */
int dnsbl_query_name(const char *client_ip, const char *zone, char *buf, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    unsigned char b[16];
    char ip[INET6_ADDRSTRLEN + 1];
    size_t len, o = 0, zlen;
    int n;

    if (client_ip == NULL || zone == NULL || buf == NULL)
        return -1;
    len = strnlen(client_ip, sizeof ip);
    zlen = strlen(zone);
    if (len == 0 || len >= sizeof ip || !dnsbl_zone_ok(zone, zlen))
        return -1;
    memcpy(ip, client_ip, len + 1);
    if (inet_pton(AF_INET, ip, b) == 1) {
        n = snprintf(buf, size, "%u.%u.%u.%u.%s", b[3], b[2], b[1], b[0], zone);
        return n < 0 || (size_t)n >= size || n > 253 ? -1 : 0;
    }
    if (inet_pton(AF_INET6, ip, b) != 1)
        return -1;
    if (memcmp(b, mapped, sizeof mapped) == 0) {
        n = snprintf(buf, size, "%u.%u.%u.%u.%s", b[15], b[14], b[13], b[12], zone);
        return n < 0 || (size_t)n >= size || n > 253 ? -1 : 0;
    }
    if (64 + zlen > 253 || size < 64 + zlen + 1)
        return -1;
    for (int i = 15; i >= 0; i--) {
        buf[o++] = hex[b[i] & 0xf];
        buf[o++] = '.';
        buf[o++] = hex[b[i] >> 4];
        buf[o++] = '.';
    }
    memcpy(buf + o, zone, zlen + 1);
    return 0;
}

/* dnsbl_code_accepted - answer in one of the zone's ranges */
int dnsbl_code_accepted(const struct dnsbl_zone *z, const unsigned char addr[4])
{
    uint32_t a = ((uint32_t)addr[0] << 24) | ((uint32_t)addr[1] << 16) |
                 ((uint32_t)addr[2] << 8) | addr[3];

    if (z->ncodes == 0)
        return a >= DNSBL_DEFAULT_LO && a <= DNSBL_DEFAULT_HI;
    for (int i = 0; i < z->ncodes && i < DNSBL_MAX_CODES; i++)
        if (a >= z->codes[i].lo && a <= z->codes[i].hi)
            return 1;
    return 0;
}

/* dnsbl_evaluate - score and listed zones from the answers */
void dnsbl_evaluate(const struct dnsbl_list *l, const struct dnsbl_answer *answers,
                    struct dnsbl_outcome *out)
{
    memset(out, 0, sizeof *out);
    if (l == NULL || answers == NULL)
        return;
    for (int i = 0; i < l->n && i < DNSBL_MAX_ZONES; i++) {
        const struct dnsbl_zone *z = &l->zones[i];
        const struct dnsbl_answer *a = &answers[i];
        if (a->status == DNS_TEMPFAIL) {
            out->ntempfail++;
            continue;
        }
        if (a->status != DNS_OK || a->addrs == NULL)
            continue;
        for (int k = 0; k < a->naddrs; k++) {
            const unsigned char *addr = a->addrs + 4 * (size_t)k;
            struct dnsbl_hit *h;
            if (!dnsbl_code_accepted(z, addr))
                continue;
            h = &out->listed[out->nlisted++];
            memcpy(h->zone, z->name, sizeof h->zone);
            h->weight = z->weight;
            snprintf(h->code, sizeof h->code, "%u.%u.%u.%u", addr[0], addr[1], addr[2],
                     addr[3]);
            out->score += z->weight;
            break;
        }
    }
}

/* dnsbl_start - one A query per zone */
struct dnsbl_lookup *dnsbl_start(const struct dnsbl_list *l, struct dns_resolver *r,
                                 const char *client_ip)
{
    struct dnsbl_lookup *lk = calloc(1, sizeof *lk);
    char name[256];

    if (lk == NULL)
        return NULL;
    if (l != NULL)
        lk->list = *l;
    for (int i = 0; i < lk->list.n && r != NULL; i++)
        if (dnsbl_query_name(client_ip, lk->list.zones[i].name, name, sizeof name) == 0)
            lk->q[i] = dns_submit(r, name, ns_t_a);
    return lk;
}

/* dnsbl_finish - wait for every zone, then evaluate once */
void dnsbl_finish(struct dnsbl_lookup *lk, const struct timespec *deadline,
                  struct dnsbl_outcome *out)
{
    struct dnsbl_answer answers[DNSBL_MAX_ZONES];
    unsigned char addrs[DNSBL_MAX_ZONES][8 * 4];

    if (lk == NULL) {
        if (out != NULL)
            memset(out, 0, sizeof *out);
        return;
    }
    if (!lk->done) {
        memset(answers, 0, sizeof answers);
        for (int i = 0; i < lk->list.n; i++) {
            answers[i].status = DNS_NXDOMAIN; /* never asked: not listed */
            if (lk->q[i] == NULL)
                continue;
            answers[i].status = dns_wait(lk->q[i], deadline);
            if (answers[i].status == DNS_OK) {
                int n = dns_parse_addrs(lk->q[i], AF_INET, addrs[i], 8);
                answers[i].addrs = addrs[i];
                answers[i].naddrs = n > 0 ? n : 0;
            }
            dns_release(lk->q[i]);
            lk->q[i] = NULL;
        }
        dnsbl_evaluate(&lk->list, answers, &lk->outcome);
        lk->done = true;
    }
    if (out != NULL)
        *out = lk->outcome;
}

/* dnsbl_free - release pending queries and the lookup */
void dnsbl_free(struct dnsbl_lookup *lk)
{
    if (lk == NULL)
        return;
    for (int i = 0; i < lk->list.n; i++)
        if (lk->q[i] != NULL)
            dns_release(lk->q[i]);
    free(lk);
}
