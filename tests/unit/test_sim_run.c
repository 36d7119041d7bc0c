/*
 * NAME
 *   test_sim_run - a short seeded greyrep-sim run, and the goals it meets
 * DESCRIPTION
 *   4,000 messages over 10 days from the shipped mix's classes, replayed
 *   through the four modes in this process (each with its own LMDB store),
 *   exactly as greyrep-sim does in its children.  The figures are counts
 *   from deterministic code, so they are asserted:
 *   - greyrep's defaults meet the goals that today's policy can meet
 *     (bots stopped, pools delivered on the first proper retry, new
 *     senders delayed no more than one retry interval of their MTA);
 *   - the goals today's policy misses are asserted as missed and named on
 *     stdout ("KNOWN MISS"), so that the change that mends one also has to
 *     mend this test;
 *   - postgrey-like and milter-greylist-like fail the pool goal that
 *     greyrep meets (the reason greyrep keys SPF-validated senders by
 *     domain);
 *   - the same seed gives the same figures twice, another seed others.
 */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "config.h"
#include "sim/sim.h"
#include "sim/sim_report.h"
#include "sim/sim_run.h"
#include "unit_util.h"

/* The shipped mix (etc/greyrep-sim.mix), one line per model. */
static const char mix_text[] =
    "postfix            postfix                 60      2.0     2\n"
    "exim               exim                    40      2.0     2\n"
    "sendmail           sendmail                15      2.0     2\n"
    "exchange           exchange                30      3.0     3\n"
    "gmail-like         gmail-like             400      0.5     2\n"
    "o365-like          o365-like              200      0.8     3\n"
    "bulk-verp          bulk-verp               20     10       1\n"
    "selfhosted-ptr     selfhosted-ptr          30      0.5     1\n"
    "selfhosted-noptr   selfhosted-noptr        10      0.5     1\n"
    "bot-noretry        bot-noretry          30000      0.05    3\n"
    "bot-early          bot-early             5000      0.05    3\n"
    "bot-retry          bot-retry             5000      0.05    3\n"
    "snowshoe           snowshoe                10     30       2\n"
    "trap-spammer       trap-spammer            20      5       3\n"
    "backscatter        backscatter            100      1       1\n";

#define SEED 7
#define MESSAGES 4000
#define DAYS 10

struct run {
    struct sim_mix mix;
    struct sim_mode_def modes[SIM_MAX_MODES];
    struct sim_mode_result res[SIM_MAX_MODES];
    int nmodes;
};

/* run_all - the traffic of seed through every standard mode */
static void run_all(struct run *r, uint64_t seed)
{
    char dir[PATH_MAX], file[PATH_MAX + 16], err[600];
    struct sim_traffic t;

    memset(r, 0, sizeof *r);
    unit_tmpdir(dir, sizeof dir);
    unit_write(dir, "check.mix", mix_text, file, sizeof file);
    assert_int_equal(sim_mix_load(file, &r->mix, err, sizeof err), 0);
    r->nmodes = sim_modes_build(r->modes, SIM_MAX_MODES, NULL);
    assert_int_equal(r->nmodes, 4);
    assert_int_equal(sim_traffic_build(&t, &r->mix, seed, MESSAGES, DAYS), 0);
    assert_true(t.nmsgs >= MESSAGES - 10 && t.nmsgs <= MESSAGES + 10);
    /* the stores in memory when possible, as greyrep-sim puts them */
    char shm[64] = "/dev/shm/test_sim_run.XXXXXX";
    const char *base = mkdtemp(shm) != NULL ? shm : dir;
    for (int i = 0; i < r->nmodes; i++) {
        char sub[PATH_MAX + 8];
        snprintf(sub, sizeof sub, "%s/m%d", base, i);
        assert_int_equal(mkdir(sub, 0700), 0);
        snprintf(r->res[i].name, sizeof r->res[i].name, "%s", r->modes[i].name);
        r->res[i].selective_missing = r->modes[i].selective_missing;
        assert_int_equal(sim_mode_run(&t, r->modes[i].cfg, sub, &r->res[i], err, sizeof err),
                         0);
        cfg_free(r->modes[i].cfg);
    }
    sim_traffic_free(&t);
    if (base == shm)
        unit_rmtree(shm);
    unit_rmtree(dir);
}

/* goal - the state of goal id (the n-th of that id) in mode i */
static const struct sim_goal *goal(const struct run *r, int i, const char *id, int nth,
                                   struct sim_goal *g)
{
    int n = sim_goals(&r->mix, &r->res[i], g, SIM_MAX_GOALS);
    for (int j = 0; j < n; j++)
        if (strcmp(g[j].id, id) == 0 && nth-- == 0)
            return &g[j];
    fail_msg("no goal %s", id);
    return NULL;
}

/* class_of - the index of a class label */
static unsigned class_of(const struct run *r, const char *label)
{
    for (unsigned c = 0; c < r->mix.n; c++)
        if (strcmp(r->mix.c[c].label, label) == 0)
            return c;
    fail_msg("no class %s", label);
    return 0;
}

static struct run *the_run;

static int setup(void **state)
{
    (void)state;
    the_run = calloc(1, sizeof *the_run);
    if (the_run == NULL)
        return -1;
    run_all(the_run, SEED);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(the_run);
    return 0;
}

static void test_every_message_accounted(void **state)
{
    const struct run *r = the_run;
    (void)state;
    for (int i = 0; i < r->nmodes; i++) {
        uint64_t sent = 0;
        for (unsigned c = 0; c < r->mix.n; c++) {
            const struct sim_class_result *k = &r->res[i].cls[c];
            assert_int_equal(k->sent, k->delivered + k->stopped);
            sent += k->sent;
        }
        assert_true(sent >= MESSAGES - 10);
    }
}

static void test_greyrep_goals_met(void **state)
{
    const struct run *r = the_run;
    struct sim_goal g[SIM_MAX_GOALS];
    (void)state;
    assert_string_equal(r->res[0].name, "greyrep");
    assert_int_equal(goal(r, 0, "bot_noretry_stopped", 0, g)->state, GOAL_MET);
    assert_int_equal(goal(r, 0, "bot_early_stopped", 0, g)->state, GOAL_MET);
    assert_int_equal(goal(r, 0, "pool_first_retry", 0, g)->state, GOAL_MET);
    /* new senders: every legitimate class but selfhosted-noptr (index 8) */
    for (int k = 0; k < 9; k++) {
        const struct sim_goal *x = goal(r, 0, "new_sender_delay", k, g);
        if (k == 8) {
            assert_non_null(strstr(x->text, "selfhosted-noptr"));
            continue;
        }
        if (x->state != GOAL_MET)
            fail_msg("%s: %.1f", x->text, x->value);
    }
}

static void test_greyrep_known_misses(void **state)
{
    const struct run *r = the_run;
    struct sim_goal g[SIM_MAX_GOALS];
    const struct sim_goal *x;
    (void)state;
    /* established senders writing to a new correspondent, and VERP
     * senders with letters in their per-message token, are greylisted
     * like strangers: the reputation work is meant to mend this */
    x = goal(r, 0, "good_history_delayed", 0, g);
    assert_int_equal(x->state, GOAL_MISSED);
    printf("KNOWN MISS (greyrep defaults): %.1f %s\n", x->value, x->text);
    /* a server without PTR waits suspicious_delay (30 min), more than
     * one Postfix retry interval */
    x = goal(r, 0, "new_sender_delay", 8, g);
    assert_int_equal(x->state, GOAL_MISSED);
    assert_true(x->value >= 1800);
    printf("KNOWN MISS (greyrep defaults): %.1f %s\n", x->value, x->text);
    /* no selective key and no greytraps in this build */
    assert_int_equal(goal(r, 1, "selective_pass_zero", 0, g)->state, GOAL_NA);
    assert_int_equal(goal(r, 0, "trap_stopped", 0, g)->state, GOAL_NA);
}

static void test_comparisons(void **state)
{
    const struct run *r = the_run;
    struct sim_goal g[SIM_MAX_GOALS];
    unsigned o365 = class_of(r, "o365-like");
    (void)state;
    assert_string_equal(r->res[2].name, "postgrey-like");
    assert_string_equal(r->res[3].name, "milter-greylist-like");
    /* the pools' retries from other networks never match a /24 or /32 */
    assert_int_equal(goal(r, 2, "pool_first_retry", 0, g)->state, GOAL_MISSED);
    assert_int_equal(goal(r, 3, "pool_first_retry", 0, g)->state, GOAL_MISSED);
    /* every retry from another /32 for 2 days: most is never delivered */
    assert_true(r->res[3].cls[o365].stopped * 2 > r->res[3].cls[o365].sent);
    assert_int_equal(r->res[0].cls[o365].stopped, 0);
    /* every mode stops the bots that never retry */
    for (int i = 0; i < r->nmodes; i++)
        assert_int_equal(goal(r, i, "bot_noretry_stopped", 0, g)->state, GOAL_MET);
    /* selective mode is the defaults until the key exists: same figures */
    assert_memory_equal(r->res[0].cls, r->res[1].cls, sizeof r->res[0].cls);
}

static void test_deterministic(void **state)
{
    struct run *again = calloc(1, sizeof *again);
    (void)state;
    assert_non_null(again);
    run_all(again, SEED);
    for (int i = 0; i < again->nmodes; i++)
        assert_memory_equal(again->res[i].cls, the_run->res[i].cls, sizeof again->res[i].cls);
    run_all(again, SEED + 1);
    assert_memory_not_equal(again->res[0].cls, the_run->res[0].cls, sizeof again->res[0].cls);
    free(again);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_message_accounted),
        cmocka_unit_test(test_greyrep_goals_met),
        cmocka_unit_test(test_greyrep_known_misses),
        cmocka_unit_test(test_comparisons),
        cmocka_unit_test(test_deterministic),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
