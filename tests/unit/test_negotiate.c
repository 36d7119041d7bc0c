/*
 * NAME
 *   test_negotiate - unit tests of the milter protocol steps (negotiate.h)
 * DESCRIPTION
 *   One case per configuration shape, each read from a real greyrep.conf
 *   through cfg_load(): greylisting only, SPF only, iprev only, DNSBL only,
 *   DKIM on, the defaults; then an MTA that offers less (no NODATA /
 *   NOUNKNOWN / NOHDRS), that RCPT is never "no reply", and the names that
 *   neg_format() writes for the -d log line, also into a short buffer.
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
#include "negotiate.h"
#include "unit_util.h"

/* what libmilter offers for Postfix 3.7 / Sendmail 8.17: every flag */
#define ALL 0x001fffffUL
/* the no-reply flags libmilter can fake, always in f1 */
#define FAKE (NEG_NR_CONN | NEG_NR_HELO | NEG_NR_MAIL | NEG_NR_RCPT | NEG_NR_DATA \
              | NEG_NR_UNKN | NEG_NR_HDR | NEG_NR_EOH | NEG_NR_BODY)
#define ALWAYS (NEG_NR_CONN | NEG_NR_HELO | NEG_NR_MAIL | NEG_NODATA | NEG_NOUNKNOWN)

static void report(void *arg, const char *line)
{
    (void)arg;
    fprintf(stderr, "config: %s\n", line);
}

/* steps_for - the steps a configuration asks of an MTA offering offered */
static unsigned long steps_for(const char *sections, unsigned long offered)
{
    char dir[PATH_MAX], file[PATH_MAX + 32];
    struct cfg *cfg;
    unsigned long s;

    unit_tmpdir(dir, sizeof dir);
    unit_write(dir, "greyrep.conf", sections, file, sizeof file);
    cfg = cfg_load(file, report, NULL);
    unit_rmtree(dir);
    if (cfg == NULL)
        fail_msg("configuration did not load:\n%s", sections);
    s = neg_steps(cfg, offered);
    cfg_free(cfg);
    return s;
}

#define OFF_ALL "[spf]\nenabled = no\n[iprev]\nenabled = no\n[dkim]\nenabled = no\n"

static void test_greylisting_only(void **state)
{
    (void)state;
    /* headers even so, unanswered: forged Authentication-Results go */
    assert_int_equal(steps_for(OFF_ALL, ALL),
                     ALWAYS | NEG_NR_HDR | NEG_NOEOH | NEG_NOBODY);
}

static void test_dnsbl_only(void **state)
{
    (void)state;
    /* a DNSBL verdict is given at RCPT and written into no header */
    assert_int_equal(steps_for(OFF_ALL "[dnsbl]\nzones = bl.example\n", ALL),
                     ALWAYS | NEG_NR_HDR | NEG_NOEOH | NEG_NOBODY);
}

static void test_spf_only(void **state)
{
    (void)state;
    /* SPF is written into Authentication-Results: forged ones must go */
    assert_int_equal(steps_for("[iprev]\nenabled = no\n[dkim]\nenabled = no\n", ALL),
                     ALWAYS | NEG_NR_HDR | NEG_NOEOH | NEG_NOBODY);
}

static void test_iprev_only(void **state)
{
    (void)state;
    assert_int_equal(steps_for("[spf]\nenabled = no\n[dkim]\nenabled = no\n", ALL),
                     ALWAYS | NEG_NR_HDR | NEG_NOEOH | NEG_NOBODY);
}

static void test_dkim(void **state)
{
    (void)state;
    assert_int_equal(steps_for("[spf]\nenabled = no\n[iprev]\nenabled = no\n", ALL),
                     ALWAYS | NEG_NR_HDR | NEG_NR_EOH | NEG_NR_BODY);
}

static void test_defaults(void **state)
{
    struct cfg *cfg = cfg_defaults();
    (void)state;
    assert_non_null(cfg);
    /* every check is on by default, DKIM included */
    assert_int_equal(neg_steps(cfg, ALL), ALWAYS | NEG_NR_HDR | NEG_NR_EOH | NEG_NR_BODY);
    cfg_free(cfg);
}

static void test_offered_less(void **state)
{
    (void)state;
    /* an MTA without the skip flags: greyrep asks only for the no-replies */
    assert_int_equal(steps_for(OFF_ALL, FAKE), NEG_NR_CONN | NEG_NR_HELO | NEG_NR_MAIL | NEG_NR_HDR);
    /* an MTA that offers nothing but the steps (libmilter adds FAKE) */
    assert_int_equal(steps_for(OFF_ALL, 0x7fUL | FAKE),
                     NEG_NR_CONN | NEG_NR_HELO | NEG_NR_MAIL | NEG_NR_HDR | NEG_NOEOH
                         | NEG_NOBODY);
    assert_int_equal(steps_for(OFF_ALL, 0), 0);
}

static void test_never_asked(void **state)
{
    (void)state;
    const char *confs[] = {OFF_ALL, "", "[dkim]\nenabled = no\n"};
    for (size_t i = 0; i < sizeof confs / sizeof confs[0]; i++) {
        unsigned long s = steps_for(confs[i], ~0UL);
        /* RCPT carries the verdict; no callback for DATA and unknown
         * commands, so libmilter itself answers those when sent */
        assert_int_equal(s & (NEG_NR_RCPT | NEG_NR_DATA | NEG_NR_UNKN | NEG_NOHELO), 0);
        /* headers: either skipped or not answered, never both or neither */
        assert_true(!(s & NEG_NOHDRS) != !(s & NEG_NR_HDR));
        assert_true(!(s & NEG_NOBODY) != !(s & NEG_NR_BODY));
        assert_true(!(s & NEG_NOEOH) != !(s & NEG_NR_EOH));
    }
}

static void test_format(void **state)
{
    char buf[400], small[12];
    (void)state;
    assert_string_equal(neg_format(NEG_NOHDRS | NEG_NR_CONN, buf, sizeof buf),
                        "NOHDRS NR_CONN (0x1020)");
    assert_string_equal(neg_format(0, buf, sizeof buf), "(0x0)");
    neg_format(ALWAYS | NEG_NOHDRS | NEG_NOEOH | NEG_NOBODY, buf, sizeof buf);
    assert_string_equal(buf, "NOBODY NOHDRS NOEOH NOUNKNOWN NODATA NR_CONN NR_HELO NR_MAIL "
                             "(0x7370)");
    /* a short buffer: cut, terminated, no overrun */
    memset(small, 'x', sizeof small);
    neg_format(ALWAYS, small, sizeof small);
    assert_int_equal(small[sizeof small - 1], '\0');
    assert_true(strlen(small) < sizeof small);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_greylisting_only), cmocka_unit_test(test_dnsbl_only),
        cmocka_unit_test(test_spf_only),         cmocka_unit_test(test_iprev_only),
        cmocka_unit_test(test_dkim),             cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_offered_less),     cmocka_unit_test(test_never_asked),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
