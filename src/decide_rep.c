/*
 * decide_rep.c - the reputation half of a decision; see decide_rep.h and
 * decide.h (decide_eom, decide_expired, decide_greytrap_key)
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide_rep.h"
#include "greylist.h"
#include "log.h"
#include "record.h"
#include "util.h"

int decide_greytrap_key(const char *value, char *key, size_t len, const char **why)
{
    char norm[WL_VALUE_MAX + 1];
    size_t n;

    if (wl_normalise(WL_RCPT, value, norm, sizeof norm, why) < 0)
        return -1;
    n = strlen(norm);
    if (n == 0 || norm[n - 1] == '@') {
        *why = "a greytrap is an address or @domain";
        return -1;
    }
    if ((size_t)snprintf(key, len, "g|%s", norm) >= len) {
        *why = "too long";
        return -1;
    }
    return 0;
}

void drep_prepare(struct decide_rep *x, const struct cfg *cfg, const struct decide_input *in,
                  time_t now)
{
    const struct env_addr *rcpt = in->rcpt;
    char text[ENV_LOCAL_MAX + ENV_DOMAIN_MAX + 2], what[WL_VALUE_MAX + 32];
    const char *why;

    memset(x, 0, sizeof *x);
    x->facts = in->facts;
    rep_identities(&cfg->grey, in->facts, in->sender, REP_AT_RCPT, &x->ids);
    if (x->ids.n > REP_RCPT_IDS)
        log_panic("drep_prepare: %d identities at RCPT", x->ids.n);
    x->first_rcpt = in->rcpt_index == 0;
    x->earned = in->earned;
    x->defer_ok = in->defer_ok;
    x->static_trap = cfg->greytraps != NULL
                     && wl_match_rcpt(cfg->greytraps, rcpt, now, what, sizeof what);
    /* "g|" alone is never written: a key that finds nothing */
    snprintf(x->trap_addr, sizeof x->trap_addr, "g|");
    snprintf(x->trap_domain, sizeof x->trap_domain, "g|");
    if (!(rcpt->flags & (ENV_NULL | ENV_MALFORMED)) && rcpt->domain[0] != '\0') {
        snprintf(text, sizeof text, "%s@%s", rcpt->local, rcpt->domain);
        if (decide_greytrap_key(text, x->trap_addr, sizeof x->trap_addr, &why) < 0)
            snprintf(x->trap_addr, sizeof x->trap_addr, "g|");
        snprintf(text, sizeof text, "@%s", rcpt->domain);
        if (decide_greytrap_key(text, x->trap_domain, sizeof x->trap_domain, &why) < 0)
            snprintf(x->trap_domain, sizeof x->trap_domain, "g|");
    }
}

size_t drep_slots(struct decide_rep *x, struct store_rec *rec)
{
    rec[SLOT_TRAP_ADDR].key = x->trap_addr;
    rec[SLOT_TRAP_ADDR].compare_only = 1;
    rec[SLOT_TRAP_DOMAIN].key = x->trap_domain;
    rec[SLOT_TRAP_DOMAIN].compare_only = 1;
    for (int i = 0; i < x->ids.n; i++) {
        rec[SLOT_REP + i].key = x->ids.id[i].key;
        rec[SLOT_REP + i].compare_only = x->ids.id[i].candidate;  /* read only */
    }
    return (size_t)(SLOT_REP + x->ids.n);
}

/* drep_who - "kind:value" of identity i, or "the message" */
static const char *drep_who(const struct decide_rep *x, int i, char *buf, size_t len)
{
    if (i < 0 || i >= x->ids.n)
        snprintf(buf, len, "its identities together");
    else
        snprintf(buf, len, "%s:%s", rep_kind_name(x->ids.id[i].kind), x->ids.id[i].value);
    return buf;
}

int drep_judge(struct decide_rep *x, const struct cfg *cfg, struct store_rec *rec,
               time_t now, struct verdict *v, unsigned *delay, int *no_auto)
{
    const struct store_rec *cr = &rec[SLOT_CLIENT];
    struct rec_client c;
    struct rep_assessment *a = &x->a;
    char who[ORG_NAME_MAX + 8];
    int cfound, auto_listed;

    memset(v, 0, sizeof *v);
    x->bad_record = 0;
    for (int i = 0; i < x->ids.n; i++) {
        const struct store_rec *s = &rec[SLOT_REP + i];
        x->found[i] = s->found && rep_rec_decode(s->val, s->len, &x->recs[i]) == 0;
        x->bad_record |= s->found && !x->found[i];
    }
    cfound = cr->found && rec_client_decode(cr->val, cr->len, &c) == 0;
    auto_listed = grey_client_listed(&cfg->grey, cfound, &c, now);
    x->trap = x->static_trap || rec[SLOT_TRAP_ADDR].found || rec[SLOT_TRAP_DOMAIN].found;
    rep_assess(&cfg->rep, x->facts, &x->ids, x->recs, x->found, auto_listed, now, a);
    memcpy(x->judged, x->recs, sizeof x->judged);

    if (x->trap) {
        /* answered like greylisting: the sender must not learn it is a trap */
        v->action = V_TEMPFAIL;
        v->reason = R_TRAP;
        v->remaining = cfg->grey.delay;
        snprintf(v->why, sizeof v->why, "the recipient is a greytrap");
        return 1;
    }
    if (a->level == REP_BAD) {
        v->action = cfg->rep.bad_action == ACT_REJECT ? V_REJECT : V_TEMPFAIL;
        v->reason = R_REP_BAD;
        snprintf(v->why, sizeof v->why, "bad reputation (%s of %s, score %.1f)", a->rule,
                 drep_who(x, a->decider, who, sizeof who), a->score);
        return 1;
    }
    if (a->rate_limited) {
        v->action = V_TEMPFAIL;
        v->reason = R_RATE;
        snprintf(v->why, sizeof v->why, "%s sends more than its limit",
                 drep_who(x, a->rate_id, who, sizeof who));
        return 1;
    }
    if (a->level == REP_TRUSTED && strcmp(a->rule, "auto-whitelist") != 0) {
        v->action = V_ACCEPT;
        v->reason = R_REP_TRUSTED;
        if (a->decider >= 0)
            snprintf(v->why, sizeof v->why, "trusted: good history of %s (score %.1f)",
                     drep_who(x, a->decider, who, sizeof who), a->score);
        else
            snprintf(v->why, sizeof v->why,
                     "trusted: selective greylisting (verified rDNS and SPF pass)");
        return 1;
    }
    if (a->level == REP_SUSPICIOUS) {
        if (cfg->grey.suspicious_delay > *delay)
            *delay = cfg->grey.suspicious_delay;
        *no_auto = 1;
    }
    return 0;
}

void drep_finish(struct decide_rep *x, const struct cfg *cfg, struct store_rec *rec,
                 time_t now, struct verdict *v)
{
    const struct rep_assessment *a = &x->a;
    struct rep_lesson l[REP_MAX_LESSONS];
    struct rep_rcpt_outcome o;
    char who[ORG_NAME_MAX + 8];
    int n;

    if ((v->reason == R_GREY_NEW || v->reason == R_GREY_EARLY) && a->level == REP_DEFER
        && x->defer_ok) {
        v->action = V_ACCEPT;
        v->reason = R_DEFER;
        snprintf(v->why, sizeof v->why,
                 "deferred to end of message: %s signs with a good history",
                 drep_who(x, a->decider, who, sizeof who));
    }
    v->assessed = 1;
    v->trust = x->trap ? REP_BAD : (int)a->level;
    snprintf(v->trust_why, sizeof v->trust_why, "%s score %.1f",
             x->trap ? "greytrap-recipient" : a->rule, a->score);
    v->bad_record |= x->bad_record;
    if (!cfg->rep.enabled && !cfg->rep.rl_enabled && !x->trap)
        return;
    memset(&o, 0, sizeof o);
    o.accepted = v->action == V_ACCEPT;
    /* with delay 0 every first attempt "passes": that proves no retry */
    o.grey_passed = v->reason == R_GREY_PASSED && v->delayed > 0;
    o.trap = x->trap;
    o.first_rcpt = x->first_rcpt;
    o.message = !x->earned && o.accepted
                && (v->reason == R_GREY_PASSED || v->reason == R_GREY_KNOWN
                    || v->reason == R_AUTO || v->reason == R_REP_TRUSTED
                    || v->reason == R_DEFER);
    n = rep_plan_rcpt(&x->ids, x->facts, &o, l, REP_MAX_LESSONS);
    rep_apply(&cfg->rep, &x->ids, x->recs, l, n, now);
    for (int i = 0; i < x->ids.n; i++) {
        struct store_rec *s = &rec[SLOT_REP + i];
        int seen_only = 1;
        if (x->ids.id[i].candidate)
            continue;
        for (int k = 0; k < n; k++)
            seen_only &= l[k].id != i || l[k].event == REP_EV_SEEN;
        /* a sender that keeps knocking changes nothing but last seen: an
         * hour's precision there is enough, and saves the write (decay and
         * the bucket are recomputed from the stored times next time) */
        if (seen_only && x->found[i] && (uint64_t)now >= x->judged[i].last_seen
            && (uint64_t)now - x->judged[i].last_seen < 3600)
            continue;
        /* nor is a record created for a sender that has done nothing yet:
         * a spray of first attempts that never retry leaves no records
         * (their abandonment is learnt at expiry), and history starts
         * with the first thing that counts */
        if (seen_only && !s->found)
            continue;
        s->len = rep_rec_encode(&x->recs[i], s->val);
        s->expires = rep_rec_expires(&cfg->rep, &x->recs[i]);
        s->action = STORE_WRITE;
    }
}

void drep_explain(const struct decide_rep *x, void (*out)(void *, const char *), void *arg)
{
    char line[1024];
    const struct rep_assessment *a = &x->a;

    snprintf(line, sizeof line, "reputation: %s (%s), score %.1f%s",
             x->trap ? "bad" : rep_level_name(a->level),
             x->trap ? "greytrap recipient" : a->rule, a->score,
             a->rate_limited ? ", rate limited" : "");
    out(arg, line);
    for (int i = 0; i < x->ids.n; i++) {
        char rec[700];
        rep_format(&x->ids.id[i], &x->judged[i], a->id_score[i], rec, sizeof rec);
        snprintf(line, sizeof line, "reputation: %s%s%s%s", rec,
                 x->found[i] ? "" : " (new)", a->established[i] ? " established" : "",
                 x->ids.id[i].candidate ? " (DKIM candidate, read only)" : "");
        out(arg, line);
    }
}

/* ---- end of message ---------------------------------------------------- */

struct eom_run {
    const struct cfg *cfg;
    const struct rep_ids *ids;
    const struct msg_facts *facts;
    int grey_passed;
    int learn;                  /* [reputation] enabled */
    int ntriplets;              /* deferred triplets after the identities */
    time_t now;
    int bad_record;
};

/* eom_update - store_update callback: learn the accepted message */
static int eom_update(void *arg, struct store_rec *rec, size_t n)
{
    struct eom_run *r = arg;
    struct rep_rec recs[REP_MAX_IDS];
    struct rep_lesson l[REP_MAX_LESSONS];
    size_t nids = n - (size_t)r->ntriplets;
    int k;

    /* the deferred triplets: an aligned DKIM pass is as good as a retry */
    for (size_t i = nids; i < n; i++) {
        struct rec_triplet t;
        if (!rec[i].found || rec_triplet_decode(rec[i].val, rec[i].len, &t) < 0
            || t.passes != 0)
            continue;
        t.passes = 1;
        t.last_seen = (uint64_t)r->now;
        rec[i].len = rec_triplet_encode(&t, rec[i].val);
        rec[i].expires = r->now + (time_t)r->cfg->grey.pass_lifetime;
        rec[i].action = STORE_WRITE;
    }
    if (!r->learn)
        return 0;
    for (size_t i = 0; i < nids; i++) {
        int ok = rec[i].found && rep_rec_decode(rec[i].val, rec[i].len, &recs[i]) == 0;
        r->bad_record |= rec[i].found && !ok;
        if (!ok)
            rep_rec_new(&r->cfg->rep, &recs[i], r->now);
    }
    k = rep_plan_eom(r->ids, r->facts, r->grey_passed, l, REP_MAX_LESSONS);
    rep_apply(&r->cfg->rep, r->ids, recs, l, k, r->now);
    for (size_t i = 0; i < nids; i++) {
        int touched = 0;
        for (int j = 0; j < k; j++)
            touched |= l[j].id == (int)i;
        if (!touched)
            continue;
        rec[i].len = rep_rec_encode(&recs[i], rec[i].val);
        rec[i].expires = rep_rec_expires(&r->cfg->rep, &recs[i]);
        rec[i].action = STORE_WRITE;
    }
    return 0;
}

enum verdict_action decide_eom(struct decider *d, const struct cfg *cfg,
                               const struct msg_facts *facts, const struct env_addr *sender,
                               char deferred[][STORE_MAX_KEY], int ndeferred, int learn,
                               int grey_passed, time_t now, char *why, size_t why_len)
{
    struct rep_ids ids;
    struct store_rec rec[REP_MAX_IDS + DECIDE_DEFER_MAX];
    struct eom_run r;
    struct store *st = decider_store(d);
    int aligned, n = 0;

    rep_identities(&cfg->grey, facts, sender, REP_AT_EOM, &ids);
    aligned = rep_dkim_aligned(&ids, facts);
    why[0] = '\0';
    if (ndeferred > DECIDE_DEFER_MAX)
        log_panic("decide_eom: %d deferred triplets", ndeferred);
    if (ndeferred > 0 && !aligned) {
        snprintf(why, why_len, "deferred message without an aligned DKIM pass from %s",
                 ids.sender_org[0] ? ids.sender_org : "the sender's domain");
        return V_TEMPFAIL;
    }
    if (ndeferred > 0)
        snprintf(why, why_len, "deferred message: aligned DKIM pass from %s", ids.sender_org);
    /* the message itself was learnt at RCPT: only its signatures are left */
    learn = learn && cfg->rep.enabled && facts != NULL && facts->dkim_done
            && facts->dkim_n > 0;
    if (st == NULL || (ndeferred == 0 && (!learn || ids.n == 0)))
        return V_ACCEPT;
    memset(rec, 0, sizeof rec);
    if (learn)
        for (; n < ids.n; n++)
            rec[n].key = ids.id[n].key;
    for (int i = 0; i < ndeferred; i++)
        rec[n++].key = deferred[i];
    memset(&r, 0, sizeof r);
    r.cfg = cfg;
    r.ids = &ids;
    r.facts = facts;
    r.grey_passed = grey_passed;
    r.learn = learn;
    r.ntriplets = ndeferred;
    r.now = now;
    if (store_update(st, rec, (size_t)n, now, eom_update, &r) != STORE_OK)
        log_warn("store: reputation not updated at end of message");
    else if (r.bad_record)
        log_warn("store: a reputation record did not decode; started afresh");
    return V_ACCEPT;
}

/* ---- expiry ------------------------------------------------------------ */

/* expire_ids - the identities a triplet key names: its network or SPF
 * domain, and its sender's domain */
static int expire_ids(const struct cfg *cfg, const char *key, size_t klen, struct rep_ids *ids)
{
    char buf[STORE_MAX_KEY], org[ORG_NAME_MAX], *net, *sender, *rcpt, *at;

    memset(ids, 0, sizeof *ids);
    if (klen < 3 || klen >= sizeof buf || memcmp(key, "t|", 2) != 0)
        return 0;
    memcpy(buf, key, klen);
    buf[klen] = '\0';
    net = buf + 2;
    if ((sender = strchr(net, '|')) == NULL)
        return 0;
    *sender++ = '\0';
    if ((rcpt = strchr(sender, '|')) == NULL)
        return 0;
    *rcpt = '\0';
    if (strncmp(net, "spf:", 4) == 0) {
        if (org_domain(net + 4, org, sizeof org) == 0) {
            ids->id[ids->n].kind = REP_SPF;
            util_strlcpy(ids->id[ids->n].value, org, sizeof ids->id[0].value);
            ids->n++;
        }
    } else {
        struct net_cidr c;
        if (net_parse_cidr(net, &c) == 0) {
            ids->id[ids->n].kind = REP_NET;
            net_format_cidr(&c, ids->id[ids->n].value, sizeof ids->id[0].value);
            ids->n++;
        }
    }
    (void)cfg;
    if ((at = strrchr(sender, '@')) != NULL && org_domain(at + 1, org, sizeof org) == 0) {
        ids->id[ids->n].kind = REP_FROM;
        util_strlcpy(ids->id[ids->n].value, org, sizeof ids->id[0].value);
        ids->n++;
    }
    for (int i = 0; i < ids->n; i++)
        if (rep_make_key(ids->id[i].kind, ids->id[i].value, ids->id[i].key,
                         sizeof ids->id[i].key) < 0)
            return ids->n = 0;
    return ids->n;
}

struct expire_run {
    const struct cfg *cfg;
    const struct rep_ids *ids;
    time_t now;
};

static int expire_update(void *arg, struct store_rec *rec, size_t n)
{
    struct expire_run *r = arg;
    struct rep_rec recs[REP_MAX_IDS];
    struct rep_lesson l[REP_MAX_LESSONS];
    int k;

    for (size_t i = 0; i < n; i++)
        if (!rec[i].found || rep_rec_decode(rec[i].val, rec[i].len, &recs[i]) < 0)
            rep_rec_new(&r->cfg->rep, &recs[i], r->now);
    k = rep_plan_expire(r->ids, l, REP_MAX_LESSONS);
    rep_apply(&r->cfg->rep, r->ids, recs, l, k, r->now);
    for (size_t i = 0; i < n; i++) {
        rec[i].len = rep_rec_encode(&recs[i], rec[i].val);
        rec[i].expires = rep_rec_expires(&r->cfg->rep, &recs[i]);
        rec[i].action = STORE_WRITE;
    }
    return 0;
}

void decide_expired(void *arg, const char *key, size_t klen, const void *val, size_t vlen,
                    time_t expired)
{
    struct decider *d = arg;
    struct rec_triplet t;
    struct rep_ids ids;
    struct store_rec rec[REP_MAX_IDS];
    struct expire_run r;
    struct cfg *cfg;
    struct store *st = decider_store(d);

    /* a passed triplet that ran out is no abandonment; neither is an
     * undecodable one (nothing to learn from it) */
    if (st == NULL || rec_triplet_decode(val, vlen, &t) < 0 || t.passes != 0)
        return;
    if ((cfg = cfg_current()) == NULL)
        return;
    if (cfg->rep.enabled && expire_ids(cfg, key, klen, &ids) > 0) {
        memset(rec, 0, sizeof rec);
        for (int i = 0; i < ids.n; i++)
            rec[i].key = ids.id[i].key;
        r.cfg = cfg;
        r.ids = &ids;
        r.now = expired;
        if (store_update(st, rec, (size_t)ids.n, expired, expire_update, &r) != STORE_OK)
            log_warn("store: abandonment of %.*s not learnt", (int)(klen > 200 ? 200 : klen),
                     key);
    }
    cfg_release(cfg);
}
