/*
 * NAME
 *   resolver_zone.c - the in-memory zone behind dns_open_zone(), for tests
 * DESCRIPTION
 *   See resolver.h.  A resolver opened here has no thread and no sockets:
 *   dns_submit() calls dns_zone_answer(), which builds the answer packet a
 *   server would send (header, question, uncompressed answer RRs, CNAMEs
 *   followed up to 8 hops) and completes the query at once, so the c-ares
 *   parsers and every check above them run unchanged.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "resolver.h"
#include "resolver_impl.h"

#define DNS_ZONE_TTL 60

/* dns_zone_new - an empty table */
struct dns_zone *dns_zone_new(void)
{
    return calloc(1, sizeof(struct dns_zone));
}

/* dns_zone_free - free a table not handed to dns_open_zone() */
void dns_zone_free(struct dns_zone *z)
{
    if (!z)
        return;
    for (size_t i = 0; i < z->n; i++) {
        free(z->rr[i].name);
        free(z->rr[i].rdata);
    }
    free(z->rr);
    free(z);
}

/* dns_name_to_wire - uncompressed wire form of a canonical name; length or 0 */
static size_t dns_name_to_wire(const char *name, unsigned char *out, size_t outlen)
{
    size_t o = 0;
    const char *p = name;

    while (*p) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);
        if (l == 0 || l > 63 || o + l + 2 > outlen)
            return 0;
        out[o++] = (unsigned char)l;
        memcpy(out + o, p, l);
        o += l;
        p += l;
        if (*p == '.')
            p++;
    }
    if (o + 1 > outlen)
        return 0;
    out[o++] = 0;
    return o;
}

/* dns_zone_add - add one record; see resolver.h for the data forms */
int dns_zone_add(struct dns_zone *z, const char *name, int type,
                 const void *data, size_t len)
{
    unsigned char rd[1024];
    size_t rdlen = 0;
    char cname[DNS_MAX_NAME + 2], target[DNS_MAX_NAME + 2];

    if (!dns_name_ok(name, cname, sizeof cname))
        return -1;
    switch (type) {
    case DNS_ZONE_TIMEOUT:
        break;
    case ns_t_a:
    case ns_t_aaaa: {
        char text[INET6_ADDRSTRLEN];
        if (len == 0 || len >= sizeof text)
            return -1;
        memcpy(text, data, len);
        text[len] = '\0';
        if (inet_pton(type == ns_t_a ? AF_INET : AF_INET6, text, rd) != 1)
            return -1;
        rdlen = type == ns_t_a ? 4 : 16;
        break;
    }
    case ns_t_ptr:
    case ns_t_cname:
    case ns_t_mx: {
        const char *s = data;
        size_t off = 0;
        if (len >= sizeof target)
            return -1;
        if (type == ns_t_mx) {
            unsigned long pref = 0;
            size_t i = 0;
            while (i < len && s[i] >= '0' && s[i] <= '9' && pref <= 65535)
                pref = pref * 10 + (unsigned long)(s[i++] - '0');
            if (i == 0 || pref > 65535 || i >= len || s[i] != ' ')
                return -1;
            rd[0] = (unsigned char)(pref >> 8);
            rd[1] = (unsigned char)pref;
            off = 2;
            s += i + 1;
            len -= i + 1;
        }
        memcpy(target, s, len);
        target[len] = '\0';
        char ctarget[DNS_MAX_NAME + 2];
        if (!dns_name_ok(target, ctarget, sizeof ctarget))
            return -1;
        rdlen = dns_name_to_wire(ctarget, rd + off, sizeof rd - off);
        if (rdlen == 0)
            return -1;
        rdlen += off;
        break;
    }
    default:
        /* TXT and anything else: wire-form RDATA as given */
        if (len > sizeof rd)
            return -1;
        memcpy(rd, data, len);
        rdlen = len;
        break;
    }
    if (z->n == z->cap) {
        size_t cap = z->cap ? 2 * z->cap : 32;
        struct dns_zone_rr *rr = realloc(z->rr, cap * sizeof *rr);
        if (!rr)
            return -1;
        z->rr = rr;
        z->cap = cap;
    }
    struct dns_zone_rr *e = &z->rr[z->n];
    e->name = strdup(cname);
    e->rdata = malloc(rdlen ? rdlen : 1);
    if (!e->name || !e->rdata) {
        free(e->name);
        free(e->rdata);
        return -1;
    }
    memcpy(e->rdata, rd, rdlen);
    e->rdlen = rdlen;
    e->type = type;
    z->n++;
    return 0;
}

/* dns_zone_add_txt - add one TXT record made of n character-strings */
int dns_zone_add_txt(struct dns_zone *z, const char *name,
                     const char *const *strings, const size_t *lens, int n)
{
    unsigned char rd[1024];
    size_t o = 0;

    for (int i = 0; i < n; i++) {
        if (lens[i] > 255 || o + 1 + lens[i] > sizeof rd)
            return -1;
        rd[o++] = (unsigned char)lens[i];
        memcpy(rd + o, strings[i], lens[i]);
        o += lens[i];
    }
    return dns_zone_add(z, name, ns_t_txt, rd, o);
}

/* dns_open_zone - a resolver answering only from z (which it now owns) */
struct dns_resolver *dns_open_zone(struct dns_zone *z)
{
    struct dns_resolver *r = dns_resolver_alloc();

    if (!r) {
        dns_zone_free(z);
        return NULL;
    }
    r->zone = z;
    return r;
}

struct dns_pkt {
    unsigned char buf[8192];
    size_t len;
    int overflow;
};

/* pkt_put - append bytes, remembering an overflow */
static void pkt_put(struct dns_pkt *p, const void *data, size_t len)
{
    if (p->overflow || p->len + len > sizeof p->buf) {
        p->overflow = 1;
        return;
    }
    memcpy(p->buf + p->len, data, len);
    p->len += len;
}

/* pkt_put16 - append a 16-bit big-endian value */
static void pkt_put16(struct dns_pkt *p, unsigned v)
{
    unsigned char b[2] = { (unsigned char)(v >> 8), (unsigned char)v };
    pkt_put(p, b, 2);
}

/* pkt_put_rr - append one answer RR with an uncompressed owner name */
static void pkt_put_rr(struct dns_pkt *p, const char *owner, int type,
                       const unsigned char *rdata, size_t rdlen)
{
    unsigned char wire[DNS_MAX_NAME + 2];
    size_t wl = dns_name_to_wire(owner, wire, sizeof wire);

    pkt_put(p, wire, wl);
    pkt_put16(p, (unsigned)type);
    pkt_put16(p, ns_c_in);
    pkt_put16(p, 0);
    pkt_put16(p, DNS_ZONE_TTL);
    pkt_put16(p, (unsigned)rdlen);
    pkt_put(p, rdata, rdlen);
}

/* dns_zone_answer - answer q from the table (lock held) */
void dns_zone_answer(struct dns_resolver *r, struct dns_query *q)
{
    struct dns_zone *z = r->zone;
    struct dns_pkt *p = malloc(sizeof *p);
    char owner[DNS_MAX_NAME + 2];
    unsigned an = 0, matched = 0;
    int known = 0, timeout = 0, rcode = ns_r_noerror;

    if (!p) {
        dns_query_complete_locked(q, DNS_TEMPFAIL, NULL, 0);
        return;
    }
    p->len = 0;
    p->overflow = 0;
    /* header: id 0, QR RD RA, one question; rcode and ancount set below */
    pkt_put(p, "\0\0\x81\x80\0\1\0\0\0\0\0\0", 12);
    unsigned char qwire[DNS_MAX_NAME + 2];
    pkt_put(p, qwire, dns_name_to_wire(q->name, qwire, sizeof qwire));
    pkt_put16(p, (unsigned)q->type);
    pkt_put16(p, ns_c_in);
    strcpy(owner, q->name);
    for (int hops = 0; hops < 8; hops++) {
        int cname = -1;
        known = timeout = 0;
        for (size_t i = 0; i < z->n; i++) {
            struct dns_zone_rr *e = &z->rr[i];
            if (strcmp(e->name, owner) != 0)
                continue;
            known = 1;
            if (e->type == DNS_ZONE_TIMEOUT)
                timeout = 1;
            else if (e->type == q->type) {
                pkt_put_rr(p, owner, e->type, e->rdata, e->rdlen);
                an++;
                matched++;
            } else if (e->type == ns_t_cname && cname < 0)
                cname = (int)i;
        }
        if (matched > 0 || cname < 0)
            break;
        struct dns_zone_rr *c = &z->rr[cname];
        pkt_put_rr(p, owner, ns_t_cname, c->rdata, c->rdlen);
        an++;
        /* the target, back to presentation form */
        size_t o = 0, w = 0;
        while (w < c->rdlen && c->rdata[w] && o < DNS_MAX_NAME) {
            size_t l = c->rdata[w++];
            if (o)
                owner[o++] = '.';
            for (size_t k = 0; k < l && w < c->rdlen && o < DNS_MAX_NAME; k++)
                owner[o++] = (char)c->rdata[w++];
        }
        owner[o] = '\0';
    }
    enum dns_status st = DNS_OK;
    if (matched == 0) {
        if (timeout) {
            st = DNS_TEMPFAIL;
        } else if (!known && an == 0) {
            st = DNS_NXDOMAIN;
            rcode = ns_r_nxdomain;
        } else {
            st = DNS_NODATA;
        }
    }
    if (p->overflow) {
        st = DNS_TEMPFAIL;
    } else {
        p->buf[3] = (unsigned char)(0x80 | rcode);
        p->buf[6] = (unsigned char)(an >> 8);
        p->buf[7] = (unsigned char)an;
    }
    dns_query_complete_locked(q, st, st == DNS_TEMPFAIL ? NULL : p->buf,
                          st == DNS_TEMPFAIL ? 0 : p->len);
    free(p);
}
