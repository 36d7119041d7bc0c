/*
 * NAME
 *   test_orgdomain - unit tests of orgdomain.c
 * DESCRIPTION
 *   Organisational domains from Debian's public suffix list on a table
 *   (plain TLDs, co.uk-style second levels, wildcard and exception rules,
 *   private suffixes, names that are suffixes themselves, bad input), the
 *   host-part length the iprev check uses, and the fall-back to libpsl's
 *   built-in list when the file cannot be read (in a child process, since
 *   the list is loaded once per process).
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

#include "orgdomain.h"
#include "unit_util.h"

static const struct {
    const char *name, *want; /* want NULL: no organisational domain */
    int host_len;
} org_cases[] = {
    {"example.com", "example.com", 0},
    {"mail.example.com", "example.com", 4},
    {"mx1.mail.example.com", "example.com", 8},
    {"MX1.Example.COM.", "example.com", 3},
    {"example.co.uk", "example.co.uk", 0},
    {"mail.example.co.uk", "example.co.uk", 4},
    {"a.b.c.example.co.uk", "example.co.uk", 5},
    {"mail.dsl-provider.co.uk", "dsl-provider.co.uk", 4},
    {"smtp.example.com.au", "example.com.au", 4},
    {"mx.example.co.jp", "example.co.jp", 2},
    /* wildcard rule *.ck, with the exception !www.ck */
    {"mail.shop.foo.ck", "shop.foo.ck", 4},
    {"www.ck", "www.ck", 0},
    /* private section: one blog is one organisation */
    {"alice.blogspot.com", "alice.blogspot.com", 0},
    {"x.alice.blogspot.com", "alice.blogspot.com", 1},
    /* an unknown TLD counts as a suffix (the implicit * rule) */
    {"host.isp.example", "isp.example", 4},
    /* no organisational domain */
    {"com", NULL, -1},
    {"co.uk", NULL, -1},
    {"blogspot.com", NULL, -1},
    {"localhost", NULL, -1},
    {"", NULL, -1},
    {".", NULL, -1},
    {"a..b.com", NULL, -1},
    {"bad name.com", NULL, -1},
    {"-", NULL, -1},
};

/* test_table - org_domain and org_host_len on the table */
static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof org_cases / sizeof *org_cases; i++) {
        char out[ORG_NAME_MAX] = "untouched";
        int rc = org_domain(org_cases[i].name, out, sizeof out);
        if (org_cases[i].want == NULL) {
            if (rc != -1 || strcmp(out, "untouched") != 0)
                fail_msg("%s: expected none, got %d %s", org_cases[i].name, rc, out);
        } else if (rc != 0 || strcmp(out, org_cases[i].want) != 0) {
            fail_msg("%s: expected %s, got %d %s", org_cases[i].name, org_cases[i].want, rc,
                     out);
        }
        if (org_host_len(org_cases[i].name) != org_cases[i].host_len)
            fail_msg("%s: host_len %d, expected %d", org_cases[i].name,
                     org_host_len(org_cases[i].name), org_cases[i].host_len);
    }
    assert_string_equal(org_source(), "file");
}

/* test_bounds - NULL, over-long names, a buffer too small */
static void test_bounds(void **state)
{
    char big[400], out[ORG_NAME_MAX], small[8];
    (void)state;
    assert_int_equal(org_domain(NULL, out, sizeof out), -1);
    assert_int_equal(org_host_len(NULL), -1);
    memset(big, 'a', sizeof big - 5);
    memcpy(big + sizeof big - 5, ".com", 5);
    assert_int_equal(org_domain(big, out, sizeof out), -1);
    assert_int_equal(org_host_len(big), -1);
    /* 63-byte labels up to the 253-byte limit still work */
    memset(big, 'a', 63);
    big[63] = '.';
    memcpy(big + 64, "example.com", 12);
    assert_int_equal(org_domain(big, out, sizeof out), 0);
    assert_string_equal(out, "example.com");
    assert_int_equal(org_domain("mail.example.com", small, sizeof small), -1);
}

/* builtin_child - a missing file falls back to the built-in list */
static int builtin_child(void *arg)
{
    (void)arg;
    char out[ORG_NAME_MAX];
    if (org_init("/nonexistent/greyrep/psl.dat") != 1)
        return fprintf(stderr, "org_init did not report the fall-back\n"), 1;
    if (strcmp(org_source(), "builtin") != 0)
        return fprintf(stderr, "source %s\n", org_source()), 1;
    if (org_domain("mail.example.co.uk", out, sizeof out) != 0
        || strcmp(out, "example.co.uk") != 0)
        return fprintf(stderr, "builtin list gave %s\n", out), 1;
    return 0;
}

/* test_builtin - runs first, before this process loads the list, so the
 * child starts with nothing loaded */
static void test_builtin(void **state)
{
    char why[256];
    const char *err = unit_isolated(builtin_child, NULL, why, sizeof why);
    (void)state;
    if (err != NULL)
        fail_msg("%s", err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
