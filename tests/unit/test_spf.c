/*
 * NAME
 *   test_spf - spf.c behaviour beyond the RFC 7208 suite
 * SYNOPSIS
 *   test_spf [SERVERS]
 * DESCRIPTION
 *   Over an in-memory zone: loopback clients, ::ffff:a.b.c.d clients, the
 *   HELO identity for "<>", spf_check_helo(), the domain reported, a bad
 *   client string, timeouts and an expired deadline, /0 rewriting, and 8
 *   threads sharing one struct spf.  With SERVERS (see test_resolver) the
 *   same module runs against the unbound of tests/dns/unbound-zone.sh,
 *   including SERVFAIL, REFUSED and a dropped query inside a deadline.
 *   Prints "PASS: name" / "FAIL: name"; exit 1 on any failure.
 */
#include "autoconf.h"

#include <arpa/nameser.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "resolver.h"
#include "spf.h"

static int failures;

/* now_ms - CLOCK_MONOTONIC in milliseconds */
static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* expect - one check_mailfrom (sender != NULL) or check_helo */
static void expect(struct spf *s, const char *tag, const char *client, const char *helo,
                   const char *sender, enum spf_result want, const char *want_domain,
                   unsigned deadline_ms)
{
    struct timespec dl;
    char domain[256];
    dns_deadline(&dl, deadline_ms);
    enum spf_result got = sender ? spf_check_mailfrom(s, client, helo, sender, &dl, domain, sizeof domain)
                                 : spf_check_helo(s, client, helo, &dl, domain, sizeof domain);
    int ok = got == want && (!want_domain || strcmp(domain, want_domain) == 0);
    printf("%s: spf %s %s %s <%s> -> %s (%s)", ok ? "PASS" : "FAIL", tag, client,
           helo, sender ? sender : "HELO", spf_result_name(want), domain);
    if (!ok)
        printf(" -- got %s", spf_result_name(got));
    printf("\n");
    failures += !ok;
}

/* add_txt - one single-string TXT record */
static void add_txt(struct dns_zone *z, const char *name, const char *text)
{
    size_t len = strlen(text);
    if (dns_zone_add_txt(z, name, &text, &len, 1) < 0) {
        printf("FAIL: spf zone %s\n", name);
        failures++;
    }
}

struct worker {
    struct spf *s;
    int ok;
};

/* worker - 200 checks with alternating expected results */
static void *worker(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < 200; i++) {
        struct timespec dl;
        dns_deadline(&dl, 5000);
        int pass = i % 2;
        enum spf_result r = spf_check_mailfrom(w->s, pass ? "192.0.2.1" : "198.51.100.7",
                                               "helo.example.net", "user@example.net", &dl,
                                               NULL, 0);
        w->ok += r == (pass ? SPF_PASS : SPF_FAIL);
    }
    return NULL;
}

/* test_zone - the module over an in-memory zone */
static void test_zone(void)
{
    struct dns_zone *z = dns_zone_new();
    add_txt(z, "example.net", "v=spf1 ip4:192.0.2.1 ip6:2001:db8::1 -all");
    add_txt(z, "helo.example.net", "v=spf1 a -all");
    dns_zone_add(z, "helo.example.net", ns_t_a, "192.0.2.2", 9);
    add_txt(z, "zero.example.net", "v=spf1 ip4:10.0.0.0/0 -all");
    add_txt(z, "azero.example.net", "v=spf1 a:helo.example.net/0 -all");
    add_txt(z, "mxzero.example.net", "v=spf1 mx//0 -all");
    dns_zone_add(z, "mxzero.example.net", ns_t_mx, "10 v6.example.net", 17);
    dns_zone_add(z, "v6.example.net", ns_t_aaaa, "2001:db8::99", 12);
    add_txt(z, "bad.example.net", "v=spf1 a:foo.example.net/33 -all");
    add_txt(z, "deep.example.net", "v=spf1 exists:%{d2147483648}.example.net -all");
    dns_zone_add(z, "slow.example.net", DNS_ZONE_TIMEOUT, NULL, 0);
    add_txt(z, "inc-slow.example.net", "v=spf1 include:slow.example.net -all");

    /* issue 10: 28 "a/0" terms (the rewrite is longer than 2*len+512) */
    {
        char rec[400] = "v=spf1";
        for (int i = 0; i < 28; i++)
            strcat(rec, " a/0");
        strcat(rec, " -all");
        add_txt(z, "many-a0.example.net", rec);
        dns_zone_add(z, "many-a0.example.net", ns_t_a, "192.0.2.50", 10);
        dns_zone_add(z, "many-a0.example.net", ns_t_aaaa, "2001:db8::50", 12);
        char rec6[400] = "v=spf1";
        for (int i = 0; i < 28; i++)
            strcat(rec6, " a//0");
        strcat(rec6, " -all");
        add_txt(z, "many-a60.example.net", rec6);
        dns_zone_add(z, "many-a60.example.net", ns_t_aaaa, "2001:db8::50", 12);
    }
    /* issue 10: macros RFC 7208 section 7 allows and libspf2 refuses */
    add_txt(z, "upper.example.net", "v=spf1 exists:%{L}.ok.example.net -all");
    add_txt(z, "upperd.example.net", "v=spf1 exists:%{D2}.ok.example.net -all");
    add_txt(z, "plus.example.net", "v=spf1 exists:%{l1+}.ok.example.net -all");
    add_txt(z, "comma.example.net", "v=spf1 exists:%{lr,}.ok.example.net -all");
    add_txt(z, "slash.example.net", "v=spf1 exists:%{l1r/}.ok.example.net -all");
    add_txt(z, "under.example.net", "v=spf1 exists:%{l1_}.ok.example.net -all");
    add_txt(z, "equal.example.net", "v=spf1 exists:%{l1=}.ok.example.net -all");
    add_txt(z, "urlenc.example.net", "v=spf1 exists:%{S}.ok.example.net -all");
    add_txt(z, "manydelim.example.net", "v=spf1 exists:%{lr........,}.ok.example.net -all");
    add_txt(z, "rev.example.net", "v=spf1 exists:%{ir}.%{v}.%{d2R}.ok.example.net -all");
    add_txt(z, "slashurl.example.net", "v=spf1 exists:%{L1R/}.x.ok.example.net -all");
    dns_zone_add(z, "7.100.51.198.in-addr.example.rev.ok.example.net", ns_t_a, "127.0.0.2", 9);
    dns_zone_add(z, "a%40b.x.ok.example.net", ns_t_a, "127.0.0.2", 9);
    dns_zone_add(z, "user.ok.example.net", ns_t_a, "127.0.0.2", 9);
    dns_zone_add(z, "example.net.ok.example.net", ns_t_a, "127.0.0.2", 9);
    dns_zone_add(z, "b.ok.example.net", ns_t_a, "127.0.0.2", 9);
    dns_zone_add(z, "b.a.ok.example.net", ns_t_a, "127.0.0.2", 9);
    dns_zone_add(z, "a.ok.example.net", ns_t_a, "127.0.0.2", 9);
    dns_zone_add(z, "user%40urlenc.example.net.ok.example.net", ns_t_a, "127.0.0.2", 9);

    struct dns_resolver *r = dns_open_zone(z);
    struct spf *s = spf_new(r, "mx.example.org");
    expect(s, "a/0x28", "198.51.100.7", "h.example.net", "user@many-a0.example.net", SPF_PASS, NULL, 1000);
    /* a/0 says nothing about IPv6: 28 real AAAA lookups pass the limit of 10 */
    expect(s, "a/0x28", "2001:db8::7", "h.example.net", "user@many-a0.example.net", SPF_PERMERROR, NULL, 1000);
    expect(s, "a//0x28", "2001:db8::7", "h.example.net", "user@many-a60.example.net", SPF_PASS, NULL, 1000);
    expect(s, "macro", "198.51.100.7", "h.example.net", "user@upper.example.net", SPF_PASS, NULL, 1000);
    expect(s, "macro", "198.51.100.7", "h.example.net", "other@upper.example.net", SPF_FAIL, NULL, 1000);
    expect(s, "macro", "198.51.100.7", "h.example.net", "user@upperd.example.net", SPF_PASS, NULL, 1000);
    expect(s, "macro", "198.51.100.7", "h.example.net", "a+b@plus.example.net", SPF_PASS, NULL, 1000);
    expect(s, "macro", "198.51.100.7", "h.example.net", "a,b@comma.example.net", SPF_PASS, NULL, 1000);
    expect(s, "macro", "198.51.100.7", "h.example.net", "b/a@slash.example.net", SPF_PASS, NULL, 1000);
    expect(s, "macro", "198.51.100.7", "h.example.net", "a_b@under.example.net", SPF_PASS, NULL, 1000);
    expect(s, "macro", "198.51.100.7", "h.example.net", "a=b@equal.example.net", SPF_PASS, NULL, 1000);
    expect(s, "macro", "198.51.100.7", "h.example.net", "user@urlenc.example.net", SPF_PASS, NULL, 1000);
    expect(s, "macro", "198.51.100.7", "h.example.net", "user@rev.example.net", SPF_PASS, NULL, 1000);
    expect(s, "macro", "198.51.100.7", "h.example.net", "a,b@manydelim.example.net", SPF_PASS, NULL, 1000);
    expect(s, "macro", "198.51.100.8", "h.example.net", "user@rev.example.net", SPF_FAIL, NULL, 1000);
    expect(s, "macro", "198.51.100.7", "h.example.net", "a@b/c@slashurl.example.net", SPF_PASS, NULL, 1000);
    expect(s, "zone", "192.0.2.1", "helo.example.net", "user@example.net", SPF_PASS, "example.net", 1000);
    expect(s, "zone", "198.51.100.7", "helo.example.net", "user@example.net", SPF_FAIL, "example.net", 1000);
    expect(s, "zone", "::ffff:192.0.2.1", "helo.example.net", "user@example.net", SPF_PASS, "example.net", 1000);
    expect(s, "zone", "2001:db8::1", "helo.example.net", "user@example.net", SPF_PASS, "example.net", 1000);
    expect(s, "zone", "127.0.0.1", "helo.example.net", "user@example.net", SPF_NONE, "example.net", 1000);
    expect(s, "zone", "::1", "helo.example.net", "user@example.net", SPF_NONE, "example.net", 1000);
    expect(s, "zone", "192.0.2.2", "helo.example.net", "", SPF_PASS, "helo.example.net", 1000);
    expect(s, "zone", "192.0.2.3", "helo.example.net", "", SPF_FAIL, "helo.example.net", 1000);
    expect(s, "zone", "192.0.2.2", "helo.example.net", NULL, SPF_PASS, "helo.example.net", 1000);
    expect(s, "zone", "192.0.2.2", "localhost", NULL, SPF_NONE, "localhost", 1000);
    expect(s, "zone", "192.0.2.2", "[192.0.2.2]", "", SPF_NONE, "[192.0.2.2]", 1000);
    expect(s, "zone", "not-an-address", "helo.example.net", "user@example.net", SPF_PERMERROR, NULL, 1000);
    expect(s, "zone", "198.51.100.7", "h.example.net", "user@zero.example.net", SPF_PASS, NULL, 1000);
    expect(s, "zone", "2001:db8::7", "h.example.net", "user@zero.example.net", SPF_FAIL, NULL, 1000);
    expect(s, "zone", "198.51.100.7", "h.example.net", "user@azero.example.net", SPF_PASS, NULL, 1000);
    expect(s, "zone", "2001:db8::7", "h.example.net", "user@mxzero.example.net", SPF_PASS, NULL, 1000);
    expect(s, "zone", "198.51.100.7", "h.example.net", "user@mxzero.example.net", SPF_FAIL, NULL, 1000);
    expect(s, "zone", "198.51.100.7", "h.example.net", "user@bad.example.net", SPF_PERMERROR, NULL, 1000);
    expect(s, "zone", "198.51.100.7", "h.example.net", "user@deep.example.net", SPF_PERMERROR, NULL, 1000);
    expect(s, "zone", "198.51.100.7", "h.example.net", "user@slow.example.net", SPF_TEMPERROR, NULL, 1000);
    expect(s, "zone", "198.51.100.7", "h.example.net", "user@inc-slow.example.net", SPF_TEMPERROR, NULL, 1000);
    expect(s, "zone", "198.51.100.7", "h.example.net", "user@nowhere.example.net", SPF_NONE, NULL, 1000);
    /* a deadline that has passed already */
    expect(s, "zone", "192.0.2.1", "helo.example.net", "user@example.net", SPF_TEMPERROR, NULL, 0);

    pthread_t th[8];
    struct worker w[8];
    double t0 = now_ms();
    for (int i = 0; i < 8; i++) {
        w[i].s = s;
        w[i].ok = 0;
        pthread_create(&th[i], NULL, worker, &w[i]);
    }
    int total = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        total += w[i].ok;
    }
    printf("%s: spf 8 threads share one struct spf (%d/1600 right, %.0f ms)\n",
           total == 1600 ? "PASS" : "FAIL", total, now_ms() - t0);
    failures += total != 1600;
    spf_free(s);
    dns_close(r);
}

/* test_network - the module against unbound */
static void test_network(const char *servers)
{
    char err[256];
    struct dns_resolver *r = dns_open(servers, 3000, err, sizeof err);
    if (!r) {
        printf("FAIL: spf dns_open %s: %s\n", servers, err);
        failures++;
        return;
    }
    struct spf *s = spf_new(r, "mx.example.org");
    const char *h = "mail.example.test";
    expect(s, servers, "192.0.2.10", h, "sender@example.test", SPF_PASS, "example.test", 2000);
    expect(s, servers, "2001:db8::10", h, "sender@example.test", SPF_PASS, NULL, 2000);
    expect(s, servers, "198.51.100.1", h, "sender@example.test", SPF_FAIL, NULL, 2000);
    expect(s, servers, "198.51.100.1", h, "sender@include.example.test", SPF_FAIL, NULL, 2000);
    expect(s, servers, "198.51.100.1", h, "sender@softfail.example.test", SPF_SOFTFAIL, NULL, 2000);
    expect(s, servers, "192.0.2.1", h, "sender@split.example.test", SPF_PASS, NULL, 2000);
    expect(s, servers, "198.51.100.1", h, "sender@nosuch.example.test", SPF_NONE, NULL, 2000);
    expect(s, servers, "198.51.100.1", h, "sender@mail.example.test", SPF_NONE, NULL, 2000);
    expect(s, servers, "198.51.100.1", h, "sender@x.servfail.test", SPF_TEMPERROR, NULL, 2000);
    expect(s, servers, "198.51.100.1", h, "sender@x.refused.test", SPF_TEMPERROR, NULL, 2000);
    double t0 = now_ms();
    expect(s, servers, "198.51.100.1", h, "sender@x.timeout.test", SPF_TEMPERROR, NULL, 300);
    double ms = now_ms() - t0;
    printf("%s: spf deadline 300 ms on a dropped query (%.0f ms)\n",
           ms < 600 ? "PASS" : "FAIL", ms);
    failures += ms >= 600;
    spf_free(s);
    dns_close(r);
}

int main(int argc, char **argv)
{
    log_open("test_spf", 1, 0);
    test_zone();
    for (int i = 1; i < argc; i++)
        test_network(argv[i]);
    if (argc < 2)
        printf("SKIP: spf network tests (no servers given)\n");
    return failures ? 1 : 0;
}
