/*
 * decide.c - facts + store + policy; see decide.h
 */
#include "autoconf.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decide.h"
#include "decide_rep.h"
#include "greylist.h"
#include "iprev.h"
#include "log.h"
#include "record.h"
#include "spf.h"
#include "util.h"
#include "whitelist.h"

#define ADMIN_STAMP_KEY "v|whitelist"
#define STAMP_MAX 16

struct decider {
    struct store *st;                   /* NULL: no store */
    /* the mirror of the admin whitelist, shared by all threads */
    pthread_rwlock_t admin_lock;
    struct wl *admin_wl;
    unsigned char admin_stamp[STAMP_MAX];
    size_t admin_stamp_len;             /* (size_t)-1: never loaded */
    uint64_t n_accepted, n_tempfailed, n_rejected, n_errors;
};

struct decider *decider_new(struct store *st)
{
    struct decider *d = calloc(1, sizeof *d);
    if (d == NULL)
        return NULL;
    d->st = st;
    pthread_rwlock_init(&d->admin_lock, NULL);
    d->admin_stamp_len = (size_t)-1;
    return d;
}

struct store *decider_store(struct decider *d)
{
    return d != NULL ? d->st : NULL;
}

void decider_free(struct decider *d)
{
    if (d == NULL)
        return;
    wl_free(d->admin_wl);
    pthread_rwlock_destroy(&d->admin_lock);
    free(d);
}

/* decider_note - count a final answer */
static void decider_note(struct decider *d, const struct verdict *v)
{
    if (v->reason == R_ERROR)
        __atomic_add_fetch(&d->n_errors, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(v->action == V_ACCEPT   ? &d->n_accepted
                       : v->action == V_REJECT ? &d->n_rejected
                                               : &d->n_tempfailed,
                       1, __ATOMIC_RELAXED);
}

void decider_counters(struct decider *d, struct decide_counters *out)
{
    out->accepted = __atomic_load_n(&d->n_accepted, __ATOMIC_RELAXED);
    out->tempfailed = __atomic_load_n(&d->n_tempfailed, __ATOMIC_RELAXED);
    out->rejected = __atomic_load_n(&d->n_rejected, __ATOMIC_RELAXED);
    out->errors = __atomic_load_n(&d->n_errors, __ATOMIC_RELAXED);
}

void decider_forget_admin(struct decider *d)
{
    pthread_rwlock_wrlock(&d->admin_lock);
    wl_free(d->admin_wl);
    d->admin_wl = NULL;
    d->admin_stamp_len = (size_t)-1;
    pthread_rwlock_unlock(&d->admin_lock);
}

int decide_admin_bump(struct store *st)
{
    unsigned char stamp[STAMP_MAX];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* time plus a random-ish part: two bumps in one nanosecond still differ */
    uint64_t a = (uint64_t)ts.tv_sec, b = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32)
                                         ^ util_hash64(&ts, sizeof ts);
    memcpy(stamp, &a, 8);
    memcpy(stamp + 8, &b, 8);
    return store_put(st, ADMIN_STAMP_KEY, stamp, sizeof stamp, 0);
}

/* admin_load_one - one "w|TYPE|VALUE" record into the mirror */
static int admin_load_one(void *arg, const char *key, size_t klen, const void *val,
                          size_t vlen, time_t expires)
{
    struct wl *wl = arg;
    char buf[STORE_MAX_KEY], *type, *value;
    enum wl_type t;
    const char *why;

    (void)val;
    (void)vlen;
    if (klen >= sizeof buf)
        return 0;
    memcpy(buf, key, klen);
    buf[klen] = '\0';
    type = buf + 2;
    if ((value = strchr(type, '|')) == NULL)
        return 0;
    *value++ = '\0';
    if (wl_parse_type(type, &t) < 0 || wl_add(wl, t, value, expires, &why) < 0)
        log_warn("store: ignoring bad whitelist record %.*s", (int)klen, key);
    return 0;
}

/* admin_refresh - reload the mirror if the stamp changed; -1 on store error */
static int admin_refresh(struct decider *d, time_t now)
{
    unsigned char stamp[STAMP_MAX];
    size_t len = sizeof stamp;
    struct wl *fresh;
    int rc = store_get(d->st, ADMIN_STAMP_KEY, stamp, &len, NULL, now);

    if (rc == STORE_ERROR)
        return -1;
    if (rc == STORE_NOTFOUND)
        len = 0;
    pthread_rwlock_rdlock(&d->admin_lock);
    int same = d->admin_stamp_len == len && memcmp(d->admin_stamp, stamp, len) == 0;
    pthread_rwlock_unlock(&d->admin_lock);
    if (same)
        return 0;
    fresh = wl_new();
    if (store_iterate(d->st, "w|", now, admin_load_one, fresh) != STORE_OK) {
        wl_free(fresh);
        return -1;
    }
    pthread_rwlock_wrlock(&d->admin_lock);
    wl_free(d->admin_wl);
    d->admin_wl = fresh;
    memcpy(d->admin_stamp, stamp, len);
    d->admin_stamp_len = len;
    pthread_rwlock_unlock(&d->admin_lock);
    return 0;
}

/* admin_stamp_copy - the mirror's stamp, to compare with the stored one;
 * its length, or (size_t)-1 when the mirror was never loaded */
static size_t admin_stamp_copy(struct decider *d, unsigned char *stamp)
{
    size_t len;
    pthread_rwlock_rdlock(&d->admin_lock);
    len = d->admin_stamp_len;
    if (len != (size_t)-1)
        memcpy(stamp, d->admin_stamp, len);
    pthread_rwlock_unlock(&d->admin_lock);
    return len;
}

/* explainf - append one line to the explanation, if wanted */
static void explainf(char *buf, size_t len, const char *fmt, ...)
{
    size_t used;
    va_list ap;
    if (buf == NULL)
        return;
    used = strlen(buf);
    if (used + 1 >= len)
        return;
    va_start(ap, fmt);
    vsnprintf(buf + used, len - used, fmt, ap);
    va_end(ap);
    used = strlen(buf);
    if (used + 1 < len) {
        buf[used] = '\n';
        buf[used + 1] = '\0';
    }
}

struct explain_buf {
    char *buf;
    size_t len;
};

/* explain_line - drep_explain's output into the explanation */
static void explain_line(void *arg, const char *line)
{
    struct explain_buf *e = arg;
    explainf(e->buf, e->len, "%s", line);
}

void decide_triplet_key(const struct cfg *cfg, const struct net_addr *client,
                        const char *spf_domain, const struct env_addr *sender,
                        const struct env_addr *rcpt, char *key, size_t len)
{
    char net[GREY_DOMAIN_MAX + 8], s[GREY_PART_MAX + 1], r[GREY_PART_MAX + 1];
    struct net_cidr c;

    if (spf_domain != NULL) {
        /* senders retrying from another address of their pool still match */
        memcpy(net, "spf:", 4);
        grey_key_part(spf_domain, strlen(spf_domain), 0, 0, net + 4, GREY_DOMAIN_MAX + 1);
    } else {
        grey_client_net(&cfg->grey, client, &c);
        net_format_cidr(&c, net, sizeof net);
    }
    grey_normalise_sender(sender, s, sizeof s);
    grey_normalise_rcpt(rcpt, r, sizeof r);
    if ((size_t)snprintf(key, len, "t|%s|%s|%s", net, s, r) >= len)
        log_panic("decide_triplet_key: key longer than %zu bytes", len);
}

void decide_client_key(const struct net_addr *client, char *key, size_t len)
{
    char a[NET_STRLEN];
    snprintf(key, len, "c|%s", net_format(client, a, sizeof a));
}


/* One decision's store update: what the callback needs, what it found. */
struct decide_run {
    const struct cfg *cfg;
    unsigned delay;
    time_t now;
    int dry_run;
    int check_stamp;            /* compare the stored stamp with the mirror's */
    unsigned char stamp[STAMP_MAX];
    size_t stamp_len;           /* (size_t)-1: the mirror was never loaded */
    int stale;                  /* the admin whitelist changed: nothing decided */
    struct decide_rep *rep;     /* the reputation slots and what they say */
    struct verdict v;
};

/* decide_update - the store_update callback: the pure policy, nothing else */
static int decide_update(void *arg, struct store_rec *rec, size_t n)
{
    struct decide_run *r = arg;
    const struct store_rec *stamp = &rec[SLOT_STAMP];
    size_t len = stamp->found ? stamp->len : 0;

    unsigned delay = r->delay;
    int no_auto = 0;

    (void)n;
    /* the store may run this more than once (read first, then the write):
     * every output is set afresh */
    r->stale = 0;
    if (r->check_stamp && (len != r->stamp_len || memcmp(stamp->val, r->stamp, len) != 0)) {
        r->stale = 1;
        return -1;
    }
    /* reputation first (greytrap, bad, rate limit, trusted), then the
     * triplet with the delay the sender's trust level asks for */
    if (!drep_judge(r->rep, r->cfg, rec, r->now, &r->v, &delay, &no_auto)) {
        struct cfg_greylist g = r->cfg->grey;
        if (no_auto)
            g.auto_whitelist = 0;   /* a suspicious history outweighs it */
        policy_records(&g, delay, &rec[SLOT_TRIPLET], &rec[SLOT_CLIENT], r->now, &r->v);
    }
    drep_finish(r->rep, r->cfg, rec, r->now, &r->v);
    return r->dry_run ? -1 : 0;
}

/* decide_error - no decision possible: the configured on_error answer */
static void decide_error(const struct cfg *cfg, struct verdict *v, const char *what)
{
    memset(v, 0, sizeof *v);
    v->reason = R_ERROR;
    v->action = cfg->on_error == ON_ERROR_ACCEPT ? V_ACCEPT : V_TEMPFAIL;
    snprintf(v->why, sizeof v->why, "%s: on_error %s", what,
             cfg->on_error == ON_ERROR_ACCEPT ? "accept" : "tempfail");
}

/* list_match - does an entry of one list match client, sender or rcpt? */
static int list_match(const struct wl *list, const struct decide_input *in, const char *host,
                      time_t now, char *what, size_t len)
{
    const struct net_addr *client = in->facts->client_ip ? &in->facts->client : NULL;
    if (list == NULL)
        return 0;
    return wl_match_client(list, client, host, now, what, len)
           || wl_match_sender(list, in->sender, now, what, len)
           || wl_match_rcpt(list, in->rcpt, now, what, len);
}

/* admin_match - does the mirror of the admin whitelist match? */
static int admin_match(struct decider *d, const struct decide_input *in, const char *host,
                       time_t now, char *what, size_t len)
{
    int hit;
    pthread_rwlock_rdlock(&d->admin_lock);
    hit = list_match(d->admin_wl, in, host, now, what, len);
    pthread_rwlock_unlock(&d->admin_lock);
    if (hit) {
        size_t l = strlen(what);
        snprintf(what + l, len - l, " (admin)");
    }
    return hit;
}

/*
 * whitelisted - does a static or admin entry vouch for this recipient?
 *   1 yes (what names the entry), 0 no, -1 the store failed.  The static
 *   lists come first, so they work while the store is down.  fresh: reload
 *   the admin mirror before looking (before a refusal, or once the stamp
 *   changed); otherwise a mirror hit is confirmed against the store (the
 *   entry may be gone) and a miss stands until the stamp read with the
 *   triplet says otherwise.
 */
static int whitelisted(struct decider *d, const struct cfg *cfg, const struct decide_input *in,
                       const char *host, time_t now, int fresh, char *what, size_t len)
{
    if (list_match(cfg->wl, in, host, now, what, len))
        return 1;
    if (d->st == NULL)
        return admin_match(d, in, host, now, what, len);
    if (!fresh && !admin_match(d, in, host, now, what, len))
        return 0;
    if (admin_refresh(d, now) < 0)
        return -1;
    return admin_match(d, in, host, now, what, len);
}

/* explain_checks - the checks' findings as explanation lines; the host
 * name a host entry may match: only one whose PTR maps back to the client */
static const char *explain_checks(const struct msg_facts *mf, const char *host, char *explain,
                                  size_t explain_len)
{
    if (mf->iprev_done) {
        host = mf->iprev_host[0] ? mf->iprev_host : NULL;
        explainf(explain, explain_len, "iprev: %s%s%s%s", iprev_result_name(mf->iprev),
                 host ? " (" : "", host ? host : "", host ? ")" : "");
        if (mf->generic)
            explainf(explain, explain_len, "iprev: %s looks generic/dynamic", host);
    }
    if (mf->spf_done)
        explainf(explain, explain_len, "spf: %s for %s%s", spf_result_name(mf->spf),
                 mf->spf_domain[0] ? mf->spf_domain : "(no domain)",
                 mf->spf_helo ? " (HELO identity)" : "");
    if (mf->dnsbl_done)
        explainf(explain, explain_len, "dnsbl: score %d%s%s%s", mf->dnsbl_score,
                 mf->dnsbl_listed[0] ? " (" : "", mf->dnsbl_listed,
                 mf->dnsbl_listed[0] ? ")" : "");
    return host;
}

/*
 * greylist - the triplet decides, in one atomic store update that also
 *   reads the admin whitelist's stamp.  0: v is the verdict; 1: the admin
 *   whitelist changed meanwhile and now vouches (what names the entry);
 *   -1: the store failed.
 */
static int greylist(struct decider *d, const struct cfg *cfg, const struct decide_input *in,
                    const struct policy_facts *f, const char *host, unsigned delay, time_t now,
                    int dry_run, char *tkey, size_t tlen, struct decide_rep *x,
                    struct verdict *v, char *what, size_t wlen)
{
    struct store_rec rec[SLOT_COUNT];
    struct decide_run r;
    size_t nslots;
    char ckey[NET_STRLEN + 4];
    const struct net_addr *client = &in->facts->client;

    decide_triplet_key(cfg, client, policy_spf_domain(f), in->sender, in->rcpt, tkey, tlen);
    decide_client_key(client, ckey, sizeof ckey);
    memset(&r, 0, sizeof r);
    r.cfg = cfg;
    r.delay = delay;
    r.now = now;
    r.dry_run = dry_run;
    r.rep = x;
    drep_prepare(x, cfg, in, now);
    for (int round = 0;; round++) {
        memset(rec, 0, sizeof rec);
        rec[SLOT_TRIPLET].key = tkey;
        rec[SLOT_CLIENT].key = ckey;
        rec[SLOT_STAMP].key = ADMIN_STAMP_KEY;
        rec[SLOT_STAMP].compare_only = 1;
        nslots = drep_slots(x, rec);
        r.stamp_len = admin_stamp_copy(d, r.stamp);
        r.check_stamp = round == 0;     /* a second change meanwhile waits */
        if (store_update(d->st, rec, nslots, now, decide_update, &r) != STORE_OK)
            return -1;
        if (!r.stale)
            break;
        /* greyrepctl changed the admin whitelist: look again */
        int w = whitelisted(d, cfg, in, host, now, 1, what, wlen);
        if (w != 0)
            return w;
    }
    *v = r.v;
    if (v->reason == R_DEFER)
        util_strlcpy(v->defer_key, tkey, sizeof v->defer_key);
    if (v->bad_record)
        log_warn("store: a record for %s or its sender's reputation did not decode; "
                 "treated as absent", tkey);
    return 0;
}

void decide_rcpt(struct decider *d, const struct cfg *cfg, const struct decide_input *in,
                 time_t now, int dry_run, struct verdict *v, char *explain,
                 size_t explain_len)
{
    const struct msg_facts *mf = in->facts;
    struct policy_facts f = {0, in->authenticated, NULL, mf};
    struct policy_wait wait = {0};
    char what[WL_VALUE_MAX + 32], tkey[STORE_MAX_KEY], addr[NET_STRLEN];
    const char *host = in->verified_host;
    int w = 0, decided, greylisted = 0;
    struct decide_rep rep;

    if (explain)
        explain[0] = '\0';
    if (!mf->client_ip) {
        f.trusted = 1;
        explainf(explain, explain_len, "client: not an IP connection (local)");
    } else {
        net_format(&mf->client, addr, sizeof addr);
        f.trusted = cfg_trusted(cfg, &mf->client);
        explainf(explain, explain_len, "client %s: %s", addr,
                 f.trusted ? "in trusted_networks" : "not in trusted_networks");
    }
    explainf(explain, explain_len, "authentication: %s",
             in->authenticated ? "authenticated session" : "none");
    if (!f.trusted && !f.authenticated) {
        host = explain_checks(mf, host, explain, explain_len);
        w = whitelisted(d, cfg, in, host, now, 0, what, sizeof what);
        f.whitelisted = w > 0 ? what : NULL;
    }
    decided = w >= 0 && policy_static(cfg, &f, v);
    if (decided && v->action != V_ACCEPT && d->st != NULL) {
        /* before refusing on the facts alone, make sure no fresh admin
         * entry vouches for the sender */
        if ((w = whitelisted(d, cfg, in, host, now, 1, what, sizeof what)) > 0) {
            f.whitelisted = what;
            policy_static(cfg, &f, v);
        }
    }
    if (w < 0) {
        decide_error(cfg, v, "store failure reading the admin whitelist");
        explainf(explain, explain_len, "%s", v->why);
        goto done;
    }
    if (!decided && d->st == NULL) {
        decide_error(cfg, v, "no store");
        goto done;
    }
    if (!decided) {
        policy_delay(cfg, &f, &wait);
        w = greylist(d, cfg, in, &f, host, wait.delay, now, dry_run, tkey, sizeof tkey, &rep, v,
                     what, sizeof what);
        if (w < 0) {
            decide_error(cfg, v, "store failure");
            explainf(explain, explain_len, "%s", v->why);
            goto done;
        }
        if (w > 0) {
            f.whitelisted = what;
            policy_static(cfg, &f, v);
        } else {
            greylisted = 1;
            if (explain != NULL)
                drep_explain(&rep, explain_line, &(struct explain_buf){explain, explain_len});
        }
    }
    if (!f.trusted && !f.authenticated)
        explainf(explain, explain_len, "whitelist: %s",
                 f.whitelisted ? f.whitelisted : "no entry matches");
    if (!greylisted) {
        explainf(explain, explain_len, "verdict: %s%s",
                 v->reason == R_WHITELIST ? "whitelisted: " : "", v->why);
        goto done;
    }
    if (wait.why[0] != '\0') {
        size_t used = strlen(v->why);
        snprintf(v->why + used, sizeof v->why - used, " (%s: %s)",
                 wait.suspicious ? "suspicious" : "note", wait.why);
    }
    if (explain != NULL) {
        char shown[STORE_MAX_KEY];
        util_strlcpy(shown, tkey + 2, sizeof shown);
        for (char *p = shown; *p; p++)
            if (*p == '|')
                *p = ' ';
        explainf(explain, explain_len, "triplet %s: %s", shown, v->why);
    }
done:
    if (!dry_run)
        decider_note(d, v);
}
