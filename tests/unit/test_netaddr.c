/*
 * NAME
 *   test_netaddr - unit tests of netaddr.c (addresses, CIDR networks)
 * DESCRIPTION
 *   Tables of text in, family and canonical text out: IPv4, IPv6, mapped
 *   addresses (which must become IPv4), brackets and the "IPv6:" tag of an
 *   address literal, garbage; CIDR parsing with host bits, /0, /32, /128
 *   and prefixes out of range; masking and matching.
 */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include "netaddr.h"

/* test_parse_valid - every accepted spelling and its canonical form */
static void test_parse_valid(void **state)
{
    static const struct {
        const char *in;
        int family;
        const char *canon;
    } t[] = {
        {"192.0.2.1", AF_INET, "192.0.2.1"},
        {"0.0.0.0", AF_INET, "0.0.0.0"},
        {"255.255.255.255", AF_INET, "255.255.255.255"},
        {"2001:db8::1", AF_INET6, "2001:db8::1"},
        {"2001:DB8:0:0:0:0:0:1", AF_INET6, "2001:db8::1"},
        {"::1", AF_INET6, "::1"},
        {"::", AF_INET6, "::"},
        {"fe80::1:2:3:4", AF_INET6, "fe80::1:2:3:4"},
        /* a mapped address is IPv4 everywhere */
        {"::ffff:192.0.2.1", AF_INET, "192.0.2.1"},
        {"::FFFF:c000:0201", AF_INET, "192.0.2.1"},
        {"[::ffff:10.1.2.3]", AF_INET, "10.1.2.3"},
        /* brackets and the address-literal tag */
        {"[2001:db8::1]", AF_INET6, "2001:db8::1"},
        {"[192.0.2.1]", AF_INET, "192.0.2.1"},
        {"IPv6:2001:db8::1", AF_INET6, "2001:db8::1"},
        {"ipv6:2001:db8::2", AF_INET6, "2001:db8::2"},
        /* not mapped: the IPv4-compatible and NAT64 forms stay IPv6 */
        {"::192.0.2.1", AF_INET6, "::192.0.2.1"},
        {"64:ff9b::192.0.2.1", AF_INET6, "64:ff9b::c000:201"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct net_addr a;
        char buf[NET_STRLEN];

        if (net_parse(t[i].in, &a) != 0)
            fail_msg("net_parse(\"%s\") failed", t[i].in);
        if (a.family != t[i].family)
            fail_msg("net_parse(\"%s\"): family %d, want %d", t[i].in, a.family, t[i].family);
        net_format(&a, buf, sizeof buf);
        if (strcmp(buf, t[i].canon) != 0)
            fail_msg("net_parse(\"%s\"): \"%s\", want \"%s\"", t[i].in, buf, t[i].canon);
        assert_int_equal(net_max_prefix(&a), t[i].family == AF_INET ? 32 : 128);
    }
}

/* test_parse_mapped_bytes - a mapped address keeps no trace of its IPv6 form */
static void test_parse_mapped_bytes(void **state)
{
    struct net_addr m, v4;
    (void)state;
    assert_int_equal(net_parse("::ffff:198.51.100.7", &m), 0);
    assert_int_equal(net_parse("198.51.100.7", &v4), 0);
    assert_true(net_equal(&m, &v4));
    assert_memory_equal(m.a, v4.a, sizeof m.a);
    for (int i = 4; i < 16; i++)
        assert_int_equal(m.a[i], 0);
}

/* test_parse_garbage - everything that is not exactly one address */
static void test_parse_garbage(void **state)
{
    static const char *bad[] = {
        "", " ", "[]", "[", "]", "IPv6:", "IPv6:[]",
        "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-4", "1.2.3.4x", "x1.2.3.4",
        " 1.2.3.4", "1.2.3.4 ", "1.2.3.4\n", "1.2.3.4/24", "1.2.3.4:25",
        "[1.2.3.4", "1.2.3.4]", "[[1.2.3.4]]", "2001:db8::1::2", "2001:db8:::1",
        "::g", "12345::", "1:2:3:4:5:6:7:8:9", "2001:db8::1%eth0",
        "localhost", "example.org", "IPv4:1.2.3.4", "IPv6 2001:db8::1",
        "0x7f.0.0.1", "127.1",
        /* longer than any address */
        "2001:0db8:0000:0000:0000:0000:0000:0001:2001:0db8:0000:0000:0000:0000:0000:0001",
    };
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct net_addr a;
        if (net_parse(bad[i], &a) != -1)
            fail_msg("net_parse(\"%s\") accepted garbage", bad[i]);
    }
    {
        struct net_addr a;
        assert_int_equal(net_parse(NULL, &a), -1);
    }
}

/* test_from_sockaddr - the connect callback's address */
static void test_from_sockaddr(void **state)
{
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
    struct sockaddr_un un;
    struct net_addr a;
    char buf[NET_STRLEN];
    (void)state;

    memset(&in4, 0, sizeof in4);
    in4.sin_family = AF_INET;
    inet_pton(AF_INET, "203.0.113.9", &in4.sin_addr);
    assert_int_equal(net_from_sockaddr((struct sockaddr *)&in4, &a), 0);
    assert_int_equal(a.family, AF_INET);
    assert_string_equal(net_format(&a, buf, sizeof buf), "203.0.113.9");

    memset(&in6, 0, sizeof in6);
    in6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "2001:db8::25", &in6.sin6_addr);
    assert_int_equal(net_from_sockaddr((struct sockaddr *)&in6, &a), 0);
    assert_int_equal(a.family, AF_INET6);
    assert_string_equal(net_format(&a, buf, sizeof buf), "2001:db8::25");

    /* an IPv4 client arriving over an IPv6 socket */
    inet_pton(AF_INET6, "::ffff:203.0.113.9", &in6.sin6_addr);
    assert_int_equal(net_from_sockaddr((struct sockaddr *)&in6, &a), 0);
    assert_int_equal(a.family, AF_INET);
    assert_string_equal(net_format(&a, buf, sizeof buf), "203.0.113.9");

    memset(&un, 0, sizeof un);
    un.sun_family = AF_UNIX;
    assert_int_equal(net_from_sockaddr((struct sockaddr *)&un, &a), -1);
    assert_int_equal(net_from_sockaddr(NULL, &a), -1);
}

/* test_cidr_parse - text in, canonical network out */
static void test_cidr_parse(void **state)
{
    static const struct {
        const char *in;
        const char *canon;
        unsigned prefix;
    } t[] = {
        {"192.0.2.0/24", "192.0.2.0/24", 24},
        {"192.0.2.77/24", "192.0.2.0/24", 24},      /* host bits cleared */
        {"10.255.255.255/9", "10.128.0.0/9", 9},
        {"10.255.255.255/15", "10.254.0.0/15", 15},
        {"192.0.2.1/32", "192.0.2.1/32", 32},
        {"192.0.2.1", "192.0.2.1/32", 32},           /* alone: a host */
        {"1.2.3.4/0", "0.0.0.0/0", 0},
        {"0.0.0.0/0", "0.0.0.0/0", 0},
        {"2001:db8::/32", "2001:db8::/32", 32},
        {"2001:db8:ffff:1::5/33", "2001:db8:8000::/33", 33},
        {"2001:db8::1/128", "2001:db8::1/128", 128},
        {"2001:db8::1", "2001:db8::1/128", 128},
        {"2001:db8::1/127", "2001:db8::/127", 127},
        {"2001:db8:1:2:3:4:5:6/64", "2001:db8:1:2::/64", 64},
        {"ffff::/0", "::/0", 0},
        {"[2001:db8::1]/64", "2001:db8::/64", 64},
        /* a mapped address is IPv4 and takes an IPv4 prefix */
        {"::ffff:10.1.2.3/8", "10.0.0.0/8", 8},
        {"::ffff:10.1.2.3", "10.1.2.3/32", 32},
    };
    (void)state;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct net_cidr c;
        char buf[NET_STRLEN];

        if (net_parse_cidr(t[i].in, &c) != 0)
            fail_msg("net_parse_cidr(\"%s\") failed", t[i].in);
        net_format_cidr(&c, buf, sizeof buf);
        if (strcmp(buf, t[i].canon) != 0 || c.prefix != t[i].prefix)
            fail_msg("net_parse_cidr(\"%s\"): \"%s\" /%u, want \"%s\"", t[i].in, buf,
                     c.prefix, t[i].canon);
    }
}

/* test_cidr_garbage - prefixes out of range, empty, signed, trailing text */
static void test_cidr_garbage(void **state)
{
    static const char *bad[] = {
        "192.0.2.0/33", "192.0.2.0/-1", "192.0.2.0/+8", "192.0.2.0/", "192.0.2.0/ 8",
        "192.0.2.0/8 ", "192.0.2.0/8x", "192.0.2.0/8/8", "192.0.2.0/99999999999999999999",
        "2001:db8::/129", "2001:db8::/1000", "::ffff:10.0.0.0/104", "/24", "/",
        "", "garbage/8", "192.0.2/24", "192.0.2.0/0x8",
        "0123456789012345678901234567890123456789012345678901234567890123456789/8",
    };
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct net_cidr c;
        if (net_parse_cidr(bad[i], &c) != -1)
            fail_msg("net_parse_cidr(\"%s\") accepted garbage", bad[i]);
    }
}

/* test_mask - every prefix length clears exactly the bits below it */
static void test_mask(void **state)
{
    struct net_addr a;
    char buf[NET_STRLEN];
    (void)state;

    for (unsigned p = 0; p <= 32; p++) {
        uint32_t want = p == 0 ? 0 : 0xffffffffu << (32 - p), got;
        assert_int_equal(net_parse("255.255.255.255", &a), 0);
        net_mask(&a, p);
        memcpy(&got, a.a, 4);
        if (ntohl(got) != want)
            fail_msg("net_mask(/%u) = %08x, want %08x", p, ntohl(got), want);
        for (int i = 4; i < 16; i++)
            assert_int_equal(a.a[i], 0);
    }
    for (unsigned p = 0; p <= 128; p++) {
        assert_int_equal(net_parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", &a), 0);
        net_mask(&a, p);
        for (unsigned bit = 0; bit < 128; bit++) {
            int set = (a.a[bit / 8] >> (7 - bit % 8)) & 1;
            if (set != (bit < p))
                fail_msg("net_mask(/%u): bit %u is %d", p, bit, set);
        }
    }
    /* a prefix beyond the family is clamped: nothing cleared */
    assert_int_equal(net_parse("192.0.2.255", &a), 0);
    net_mask(&a, 200);
    assert_string_equal(net_format(&a, buf, sizeof buf), "192.0.2.255");
    assert_int_equal(net_parse("2001:db8::ff", &a), 0);
    net_mask(&a, 129);
    assert_string_equal(net_format(&a, buf, sizeof buf), "2001:db8::ff");
}

/* test_match - networks against addresses, across families */
static void test_match(void **state)
{
    static const struct {
        const char *net, *addr;
        int match;
    } t[] = {
        {"10.0.0.0/8", "10.1.2.3", 1},
        {"10.0.0.0/8", "10.255.255.255", 1},
        {"10.0.0.0/8", "11.0.0.0", 0},
        {"10.0.0.0/8", "9.255.255.255", 0},
        {"192.0.2.128/25", "192.0.2.128", 1},
        {"192.0.2.128/25", "192.0.2.127", 0},
        {"192.0.2.1/32", "192.0.2.1", 1},
        {"192.0.2.1/32", "192.0.2.2", 0},
        {"192.0.2.1", "192.0.2.1", 1},
        {"0.0.0.0/0", "1.2.3.4", 1},
        {"0.0.0.0/0", "255.255.255.255", 1},
        {"0.0.0.0/0", "2001:db8::1", 0},       /* families never mix */
        {"::/0", "2001:db8::1", 1},
        {"::/0", "::1", 1},
        {"::/0", "192.0.2.1", 0},
        {"::/0", "::ffff:192.0.2.1", 0},       /* mapped is IPv4 */
        {"192.0.2.0/24", "::ffff:192.0.2.9", 1},
        {"2001:db8::/32", "2001:db8:ffff::1", 1},
        {"2001:db8::/32", "2001:db9::1", 0},
        {"2001:db8::1/128", "2001:db8::1", 1},
        {"2001:db8::1/128", "2001:db8::2", 0},
        {"2001:db8::/127", "2001:db8::1", 1},
        {"2001:db8::/127", "2001:db8::2", 0},
        {"::1/128", "127.0.0.1", 0},
        {"127.0.0.0/8", "::1", 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct net_cidr c;
        struct net_addr a;

        if (net_parse_cidr(t[i].net, &c) != 0)
            fail_msg("net_parse_cidr(\"%s\") failed", t[i].net);
        assert_int_equal(net_parse(t[i].addr, &a), 0);
        if (net_cidr_match(&c, &a) != t[i].match)
            fail_msg("%s in %s: got %d, want %d", t[i].addr, t[i].net, !t[i].match,
                     t[i].match);
    }
}

/* test_equal_and_format - equality and small output buffers */
static void test_equal_and_format(void **state)
{
    struct net_addr a, b;
    struct net_cidr c;
    char small[4], buf[NET_STRLEN];
    (void)state;

    assert_int_equal(net_parse("2001:db8::1", &a), 0);
    assert_int_equal(net_parse("[2001:0DB8::0001]", &b), 0);
    assert_true(net_equal(&a, &b));
    assert_int_equal(net_parse("2001:db8::2", &b), 0);
    assert_false(net_equal(&a, &b));
    /* same bytes, different family */
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.family = AF_INET;
    b.family = AF_INET6;
    assert_false(net_equal(&a, &b));

    assert_int_equal(net_parse("192.0.2.1", &a), 0);
    net_format(&a, small, sizeof small);
    assert_true(strlen(small) < sizeof small);
    assert_int_equal(net_parse_cidr("2001:db8:1234:5678:9abc:def0:1234:5678/128", &c), 0);
    net_format_cidr(&c, buf, sizeof buf);
    assert_string_equal(buf, "2001:db8:1234:5678:9abc:def0:1234:5678/128");
    net_format_cidr(&c, small, sizeof small);
    assert_true(strlen(small) < sizeof small);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid),
        cmocka_unit_test(test_parse_mapped_bytes),
        cmocka_unit_test(test_parse_garbage),
        cmocka_unit_test(test_from_sockaddr),
        cmocka_unit_test(test_cidr_parse),
        cmocka_unit_test(test_cidr_garbage),
        cmocka_unit_test(test_mask),
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_equal_and_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
