/*
 * NAME
 *   test_decide_rep - reputation inside decide_rcpt(), decide_eom() and
 *   decide_expired(), with a real LMDB store
 * DESCRIPTION
 *   The clock is passed in.  A sender that retries properly earns trust
 *   and then skips greylisting; with [reputation] enabled = no nothing is
 *   learnt or used; a rate limit refuses with R_RATE; a static and an
 *   admin greytrap refuse the trap recipient and make the client's address
 *   and network bad (bad_action reject gives V_REJECT); a suspicious
 *   history overrides the client auto-whitelist; the deferred decision
 *   accepts at RCPT and decide_eom() passes its triplet on an aligned DKIM
 *   pass or refuses without one; an expired pending triplet counts as an
 *   abandonment and a passed one does not; an undecodable reputation
 *   record is treated as absent; greyrepctl check's explanation names
 *   every identity.
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
#include "decide.h"
#include "record.h"
#include "reputation.h"
#include "store.h"
#include "util.h"
#include "whitelist.h"
#include "unit_util.h"

#define NOW ((time_t)1700000000)
#define HOUR 3600
#define DAY 86400

struct fixture {
    char dir[PATH_MAX];
    struct cfg *cfg;
    struct store *st;
    struct decider *d;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct cfg_store cs;
    char err[512] = "";

    if (f == NULL)
        return -1;
    unit_tmpdir(f->dir, sizeof f->dir);
    f->cfg = cfg_defaults();
    cs = f->cfg->store;
    cs.backend = BACKEND_LMDB;
    if ((size_t)snprintf(cs.path, sizeof cs.path, "%s/db", f->dir) >= sizeof cs.path)
        return -1;
    cs.map_size = 1 << 22;
    if ((f->st = store_open(&cs, err, sizeof err)) == NULL) {
        fprintf(stderr, "store_open: %s\n", err);
        return -1;
    }
    if ((f->d = decider_new(f->st)) == NULL)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    decider_free(f->d);
    store_close(f->st);
    cfg_free(f->cfg);
    unit_rmtree(f->dir);
    free(f);
    return 0;
}

struct msg {
    struct env_addr sender, rcpt;
    struct msg_facts facts;
    struct decide_input in;
};

/* msg - one recipient's inputs; spf: an SPF-pass domain or NULL */
static struct decide_input *msg(struct msg *m, const char *client, const char *sender,
                                const char *rcpt, const char *spf)
{
    memset(m, 0, sizeof *m);
    assert_int_equal(net_parse(client, &m->facts.client), 0);
    m->facts.client_ip = 1;
    if (spf != NULL) {
        m->facts.spf_done = 1;
        m->facts.spf = SPF_PASS;
        snprintf(m->facts.spf_domain, sizeof m->facts.spf_domain, "%s", spf);
    }
    env_parse(sender, &m->sender);
    env_parse(rcpt, &m->rcpt);
    m->in.facts = &m->facts;
    m->in.sender = &m->sender;
    m->in.rcpt = &m->rcpt;
    return &m->in;
}

static struct verdict decide(struct fixture *f, const char *client, const char *sender,
                             const char *rcpt, const char *spf, time_t now)
{
    struct msg m;
    struct verdict v;
    decide_rcpt(f->d, f->cfg, msg(&m, client, sender, rcpt, spf), now, 0, &v, NULL, 0);
    return v;
}

#define EXPECT(v, act, rsn)                                                         \
    do {                                                                            \
        if ((v).action != (act) || (v).reason != (rsn))                            \
            fail_msg("line %d: verdict %d/%s (%s), want %d/%s", __LINE__, (v).action, \
                     policy_reason_name((v).reason), (v).why, (act),                 \
                     policy_reason_name(rsn));                                      \
    } while (0)

/* rep_get - one identity's record from the store; 0 if found */
static int rep_get(struct fixture *f, const char *identity, struct rep_rec *r)
{
    struct rep_id id;
    const char *why;
    unsigned char val[STORE_MAX_VALUE];
    size_t len = sizeof val;
    assert_int_equal(rep_parse_identity(&f->cfg->grey, identity, &id, &why), 0);
    if (store_get(f->st, id.key, val, &len, NULL, NOW) != STORE_OK)
        return -1;
    assert_int_equal(rep_rec_decode(val, len, r), 0);
    return 0;
}

/* rep_put - store a record with some history for an identity */
static void rep_put(struct fixture *f, const char *identity, float passes, float abandoned,
                    time_t first_seen, time_t now)
{
    struct rep_id id;
    const char *why;
    struct rep_rec r;
    unsigned char val[REP_REC_MAX];
    assert_int_equal(rep_parse_identity(&f->cfg->grey, identity, &id, &why), 0);
    rep_rec_new(&f->cfg->rep, &r, first_seen);
    r.decayed_at = (uint64_t)now;
    r.passes = passes;
    r.abandoned = abandoned;
    assert_int_equal(store_put(f->st, id.key, val, rep_rec_encode(&r, val), 0), STORE_OK);
}

/* test_earn_trust - proper retries, day after day, until a new recipient
 * is accepted at once on the sender's history */
static void test_earn_trust(void **state)
{
    struct fixture *f = *state;
    struct verdict v;
    struct rep_rec r;
    char rcpt[64];
    time_t t = NOW;
    int day;

    f->cfg->grey.auto_whitelist = 0;   /* reputation alone */
    for (day = 0; day < 10; day++, t += DAY) {
        snprintf(rcpt, sizeof rcpt, "<user%d@here.example>", day);
        v = decide(f, "192.0.2.10", "<news@example.co.uk>", rcpt, "bounce.example.co.uk", t);
        if (v.reason == R_REP_TRUSTED)
            break;
        EXPECT(v, V_TEMPFAIL, R_GREY_NEW);
        assert_true(v.assessed && v.trust == REP_NEUTRAL);
        v = decide(f, "192.0.2.10", "<news@example.co.uk>", rcpt, "bounce.example.co.uk",
                   t + 600);
        EXPECT(v, V_ACCEPT, R_GREY_PASSED);
    }
    /* min_messages 5 (decayed passes: five a day apart are 4.7) and
     * min_age 2 days: the seventh day */
    if (day != 6)
        fail_msg("trusted on day %d, want 6", day);
    assert_true(v.trust == REP_TRUSTED);
    assert_non_null(strstr(v.why, "spf:example.co.uk"));
    assert_int_equal(rep_get(f, "spf:example.co.uk", &r), 0);
    assert_true(r.passes > 4.9 && r.spf_pass > 5.5);
    assert_int_equal(rep_get(f, "from:example.co.uk", &r), 0);
    assert_int_equal(rep_get(f, "ip:192.0.2.10", &r), 0);
    assert_int_equal(rep_get(f, "net:192.0.2.0/24", &r), 0);
    /* the DKIM candidate is only read */
    assert_int_equal(rep_get(f, "dkim:example.co.uk", &r), -1);
    /* without the SPF pass the same client is trusted too: its address
     * and network earned the same history */
    v = decide(f, "192.0.2.10", "<other@else.example>", "<x@here.example>", NULL, t);
    EXPECT(v, V_ACCEPT, R_REP_TRUSTED);
    /* a client of another network with a forged sender is greylisted */
    v = decide(f, "203.0.113.9", "<news@example.co.uk>", "<x@here.example>", NULL, t);
    EXPECT(v, V_TEMPFAIL, R_GREY_NEW);
}

/* test_message_learning - the message counts at its first recipient
 * taken by greylisting; end of message without signatures writes nothing */
static void test_message_learning(void **state)
{
    struct fixture *f = *state;
    struct msg m;
    struct verdict v;
    struct rep_rec r;
    char keys[DECIDE_DEFER_MAX][STORE_MAX_KEY], why[300];

    v = decide(f, "192.0.2.90", "<a@example.org>", "<b@here.example>", NULL, NOW);
    EXPECT(v, V_TEMPFAIL, R_GREY_NEW);
    assert_int_equal(rep_get(f, "ip:192.0.2.90", &r), -1);   /* only knocked */
    decide_rcpt(f->d, f->cfg, msg(&m, "192.0.2.90", "<a@example.org>", "<b@here.example>",
                                  NULL), NOW + 600, 0, &v, NULL, 0);
    EXPECT(v, V_ACCEPT, R_GREY_PASSED);
    assert_int_equal(rep_get(f, "ip:192.0.2.90", &r), 0);
    assert_true(r.accepted == 1 && r.passes == 1 && r.rcpts == 1);
    /* the message's second recipient: a recipient, not a message */
    m.in.rcpt_index = 1;
    m.in.earned = 1;
    decide_rcpt(f->d, f->cfg, &m.in, NOW + 601, 0, &v, NULL, 0);
    EXPECT(v, V_ACCEPT, R_GREY_KNOWN);
    assert_int_equal(rep_get(f, "ip:192.0.2.90", &r), 0);
    assert_true(r.accepted < 1.001 && r.rcpts > 1.99);
    /* end of message, no signature: nothing more to learn */
    assert_int_equal(decide_eom(f->d, f->cfg, &m.facts, &m.sender, keys, 0, 1, 1, NOW + 602,
                                why, sizeof why),
                     V_ACCEPT);
    struct rep_rec after;
    assert_int_equal(rep_get(f, "ip:192.0.2.90", &after), 0);
    assert_memory_equal(&r, &after, sizeof r);
}

/* test_disabled - with [reputation] enabled = no nothing is learnt */
static void test_disabled(void **state)
{
    struct fixture *f = *state;
    struct verdict v;
    struct rep_rec r;

    f->cfg->rep.enabled = 0;
    rep_put(f, "ip:192.0.2.20", 50, 0, NOW - 30 * DAY, NOW);
    v = decide(f, "192.0.2.20", "<a@example.org>", "<b@here.example>", NULL, NOW);
    EXPECT(v, V_TEMPFAIL, R_GREY_NEW);
    assert_int_equal(rep_get(f, "from:example.org", &r), -1);
    assert_int_equal(rep_get(f, "ip:192.0.2.20", &r), 0);
    assert_true(r.passes == 50);     /* untouched */
}

static void test_rate_limit(void **state)
{
    struct fixture *f = *state;
    struct verdict v;
    char rcpt[64];

    f->cfg->grey.delay = 0;          /* every first attempt passes */
    f->cfg->rep.rl_enabled = 1;
    f->cfg->rep.rl_burst = 3;
    f->cfg->rep.rl_rate = 36;        /* one token every 100 s */
    for (int i = 0; i < 3; i++) {
        snprintf(rcpt, sizeof rcpt, "<u%d@here.example>", i);
        v = decide(f, "198.51.100.5", "<a@fresh.example>", rcpt, "fresh.example", NOW);
        EXPECT(v, V_ACCEPT, R_GREY_PASSED);
    }
    v = decide(f, "198.51.100.5", "<a@fresh.example>", "<u9@here.example>", "fresh.example",
               NOW);
    EXPECT(v, V_TEMPFAIL, R_RATE);
    assert_non_null(strstr(v.why, "sends more than its limit"));
    v = decide(f, "198.51.100.5", "<a@fresh.example>", "<u9@here.example>", "fresh.example",
               NOW + 100);
    EXPECT(v, V_ACCEPT, R_GREY_PASSED);
    /* a refusal cost nothing: one more token 100 s later */
    v = decide(f, "198.51.100.5", "<a@fresh.example>", "<u8@here.example>", "fresh.example",
               NOW + 101);
    EXPECT(v, V_TEMPFAIL, R_RATE);
}

static void test_greytraps(void **state)
{
    struct fixture *f = *state;
    struct verdict v;
    struct rep_rec r;
    const char *why;
    char key[STORE_MAX_KEY];
    unsigned char val[] = {1};

    assert_int_equal(wl_add(f->cfg->greytraps, WL_RCPT, "trap@example.org", 0, &why), 0);
    v = decide(f, "203.0.113.7", "<a@example.com>", "<Trap@Example.ORG>", NULL, NOW);
    EXPECT(v, V_TEMPFAIL, R_TRAP);
    assert_int_equal(v.remaining, f->cfg->grey.delay);   /* looks like greylisting */
    assert_int_equal(rep_get(f, "ip:203.0.113.7", &r), 0);
    assert_true(r.trap_hits == 1 && r.penalty_until == (uint64_t)(NOW + DAY));
    /* forgeable: not blamed (and a sender that did nothing else gets no record) */
    assert_int_equal(rep_get(f, "from:example.com", &r), -1);
    /* the client's other mail, and its network's */
    v = decide(f, "203.0.113.7", "<a@example.com>", "<real@here.example>", NULL, NOW + 1);
    EXPECT(v, V_TEMPFAIL, R_REP_BAD);
    v = decide(f, "203.0.113.200", "<z@other.example>", "<real@here.example>", NULL, NOW + 2);
    EXPECT(v, V_TEMPFAIL, R_REP_BAD);
    f->cfg->rep.bad_action = ACT_REJECT;
    v = decide(f, "203.0.113.200", "<z@other.example>", "<real@here.example>", NULL, NOW + 3);
    EXPECT(v, V_REJECT, R_REP_BAD);
    /* the penalty ends: the trap hit still weighs (score 16.7 < 20) until
     * it decays */
    v = decide(f, "203.0.113.200", "<z@other.example>", "<real@here.example>", NULL,
               NOW + DAY + 10);
    EXPECT(v, V_REJECT, R_REP_BAD);
    assert_non_null(strstr(v.why, "bad-history"));
    v = decide(f, "203.0.113.200", "<z@other.example>", "<real@here.example>", NULL,
               NOW + 90 * DAY);
    EXPECT(v, V_TEMPFAIL, R_GREY_NEW);
    /* an admin trap (greyrepctl greytrap add) */
    assert_int_equal(decide_greytrap_key("@Traps.Example", key, sizeof key, &why), 0);
    assert_string_equal(key, "g|@traps.example");
    assert_int_equal(store_put(f->st, key, val, sizeof val, 0), STORE_OK);
    v = decide(f, "192.0.2.77", "<a@example.net>", "<any@traps.example>", NULL, NOW);
    EXPECT(v, V_TEMPFAIL, R_TRAP);
    assert_int_equal(decide_greytrap_key("local@", key, sizeof key, &why), -1);
    assert_int_equal(decide_greytrap_key("not an address", key, sizeof key, &why), -1);
}

/* test_suspicious_beats_auto - an auto-whitelisted client with a poor
 * history is greylisted with suspicious_delay */
static void test_suspicious_beats_auto(void **state)
{
    struct fixture *f = *state;
    struct rec_client c = {NOW - 60, NOW - 60, 10};
    unsigned char val[REC_MAX];
    struct verdict v;

    assert_int_equal(store_put(f->st, "c|192.0.2.30", val, rec_client_encode(&c, val), 0),
                     STORE_OK);
    v = decide(f, "192.0.2.30", "<a@example.org>", "<b@here.example>", NULL, NOW);
    EXPECT(v, V_ACCEPT, R_AUTO);     /* as before reputation */
    assert_true(v.assessed && v.trust == REP_TRUSTED);
    rep_put(f, "ip:192.0.2.30", 0, 4, NOW - DAY, NOW);
    rep_put(f, "net:192.0.2.0/24", 0, 4, NOW - DAY, NOW);
    v = decide(f, "192.0.2.30", "<a@example.org>", "<c@here.example>", NULL, NOW);
    EXPECT(v, V_TEMPFAIL, R_GREY_NEW);
    assert_int_equal(v.remaining, f->cfg->grey.suspicious_delay);
    assert_true(v.trust == REP_SUSPICIOUS);
}

/* test_deferred - accept at RCPT on the sender domain's DKIM history,
 * decide at end of message */
static void test_deferred(void **state)
{
    struct fixture *f = *state;
    struct msg m;
    struct verdict v;
    char keys[DECIDE_DEFER_MAX][STORE_MAX_KEY], why[300];
    unsigned char val[STORE_MAX_VALUE];
    size_t len;
    struct rec_triplet t;

    f->cfg->rep.defer_dkim = 1;
    rep_put(f, "dkim:example.com", 20, 0, NOW - 30 * DAY, NOW);
    /* a later recipient after a plain accept may not be deferred */
    decide_rcpt(f->d, f->cfg, msg(&m, "192.0.2.40", "<a@example.com>", "<u1@here.example>",
                                  NULL), NOW, 0, &v, NULL, 0);
    EXPECT(v, V_TEMPFAIL, R_GREY_NEW);
    m.in.defer_ok = 1;
    m.rcpt.local[1] = '2';
    decide_rcpt(f->d, f->cfg, &m.in, NOW, 0, &v, NULL, 0);
    EXPECT(v, V_ACCEPT, R_DEFER);
    assert_true(v.trust == REP_DEFER);
    assert_true(strncmp(v.defer_key, "t|", 2) == 0);
    util_strlcpy(keys[0], v.defer_key, sizeof keys[0]);
    /* end of message without a signature: 451, the triplet stays pending */
    assert_int_equal(decide_eom(f->d, f->cfg, &m.facts, &m.sender, keys, 1, 1, 0, NOW + 1, why,
                                sizeof why),
                     V_TEMPFAIL);
    assert_non_null(strstr(why, "example.com"));
    len = sizeof val;
    assert_int_equal(store_get(f->st, keys[0], val, &len, NULL, NOW + 1), STORE_OK);
    assert_int_equal(rec_triplet_decode(val, len, &t), 0);
    assert_int_equal(t.passes, 0);
    /* signed by a subdomain of the sender's: aligned; the triplet passes */
    m.facts.dkim_done = 1;
    m.facts.dkim_n = 1;
    m.facts.dkim[0].result = DKIMV_PASS;
    snprintf(m.facts.dkim[0].domain, sizeof m.facts.dkim[0].domain, "mail.example.com");
    assert_int_equal(decide_eom(f->d, f->cfg, &m.facts, &m.sender, keys, 1, 1, 0, NOW + 2, why,
                                sizeof why),
                     V_ACCEPT);
    len = sizeof val;
    assert_int_equal(store_get(f->st, keys[0], val, &len, NULL, NOW + 2), STORE_OK);
    assert_int_equal(rec_triplet_decode(val, len, &t), 0);
    assert_int_equal(t.passes, 1);
    /* and the message was learnt: one accepted message for dkim:example.com */
    struct rep_rec r;
    assert_int_equal(rep_get(f, "dkim:example.com", &r), 0);
    assert_true(r.accepted > 0.99 && r.dkim_pass > 0.99);
    /* signed by another domain: not aligned */
    snprintf(m.facts.dkim[0].domain, sizeof m.facts.dkim[0].domain, "esp.example.net");
    assert_int_equal(decide_eom(f->d, f->cfg, &m.facts, &m.sender, keys, 1, 1, 0, NOW + 3, why,
                                sizeof why),
                     V_TEMPFAIL);
    /* defer_dkim off: plain greylisting */
    f->cfg->rep.defer_dkim = 0;
    m.rcpt.local[1] = '3';
    decide_rcpt(f->d, f->cfg, &m.in, NOW, 0, &v, NULL, 0);
    EXPECT(v, V_TEMPFAIL, R_GREY_NEW);
}

/* test_expired - the sweep's report of an expired triplet */
static void test_expired(void **state)
{
    struct fixture *f = *state;
    struct rec_triplet t = {NOW, NOW, 0};
    unsigned char val[REC_MAX];
    size_t n = rec_triplet_encode(&t, val);
    const char *key = "t|192.0.2.0/24|a@news.example.co.uk|b@here.example";
    const char *spfkey = "t|spf:bounce.example.org|a@example.org|b@here.example";
    struct rep_rec r;

    assert_int_equal(decide_expired(f->d, f->cfg, key, strlen(key), val, n, NOW + 2 * DAY), 1);
    assert_int_equal(rep_get(f, "net:192.0.2.0/24", &r), 0);
    assert_true(r.abandoned == 1);
    assert_int_equal(rep_get(f, "from:example.co.uk", &r), 0);
    assert_true(r.abandoned == 1);
    decide_expired(f->d, f->cfg, spfkey, strlen(spfkey), val, n, NOW + 2 * DAY);
    assert_int_equal(rep_get(f, "spf:example.org", &r), 0);
    assert_true(r.abandoned == 1);
    /* a passed triplet that ran out is no abandonment; garbage is ignored */
    t.passes = 3;
    n = rec_triplet_encode(&t, val);
    assert_int_equal(decide_expired(f->d, f->cfg, key, strlen(key), val, n, NOW + 40 * DAY), 0);
    assert_int_equal(decide_expired(f->d, f->cfg, "t|x", 3, "zz", 2, NOW), 0);
    decide_expired(f->d, f->cfg, "t||||", 5, val, n, NOW);
    assert_int_equal(rep_get(f, "net:192.0.2.0/24", &r), 0);
    assert_true(r.abandoned == 1);
}

/* test_bad_record - a record that does not decode is absent, and replaced */
static void test_bad_record(void **state)
{
    struct fixture *f = *state;
    static const unsigned char garbage[85] = {99};
    struct verdict v;
    struct rep_rec r;

    assert_int_equal(store_put(f->st, "r|ip|192.0.2.60", garbage, sizeof garbage, 0),
                     STORE_OK);
    v = decide(f, "192.0.2.60", "<a@example.org>", "<b@here.example>", NULL, NOW);
    EXPECT(v, V_TEMPFAIL, R_GREY_NEW);
    assert_true(v.bad_record);
    /* replaced by a good record; a new identity that only knocked gets none */
    assert_int_equal(rep_get(f, "ip:192.0.2.60", &r), 0);
    assert_int_equal(rep_get(f, "net:192.0.2.0/24", &r), -1);
}

static void test_explain(void **state)
{
    struct fixture *f = *state;
    struct msg m;
    struct verdict v;
    char explain[4096];

    decide_rcpt(f->d, f->cfg, msg(&m, "2001:db8:5::1", "<a@example.co.uk>", "<b@here.example>",
                                  "example.co.uk"),
                NOW, 1, &v, explain, sizeof explain);
    assert_non_null(strstr(explain, "reputation: neutral (new), score 50.0"));
    assert_non_null(strstr(explain, "reputation: ip:2001:db8:5::1 "));
    assert_non_null(strstr(explain, "reputation: net:2001:db8:5::/64 "));
    assert_non_null(strstr(explain, "reputation: spf:example.co.uk "));
    assert_non_null(strstr(explain, "(DKIM candidate, read only)"));
    /* a dry run writes nothing */
    struct rep_rec r;
    assert_int_equal(rep_get(f, "ip:2001:db8:5::1", &r), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_earn_trust, setup, teardown),
        cmocka_unit_test_setup_teardown(test_message_learning, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disabled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_greytraps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_suspicious_beats_auto, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deferred, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_explain, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
