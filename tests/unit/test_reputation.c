/*
 * NAME
 *   test_reputation - unit tests of reputation.c (and its config keys)
 * DESCRIPTION
 *   Table-driven, with an injected clock: decay, scores, trust levels
 *   (every rule), token buckets (new and established identities),
 *   identities from facts (co.uk-style organisational domains, IPv6
 *   networks, the null sender, generic names, DKIM at end of message),
 *   the record encoding (round trip; short, long, newer and garbage
 *   records), the learning plans at RCPT, end of message and expiry, and
 *   the [reputation] / [ratelimit] / [greytrap] keys with their FILE:LINE
 *   errors.
 */
#include "autoconf.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "reputation.h"
#include "whitelist.h"
#include "unit_util.h"

#define T0 ((time_t)1700000000)
#define HOUR 3600
#define DAY 86400

/* defaults - the shipped defaults, so the tests also pin them */
static struct cfg_rep defaults(void)
{
    struct cfg *cfg = cfg_defaults();
    struct cfg_rep c = cfg->rep;
    cfg_free(cfg);
    return c;
}

static struct cfg_greylist grey(void)
{
    struct cfg_greylist g = {.delay = 300, .retry_window = 2 * DAY, .pass_lifetime = 35 * DAY,
                             .ipv4_prefix = 24, .ipv6_prefix = 64, .auto_whitelist = 5};
    return g;
}

/* facts - a message from ip with the given results */
static void facts(struct msg_facts *f, const char *ip, const char *ptr, int generic,
                  const char *spf_pass_domain)
{
    memset(f, 0, sizeof *f);
    if (ip != NULL) {
        f->client_ip = 1;
        assert_int_equal(net_parse(ip, &f->client), 0);
    }
    if (ptr != NULL) {
        f->iprev_done = 1;
        f->iprev = IPREV_PASS;
        snprintf(f->iprev_host, sizeof f->iprev_host, "%s", ptr);
        f->generic = generic;
    }
    if (spf_pass_domain != NULL) {
        f->spf_done = 1;
        f->spf = SPF_PASS;
        snprintf(f->spf_domain, sizeof f->spf_domain, "%s", spf_pass_domain);
    }
}

static void add_dkim(struct msg_facts *f, enum dkimv_status r, const char *d)
{
    f->dkim_done = 1;
    f->dkim[f->dkim_n].result = r;
    snprintf(f->dkim[f->dkim_n].domain, sizeof f->dkim[0].domain, "%s", d);
    f->dkim_n++;
}

/* find - index of identity kind:value in ids, or -1 */
static int find(const struct rep_ids *ids, enum rep_kind k, const char *value)
{
    for (int i = 0; i < ids->n; i++)
        if (ids->id[i].kind == k && strcmp(ids->id[i].value, value) == 0)
            return i;
    return -1;
}

/* ---- decay ------------------------------------------------------------- */

static void test_decay(void **state)
{
    static const struct {
        unsigned half_life;
        time_t dt;
        double want;     /* of a counter that was 8 */
        double want_rate; /* of a rate that was 8/h */
    } cases[] = {
        {30 * DAY, 0, 8, 8},
        {30 * DAY, 30 * DAY, 4, 0},
        {30 * DAY, 60 * DAY, 2, 0},
        {30 * DAY, 15 * DAY, 8 / M_SQRT2, 0},
        {DAY, DAY, 4, 0},
        {DAY, HOUR, 8 * exp2(-1.0 / 24), 4},
        {DAY, 2 * HOUR, 8 * exp2(-2.0 / 24), 2},
        {DAY, -HOUR, 8, 8},    /* clock went backwards: nothing decays */
    };
    struct cfg_rep c = defaults();
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct rep_rec r;
        rep_rec_new(&c, &r, T0);
        c.half_life = cases[i].half_life;
        r.accepted = r.passes = r.abandoned = r.trap_hits = r.rcpts = 8;
        r.spf_pass = r.spf_fail = r.dkim_pass = r.dkim_fail = 8;
        r.rate = 8;
        r.tokens = 7;
        rep_decay(&c, &r, T0 + cases[i].dt);
        float *all[] = {&r.accepted, &r.passes,    &r.abandoned, &r.trap_hits, &r.rcpts,
                        &r.spf_pass, &r.spf_fail, &r.dkim_pass, &r.dkim_fail};
        for (size_t k = 0; k < sizeof all / sizeof *all; k++)
            if (fabs(*all[k] - cases[i].want) > 1e-4)
                fail_msg("case %zu counter %zu: %f, want %f", i, k, *all[k], cases[i].want);
        if (fabs(r.rate - cases[i].want_rate) > 1e-3 && cases[i].want_rate > 0)
            fail_msg("case %zu rate %f, want %f", i, r.rate, cases[i].want_rate);
        assert_true(r.tokens == 7);  /* the bucket has its own clock */
        assert_true(r.decayed_at == (uint64_t)(cases[i].dt > 0 ? T0 + cases[i].dt : T0));
    }
    {
        /* decaying twice in steps equals decaying once */
        struct rep_rec a, b;
        c.half_life = 7 * DAY;
        rep_rec_new(&c, &a, T0);
        a.passes = 10;
        b = a;
        rep_decay(&c, &a, T0 + 3 * DAY);
        rep_decay(&c, &a, T0 + 10 * DAY);
        rep_decay(&c, &b, T0 + 10 * DAY);
        assert_true(fabs(a.passes - b.passes) < 1e-4);
    }
}

/* ---- scores ------------------------------------------------------------ */

static void test_score(void **state)
{
    static const struct {
        enum rep_kind kind;
        float passes, accepted, abandoned, spf_fail, dkim_fail, traps;
        double want;
    } cases[] = {
        {REP_IP, 0, 0, 0, 0, 0, 0, 50},
        {REP_IP, 5, 0, 0, 0, 0, 0, 75},
        {REP_IP, 3, 2, 0, 0, 0, 0, 50 + 50 * 3.0 / 8},   /* counted once */
        {REP_IP, 2, 5, 0, 0, 0, 0, 75},
        {REP_IP, 0, 0, 5, 0, 0, 0, 25},
        {REP_IP, 0, 0, 0, 5, 0, 0, 25},
        {REP_IP, 0, 0, 0, 0, 5, 0, 25},
        {REP_IP, 0, 0, 0, 0, 0, 1, 50 - 50 * 10.0 / 15},
        {REP_IP, 95, 0, 0, 0, 0, 0, 97.5},
        {REP_IP, 5, 0, 5, 0, 0, 0, 50},
        /* from: SPF/DKIM fails and traps are the forger's, not the domain's */
        {REP_FROM, 0, 0, 0, 5, 5, 1, 50},
        {REP_FROM, 0, 0, 5, 0, 0, 0, 25},
    };
    struct cfg_rep c = defaults();
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct rep_rec r;
        rep_rec_new(&c, &r, T0);
        r.passes = cases[i].passes;
        r.accepted = cases[i].accepted;
        r.abandoned = cases[i].abandoned;
        r.spf_fail = cases[i].spf_fail;
        r.dkim_fail = cases[i].dkim_fail;
        r.trap_hits = cases[i].traps;
        if (fabs(rep_score(cases[i].kind, &r) - cases[i].want) > 1e-6)
            fail_msg("case %zu: score %f, want %f", i, rep_score(cases[i].kind, &r),
                     cases[i].want);
    }
}

/* test_established - the minimum history, case by case */
static void test_established(void **state)
{
    static const struct {
        enum rep_kind kind;
        float passes, accepted, abandoned;
        time_t age;
        uint64_t penalty_left;
        int want;
    } cases[] = {
        {REP_SPF, 5, 0, 0, 2 * DAY, 0, 1},
        {REP_SPF, 1, 5, 0, 2 * DAY, 0, 1},
        {REP_SPF, 1, 4, 0, 2 * DAY, 0, 0},      /* a pass and its message count once */
        {REP_SPF, 0, 9, 0, 2 * DAY, 0, 0},      /* never passed greylisting */
        {REP_SPF, 4, 0, 0, 2 * DAY, 0, 0},      /* too little */
        {REP_SPF, 5, 0, 0, 2 * DAY - 1, 0, 0},  /* too young */
        {REP_SPF, 5, 0, 1, 30 * DAY, 0, 0},     /* score 50+50*4/11 < 75 */
        {REP_SPF, 20, 0, 1, 30 * DAY, 0, 1},
        {REP_SPF, 20, 0, 0, 36 * DAY, 0, 0},    /* silent over trust_lifetime */
        {REP_IP, 5, 0, 0, 2 * DAY, 60, 0},      /* under a trap penalty */
        {REP_IP, 5, 0, 0, 2 * DAY, 0, 1},
        {REP_FROM, 50, 50, 0, 90 * DAY, 0, 0},  /* never: unauthenticated */
    };
    struct cfg_rep c = defaults();
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct rep_rec r;
        time_t now = T0 + cases[i].age;
        rep_rec_new(&c, &r, T0);
        r.passes = cases[i].passes;
        r.accepted = cases[i].accepted;
        r.abandoned = cases[i].abandoned;
        r.decayed_at = (uint64_t)now;
        r.penalty_until = cases[i].penalty_left ? (uint64_t)now + cases[i].penalty_left : 0;
        if (rep_established(&c, cases[i].kind, &r, now) != cases[i].want)
            fail_msg("case %zu: established %d, want %d", i, !cases[i].want, cases[i].want);
    }
}

/* ---- trust levels ------------------------------------------------------ */

/* One identity's stored history in a trust-level case. */
struct hist {
    enum rep_kind kind;
    float passes, accepted, abandoned, traps;
    time_t age;          /* first seen this long before now; 0 = not stored */
    int penalty;         /* under a greytrap penalty */
};

static void test_levels(void **state)
{
    static const struct {
        const char *name;
        int enabled, selective, defer, auto_listed;
        const char *ptr;
        int generic;
        const char *spf;
        struct hist h[4];
        enum rep_level want;
        const char *rule;
    } cases[] = {
        {"new sender", 1, 0, 0, 0, NULL, 0, NULL, {{0}}, REP_NEUTRAL, "new"},
        {"established spf domain", 1, 0, 0, 0, NULL, 0, "example.co.uk",
         {{REP_SPF, 10, 10, 0, 0, 10 * DAY, 0}}, REP_TRUSTED, "history"},
        {"established spf domain, new ip", 1, 0, 0, 0, NULL, 0, "example.co.uk",
         {{REP_SPF, 10, 10, 0, 0, 10 * DAY, 0}, {REP_IP, 0, 0, 0, 0, HOUR, 0}},
         REP_TRUSTED, "history"},
        {"established ip", 1, 0, 0, 0, NULL, 0, NULL, {{REP_IP, 6, 0, 0, 0, 3 * DAY, 0}},
         REP_TRUSTED, "history"},
        {"young history", 1, 0, 0, 0, NULL, 0, NULL, {{REP_IP, 6, 0, 0, 0, DAY, 0}},
         REP_NEUTRAL, "neutral"},
        {"reputation off", 0, 0, 0, 0, NULL, 0, NULL, {{REP_IP, 60, 0, 0, 0, 30 * DAY, 0}},
         REP_NEUTRAL, "new"},
        {"from domain alone never trusts", 1, 0, 0, 0, NULL, 0, NULL,
         {{REP_FROM, 60, 60, 0, 0, 90 * DAY, 0}}, REP_NEUTRAL, "neutral"},
        {"forged from domain: suspicious, never bad", 1, 0, 0, 0, NULL, 0, NULL,
         {{REP_FROM, 0, 0, 500, 0, 90 * DAY, 0}}, REP_SUSPICIOUS, "poor-history"},
        {"abandonments: suspicious", 1, 0, 0, 0, NULL, 0, NULL,
         {{REP_IP, 0, 0, 4, 0, DAY, 0}}, REP_SUSPICIOUS, "poor-history"},
        {"many abandonments: bad", 1, 0, 0, 0, NULL, 0, NULL,
         {{REP_IP, 0, 0, 8, 0, DAY, 0}, {REP_NET, 0, 0, 8, 0, DAY, 0}}, REP_BAD,
         "bad-history"},
        {"one abandonment among nine passes", 1, 0, 0, 0, NULL, 0, NULL,
         {{REP_IP, 9, 0, 1, 0, 5 * DAY, 0}}, REP_TRUSTED, "history"},
        {"one abandonment among six passes", 1, 0, 0, 0, NULL, 0, NULL,
         {{REP_IP, 6, 0, 1, 0, 5 * DAY, 0}}, REP_NEUTRAL, "neutral"},
        {"greytrap penalty on the network", 1, 0, 0, 0, NULL, 0, "example.com",
         {{REP_SPF, 50, 50, 0, 0, 30 * DAY, 0}, {REP_NET, 0, 0, 0, 1, HOUR, 1}}, REP_BAD,
         "greytrap"},
        {"greytrap penalty with reputation off", 0, 0, 0, 0, NULL, 0, NULL,
         {{REP_IP, 0, 0, 0, 1, HOUR, 1}}, REP_BAD, "greytrap"},
        {"penalty over, trap hit remembered", 1, 0, 0, 0, NULL, 0, NULL,
         {{REP_IP, 0, 0, 0, 1, 2 * DAY, 0}}, REP_BAD, "bad-history"},
        {"auto-whitelisted client", 1, 0, 0, 1, NULL, 0, NULL, {{0}}, REP_TRUSTED,
         "auto-whitelist"},
        {"auto-whitelisted, reputation off", 0, 0, 0, 1, NULL, 0, NULL, {{0}}, REP_TRUSTED,
         "auto-whitelist"},
        {"auto-whitelisted but poor history", 1, 0, 0, 1, NULL, 0, NULL,
         {{REP_IP, 0, 0, 4, 0, DAY, 0}}, REP_SUSPICIOUS, "poor-history"},
        {"selective: rDNS + SPF", 1, 1, 0, 0, "mail.example.co.uk", 0, "example.co.uk", {{0}},
         REP_TRUSTED, "selective"},
        {"selective: generic rDNS", 1, 1, 0, 0, "dsl-1.isp.example", 1, "example.co.uk", {{0}},
         REP_NEUTRAL, "new"},
        {"selective: no SPF", 1, 1, 0, 0, "mail.example.co.uk", 0, NULL, {{0}}, REP_NEUTRAL,
         "new"},
        {"selective off", 1, 0, 0, 0, "mail.example.co.uk", 0, "example.co.uk", {{0}},
         REP_NEUTRAL, "new"},
        {"selective but bad history", 1, 1, 0, 0, "mail.example.co.uk", 0, "example.co.uk",
         {{REP_IP, 0, 0, 8, 0, DAY, 0}, {REP_NET, 0, 0, 8, 0, DAY, 0}}, REP_BAD,
         "bad-history"},
        {"dkim candidate: defer", 1, 0, 1, 0, NULL, 0, NULL,
         {{REP_DKIM, 10, 10, 0, 0, 10 * DAY, 0}}, REP_DEFER, "dkim-defer"},
        {"dkim candidate, defer off", 1, 0, 0, 0, NULL, 0, NULL,
         {{REP_DKIM, 10, 10, 0, 0, 10 * DAY, 0}}, REP_NEUTRAL, "new"},
        {"dkim candidate too young", 1, 0, 1, 0, NULL, 0, NULL,
         {{REP_DKIM, 10, 10, 0, 0, HOUR, 0}}, REP_NEUTRAL, "new"},
    };
    struct cfg_greylist g = grey();
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct cfg_rep c = defaults();
        struct msg_facts f;
        struct env_addr sender;
        struct rep_ids ids;
        struct rep_rec recs[REP_MAX_IDS];
        int found[REP_MAX_IDS] = {0};
        struct rep_assessment a;
        time_t now = T0 + 100 * DAY;

        c.enabled = cases[i].enabled;
        c.selective = cases[i].selective;
        c.defer_dkim = cases[i].defer;
        facts(&f, "192.0.2.10", cases[i].ptr, cases[i].generic, cases[i].spf);
        env_parse("<alice@example.co.uk>", &sender);
        rep_identities(&g, &f, &sender, REP_AT_RCPT, &ids);
        for (int h = 0; h < 4 && cases[i].h[h].age > 0; h++) {
            const struct hist *hi = &cases[i].h[h];
            int k = -1;
            for (int j = 0; j < ids.n; j++)
                if (ids.id[j].kind == hi->kind)
                    k = j;
            if (k < 0)
                fail_msg("%s: no identity of kind %s", cases[i].name, rep_kind_name(hi->kind));
            rep_rec_new(&c, &recs[k], now - hi->age);
            recs[k].decayed_at = (uint64_t)now;
            recs[k].passes = hi->passes;
            recs[k].accepted = hi->accepted;
            recs[k].abandoned = hi->abandoned;
            recs[k].trap_hits = hi->traps;
            recs[k].penalty_until = hi->penalty ? (uint64_t)now + HOUR : 0;
            found[k] = 1;
        }
        rep_assess(&c, &f, &ids, recs, found, cases[i].auto_listed, now, &a);
        if (a.level != cases[i].want || strcmp(a.rule, cases[i].rule) != 0)
            fail_msg("%s: %s (%s), want %s (%s), score %.1f", cases[i].name,
                     rep_level_name(a.level), a.rule, rep_level_name(cases[i].want),
                     cases[i].rule, a.score);
        assert_false(a.rate_limited);   /* [ratelimit] is off by default */
    }
}

/* test_message_score - the weighted mean ignores identities without history */
static void test_message_score(void **state)
{
    struct cfg_rep c = defaults();
    struct cfg_greylist g = grey();
    struct msg_facts f;
    struct env_addr sender;
    struct rep_ids ids;
    struct rep_rec recs[REP_MAX_IDS];
    int found[REP_MAX_IDS] = {0};
    struct rep_assessment a;
    int spf, ip;
    (void)state;

    facts(&f, "192.0.2.10", NULL, 0, "example.com");
    env_parse("<a@example.com>", &sender);
    rep_identities(&g, &f, &sender, REP_AT_RCPT, &ids);
    spf = find(&ids, REP_SPF, "example.com");
    ip = find(&ids, REP_IP, "192.0.2.10");
    assert_true(spf >= 0 && ip >= 0);
    rep_rec_new(&c, &recs[spf], T0);
    recs[spf].passes = 20;            /* score 50 + 50 * 20/25 = 90 */
    found[spf] = 1;
    rep_rec_new(&c, &recs[ip], T0);
    recs[ip].abandoned = 5;           /* score 25, full confidence */
    found[ip] = 1;
    rep_assess(&c, &f, &ids, recs, found, 0, T0, &a);
    /* (3 * 90 + 2 * 25) / 5 = 64 */
    assert_true(fabs(a.score - 64.0) < 1e-6);
    assert_true(fabs(a.id_score[spf] - 90.0) < 1e-6);
    assert_int_equal(a.level, REP_NEUTRAL);
    /* half the evidence: half the weight */
    recs[ip].abandoned = 2.5f;
    recs[ip].decayed_at = recs[spf].decayed_at = (uint64_t)T0;
    rep_assess(&c, &f, &ids, recs, found, 0, T0, &a);
    assert_true(fabs(a.score - (3 * 90 + 1 * (50 - 50 * 2.5 / 7.5)) / 4.0) < 1e-4);
}

/* ---- rate limits ------------------------------------------------------- */

/* rcpt_at - assess and, unless limited, learn one accepted recipient */
static int rcpt_at(const struct cfg_rep *c, const struct rep_ids *ids, struct rep_rec *recs,
                   int *found, int auto_listed, time_t now)
{
    struct rep_assessment a;
    struct rep_lesson l[REP_MAX_LESSONS];
    struct rep_rcpt_outcome o = {1, 0, 0, 0};
    int n;

    rep_assess(c, NULL, ids, recs, found, auto_listed, now, &a);
    if (a.rate_limited)
        return 0;
    n = rep_plan_rcpt(ids, NULL, &o, l, REP_MAX_LESSONS);
    rep_apply(c, ids, recs, l, n, now);
    for (int i = 0; i < ids->n; i++)
        found[i] = 1;
    return 1;
}

static void test_bucket_new_identity(void **state)
{
    struct cfg_rep c = defaults();
    struct cfg_greylist g = grey();
    struct msg_facts f;
    struct env_addr sender;
    struct rep_ids ids;
    struct rep_rec recs[REP_MAX_IDS];
    int found[REP_MAX_IDS] = {0}, ok = 0;
    (void)state;

    c.rl_enabled = 1;
    c.rl_rate = 100;    /* an hour: one token every 36 s */
    c.rl_burst = 50;
    facts(&f, "2001:db8:1:2::25", NULL, 0, "new.example.co.uk");
    env_parse("<a@new.example.co.uk>", &sender);
    rep_identities(&g, &f, &sender, REP_AT_RCPT, &ids);
    /* a burst of 80 recipients in one second: the bucket holds 50 */
    for (int i = 0; i < 80; i++)
        ok += rcpt_at(&c, &ids, recs, found, 0, T0);
    assert_int_equal(ok, 50);
    /* 35 s later: still under one token; 36 s: exactly one */
    assert_int_equal(rcpt_at(&c, &ids, recs, found, 0, T0 + 35), 0);
    assert_int_equal(rcpt_at(&c, &ids, recs, found, 0, T0 + 36), 1);
    assert_int_equal(rcpt_at(&c, &ids, recs, found, 0, T0 + 36), 0);
    /* an hour later the bucket is full again, and no fuller */
    ok = 0;
    for (int i = 0; i < 80; i++)
        ok += rcpt_at(&c, &ids, recs, found, 0, T0 + 36 + 10 * HOUR);
    assert_int_equal(ok, 50);
    /* refused recipients cost nothing; the rate estimate saw 101 */
    assert_true(fabs(recs[find(&ids, REP_IP, "2001:db8:1:2::25")].rcpts
                     - (51 * exp2(-10.0 * HOUR / (30.0 * DAY)) + 50)) < 0.01);
    /* the from identity has no bucket: a forger cannot empty it */
    assert_true(recs[find(&ids, REP_FROM, "example.co.uk")].tokens == 50);
}

static void test_bucket_established(void **state)
{
    struct cfg_rep c = defaults();
    struct cfg_greylist g = grey();
    struct msg_facts f;
    struct rep_ids ids;
    struct rep_rec recs[REP_MAX_IDS];
    int found[REP_MAX_IDS] = {0}, ok = 0, spf, ip;
    double usual;
    time_t now = T0 + 60 * DAY;
    (void)state;

    c.rl_enabled = 1;
    c.rl_rate = 100;
    c.rl_burst = 50;
    c.rl_multiple = 3;
    facts(&f, "198.51.100.7", NULL, 0, "big.example");
    rep_identities(&g, &f, NULL, REP_AT_RCPT, &ids);
    spf = find(&ids, REP_SPF, "big.example");
    ip = find(&ids, REP_IP, "198.51.100.7");
    assert_true(spf >= 0 && ip >= 0);
    /* a domain that usually sends 1000 recipients an hour */
    rep_rec_new(&c, &recs[spf], T0);
    recs[spf].decayed_at = recs[spf].bucket_at = recs[spf].last_seen = (uint64_t)now;
    recs[spf].passes = 100;
    recs[spf].accepted = 1000;
    recs[spf].rcpts = (float)(1000.0 * c.half_life / 3600 / M_LN2);
    recs[spf].tokens = 0;
    found[spf] = 1;
    usual = rep_usual_rate(&c, &recs[spf]);
    assert_true(fabs(usual - 1000) < 1);
    assert_true(rep_established(&c, REP_SPF, &recs[spf], now));
    /* an hour after its last mail: the bucket holds about 3 * 1000 (one
     * hour of the raised refill; the usual rate decayed by an hour:
     * 2997); its new outbound address rides on the domain */
    now += HOUR;
    for (int i = 0; i < 3100; i++)
        ok += rcpt_at(&c, &ids, recs, found, 0, now);
    if (ok < 2990 || ok > 3010)
        fail_msg("established burst: %d accepted, want 3000", ok);
    /* the ip bucket was not consulted, but it was charged */
    assert_true(recs[ip].tokens == 0);
    /* without the domain, the same address is a new identity: 50 */
    facts(&f, "198.51.100.7", NULL, 0, NULL);
    rep_identities(&g, &f, NULL, REP_AT_RCPT, &ids);
    memset(found, 0, sizeof found);
    ok = 0;
    for (int i = 0; i < 100; i++)
        ok += rcpt_at(&c, &ids, recs, found, 0, now);
    assert_int_equal(ok, 50);
    /* an auto-whitelisted client counts as established for its address:
     * its net bucket (new) still limits it */
    memset(found, 0, sizeof found);
    ok = 0;
    for (int i = 0; i < 100; i++)
        ok += rcpt_at(&c, &ids, recs, found, 1, now);
    assert_int_equal(ok, 50);
}

/* test_bucket_semantics - rep_bucket itself: capacity, refill, clock */
static void test_bucket_semantics(void **state)
{
    static const struct {
        float tokens;
        time_t dt;
        int established;
        double want;
    } cases[] = {
        {0, 0, 0, 0},
        {0, 36, 0, 1},
        {0, 18, 0, 0.5},
        {0, 100 * HOUR, 0, 50},   /* capped at burst */
        {50, -100, 0, 50},        /* clock backwards: no refill, no loss */
        {10, 360, 0, 20},
    };
    struct cfg_rep c = defaults();
    (void)state;
    c.rl_rate = 100;
    c.rl_burst = 50;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct rep_rec r;
        rep_rec_new(&c, &r, T0);
        r.tokens = cases[i].tokens;
        double t = rep_bucket(&c, REP_IP, &r, T0 + cases[i].dt, cases[i].established);
        if (fabs(t - cases[i].want) > 1e-3)
            fail_msg("case %zu: %f tokens, want %f", i, t, cases[i].want);
        assert_true(r.bucket_at == (uint64_t)(cases[i].dt > 0 ? T0 + cases[i].dt : T0));
    }
    assert_true(defaults().rl_burst == 50 && defaults().rl_rate == 100);
}

/* ---- identities -------------------------------------------------------- */

static void test_identities(void **state)
{
    struct cfg_greylist g = grey();
    struct msg_facts f;
    struct env_addr sender;
    struct rep_ids ids;
    int i;
    (void)state;

    /* IPv4, verified rDNS under co.uk, SPF pass, sender below co.uk */
    facts(&f, "192.0.2.10", "mx1.mail.example.co.uk", 0, "bounce.example.co.uk");
    env_parse("<Alice@News.Example.CO.UK>", &sender);
    assert_int_equal(rep_identities(&g, &f, &sender, REP_AT_RCPT, &ids), 6);
    assert_string_equal(ids.id[0].key, "r|ip|192.0.2.10");
    assert_string_equal(ids.id[1].key, "r|net|192.0.2.0/24");
    assert_string_equal(ids.id[2].key, "r|ptr|example.co.uk");
    assert_string_equal(ids.id[3].key, "r|spf|example.co.uk");
    assert_string_equal(ids.id[4].key, "r|from|example.co.uk");
    assert_string_equal(ids.id[5].key, "r|dkim|example.co.uk");
    assert_true(ids.id[5].candidate);
    assert_string_equal(ids.sender_org, "example.co.uk");

    /* IPv6 network at the /64 prefix; generic rDNS gives no ptr identity */
    facts(&f, "2001:db8:1:2:a:b:c:d", "host-2001-db8.dyn.isp.example", 1, NULL);
    env_parse("<>", &sender);
    assert_int_equal(rep_identities(&g, &f, &sender, REP_AT_RCPT, &ids), 2);
    assert_string_equal(ids.id[0].key, "r|ip|2001:db8:1:2:a:b:c:d");
    assert_string_equal(ids.id[1].key, "r|net|2001:db8:1:2::/64");
    assert_string_equal(ids.sender_org, "");   /* <>: no from, no candidate */

    /* IPv4-mapped client: IPv4 prefix */
    facts(&f, "::ffff:198.51.100.9", NULL, 0, NULL);
    rep_identities(&g, &f, NULL, REP_AT_RCPT, &ids);
    assert_int_equal(find(&ids, REP_NET, "198.51.100.0/24"), 1);

    /* iprev fail: no ptr identity even with a host name */
    facts(&f, "192.0.2.10", "mail.example.com", 0, NULL);
    f.iprev = IPREV_FAIL;
    rep_identities(&g, &f, NULL, REP_AT_RCPT, &ids);
    assert_int_equal(ids.n, 2);

    /* an SPF fail is no spf identity; an address-literal sender no from */
    facts(&f, "192.0.2.10", NULL, 0, "example.com");
    f.spf = SPF_FAIL;
    env_parse("<a@[192.0.2.1]>", &sender);
    rep_identities(&g, &f, &sender, REP_AT_RCPT, &ids);
    assert_int_equal(ids.n, 2);

    /* end of message: DKIM passes by org domain, deduplicated, no
     * candidate; a failed signature is no identity */
    facts(&f, "192.0.2.10", NULL, 0, NULL);
    add_dkim(&f, DKIMV_PASS, "mail.example.co.uk");
    add_dkim(&f, DKIMV_PASS, "example.co.uk");
    add_dkim(&f, DKIMV_PASS, "esp.example.net");
    add_dkim(&f, DKIMV_FAIL, "forged.example.org");
    env_parse("<a@example.co.uk>", &sender);
    rep_identities(&g, &f, &sender, REP_AT_EOM, &ids);
    assert_int_equal(ids.n, 5);
    assert_true(find(&ids, REP_DKIM, "example.co.uk") >= 0);
    assert_true(find(&ids, REP_DKIM, "example.net") >= 0);
    assert_true(find(&ids, REP_DKIM, "example.org") < 0);
    for (i = 0; i < ids.n; i++)
        assert_false(ids.id[i].candidate);
    assert_true(rep_dkim_aligned(&ids, &f));
    env_parse("<a@other.example>", &sender);
    rep_identities(&g, &f, &sender, REP_AT_EOM, &ids);
    assert_false(rep_dkim_aligned(&ids, &f));

    /* no facts at all (not an IP client) */
    rep_identities(&g, NULL, NULL, REP_AT_RCPT, &ids);
    assert_int_equal(ids.n, 0);
}

/* test_keys - hostile values stay bounded and escaped */
static void test_keys(void **state)
{
    char key[REP_KEY_MAX], big[400];
    (void)state;
    assert_int_equal(rep_make_key(REP_PTR, "a|b%c", key, sizeof key), 0);
    assert_string_equal(key, "r|ptr|a%7Cb%25c");
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(rep_make_key(REP_FROM, big, key, sizeof key), 0);
    assert_true(strlen(key) < 200);
    assert_non_null(strchr(key, '#'));
    assert_int_equal(rep_make_key(REP_FROM, "", key, sizeof key), -1);
    /* what greyrepctl load accepts as a reputation key */
    assert_true(rep_key_ok("r|ip|192.0.2.1"));
    assert_true(rep_key_ok("r|net|2001:db8::/64"));
    assert_true(rep_key_ok("r|dkim|example.co.uk"));
    assert_true(rep_key_ok("r|ptr|a%7Cb%25c"));
    assert_false(rep_key_ok("r|host|example.com"));
    assert_false(rep_key_ok("r|ip|"));
    assert_false(rep_key_ok("r|ip|a|b"));
    assert_false(rep_key_ok("r|ip|a b"));
    assert_false(rep_key_ok("r|ip"));
    assert_false(rep_key_ok("t|ip|192.0.2.1"));
    assert_int_equal(rep_make_key(REP_FROM, big, key, sizeof key), 0);
    assert_true(rep_key_ok(key));
    assert_int_equal(rep_make_key(REP_NKINDS, "x", key, sizeof key), -1);
}

static void test_parse_identity(void **state)
{
    static const struct {
        const char *text, *key; /* key NULL: invalid */
    } cases[] = {
        {"ip:192.0.2.1", "r|ip|192.0.2.1"},
        {"ip:[2001:DB8::1]", "r|ip|2001:db8::1"},
        {"net:192.0.2.77", "r|net|192.0.2.0/24"},
        {"net:192.0.2.0/24", "r|net|192.0.2.0/24"},
        {"net:2001:db8::/48", "r|net|2001:db8::/48"},
        {"ptr:mx.Example.co.uk", "r|ptr|example.co.uk"},
        {"spf:example.com", "r|spf|example.com"},
        {"dkim:sub.example.com", "r|dkim|example.com"},
        {"from:example.com.", "r|from|example.com"},
        {"ip:999.1.1.1", NULL},
        {"ip:", NULL},
        {"net:192.0.2.0/33", NULL},
        {"ptr:co.uk", NULL},
        {"spf:bad|name", NULL},
        {"host:example.com", NULL},
        {"example.com", NULL},
        {"", NULL},
    };
    struct cfg_greylist g = grey();
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct rep_id id;
        const char *why = NULL;
        int rc = rep_parse_identity(&g, cases[i].text, &id, &why);
        if (cases[i].key == NULL ? rc != -1 || why == NULL
                                 : rc != 0 || strcmp(id.key, cases[i].key) != 0)
            fail_msg("%s: rc %d key %s why %s", cases[i].text, rc, rc == 0 ? id.key : "-",
                     why ? why : "-");
    }
}

/* ---- records ----------------------------------------------------------- */

static void test_record_round_trip(void **state)
{
    struct cfg_rep c = defaults();
    struct rep_rec r, back;
    unsigned char buf[REP_REC_MAX];
    size_t n;
    (void)state;

    rep_rec_new(&c, &r, T0);
    r.last_seen = T0 + 5;
    r.decayed_at = T0 + 4;
    r.bucket_at = T0 + 3;
    r.penalty_until = T0 + DAY;
    r.accepted = 1.5f;
    r.passes = 2.25f;
    r.abandoned = 3;
    r.spf_pass = 4;
    r.spf_fail = 5;
    r.dkim_pass = 6;
    r.dkim_fail = 7;
    r.trap_hits = 8;
    r.rcpts = 1e6f;
    r.rate = 0.125f;
    r.tokens = 49.5f;
    n = rep_rec_encode(&r, buf);
    assert_int_equal(n, 85);
    assert_true(n <= REP_REC_MAX);
    assert_int_equal(buf[0], REP_REC_VERSION);
    assert_int_equal(rep_rec_decode(buf, n, &back), 0);
    assert_memory_equal(&r, &back, sizeof r);
    assert_true(rep_rec_expires(&c, &r) == (time_t)(T0 + 5 + 4 * 30 * DAY));
    r.penalty_until = T0 + 400 * DAY;
    assert_true(rep_rec_expires(&c, &r) == (time_t)(T0 + 400 * DAY));
}

static void test_record_bad(void **state)
{
    struct cfg_rep c = defaults();
    struct rep_rec r, back;
    unsigned char buf[REP_REC_MAX + 8], nan_bits[4] = {0x7f, 0xc0, 0, 0},
                                        neg_one[4] = {0xbf, 0x80, 0, 0},
                                        inf[4] = {0x7f, 0x80, 0, 0};
    size_t n;
    (void)state;

    rep_rec_new(&c, &r, T0);
    n = rep_rec_encode(&r, buf);
    assert_int_equal(rep_rec_decode(buf, n - 1, &back), -1);   /* short */
    assert_int_equal(rep_rec_decode(buf, n + 1, &back), -1);   /* long */
    assert_int_equal(rep_rec_decode(buf, 0, &back), -1);
    assert_int_equal(rep_rec_decode(buf, 21, &back), -1);      /* a triplet's size */
    buf[0] = REP_REC_VERSION + 1;                              /* a newer greyrep */
    assert_int_equal(rep_rec_decode(buf, n, &back), -1);
    buf[0] = 0;
    assert_int_equal(rep_rec_decode(buf, n, &back), -1);
    buf[0] = REP_REC_VERSION;
    memcpy(buf + 41, nan_bits, 4);
    assert_int_equal(rep_rec_decode(buf, n, &back), -1);
    memcpy(buf + 45, neg_one, 4);
    memset(buf + 41, 0, 4);
    assert_int_equal(rep_rec_decode(buf, n, &back), -1);
    memset(buf + 45, 0, 4);
    memcpy(buf + 81, inf, 4);
    assert_int_equal(rep_rec_decode(buf, n, &back), -1);
    memset(buf + 81, 0, 4);
    assert_int_equal(rep_rec_decode(buf, n, &back), 0);
    /* random garbage of the right length never crashes and never gives
     * a negative or non-finite counter */
    srand(7);
    for (int t = 0; t < 2000; t++) {
        for (size_t i = 0; i < n; i++)
            buf[i] = (unsigned char)rand();
        buf[0] = REP_REC_VERSION;
        if (rep_rec_decode(buf, n, &back) == 0)
            assert_true(back.tokens >= 0 && isfinite(back.rate) && back.passes >= 0);
    }
}

/* ---- learning ---------------------------------------------------------- */

/* count - how many lessons for identity kind k with event e */
static int count(const struct rep_ids *ids, const struct rep_lesson *l, int n, enum rep_kind k,
                 enum rep_event e)
{
    int c = 0;
    for (int i = 0; i < n; i++)
        c += ids->id[l[i].id].kind == k && l[i].event == e;
    return c;
}

static void test_plan_rcpt(void **state)
{
    struct cfg_greylist g = grey();
    struct msg_facts f;
    struct env_addr sender;
    struct rep_ids ids;
    struct rep_lesson l[REP_MAX_LESSONS];
    int n;
    (void)state;

    facts(&f, "192.0.2.10", "mail.example.com", 0, "example.com");
    env_parse("<a@example.com>", &sender);
    rep_identities(&g, &f, &sender, REP_AT_RCPT, &ids);
    assert_int_equal(ids.n, 6);

    /* a greylisted first attempt: everyone only seen (an SPF pass counts
     * for mail we take), the DKIM candidate untouched */
    struct rep_rcpt_outcome o = {.accepted = 0, .first_rcpt = 1};
    n = rep_plan_rcpt(&ids, &f, &o, l, REP_MAX_LESSONS);
    assert_int_equal(count(&ids, l, n, REP_IP, REP_EV_SPF_PASS), 0);
    assert_int_equal(count(&ids, l, n, REP_IP, REP_EV_SEEN), 1);
    assert_int_equal(count(&ids, l, n, REP_DKIM, REP_EV_SEEN), 0);
    assert_int_equal(n, 5);
    /* accepted, and the message's first such recipient: the message and
     * its SPF pass count, once */
    o.accepted = o.message = 1;
    n = rep_plan_rcpt(&ids, &f, &o, l, REP_MAX_LESSONS);
    assert_int_equal(count(&ids, l, n, REP_IP, REP_EV_SPF_PASS), 1);
    assert_int_equal(count(&ids, l, n, REP_IP, REP_EV_MESSAGE), 1);
    assert_int_equal(count(&ids, l, n, REP_DKIM, REP_EV_SPF_PASS), 0);
    assert_int_equal(count(&ids, l, n, REP_DKIM, REP_EV_MESSAGE), 0);
    /* accepted but not the first: a recipient, nothing more */
    o.message = 0;
    n = rep_plan_rcpt(&ids, &f, &o, l, REP_MAX_LESSONS);
    assert_int_equal(count(&ids, l, n, REP_IP, REP_EV_SPF_PASS), 0);
    assert_int_equal(count(&ids, l, n, REP_IP, REP_EV_MESSAGE), 0);
    assert_int_equal(count(&ids, l, n, REP_IP, REP_EV_RCPT), 1);
    o.accepted = 0;
    /* the second recipient: SPF not again; only seen */
    o.first_rcpt = 0;
    n = rep_plan_rcpt(&ids, &f, &o, l, REP_MAX_LESSONS);
    assert_int_equal(n, 5);
    assert_int_equal(count(&ids, l, n, REP_SPF, REP_EV_SEEN), 1);
    /* a pass after a proper retry: pass and recipient for each */
    o.accepted = o.grey_passed = 1;
    n = rep_plan_rcpt(&ids, &f, &o, l, REP_MAX_LESSONS);
    assert_int_equal(n, 10);
    assert_int_equal(count(&ids, l, n, REP_FROM, REP_EV_PASS), 1);
    assert_int_equal(count(&ids, l, n, REP_PTR, REP_EV_RCPT), 1);
    /* a trap: the address and network get it, nothing forgeable does */
    struct rep_rcpt_outcome trap = {.trap = 1, .first_rcpt = 1};
    n = rep_plan_rcpt(&ids, &f, &trap, l, REP_MAX_LESSONS);
    assert_int_equal(count(&ids, l, n, REP_IP, REP_EV_TRAP), 1);
    assert_int_equal(count(&ids, l, n, REP_NET, REP_EV_TRAP), 1);
    assert_int_equal(count(&ids, l, n, REP_FROM, REP_EV_TRAP), 0);
    assert_int_equal(count(&ids, l, n, REP_SPF, REP_EV_TRAP), 0);
    /* SPF fail is learnt by the client and the claimed domain */
    f.spf = SPF_FAIL;
    rep_identities(&g, &f, &sender, REP_AT_RCPT, &ids);
    o = (struct rep_rcpt_outcome){.first_rcpt = 1};
    n = rep_plan_rcpt(&ids, &f, &o, l, REP_MAX_LESSONS);
    assert_int_equal(count(&ids, l, n, REP_IP, REP_EV_SPF_FAIL), 1);
    assert_int_equal(count(&ids, l, n, REP_FROM, REP_EV_SPF_FAIL), 1);
    /* max bounds the output */
    assert_int_equal(rep_plan_rcpt(&ids, &f, &o, l, 2), 2);
}

static void test_plan_eom_expire(void **state)
{
    struct cfg_rep c = defaults();
    struct cfg_greylist g = grey();
    struct msg_facts f;
    struct env_addr sender;
    struct rep_ids ids;
    struct rep_rec recs[REP_MAX_IDS];
    struct rep_lesson l[REP_MAX_LESSONS];
    int n, d;
    (void)state;

    facts(&f, "192.0.2.10", NULL, 0, NULL);
    add_dkim(&f, DKIMV_PASS, "example.com");
    env_parse("<a@example.com>", &sender);
    rep_identities(&g, &f, &sender, REP_AT_EOM, &ids);
    d = find(&ids, REP_DKIM, "example.com");
    assert_true(d >= 0);
    n = rep_plan_eom(&ids, &f, 1, l, REP_MAX_LESSONS);
    assert_int_equal(count(&ids, l, n, REP_DKIM, REP_EV_MESSAGE), 1);
    assert_int_equal(count(&ids, l, n, REP_DKIM, REP_EV_PASS), 1);
    assert_int_equal(count(&ids, l, n, REP_IP, REP_EV_PASS), 0);   /* learnt at RCPT */
    assert_int_equal(count(&ids, l, n, REP_IP, REP_EV_MESSAGE), 0);
    assert_int_equal(count(&ids, l, n, REP_IP, REP_EV_DKIM_PASS), 1);
    for (int i = 0; i < ids.n; i++)
        rep_rec_new(&c, &recs[i], T0);
    rep_apply(&c, &ids, recs, l, n, T0 + 10);
    assert_true(recs[d].accepted == 1 && recs[d].passes == 1 && recs[d].dkim_pass == 1);
    assert_true(recs[d].last_seen == (uint64_t)T0 + 10);
    assert_true(recs[d].first_seen == (uint64_t)T0);

    /* a failed signature only: blamed on the client, not the sender */
    facts(&f, "192.0.2.10", NULL, 0, NULL);
    add_dkim(&f, DKIMV_FAIL, "example.com");
    rep_identities(&g, &f, &sender, REP_AT_EOM, &ids);
    n = rep_plan_eom(&ids, &f, 0, l, REP_MAX_LESSONS);
    assert_int_equal(count(&ids, l, n, REP_NET, REP_EV_DKIM_FAIL), 1);
    assert_int_equal(count(&ids, l, n, REP_FROM, REP_EV_DKIM_FAIL), 0);

    /* expiry: every identity rebuilt from the pending triplet, no candidate */
    facts(&f, "192.0.2.10", NULL, 0, "example.com");
    rep_identities(&g, &f, &sender, REP_AT_RCPT, &ids);
    n = rep_plan_expire(&ids, l, REP_MAX_LESSONS);
    assert_int_equal(n, ids.n - 1);
    for (int i = 0; i < ids.n; i++)
        rep_rec_new(&c, &recs[i], T0);
    rep_apply(&c, &ids, recs, l, n, T0 + 2 * DAY);
    assert_true(recs[0].abandoned == 1);
    assert_true(recs[find(&ids, REP_DKIM, "example.com")].abandoned == 0);

    /* learning decays first: a pass 30 days after 2 passes gives 2 */
    rep_rec_new(&c, &recs[0], T0);
    recs[0].passes = 2;
    rep_learn(&c, REP_IP, &recs[0], REP_EV_PASS, T0 + 30 * DAY);
    assert_true(fabs(recs[0].passes - 2.0) < 1e-4);
    /* a trap hit sets the penalty from now, and a second one extends it */
    rep_learn(&c, REP_IP, &recs[0], REP_EV_TRAP, T0 + 30 * DAY);
    assert_true(recs[0].penalty_until == (uint64_t)(T0 + 31 * DAY));
    rep_learn(&c, REP_IP, &recs[0], REP_EV_TRAP, T0 + 30 * DAY + HOUR);
    assert_true(recs[0].penalty_until == (uint64_t)(T0 + 31 * DAY + HOUR));
    assert_true(fabs(recs[0].trap_hits - 2.0) < 1e-3);
}

/* test_learn_to_trust - the whole loop on the clock: a sender that
 * retries properly becomes trusted after min_messages over min_age, and
 * one that abandons becomes suspicious, then bad */
static void test_learn_to_trust(void **state)
{
    struct cfg_rep c = defaults();
    struct cfg_greylist g = grey();
    struct msg_facts f;
    struct env_addr sender;
    struct rep_ids ids;
    struct rep_rec recs[REP_MAX_IDS];
    int found[REP_MAX_IDS] = {0};
    struct rep_lesson l[REP_MAX_LESSONS];
    struct rep_assessment a;
    time_t now = T0;
    int day;
    (void)state;

    facts(&f, "203.0.113.5", "mta.example.co.uk", 0, "example.co.uk");
    env_parse("<news@example.co.uk>", &sender);
    rep_identities(&g, &f, &sender, REP_AT_RCPT, &ids);
    for (day = 0; day < 10; day++, now += DAY / 2) {
        struct rep_rcpt_outcome o = {1, 1, 0, 1};
        int n;
        rep_assess(&c, &f, &ids, recs, found, 0, now, &a);
        if (a.level == REP_TRUSTED)
            break;
        n = rep_plan_rcpt(&ids, &f, &o, l, REP_MAX_LESSONS);
        rep_apply(&c, &ids, recs, l, n, now);
        for (int i = 0; i < ids.n; i++)
            found[i] = !ids.id[i].candidate;
    }
    /* min_messages 5 over min_age 2 days: five passes a half day apart
     * have decayed to 4.9 by then, so the sixth makes it */
    assert_int_equal(a.level, REP_TRUSTED);
    assert_string_equal(a.rule, "history");
    assert_int_equal(day, 6);
    assert_true(ids.id[a.decider].kind == REP_SPF);

    /* another client abandons a triplet every hour */
    facts(&f, "198.51.100.66", NULL, 0, NULL);
    rep_identities(&g, &f, NULL, REP_AT_RCPT, &ids);
    memset(found, 0, sizeof found);
    for (int h = 1; h <= 8; h++) {
        int n = rep_plan_expire(&ids, l, REP_MAX_LESSONS);
        for (int i = 0; i < ids.n; i++)
            if (!found[i])
                rep_rec_new(&c, &recs[i], now);
        rep_apply(&c, &ids, recs, l, n, now + h * HOUR);
        for (int i = 0; i < ids.n; i++)
            found[i] = 1;
        rep_assess(&c, &f, &ids, recs, found, 0, now + h * HOUR, &a);
        if (h == 2)
            assert_int_equal(a.level, REP_NEUTRAL);      /* score 50-50*2/7 = 35.7 */
        if (h == 3)
            assert_int_equal(a.level, REP_SUSPICIOUS);   /* 50-50*3/8 = 31.3 */
        if (h == 7)
            assert_int_equal(a.level, REP_SUSPICIOUS);   /* 50-50*7/12 = 20.8 */
    }
    assert_int_equal(a.level, REP_BAD);
    /* and decay forgives: after four half-lives it is neutral again */
    rep_assess(&c, &f, &ids, recs, found, 0, now + 8 * HOUR + 4 * 30 * DAY, &a);
    assert_int_equal(a.level, REP_NEUTRAL);
}

/* ---- configuration ----------------------------------------------------- */

struct reports {
    char lines[16][512];
    int n;
};

static void collect(void *arg, const char *line)
{
    struct reports *r = arg;
    if (r->n < 16)
        snprintf(r->lines[r->n++], sizeof r->lines[0], "%s", line);
}

static int reported(const struct reports *r, const char *text)
{
    for (int i = 0; i < r->n; i++)
        if (strstr(r->lines[i], text) != NULL)
            return 1;
    return 0;
}

static void test_config(void **state)
{
    char dir[PATH_MAX], conf[PATH_MAX], traps[PATH_MAX], text[2 * PATH_MAX];
    struct reports r = {.n = 0};
    struct cfg *cfg;
    struct env_addr a;
    char what[256];
    (void)state;

    unit_tmpdir(dir, sizeof dir);
    unit_write(dir, "traps", "# traps\nspamtrap@example.org\n@trap.example.net\n", traps,
               sizeof traps);
    snprintf(text, sizeof text,
             "[greylist]\nselective = yes\n"
             "[reputation]\nenabled = yes\nhalf_life = 7d\nmin_messages = 3\nmin_age = 1d\n"
             "trust_score = 80\nsuspicious_score = 30\nbad_score = 10\nbad_action = reject\n"
             "defer_dkim = yes\n"
             "[ratelimit]\nenabled = yes\nrate = 20\nburst = 10\nmultiple = 4\n"
             "[greytrap]\nrecipients = %s\npenalty = 2h\n",
             traps);
    unit_write(dir, "good.conf", text, conf, sizeof conf);
    cfg = cfg_load(conf, collect, &r);
    if (cfg == NULL)
        fail_msg("good config refused: %s", r.n ? r.lines[0] : "?");
    assert_true(cfg->rep.selective && cfg->rep.enabled && cfg->rep.defer_dkim);
    assert_int_equal(cfg->rep.half_life, 7 * DAY);
    assert_int_equal(cfg->rep.min_messages, 3);
    assert_int_equal(cfg->rep.min_age, DAY);
    assert_int_equal(cfg->rep.trust_score, 80);
    assert_int_equal(cfg->rep.bad_action, ACT_REJECT);
    assert_true(cfg->rep.rl_enabled && cfg->rep.rl_rate == 20 && cfg->rep.rl_burst == 10
                && cfg->rep.rl_multiple == 4);
    assert_int_equal(cfg->rep.trap_penalty, 2 * HOUR);
    env_parse("<SpamTrap@Example.ORG>", &a);
    assert_int_equal(wl_match_rcpt(cfg->greytraps, &a, T0, what, sizeof what), 1);
    env_parse("<anyone@trap.example.net>", &a);
    assert_int_equal(wl_match_rcpt(cfg->greytraps, &a, T0, what, sizeof what), 1);
    env_parse("<postmaster@example.org>", &a);
    assert_int_equal(wl_match_rcpt(cfg->greytraps, &a, T0, what, sizeof what), 0);
    cfg_free(cfg);

    /* defaults: reputation on, selective, rate limits and deferral off,
     * no trap file needed at the default path */
    cfg = cfg_defaults();
    assert_true(cfg->rep.enabled && !cfg->rep.selective && !cfg->rep.rl_enabled
                && !cfg->rep.defer_dkim);
    assert_int_equal(cfg->rep.half_life, 30 * DAY);
    assert_int_equal(cfg->rep.trap_penalty, DAY);
    assert_int_equal(cfg->rep.bad_action, ACT_TEMPFAIL);
    cfg_free(cfg);

    /* every problem with FILE:LINE */
    unit_write(dir, "badtraps", "ok@example.org\nnot an address\n", traps, sizeof traps);
    snprintf(text, sizeof text,
             "[reputation]\nhalf_life = 10s\nmin_messages = 0\nbad_action = greylist\n"
             "trust_score = 30\nshoe_size = 9\n"
             "[ratelimit]\nrate = -1\nmultiple = lots\n"
             "[greytrap]\nrecipients = %s\npenalty = 5\n"
             "[greylist]\nselective = maybe\n",
             traps);
    unit_write(dir, "bad.conf", text, conf, sizeof conf);
    r.n = 0;
    assert_null(cfg_load(conf, collect, &r));
    {
        char want[PATH_MAX + 64];
        static const struct {
            int line;
            const char *text;
        } expect[] = {{2, "half_life"}, {3, "min_messages"}, {4, "bad_action"},
                      {6, "unknown key shoe_size"}, {8, "rate"}, {9, "multiple"},
                      {12, "penalty"}, {14, "selective"}};
        for (size_t i = 0; i < sizeof expect / sizeof *expect; i++) {
            snprintf(want, sizeof want, "%s:%d: ", conf, expect[i].line);
            int ok = 0;
            for (int k = 0; k < r.n; k++)
                ok |= strncmp(r.lines[k], want, strlen(want)) == 0
                      && strstr(r.lines[k], expect[i].text) != NULL;
            if (!ok)
                fail_msg("no report %s%s", want, expect[i].text);
        }
        snprintf(want, sizeof want, "%s:2: ", traps);
        assert_true(reported(&r, want));
        assert_true(reported(&r, "bad_score < suspicious_score < trust_score"));
    }
    /* an explicit trap file that is missing is an error */
    snprintf(text, sizeof text, "[greytrap]\nrecipients = %s/absent\n", dir);
    unit_write(dir, "missing.conf", text, conf, sizeof conf);
    r.n = 0;
    assert_null(cfg_load(conf, collect, &r));
    assert_true(r.n >= 1);
    unit_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decay),
        cmocka_unit_test(test_score),
        cmocka_unit_test(test_established),
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_message_score),
        cmocka_unit_test(test_bucket_new_identity),
        cmocka_unit_test(test_bucket_established),
        cmocka_unit_test(test_bucket_semantics),
        cmocka_unit_test(test_identities),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_parse_identity),
        cmocka_unit_test(test_record_round_trip),
        cmocka_unit_test(test_record_bad),
        cmocka_unit_test(test_plan_rcpt),
        cmocka_unit_test(test_plan_eom_expire),
        cmocka_unit_test(test_learn_to_trust),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
