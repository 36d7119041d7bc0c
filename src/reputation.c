/*
 * reputation.c - identities, decayed counters, trust levels, rate limits;
 * see reputation.h
 *
 * Counters are floats: a decayed count is a fraction anyway, binary32 has
 * 24 bits of mantissa (exact integers to 16 million, far past what decay
 * lets a counter reach with any useful half-life) and keeps a record at
 * 85 bytes.  Times are whole seconds, as in record.c.
 */
#include "autoconf.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "greylist.h"
#include "record.h"
#include "reputation.h"
#include "util.h"

#define REP_RATE_HALF_LIFE 3600.0  /* the recipient rate estimate's window */
#define REP_TRAP_WEIGHT 10.0       /* one trap hit is this much bad evidence */
#define REP_REC_LEN 85
#define REP_TOKEN_EPS 1e-4         /* float rounding of a refill: 0.99999 is 1 */

static const char *const rep_kind_names[REP_NKINDS] = {"ip", "net", "ptr", "spf", "dkim",
                                                       "from"};
/* weight of each kind in the message score */
static const double rep_weight[REP_NKINDS] = {2.0, 1.0, 2.0, 3.0, 3.0, 0.5};

const char *rep_kind_name(enum rep_kind k)
{
    return (unsigned)k < REP_NKINDS ? rep_kind_names[k] : "?";
}

const char *rep_level_name(enum rep_level l)
{
    static const char *const names[] = {"trusted", "neutral", "defer", "suspicious", "bad"};
    return (unsigned)l <= REP_BAD ? names[l] : "?";
}

const char *rep_event_name(enum rep_event e)
{
    static const char *const names[] = {"rcpt",      "pass",      "message",   "spf-pass",
                                        "spf-fail",  "dkim-pass", "dkim-fail", "abandoned",
                                        "trap",      "seen"};
    return (unsigned)e <= REP_EV_SEEN ? names[e] : "?";
}

/* ---- identities -------------------------------------------------------- */

int rep_make_key(enum rep_kind k, const char *value, char *key, size_t len)
{
    char part[GREY_PART_MAX + 1];
    size_t n = strlen(value);

    if ((unsigned)k >= REP_NKINDS || n == 0 || len < 16)
        return -1;
    grey_key_part(value, n, 0, 0, part, sizeof part);
    if ((size_t)snprintf(key, len, "r|%s|%s", rep_kind_names[k], part) >= len)
        return -1;
    return 0;
}

int rep_key_ok(const char *key)
{
    const char *v;
    int k;

    if (strncmp(key, "r|", 2) != 0)
        return 0;
    for (k = 0; k < REP_NKINDS; k++) {
        size_t n = strlen(rep_kind_names[k]);
        if (strncmp(key + 2, rep_kind_names[k], n) == 0 && key[2 + n] == '|')
            break;
    }
    if (k == REP_NKINDS)
        return 0;
    v = key + 3 + strlen(rep_kind_names[k]);
    if (*v == '\0' || strlen(key) >= REP_KEY_MAX)
        return 0;
    for (; *v; v++)
        if (*v < 0x21 || *v > 0x7e || *v == '|')
            return 0;
    return 1;
}

/* rep_add - append one identity unless it is there already; 0 or -1 */
static int rep_add(struct rep_ids *ids, enum rep_kind k, const char *value, int candidate)
{
    struct rep_id *id;

    if (ids->n >= REP_MAX_IDS || value[0] == '\0' || strlen(value) >= ORG_NAME_MAX)
        return -1;
    for (int i = 0; i < ids->n; i++)
        if (ids->id[i].kind == k && strcmp(ids->id[i].value, value) == 0)
            return 0;
    id = &ids->id[ids->n];
    memset(id, 0, sizeof *id);
    id->kind = k;
    id->candidate = candidate;
    memcpy(id->value, value, strlen(value) + 1);
    if (rep_make_key(k, value, id->key, sizeof id->key) < 0)
        return -1;
    ids->n++;
    return 0;
}

int rep_identities(const struct cfg_greylist *g, const struct msg_facts *f,
                   const struct env_addr *sender, enum rep_stage stage, struct rep_ids *ids)
{
    char buf[ORG_NAME_MAX];

    memset(ids, 0, sizeof *ids);
    if (f != NULL && f->client_ip) {
        struct net_cidr net;
        net_format(&f->client, buf, sizeof buf);
        rep_add(ids, REP_IP, buf, 0);
        grey_client_net(g, &f->client, &net);
        net_format_cidr(&net, buf, sizeof buf);
        rep_add(ids, REP_NET, buf, 0);
    }
    /* a generic name's organisational domain is its access provider's:
     * shared by every customer, it says nothing about this sender */
    if (f != NULL && f->iprev_done && f->iprev == IPREV_PASS && !f->generic
        && org_domain(f->iprev_host, buf, sizeof buf) == 0)
        rep_add(ids, REP_PTR, buf, 0);
    if (f != NULL && f->spf_done && f->spf == SPF_PASS
        && org_domain(f->spf_domain, buf, sizeof buf) == 0)
        rep_add(ids, REP_SPF, buf, 0);
    if (sender != NULL && !(sender->flags & (ENV_NULL | ENV_MALFORMED))
        && sender->domain[0] != '[' && org_domain(sender->domain, buf, sizeof buf) == 0) {
        memcpy(ids->sender_org, buf, strlen(buf) + 1);
        rep_add(ids, REP_FROM, buf, 0);
    }
    if (stage == REP_AT_RCPT && ids->sender_org[0] != '\0')
        rep_add(ids, REP_DKIM, ids->sender_org, 1);
    if (stage == REP_AT_EOM && f != NULL && f->dkim_done)
        for (int i = 0; i < f->dkim_n && i < FACTS_DKIM_MAX; i++)
            if (f->dkim[i].result == DKIMV_PASS
                && org_domain(f->dkim[i].domain, buf, sizeof buf) == 0)
                rep_add(ids, REP_DKIM, buf, 0);
    return ids->n;
}

int rep_parse_identity(const struct cfg_greylist *g, const char *text, struct rep_id *out,
                       const char **why)
{
    const char *colon = strchr(text, ':');
    char value[ORG_NAME_MAX];
    int k;

    memset(out, 0, sizeof *out);
    if (colon == NULL) {
        *why = "not KIND:VALUE (ip, net, ptr, spf, dkim, from)";
        return -1;
    }
    for (k = 0; k < REP_NKINDS; k++)
        if (strlen(rep_kind_names[k]) == (size_t)(colon - text)
            && strncmp(text, rep_kind_names[k], (size_t)(colon - text)) == 0)
            break;
    if (k == REP_NKINDS) {
        *why = "unknown identity kind (ip, net, ptr, spf, dkim, from)";
        return -1;
    }
    text = colon + 1;
    if (k == REP_IP) {
        struct net_addr a;
        if (net_parse(text, &a) < 0) {
            *why = "not an IP address";
            return -1;
        }
        net_format(&a, value, sizeof value);
    } else if (k == REP_NET) {
        struct net_cidr c;
        if (net_parse_cidr(text, &c) < 0) {
            *why = "not an IP address or CIDR network";
            return -1;
        }
        if (strchr(text, '/') == NULL)  /* an address: its greylist network */
            grey_client_net(g, &c.addr, &c);
        net_format_cidr(&c, value, sizeof value);
    } else if (org_domain(text, value, sizeof value) < 0) {
        *why = "not a domain name below a public suffix";
        return -1;
    }
    out->kind = (enum rep_kind)k;
    memcpy(out->value, value, strlen(value) + 1);
    if (rep_make_key(out->kind, value, out->key, sizeof out->key) < 0) {
        *why = "identity too long";
        return -1;
    }
    return 0;
}

/* ---- records ----------------------------------------------------------- */

void rep_rec_new(const struct cfg_rep *c, struct rep_rec *r, time_t now)
{
    memset(r, 0, sizeof *r);
    r->first_seen = r->last_seen = r->decayed_at = r->bucket_at = (uint64_t)now;
    r->tokens = (float)c->rl_burst;
}

/* putf - one binary32, big-endian */
static unsigned char *putf(unsigned char *p, float f)
{
    uint32_t v;
    memcpy(&v, &f, sizeof v);
    return rec_put32(p, v);
}

/* getf - one binary32; -1 unless finite and not negative */
static int getf(const unsigned char *p, float *out)
{
    uint32_t v = rec_get32(p);
    memcpy(out, &v, sizeof v);
    return isfinite(*out) && *out >= 0 ? 0 : -1;
}

/* The counters in their encoded order. */
#define REP_NFLOATS 11
static float *rep_floats(struct rep_rec *r, int i)
{
    float *f[REP_NFLOATS] = {&r->accepted, &r->passes,   &r->abandoned, &r->spf_pass,
                             &r->spf_fail, &r->dkim_pass, &r->dkim_fail, &r->trap_hits,
                             &r->rcpts,    &r->rate,     &r->tokens};
    return f[i];
}

/* Layout, version 1 (85 bytes): version, first_seen, last_seen,
 * decayed_at, bucket_at, penalty_until (8 bytes each), then accepted,
 * passes, abandoned, spf_pass, spf_fail, dkim_pass, dkim_fail, trap_hits,
 * rcpts, rate, tokens (4 bytes each). */
size_t rep_rec_encode(const struct rep_rec *r, unsigned char *buf)
{
    struct rep_rec copy = *r;
    unsigned char *p = buf;
    *p++ = REP_REC_VERSION;
    p = rec_put64(p, r->first_seen);
    p = rec_put64(p, r->last_seen);
    p = rec_put64(p, r->decayed_at);
    p = rec_put64(p, r->bucket_at);
    p = rec_put64(p, r->penalty_until);
    for (int i = 0; i < REP_NFLOATS; i++)
        p = putf(p, *rep_floats(&copy, i));
    return (size_t)(p - buf);
}

int rep_rec_decode(const unsigned char *buf, size_t len, struct rep_rec *r)
{
    const unsigned char *p = buf + 41;

    if (len != REP_REC_LEN || buf[0] != REP_REC_VERSION)
        return -1;
    memset(r, 0, sizeof *r);
    r->first_seen = rec_get64(buf + 1);
    r->last_seen = rec_get64(buf + 9);
    r->decayed_at = rec_get64(buf + 17);
    r->bucket_at = rec_get64(buf + 25);
    r->penalty_until = rec_get64(buf + 33);
    for (int i = 0; i < REP_NFLOATS; i++, p += 4)
        if (getf(p, rep_floats(r, i)) < 0)
            return -1;
    return 0;
}

time_t rep_rec_expires(const struct cfg_rep *c, const struct rep_rec *r)
{
    uint64_t e = r->last_seen + 4ULL * c->half_life;
    if (r->penalty_until > e)
        e = r->penalty_until;
    return (time_t)e;
}

/* ---- decay and scores -------------------------------------------------- */

void rep_decay(const struct cfg_rep *c, struct rep_rec *r, time_t now)
{
    double dt, f, fr;

    if ((uint64_t)now <= r->decayed_at)
        return;
    dt = (double)((uint64_t)now - r->decayed_at);
    f = c->half_life > 0 ? exp2(-dt / c->half_life) : 0.0;
    fr = exp2(-dt / REP_RATE_HALF_LIFE);
    for (int i = 0; i < REP_NFLOATS - 2; i++) {
        float *v = rep_floats(r, i);
        *v = (float)(*v * f);
    }
    r->rate = (float)(r->rate * fr);
    r->decayed_at = (uint64_t)now;
}

double rep_good(const struct rep_rec *r)
{
    /* a message that passed greylisting is a pass and an accepted message:
     * count it once */
    return r->passes > r->accepted ? r->passes : r->accepted;
}

double rep_bad(enum rep_kind k, const struct rep_rec *r)
{
    /* a forged sender domain is the forger's deed, not the domain's */
    if (k == REP_FROM)
        return r->abandoned;
    return (double)r->abandoned + r->spf_fail + r->dkim_fail + REP_TRAP_WEIGHT * r->trap_hits;
}

double rep_score(enum rep_kind k, const struct rep_rec *r)
{
    double good = rep_good(r), bad = rep_bad(k, r);
    return 50.0 + 50.0 * (good - bad) / (good + bad + REP_PRIOR);
}

int rep_established(const struct cfg_rep *c, enum rep_kind k, const struct rep_rec *r,
                    time_t now)
{
    if (k == REP_FROM || r->passes <= 0 || rep_good(r) + REP_SLACK < c->min_messages
        || r->penalty_until > (uint64_t)now)
        return 0;
    if ((uint64_t)now < r->first_seen || (uint64_t)now - r->first_seen < c->min_age)
        return 0;
    /* silent for long, it may not be the same sender any more (a reassigned
     * address, a re-registered domain): trust is earned again */
    if ((uint64_t)now > r->last_seen && (uint64_t)now - r->last_seen > c->trust_lifetime)
        return 0;
    return rep_score(k, r) + REP_SLACK >= c->trust_score;
}

double rep_usual_rate(const struct cfg_rep *c, const struct rep_rec *r)
{
    /* a steady r an hour decays to a count of r * half_life / ln 2 */
    if (c->half_life == 0)
        return 0;
    return r->rcpts * M_LN2 * 3600.0 / c->half_life;
}

double rep_bucket(const struct cfg_rep *c, enum rep_kind k, struct rep_rec *r, time_t now,
                  int established)
{
    double refill = c->rl_rate, cap = c->rl_burst, t = r->tokens;

    (void)k;
    if (established) {
        double usual = c->rl_multiple * rep_usual_rate(c, r);
        if (usual > refill)
            refill = usual;
        if (refill > cap)
            cap = refill;
    }
    if ((uint64_t)now > r->bucket_at)
        t += (double)((uint64_t)now - r->bucket_at) * refill / 3600.0;
    if (t > cap)
        t = cap;
    r->tokens = (float)t;
    if ((uint64_t)now > r->bucket_at)
        r->bucket_at = (uint64_t)now;
    return t;
}

/* ---- trust ------------------------------------------------------------- */

/* rep_selective - verified non-generic rDNS and an SPF pass */
static int rep_selective(const struct msg_facts *f)
{
    return f != NULL && f->iprev_done && f->iprev == IPREV_PASS && !f->generic
           && f->iprev_host[0] != '\0' && f->spf_done && f->spf == SPF_PASS;
}

/* rep_set - the level and the rule that decided */
static void rep_set(struct rep_assessment *a, enum rep_level l, const char *rule, int who)
{
    a->level = l;
    a->rule = rule;
    a->decider = who;
}

void rep_assess(const struct cfg_rep *c, const struct msg_facts *f, const struct rep_ids *ids,
                struct rep_rec *recs, const int *found, int auto_listed, time_t now,
                struct rep_assessment *a)
{
    double sum = 0, weight = 0, strong_sum = 0, strong_weight = 0;
    int trap = -1, est = -1, est_domain = 0, candidate = -1, evidence = 0;

    memset(a, 0, sizeof *a);
    a->rate_id = -1;
    for (int i = 0; i < ids->n; i++) {
        const struct rep_id *id = &ids->id[i];
        struct rep_rec *r = &recs[i];
        double conf;

        if (!found[i])
            rep_rec_new(c, r, now);
        rep_decay(c, r, now);
        a->id_score[i] = rep_score(id->kind, r);
        a->established[i] = found[i] && rep_established(c, id->kind, r, now);
        if (id->candidate) {
            candidate = a->established[i] ? i : candidate;
            continue;
        }
        if ((id->kind == REP_IP || id->kind == REP_NET) && r->penalty_until > (uint64_t)now
            && trap < 0)
            trap = i;
        conf = (rep_good(r) + rep_bad(id->kind, r)) / REP_PRIOR;
        conf = conf > 1 ? 1 : conf;
        sum += rep_weight[id->kind] * conf * a->id_score[i];
        weight += rep_weight[id->kind] * conf;
        if (id->kind != REP_FROM) {
            strong_sum += rep_weight[id->kind] * conf * a->id_score[i];
            strong_weight += rep_weight[id->kind] * conf;
        }
        evidence |= conf > 0;
        if (a->established[i] && (est < 0 || rep_weight[id->kind] > rep_weight[ids->id[est].kind]))
            est = i;
        if (a->established[i] && id->kind != REP_IP && id->kind != REP_NET)
            est_domain = 1;
    }
    a->score = weight > 0 ? sum / weight : 50.0;
    a->strong_score = strong_weight > 0 ? strong_sum / strong_weight : 50.0;

    if (trap >= 0)
        rep_set(a, REP_BAD, "greytrap", trap);
    else if (c->enabled && a->score <= c->bad_score && a->strong_score <= c->bad_score)
        rep_set(a, REP_BAD, "bad-history", -1);
    else if (c->enabled && a->score <= c->suspicious_score)
        rep_set(a, REP_SUSPICIOUS, "poor-history", -1);
    else if (c->enabled && est >= 0 && a->score + REP_SLACK >= c->trust_score)
        rep_set(a, REP_TRUSTED, "history", est);
    else if (auto_listed)
        rep_set(a, REP_TRUSTED, "auto-whitelist", -1);
    else if (c->selective && rep_selective(f))
        rep_set(a, REP_TRUSTED, "selective", -1);
    else if (c->enabled && c->defer_dkim && candidate >= 0)
        rep_set(a, REP_DEFER, "dkim-defer", candidate);
    else
        rep_set(a, REP_NEUTRAL, c->enabled && evidence ? "neutral" : "new", -1);

    if (!c->rl_enabled)
        return;
    for (int i = 0; i < ids->n; i++) {
        const struct rep_id *id = &ids->id[i];
        int e = a->established[i] || (id->kind == REP_IP && auto_listed);
        if (id->candidate || id->kind == REP_FROM)
            continue;
        if (!e && est_domain && (id->kind == REP_IP || id->kind == REP_NET))
            continue;
        if (rep_bucket(c, id->kind, &recs[i], now, e) < 1.0 - REP_TOKEN_EPS && a->rate_id < 0) {
            a->rate_limited = 1;
            a->rate_id = i;
        }
    }
}

/* ---- learning ---------------------------------------------------------- */

/* rep_lesson - append one lesson if there is room */
static void rep_lesson(struct rep_lesson *out, int max, int *n, int id, enum rep_event e)
{
    if (*n < max) {
        out[*n].id = id;
        out[*n].event = e;
        (*n)++;
    }
}

int rep_plan_rcpt(const struct rep_ids *ids, const struct msg_facts *f,
                  const struct rep_rcpt_outcome *o, struct rep_lesson *out, int max)
{
    int n = 0;

    for (int i = 0; i < ids->n; i++) {
        enum rep_kind k = ids->id[i].kind;
        int before = n;
        if (ids->id[i].candidate)
            continue;   /* read only: the message has not shown its DKIM yet */
        if (o->trap) {
            /* the client's deed: its address and network, nothing forgeable */
            if (k == REP_IP || k == REP_NET)
                rep_lesson(out, max, &n, i, REP_EV_TRAP);
            else
                rep_lesson(out, max, &n, i, REP_EV_SEEN);
            continue;
        }
        if (o->grey_passed)
            rep_lesson(out, max, &n, i, REP_EV_PASS);
        if (o->accepted)
            rep_lesson(out, max, &n, i, REP_EV_RCPT);
        /* the message and its SPF pass count once, when we take it; an SPF
         * fail for any attempt (it is bad evidence either way) */
        if (o->message)
            rep_lesson(out, max, &n, i, REP_EV_MESSAGE);
        if (o->message && f != NULL && f->spf_done && f->spf == SPF_PASS)
            rep_lesson(out, max, &n, i, REP_EV_SPF_PASS);
        if (o->first_rcpt && f != NULL && f->spf_done && f->spf == SPF_FAIL)
            rep_lesson(out, max, &n, i, REP_EV_SPF_FAIL);
        if (n == before)
            rep_lesson(out, max, &n, i, REP_EV_SEEN);
    }
    return n;
}

int rep_plan_eom(const struct rep_ids *ids, const struct msg_facts *f, int grey_passed,
                 struct rep_lesson *out, int max)
{
    int n = 0, pass = 0, failed = 0;

    if (f != NULL && f->dkim_done)
        for (int i = 0; i < f->dkim_n && i < FACTS_DKIM_MAX; i++) {
            pass |= f->dkim[i].result == DKIMV_PASS;
            failed |= f->dkim[i].result == DKIMV_FAIL;
        }
    for (int i = 0; i < ids->n; i++) {
        enum rep_kind k = ids->id[i].kind;
        if (ids->id[i].candidate || (!pass && !failed))
            continue;
        /* the DKIM domains were not known at RCPT: their share of the
         * message and of the pass (the others learnt them at RCPT) */
        if (k == REP_DKIM)
            rep_lesson(out, max, &n, i, REP_EV_MESSAGE);
        if (k == REP_DKIM && grey_passed)
            rep_lesson(out, max, &n, i, REP_EV_PASS);
        if (pass)
            rep_lesson(out, max, &n, i, REP_EV_DKIM_PASS);
        else if (failed && (k == REP_IP || k == REP_NET))
            rep_lesson(out, max, &n, i, REP_EV_DKIM_FAIL);
    }
    return n;
}

int rep_plan_expire(const struct rep_ids *ids, struct rep_lesson *out, int max)
{
    int n = 0;
    for (int i = 0; i < ids->n; i++)
        if (!ids->id[i].candidate)
            rep_lesson(out, max, &n, i, REP_EV_ABANDONED);
    return n;
}

void rep_learn(const struct cfg_rep *c, enum rep_kind k, struct rep_rec *r, enum rep_event e,
               time_t now)
{
    uint64_t u = (uint64_t)now;

    rep_decay(c, r, now);
    if (r->first_seen == 0 || u < r->first_seen)
        r->first_seen = u;
    if (u > r->last_seen)
        r->last_seen = u;
    switch (e) {
    case REP_EV_RCPT:
        r->rcpts += 1;
        r->rate += (float)M_LN2;  /* a steady r an hour settles at r */
        if (k != REP_FROM)     /* from has no bucket */
            r->tokens = r->tokens > 1 ? r->tokens - 1 : 0;
        break;
    case REP_EV_PASS: r->passes += 1; break;
    case REP_EV_MESSAGE: r->accepted += 1; break;
    case REP_EV_SPF_PASS: r->spf_pass += 1; break;
    case REP_EV_SPF_FAIL: r->spf_fail += 1; break;
    case REP_EV_DKIM_PASS: r->dkim_pass += 1; break;
    case REP_EV_DKIM_FAIL: r->dkim_fail += 1; break;
    case REP_EV_ABANDONED: r->abandoned += 1; break;
    case REP_EV_TRAP:
        r->trap_hits += 1;
        if (u + c->trap_penalty > r->penalty_until)
            r->penalty_until = u + c->trap_penalty;
        break;
    case REP_EV_SEEN: break;
    }
}

void rep_apply(const struct cfg_rep *c, const struct rep_ids *ids, struct rep_rec *recs,
               const struct rep_lesson *l, int n, time_t now)
{
    for (int i = 0; i < n; i++)
        if (l[i].id >= 0 && l[i].id < ids->n)
            rep_learn(c, ids->id[l[i].id].kind, &recs[l[i].id], l[i].event, now);
}

int rep_dkim_aligned(const struct rep_ids *ids, const struct msg_facts *f)
{
    char buf[ORG_NAME_MAX];

    if (ids->sender_org[0] == '\0' || f == NULL || !f->dkim_done)
        return 0;
    for (int i = 0; i < f->dkim_n && i < FACTS_DKIM_MAX; i++)
        if (f->dkim[i].result == DKIMV_PASS && org_domain(f->dkim[i].domain, buf, sizeof buf) == 0
            && strcmp(buf, ids->sender_org) == 0)
            return 1;
    return 0;
}

void rep_format(const struct rep_id *id, const struct rep_rec *r, double score, char *buf,
                size_t len)
{
    char first[32], last[32], pen[32];

    snprintf(buf, len,
             "%s:%s score=%.1f accepted=%.2f passes=%.2f abandoned=%.2f spf=%.2f/%.2f "
             "dkim=%.2f/%.2f traps=%.2f rcpts=%.2f rate=%.2f/h tokens=%.2f first=%s last=%s "
             "penalty=%s",
             rep_kind_name(id->kind), id->value, score, r->accepted, r->passes, r->abandoned,
             r->spf_pass, r->spf_fail, r->dkim_pass, r->dkim_fail, r->trap_hits, r->rcpts,
             r->rate, r->tokens, util_iso_time((time_t)r->first_seen, first, sizeof first),
             util_iso_time((time_t)r->last_seen, last, sizeof last),
             util_iso_time((time_t)r->penalty_until, pen, sizeof pen));
}
