/*
 * NAME
 *   test_resolver - resolver.c against a real unbound, and its static zone
 * SYNOPSIS
 *   test_resolver [SERVERS]
 * DESCRIPTION
 *   Without SERVERS only the in-memory zone (dns_open_zone) is tested.
 *   With SERVERS ("127.0.0.1:5353", "[::1]:5353" or both, comma-separated)
 *   the resolver is pointed at the unbound of tests/dns/unbound-zone.sh and
 *   every answer kind is checked: TXT (one string, split strings, two
 *   records, a 1250-byte record that needs TCP), A, AAAA, PTR (one and two
 *   names), MX, NXDOMAIN, NODATA, SERVFAIL and REFUSED (DNS_TEMPFAIL at
 *   once), a dropped query (DNS_TEMPFAIL after the resolver's timeout), a
 *   caller deadline shorter than that, dns_release() before the answer,
 *   dns_close() with a waiter blocked, and 8 threads sharing the resolver.
 *   tests/dns/dns-tests.sh starts unbound and runs this.
 *
 *   Prints "PASS: name" / "FAIL: name"; exit 1 on any failure.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "resolver.h"

static int failures;

/* check - print one result line */
static void check(int ok, const char *name, const char *detail)
{
    printf("%s: resolver %s%s%s\n", ok ? "PASS" : "FAIL", name,
           ok || !detail ? "" : " -- ", ok || !detail ? "" : detail);
    if (!ok)
        failures++;
}

/* now_ms - CLOCK_MONOTONIC in milliseconds */
static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* lookup - submit, wait (no deadline), return status; *qp kept for parsing */
static enum dns_status lookup(struct dns_resolver *r, const char *name, int type,
                              struct dns_query **qp)
{
    struct dns_query *q = dns_submit(r, name, type);
    enum dns_status st = dns_wait(q, NULL);
    if (qp)
        *qp = q;
    else
        dns_release(q);
    return st;
}

/* expect_status - one lookup must give want */
static void expect_status(struct dns_resolver *r, const char *tag, const char *name,
                          int type, enum dns_status want)
{
    char label[160], detail[160];
    enum dns_status st = lookup(r, name, type, NULL);
    snprintf(label, sizeof label, "%s %s %s", tag, name, dns_status_name(want));
    snprintf(detail, sizeof detail, "got %s", dns_status_name(st));
    check(st == want, label, detail);
}

/* expect_txt - TXT answer with n records, the first equal to first */
static void expect_txt(struct dns_resolver *r, const char *tag, const char *name,
                       int n, const char *first, size_t first_len)
{
    struct dns_query *q;
    struct dns_txt txt[8];
    char label[160], detail[200];
    enum dns_status st = lookup(r, name, ns_t_txt, &q);
    int got = st == DNS_OK ? dns_parse_txt(q, txt, 8) : -1;
    int ok = got == n && (!first || (txt[0].len == first_len &&
                                     memcmp(txt[0].text, first, first_len) == 0));
    snprintf(label, sizeof label, "%s TXT %s", tag, name);
    snprintf(detail, sizeof detail, "status %s, %d records, first %zu bytes \"%.60s\"",
             dns_status_name(st), got, got > 0 ? txt[0].len : 0, got > 0 ? txt[0].text : "");
    check(ok, label, detail);
    if (got > 0)
        dns_free_txt(txt, got);
    dns_release(q);
}

/* has_addr - does an A/AAAA answer contain text address want? */
static void expect_addr(struct dns_resolver *r, const char *tag, const char *name,
                        int type, int n, const char *want)
{
    struct dns_query *q;
    unsigned char addrs[8][16], bin[16];
    char label[160], detail[160];
    int family = type == ns_t_a ? AF_INET : AF_INET6;
    size_t size = type == ns_t_a ? 4 : 16;
    enum dns_status st = lookup(r, name, type, &q);
    int got = -1, found = 0;

    if (st == DNS_OK) {
        if (family == AF_INET) {
            struct in_addr a4[8];
            got = dns_parse_addrs(q, AF_INET, a4, 8);
            for (int i = 0; i < got; i++)
                memcpy(addrs[i], &a4[i], 4);
        } else {
            struct in6_addr a6[8];
            got = dns_parse_addrs(q, AF_INET6, a6, 8);
            for (int i = 0; i < got; i++)
                memcpy(addrs[i], &a6[i], 16);
        }
    }
    inet_pton(family, want, bin);
    for (int i = 0; i < got; i++)
        found |= memcmp(addrs[i], bin, size) == 0;
    snprintf(label, sizeof label, "%s %s %s", tag, type == ns_t_a ? "A" : "AAAA", name);
    snprintf(detail, sizeof detail, "status %s, %d addresses", dns_status_name(st), got);
    check(got == n && found, label, detail);
    dns_release(q);
}

/* expect_names - PTR or MX answer with n names, first (or any) equal to want */
static void expect_names(struct dns_resolver *r, const char *tag, const char *name,
                         int type, int n, const char *want)
{
    struct dns_query *q;
    char *names[8], label[200], detail[200];
    enum dns_status st = lookup(r, name, type, &q);
    int got = st == DNS_OK ? dns_parse_names(q, names, 8) : -1, found = 0;

    for (int i = 0; i < got; i++) {
        found |= strcmp(names[i], want) == 0;
        free(names[i]);
    }
    snprintf(label, sizeof label, "%s %s %s", tag, type == ns_t_mx ? "MX" : "PTR", name);
    snprintf(detail, sizeof detail, "status %s, %d names", dns_status_name(st), got);
    check(got == n && found, label, detail);
    dns_release(q);
}

struct worker {
    struct dns_resolver *r;
    int ok;
};

/* worker - 50 lookups from one thread */
static void *worker(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < 50; i++) {
        struct dns_query *q = dns_submit(w->r, i % 2 ? "example.test" : "mail.example.test",
                                         i % 2 ? ns_t_txt : ns_t_a);
        struct timespec dl;
        dns_deadline(&dl, 5000);
        w->ok += dns_wait(q, &dl) == DNS_OK;
        dns_release(q);
    }
    return NULL;
}

struct blocked {
    struct dns_resolver *r;
    enum dns_status st;
    double ms;
};

/* blocked_waiter - wait without a deadline on a query that never answers */
static void *blocked_waiter(void *arg)
{
    struct blocked *b = arg;
    double t0 = now_ms();
    struct dns_query *q = dns_submit(b->r, "never.timeout.test", ns_t_a);
    b->st = dns_wait(q, NULL);
    b->ms = now_ms() - t0;
    dns_release(q);
    return NULL;
}

/* test_network - the unbound cases */
static void test_network(const char *servers)
{
    char err[256], tag[64], detail[128];
    struct dns_resolver *r = dns_open(servers, 900, err, sizeof err);

    snprintf(tag, sizeof tag, "[%s]", servers);
    check(r != NULL, "dns_open", err);
    if (!r)
        return;
    expect_txt(r, tag, "example.test", 1, "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all", 46);
    expect_txt(r, tag, "split.example.test", 1, "v=spf1 ip4:192.0.2.1 -all", 25);
    expect_txt(r, tag, "two.example.test", 2, NULL, 0);
    {
        char big[1251];
        memset(big, 'a', 1250);
        big[1250] = '\0';
        expect_txt(r, tag, "long.example.test", 1, big, 1250);   /* TCP fallback */
    }
    expect_addr(r, tag, "mail.example.test", ns_t_a, 2, "192.0.2.10");
    expect_addr(r, tag, "mail.example.test", ns_t_aaaa, 2, "2001:db8::10");
    expect_names(r, tag, "10.2.0.192.in-addr.arpa", ns_t_ptr, 1, "mail.example.test");
    expect_names(r, tag, "12.2.0.192.in-addr.arpa", ns_t_ptr, 2, "no-forward.example.test");
    expect_names(r, tag, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa",
                 ns_t_ptr, 1, "mail.example.test");
    expect_names(r, tag, "example.test", ns_t_mx, 1, "mail.example.test");
    expect_status(r, tag, "nosuch.example.test", ns_t_a, DNS_NXDOMAIN);
    expect_status(r, tag, "x.nxdomain.test", ns_t_txt, DNS_NXDOMAIN);
    expect_status(r, tag, "1.100.51.198.in-addr.arpa", ns_t_ptr, DNS_NXDOMAIN);
    expect_status(r, tag, "mail.example.test", ns_t_txt, DNS_NODATA);
    expect_status(r, tag, "no-forward.example.test", ns_t_a, DNS_NODATA);
    expect_status(r, tag, "bad..name.example.test", ns_t_a, DNS_PERMFAIL);

    double t0 = now_ms();
    expect_status(r, tag, "x.servfail.test", ns_t_a, DNS_TEMPFAIL);
    expect_status(r, tag, "www.debian.org", ns_t_a, DNS_TEMPFAIL);   /* never leaves the box */
    expect_status(r, tag, "x.refused.test", ns_t_txt, DNS_TEMPFAIL);
    double ms = now_ms() - t0;
    snprintf(detail, sizeof detail, "%.0f ms", ms);
    check(ms < 500, "SERVFAIL/REFUSED answered at once", detail);

    /* a dropped query: c-ares gives up after ~timeout (900 ms: 300 + 600) */
    t0 = now_ms();
    expect_status(r, tag, "x.timeout.test", ns_t_a, DNS_TEMPFAIL);
    ms = now_ms() - t0;
    snprintf(detail, sizeof detail, "%.0f ms", ms);
    check(ms > 700 && ms < 2500, "timeout bounded by the resolver timeout", detail);

    /* the caller's deadline comes first */
    struct timespec dl;
    struct dns_query *q = dns_submit(r, "y.timeout.test", ns_t_a);
    t0 = now_ms();
    dns_deadline(&dl, 150);
    enum dns_status st = dns_wait(q, &dl);
    ms = now_ms() - t0;
    snprintf(detail, sizeof detail, "%s after %.0f ms", dns_status_name(st), ms);
    check(st == DNS_TEMPFAIL && ms >= 140 && ms < 400, "deadline", detail);
    dns_release(q);             /* still in flight: the loop drops it later */

    /* release before the answer, many times, then a normal lookup still works */
    for (int i = 0; i < 20; i++)
        dns_release(dns_submit(r, i % 2 ? "z.timeout.test" : "example.test", ns_t_txt));
    expect_txt(r, tag, "example.test", 1, NULL, 0);

    /* 8 threads x 50 lookups on one resolver */
    pthread_t th[8];
    struct worker w[8];
    t0 = now_ms();
    for (int i = 0; i < 8; i++) {
        w[i].r = r;
        w[i].ok = 0;
        pthread_create(&th[i], NULL, worker, &w[i]);
    }
    int total = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        total += w[i].ok;
    }
    snprintf(detail, sizeof detail, "%d/400 ok in %.0f ms", total, now_ms() - t0);
    check(total == 400, "8 threads share one resolver", detail);

    /* dns_close wakes a blocked waiter with DNS_TEMPFAIL */
    pthread_t bt;
    struct blocked b = { .r = r };
    pthread_create(&bt, NULL, blocked_waiter, &b);
    struct timespec pause = { 0, 100 * 1000000L };
    nanosleep(&pause, NULL);
    dns_close(r);
    pthread_join(bt, NULL);
    snprintf(detail, sizeof detail, "%s after %.0f ms", dns_status_name(b.st), b.ms);
    check(b.st == DNS_TEMPFAIL && b.ms < 600, "dns_close releases waiters", detail);
}

/* test_zone - the in-memory resolver used by the SPF suite */
static void test_zone(void)
{
    struct dns_zone *z = dns_zone_new();
    const char *parts[] = { "v=spf1 ", "-all" };
    size_t lens[] = { 7, 4 };
    int rc = 0;

    rc |= dns_zone_add_txt(z, "Example.NET.", parts, lens, 2);
    rc |= dns_zone_add(z, "www.example.net", ns_t_cname, "host.example.net", 16);
    rc |= dns_zone_add(z, "host.example.net", ns_t_a, "192.0.2.1", 9);
    rc |= dns_zone_add(z, "host.example.net", ns_t_a, "192.0.2.2", 9);
    rc |= dns_zone_add(z, "example.net", ns_t_mx, "20 b.example.net", 16);
    rc |= dns_zone_add(z, "example.net", ns_t_mx, "10 a.example.net", 16);
    rc |= dns_zone_add(z, "slow.example.net", DNS_ZONE_TIMEOUT, NULL, 0);
    rc |= dns_zone_add(z, "slow.example.net", ns_t_a, "192.0.2.3", 9);
    check(rc == 0, "zone loads", NULL);
    check(dns_zone_add(z, "x.example.net", ns_t_a, "not-an-ip", 9) < 0, "zone rejects a bad address", NULL);
    struct dns_resolver *r = dns_open_zone(z);
    expect_txt(r, "zone", "example.net", 1, "v=spf1 -all", 11);
    expect_addr(r, "zone", "www.example.net", ns_t_a, 2, "192.0.2.2");   /* via CNAME */
    expect_names(r, "zone", "example.net", ns_t_mx, 2, "a.example.net");
    {
        struct dns_query *q = dns_submit(r, "example.net", ns_t_mx);
        char *names[4];
        int n = dns_wait(q, NULL) == DNS_OK ? dns_parse_names(q, names, 4) : -1;
        check(n == 2 && strcmp(names[0], "a.example.net") == 0, "zone MX in preference order", NULL);
        for (int i = 0; i < n; i++)
            free(names[i]);
        dns_release(q);
    }
    expect_status(r, "zone", "nothing.example.net", ns_t_a, DNS_NXDOMAIN);
    expect_status(r, "zone", "host.example.net", ns_t_aaaa, DNS_NODATA);
    expect_status(r, "zone", "slow.example.net", ns_t_txt, DNS_TEMPFAIL);
    expect_status(r, "zone", "slow.example.net", ns_t_a, DNS_OK);
    dns_close(r);
}

int main(int argc, char **argv)
{
    log_open("test_resolver", 1, 0);
    test_zone();
    if (argc > 1)
        for (int i = 1; i < argc; i++)
            test_network(argv[i]);
    else
        printf("SKIP: resolver network tests (no servers given)\n");
    return failures ? 1 : 0;
}
