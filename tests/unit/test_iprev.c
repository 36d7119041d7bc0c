/*
 * NAME
 *   test_iprev - unit tests of iprev.c
 * DESCRIPTION
 *   Tables for address parsing, reverse names, the pure evaluation, the
 *   driver over the in-memory fake resolver and the generic-name heuristic.
 *   PASS:/FAIL: per case; exit 1 on failure.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_resolver.h"
#include "iprev.h"

static int failures;

/* check - report one condition */
static void check(const char *name, int cond)
{
    printf("%s: %s\n", cond ? "PASS" : "FAIL", name);
    if (!cond)
        failures++;
}

/* test_parse - addresses, reverse names, host name syntax */
static void test_parse(void)
{
    static const struct {
        const char *text;
        int ok, family;
        const char *ptr;
    } cases[] = {
        {"192.0.2.10", 0, AF_INET, "10.2.0.192.in-addr.arpa"},
        {"::ffff:192.0.2.10", 0, AF_INET, "10.2.0.192.in-addr.arpa"},
        {"[192.0.2.10]", 0, AF_INET, "10.2.0.192.in-addr.arpa"},
        {"2001:db8::1", 0, AF_INET6,
         "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"},
        {"IPv6:2001:db8::1", 0, AF_INET6,
         "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"},
        {"[IPv6:2001:db8::1]", 0, AF_INET6,
         "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"},
        {"192.0.2", -1, 0, NULL},
        {"192.0.2.256", -1, 0, NULL},
        {"", -1, 0, NULL},
        {"unknown", -1, 0, NULL},
        {"[]", -1, 0, NULL},
        {"1.2.3.4 ", -1, 0, NULL},
        {"2001:db8::1::2", -1, 0, NULL},
        {"0123456789012345678901234567890123456789012345678901234567890123456789", -1, 0, NULL},
    };

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct iprev_addr a;
        char name[200], buf[128];
        int rc = iprev_addr_parse(cases[i].text, &a);
        snprintf(name, sizeof name, "parse \"%s\"", cases[i].text);
        if (cases[i].ok != 0) {
            check(name, rc == -1);
            continue;
        }
        check(name, rc == 0 && a.family == cases[i].family &&
                        iprev_ptr_name(&a, buf, sizeof buf) == 0 &&
                        strcmp(buf, cases[i].ptr) == 0);
    }
    {
        struct iprev_addr a;
        char small[20];
        iprev_addr_parse("2001:db8::1", &a);
        check("ptr name: small buffer refused", iprev_ptr_name(&a, small, sizeof small) == -1);
        iprev_addr_parse("192.0.2.10", &a);
        check("ptr name v4: small buffer refused", iprev_ptr_name(&a, small, 10) == -1);
        check("parse NULL", iprev_addr_parse(NULL, &a) == -1);
    }
    {
        static const struct {
            const char *name;
            int ok;
        } names[] = {
            {"mail.example.com", 1},
            {"mail.example.com.", 1},
            {"a", 1},
            {"_x.example", 1},
            {"", 0},
            {".", 0},
            {"a..b", 0},
            {".a", 0},
            {"a b.example", 0},
            {"a\n.example", 0},
            {"a;b", 0},
            {"ex\xc3\xa4mple.com", 0},
            {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com", 0},
        };
        for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
            char label[120];
            snprintf(label, sizeof label, "name_ok %d: %.40s", names[i].ok, names[i].name);
            for (char *p = label; *p; p++)
                if (*p == '\n')
                    *p = '?';
            check(label, iprev_name_ok(names[i].name) == names[i].ok);
        }
    }
}

/* test_evaluate - the RFC 8601 decision table, IPv4 and IPv6 */
static void test_evaluate(void)
{
    struct iprev_addr v4, v6;
    unsigned char match[4] = {192, 0, 2, 10}, other[8] = {198, 51, 100, 1, 203, 0, 113, 5};
    unsigned char m6[16];
    struct iprev_forward f[3];
    int verified;

    iprev_addr_parse("192.0.2.10", &v4);
    iprev_addr_parse("2001:db8::10", &v6);
    inet_pton(AF_INET6, "2001:db8::10", m6);

    static const struct {
        const char *name;
        enum dns_status ptr;
        int n;
        enum dns_status s0, s1;
        int match0, match1;
        enum iprev_result want;
        int want_verified;
    } cases[] = {
        {"PTR NXDOMAIN -> permerror", DNS_NXDOMAIN, 0, 0, 0, 0, 0, IPREV_PERMERROR, -1},
        {"PTR NODATA -> permerror", DNS_NODATA, 0, 0, 0, 0, 0, IPREV_PERMERROR, -1},
        {"PTR SERVFAIL -> temperror", DNS_TEMPFAIL, 0, 0, 0, 0, 0, IPREV_TEMPERROR, -1},
        {"PTR malformed -> permerror", DNS_PERMFAIL, 0, 0, 0, 0, 0, IPREV_PERMERROR, -1},
        {"PTR OK but no names -> permerror", DNS_OK, 0, 0, 0, 0, 0, IPREV_PERMERROR, -1},
        {"one name matching -> pass", DNS_OK, 1, DNS_OK, 0, 1, 0, IPREV_PASS, 0},
        {"one name mismatch -> fail", DNS_OK, 1, DNS_OK, 0, 0, 0, IPREV_FAIL, -1},
        {"forward NXDOMAIN -> fail", DNS_OK, 1, DNS_NXDOMAIN, 0, 0, 0, IPREV_FAIL, -1},
        {"forward NODATA -> fail", DNS_OK, 1, DNS_NODATA, 0, 0, 0, IPREV_FAIL, -1},
        {"forward SERVFAIL -> temperror", DNS_OK, 1, DNS_TEMPFAIL, 0, 0, 0, IPREV_TEMPERROR,
         -1},
        {"second name matches -> pass", DNS_OK, 2, DNS_OK, DNS_OK, 0, 1, IPREV_PASS, 1},
        {"SERVFAIL + match -> pass", DNS_OK, 2, DNS_TEMPFAIL, DNS_OK, 0, 1, IPREV_PASS, 1},
        {"SERVFAIL + mismatch -> temperror", DNS_OK, 2, DNS_OK, DNS_TEMPFAIL, 0, 0,
         IPREV_TEMPERROR, -1},
        {"NXDOMAIN + mismatch -> fail", DNS_OK, 2, DNS_NXDOMAIN, DNS_OK, 0, 0, IPREV_FAIL, -1},
    };

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        for (int fam = 0; fam < 2; fam++) {
            char name[160];
            memset(f, 0, sizeof f);
            f[0].name = "a.example";
            f[0].status = cases[i].s0;
            f[1].name = "b.example";
            f[1].status = cases[i].s1;
            if (fam == 0) {
                f[0].addrs = cases[i].match0 ? match : other;
                f[0].naddrs = cases[i].match0 ? 1 : 2;
                f[1].addrs = cases[i].match1 ? match : other;
                f[1].naddrs = cases[i].match1 ? 1 : 2;
            } else {
                f[0].addrs =
                    cases[i].match0 ? m6 : (unsigned char *)"\x20\x01\x0d\xb8zzzzzzzzzzzz";
                f[0].naddrs = 1;
                f[1].addrs =
                    cases[i].match1 ? m6 : (unsigned char *)"\x20\x01\x0d\xb8zzzzzzzzzzzz";
                f[1].naddrs = 1;
            }
            snprintf(name, sizeof name, "%s %s", fam ? "v6" : "v4", cases[i].name);
            check(name, iprev_evaluate(fam ? &v6 : &v4, cases[i].ptr, f, cases[i].n,
                                       &verified) == cases[i].want &&
                            verified == cases[i].want_verified);
        }
    }
    check("evaluate: NULL client", iprev_evaluate(NULL, DNS_OK, f, 1, NULL) == IPREV_PERMERROR);
    /* the match is the second of several addresses */
    {
        unsigned char two[8] = {198, 51, 100, 1, 192, 0, 2, 10};
        f[0].status = DNS_OK;
        f[0].addrs = two;
        f[0].naddrs = 2;
        check("match in second address", iprev_evaluate(&v4, DNS_OK, f, 1, NULL) == IPREV_PASS);
    }
    check("result names",
          strcmp(iprev_result_name(IPREV_TEMPERROR), "temperror") == 0 &&
              strcmp(iprev_result_name((enum iprev_result)42), "permerror") == 0);
}

/* test_driver - lookups through the fake resolver */
static void test_driver(void)
{
    struct dns_resolver *r = fake_dns_resolver();
    struct iprev_check *c;
    char host[IPREV_NAME_MAX];
    enum iprev_result res;

    fake_dns_reset();
    fake_dns_name("10.2.0.192.in-addr.arpa", ns_t_ptr, "mail.example.com.");
    fake_dns_addr("mail.example.com", "192.0.2.10");
    c = iprev_start(r, "192.0.2.10");
    check("driver: PTR submitted at start",
          fake_dns_lookups("10.2.0.192.in-addr.arpa", ns_t_ptr) == 1);
    res = iprev_finish(c, NULL, host, sizeof host);
    check("driver: pass", res == IPREV_PASS && strcmp(host, "mail.example.com") == 0);
    res = iprev_finish(c, NULL, host, sizeof host);
    check("driver: second finish cached",
          res == IPREV_PASS && fake_dns_lookups("mail.example.com", ns_t_a) == 1);
    iprev_free(c);

    /* forged PTR: name points elsewhere */
    fake_dns_reset();
    fake_dns_name("11.2.0.192.in-addr.arpa", ns_t_ptr, "mail.bank.example");
    fake_dns_addr("mail.bank.example", "198.51.100.7");
    c = iprev_start(r, "192.0.2.11");
    res = iprev_finish(c, NULL, host, sizeof host);
    check("driver: forged PTR fails, no host", res == IPREV_FAIL && host[0] == '\0');
    iprev_free(c);

    /* several names, bad ones skipped, duplicates asked once, match last */
    fake_dns_reset();
    fake_dns_name("12.2.0.192.in-addr.arpa", ns_t_ptr, "bad name.example");
    fake_dns_name("12.2.0.192.in-addr.arpa", ns_t_ptr, "a.example");
    fake_dns_name("12.2.0.192.in-addr.arpa", ns_t_ptr, "A.example.");
    fake_dns_name("12.2.0.192.in-addr.arpa", ns_t_ptr, "b.example");
    fake_dns_addr("a.example", "198.51.100.7");
    fake_dns_addr("b.example", "198.51.100.8");
    fake_dns_addr("b.example", "192.0.2.12");
    c = iprev_start(r, "192.0.2.12");
    res = iprev_finish(c, NULL, host, sizeof host);
    check("driver: second name verified", res == IPREV_PASS && strcmp(host, "b.example") == 0);
    check("driver: duplicate name looked up once", fake_dns_lookups("a.example", ns_t_a) == 1);
    check("driver: bad name never looked up",
          fake_dns_lookups("bad name.example", ns_t_a) == 0);
    iprev_free(c);

    /* more than IPREV_MAX_NAMES names: only the first ten are followed */
    fake_dns_reset();
    for (int i = 0; i < 15; i++) {
        char n[64];
        snprintf(n, sizeof n, "h%d.example", i);
        fake_dns_name("13.2.0.192.in-addr.arpa", ns_t_ptr, n);
        fake_dns_addr(n, i == 14 ? "192.0.2.13" : "198.51.100.1");
    }
    c = iprev_start(r, "192.0.2.13");
    res = iprev_finish(c, NULL, host, sizeof host);
    check("driver: name 15 not followed", res == IPREV_FAIL &&
                                              fake_dns_lookups("h14.example", ns_t_a) == 0 &&
                                              fake_dns_lookups("h9.example", ns_t_a) == 1);
    iprev_free(c);

    /* IPv6: AAAA, not A */
    fake_dns_reset();
    fake_dns_name("0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
                  ns_t_ptr, "v6.example");
    fake_dns_addr("v6.example", "192.0.2.16");
    fake_dns_addr("v6.example", "2001:db8::10");
    c = iprev_start(r, "2001:db8::10");
    res = iprev_finish(c, NULL, host, sizeof host);
    check("driver: IPv6 pass via AAAA", res == IPREV_PASS && strcmp(host, "v6.example") == 0 &&
                                            fake_dns_lookups("v6.example", ns_t_a) == 0);
    iprev_free(c);

    /* IPv4-mapped client looks up in-addr.arpa */
    fake_dns_reset();
    fake_dns_name("10.2.0.192.in-addr.arpa", ns_t_ptr, "mail.example.com");
    fake_dns_addr("mail.example.com", "192.0.2.10");
    c = iprev_start(r, "::ffff:192.0.2.10");
    check("driver: mapped client pass", iprev_finish(c, NULL, NULL, 0) == IPREV_PASS);
    iprev_free(c);

    /* temporary failures */
    fake_dns_reset();
    fake_dns_status("10.2.0.192.in-addr.arpa", ns_t_ptr, DNS_TEMPFAIL);
    c = iprev_start(r, "192.0.2.10");
    check("driver: PTR SERVFAIL temperror",
          iprev_finish(c, NULL, host, sizeof host) == IPREV_TEMPERROR);
    iprev_free(c);
    fake_dns_reset();
    fake_dns_name("10.2.0.192.in-addr.arpa", ns_t_ptr, "mail.example.com");
    fake_dns_status("mail.example.com", ns_t_a, DNS_TEMPFAIL);
    c = iprev_start(r, "192.0.2.10");
    check("driver: A SERVFAIL temperror",
          iprev_finish(c, NULL, host, sizeof host) == IPREV_TEMPERROR);
    iprev_free(c);

    /* no PTR, bad client, no resolver, free before finish */
    fake_dns_reset();
    c = iprev_start(r, "192.0.2.10");
    check("driver: no PTR permerror",
          iprev_finish(c, NULL, host, sizeof host) == IPREV_PERMERROR);
    iprev_free(c);
    c = iprev_start(r, "not-an-ip");
    check("driver: bad client permerror",
          iprev_finish(c, NULL, host, sizeof host) == IPREV_PERMERROR);
    iprev_free(c);
    c = iprev_start(NULL, "192.0.2.10");
    check("driver: no resolver temperror",
          iprev_finish(c, NULL, host, sizeof host) == IPREV_TEMPERROR);
    iprev_free(c);
    c = iprev_start(r, "192.0.2.10");
    iprev_free(c);
    iprev_free(NULL);
    check("driver: finish(NULL)",
          iprev_finish(NULL, NULL, host, sizeof host) == IPREV_TEMPERROR);
    check("driver: no query left unreleased", fake_dns_outstanding() == 0);
}

/* test_generic - the generic-name heuristic, true and false cases */
static void test_generic(void)
{
    static const struct {
        const char *name, *client;
        enum iprev_generic want;
    } cases[] = {
        /* address written in the name */
        {"192-0-2-10.dynamic.example.net", "192.0.2.10", IPREV_GENERIC_ADDRESS},
        {"10.2.0.192.in-addr.isp.example", "192.0.2.10", IPREV_GENERIC_ADDRESS},
        {"host-10-2-0-192.isp.example", "192.0.2.10", IPREV_GENERIC_ADDRESS},
        {"c-192-0-2-10.hsd1.ca.isp.example", "192.0.2.10", IPREV_GENERIC_ADDRESS},
        {"ip192.0.2.10.isp.example", "192.0.2.10", IPREV_GENERIC_ADDRESS},
        {"x0-2-10.isp.example", "192.0.2.10", IPREV_GENERIC_ADDRESS},
        {"a10-2-0.isp.example", "192.0.2.10", IPREV_GENERIC_ADDRESS},
        {"192000002010.isp.example", "192.0.2.10", IPREV_GENERIC_ADDRESS},
        {"010002000192.isp.example", "192.0.2.10", IPREV_GENERIC_ADDRESS},
        {"c000020a.isp.example", "192.0.2.10", IPREV_GENERIC_ADDRESS},
        {"0a0200c0.isp.example", "192.0.2.10", IPREV_GENERIC_ADDRESS},
        {"C000020A.ISP.EXAMPLE", "192.0.2.10", IPREV_GENERIC_ADDRESS},
        {"h3221225994.isp.example", "192.0.2.10", IPREV_GENERIC_ADDRESS},
        {"198-51-100-77.rev.example.com", "198.51.100.77", IPREV_GENERIC_ADDRESS},
        {"2001-db8-0-0-0-0-0-10.v6.isp.example", "2001:db8::10", IPREV_GENERIC_ADDRESS},
        {"cust-0-0-0-10.v6.isp.example", "2001:db8::10", IPREV_GENERIC_ADDRESS},
        {"20010db8000000000000000000000010.isp.example", "2001:db8::10", IPREV_GENERIC_ADDRESS},
        {"x-1234-5678-9abc-def0.isp.example", "2001:db8::1234:5678:9abc:def0",
         IPREV_GENERIC_ADDRESS},
        /* words */
        {"dyn.isp.example.net", "203.0.113.5", IPREV_GENERIC_KEYWORD},
        {"abc.dynamic.isp.example", "203.0.113.5", IPREV_GENERIC_KEYWORD},
        {"adsl-abc.isp.example", "203.0.113.5", IPREV_GENERIC_KEYWORD},
        {"pool-abc.isp.example", "203.0.113.5", IPREV_GENERIC_KEYWORD},
        {"ppp-xyz.isp.example", "203.0.113.5", IPREV_GENERIC_KEYWORD},
        {"pppoe.xyz.isp.example", "203.0.113.5", IPREV_GENERIC_KEYWORD},
        {"cable-xyz.isp.example", "203.0.113.5", IPREV_GENERIC_KEYWORD},
        {"dialup-xyz.isp.example", "203.0.113.5", IPREV_GENERIC_KEYWORD},
        {"dhcp123.isp.example", "203.0.113.5", IPREV_GENERIC_KEYWORD},
        {"broadband.abc.isp.example", "203.0.113.5", IPREV_GENERIC_KEYWORD},
        {"cust123.isp.example", "203.0.113.5", IPREV_GENERIC_KEYWORD},
        {"abc.static-ip.isp.example", "203.0.113.5", IPREV_GENERIC_KEYWORD},
        {"static.ip.abc.isp.example", "203.0.113.5", IPREV_GENERIC_KEYWORD},
        {"DSL.Example.ISP.net", "203.0.113.5", IPREV_GENERIC_KEYWORD},
        {"client-5.isp.example", "203.0.113.5", IPREV_GENERIC_KEYWORD},
        {"host5.abc.isp.example", "203.0.113.5", IPREV_GENERIC_KEYWORD},
        {"static-113-5.isp.example", "203.0.113.5", IPREV_GENERIC_KEYWORD},
        /* not generic */
        {"mail.example.com", "192.0.2.10", IPREV_GENERIC_NO},
        {"mx1.example.com", "192.0.2.10", IPREV_GENERIC_NO},
        {"mx10.mail.example.com", "192.0.2.10", IPREV_GENERIC_NO},
        {"smtp-out-2.example.com", "192.0.2.10", IPREV_GENERIC_NO},
        {"dsl-provider.net", "192.0.2.10", IPREV_GENERIC_NO},
        {"mail.dynamic-dns.example", "192.0.2.10", IPREV_GENERIC_NO},
        {"static.example.com", "192.0.2.10", IPREV_GENERIC_NO},
        {"client.example.com", "192.0.2.10", IPREV_GENERIC_NO},
        {"host.mail.example.com", "192.0.2.10", IPREV_GENERIC_NO},
        {"client-7.mail.example.com", "192.0.2.10", IPREV_GENERIC_NO},
        {"o1.email.example.com", "192.0.2.10", IPREV_GENERIC_NO},
        {"mail-2001.example.com", "2001:db8::10", IPREV_GENERIC_NO},
        {"2001:db8::10", "2001:db8::10", IPREV_GENERIC_NO},
        {"", "192.0.2.10", IPREV_GENERIC_NO},
        {"a..b", "192.0.2.10", IPREV_GENERIC_NO},
        {"mail.example.com", NULL, IPREV_GENERIC_NO},
        {"dyn.isp.example.net", NULL, IPREV_GENERIC_KEYWORD},
        /* the host part ends at the organisational domain (public suffix
         * list), not at the last two labels */
        {"mail.dsl-provider.co.uk", "192.0.2.10", IPREV_GENERIC_NO},
        {"mx.pool-hosting.com.au", "192.0.2.10", IPREV_GENERIC_NO},
        {"dsl.example.co.uk", "192.0.2.10", IPREV_GENERIC_KEYWORD},
        {"abc.pool.isp.co.uk", "192.0.2.10", IPREV_GENERIC_KEYWORD},
        {"dyn.co.uk", "192.0.2.10", IPREV_GENERIC_NO},
    };

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct iprev_addr a;
        char label[200];
        if (cases[i].client != NULL)
            iprev_addr_parse(cases[i].client, &a);
        snprintf(label, sizeof label, "generic %d: %s [%s]", cases[i].want, cases[i].name,
                 cases[i].client != NULL ? cases[i].client : "-");
        check(label, iprev_generic_name(cases[i].name, cases[i].client != NULL ? &a : NULL) ==
                         cases[i].want);
    }
    check("generic: NULL name", iprev_generic_name(NULL, NULL) == IPREV_GENERIC_NO);
    {
        /* long and digit-heavy names stay bounded */
        char big[300];
        struct iprev_addr a;
        iprev_addr_parse("192.0.2.10", &a);
        memset(big, '1', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        check("generic: over-long name", iprev_generic_name(big, &a) == IPREV_GENERIC_NO);
        for (int i = 0; i < 250; i++)
            big[i] = (i % 2) ? '-' : '7';
        big[250] = '\0';
        check("generic: 125 digit runs, no crash",
              iprev_generic_name(big, &a) == IPREV_GENERIC_NO);
    }
}

/* main - run every group; exit 1 if a case failed */
int main(void)
{
    test_parse();
    test_evaluate();
    test_driver();
    test_generic();
    return failures != 0;
}
