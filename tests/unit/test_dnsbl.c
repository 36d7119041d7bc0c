/*
 * NAME
 *   test_dnsbl - unit tests of dnsbl.c
 * DESCRIPTION
 *   Tables for the zone syntax (good and bad entries with their error
 *   text), query names, accepted codes, the pure evaluation and the driver
 *   over the in-memory fake resolver.  PASS:/FAIL: per case.
 */
#include "autoconf.h"

#include <arpa/nameser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsbl.h"
#include "fake_resolver.h"

static int failures;

/* check - report one condition */
static void check(const char *name, int cond)
{
    printf("%s: %s\n", cond ? "PASS" : "FAIL", name);
    if (!cond)
        failures++;
}

/* test_parse - zone syntax, good entries and errors */
static void test_parse(void)
{
    static const struct {
        const char *spec;
        const char *zone; /* NULL: must fail */
        int weight, ncodes;
        const char *err; /* substring of the error */
    } cases[] = {
        {"zen.example.org", "zen.example.org", 1, 0, NULL},
        {"Zen.Example.ORG.", "zen.example.org", 1, 0, NULL},
        {"zen.example.org=3", "zen.example.org", 3, 0, NULL},
        {"zen.example.org=-5", "zen.example.org", -5, 0, NULL},
        {"zen.example.org=+2", "zen.example.org", 2, 0, NULL},
        {"zen.example.org=3:127.0.0.2-127.0.0.11", "zen.example.org", 3, 1, NULL},
        {"zen.example.org:127.0.0.2,127.0.0.4-127.0.0.7,127.0.1.0/24", "zen.example.org", 1, 3,
         NULL},
        {"bl.example.net=1000:127.0.0.0/8", "bl.example.net", 1000, 1, NULL},
        {"", NULL, 0, 0, "zone name missing"},
        {"=3", NULL, 0, 0, "zone name missing"},
        {"bad zone", NULL, 0, 0, "bad zone name"},
        {"a..b", NULL, 0, 0, "bad zone name"},
        {"x\n.example", NULL, 0, 0, "bad zone name"},
        {"zen.example.org=", NULL, 0, 0, "weight missing"},
        {"zen.example.org=abc", NULL, 0, 0, "not an integer"},
        {"zen.example.org=3x", NULL, 0, 0, "not an integer"},
        {"zen.example.org=1001", NULL, 0, 0, "not an integer"},
        {"zen.example.org=-1001", NULL, 0, 0, "not an integer"},
        {"zen.example.org=99999999999999999999", NULL, 0, 0, "not an integer"},
        {"zen.example.org= 3", NULL, 0, 0, "not an integer"},
        {"zen.example.org:", NULL, 0, 0, "return codes missing"},
        {"zen.example.org:127.0.0", NULL, 0, 0, "bad return code"},
        {"zen.example.org:127.0.0.2,", NULL, 0, 0, "bad return code"},
        {"zen.example.org:127.0.0.9-127.0.0.2", NULL, 0, 0, "bad return code"},
        {"zen.example.org:127.0.0.0/33", NULL, 0, 0, "bad return code"},
        {"zen.example.org:127.0.0.0/", NULL, 0, 0, "bad return code"},
        {"zen.example.org:127.0.0.0/2-4", NULL, 0, 0, "bad return code"},
        {"zen.example.org:::1", NULL, 0, 0, "bad return code"},
        {"zen.example.org:1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", NULL, 0, 0,
         "bad return code"},
        {"zen.example.org:127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6,"
         "127.0.0.7,127.0.0.8,127.0.0.9,127.0.0.10,127.0.0.11,127.0.0.12,127.0.0.13,"
         "127.0.0.14,127.0.0.15,127.0.0.16,127.0.0.17",
         NULL, 0, 0, "more than 16"},
    };
    char err[200];
    struct dnsbl_zone z;

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char name[200];
        int rc;
        err[0] = '\0';
        rc = dnsbl_parse_zone(cases[i].spec, &z, err, sizeof err);
        snprintf(name, sizeof name, "parse \"%.50s\"%s%s", cases[i].spec,
                 cases[i].err ? " -> " : "", cases[i].err ? cases[i].err : "");
        for (char *p = name; *p; p++)
            if (*p == '\n')
                *p = '?';
        if (cases[i].zone != NULL)
            check(name, rc == 0 && strcmp(z.name, cases[i].zone) == 0 &&
                            z.weight == cases[i].weight && z.ncodes == cases[i].ncodes);
        else
            check(name,
                  rc == -1 && strstr(err, cases[i].err) != NULL && strchr(err, '\n') == NULL);
        if (rc == -1 && cases[i].zone != NULL)
            printf("  # error: %s\n", err);
    }
    {
        char big[300];
        memset(big, 'a', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        for (int i = 50; i < 290; i += 50)
            big[i] = '.';
        check("parse: zone longer than 189 refused",
              dnsbl_parse_zone(big, &z, err, sizeof err) == -1);
        check("parse: NULL", dnsbl_parse_zone(NULL, &z, err, sizeof err) == -1);
        check("parse: NULL err buffer ok", dnsbl_parse_zone("a b", &z, NULL, 0) == -1);
    }
    {
        struct dnsbl_list l;
        check("list: three zones",
              dnsbl_list_parse(&l, "  a.example=2\tb.example:127.0.0.2\n c.example  ", err,
                               sizeof err) == 0 &&
                  l.n == 3 && l.zones[0].weight == 2 &&
                  strcmp(l.zones[2].name, "c.example") == 0);
        check("list: empty", dnsbl_list_parse(&l, "   ", err, sizeof err) == 0 && l.n == 0);
        check("list: NULL", dnsbl_list_parse(&l, NULL, err, sizeof err) == 0 && l.n == 0);
        check("list: duplicate refused",
              dnsbl_list_parse(&l, "a.example A.example.", err, sizeof err) == -1 &&
                  strstr(err, "twice") != NULL);
        check("list: bad entry names itself",
              dnsbl_list_parse(&l, "a.example b.example=x", err, sizeof err) == -1 &&
                  strstr(err, "\"x\"") != NULL);
        {
            char many[2000] = "";
            for (int i = 0; i < 33; i++) {
                char one[32];
                snprintf(one, sizeof one, "z%d.example ", i);
                strcat(many, one);
            }
            check("list: 33 zones refused", dnsbl_list_parse(&l, many, err, sizeof err) == -1 &&
                                                strstr(err, "32") != NULL);
        }
    }
}

/* test_names - reversed octets and nibbles */
static void test_names(void)
{
    static const struct {
        const char *ip, *zone, *want;
    } cases[] = {
        {"192.0.2.1", "zen.example.org", "1.2.0.192.zen.example.org"},
        {"::ffff:192.0.2.1", "zen.example.org", "1.2.0.192.zen.example.org"},
        {"2001:db8::1", "bl.example",
         "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.example"},
        {"2001:DB8:abcd:12::ff", "bl.example",
         "f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.1.0.0.d.c.b.a.8.b.d.0.1.0.0.2.bl.example"},
        {"192.0.2", "zen.example.org", NULL},
        {"", "zen.example.org", NULL},
        {"192.0.2.1", "bad zone", NULL},
        {"[192.0.2.1]", "zen.example.org", NULL},
    };
    char buf[300];

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char name[200];
        int rc = dnsbl_query_name(cases[i].ip, cases[i].zone, buf, sizeof buf);
        snprintf(name, sizeof name, "query name %s in %s", cases[i].ip, cases[i].zone);
        check(name, cases[i].want ? rc == 0 && strcmp(buf, cases[i].want) == 0 : rc == -1);
    }
    check("query name: small buffer",
          dnsbl_query_name("2001:db8::1", "bl.example", buf, 40) == -1);
    check("query name: v4 small buffer",
          dnsbl_query_name("192.0.2.1", "bl.example", buf, 10) == -1);
}

/* test_codes - default and configured return codes */
static void test_codes(void)
{
    struct dnsbl_zone z;
    static const struct {
        const char *spec;
        unsigned char addr[4];
        int want;
    } cases[] = {
        {"d.example", {127, 0, 0, 2}, 1},
        {"d.example", {127, 0, 0, 1}, 0},
        {"d.example", {127, 1, 2, 3}, 1},
        {"d.example", {127, 255, 254, 255}, 1},
        {"d.example", {127, 255, 255, 254}, 0},
        {"d.example", {127, 255, 255, 252}, 0},
        {"d.example", {10, 0, 0, 2}, 0},
        {"r.example:127.0.0.2-127.0.0.11", {127, 0, 0, 11}, 1},
        {"r.example:127.0.0.2-127.0.0.11", {127, 0, 0, 12}, 0},
        {"r.example:127.0.0.2-127.0.0.11", {127, 0, 0, 1}, 0},
        {"p.example:127.0.1.0/24", {127, 0, 1, 200}, 1},
        {"p.example:127.0.1.77/24", {127, 0, 1, 0}, 1},
        {"p.example:127.0.1.0/24", {127, 0, 2, 0}, 0},
        {"s.example:127.0.0.4,127.0.0.9", {127, 0, 0, 9}, 1},
        {"s.example:127.0.0.4,127.0.0.9", {127, 0, 0, 5}, 0},
        {"all.example:0.0.0.0/0", {8, 8, 8, 8}, 1},
    };

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char name[200];
        dnsbl_parse_zone(cases[i].spec, &z, NULL, 0);
        snprintf(name, sizeof name, "code %u.%u.%u.%u for %s -> %d", cases[i].addr[0],
                 cases[i].addr[1], cases[i].addr[2], cases[i].addr[3], cases[i].spec,
                 cases[i].want);
        check(name, dnsbl_code_accepted(&z, cases[i].addr) == cases[i].want);
    }
}

/* test_evaluate - score, listed zones, temporary failures */
static void test_evaluate(void)
{
    struct dnsbl_list l;
    struct dnsbl_answer a[4];
    struct dnsbl_outcome out;
    unsigned char listed[8] = {127, 0, 0, 1, 127, 0, 0, 4}, refused[4] = {127, 255, 255, 254};

    dnsbl_list_parse(&l, "a.example=3 b.example=2 c.example=-1 d.example=5", NULL, 0);
    memset(a, 0, sizeof a);
    a[0].status = DNS_OK;
    a[0].addrs = listed;
    a[0].naddrs = 2;
    a[1].status = DNS_NXDOMAIN;
    a[2].status = DNS_OK;
    a[2].addrs = listed + 4;
    a[2].naddrs = 1;
    a[3].status = DNS_TEMPFAIL;
    dnsbl_evaluate(&l, a, &out);
    check("evaluate: score 3 + -1", out.score == 2);
    check("evaluate: two listed, in order",
          out.nlisted == 2 && strcmp(out.listed[0].zone, "a.example") == 0 &&
              strcmp(out.listed[0].code, "127.0.0.4") == 0 &&
              strcmp(out.listed[1].zone, "c.example") == 0 && out.listed[1].weight == -1);
    check("evaluate: one tempfail", out.ntempfail == 1);

    a[0].addrs = refused;
    a[0].naddrs = 1;
    a[2].status = DNS_NODATA;
    a[3].status = DNS_PERMFAIL;
    dnsbl_evaluate(&l, a, &out);
    check("evaluate: error code 127.255.255.254 is not a listing",
          out.score == 0 && out.nlisted == 0 && out.ntempfail == 0);
    dnsbl_evaluate(NULL, a, &out);
    check("evaluate: NULL list", out.score == 0 && out.nlisted == 0);
}

/* test_driver - lookups through the fake resolver */
static void test_driver(void)
{
    struct dnsbl_list l;
    struct dnsbl_lookup *lk;
    struct dnsbl_outcome out;
    struct dns_resolver *r = fake_dns_resolver();

    dnsbl_list_parse(&l,
                     "zen.example.org=3:127.0.0.2-127.0.0.11 bl.example.net=2 "
                     "slow.example=4 allow.example=-3",
                     NULL, 0);
    fake_dns_reset();
    fake_dns_addr("10.2.0.192.zen.example.org", "127.0.0.4");
    fake_dns_addr("10.2.0.192.zen.example.org", "127.0.0.200");
    fake_dns_addr("10.2.0.192.bl.example.net", "127.0.0.1"); /* not a listing */
    fake_dns_status("10.2.0.192.slow.example", ns_t_a, DNS_TEMPFAIL);
    lk = dnsbl_start(&l, r, "192.0.2.10");
    check("driver: every zone submitted at start",
          fake_dns_lookups("10.2.0.192.zen.example.org", ns_t_a) == 1 &&
              fake_dns_lookups("10.2.0.192.bl.example.net", ns_t_a) == 1 &&
              fake_dns_lookups("10.2.0.192.slow.example", ns_t_a) == 1 &&
              fake_dns_lookups("10.2.0.192.allow.example", ns_t_a) == 1);
    memset(&l, 0, sizeof l); /* a reload must not matter */
    dnsbl_finish(lk, NULL, &out);
    check("driver: zen listed, score 3",
          out.score == 3 && out.nlisted == 1 &&
              strcmp(out.listed[0].zone, "zen.example.org") == 0 &&
              strcmp(out.listed[0].code, "127.0.0.4") == 0);
    check("driver: one tempfail", out.ntempfail == 1);
    memset(&out, 0, sizeof out);
    dnsbl_finish(lk, NULL, &out);
    check("driver: second finish same outcome", out.score == 3 && out.nlisted == 1);
    dnsbl_free(lk);

    dnsbl_list_parse(&l, "zen.example.org=3 allow.example=-3", NULL, 0);
    fake_dns_reset();
    fake_dns_addr(
        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.example.org",
        "127.0.0.2");
    fake_dns_addr(
        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.allow.example",
        "127.0.0.2");
    lk = dnsbl_start(&l, r, "2001:db8::1");
    dnsbl_finish(lk, NULL, &out);
    check("driver: IPv6 nibbles, weights cancel", out.score == 0 && out.nlisted == 2);
    dnsbl_free(lk);

    lk = dnsbl_start(&l, r, "garbage");
    dnsbl_finish(lk, NULL, &out);
    check("driver: bad client, nothing listed", out.score == 0 && out.nlisted == 0);
    dnsbl_free(lk);
    lk = dnsbl_start(NULL, r, "192.0.2.1");
    dnsbl_finish(lk, NULL, &out);
    check("driver: NULL list", out.score == 0);
    dnsbl_free(lk);
    lk = dnsbl_start(&l, NULL, "192.0.2.1");
    dnsbl_finish(lk, NULL, &out);
    check("driver: no resolver", out.score == 0);
    dnsbl_free(lk);
    lk = dnsbl_start(&l, r, "192.0.2.1");
    dnsbl_free(lk); /* freed with lookups pending */
    dnsbl_finish(NULL, NULL, &out);
    dnsbl_free(NULL);
    check("driver: no query left unreleased", fake_dns_outstanding() == 0);
}

/* main - run every group; exit 1 if a case failed */
int main(void)
{
    test_parse();
    test_names();
    test_codes();
    test_evaluate();
    test_driver();
    return failures != 0;
}
