/*
 * NAME
 *   test_ctl_ops - unit tests of greyrepctl's import, report and chart
 * DESCRIPTION
 *   import_perl_regex() and import_map_line() on tables (postgrey lines to
 *   greyrep entries, and lines refused with why); the report's
 *   aggregation of hourly records and triplets into buckets, shares and
 *   top lists, and its text; the SVG chart: well-formed XML (xmllint, when
 *   installed), one bar per non-zero value, a legend and axis labels.
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

#include "ctl_ops.h"
#include "ctl_report.h"
#include "unit_util.h"

#define HOUR0 ((time_t)1796342400)   /* 2026-12-04T00:00:00Z */

/* test_perl_regex - the Perl forms postgrey's files use, as POSIX EREs */
static void test_perl_regex(void **state)
{
    static const struct {
        const char *in, *want;   /* want NULL: refused */
    } t[] = {
        {"^mail\\d+\\.telekom\\.de$", "^mail[0-9]+\\.telekom\\.de$"},
        {"^(?:smtp\\w*|postfix)[0-9]+-g[0-9]+\\.free\\.fr$",
         "^(smtp[[:alnum:]_]*|postfix)[0-9]+-g[0-9]+\\.free\\.fr$"},
        {"^.*?.server.arvato-systems.de$", "^.*.server.arvato-systems.de$"},
        {"^mx[\\d.-]+\\.example$", "^mx[0-9.-]+\\.example$"},
        {"^a[^\\s]b$", "^a[^[:space:]]b$"},
        {"^a[]x]b$", "^a[]x]b$"},
        {"^a[[:digit:]]+$", "^a[[:digit:]]+$"},
        {"x\\-y\\/z", "x-y/z"},
        {"a\\S+b\\D", "a[^[:space:]]+b[^0-9]"},
        {"a+?b??c{2}?", "a+b?c{2}"},
        {"\\bfoo", NULL},
        {"(?=foo)", NULL},
        {"(?i)foo", NULL},
        {"a++", NULL},
        {"[a\\]b]", NULL},
        {"[abc", NULL},
        {"abc\\", NULL},
    };
    (void)state;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char out[400];
        const char *why = NULL;
        int rc = import_perl_regex(t[i].in, out, sizeof out, &why);
        if (t[i].want == NULL) {
            if (rc == 0)
                fail_msg("%s accepted as %s", t[i].in, out);
            assert_non_null(why);
        } else if (rc != 0) {
            fail_msg("%s refused: %s", t[i].in, why);
        } else if (strcmp(out, t[i].want) != 0) {
            fail_msg("%s: \"%s\", want \"%s\"", t[i].in, out, t[i].want);
        }
    }
}

/* test_map_lines - postgrey lines to entries */
static void test_map_lines(void **state)
{
    static const struct {
        int rcpt;
        const char *line;
        int n;
        const char *e0, *e1;   /* "type value", or a substring of why when n < 0 */
    } t[] = {
        {0, "# a comment", 0, NULL, NULL},
        {0, "   ", 0, NULL, NULL},
        {0, "example.org   # partner", 2, "host example.org", "host .example.org"},
        {0, "Mail.Example.ORG", 2, "host mail.example.org", "host .mail.example.org"},
        {0, "195.235.39", 1, "ip 195.235.39.0/24", NULL},
        {0, "10.1", 1, "ip 10.1.0.0/16", NULL},
        {0, "192.0.2.1", 1, "ip 192.0.2.1", NULL},
        {0, "51.4.80.0/27", 1, "ip 51.4.80.0/27", NULL},
        {0, "2a01:4180:4051:0800::/64", 1, "ip 2a01:4180:4051:800::/64", NULL},
        {0, "/^mail\\d+\\.telekom\\.de$/", 1, "host /^mail[0-9]+\\.telekom\\.de$/", NULL},
        {0, "300.1.2.3", -1, "over 255", NULL},
        {0, "10.0.0.0/33", -1, "over /32", NULL},
        {0, "two words", -1, "host name", NULL},
        {0, "/\\bx/", -1, "Perl escape", NULL},
        {0, "bad..name", -1, "empty label", NULL},
        {0, ".example.org", -1, "dot", NULL},
        {1, "postmaster@", 1, "rcpt postmaster@", NULL},
        {1, "Abuse@Example.org", 1, "rcpt abuse@example.org", NULL},
        {1, "debian.org", 1, "rcpt @debian.org", NULL},
        {1, "@lists.example", 1, "rcpt @lists.example", NULL},
        {1, "/^x@/", -1, "no regular-expression recipient", NULL},
        {1, "a b@c", -1, "address", NULL},
        {1, "a@b..c", -1, "empty label", NULL},
    };
    (void)state;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct import_entry e[2];
        const char *why = NULL;
        char got[400];
        int n = import_map_line(t[i].rcpt, t[i].line, e, &why);
        if (n != t[i].n)
            fail_msg("%s: %d entries (%s), want %d", t[i].line, n, why ? why : "", t[i].n);
        if (n < 0) {
            if (strstr(why, t[i].e0) == NULL)
                fail_msg("%s: why \"%s\", want \"%s\"", t[i].line, why, t[i].e0);
            continue;
        }
        for (int k = 0; k < n; k++) {
            snprintf(got, sizeof got, "%s %s", wl_type_name(e[k].type), e[k].value);
            if (strcmp(got, k ? t[i].e1 : t[i].e0) != 0)
                fail_msg("%s: \"%s\", want \"%s\"", t[i].line, got, k ? t[i].e1 : t[i].e0);
        }
    }
}

/* add_triplet - one triplet record into a report */
static void add_triplet(struct report *r, const char *key, time_t first, time_t last,
                        unsigned passes)
{
    struct rec_triplet t = {(uint64_t)first, (uint64_t)last, passes};
    report_add_triplet(r, key, strlen(key), &t);
}

/* test_report - buckets, delays, shares and top lists */
static void test_report(void **state)
{
    time_t until = HOUR0 + 24 * 3600;
    struct report *r = report_new(until, 86400);
    struct metrics_snapshot m;
    char *text = NULL;
    size_t len = 0;
    FILE *out;
    (void)state;

    assert_null(report_new(until, 60));
    assert_null(report_new(until, 500 * 86400));
    assert_non_null(r);
    assert_int_equal(r->step, 3600);
    assert_int_equal(r->nbuckets, 24);
    assert_int_equal(r->since, HOUR0);

    memset(&m, 0, sizeof m);
    m.accepted = 10;
    m.tempfailed = 4;
    m.grey_passes = 3;
    m.delay[0] = 2;
    m.delay[4] = 1;
    report_add_hour(r, HOUR0 + 3 * 3600, &m);       /* host 1 */
    report_add_hour(r, HOUR0 + 3 * 3600, &m);       /* host 2, same hour */
    report_add_hour(r, HOUR0 - 3600, &m);           /* before the period */
    m.rejected = 1;
    report_add_hour(r, HOUR0 + 23 * 3600, &m);
    assert_int_equal(r->b[3].accepted, 20);
    assert_int_equal(r->b[3].tempfailed, 8);
    assert_int_equal(r->b[3].passes, 6);
    assert_int_equal(r->b[23].rejected, 1);
    assert_int_equal(r->b[0].accepted, 0);
    assert_int_equal(r->delay[0], 6);
    assert_int_equal(r->delay[4], 3);
    assert_int_equal(r->hours, 3);

    add_triplet(r, "t|192.0.2.0/24|a@bulk.example|x@y", HOUR0 + 10, HOUR0 + 10, 0); /* never */
    add_triplet(r, "t|192.0.2.0/24|b@bulk.example|x@y", HOUR0 + 20, HOUR0 + 20, 0); /* never */
    add_triplet(r, "t|198.51.100.0/24|c@good.example|x@y", HOUR0 + 30, HOUR0 + 400, 5);
    add_triplet(r, "t|198.51.100.0/24|d@good.example|x@y", HOUR0 + 30, HOUR0 + 60, 0); /* early */
    add_triplet(r, "t|203.0.113.0/24|<>|x@y", until - 60, until - 60, 0);            /* waiting */
    add_triplet(r, "t|203.0.113.0/24|e@old.example|x@y", HOUR0 - 10, HOUR0 - 10, 0); /* outside */
    add_triplet(r, "t|bogus", HOUR0 + 10, HOUR0 + 10, 0);
    assert_int_equal(r->triplets, 5);
    assert_int_equal(r->passed, 1);
    assert_int_equal(r->retried_early, 1);
    assert_int_equal(r->never_retried, 2);
    assert_int_equal(r->waiting, 1);

    out = open_memstream(&text, &len);
    report_print(out, r);
    fclose(out);
    assert_non_null(strstr(text, "  2026-12-04 03:00        20          8        0       6"));
    assert_non_null(strstr(text, "  total                   30         12        1       9\n"));
    assert_non_null(strstr(text, "  <= 5m          6  66.7%"));
    assert_non_null(strstr(text, "share of pending triplets that never retried: 50.0%"));
    /* by volume: good.example has 1+5 + 1; by abandonment: bulk.example first */
    assert_non_null(strstr(text, "by volume (triplets + passes)\n         7  good.example\n"
                                 "         2  bulk.example\n"));
    assert_non_null(strstr(text, "by abandonment (never retried)\n         2  bulk.example\n\n"));
    assert_non_null(strstr(text, "client networks by abandonment\n         2  192.0.2.0/24\n"));
    free(text);

    /* a longer period has coarser buckets */
    report_free(r);
    r = report_new(until, 7 * 86400);
    assert_int_equal(r->step, 6 * 3600);
    assert_int_equal(r->nbuckets, 28);
    report_free(r);
    r = report_new(until, 30 * 86400);
    assert_int_equal(r->step, 86400);
    report_free(r);
}

/* test_svg - well-formed, bars for the non-zero values, labels */
static void test_svg(void **state)
{
    char dir[PATH_MAX], path[PATH_MAX + 16], cmd[PATH_MAX + 64];
    time_t until = HOUR0 + 24 * 3600;
    struct report *r = report_new(until, 86400);
    struct metrics_snapshot m;
    char *text = NULL;
    size_t len = 0;
    int rects = 0;
    FILE *out;
    (void)state;

    memset(&m, 0, sizeof m);
    m.accepted = 50;
    m.tempfailed = 7;
    m.grey_passes = 5;
    report_add_hour(r, HOUR0 + 5 * 3600, &m);
    m.rejected = 2;
    report_add_hour(r, HOUR0 + 6 * 3600, &m);
    out = open_memstream(&text, &len);
    svg_write(out, r);
    fclose(out);
    for (const char *p = text; (p = strstr(p, "<rect x=")) != NULL; p++)
        rects++;
    assert_int_equal(rects, 5 + 3);  /* 5 bars, 3 legend swatches */
    assert_non_null(strstr(text, "<title>accepted 50</title>"));
    assert_non_null(strstr(text, "<title>rejected 2</title>"));
    assert_non_null(strstr(text, ">greylist passes</text>"));
    assert_non_null(strstr(text, ">time (UTC)</text>"));
    assert_non_null(strstr(text, ">100</text>"));     /* the y axis tops at a round 100 */
    assert_non_null(strstr(text, ">12-04 00:00</text>"));

    unit_tmpdir(dir, sizeof dir);
    unit_write(dir, "chart.svg", text, path, sizeof path);
    if (system("command -v xmllint >/dev/null 2>&1") == 0) {
        snprintf(cmd, sizeof cmd, "xmllint --noout '%s'", path);
        assert_int_equal(system(cmd), 0);
    } else {
        print_message("  xmllint not installed: well-formedness not checked\n");
    }
    /* an empty period still gives a chart that says so */
    free(text);
    report_free(r);
    r = report_new(until, 86400);
    text = NULL;
    out = open_memstream(&text, &len);
    svg_write(out, r);
    fclose(out);
    assert_non_null(strstr(text, "no decisions recorded in this period"));
    free(text);
    report_free(r);
    unit_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_perl_regex),
        cmocka_unit_test(test_map_lines),
        cmocka_unit_test(test_report),
        cmocka_unit_test(test_svg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
