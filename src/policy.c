/*
 * policy.c - the pure verdict; see policy.h
 */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "policy.h"
#include "record.h"

const char *policy_reason_name(enum verdict_reason r)
{
    static const char *names[] = {"trusted", "authenticated", "whitelisted",
                                  "auto-whitelisted", "greylisted", "too-early",
                                  "passed", "known", "error"};
    return names[r];
}

int policy_static(const struct policy_facts *f, struct verdict *v)
{
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
        snprintf(v->why, sizeof v->why, "whitelisted: %s", f->whitelisted);
        return 1;
    }
    return 0;
}

void policy_records(const struct cfg_greylist *g, struct store_rec *rec, time_t now,
                    struct verdict *v)
{
    struct store_rec *tr = &rec[0], *cr = &rec[1];
    struct rec_triplet t;
    struct rec_client c;
    struct grey_outcome o;
    int tfound = tr->found, cfound = cr->found;

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
