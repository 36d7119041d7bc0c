/*
 * NAME
 *   test_greylist - unit tests of greylist.c
 * DESCRIPTION
 *   Sender and recipient normalisation on a table (BATV, SRS0/SRS1,
 *   +extensions, VERP digit runs, case, the null path, quoting), key
 *   escaping and the cut with its #HASH suffix, and every transition of
 *   the triplet state machine and of the client auto-whitelist, driven by
 *   an injected clock.
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

#include "config.h"
#include "greylist.h"
#include "util.h"
#include "unit_util.h"

#define T0 ((time_t)1700000000)
#define DAY 86400

static const struct cfg_greylist G = {
    .delay = 300,
    .retry_window = 2 * DAY,
    .pass_lifetime = 35 * DAY,
    .ipv4_prefix = 24,
    .ipv6_prefix = 64,
    .auto_whitelist = 5,
    .read_mostly = 1,
};

/* sender - normalised text of one MAIL FROM argument */
static const char *sender(const char *arg, char *out, size_t len)
{
    struct env_addr a;
    env_parse(arg, &a);
    grey_normalise_sender(&a, out, len);
    return out;
}

static const char *rcpt(const char *arg, char *out, size_t len)
{
    struct env_addr a;
    env_parse(arg, &a);
    grey_normalise_rcpt(&a, out, len);
    return out;
}

struct norm_case {
    const char *in, *want;
};

struct norm_table {
    const struct norm_case *t;
    size_t n;
};

/* sender_table - normalise a table of senders; the number of mismatches.
 * Run in a child: a crash in the normaliser fails one case, not the program. */
static int sender_table(void *arg)
{
    const struct norm_table *nt = arg;
    int bad = 0;

    for (size_t i = 0; i < nt->n; i++) {
        char out[GREY_PART_MAX + 1];
        fprintf(stderr, "sender %s: ", nt->t[i].in);
        sender(nt->t[i].in, out, sizeof out);
        if (strcmp(out, nt->t[i].want) != 0) {
            fprintf(stderr, "\"%s\", want \"%s\"\n", out, nt->t[i].want);
            bad++;
        } else {
            fprintf(stderr, "ok\n");
        }
    }
    return bad;
}

/* check_senders - run a table isolated, fail the case if anything is off */
static void check_senders(const struct norm_case *t, size_t n)
{
    struct norm_table nt = {t, n};
    char why[128];
    if (unit_isolated(sender_table, &nt, why, sizeof why) != NULL)
        fail_msg("sender normalisation table: %s", why);
}

/* test_sender_table - the many faces of one sender */
static void test_sender_table(void **state)
{
    static const struct norm_case t[] = {
        {"<>", "<>"},
        {"<user@example.org>", "user@example.org"},
        {"<User@Example.ORG>", "user@example.org"},
        {"<USER@EXAMPLE.ORG>", "user@example.org"},
        {"<postmaster>", "postmaster"},
        /* BATV */
        {"<prvs=1234abcd=user@example.org>", "user@example.org"},
        {"<prvs=0123456789=user@example.org>", "user@example.org"},
        {"<PRVS=9ABCDEF012=User@Example.org>", "user@example.org"},
        {"<msprvs1=19abcdef=user@example.org>", "user@example.org"},
        {"<btv1==057d0d3b81==user@example.org>", "user@example.org"},
        /* SRS: the original sender is what retries share */
        {"<SRS0=HHH=TT=orig.example=user@forwarder.example>", "user@orig.example"},
        {"<SRS0=a1b2=2T=orig.example=user@forwarder.example>", "user@orig.example"},
        {"<srs0=zz99=Q5=orig.example=user@forwarder.example>", "user@orig.example"},
        {"<SRS0+abcd=TT=orig.example=user@forwarder.example>", "user@orig.example"},
        {"<SRS0-abcd=TT=orig.example=user@forwarder.example>", "user@orig.example"},
        {"<SRS0=h=tt=mx1.orig.example=user@fwd.example>", "user@mx1.orig.example"},
        {"<SRS0=h=tt=orig.example=first=last@fwd.example>", "first=last@orig.example"},
        {"<SRS1=HHH=fwd1.example==HHH=TT=orig.example=user@fwd2.example>",
         "user@orig.example"},
        {"<SRS1=x=fwd1.example==y=z=orig.example=user+tag@fwd2.example>",
         "user@orig.example"},
        /* +extension */
        {"<user+tag@example.org>", "user@example.org"},
        {"<user+tag+more@example.org>", "user@example.org"},
        {"<+tag@example.org>", "+tag@example.org"},
        {"<list-bounces+someone=example.net@lists.example>", "list-bounces@lists.example"},
        /* VERP and other per-message numbers: each digit run is one '#' */
        {"<bounce-12345-67@list.example>", "bounce-#-#@list.example"},
        {"<bounce-99999-1@list.example>", "bounce-#-#@list.example"},
        {"<user123abc456@example.org>", "user#abc#@example.org"},
        {"<12345@example.org>", "#@example.org"},
        {"<user@mail2.example>", "user@mail2.example"},   /* domains keep digits */
        /* escaping */
        {"<\"a b\"@x.example>", "a%20b@x.example"},
        {"<\"a|b\"@x.example>", "a%7Cb@x.example"},
        {"<a%b@x.example>", "a%25b@x.example"},
        {"<j\xc3\xb6rg@x.example>", "j%C3%B6rg@x.example"},
        {"<user@[IPv6:2001:db8::1]>", "user@[ipv6:2001:db8::1]"},
    };
    (void)state;
    check_senders(t, sizeof t / sizeof t[0]);
}

/* test_sender_not_srs - a local part that only looks like SRS is left as it
 * is (apart from digit runs): two such senders must not share a key */
static void test_sender_not_srs(void **state)
{
    static const struct norm_case t[] = {
        {"<srs@example.org>", "srs@example.org"},
        {"<srs0@example.org>", "srs#@example.org"},
        {"<SRS0=onlyhash@example.org>", "srs#=onlyhash@example.org"},
        {"<SRS1=nodoubleequals=x@example.org>", "srs#=nodoubleequals=x@example.org"},
        {"<srs0=foo=bar@example.org>", "srs#=foo=bar@example.org"},
        {"<srs0=foo=bar=baz@example.org>", "srs#=foo=bar=baz@example.org"},
    };
    (void)state;
    check_senders(t, sizeof t / sizeof t[0]);
}


/* test_rcpt_table - recipients are only lowercased and escaped */
static void test_rcpt_table(void **state)
{
    static const struct {
        const char *in, *want;
    } t[] = {
        {"<>", "<>"},
        {"<User@Example.ORG>", "user@example.org"},
        {"<user+tag123@example.org>", "user+tag123@example.org"},
        {"<postmaster>", "postmaster"},
        {"<\"a|b c\"@x.example>", "a%7Cb%20c@x.example"},
        {"<100%@x.example>", "100%25@x.example"},
        {"<\xe4\xb8\xad@x.example>", "%E4%B8%AD@x.example"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char out[GREY_PART_MAX + 1];
        rcpt(t[i].in, out, sizeof out);
        if (strcmp(out, t[i].want) != 0)
            fail_msg("rcpt %s: \"%s\", want \"%s\"", t[i].in, out, t[i].want);
    }
}

/* test_key_part_escaping - exactly '%', '|' and bytes outside 0x21..0x7e */
static void test_key_part_escaping(void **state)
{
    char out[GREY_PART_MAX + 1];
    (void)state;

    for (int c = 0; c < 256; c++) {
        char in[1] = {(char)c}, want[8];
        int esc = c < 0x21 || c > 0x7e || c == '%' || c == '|' || c == '<' || c == '>';
        if (esc)
            snprintf(want, sizeof want, "%%%02X", c);
        else
            snprintf(want, sizeof want, "%c", c);
        grey_key_part(in, 1, 0, 0, out, sizeof out);
        if (strcmp(out, want) != 0)
            fail_msg("byte 0x%02x: \"%s\", want \"%s\"", c, out, want);
    }
    grey_key_part("a|b%c", 5, 0, 0, out, sizeof out);
    assert_string_equal(out, "a%7Cb%25c");
    grey_key_part("", 0, 0, 0, out, sizeof out);
    assert_string_equal(out, "");
    /* the oversized flag appends the hash even to short text: the text's
     * hash and the caller's, hashed together (never XORed: equal hashes
     * once cancelled to zeros) */
    {
        char want[64];
        uint64_t h = util_hash64("abc", 3), c = util_hash64("abc", 3);
        unsigned char both[16];
        memcpy(both, &h, 8);
        memcpy(both + 8, &c, 8);
        snprintf(want, sizeof want, "abc#%016llx",
                 (unsigned long long)util_hash64(both, sizeof both));
        grey_key_part("abc", 3, c, 1, out, sizeof out);
        assert_string_equal(out, want);
        assert_null(strstr(out, "#0000000000000000"));
        grey_key_part("abc", 3, 0x0123456789abcdefULL, 1, out, sizeof out);
        assert_string_not_equal(out, want);
        /* hash 0: the text's hash alone */
        snprintf(want, sizeof want, "abc#%016llx", (unsigned long long)h);
        grey_key_part("abc", 3, 0, 1, out, sizeof out);
        assert_string_equal(out, want);
    }
    /* a malformed "<<>>" sender cannot take the null sender's key "<>" */
    grey_key_part("<>", 2, 0, 0, out, sizeof out);
    assert_string_equal(out, "%3C%3E");
}

/* test_key_part_cut - never longer than GREY_PART_MAX or the buffer */
static void test_key_part_cut(void **state)
{
    char in[4000], out[GREY_PART_MAX + 1], small[40];
    (void)state;

    for (size_t n = 0; n < sizeof in; n += 97) {
        for (int fill = 0; fill < 3; fill++) {
            memset(in, fill == 0 ? 'a' : fill == 1 ? '|' : '\xff', n);
            grey_key_part(in, n, 0, 0, out, sizeof out);
            if (strlen(out) > GREY_PART_MAX)
                fail_msg("%zu bytes of fill %d: key of %zu", n, fill, strlen(out));
            /* a cut never splits an escape, and is marked with the hash */
            char *hash = strchr(out, '#');
            if (hash != NULL) {
                char want[32];
                snprintf(want, sizeof want, "#%016llx",
                         (unsigned long long)util_hash64(in, n));
                assert_string_equal(hash, want);
                if (hash - out >= 1 && hash[-1] == '%')
                    fail_msg("escape split before the hash");
                if (hash - out >= 2 && hash[-2] == '%')
                    fail_msg("escape split before the hash");
            } else {
                assert_int_equal(strlen(out), n * (fill == 0 ? 1 : 3));
            }
            grey_key_part(in, n, 42, 0, small, sizeof small);
            assert_true(strlen(small) < sizeof small);
        }
    }
    /* a buffer larger than GREY_PART_MAX + 1 still gets at most GREY_PART_MAX */
    {
        char wide[2000];
        memset(in, 'x', 1500);
        grey_key_part(in, 1500, 7, 0, wide, sizeof wide);
        assert_true(strlen(wide) <= GREY_PART_MAX);
    }
}

/* big - "<" + n * c + "@example.org>" into s (static storage of the
 * caller: a failed assertion must not leak) */
static char *big(char *s, size_t size, size_t n, char c)
{
    assert_true(n + 16 <= size);
    s[0] = '<';
    memset(s + 1, c, n);
    strcpy(s + 1 + n, "@example.org>");
    return s;
}

/* test_oversized_keys - distinct, stable and bounded keys for 8 KB senders */
static void test_oversized_keys(void **state)
{
    char k1[GREY_PART_MAX + 1], k2[GREY_PART_MAX + 1], k3[GREY_PART_MAX + 1];
    (void)state;

    for (int fill = 0; fill < 3; fill++) {
        char c = fill == 0 ? 'a' : fill == 1 ? '\xff' : '%';
        static char b1[8300], b2[8300];
        char *s1 = big(b1, sizeof b1, 8192, c), *s2 = big(b2, sizeof b2, 8192, c);
        s2[7000] = fill == 0 ? 'b' : 'a';   /* differs far beyond every cut */

        sender(s1, k1, sizeof k1);
        sender(s2, k2, sizeof k2);
        sender(s1, k3, sizeof k3);
        if (strcmp(k1, k2) == 0)
            fail_msg("fill %d: two different senders share the key %s", fill, k1);
        assert_string_equal(k1, k3);
        assert_true(strlen(k1) <= GREY_PART_MAX);
        assert_true(strlen(k2) <= GREY_PART_MAX);

        rcpt(s1, k1, sizeof k1);
        rcpt(s2, k2, sizeof k2);
        rcpt(s1, k3, sizeof k3);
        if (strcmp(k1, k2) == 0)
            fail_msg("fill %d: two different recipients share the key %s", fill, k1);
        assert_string_equal(k1, k3);
        assert_true(strlen(k1) <= GREY_PART_MAX);
    }
}

/* test_long_sender_retry - a long sender's retries share one key, and
 * long senders sharing their first bytes do not (issue 10: the #HASH
 * suffix once mixed in the raw argument, so BATV/VERP/+ext retries of an
 * 8-bit address of ~55 bytes never passed, and it cancelled to
 * #0000000000000000 when the argument equalled the normalised text) */
static void test_long_sender_retry(void **state)
{
    char e55[56], u30[61], a170[171];
    memset(e55, '\xe9', 55);    /* an 8-bit local part of 55 bytes */
    e55[55] = '\0';
    for (int i = 0; i < 30; i++)
        memcpy(u30 + 2 * i, "\xc3\xa9", 2);
    u30[60] = '\0';
    memset(a170, 'a', 170);
    a170[170] = '\0';
    char retries[3][2][300];
    /* BATV tags, VERP digits and +extensions differ between attempts */
    snprintf(retries[0][0], 300, "<prvs=1234abcd=%s@example.org>", e55);
    snprintf(retries[0][1], 300, "<prvs=9876fedc=%s@example.org>", e55);
    snprintf(retries[1][0], 300, "<bounce-%s-12345@lists.example.org>", u30);
    snprintf(retries[1][1], 300, "<bounce-%s-99@lists.example.org>", u30);
    snprintf(retries[2][0], 300, "<%s+one@example.org>", a170);
    snprintf(retries[2][1], 300, "<%s+two@example.org>", a170);
    char k1[GREY_PART_MAX + 1], k2[GREY_PART_MAX + 1];
    (void)state;

    for (size_t i = 0; i < sizeof retries / sizeof retries[0]; i++) {
        sender(retries[i][0], k1, sizeof k1);
        sender(retries[i][1], k2, sizeof k2);
        if (strchr(k1, '#') == NULL || strstr(k1, "#0000000000000000") != NULL)
            fail_msg("case %zu: not cut with a real hash: %s", i, k1);
        if (strcmp(k1, k2) != 0)
            fail_msg("case %zu: retry gets a new key:\n %s\n %s", i, k1, k2);
        assert_true(strlen(k1) <= GREY_PART_MAX);
    }
    /* long plain addresses, equal to their own normalised text, that share
     * the first 170 bytes (the XOR used to cancel to zeros for both) */
    {
        char a1[300], a2[300];
        memset(a1, 'x', 250);
        memcpy(a2, a1, 250);
        a1[240] = 'p';
        a2[240] = 'q';
        strcpy(a1 + 250, "@example.org");
        strcpy(a2 + 250, "@example.org");
        char b1[310], b2[310];
        snprintf(b1, sizeof b1, "<%s>", a1);
        snprintf(b2, sizeof b2, "<%s>", a2);
        sender(b1, k1, sizeof k1);
        sender(b2, k2, sizeof k2);
        if (strcmp(k1, k2) == 0)
            fail_msg("two long senders share the key %s", k1);
        if (strstr(k1, "#0000000000000000") != NULL || strstr(k2, "#0000000000000000"))
            fail_msg("zero hash: %s / %s", k1, k2);
    }
}

/* test_client_net - the client masked to the configured prefix */
static void test_client_net(void **state)
{
    struct net_addr a;
    struct net_cidr c;
    char buf[NET_STRLEN];
    struct cfg_greylist g = G;
    (void)state;

    assert_int_equal(net_parse("192.0.2.77", &a), 0);
    grey_client_net(&g, &a, &c);
    assert_string_equal(net_format_cidr(&c, buf, sizeof buf), "192.0.2.0/24");
    assert_int_equal(net_parse("::ffff:192.0.2.77", &a), 0);
    grey_client_net(&g, &a, &c);
    assert_string_equal(net_format_cidr(&c, buf, sizeof buf), "192.0.2.0/24");
    assert_int_equal(net_parse("2001:db8:1:2:3:4:5:6", &a), 0);
    grey_client_net(&g, &a, &c);
    assert_string_equal(net_format_cidr(&c, buf, sizeof buf), "2001:db8:1:2::/64");
    g.ipv4_prefix = 32;
    g.ipv6_prefix = 128;
    assert_int_equal(net_parse("192.0.2.77", &a), 0);
    grey_client_net(&g, &a, &c);
    assert_string_equal(net_format_cidr(&c, buf, sizeof buf), "192.0.2.77/32");
    assert_int_equal(net_parse("2001:db8::6", &a), 0);
    grey_client_net(&g, &a, &c);
    assert_string_equal(net_format_cidr(&c, buf, sizeof buf), "2001:db8::6/128");
}

/* test_step_new_early_passed_known - the ordinary life of a triplet */
static void test_step_new_early_passed_known(void **state)
{
    struct rec_triplet t;
    struct grey_outcome o;
    time_t exp = 0;
    (void)state;

    memset(&t, 0xa5, sizeof t);   /* garbage: must be ignored when !found */
    o = grey_step(&G, 0, &t, T0, &exp);
    assert_int_equal(o.state, GREY_NEW);
    assert_int_equal(o.remaining, 300);
    assert_true(t.first_seen == (uint64_t)T0);
    assert_true(t.last_seen == (uint64_t)T0);
    assert_int_equal(t.passes, 0);
    assert_true(exp == T0 + 2 * DAY);

    /* retries too early: remaining counts down, first_seen stays */
    for (time_t dt = 1; dt < 300; dt += 37) {
        o = grey_step(&G, 1, &t, T0 + dt, &exp);
        assert_int_equal(o.state, GREY_EARLY);
        assert_int_equal(o.remaining, 300 - dt);
        assert_true(t.first_seen == (uint64_t)T0);
        assert_true(t.last_seen == (uint64_t)(T0 + dt));
        assert_int_equal(t.passes, 0);
        assert_true(exp == T0 + 2 * DAY);   /* still counted from the first sight */
    }
    o = grey_step(&G, 1, &t, T0 + 299, &exp);
    assert_int_equal(o.state, GREY_EARLY);
    assert_int_equal(o.remaining, 1);

    /* exactly at the delay: passed */
    o = grey_step(&G, 1, &t, T0 + 300, &exp);
    assert_int_equal(o.state, GREY_PASSED);
    assert_int_equal(o.delayed, 300);
    assert_int_equal(o.remaining, 0);
    assert_int_equal(t.passes, 1);
    assert_true(t.first_seen == (uint64_t)T0);
    assert_true(t.last_seen == (uint64_t)(T0 + 300));
    assert_true(exp == T0 + 300 + 35 * DAY);

    /* and known from then on; read-mostly: a use within pass_lifetime / 32
     * of the last counted one changes nothing (no write), a later one
     * counts and extends the lifetime */
    o = grey_step(&G, 1, &t, T0 + 1000, &exp);
    assert_int_equal(o.state, GREY_KNOWN);
    assert_false(o.changed);
    assert_int_equal(t.passes, 1);
    assert_true(t.last_seen == (uint64_t)(T0 + 300));
    assert_true(exp == T0 + 300 + 35 * DAY);
    o = grey_step(&G, 1, &t, T0 + 300 + 35 * DAY / GREY_REFRESH_DIV - 1, &exp);
    assert_false(o.changed);
    o = grey_step(&G, 1, &t, T0 + 300 + 35 * DAY / GREY_REFRESH_DIV, &exp);
    assert_int_equal(o.state, GREY_KNOWN);
    assert_true(o.changed);
    assert_int_equal(t.passes, 2);
    assert_true(exp == T0 + 300 + 35 * DAY / GREY_REFRESH_DIV + 35 * DAY);
    o = grey_step(&G, 1, &t, T0 + 30 * DAY, &exp);
    assert_int_equal(o.state, GREY_KNOWN);
    assert_true(o.changed);
    assert_int_equal(t.passes, 3);
    {
        /* read_mostly = no: every use is written and counted */
        struct cfg_greylist every = G;
        struct rec_triplet u = t;
        every.read_mostly = 0;
        o = grey_step(&every, 1, &u, T0 + 30 * DAY + 1, &exp);
        assert_true(o.changed);
        assert_int_equal(u.passes, 4);
        assert_true(exp == T0 + 30 * DAY + 1 + 35 * DAY);
        /* also a use whose clock is a second behind the host that wrote
         * last_seen (two MX hosts): counted, last_seen kept */
        o = grey_step(&every, 1, &u, T0 + 30 * DAY, &exp);
        assert_true(o.changed);
        assert_int_equal(u.passes, 5);
        assert_true(u.last_seen == (uint64_t)(T0 + 30 * DAY + 1));
    }
    o = grey_step(&G, 1, &t, T0 + 60 * DAY, &exp);   /* 30 days after the last use */
    assert_int_equal(o.state, GREY_KNOWN);
    assert_int_equal(t.passes, 4);
    assert_true(t.first_seen == (uint64_t)T0);
}

/* test_step_late_retry - after retry_window the triplet starts over */
static void test_step_late_retry(void **state)
{
    struct rec_triplet t;
    struct grey_outcome o;
    time_t exp;
    (void)state;

    grey_step(&G, 0, &t, T0, &exp);
    /* the last second of the window still passes; at first_seen +
     * retry_window the record has expired (the store's boundary too) */
    {
        struct rec_triplet u = t;
        o = grey_step(&G, 1, &u, T0 + 2 * DAY - 1, &exp);
        assert_int_equal(o.state, GREY_PASSED);
        assert_int_equal(o.delayed, 2 * DAY - 1);
    }
    o = grey_step(&G, 1, &t, T0 + 2 * DAY, &exp);
    assert_int_equal(o.state, GREY_NEW);
    assert_int_equal(o.remaining, 300);
    assert_true(t.first_seen == (uint64_t)(T0 + 2 * DAY));
    assert_int_equal(t.passes, 0);
    assert_true(exp == T0 + 2 * DAY + 2 * DAY);
    /* and the new delay counts from the new first sight */
    o = grey_step(&G, 1, &t, T0 + 2 * DAY + 299, &exp);
    assert_int_equal(o.state, GREY_EARLY);
    assert_int_equal(o.remaining, 1);
    o = grey_step(&G, 1, &t, T0 + 2 * DAY + 300, &exp);
    assert_int_equal(o.state, GREY_PASSED);
}

/* test_step_pass_lifetime - a passed triplet unused for pass_lifetime expires */
static void test_step_pass_lifetime(void **state)
{
    struct rec_triplet t, u;
    struct grey_outcome o;
    time_t exp, last = T0 + 300;
    (void)state;

    grey_step(&G, 0, &t, T0, &exp);
    grey_step(&G, 1, &t, last, &exp);
    assert_int_equal(t.passes, 1);
    assert_true(exp == last + 35 * DAY);

    u = t;
    o = grey_step(&G, 1, &u, last + 35 * DAY - 1, &exp);
    assert_int_equal(o.state, GREY_KNOWN);
    /* used in its last second: it lives pass_lifetime from then */
    assert_true(exp == last + 35 * DAY - 1 + 35 * DAY);
    u = t;
    o = grey_step(&G, 1, &u, last + 35 * DAY, &exp);
    assert_int_equal(o.state, GREY_NEW);
    assert_int_equal(u.passes, 0);
    assert_true(u.first_seen == (uint64_t)(last + 35 * DAY));
    assert_int_equal(o.remaining, 300);
    /* a clock that went backwards never shortens a passed record's life:
     * the stored expiry (what the store hands in) stays */
    u = t;
    exp = last + 35 * DAY;
    o = grey_step(&G, 1, &u, last - 100, &exp);
    assert_int_equal(o.state, GREY_KNOWN);
    assert_false(o.changed);
    assert_true(exp == last + 35 * DAY);
}

/* test_step_delay_zero - greylisting off: the first attempt passes */
static void test_step_delay_zero(void **state)
{
    struct cfg_greylist g = G;
    struct rec_triplet t;
    struct grey_outcome o;
    time_t exp;
    (void)state;

    g.delay = 0;
    o = grey_step(&g, 0, &t, T0, &exp);
    assert_int_equal(o.state, GREY_PASSED);
    assert_int_equal(o.remaining, 0);
    assert_int_equal(o.delayed, 0);
    assert_int_equal(t.passes, 1);
    assert_true(exp == T0 + 35 * DAY);
    o = grey_step(&g, 1, &t, T0, &exp);
    assert_int_equal(o.state, GREY_KNOWN);
    assert_false(o.changed);        /* read-mostly: just used */
    assert_int_equal(t.passes, 1);

    /* a pending record left from when the delay was longer passes at once */
    memset(&t, 0, sizeof t);
    t.first_seen = t.last_seen = (uint64_t)T0;
    o = grey_step(&g, 1, &t, T0, &exp);
    assert_int_equal(o.state, GREY_PASSED);
}

/* test_step_clock_backwards - time that runs backwards is no time at all */
static void test_step_clock_backwards(void **state)
{
    struct rec_triplet t;
    struct grey_outcome o;
    time_t exp;
    (void)state;

    grey_step(&G, 0, &t, T0, &exp);
    grey_step(&G, 1, &t, T0 + 100, &exp);
    o = grey_step(&G, 1, &t, T0 - 3600, &exp);
    assert_int_equal(o.state, GREY_EARLY);
    assert_int_equal(o.remaining, 300);
    assert_true(t.first_seen == (uint64_t)T0);
    assert_true(t.last_seen == (uint64_t)(T0 + 100));   /* never goes back */
    assert_true(exp == T0 + 2 * DAY);
    /* far back (before the epoch of the record) */
    o = grey_step(&G, 1, &t, 0, &exp);
    assert_int_equal(o.state, GREY_EARLY);
    assert_int_equal(o.remaining, 300);
    /* forward again: the delay is measured from the first sight */
    o = grey_step(&G, 1, &t, T0 + 300, &exp);
    assert_int_equal(o.state, GREY_PASSED);

    /* a known triplet stays known, last_seen does not move back */
    o = grey_step(&G, 1, &t, T0 - DAY, &exp);
    assert_int_equal(o.state, GREY_KNOWN);
    assert_true(t.last_seen == (uint64_t)(T0 + 300));
}

/* test_step_passes_saturate - the pass counter never wraps */
static void test_step_passes_saturate(void **state)
{
    struct rec_triplet t = {(uint64_t)T0, (uint64_t)T0, UINT32_MAX};
    struct grey_outcome o;
    time_t exp;
    (void)state;
    o = grey_step(&G, 1, &t, T0 + 10, &exp);
    assert_int_equal(o.state, GREY_KNOWN);
    assert_true(t.passes == UINT32_MAX);
}

/* test_client_auto_whitelist - counted at most once an hour, expires */
static void test_client_auto_whitelist(void **state)
{
    struct rec_client c;
    time_t now = T0, exp;
    (void)state;

    memset(&c, 0x5a, sizeof c);   /* garbage: ignored when !found */
    assert_true(grey_client_count(&G, 0, &c, now, &exp));
    assert_int_equal(c.passes, 1);
    assert_true(c.last_pass == (uint64_t)now);
    assert_true(c.last_counted == (uint64_t)now);
    assert_true(exp == now + 35 * DAY);
    assert_false(grey_client_listed(&G, 1, &c, now));

    /* many passes within the hour count once, and change nothing to write */
    for (int i = 1; i < 60; i++) {
        time_t e = 7;
        assert_false(grey_client_count(&G, 1, &c, now + i * 59, &e));
        assert_true(e == 7);
    }
    assert_int_equal(c.passes, 1);
    assert_true(c.last_pass == (uint64_t)now);
    assert_true(c.last_counted == (uint64_t)now);

    /* one hour later: the second pass */
    assert_false(grey_client_count(&G, 1, &c, now + 3599, &exp));
    assert_int_equal(c.passes, 1);
    assert_true(grey_client_count(&G, 1, &c, now + 3600, &exp));
    assert_int_equal(c.passes, 2);
    assert_true(exp == now + 3600 + 35 * DAY);
    for (int h = 2; h < 5; h++) {
        assert_false(grey_client_listed(&G, 1, &c, now + h * 3600));
        grey_client_count(&G, 1, &c, now + h * 3600, &exp);
        assert_int_equal(c.passes, h + 1);
    }
    /* five passes: listed ... */
    now += 4 * 3600;
    assert_true(grey_client_listed(&G, 1, &c, now));
    assert_true(grey_client_listed(&G, 1, &c, now + 35 * DAY));
    /* ... until pass_lifetime without a pass */
    assert_false(grey_client_listed(&G, 1, &c, now + 35 * DAY + 1));
    /* not found, or the feature off: never listed */
    assert_false(grey_client_listed(&G, 0, &c, now));
    {
        struct cfg_greylist off = G;
        off.auto_whitelist = 0;
        assert_false(grey_client_listed(&off, 1, &c, now));
        off.auto_whitelist = 6;
        assert_false(grey_client_listed(&off, 1, &c, now));
    }

    /* a clock that went back counts nothing and keeps last_pass */
    {
        struct rec_client b = c;
        grey_client_count(&G, 1, &b, now - 10 * 3600, &exp);
        assert_int_equal(b.passes, c.passes);
        assert_true(b.last_pass == c.last_pass);
    }
    /* the counter saturates */
    c.passes = UINT32_MAX;
    grey_client_count(&G, 1, &c, now + 10 * DAY, &exp);
    assert_true(c.passes == UINT32_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sender_table),
        cmocka_unit_test(test_sender_not_srs),
        cmocka_unit_test(test_rcpt_table),
        cmocka_unit_test(test_key_part_escaping),
        cmocka_unit_test(test_key_part_cut),
        cmocka_unit_test(test_long_sender_retry),
        cmocka_unit_test(test_oversized_keys),
        cmocka_unit_test(test_client_net),
        cmocka_unit_test(test_step_new_early_passed_known),
        cmocka_unit_test(test_step_late_retry),
        cmocka_unit_test(test_step_pass_lifetime),
        cmocka_unit_test(test_step_delay_zero),
        cmocka_unit_test(test_step_clock_backwards),
        cmocka_unit_test(test_step_passes_saturate),
        cmocka_unit_test(test_client_auto_whitelist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
