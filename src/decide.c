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

#include "checks.h"
#include "decide.h"
#include "greylist.h"
#include "log.h"
#include "record.h"
#include "util.h"
#include "whitelist.h"

#define ADMIN_STAMP_KEY "v|whitelist"

/* The mirror of the admin whitelist, shared by all threads. */
static pthread_rwlock_t admin_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct wl *admin_wl;
static unsigned char admin_stamp[16];
static size_t admin_stamp_len = (size_t)-1;

static uint64_t n_accepted, n_tempfailed, n_rejected, n_errors;

void decide_note(enum verdict_action a, int error)
{
    if (error)
        __atomic_add_fetch(&n_errors, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(a == V_ACCEPT ? &n_accepted : a == V_REJECT ? &n_rejected : &n_tempfailed,
                       1, __ATOMIC_RELAXED);
}

void decide_counters(struct decide_counters *out)
{
    out->accepted = __atomic_load_n(&n_accepted, __ATOMIC_RELAXED);
    out->tempfailed = __atomic_load_n(&n_tempfailed, __ATOMIC_RELAXED);
    out->rejected = __atomic_load_n(&n_rejected, __ATOMIC_RELAXED);
    out->errors = __atomic_load_n(&n_errors, __ATOMIC_RELAXED);
}

void decide_reset(void)
{
    pthread_rwlock_wrlock(&admin_lock);
    wl_free(admin_wl);
    admin_wl = NULL;
    admin_stamp_len = (size_t)-1;
    pthread_rwlock_unlock(&admin_lock);
}

int decide_admin_bump(struct store *st)
{
    unsigned char stamp[16];
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
static int admin_refresh(struct store *st, time_t now)
{
    unsigned char stamp[16];
    size_t len = sizeof stamp;
    struct wl *fresh;
    int rc = store_get(st, ADMIN_STAMP_KEY, stamp, &len, NULL, now);

    if (rc == STORE_ERROR)
        return -1;
    if (rc == STORE_NOTFOUND)
        len = 0;
    pthread_rwlock_rdlock(&admin_lock);
    int same = admin_stamp_len == len && memcmp(admin_stamp, stamp, len) == 0;
    pthread_rwlock_unlock(&admin_lock);
    if (same)
        return 0;
    fresh = wl_new();
    if (store_iterate(st, "w|", now, admin_load_one, fresh) != STORE_OK) {
        wl_free(fresh);
        return -1;
    }
    pthread_rwlock_wrlock(&admin_lock);
    wl_free(admin_wl);
    admin_wl = fresh;
    memcpy(admin_stamp, stamp, len);
    admin_stamp_len = len;
    pthread_rwlock_unlock(&admin_lock);
    return 0;
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

struct decide_run {
    const struct cfg *cfg;
    unsigned delay;
    time_t now;
    int dry_run;
    int check_stamp;            /* compare rec[2] with the mirror's stamp */
    unsigned char stamp[16];
    size_t stamp_len;
    int stale;                  /* the admin whitelist changed: nothing decided */
    struct verdict v;
};

/* decide_update - the store_update callback: the pure policy, nothing else */
static int decide_update(void *arg, struct store_rec *rec, size_t n)
{
    struct decide_run *d = arg;
    size_t len = rec[2].found ? rec[2].len : 0;

    (void)n;
    /* The admin whitelist's stamp comes in the same read as the records,
     * so noticing a greyrepctl change costs no extra round trip. */
    if (d->check_stamp && (len != d->stamp_len || memcmp(rec[2].val, d->stamp, len) != 0)) {
        d->stale = 1;
        return -1;
    }
    policy_records(&d->cfg->grey, d->delay, rec, d->now, &d->v);
    return d->dry_run ? -1 : 0;
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

/* decide_whitelisted - does an entry of one list match client, sender or rcpt? */
static int decide_whitelisted(const struct wl *list, const struct decide_input *in,
                              const char *host, time_t now, char *what, size_t len)
{
    if (list == NULL)
        return 0;
    return wl_match_client(list, in->client, host, now, what, len)
           || wl_match_sender(list, in->sender, now, what, len)
           || wl_match_rcpt(list, in->rcpt, now, what, len);
}

/* admin_fresh - reload the mirror if stale; on a store failure the verdict
 * is the on_error answer and -1 is returned */
static int admin_fresh(const struct cfg *cfg, struct store *st, time_t now, struct verdict *v,
                       char *explain, size_t explain_len)
{
    if (admin_refresh(st, now) == 0)
        return 0;
    decide_error(cfg, v, "store failure reading the admin whitelist");
    explainf(explain, explain_len, "%s", v->why);
    return -1;
}

/* admin_match - does the mirror of the admin whitelist match? */
static int admin_match(const struct decide_input *in, const char *host, time_t now,
                       char *what, size_t len)
{
    int hit;
    pthread_rwlock_rdlock(&admin_lock);
    hit = decide_whitelisted(admin_wl, in, host, now, what, len);
    pthread_rwlock_unlock(&admin_lock);
    if (hit) {
        size_t l = strlen(what);
        snprintf(what + l, len - l, " (admin)");
    }
    return hit;
}

void decide_rcpt(const struct cfg *cfg, struct store *st, const struct decide_input *in,
                 time_t now, int dry_run, struct verdict *v, char *explain,
                 size_t explain_len)
{
    struct policy_facts f = {0, in->authenticated, NULL, NULL};
    char what[WL_VALUE_MAX + 32], ckey[NET_STRLEN + 4], tkey[STORE_MAX_KEY];
    char addr[NET_STRLEN], suspicious[300];
    const char *host = in->verified_host;
    int decided;
    struct store_rec rec[3];
    struct decide_run d;

    if (explain)
        explain[0] = '\0';
    if (in->client == NULL) {
        f.trusted = 1;
        explainf(explain, explain_len, "client: not an IP connection (local)");
    } else {
        net_format(in->client, addr, sizeof addr);
        f.trusted = cfg_trusted(cfg, in->client);
        explainf(explain, explain_len, "client %s: %s", addr,
                 f.trusted ? "in trusted_networks" : "not in trusted_networks");
    }
    explainf(explain, explain_len, "authentication: %s",
             in->authenticated ? "authenticated session" : "none");
    if (!f.trusted && !f.authenticated && in->checks != NULL) {
        const struct msg_facts *dns = chk_facts(in->checks);
        f.dns = dns;
        if (dns->iprev_done) {
            /* only a name that maps back to the client may match a host entry */
            host = dns->iprev_host[0] ? dns->iprev_host : NULL;
            explainf(explain, explain_len, "iprev: %s%s%s%s", iprev_result_name(dns->iprev),
                     host ? " (" : "", host ? host : "", host ? ")" : "");
            if (dns->generic)
                explainf(explain, explain_len, "iprev: %s looks generic/dynamic", host);
        }
        if (dns->spf_done)
            explainf(explain, explain_len, "spf: %s for %s%s", spf_result_name(dns->spf),
                     dns->spf_domain[0] ? dns->spf_domain : "(no domain)",
                     dns->spf_helo ? " (HELO identity)" : "");
        if (dns->dnsbl_done)
            explainf(explain, explain_len, "dnsbl: score %d%s%s%s", dns->dnsbl_score,
                     dns->dnsbl_listed[0] ? " (" : "", dns->dnsbl_listed,
                     dns->dnsbl_listed[0] ? ")" : "");
    }
    if (!f.trusted && !f.authenticated) {
        /* the static lists first: they must work while the store is down */
        if (decide_whitelisted(cfg->wl, in, host, now, what, sizeof what)) {
            f.whitelisted = what;
        } else if (admin_match(in, host, now, what, sizeof what)) {
            /* a hit on the mirror is confirmed against the store (the
             * entry may have been deleted); a miss is checked by the
             * stamp read together with the triplet below */
            if (st != NULL && admin_fresh(cfg, st, now, v, explain, explain_len) < 0)
                return;
            if (admin_match(in, host, now, what, sizeof what))
                f.whitelisted = what;
        }
        explainf(explain, explain_len, "whitelist: %s", f.whitelisted ? what : "no entry matches");
    }
    decided = policy_static(cfg, &f, v);
    if (decided && v->action != V_ACCEPT && f.whitelisted == NULL && st != NULL) {
        /* before refusing, make sure no fresh admin entry vouches for it */
        if (admin_fresh(cfg, st, now, v, explain, explain_len) < 0)
            return;
        if (admin_match(in, host, now, what, sizeof what)) {
            f.whitelisted = what;
            explainf(explain, explain_len, "whitelist: %s", what);
            policy_static(cfg, &f, v);
        }
    }
    if (decided) {
        explainf(explain, explain_len, "verdict: %s%s", v->reason == R_WHITELIST ? "whitelisted: " : "",
                 v->why);
        return;
    }
    if (st == NULL) {
        decide_error(cfg, v, "no store");
        return;
    }
    decide_triplet_key(cfg, in->client, policy_spf_domain(&f), in->sender, in->rcpt, tkey,
                       sizeof tkey);
    decide_client_key(in->client, ckey, sizeof ckey);
    memset(&d, 0, sizeof d);
    d.cfg = cfg;
    d.delay = policy_delay(cfg, &f, suspicious, sizeof suspicious);
    d.now = now;
    d.dry_run = dry_run;
    for (int round = 0;; round++) {
        memset(rec, 0, sizeof rec);
        rec[0].key = tkey;
        rec[1].key = ckey;
        rec[2].key = ADMIN_STAMP_KEY;
        pthread_rwlock_rdlock(&admin_lock);
        d.stamp_len = admin_stamp_len <= sizeof d.stamp ? admin_stamp_len : (size_t)-1;
        if (d.stamp_len != (size_t)-1)
            memcpy(d.stamp, admin_stamp, d.stamp_len);
        pthread_rwlock_unlock(&admin_lock);
        d.check_stamp = round == 0;     /* a second change meanwhile waits */
        d.stale = 0;
        if (store_update(st, rec, 3, now, decide_update, &d) != STORE_OK) {
            decide_error(cfg, v, "store failure");
            explainf(explain, explain_len, "%s", v->why);
            return;
        }
        if (!d.stale)
            break;
        /* greyrepctl changed the admin whitelist: look again */
        if (admin_fresh(cfg, st, now, v, explain, explain_len) < 0)
            return;
        if (admin_match(in, host, now, what, sizeof what)) {
            f.whitelisted = what;
            explainf(explain, explain_len, "whitelist: %s", what);
            policy_static(cfg, &f, v);
            explainf(explain, explain_len, "verdict: whitelisted: %s", v->why);
            return;
        }
    }
    *v = d.v;
    if (suspicious[0] != '\0') {
        size_t used = strlen(v->why);
        snprintf(v->why + used, sizeof v->why - used, " (%s: %s)",
                 d.delay == cfg->grey.suspicious_delay && d.delay != cfg->grey.delay
                     ? "suspicious" : "note",
                 suspicious);
    }
    if (v->bad_record)
        log_warn("store: a record for %s did not decode; treated as absent", tkey);
    if (explain != NULL) {
        char shown[STORE_MAX_KEY];
        util_strlcpy(shown, tkey + 2, sizeof shown);
        for (char *p = shown; *p; p++)
            if (*p == '|')
                *p = ' ';
        explainf(explain, explain_len, "triplet %s: %s", shown, v->why);
    }
}
