/*
 * policy.c - the pure verdict; see policy.h
 */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "facts.h"
#include "policy.h"
#include "record.h"

const char *policy_reason_name(enum verdict_reason r)
{
    static const char *names[] = {"trusted", "authenticated", "whitelisted",
                                  "auto-whitelisted", "greylisted", "too-early",
                                  "passed", "known", "error", "dnsbl", "spf-fail"};
    return names[r];
}

int policy_static(const struct cfg *cfg, const struct policy_facts *f, struct verdict *v)
{
    const struct msg_facts *d = f->dns;

    memset(v, 0, sizeof *v);
    v->action = V_ACCEPT;
    if (f->trusted) {
        v->reason = R_TRUSTED;
        snprintf(v->why, sizeof v->why, "client is in trusted_networks");
        return 1;
    }
    if (f->authenticated) {
        v->reason = R_AUTH;
        snprintf(v->why, sizeof v->why, "SMTP-authenticated session");
        return 1;
    }
    if (f->whitelisted != NULL) {
        v->reason = R_WHITELIST;
        snprintf(v->why, sizeof v->why, "%s", f->whitelisted);
        return 1;
    }
    /* DNS down: with on_error tempfail nothing is decided without it; with
     * accept the checks give no opinion and greylisting, which needs no
     * DNS, still decides (a sender must not skip greylisting by making
     * its own zones time out) */
    if (d->dns_failed && cfg->on_error == ON_ERROR_TEMPFAIL) {
        v->reason = R_ERROR;
        v->action = V_TEMPFAIL;
        snprintf(v->why, sizeof v->why, "every DNS lookup failed: on_error tempfail");
        return 1;
    }
    if (d->dnsbl_done && d->dnsbl_score >= (int)cfg->dnsbl_threshold) {
        v->reason = R_DNSBL;
        v->action = cfg->dnsbl_action == ACT_REJECT ? V_REJECT : V_TEMPFAIL;
        snprintf(v->why, sizeof v->why, "DNSBL score %d >= %u (%s)", d->dnsbl_score,
                 cfg->dnsbl_threshold, d->dnsbl_listed);
        return 1;
    }
    if (d->spf_done && d->spf == SPF_FAIL
        && (cfg->spf_fail_action == ACT_TEMPFAIL || cfg->spf_fail_action == ACT_REJECT)) {
        v->reason = R_SPF_FAIL;
        v->action = cfg->spf_fail_action == ACT_REJECT ? V_REJECT : V_TEMPFAIL;
        snprintf(v->why, sizeof v->why, "SPF fail for %s", d->spf_domain);
        return 1;
    }
    return 0;
}

/* add_reason - append ", text" to a reason list */
static void add_reason(char *why, size_t len, const char *text)
{
    size_t used = strlen(why);
    snprintf(why + used, len - used, "%s%s", used ? ", " : "", text);
}

void policy_delay(const struct cfg *cfg, const struct policy_facts *f, struct policy_wait *w)
{
    const struct msg_facts *d = f->dns;
    char buf[320], *why = w->why;
    size_t len = sizeof w->why;

    why[0] = '\0';
    w->delay = cfg->grey.delay;
    w->suspicious = 0;
    if (d->dns_failed) {
        add_reason(why, len, "DNS lookups failed, checks skipped");
        return;
    }
    if (d->spf_done && d->spf == SPF_FAIL && cfg->spf_fail_action == ACT_GREYLIST)
        add_reason(why, len, "SPF fail");
    if (d->iprev_done && (d->iprev == IPREV_FAIL || d->iprev == IPREV_PERMERROR))
        add_reason(why, len, d->iprev == IPREV_FAIL ? "iprev fail" : "no PTR");
    if (d->iprev_done && d->generic)
        add_reason(why, len, "generic host name");
    if (d->dnsbl_done && d->dnsbl_score > 0) {
        snprintf(buf, sizeof buf, "DNSBL score %d (%s)", d->dnsbl_score, d->dnsbl_listed);
        add_reason(why, len, buf);
    }
    if (why[0] == '\0' || cfg->grey.suspicious_delay < cfg->grey.delay)
        return;
    w->delay = cfg->grey.suspicious_delay;
    /* a suspicious_delay equal to delay changes nothing: the reasons stay a note */
    w->suspicious = w->delay != cfg->grey.delay;
}

const char *policy_spf_domain(const struct policy_facts *f)
{
    if (!f->dns->spf_done || f->dns->spf != SPF_PASS || f->dns->spf_helo
        || f->dns->spf_domain[0] == '\0')
        return NULL;
    return f->dns->spf_domain;
}

void policy_records(const struct cfg_greylist *grey, unsigned delay, struct store_rec *tr,
                    struct store_rec *cr, time_t now, struct verdict *v)
{
    struct cfg_greylist adjusted = *grey;
    const struct cfg_greylist *g = &adjusted;
    struct rec_triplet t;
    struct rec_client c;
    struct grey_outcome o;
    int tfound = tr->found, cfound = cr->found;

    adjusted.delay = delay;
    memset(v, 0, sizeof *v);
    if (tfound && rec_triplet_decode(tr->val, tr->len, &t) < 0) {
        tfound = 0;
        v->bad_record = 1;
    }
    if (cfound && rec_client_decode(cr->val, cr->len, &c) < 0) {
        cfound = 0;
        v->bad_record = 1;
    }
    if (grey_client_listed(g, cfound, &c, now)) {
        v->action = V_ACCEPT;
        v->reason = R_AUTO;
        snprintf(v->why, sizeof v->why, "client auto-whitelisted after %u passes", c.passes);
        cr->expires = grey_client_count(g, cfound, &c, now);
        cr->len = rec_client_encode(&c, cr->val);
        cr->action = STORE_WRITE;
        return;
    }
    o = grey_step(g, tfound, &t, now, &tr->expires);
    tr->len = rec_triplet_encode(&t, tr->val);
    tr->action = STORE_WRITE;
    switch (o.state) {
    case GREY_NEW:
    case GREY_EARLY:
        tr->report_expiry = 1;      /* an abandoned triplet teaches reputation */
        v->action = V_TEMPFAIL;
        v->reason = o.state == GREY_NEW ? R_GREY_NEW : R_GREY_EARLY;
        v->remaining = o.remaining;
        snprintf(v->why, sizeof v->why, "%s, %u seconds to wait",
                 o.state == GREY_NEW ? "new triplet" : "retry too early", o.remaining);
        return;
    case GREY_PASSED:
        v->reason = R_GREY_PASSED;
        v->delayed = o.delayed;
        snprintf(v->why, sizeof v->why, "retry after %u seconds: passed", o.delayed);
        break;
    case GREY_KNOWN:
        v->reason = R_GREY_KNOWN;
        snprintf(v->why, sizeof v->why, "known triplet, %u passes", t.passes);
        break;
    }
    v->action = V_ACCEPT;
    if (g->auto_whitelist > 0) {
        cr->expires = grey_client_count(g, cfound, &c, now);
        cr->len = rec_client_encode(&c, cr->val);
        cr->action = STORE_WRITE;
    }
}
