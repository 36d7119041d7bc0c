/*
 * NAME
 *   test_policy - tables of facts x configuration -> verdict and delay
 * DESCRIPTION
 *   policy.c is pure, so its rules are tested from tables: each row sets up
 *   what the checks found (struct msg_facts) and a few configuration
 *   values, and names the verdict of policy_static() (decided or not,
 *   action, reason), the delay and suspicion of policy_delay(), and the
 *   SPF domain that keys the triplet.  Then policy_records() through the
 *   life of a triplet with an injected clock.
 */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "facts.h"
#include "policy.h"
#include "record.h"

#define NOW ((time_t)1700000000)

/* What one row sets in the facts. */
enum fact {
    F_NONE,
    F_DNS_DOWN,          /* every lookup failed temporarily */
    F_SPF_PASS,
    F_SPF_PASS_HELO,     /* pass for the HELO identity (<> sender) */
    F_SPF_FAIL,
    F_SPF_SOFTFAIL,
    F_IPREV_FAIL,
    F_NO_PTR,
    F_GENERIC,
    F_DNSBL_LOW,         /* listed, under the threshold */
    F_DNSBL_HIGH,        /* at the threshold */
    F_GOOD               /* iprev pass, SPF pass, not listed */
};

struct row {
    const char *name;
    enum fact fact;
    enum cfg_on_error on_error;
    enum cfg_action spf_fail_action;
    enum cfg_action dnsbl_action;
    unsigned delay, suspicious_delay;
    int trusted, authenticated, whitelisted;
    /* expected */
    int decided;
    enum verdict_action action;
    enum verdict_reason reason;
    unsigned want_delay;
    int suspicious;
    const char *why_has;        /* substring of the delay's remarks, or NULL */
    const char *spf_domain;     /* the triplet's SPF key, or NULL */
};

/* facts_of - the facts a row names */
static void facts_of(enum fact fact, struct msg_facts *f)
{
    memset(f, 0, sizeof *f);
    f->client_ip = 1;
    net_parse("198.51.100.7", &f->client);
    f->iprev_done = 1;
    f->iprev = IPREV_PASS;
    strcpy(f->iprev_host, "mx.example.org");
    f->spf_done = 1;
    f->spf = SPF_NONE;
    strcpy(f->spf_domain, "example.org");
    f->dnsbl_done = 1;
    f->dnsbl_zones = 2;
    switch (fact) {
    case F_NONE:
        memset(f, 0, sizeof *f);
        f->client_ip = 1;
        net_parse("198.51.100.7", &f->client);
        break;
    case F_DNS_DOWN:
        f->iprev = IPREV_TEMPERROR;
        f->iprev_host[0] = '\0';
        f->spf = SPF_TEMPERROR;
        f->dnsbl_tempfail = 2;
        f->dns_failed = 1;
        break;
    case F_SPF_PASS:
    case F_GOOD:
        f->spf = SPF_PASS;
        break;
    case F_SPF_PASS_HELO:
        f->spf = SPF_PASS;
        f->spf_helo = 1;
        strcpy(f->spf_domain, "mx.example.org");
        break;
    case F_SPF_FAIL:
        f->spf = SPF_FAIL;
        break;
    case F_SPF_SOFTFAIL:
        f->spf = SPF_SOFTFAIL;
        break;
    case F_IPREV_FAIL:
        f->iprev = IPREV_FAIL;
        f->iprev_host[0] = '\0';
        break;
    case F_NO_PTR:
        f->iprev = IPREV_PERMERROR;
        f->iprev_host[0] = '\0';
        break;
    case F_GENERIC:
        strcpy(f->iprev_host, "dsl-198-51-100-7.dyn.example.net");
        f->generic = 1;
        break;
    case F_DNSBL_LOW:
        f->dnsbl_score = 1;
        strcpy(f->dnsbl_listed, "bl.example=127.0.0.2");
        break;
    case F_DNSBL_HIGH:
        f->dnsbl_score = 3;    /* exactly the threshold the rows use */
        strcpy(f->dnsbl_listed, "bl.example=127.0.0.2,bl2.example=127.0.0.4");
        break;
    }
}

#define A ON_ERROR_ACCEPT
#define TF ON_ERROR_TEMPFAIL

static const struct row rows[] = {
    /* name, fact, on_error, spf_fail_action, dnsbl_action, delay, suspicious_delay,
     * trusted, authenticated, whitelisted,
     * decided, action, reason, want_delay, suspicious, why_has, spf_domain */
    {"nothing known", F_NONE, A, ACT_GREYLIST, ACT_TEMPFAIL, 300, 1800, 0, 0, 0,
     0, V_ACCEPT, R_GREY_NEW, 300, 0, NULL, NULL},
    {"trusted beats everything", F_DNSBL_HIGH, TF, ACT_REJECT, ACT_REJECT, 300, 1800, 1, 0, 0,
     1, V_ACCEPT, R_TRUSTED, 0, 0, NULL, NULL},
    {"authenticated beats DNSBL", F_DNSBL_HIGH, A, ACT_GREYLIST, ACT_REJECT, 300, 1800, 0, 1, 0,
     1, V_ACCEPT, R_AUTH, 0, 0, NULL, NULL},
    {"whitelist beats SPF fail", F_SPF_FAIL, A, ACT_REJECT, ACT_TEMPFAIL, 300, 1800, 0, 0, 1,
     1, V_ACCEPT, R_WHITELIST, 0, 0, NULL, NULL},
    {"DNSBL at threshold tempfails", F_DNSBL_HIGH, A, ACT_GREYLIST, ACT_TEMPFAIL, 300, 1800, 0, 0,
     0, 1, V_TEMPFAIL, R_DNSBL, 0, 0, NULL, NULL},
    {"DNSBL at threshold rejects", F_DNSBL_HIGH, A, ACT_GREYLIST, ACT_REJECT, 300, 1800, 0, 0, 0,
     1, V_REJECT, R_DNSBL, 0, 0, NULL, NULL},
    {"DNSBL under threshold is suspicious", F_DNSBL_LOW, A, ACT_GREYLIST, ACT_REJECT, 300, 1800,
     0, 0, 0, 0, V_ACCEPT, R_GREY_NEW, 1800, 1, "DNSBL score 1", NULL},
    {"SPF fail, greylist", F_SPF_FAIL, A, ACT_GREYLIST, ACT_TEMPFAIL, 300, 1800, 0, 0, 0,
     0, V_ACCEPT, R_GREY_NEW, 1800, 1, "SPF fail", NULL},
    {"SPF fail, tempfail", F_SPF_FAIL, A, ACT_TEMPFAIL, ACT_TEMPFAIL, 300, 1800, 0, 0, 0,
     1, V_TEMPFAIL, R_SPF_FAIL, 0, 0, NULL, NULL},
    {"SPF fail, reject", F_SPF_FAIL, A, ACT_REJECT, ACT_TEMPFAIL, 300, 1800, 0, 0, 0,
     1, V_REJECT, R_SPF_FAIL, 0, 0, NULL, NULL},
    {"SPF fail, action none", F_SPF_FAIL, A, ACT_NONE, ACT_TEMPFAIL, 300, 1800, 0, 0, 0,
     0, V_ACCEPT, R_GREY_NEW, 300, 0, NULL, NULL},
    {"SPF softfail is no suspicion", F_SPF_SOFTFAIL, A, ACT_GREYLIST, ACT_TEMPFAIL, 300, 1800, 0,
     0, 0, 0, V_ACCEPT, R_GREY_NEW, 300, 0, NULL, NULL},
    {"iprev fail is suspicious", F_IPREV_FAIL, A, ACT_GREYLIST, ACT_TEMPFAIL, 300, 1800, 0, 0, 0,
     0, V_ACCEPT, R_GREY_NEW, 1800, 1, "iprev fail", NULL},
    {"no PTR is suspicious", F_NO_PTR, A, ACT_GREYLIST, ACT_TEMPFAIL, 300, 1800, 0, 0, 0,
     0, V_ACCEPT, R_GREY_NEW, 1800, 1, "no PTR", NULL},
    {"generic name is suspicious", F_GENERIC, A, ACT_GREYLIST, ACT_TEMPFAIL, 300, 1800, 0, 0, 0,
     0, V_ACCEPT, R_GREY_NEW, 1800, 1, "generic host name", NULL},
    {"suspicious_delay = delay: only a note", F_NO_PTR, A, ACT_GREYLIST, ACT_TEMPFAIL, 300, 300,
     0, 0, 0, 0, V_ACCEPT, R_GREY_NEW, 300, 0, "no PTR", NULL},
    {"suspicious_delay < delay: delay", F_NO_PTR, A, ACT_GREYLIST, ACT_TEMPFAIL, 600, 60, 0, 0, 0,
     0, V_ACCEPT, R_GREY_NEW, 600, 0, "no PTR", NULL},
    {"DNS down, on_error accept: greylist decides", F_DNS_DOWN, A, ACT_TEMPFAIL, ACT_TEMPFAIL,
     300, 1800, 0, 0, 0, 0, V_ACCEPT, R_GREY_NEW, 300, 0, "DNS lookups failed", NULL},
    {"DNS down, on_error tempfail", F_DNS_DOWN, TF, ACT_GREYLIST, ACT_TEMPFAIL, 300, 1800, 0, 0,
     0, 1, V_TEMPFAIL, R_ERROR, 0, 0, NULL, NULL},
    {"SPF pass keys on the domain", F_SPF_PASS, A, ACT_GREYLIST, ACT_TEMPFAIL, 300, 1800, 0, 0,
     0, 0, V_ACCEPT, R_GREY_NEW, 300, 0, NULL, "example.org"},
    {"SPF pass for HELO keys on the network", F_SPF_PASS_HELO, A, ACT_GREYLIST, ACT_TEMPFAIL,
     300, 1800, 0, 0, 0, 0, V_ACCEPT, R_GREY_NEW, 300, 0, NULL, NULL},
    {"a good sender waits the plain delay", F_GOOD, TF, ACT_REJECT, ACT_REJECT, 300, 1800, 0, 0,
     0, 0, V_ACCEPT, R_GREY_NEW, 300, 0, NULL, "example.org"},
};

static void test_rows(void **state)
{
    struct cfg *cfg = cfg_defaults();
    (void)state;

    assert_non_null(cfg);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct row *r = &rows[i];
        struct msg_facts mf;
        struct policy_facts f = {r->trusted, r->authenticated,
                                 r->whitelisted ? "sender @example.org" : NULL, &mf};
        struct verdict v;
        struct policy_wait w;
        const char *spf;
        int decided;

        facts_of(r->fact, &mf);
        cfg->on_error = r->on_error;
        cfg->spf_fail_action = r->spf_fail_action;
        cfg->dnsbl_action = r->dnsbl_action;
        cfg->dnsbl_threshold = 3;
        cfg->grey.delay = r->delay;
        cfg->grey.suspicious_delay = r->suspicious_delay;
        decided = policy_static(cfg, &f, &v);
        if (decided != r->decided)
            fail_msg("%s: decided %d, want %d (%s)", r->name, decided, r->decided, v.why);
        if (decided) {
            if (v.action != r->action || v.reason != r->reason)
                fail_msg("%s: %d/%s, want %d/%s", r->name, v.action,
                         policy_reason_name(v.reason), r->action,
                         policy_reason_name(r->reason));
            if (v.why[0] == '\0')
                fail_msg("%s: a verdict without a reason", r->name);
            continue;
        }
        policy_delay(cfg, &f, &w);
        if (w.delay != r->want_delay || w.suspicious != r->suspicious)
            fail_msg("%s: delay %u suspicious %d, want %u %d (%s)", r->name, w.delay,
                     w.suspicious, r->want_delay, r->suspicious, w.why);
        if (r->why_has != NULL ? strstr(w.why, r->why_has) == NULL : w.why[0] != '\0')
            fail_msg("%s: remarks \"%s\", want \"%s\"", r->name, w.why,
                     r->why_has ? r->why_has : "");
        spf = policy_spf_domain(&f);
        if ((spf == NULL) != (r->spf_domain == NULL)
            || (spf != NULL && strcmp(spf, r->spf_domain) != 0))
            fail_msg("%s: SPF key %s, want %s", r->name, spf ? spf : "(none)",
                     r->spf_domain ? r->spf_domain : "(none)");
    }
    cfg_free(cfg);
}

/* step - one policy_records() call on the records, as the store would */
static struct verdict step(const struct cfg *cfg, unsigned delay, struct store_rec *t,
                           struct store_rec *c, time_t now)
{
    struct verdict v;
    t->action = c->action = STORE_KEEP;
    policy_records(&cfg->grey, delay, t, c, now, &v);
    /* commit what it wrote */
    if (t->action == STORE_WRITE)
        t->found = 1;
    if (c->action == STORE_WRITE)
        c->found = 1;
    return v;
}

/* test_records - a triplet's life, the delay passed in, and the client
 * auto-whitelist after auto_whitelist passes counted at most hourly */
static void test_records(void **state)
{
    struct cfg *cfg = cfg_defaults();
    struct store_rec t, c;
    struct verdict v;
    unsigned delay = 1800;   /* a suspicious sender's */
    (void)state;

    memset(&t, 0, sizeof t);
    memset(&c, 0, sizeof c);
    cfg->grey.auto_whitelist = 2;
    v = step(cfg, delay, &t, &c, NOW);
    assert_int_equal(v.reason, R_GREY_NEW);
    assert_int_equal(v.remaining, delay);
    assert_int_equal(t.action, STORE_WRITE);
    assert_int_equal(c.action, STORE_KEEP);      /* nothing passed yet */
    v = step(cfg, delay, &t, &c, NOW + delay - 1);
    assert_int_equal(v.reason, R_GREY_EARLY);
    assert_int_equal(v.remaining, 1);
    v = step(cfg, delay, &t, &c, NOW + delay);
    assert_int_equal(v.reason, R_GREY_PASSED);
    assert_int_equal(v.action, V_ACCEPT);
    assert_int_equal(v.delayed, delay);
    assert_int_equal(c.action, STORE_WRITE);     /* the client's first pass */
    v = step(cfg, delay, &t, &c, NOW + delay + 60);
    assert_int_equal(v.reason, R_GREY_KNOWN);
    /* within the hour: still one pass for the client, not listed */
    v = step(cfg, delay, &t, &c, NOW + delay + 120);
    assert_int_equal(v.reason, R_GREY_KNOWN);
    /* an hour later the second pass counts, and then the client is listed */
    v = step(cfg, delay, &t, &c, NOW + delay + 3700);
    assert_int_equal(v.reason, R_GREY_KNOWN);
    v = step(cfg, delay, &t, &c, NOW + delay + 3800);
    assert_int_equal(v.reason, R_AUTO);
    assert_int_equal(v.action, V_ACCEPT);
    /* a record that does not decode is absent, and said so */
    memset(&t, 0, sizeof t);
    t.found = 1;
    t.len = 3;
    memcpy(t.val, "bad", 3);
    memset(&c, 0, sizeof c);
    v = step(cfg, delay, &t, &c, NOW);
    assert_int_equal(v.reason, R_GREY_NEW);
    assert_true(v.bad_record);
    cfg_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
