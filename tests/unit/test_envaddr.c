/*
 * NAME
 *   test_envaddr - unit tests of envaddr.c (SMTP envelope paths)
 * DESCRIPTION
 *   One table of arguments as an MTA (or anything else on the milter
 *   socket) may hand them over, with the parts and flags expected; then
 *   the cases a table cannot hold: 8-bit bytes, control bytes, 8 KB
 *   arguments (ENV_OVERSIZED and the hash of the whole text), NULL.
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

#include "envaddr.h"
#include "util.h"

struct env_case {
    const char *in;
    unsigned flags;        /* exactly these flags */
    const char *local, *domain;
};

/* check_case - parse one argument and compare every field */
static void check_case(const struct env_case *c)
{
    struct env_addr a;

    env_parse(c->in, &a);
    if (a.flags != c->flags)
        fail_msg("env_parse(\"%s\"): flags 0x%x, want 0x%x (why: %s)", c->in, a.flags,
                 c->flags, a.why ? a.why : "-");
    if (strcmp(a.local, c->local) != 0)
        fail_msg("env_parse(\"%s\"): local \"%s\", want \"%s\"", c->in, a.local, c->local);
    if (strcmp(a.domain, c->domain) != 0)
        fail_msg("env_parse(\"%s\"): domain \"%s\", want \"%s\"", c->in, a.domain, c->domain);
    if ((a.flags & ENV_MALFORMED) && (a.why == NULL || a.why[0] == '\0'))
        fail_msg("env_parse(\"%s\"): malformed without a reason", c->in);
    if (!(a.flags & ENV_MALFORMED) && a.why != NULL)
        fail_msg("env_parse(\"%s\"): a reason (%s) without ENV_MALFORMED", c->in, a.why);
    if (a.hash != util_hash64(c->in, strlen(c->in)))
        fail_msg("env_parse(\"%s\"): hash is not of the whole argument", c->in);
}

/* test_table - the usual and the odd */
static void test_table(void **state)
{
    static const struct env_case t[] = {
        {"<a@b>", 0, "a", "b"},
        {"a@b", 0, "a", "b"},
        {"  <a@b>  ", 0, "a", "b"},
        {"<User.Name@Example.ORG>", 0, "User.Name", "example.org"},
        {"<>", ENV_NULL, "", ""},
        {"", ENV_NULL, "", ""},
        {" <> ", ENV_NULL, "", ""},
        {"<postmaster>", 0, "postmaster", ""},
        {"<a@b", ENV_MALFORMED, "a", "b"},
        {"a@b>", ENV_MALFORMED, "a", "b"},
        {"<", ENV_MALFORMED, "", ""},
        {">", ENV_MALFORMED, "", ""},
        {"<<>>", ENV_MALFORMED, "<>", ""},
        {"<<a@b>>", ENV_MALFORMED, "<a", "b>"},
        {"<a@>", ENV_MALFORMED, "a", ""},
        {"<@b>", ENV_MALFORMED, "", "b"},
        {"<a b@c>", ENV_MALFORMED, "a b", "c"},
        /* quoted local parts */
        {"<\"a b\"@x>", ENV_QUOTED, "a b", "x"},
        {"<\"a\\\"b\"@x>", ENV_QUOTED, "a\"b", "x"},
        {"<\"a\\\\b\"@x>", ENV_QUOTED, "a\\b", "x"},
        {"<\"a@b\"@x>", ENV_QUOTED, "a@b", "x"},
        {"<\"\"@x>", ENV_QUOTED, "", "x"},
        {"<\"a b\">", ENV_QUOTED, "a b", ""},
        {"<\"a b@x>", ENV_QUOTED | ENV_MALFORMED, "a b@x", ""},
        {"<\"a\"b@x>", ENV_QUOTED | ENV_MALFORMED, "a", ""},
        /* the obsolete source route is ignored */
        {"<@r1,@r2:u@d>", 0, "u", "d"},
        {"<@r1.example:U@D.example>", 0, "U", "d.example"},
        {"<@r1,@r2u@d>", ENV_MALFORMED, "@r1,@r2u", "d"},
        /* address literals */
        {"<u@[IPv6:2001:db8::1]>", 0, "u", "[ipv6:2001:db8::1]"},
        {"<u@[192.0.2.1]>", 0, "u", "[192.0.2.1]"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        check_case(&t[i]);
}

/* test_eight_bit - UTF-8 and other high bytes are kept as received */
static void test_eight_bit(void **state)
{
    struct env_addr a;
    (void)state;

    env_parse("<j\xc3\xb6rg@b\xc3\xbc" "cher.example>", &a);
    assert_false(a.flags & ENV_MALFORMED);
    assert_string_equal(a.local, "j\xc3\xb6rg");
    assert_string_equal(a.domain, "b\xc3\xbc" "cher.example");

    env_parse("<\xff\xfe\x80@x>", &a);
    assert_false(a.flags & ENV_MALFORMED);
    assert_string_equal(a.local, "\xff\xfe\x80");
}

/* test_control_bytes - every control byte and DEL makes it malformed */
static void test_control_bytes(void **state)
{
    (void)state;
    for (int c = 1; c < 0x20; c++) {
        char in[32];
        struct env_addr a;

        snprintf(in, sizeof in, "<a%cb@example.org>", c);
        env_parse(in, &a);
        if (!(a.flags & ENV_MALFORMED))
            fail_msg("control byte 0x%02x not flagged", c);
        assert_non_null(a.why);
        /* the parts are still there to key on */
        assert_string_equal(a.domain, "example.org");
    }
    {
        struct env_addr a;
        env_parse("<ab@exa\x7fmple.org>", &a);
        assert_true(a.flags & ENV_MALFORMED);
        env_parse("<\"a\rb\"@x>", &a);
        assert_true(a.flags & ENV_MALFORMED);
        env_parse("<a@b>\r\n", &a);
        assert_true(a.flags & ENV_MALFORMED);
    }
}

/* big - an argument of n bytes: "<" + local + "@" + domain + ">" */
static char *big(size_t nlocal, char lc, size_t ndomain, char dc)
{
    char *s = malloc(nlocal + ndomain + 4);
    size_t o = 0;

    assert_non_null(s);
    s[o++] = '<';
    memset(s + o, lc, nlocal);
    o += nlocal;
    s[o++] = '@';
    memset(s + o, dc, ndomain);
    o += ndomain;
    s[o++] = '>';
    s[o] = '\0';
    return s;
}

/* test_oversized - cut parts, flagged, with the hash of the whole text */
static void test_oversized(void **state)
{
    struct env_addr a, b;
    char *s1 = big(8192, 'a', 5, 'x'), *s2 = big(8192, 'a', 5, 'x'), *s3;
    (void)state;

    s2[8000] = 'b';   /* differs only far beyond the cut */
    env_parse(s1, &a);
    env_parse(s2, &b);
    assert_true(a.flags & ENV_OVERSIZED);
    assert_false(a.flags & ENV_MALFORMED);
    assert_int_equal(strlen(a.local), ENV_LOCAL_MAX);
    assert_string_equal(a.domain, "xxxxx");
    assert_true(a.hash == util_hash64(s1, strlen(s1)));
    assert_string_equal(a.local, b.local);
    assert_true(a.hash != b.hash);

    /* the same text again: the same hash */
    env_parse(s1, &b);
    assert_true(a.hash == b.hash);

    /* an oversized domain */
    s3 = big(3, 'u', 8192, 'd');
    env_parse(s3, &a);
    assert_true(a.flags & ENV_OVERSIZED);
    assert_string_equal(a.local, "uuu");
    assert_int_equal(strlen(a.domain), ENV_DOMAIN_MAX);
    free(s3);

    /* over the RFC limit (64) but under our cut: flagged, not cut */
    s3 = big(65, 'l', 3, 'd');
    env_parse(s3, &a);
    assert_true(a.flags & ENV_OVERSIZED);
    assert_int_equal(strlen(a.local), 65);
    free(s3);
    s3 = big(64, 'l', 3, 'd');
    env_parse(s3, &a);
    assert_int_equal(a.flags, 0);
    free(s3);

    /* an oversized quoted local part */
    s3 = big(8192, 'q', 1, 'x');
    s3[1] = '"';
    s3[8192] = '"';
    env_parse(s3, &a);
    assert_true(a.flags & ENV_OVERSIZED);
    assert_true(a.flags & ENV_QUOTED);
    assert_int_equal(strlen(a.local), ENV_LOCAL_MAX);
    free(s3);

    /* an 8 KB argument without any structure */
    s3 = malloc(8193);
    assert_non_null(s3);
    memset(s3, 'z', 8192);
    s3[8192] = '\0';
    env_parse(s3, &a);
    assert_true(a.flags & ENV_OVERSIZED);
    assert_true(a.hash == util_hash64(s3, 8192));
    free(s3);

    free(s1);
    free(s2);
}

/* test_null_argument - NULL is a malformed empty path, never the null path */
static void test_null_argument(void **state)
{
    struct env_addr a;
    (void)state;
    env_parse(NULL, &a);
    assert_true(a.flags & ENV_MALFORMED);
    assert_false(a.flags & ENV_NULL);
    assert_non_null(a.why);
    assert_string_equal(a.local, "");
    assert_string_equal(a.domain, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_eight_bit),
        cmocka_unit_test(test_control_bytes),
        cmocka_unit_test(test_oversized),
        cmocka_unit_test(test_null_argument),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
