/*
 * NAME
 *   test_whitelist - unit tests of whitelist.c
 * DESCRIPTION
 *   wl_normalise() on a table per entry type (canonical text, invalid
 *   entries and their reasons); matching of clients by network and by
 *   verified host name (exact and .suffix), of senders and recipients by
 *   address, local@ and @domain; expiry, as admin entries carry it; the
 *   file loader; a table large enough to rehash.  Clients-file lines by
 *   shape (partial IPv4, CIDR, /RE/, trailing dot) and the errors that name
 *   FILE:LINE, the value and why.
 */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "whitelist.h"
#include "unit_util.h"

#define NOW ((time_t)1700000000)

/* test_types - names in and out */
static void test_types(void **state)
{
    static const char *names[] = {"ip", "host", "sender", "rcpt"};
    enum wl_type t;
    (void)state;
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(wl_parse_type(names[i], &t), 0);
        assert_int_equal(t, (enum wl_type)i);
        assert_string_equal(wl_type_name(t), names[i]);
    }
    assert_int_equal(wl_parse_type("IP", &t), -1);
    assert_int_equal(wl_parse_type("recipient", &t), -1);
    assert_int_equal(wl_parse_type("", &t), -1);
}

/* test_normalise_valid - the canonical text of each entry type */
static void test_normalise_valid(void **state)
{
    static const struct {
        enum wl_type t;
        const char *in, *want;
    } t[] = {
        {WL_IP, "192.0.2.1", "192.0.2.1"},
        {WL_IP, "192.0.2.1/32", "192.0.2.1"},
        {WL_IP, "192.0.2.77/24", "192.0.2.0/24"},
        {WL_IP, "0.0.0.0/0", "0.0.0.0/0"},
        {WL_IP, "2001:DB8:0::1", "2001:db8::1"},
        {WL_IP, "2001:db8::1/128", "2001:db8::1"},
        {WL_IP, "2001:db8:ffff::/32", "2001:db8::/32"},
        {WL_IP, "::ffff:192.0.2.1", "192.0.2.1"},
        {WL_IP, "[2001:db8::5]", "2001:db8::5"},
        {WL_HOST, "Mail.Example.ORG", "mail.example.org"},
        {WL_HOST, ".Example.org", ".example.org"},
        {WL_HOST, "mx-1.example_net.example", "mx-1.example_net.example"},
        {WL_HOST, "localhost", "localhost"},
        {WL_SENDER, "User@Example.ORG", "user@example.org"},
        {WL_SENDER, "@Example.ORG", "@example.org"},
        {WL_SENDER, "first.last+tag@example.org", "first.last+tag@example.org"},
        {WL_RCPT, "PostMaster@", "postmaster@"},
        {WL_RCPT, "abuse@example.org", "abuse@example.org"},
        {WL_RCPT, "@example.org", "@example.org"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char out[WL_VALUE_MAX + 1];
        const char *why = NULL;
        if (wl_normalise(t[i].t, t[i].in, out, sizeof out, &why) != 0)
            fail_msg("%s %s refused: %s", wl_type_name(t[i].t), t[i].in, why ? why : "?");
        if (strcmp(out, t[i].want) != 0)
            fail_msg("%s %s: \"%s\", want \"%s\"", wl_type_name(t[i].t), t[i].in, out,
                     t[i].want);
        /* canonical text is a fixed point */
        char again[WL_VALUE_MAX + 1];
        assert_int_equal(wl_normalise(t[i].t, out, again, sizeof again, &why), 0);
        assert_string_equal(again, out);
    }
}

/* test_normalise_invalid - refused, with a reason */
static void test_normalise_invalid(void **state)
{
    static char long_local[80], long_entry[WL_VALUE_MAX + 10];
    static const struct {
        enum wl_type t;
        const char *in;
    } fixed[] = {
        {WL_IP, ""}, {WL_IP, "mail.example.org"}, {WL_IP, "192.0.2.0/33"},
        {WL_IP, "192.0.2.1 "}, {WL_IP, "2001:db8::/129"},
        {WL_HOST, ""}, {WL_HOST, "."}, {WL_HOST, "..example.org"}, {WL_HOST, "a..b"},
        {WL_HOST, "exa mple.org"}, {WL_HOST, "mail.example.org/24"},
        {WL_HOST, "m\xc3\xa4il.example"}, {WL_HOST, "*.example.org"},
        {WL_HOST, "user@example.org"},
        {WL_SENDER, ""}, {WL_SENDER, "user"}, {WL_SENDER, "user@"}, {WL_SENDER, "@"},
        {WL_SENDER, "a b@example.org"}, {WL_SENDER, "<a>@example.org"},
        {WL_SENDER, "a@b@example.org"}, {WL_SENDER, "user@exa mple.org"},
        {WL_SENDER, "user@.example.org"}, {WL_SENDER, "\xc3\xa4@example.org"},
        {WL_RCPT, "postmaster"}, {WL_RCPT, "@"}, {WL_RCPT, "@@"}, {WL_RCPT, "a\t@x.org"},
        {WL_RCPT, "@example..org"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        char out[WL_VALUE_MAX + 1];
        const char *why = NULL;
        if (wl_normalise(fixed[i].t, fixed[i].in, out, sizeof out, &why) != -1)
            fail_msg("%s \"%s\" accepted as \"%s\"", wl_type_name(fixed[i].t), fixed[i].in,
                     out);
        if (why == NULL || why[0] == '\0')
            fail_msg("%s \"%s\": no reason", wl_type_name(fixed[i].t), fixed[i].in);
    }
    /* a local part over 64 bytes, and an entry over WL_VALUE_MAX */
    {
        char out[WL_VALUE_MAX + 1];
        const char *why = NULL;
        memset(long_local, 'l', 65);
        strcpy(long_local + 65, "@example.org");
        assert_int_equal(wl_normalise(WL_RCPT, long_local, out, sizeof out, &why), -1);
        long_local[64] = '@';
        long_local[65] = 'x';
        long_local[66] = '\0';
        assert_int_equal(wl_normalise(WL_RCPT, long_local, out, sizeof out, &why), 0);
        memset(long_entry, 'h', sizeof long_entry - 1);
        long_entry[sizeof long_entry - 1] = '\0';
        why = NULL;
        assert_int_equal(wl_normalise(WL_HOST, long_entry, out, sizeof out, &why), -1);
        assert_non_null(why);
    }
}

/* test_match_ip - networks of both families */
static void test_match_ip(void **state)
{
    struct wl *wl = wl_new();
    struct net_addr a;
    const char *why;
    char what[400];
    (void)state;

    assert_int_equal(wl_add(wl, WL_IP, "192.0.2.0/24", 0, &why), 0);
    assert_int_equal(wl_add(wl, WL_IP, "2001:db8::/32", 0, &why), 0);
    assert_int_equal(wl_add(wl, WL_IP, "198.51.100.7", 0, &why), 0);
    assert_int_equal(wl_add(wl, WL_IP, "nonsense", 0, &why), -1);
    assert_int_equal(wl_count(wl), 3);

    assert_int_equal(net_parse("192.0.2.200", &a), 0);
    assert_true(wl_match_client(wl, &a, NULL, NOW, what, sizeof what));
    assert_string_equal(what, "ip 192.0.2.0/24");
    assert_int_equal(net_parse("::ffff:192.0.2.1", &a), 0);
    assert_true(wl_match_client(wl, &a, NULL, NOW, what, sizeof what));
    assert_int_equal(net_parse("2001:db8:ab::1", &a), 0);
    assert_true(wl_match_client(wl, &a, NULL, NOW, what, sizeof what));
    assert_string_equal(what, "ip 2001:db8::/32");
    assert_int_equal(net_parse("198.51.100.7", &a), 0);
    assert_true(wl_match_client(wl, &a, NULL, NOW, what, sizeof what));
    assert_int_equal(net_parse("198.51.100.8", &a), 0);
    assert_false(wl_match_client(wl, &a, NULL, NOW, what, sizeof what));
    assert_int_equal(net_parse("192.0.3.1", &a), 0);
    assert_false(wl_match_client(wl, &a, NULL, NOW, what, sizeof what));
    assert_int_equal(net_parse("2001:db9::1", &a), 0);
    assert_false(wl_match_client(wl, &a, "", NOW, what, sizeof what));
    wl_free(wl);
}

/* test_match_host - exact names and .suffix entries, verified names only */
static void test_match_host(void **state)
{
    static const struct {
        const char *host;     /* verified host name, or NULL */
        const char *match;    /* description expected, or NULL for no match */
    } t[] = {
        {"mx.partner.example", "host mx.partner.example"},
        {"MX.Partner.Example", "host mx.partner.example"},
        {"a.bulk.example", "host .bulk.example"},
        {"a.b.c.bulk.example", "host .bulk.example"},
        {"bulk.example", NULL},            /* the suffix covers names below it */
        {"notbulk.example", NULL},
        {"bulk.example.evil", NULL},
        {"partner.example", NULL},
        {"mx.partner.example.evil", NULL},
        {"x.mx.partner.example", NULL},     /* an exact entry is exact */
        {"", NULL},
        {NULL, NULL},
    };
    struct wl *wl = wl_new();
    struct net_addr a;
    const char *why;
    char what[400];
    (void)state;

    assert_int_equal(wl_add(wl, WL_HOST, "mx.partner.example", 0, &why), 0);
    assert_int_equal(wl_add(wl, WL_HOST, ".Bulk.Example", 0, &why), 0);
    assert_int_equal(net_parse("203.0.113.5", &a), 0);
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int hit;
        what[0] = '\0';
        hit = wl_match_client(wl, &a, t[i].host, NOW, what, sizeof what);
        if (hit != (t[i].match != NULL))
            fail_msg("host %s: match %d", t[i].host ? t[i].host : "(null)", hit);
        if (hit && strcmp(what, t[i].match) != 0)
            fail_msg("host %s: \"%s\", want \"%s\"", t[i].host, what, t[i].match);
    }
    /* a host name longer than any entry does not match, and does not crash */
    {
        char host[1200];
        memset(host, 'a', sizeof host - 1);
        host[sizeof host - 1] = '\0';
        memcpy(host + sizeof host - 14, ".bulk.example", 13);
        assert_false(wl_match_client(wl, &a, host, NOW, what, sizeof what));
    }
    wl_free(wl);
}

/* test_match_addresses - senders and recipients */
static void test_match_addresses(void **state)
{
    static const struct {
        int rcpt;
        const char *addr, *match;
    } t[] = {
        {0, "<friend@partner.example>", "sender friend@partner.example"},
        {0, "<Friend@Partner.Example>", "sender friend@partner.example"},
        {0, "<other@partner.example>", NULL},
        {0, "<anyone@list.example>", "sender @list.example"},
        {0, "<anyone@sub.list.example>", NULL},
        {0, "<postmaster@elsewhere.example>", NULL},   /* local@ is for rcpt */
        {0, "<>", NULL},
        {0, "<friend@partner.example", NULL},          /* malformed: never */
        {1, "<postmaster@any.example>", "rcpt postmaster@"},
        {1, "<PostMaster@other.example>", "rcpt postmaster@"},
        {1, "<postmaster>", "rcpt postmaster@"},
        {1, "<abuse@example.org>", "rcpt abuse@example.org"},
        {1, "<abuse@example.net>", NULL},
        {1, "<anyone@open.example>", "rcpt @open.example"},
        {1, "<friend@partner.example>", NULL},          /* a sender entry */
        {1, "<anyone@list.example>", NULL},
        {1, "<\"postmaster\"@x.example>", "rcpt postmaster@"},
    };
    struct wl *wl = wl_new();
    const char *why;
    char what[400];
    (void)state;

    assert_int_equal(wl_add(wl, WL_SENDER, "friend@partner.example", 0, &why), 0);
    assert_int_equal(wl_add(wl, WL_SENDER, "@list.example", 0, &why), 0);
    assert_int_equal(wl_add(wl, WL_RCPT, "postmaster@", 0, &why), 0);
    assert_int_equal(wl_add(wl, WL_RCPT, "abuse@example.org", 0, &why), 0);
    assert_int_equal(wl_add(wl, WL_RCPT, "@open.example", 0, &why), 0);
    assert_int_equal(wl_add(wl, WL_SENDER, "postmaster@", 0, &why), -1);
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct env_addr e;
        int hit;
        env_parse(t[i].addr, &e);
        what[0] = '\0';
        hit = t[i].rcpt ? wl_match_rcpt(wl, &e, NOW, what, sizeof what)
                        : wl_match_sender(wl, &e, NOW, what, sizeof what);
        if (hit != (t[i].match != NULL))
            fail_msg("%s %s: match %d", t[i].rcpt ? "rcpt" : "sender", t[i].addr, hit);
        if (hit && strcmp(what, t[i].match) != 0)
            fail_msg("%s %s: \"%s\", want \"%s\"", t[i].rcpt ? "rcpt" : "sender", t[i].addr,
                     what, t[i].match);
    }
    wl_free(wl);
}

/* test_expiry - admin entries carry an expiry: live while expires > now */
static void test_expiry(void **state)
{
    struct wl *wl = wl_new();
    struct net_addr a;
    struct env_addr e;
    const char *why;
    char what[400];
    (void)state;

    assert_int_equal(wl_add(wl, WL_IP, "192.0.2.0/24", NOW + 100, &why), 0);
    assert_int_equal(wl_add(wl, WL_HOST, ".temp.example", NOW + 100, &why), 0);
    assert_int_equal(wl_add(wl, WL_SENDER, "@temp.example", NOW + 100, &why), 0);
    assert_int_equal(wl_add(wl, WL_RCPT, "temp@", NOW + 100, &why), 0);
    assert_int_equal(net_parse("192.0.2.1", &a), 0);

    assert_true(wl_match_client(wl, &a, NULL, NOW + 99, what, sizeof what));
    assert_false(wl_match_client(wl, &a, NULL, NOW + 100, what, sizeof what));
    assert_int_equal(net_parse("203.0.113.1", &a), 0);
    assert_true(wl_match_client(wl, &a, "mx.temp.example", NOW + 99, what, sizeof what));
    assert_false(wl_match_client(wl, &a, "mx.temp.example", NOW + 100, what, sizeof what));
    env_parse("<x@temp.example>", &e);
    assert_true(wl_match_sender(wl, &e, NOW + 99, what, sizeof what));
    assert_false(wl_match_sender(wl, &e, NOW + 100, what, sizeof what));
    env_parse("<temp@elsewhere.example>", &e);
    assert_true(wl_match_rcpt(wl, &e, NOW + 99, what, sizeof what));
    assert_false(wl_match_rcpt(wl, &e, NOW + 1000, what, sizeof what));
    wl_free(wl);
}

/* test_expiry_duplicates - the same entry twice: the later expiry wins,
 * and "never" beats any expiry */
static void test_expiry_duplicates(void **state)
{
    struct wl *wl = wl_new();
    struct env_addr e;
    struct net_addr a;
    const char *why;
    char what[400];
    (void)state;

    env_parse("<a@x.example>", &e);
    wl_add(wl, WL_SENDER, "a@x.example", NOW + 100, &why);
    wl_add(wl, WL_SENDER, "A@X.example", NOW + 200, &why);
    wl_add(wl, WL_SENDER, "a@x.example", NOW + 150, &why);
    assert_int_equal(wl_count(wl), 1);
    assert_true(wl_match_sender(wl, &e, NOW + 199, what, sizeof what));
    assert_false(wl_match_sender(wl, &e, NOW + 200, what, sizeof what));
    wl_add(wl, WL_SENDER, "a@x.example", 0, &why);
    assert_true(wl_match_sender(wl, &e, NOW + 1000000, what, sizeof what));
    wl_add(wl, WL_SENDER, "a@x.example", NOW + 1, &why);
    assert_true(wl_match_sender(wl, &e, NOW + 1000000, what, sizeof what));

    /* networks: an expired entry does not hide a live one */
    wl_add(wl, WL_IP, "10.0.0.0/8", NOW - 1, &why);
    wl_add(wl, WL_IP, "10.0.0.0/8", 0, &why);
    assert_int_equal(net_parse("10.1.1.1", &a), 0);
    assert_true(wl_match_client(wl, &a, NULL, NOW, what, sizeof what));
    wl_free(wl);
}

/* test_many_entries - the hash table grows and keeps every entry */
static void test_many_entries(void **state)
{
    struct wl *wl = wl_new();
    const char *why;
    char v[64], what[400];
    struct env_addr e;
    (void)state;

    for (int i = 0; i < 5000; i++) {
        snprintf(v, sizeof v, "user%d@host%d.example", i, i % 37);
        assert_int_equal(wl_add(wl, WL_SENDER, v, i % 2 ? 0 : NOW + i + 1, &why), 0);
    }
    assert_int_equal(wl_count(wl), 5000);
    for (int i = 0; i < 5000; i++) {
        snprintf(v, sizeof v, "<user%d@host%d.example>", i, i % 37);
        env_parse(v, &e);
        if (!wl_match_sender(wl, &e, NOW, what, sizeof what))
            fail_msg("entry %d lost", i);
        snprintf(v, sizeof v, "<user%d@host%d.example>", i, (i + 1) % 37);
        env_parse(v, &e);
        if (wl_match_sender(wl, &e, NOW, what, sizeof what))
            fail_msg("entry %d matches another domain", i);
    }
    wl_free(wl);
}

/* count_report - a wl_load_file report callback that counts */
static void count_report(void *arg, const char *line)
{
    int *n = arg;
    print_message("  report: %s\n", line);
    (*n)++;
}

/* test_load_file - a clients file: each line an ip or a host by its shape */
static void test_load_file(void **state)
{
    char dir[PATH_MAX], path[PATH_MAX + 64], what[400];
    struct wl *wl = wl_new();
    struct net_addr a;
    int reports = 0;
    (void)state;

    unit_tmpdir(dir, sizeof dir);
    unit_write(dir, "clients",
               "# partner networks\n"
               "192.0.2.0/24\n"
               "   2001:db8::1   # one host\n"
               "mx.partner.example\n"
               "\n"
               ".bulk.example\n", path, sizeof path);
    assert_int_equal(wl_load_file(wl, 1, WL_IP, path, count_report, &reports), 0);
    assert_int_equal(reports, 0);
    assert_int_equal(wl_count(wl), 4);
    assert_int_equal(net_parse("2001:db8::1", &a), 0);
    assert_true(wl_match_client(wl, &a, NULL, NOW, what, sizeof what));
    assert_int_equal(net_parse("198.51.100.1", &a), 0);
    assert_true(wl_match_client(wl, &a, "x.bulk.example", NOW, what, sizeof what));
    wl_free(wl);
    unit_rmtree(dir);
}

/* test_client_lines - a clients-file line: its type, canonical text, or
 * the error (naming why); never a host name that cannot match */
static void test_client_lines(void **state)
{
    static const struct {
        const char *in;
        int ok;
        enum wl_type t;
        const char *want;   /* canonical text, or a substring of why */
    } t[] = {
        {"195.235.39", 1, WL_IP, "195.235.39.0/24"},
        {"10.1", 1, WL_IP, "10.1.0.0/16"},
        {"10", 1, WL_IP, "10.0.0.0/8"},
        {"192.0.2.7", 1, WL_IP, "192.0.2.7"},
        {"192.0.2.7/24", 1, WL_IP, "192.0.2.0/24"},
        {"2a01:4180:4051:0800::/64", 1, WL_IP, "2a01:4180:4051:800::/64"},
        {"mail.example.org.", 1, WL_HOST, "mail.example.org"},
        {".Example.ORG.", 1, WL_HOST, ".example.org"},
        {"/^mail[0-9]+\\.example\\.org$/", 1, WL_HOST, "/^mail[0-9]+\\.example\\.org$/"},
        {"/^MX.*\\.Example\\.net$/", 1, WL_HOST, "/^MX.*\\.Example\\.net$/"},
        {"300.1.2.3", 0, WL_IP, "over 255"},
        {"10.0.0.0/33", 0, WL_IP, "over /32"},
        {"1.2.3.4.5", 0, WL_IP, "more than four"},
        {"1..2.3", 0, WL_IP, "empty IPv4 octet"},
        {"10.1/16", 0, WL_IP, "all four octets"},
        {"010.1.2.3", 0, WL_IP, "leading zero"},
        {"1.2.3.", 0, WL_IP, "empty IPv4 octet"},
        {"2001:db8::/129", 0, WL_IP, "over /128"},
        {"2001:zz8::1", 0, WL_IP, "not an IP"},
        {"mail..example.org", 0, WL_HOST, "empty label"},
        {"mail.example.org..", 0, WL_HOST, "empty label"},
        {"host.300", 0, WL_HOST, "numeric last label"},
        {"/[a-/", 0, WL_HOST, "unterminated [ expression"},
        {"/a(b/", 0, WL_HOST, "not a valid POSIX"},
        {"//", 0, WL_HOST, "empty regular expression"},
        {"/^mail/i", 0, WL_HOST, "closing /"},
        /* costly to compile: refused before regcomp() sees them */
        {"/a+++++++++++++++++++++/", 0, WL_HOST, "repetition of a repetition"},
        {"/a*{2}/", 0, WL_HOST, "repetition of a repetition"},
        {"/((((((a))))))/", 0, WL_HOST, "nested more than 5"},
        {"/(a{0,33})/", 0, WL_HOST, "over 32"},
        {"/a{1}b{2}c{3}/", 0, WL_HOST, "more than two"},
        {"/a{x}/", 0, WL_HOST, "malformed"},
        {"/(a)\\1/", 0, WL_HOST, "back-reference"},
        {"/[a/", 0, WL_HOST, "unterminated"},
        {"/^(mx|mail)[0-9]{1,3}\\.[[:alpha:]]+\\.example$/", 1, WL_HOST,
         "/^(mx|mail)[0-9]{1,3}\\.[[:alpha:]]+\\.example$/"},
        {"/^[]a+]+(x(y(z(w)+)*)?)$/", 1, WL_HOST, "/^[]a+]+(x(y(z(w)+)*)?)$/"},
    };
    char long_re[WL_REGEX_MAX + 8];
    (void)state;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        enum wl_type type;
        char out[WL_VALUE_MAX + 1];
        const char *why = NULL;
        int rc;
        wl_client_type(t[i].in, &type);
        if (type != t[i].t)
            fail_msg("%s: type %s, want %s", t[i].in, wl_type_name(type), wl_type_name(t[i].t));
        rc = wl_normalise(type, t[i].in, out, sizeof out, &why);
        if (t[i].ok && rc != 0)
            fail_msg("%s refused: %s", t[i].in, why);
        if (t[i].ok && strcmp(out, t[i].want) != 0)
            fail_msg("%s: \"%s\", want \"%s\"", t[i].in, out, t[i].want);
        if (!t[i].ok && rc == 0)
            fail_msg("%s accepted as \"%s\"", t[i].in, out);
        if (!t[i].ok && strstr(why, t[i].want) == NULL)
            fail_msg("%s: why \"%s\", want \"%s\"", t[i].in, why, t[i].want);
    }
    /* a regular expression is bounded */
    long_re[0] = '/';
    memset(long_re + 1, 'a', WL_REGEX_MAX + 1);
    strcpy(long_re + WL_REGEX_MAX + 2, "/");
    {
        char out[WL_VALUE_MAX + 1];
        const char *why = NULL;
        assert_int_equal(wl_normalise(WL_HOST, long_re, out, sizeof out, &why), -1);
        assert_non_null(strstr(why, "longer"));
        long_re[WL_REGEX_MAX + 1] = '/';
        long_re[WL_REGEX_MAX + 2] = '\0';
        assert_int_equal(wl_normalise(WL_HOST, long_re, out, sizeof out, &why), 0);
    }
}

/* test_match_regex - /RE/ hosts and partial networks, as matched */
static void test_match_regex(void **state)
{
    static const struct {
        const char *ip, *host, *match;
    } t[] = {
        {"203.0.113.5", "mail12.example.org", "host /^mail[0-9]+\\.example\\.org$/"},
        {"203.0.113.5", "MAIL7.Example.ORG", "host /^mail[0-9]+\\.example\\.org$/"},
        {"203.0.113.5", "mail.example.org", NULL},
        {"203.0.113.5", "mail12.example.org.evil", NULL},
        {"203.0.113.5", "x.smtp3.relay.example", "host /smtp[0-9]\\.relay/"},
        {"203.0.113.5", NULL, NULL},
        {"195.235.39.200", NULL, "ip 195.235.39.0/24"},
        {"195.235.40.1", NULL, NULL},
        {"10.1.255.1", NULL, "ip 10.1.0.0/16"},
        {"10.2.0.1", NULL, NULL},
    };
    struct wl *wl = wl_new();
    const char *why;
    char what[400];
    (void)state;

    assert_int_equal(wl_add(wl, WL_HOST, "/^mail[0-9]+\\.example\\.org$/", 0, &why), 0);
    assert_int_equal(wl_add(wl, WL_HOST, "/smtp[0-9]\\.relay/", NOW + 10, &why), 0);
    assert_int_equal(wl_add(wl, WL_HOST, "/smtp[0-9]\\.relay/", 0, &why), 0);
    assert_int_equal(wl_add(wl, WL_IP, "195.235.39", 0, &why), 0);
    assert_int_equal(wl_add(wl, WL_IP, "10.1", 0, &why), 0);
    assert_int_equal(wl_add(wl, WL_HOST, "/(/", 0, &why), -1);
    assert_int_equal(wl_count(wl), 4);
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct net_addr a;
        int hit;
        assert_int_equal(net_parse(t[i].ip, &a), 0);
        what[0] = '\0';
        hit = wl_match_client(wl, &a, t[i].host, NOW + 100, what, sizeof what);
        if (hit != (t[i].match != NULL))
            fail_msg("%s %s: match %d (%s)", t[i].ip, t[i].host ? t[i].host : "-", hit, what);
        if (hit && strcmp(what, t[i].match) != 0)
            fail_msg("%s %s: \"%s\", want \"%s\"", t[i].ip, t[i].host, what, t[i].match);
    }
    wl_free(wl);
}

/* collect_report - keep the last report line */
static void collect_report(void *arg, const char *line)
{
    char *buf = arg;
    size_t n = strlen(buf);
    snprintf(buf + n, 2048 - n, "%s\n", line);
}

/* test_load_file_errors - each bad line is FILE:LINE: VALUE: why */
static void test_load_file_errors(void **state)
{
    char dir[PATH_MAX], path[PATH_MAX + 64], want[PATH_MAX + 200];
    static char reports[2048];
    struct wl *wl = wl_new();
    static const char *bad[] = {
        "300.1.2.3: IPv4 octet over 255", "10.0.0.0/33: network prefix over /32",
        "mail..example.org: empty label", "/(/: not a valid POSIX",
    };
    (void)state;

    unit_tmpdir(dir, sizeof dir);
    unit_write(dir, "clients",
               "195.235.39\n300.1.2.3\n10.0.0.0/33\nmail..example.org\n/(/\nmx.example.org.\n",
               path, sizeof path);
    reports[0] = '\0';
    assert_int_equal(wl_load_file(wl, 1, WL_IP, path, collect_report, reports), -1);
    for (size_t i = 0; i < 4; i++) {
        snprintf(want, sizeof want, "%s:%zu: %s", path, i + 2, bad[i]);
        if (strstr(reports, want) == NULL)
            fail_msg("no \"%s\" in:\n%s", want, reports);
    }
    assert_int_equal(wl_count(wl), 2);
    wl_free(wl);
    unit_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_client_lines),
        cmocka_unit_test(test_match_regex),
        cmocka_unit_test(test_load_file_errors),
        cmocka_unit_test(test_normalise_valid),
        cmocka_unit_test(test_normalise_invalid),
        cmocka_unit_test(test_match_ip),
        cmocka_unit_test(test_match_host),
        cmocka_unit_test(test_match_addresses),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_expiry_duplicates),
        cmocka_unit_test(test_many_entries),
        cmocka_unit_test(test_load_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
