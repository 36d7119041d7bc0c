/*
 * NAME
 *   iprev.c - PTR + forward confirmation, and the generic-name heuristic
 * DESCRIPTION
 *   See iprev.h.  The driver submits the PTR lookup at connect time; at
 *   iprev_finish() it collects it, submits every forward lookup at once,
 *   collects them under the same deadline and hands the results to the
 *   pure iprev_evaluate().
 */
#include "autoconf.h"

#include <sys/types.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "iprev.h"
#include "orgdomain.h"
#include "util.h"
#include "log.h"

struct iprev_check {
    struct dns_resolver *resolver;
    struct iprev_addr client;
    bool client_ok;
    struct dns_query *ptr;
    bool done;
    enum iprev_result result;
    char host[IPREV_NAME_MAX];
};

/* iprev_result_name - RFC 8601 spelling */
const char *iprev_result_name(enum iprev_result r)
{
    switch (r) {
    case IPREV_PASS: return "pass";
    case IPREV_FAIL: return "fail";
    case IPREV_TEMPERROR: return "temperror";
    case IPREV_PERMERROR: break;
    }
    return "permerror";
}

/* iprev_addr_parse - IPv4, IPv6, or IPv4-mapped IPv6 (stored as IPv4) */
int iprev_addr_parse(const char *text, struct iprev_addr *out)
{
    char buf[INET6_ADDRSTRLEN + 1];
    size_t len;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    if (text == NULL || out == NULL)
        return -1;
    len = strnlen(text, sizeof buf);
    if (len == 0 || len >= sizeof buf)
        return -1;
    /* accept the "[2001:db8::1]" and "IPv6:..." forms MTAs use */
    if (text[0] == '[' && text[len - 1] == ']') {
        text++;
        len -= 2;
    }
    if (len > 5 && strncasecmp(text, "IPv6:", 5) == 0) {
        text += 5;
        len -= 5;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, buf, out->bytes) == 1) {
        out->family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, buf, out->bytes) == 1) {
        out->family = AF_INET6;
        if (memcmp(out->bytes, mapped, sizeof mapped) == 0) {
            memmove(out->bytes, out->bytes + 12, 4);
            memset(out->bytes + 4, 0, 12);
            out->family = AF_INET;
        }
        return 0;
    }
    return -1;
}

/* iprev_ptr_name - the reverse-tree name of an address */
int iprev_ptr_name(const struct iprev_addr *a, char *buf, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    int n;

    if (a == NULL || buf == NULL)
        return -1;
    if (a->family == AF_INET) {
        n = snprintf(buf, size, "%u.%u.%u.%u.in-addr.arpa", a->bytes[3], a->bytes[2],
                     a->bytes[1], a->bytes[0]);
        return n < 0 || (size_t)n >= size ? -1 : 0;
    }
    if (a->family != AF_INET6 || size < 64 + sizeof "ip6.arpa")
        return -1;
    for (int i = 15; i >= 0; i--) {
        buf[o++] = hex[a->bytes[i] & 0xf];
        buf[o++] = '.';
        buf[o++] = hex[a->bytes[i] >> 4];
        buf[o++] = '.';
    }
    memcpy(buf + o, "ip6.arpa", sizeof "ip6.arpa");
    return 0;
}

/* iprev_name_ok - letters, digits, '-', '_' in labels of 1..63, total <= 253,
 * an optional final dot */
int iprev_name_ok(const char *name)
{
    size_t len;

    if (name == NULL)
        return 0;
    len = strnlen(name, 256);
    if (len > 0 && name[len - 1] == '.')
        len--;
    return util_dns_name_ok(name, len);
}

/* iprev_evaluate - RFC 8601 2.7.3 over lookup results */
enum iprev_result iprev_evaluate(const struct iprev_addr *client, enum dns_status ptr_status,
                                 const struct iprev_forward *fwd, int n, int *verified)
{
    size_t alen;
    bool temp = false;

    if (verified != NULL)
        *verified = -1;
    if (client == NULL || (client->family != AF_INET && client->family != AF_INET6))
        return IPREV_PERMERROR;
    alen = client->family == AF_INET ? 4 : 16;
    switch (ptr_status) {
    case DNS_OK: break;
    case DNS_TEMPFAIL: return IPREV_TEMPERROR;
    case DNS_NXDOMAIN:
    case DNS_NODATA:
    case DNS_PERMFAIL:
    default: return IPREV_PERMERROR;
    }
    if (n <= 0 || fwd == NULL)
        return IPREV_PERMERROR; /* an answer without usable PTR data */
    for (int i = 0; i < n; i++) {
        if (fwd[i].status == DNS_TEMPFAIL)
            temp = true;
        if (fwd[i].status != DNS_OK || fwd[i].addrs == NULL)
            continue;
        for (int k = 0; k < fwd[i].naddrs && k < IPREV_MAX_ADDRS; k++) {
            if (memcmp(fwd[i].addrs + (size_t)k * alen, client->bytes, alen) == 0) {
                if (verified != NULL)
                    *verified = i;
                return IPREV_PASS;
            }
        }
    }
    return temp ? IPREV_TEMPERROR : IPREV_FAIL;
}

/* iprev_start - parse the client and submit its PTR lookup */
struct iprev_check *iprev_start(struct dns_resolver *r, const char *client_ip)
{
    struct iprev_check *c = calloc(1, sizeof *c);
    char name[128];

    if (c == NULL)
        return NULL;
    c->resolver = r;
    c->client_ok = iprev_addr_parse(client_ip, &c->client) == 0;
    if (c->client_ok && r != NULL && iprev_ptr_name(&c->client, name, sizeof name) == 0)
        c->ptr = dns_submit(r, name, ns_t_ptr);
    return c;
}

/* iprev_collect - the driver's part of iprev_finish: names, forward lookups */
static enum iprev_result iprev_collect(struct iprev_check *c, const struct timespec *deadline)
{
    char *raw[IPREV_MAX_NAMES];
    char *names[IPREV_MAX_NAMES];
    struct dns_query *q[IPREV_MAX_NAMES];
    unsigned char addrs[IPREV_MAX_NAMES][IPREV_MAX_ADDRS * 16];
    struct iprev_forward fwd[IPREV_MAX_NAMES];
    int family = c->client.family, type = family == AF_INET ? ns_t_a : ns_t_aaaa;
    int nraw, n = 0, verified = -1;
    enum dns_status st;
    enum iprev_result result;

    memset(fwd, 0, sizeof fwd);
    if (!c->client_ok)
        return IPREV_PERMERROR;
    if (c->ptr == NULL)
        return IPREV_TEMPERROR; /* no resolver */
    st = dns_wait(c->ptr, deadline);
    if (st != DNS_OK)
        return iprev_evaluate(&c->client, st, NULL, 0, NULL);
    nraw = dns_parse_names(c->ptr, raw, IPREV_MAX_NAMES);
    if (nraw < 0)
        return iprev_evaluate(&c->client, DNS_PERMFAIL, NULL, 0, NULL);
    /* keep valid, distinct names; start all forward lookups at once */
    for (int i = 0; i < nraw; i++) {
        bool dup = false;
        size_t len;
        if (!iprev_name_ok(raw[i])) {
            free(raw[i]);
            continue;
        }
        len = strlen(raw[i]);
        if (raw[i][len - 1] == '.')
            raw[i][len - 1] = '\0';
        for (int k = 0; k < n; k++)
            if (strcasecmp(names[k], raw[i]) == 0)
                dup = true;
        if (dup) {
            free(raw[i]);
            continue;
        }
        names[n] = raw[i];
        q[n] = dns_submit(c->resolver, names[n], type);
        n++;
    }
    if (nraw > 0 && n == 0) {
        /* PTR data exist but name nothing we could look up */
        return IPREV_FAIL;
    }
    for (int i = 0; i < n; i++) {
        fwd[i].name = names[i];
        fwd[i].status = dns_wait(q[i], deadline);
        fwd[i].addrs = addrs[i];
        fwd[i].naddrs = 0;
        if (fwd[i].status == DNS_OK) {
            int k = dns_parse_addrs(q[i], family, addrs[i], IPREV_MAX_ADDRS);
            if (k < 0)
                fwd[i].status = DNS_PERMFAIL;
            else
                fwd[i].naddrs = k;
        }
        dns_release(q[i]);
    }
    result = iprev_evaluate(&c->client, DNS_OK, fwd, n, &verified);
    if (result == IPREV_PASS && verified >= 0)
        snprintf(c->host, sizeof c->host, "%s", names[verified]);
    for (int i = 0; i < n; i++)
        free(names[i]);
    return result;
}

/* iprev_finish - collect once, remember the answer */
enum iprev_result iprev_finish(struct iprev_check *c, const struct timespec *deadline,
                               char *host, size_t hostlen)
{
    if (c == NULL)
        return IPREV_TEMPERROR;
    if (!c->done) {
        c->result = iprev_collect(c, deadline);
        c->done = true;
        if (c->ptr != NULL) {
            dns_release(c->ptr);
            c->ptr = NULL;
        }
    }
    if (host != NULL && hostlen > 0)
        snprintf(host, hostlen, "%s", c->result == IPREV_PASS ? c->host : "");
    return c->result;
}

/* iprev_free - release a check at any stage */
void iprev_free(struct iprev_check *c)
{
    if (c == NULL)
        return;
    if (c->ptr != NULL)
        dns_release(c->ptr);
    free(c);
}

/* ---- the generic-name heuristic ---------------------------------------- */

#define IPREV_RUNS 48

/* Words that name an access or customer line on their own. */
static const char *const iprev_strong_words[] = {
    "dyn",      "dynamic",     "dynamicip",  "dynip",    "dhcp",       "dsl",
    "adsl",     "vdsl",        "xdsl",       "sdsl",     "hdsl",       "pool",
    "dialpool", "ppp",         "pppoe",      "pppoa",    "cable",      "dial",
    "dialup",   "dialin",      "broadband",  "cust",     "customer",   "customers",
    "resident", "residential", "unassigned", "staticip", "subscriber", "subscribers",
    "dslam",    "catv",        "modem",      "nat",      NULL};

/* Words that are generic only next to digits of the client address. */
static const char *const iprev_weak_words[] = {
    "static", "ip",    "client", "clients", "host", "hosts", "cpe",     "user",     "users",
    "home",   "res",   "bb",     "cm",      "pc",   "node",  "mobile",  "wireless", "wifi",
    "lte",    "fiber", "fibre",  "ftth",    "fttc", "fttb",  "fttp",    "hsd",      "sub",
    "gprs",   "umts",  "addr",   "adr",     "rev",  "ptr",   "cliente", "clientes", NULL};

/* A maximal run of characters of one class inside the name. */
struct iprev_run {
    size_t start, len;
    unsigned long long value; /* numeric value (decimal or hex), if short */
    bool value_ok;
};

/* iprev_runs - maximal runs of decimal digits (hex = false) or of hex
 * digits (hex = true) in s */
static int iprev_runs(const char *s, size_t len, bool hex, struct iprev_run *out, int max)
{
    int n = 0;

    for (size_t i = 0; i < len && n < max;) {
        size_t j = i;
        while (j < len && ((s[j] >= '0' && s[j] <= '9') || (hex && s[j] >= 'a' && s[j] <= 'f')))
            j++;
        if (j == i) {
            i++;
            continue;
        }
        out[n].start = i;
        out[n].len = j - i;
        out[n].value = 0;
        out[n].value_ok = j - i <= (hex ? 8 : 10);
        if (out[n].value_ok)
            for (size_t k = i; k < j; k++)
                out[n].value = out[n].value * (hex ? 16 : 10) +
                               (unsigned)(s[k] <= '9' ? s[k] - '0' : s[k] - 'a' + 10);
        n++;
        i = j;
    }
    return n;
}

/* iprev_runs_match - do k consecutive runs equal want[0..k-1]? */
static bool iprev_runs_match(const struct iprev_run *r, int n, const unsigned long long *want,
                             int k)
{
    for (int i = 0; i + k <= n; i++) {
        int m = 0;
        while (m < k && r[i + m].value_ok && r[i + m].value == want[m])
            m++;
        if (m == k)
            return true;
    }
    return false;
}

/* iprev_has_text - is needle a substring of s? */
static bool iprev_has_text(const char *s, const char *needle)
{
    return strstr(s, needle) != NULL;
}

/* iprev_v4_in_name - the IPv4 address written in the name in a usual form */
static bool iprev_v4_in_name(const char *s, size_t len, const unsigned char *o)
{
    struct iprev_run r[IPREV_RUNS];
    int n = iprev_runs(s, len, false, r, IPREV_RUNS);
    unsigned long long fwd[4], rev[4], u32;
    char text[16];

    for (int i = 0; i < 4; i++) {
        fwd[i] = o[i];
        rev[i] = o[3 - i];
    }
    /* 192.0.2.10 / 192-0-2-10 / 10-2-0-192 / 0-2-10 / 10.2.0 */
    if (iprev_runs_match(r, n, fwd, 4) || iprev_runs_match(r, n, rev, 4) ||
        iprev_runs_match(r, n, fwd + 1, 3) || iprev_runs_match(r, n, rev, 3))
        return true;
    /* 192000002010 (zero padded), or the address as one 32-bit number */
    u32 = ((unsigned long long)o[0] << 24) | ((unsigned long long)o[1] << 16) |
          ((unsigned long long)o[2] << 8) | o[3];
    for (int i = 0; i < n; i++) {
        char pad[16];
        if (r[i].len == 12) {
            snprintf(pad, sizeof pad, "%03u%03u%03u%03u", o[0], o[1], o[2], o[3]);
            if (strncmp(s + r[i].start, pad, 12) == 0)
                return true;
            snprintf(pad, sizeof pad, "%03u%03u%03u%03u", o[3], o[2], o[1], o[0]);
            if (strncmp(s + r[i].start, pad, 12) == 0)
                return true;
        }
        if (r[i].value_ok && r[i].len >= 8 && r[i].value == u32)
            return true;
    }
    /* hex: c000020a, either byte order */
    snprintf(text, sizeof text, "%02x%02x%02x%02x", o[0], o[1], o[2], o[3]);
    if (iprev_has_text(s, text))
        return true;
    snprintf(text, sizeof text, "%02x%02x%02x%02x", o[3], o[2], o[1], o[0]);
    return iprev_has_text(s, text);
}

/* iprev_v6_in_name - the last four 16-bit groups as hex runs, or all 32
 * nibbles in one piece */
static bool iprev_v6_in_name(const char *s, size_t len, const unsigned char *b)
{
    struct iprev_run r[IPREV_RUNS];
    int n = iprev_runs(s, len, true, r, IPREV_RUNS);
    unsigned long long groups[8];
    char nibbles[33];
    bool nonzero = false;

    for (int i = 0; i < 8; i++) {
        groups[i] = ((unsigned)b[2 * i] << 8) | b[2 * i + 1];
        if (i >= 4 && groups[i] != 0)
            nonzero = true;
    }
    if (nonzero && iprev_runs_match(r, n, groups + 4, 4))
        return true;
    for (int i = 0; i < 16; i++)
        snprintf(nibbles + 2 * i, 3, "%02x", b[i]);
    return iprev_has_text(s, nibbles);
}

/* iprev_word_in - is word in the NULL-terminated list? */
static bool iprev_word_in(const char *word, size_t len, const char *const *list)
{
    for (int i = 0; list[i] != NULL; i++)
        if (strlen(list[i]) == len && strncmp(list[i], word, len) == 0)
            return true;
    return false;
}

/* iprev_generic_name - provider-generated host name? */
enum iprev_generic iprev_generic_name(const char *name, const struct iprev_addr *client)
{
    char s[256];
    size_t len, host_len, i;
    int hl;
    bool weak = false;

    if (name == NULL || !iprev_name_ok(name))
        return IPREV_GENERIC_NO;
    len = strnlen(name, 255);
    for (i = 0; i < len; i++)
        s[i] = (name[i] >= 'A' && name[i] <= 'Z') ? (char)(name[i] - 'A' + 'a') : name[i];
    if (len > 0 && s[len - 1] == '.')
        len--;
    s[len] = '\0';

    if (client != NULL && client->family == AF_INET && iprev_v4_in_name(s, len, client->bytes))
        return IPREV_GENERIC_ADDRESS;
    if (client != NULL && client->family == AF_INET6 && iprev_v6_in_name(s, len, client->bytes))
        return IPREV_GENERIC_ADDRESS;

    /* words count only left of the organisational domain (public suffix
     * list): in mail.dsl-provider.co.uk the host part is "mail", where the
     * old last-two-labels rule took "mail.dsl-provider" and found "dsl" */
    hl = org_host_len(s);
    if (hl <= 0)
        return IPREV_GENERIC_NO;
    host_len = (size_t)hl;
    for (i = 0; i < host_len;) {
        size_t j = i;
        while (j < host_len && s[j] >= 'a' && s[j] <= 'z')
            j++;
        if (j == i) {
            i++;
            continue;
        }
        if (iprev_word_in(s + i, j - i, iprev_strong_words))
            return IPREV_GENERIC_KEYWORD;
        /* "static-ip", "static.ip" */
        if (j - i == 6 && strncmp(s + i, "static", 6) == 0 && j + 3 <= host_len &&
            (s[j] == '-' || s[j] == '.' || s[j] == '_') && strncmp(s + j + 1, "ip", 2) == 0 &&
            (j + 3 == host_len || !(s[j + 3] >= 'a' && s[j + 3] <= 'z')))
            return IPREV_GENERIC_KEYWORD;
        if (iprev_word_in(s + i, j - i, iprev_weak_words))
            weak = true;
        i = j;
    }
    if (!weak)
        return IPREV_GENERIC_NO;
    /* a weak word plus a number of the client address in the host part */
    {
        struct iprev_run r[IPREV_RUNS];
        int n = iprev_runs(s, host_len, false, r, IPREV_RUNS);
        int hits = 0;
        for (int k = 0; k < n; k++) {
            if (!r[k].value_ok)
                continue;
            if (client != NULL && client->family == AF_INET) {
                if (r[k].value == client->bytes[3] || r[k].value == client->bytes[2])
                    hits++;
            } else {
                hits++;
            }
        }
        if (hits >= (client != NULL && client->family == AF_INET ? 1 : 2))
            return IPREV_GENERIC_KEYWORD;
    }
    return IPREV_GENERIC_NO;
}
