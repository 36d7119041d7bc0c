/*
 * NAME
 *   test_sim_models - the retry schedules and addresses of greyrep-sim's
 *   sender models
 * DESCRIPTION
 *   Each legitimate MTA model is walked attempt by attempt from a first
 *   attempt at t = 0 (queue-runner phase 0) and compared with the
 *   documented defaults it claims (greyrep-sim(8)): Postfix's backoff
 *   doubling from 300 s to 4000 s on 300 s queue scans and its 5 d
 *   lifetime, Exim's F,2h,15m; G,16h,1h,1.5; F,4d,6h on a 30 min queue
 *   runner, Sendmail's -q15m with a 5 d return, Exchange's 15 min retry and
 *   2 d expiry; the bots' schedules; the pools' addresses; the mix file's
 *   FILE:LINE errors and the PRNG's determinism.
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

#include "facts.h"
#include "sim/sim.h"
#include "unit_util.h"

#define MIN 60
#define HOUR 3600
#define DAY 86400

/* schedule - the attempt times of sender model m until it gives up */
static size_t schedule(enum sim_model m, time_t *out, size_t max)
{
    struct sim_sender s = {m, 0, 0, 0, 0, 1};
    struct sim_rng r;
    time_t last = 0;
    size_t n = 0;
    out[n++] = 0;
    for (unsigned k = 1; n < max; k++) {
        sim_rng_seed(&r, 42, k, 0, 0);
        time_t t = sim_model_next(&s, 0, last, k, &r);
        if (t < 0)
            break;
        assert_true(t > last);
        out[n++] = last = t;
    }
    return n;
}

static void test_postfix(void **state)
{
    time_t t[4096];
    size_t n = schedule(M_POSTFIX, t, 4096);
    (void)state;
    /* backoff = age clamped to [300, 4000], then the next 300 s scan */
    static const time_t want[] = {0, 300, 600, 1200, 2400, 4800, 9000, 13200};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_int_equal(t[i], want[i]);
    for (size_t i = 6; i < n; i++) {
        assert_true(t[i] - t[i - 1] >= 4000);
        assert_true(t[i] - t[i - 1] < 4300);
        assert_int_equal(t[i] % 300, 0);
    }
    assert_true(t[n - 1] <= 5 * DAY);
    assert_true(t[n - 1] > 5 * DAY - 4300);
}

static void test_exim(void **state)
{
    time_t t[4096];
    size_t n = schedule(M_EXIM, t, 4096);
    (void)state;
    /* 15 min retries, each waiting for the next 30 min queue run */
    assert_int_equal(t[1], 30 * MIN);
    assert_int_equal(t[2], 60 * MIN);
    for (size_t i = 1; i < n; i++)
        assert_int_equal(t[i] % (30 * MIN), 0);
    /* after 2 h the gaps grow by 1.5 (rounded up to queue runs) ... */
    size_t g = 0;
    while (t[g] < 2 * HOUR)
        g++;
    assert_true(t[g + 1] - t[g] >= HOUR);
    assert_true(t[g + 2] - t[g + 1] >= (time_t)(1.5 * HOUR));
    /* ... and after 16 h they are 6 h (plus the wait for a queue run) */
    for (size_t i = 1; i < n; i++)
        if (t[i - 1] >= 16 * HOUR) {
            assert_true(t[i] - t[i - 1] >= 6 * HOUR);
            assert_true(t[i] - t[i - 1] <= 6 * HOUR + 30 * MIN);
        }
    assert_true(t[n - 1] <= 4 * DAY);
    assert_true(t[n - 1] > 4 * DAY - 7 * HOUR);
}

static void test_sendmail(void **state)
{
    time_t t[4096];
    size_t n = schedule(M_SENDMAIL, t, 4096);
    (void)state;
    for (size_t i = 1; i < n; i++)
        assert_int_equal(t[i] - t[i - 1], 15 * MIN);
    assert_int_equal(t[n - 1], 5 * DAY);
}

static void test_exchange(void **state)
{
    time_t t[4096];
    size_t n = schedule(M_EXCHANGE, t, 4096);
    (void)state;
    for (size_t i = 1; i < n; i++)
        assert_int_equal(t[i] - t[i - 1], 15 * MIN);
    assert_int_equal(t[n - 1], 2 * DAY);
    assert_int_equal(n, 2 * DAY / (15 * MIN) + 1);
}

static void test_queue_phase(void **state)
{
    /* a Postfix whose queue scans run at :07 past each 300 s */
    struct sim_sender s = {M_POSTFIX, 0, 0, 0, 7, 1};
    struct sim_rng r;
    (void)state;
    sim_rng_seed(&r, 1, 0, 0, 0);
    assert_int_equal(sim_model_next(&s, 1000, 1000, 1, &r), 1507);
}

static void test_bots(void **state)
{
    time_t t[64];
    (void)state;
    assert_int_equal(schedule(M_BOT_NORETRY, t, 64), 1);
    assert_int_equal(schedule(M_BOT_EARLY, t, 64), 2);
    assert_true(t[1] >= 30 && t[1] < 240);
    size_t n = schedule(M_BOT_RETRY, t, 64);
    assert_int_equal(n, 5);
    for (size_t i = 1; i < n; i++)
        assert_true(t[i] - t[i - 1] >= 10 * MIN && t[i] - t[i - 1] < 20 * MIN);
}

static void test_pools(void **state)
{
    struct sim_sender g = {M_GMAIL, 0, 3, 0, 0, 1}, o = {M_O365, 1, 5, 0, 0, 1};
    struct sim_rng r;
    unsigned nets = 0;
    uint32_t seen[32];
    (void)state;
    /* Gmail-like: any of 64 addresses of 209.85.128.0/20 */
    for (unsigned k = 0; k < 32; k++) {
        sim_rng_seed(&r, 9, 1, k, 0);
        uint32_t a = sim_model_client(&g, 7, k, &r);
        assert_int_equal(a >> 12, (209u << 12) | (85u << 4) | 8u);
    }
    /* Office-365-like: retries from other /24s */
    for (unsigned k = 0; k < 32; k++) {
        sim_rng_seed(&r, 9, 2, k, 0);
        uint32_t a = sim_model_client(&o, 7, k, &r) >> 8;
        int dup = 0;
        for (unsigned j = 0; j < nets; j++)
            dup |= seen[j] == a;
        if (!dup)
            seen[nets++] = a;
    }
    assert_true(nets >= 30);
}

static void test_dns_facts(void **state)
{
    struct sim_sender s = {M_SELF_NOPTR, 0, 0, 0, 0, 1}, b = {M_BACKSCATTER, 0, 0, 0, 0, 1};
    struct sim_dns d;
    char from[200];
    (void)state;
    sim_model_dns(&s, 0x11000019, 0, &d);
    assert_int_equal(d.ptr, PTR_NONE);
    s.model = M_GMAIL;
    sim_model_dns(&s, 0xd1558010, 0, &d);
    assert_int_equal(d.ptr, PTR_MATCH);
    assert_int_equal(d.spf, SPF_PASS);
    assert_true(d.dkim_pass);
    sim_model_sender(&b, 1, 0, 0, from, sizeof from);
    assert_string_equal(from, "");
}

static void test_rng(void **state)
{
    struct sim_rng a, b;
    (void)state;
    sim_rng_seed(&a, 5, 1, 2, 3);
    sim_rng_seed(&b, 5, 1, 2, 3);
    for (int i = 0; i < 100; i++)
        assert_int_equal(sim_rng_next(&a), sim_rng_next(&b));
    sim_rng_seed(&b, 6, 1, 2, 3);
    assert_int_not_equal(sim_rng_next(&a), sim_rng_next(&b));
    for (int i = 0; i < 1000; i++) {
        assert_true(sim_rng_below(&a, 7) < 7);
        double u = sim_rng_unit(&a);
        assert_true(u >= 0 && u < 1);
    }
}

/* mix_error_of - load text as a mix file; the error, or "" */
static void mix_error_of(const char *text, char *err, size_t len)
{
    char dir[PATH_MAX], file[PATH_MAX + 16];
    struct sim_mix mix;
    unit_tmpdir(dir, sizeof dir);
    unit_write(dir, "m.mix", text, file, sizeof file);
    err[0] = '\0';
    if (sim_mix_load(file, &mix, err, len) == 0)
        snprintf(err, len, "ok %u %s %.0f", mix.n, mix.c[0].label, mix.c[0].weight);
    else if (strncmp(err, file, strlen(file)) == 0)
        memmove(err, err + strlen(dir) + 1, strlen(err + strlen(dir) + 1) + 1);
    unit_rmtree(dir);
}

static void test_mix(void **state)
{
    char err[600];
    (void)state;
    mix_error_of("# c\n\npf postfix 10 2 1 # comment\nb bot-early 5 1 3\n", err, sizeof err);
    assert_string_equal(err, "ok 2 pf 20");
    mix_error_of("pf postfix 10 2\n", err, sizeof err);
    assert_string_equal(err, "m.mix:1: want LABEL MODEL SENDERS PER_DAY RCPTS");
    mix_error_of("\npf qmail 10 2 1\n", err, sizeof err);
    assert_string_equal(err, "m.mix:2: unknown sender model 'qmail'");
    mix_error_of("pf postfix 0 2 1\n", err, sizeof err);
    assert_string_equal(err, "m.mix:1: SENDERS must be 1..100000, not '0'");
    mix_error_of("pf postfix 1 2x 1\n", err, sizeof err);
    assert_string_equal(err, "m.mix:1: PER_DAY must be 0.001..100000, not '2x'");
    mix_error_of("pf postfix 1 nan 1\n", err, sizeof err);
    assert_string_equal(err, "m.mix:1: PER_DAY must be 0.001..100000, not 'nan'");
    mix_error_of("pf postfix 1 1 9\n", err, sizeof err);
    assert_string_equal(err, "m.mix:1: RCPTS must be 1..8, not '9'");
    mix_error_of("pf postfix 1 1 1\npf exim 1 1 1\n", err, sizeof err);
    assert_string_equal(err, "m.mix:2: label used twice 'pf'");
    mix_error_of("p<f postfix 1 1 1\n", err, sizeof err);
    assert_string_equal(err, "m.mix:1: bad character in label 'p<f'");
    mix_error_of("# nothing\n", err, sizeof err);
    assert_string_equal(err, "m.mix:1: no classes");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_postfix),    cmocka_unit_test(test_exim),
        cmocka_unit_test(test_sendmail),   cmocka_unit_test(test_exchange),
        cmocka_unit_test(test_queue_phase), cmocka_unit_test(test_bots),
        cmocka_unit_test(test_pools),      cmocka_unit_test(test_dns_facts),
        cmocka_unit_test(test_rng),        cmocka_unit_test(test_mix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
