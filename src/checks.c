/*
 * checks.c - iprev, SPF, DNSBL and DKIM for one connection; see checks.h
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "checks.h"
#include "dkim.h"
#include "log.h"
#include "resolver.h"
#include "util.h"

struct checks {
    struct dns_resolver *resolver;
    struct spf *spf;
    struct dkimv *dkim;
    unsigned timeout_ms;
};

struct chk_conn {
    struct checks *chk;
    char ip[NET_STRLEN];
    struct iprev_check *iprev;
    struct dnsbl_lookup *dnsbl;
    int dnsbl_zones;
    int iprev_generic;
    /* per message */
    struct timespec deadline;
    int have_deadline;
    int facts_done;
    struct msg_facts facts;
    char sender[600];
    char helo[256];
    struct dkimv_msg *dkim;
};

struct checks *chk_open(const struct cfg *cfg, char *err, size_t errlen)
{
    struct checks *chk = calloc(1, sizeof *chk);
    char host[256];

    if (chk == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    chk->timeout_ms = cfg->dns_timeout_ms;
    chk->resolver = dns_open(cfg->dns_servers[0] ? cfg->dns_servers : NULL,
                             cfg->dns_timeout_ms, err, errlen);
    if (chk->resolver == NULL)
        goto fail;
    chk->spf = spf_new(chk->resolver, util_hostname(host, sizeof host));
    if (chk->spf == NULL) {
        snprintf(err, errlen, "cannot start the SPF checker");
        goto fail;
    }
    chk->dkim = dkimv_new(chk->resolver, cfg->dkim_min_key_bits);
    if (chk->dkim == NULL) {
        snprintf(err, errlen, "cannot start the DKIM verifier");
        goto fail;
    }
    return chk;
fail:
    chk_close(chk);
    return NULL;
}

void chk_close(struct checks *chk)
{
    if (chk == NULL)
        return;
    if (chk->dkim)
        dkimv_free(chk->dkim);
    if (chk->spf)
        spf_free(chk->spf);
    if (chk->resolver)
        dns_close(chk->resolver);
    free(chk);
}

struct chk_conn *chk_connect(struct checks *chk, const struct cfg *cfg,
                             const struct net_addr *client)
{
    struct chk_conn *cc;
    const char *client_ip;

    if (chk == NULL)
        return NULL;
    if ((cc = calloc(1, sizeof *cc)) == NULL) {
        log_err("out of memory starting the DNS checks");
        return NULL;
    }
    cc->chk = chk;
    cc->facts.client_ip = 1;
    cc->facts.client = *client;
    client_ip = net_format(client, cc->ip, sizeof cc->ip);
    cc->iprev_generic = cfg->iprev_generic;
    if (cfg->iprev_enabled)
        cc->iprev = iprev_start(chk->resolver, client_ip);
    if (cfg->dnsbl->n > 0) {
        cc->dnsbl = dnsbl_start(cfg->dnsbl, chk->resolver, client_ip);
        cc->dnsbl_zones = cfg->dnsbl->n;
    }
    return cc;
}

/* chk_msg_reset - forget the previous message of this connection */
static void chk_msg_reset(struct chk_conn *cc)
{
    if (cc->dkim) {
        dkimv_msg_free(cc->dkim);
        cc->dkim = NULL;
    }
    /* iprev and DNSBL belong to the connection and keep their answers;
     * SPF and the overall judgement are per message */
    cc->facts.spf_done = 0;
    cc->facts.spf = SPF_NONE;
    cc->facts.spf_helo = 0;
    cc->facts.spf_domain[0] = '\0';
    cc->facts.dns_failed = 0;
    cc->facts.dkim_done = 0;
    cc->facts.dkim_n = 0;
    cc->facts_done = 0;
}

void chk_conn_free(struct chk_conn *cc)
{
    if (cc == NULL)
        return;
    chk_msg_reset(cc);
    iprev_free(cc->iprev);
    dnsbl_free(cc->dnsbl);
    free(cc);
}

void chk_mail(struct chk_conn *cc, const struct cfg *cfg, const char *helo,
              const char *sender, int skip_spf)
{
    if (cc == NULL)
        return;
    chk_msg_reset(cc);
    dns_deadline(&cc->deadline, cfg->dns_timeout_ms);
    cc->have_deadline = 1;
    util_strlcpy(cc->sender, sender, sizeof cc->sender);
    util_strlcpy(cc->helo, helo, sizeof cc->helo);
    if (cfg->spf_enabled && !skip_spf) {
        struct msg_facts *f = &cc->facts;
        f->spf = spf_check_mailfrom(cc->chk->spf, cc->ip, helo, sender, &cc->deadline,
                                    f->spf_domain, sizeof f->spf_domain);
        f->spf_done = 1;
        f->spf_helo = sender[0] == '\0';
    }
    if (cfg->dkim_enabled) {
        char id[NET_STRLEN + 8];
        snprintf(id, sizeof id, "client=%s", cc->ip);   /* names the message in logs */
        cc->dkim = dkimv_msg_new(cc->chk->dkim, id, NULL);
        dkimv_set_allow_sha1(cc->dkim, cfg->dkim_allow_sha1);
    }
}

/* chk_iprev_generic - the PTR name looks like a generic pool name? */
static int chk_iprev_generic(const char *ip, const char *name)
{
    struct iprev_addr a;
    if (name[0] == '\0' || iprev_addr_parse(ip, &a) < 0)
        return 0;
    return iprev_generic_name(name, &a) != IPREV_GENERIC_NO;
}

const struct msg_facts *chk_facts(struct chk_conn *cc)
{
    struct msg_facts *f;
    int ran = 0, failed = 0;

    if (cc == NULL)
        return NULL;
    f = &cc->facts;
    if (cc->facts_done)
        return f;
    if (!cc->have_deadline) {
        dns_deadline(&cc->deadline, cc->chk->timeout_ms);
        cc->have_deadline = 1;
    }
    if (cc->iprev != NULL && !f->iprev_done) {
        f->iprev = iprev_finish(cc->iprev, &cc->deadline, f->iprev_host, sizeof f->iprev_host);
        f->iprev_done = 1;
        /* a generic name is judged on the verified name, or failing that
         * on nothing: an unverified PTR can say anything */
        if (cc->iprev_generic && f->iprev == IPREV_PASS)
            f->generic = chk_iprev_generic(cc->ip, f->iprev_host);
    }
    if (cc->dnsbl != NULL && !f->dnsbl_done) {
        struct dnsbl_outcome o;
        size_t used = 0;
        dnsbl_finish(cc->dnsbl, &cc->deadline, &o);
        f->dnsbl_done = 1;
        f->dnsbl_score = o.score;
        f->dnsbl_tempfail = o.ntempfail;
        f->dnsbl_zones = cc->dnsbl_zones;
        for (int i = 0; i < o.nlisted && used + 1 < sizeof f->dnsbl_listed; i++)
            used += (size_t)snprintf(f->dnsbl_listed + used, sizeof f->dnsbl_listed - used,
                                     "%s%s=%s", i ? "," : "", o.listed[i].zone,
                                     o.listed[i].code);
    }
    if (f->iprev_done) {
        ran++;
        failed += f->iprev == IPREV_TEMPERROR;
    }
    if (f->spf_done) {
        ran++;
        failed += f->spf == SPF_TEMPERROR;
    }
    if (f->dnsbl_done && f->dnsbl_zones > 0) {
        ran++;
        failed += f->dnsbl_tempfail == f->dnsbl_zones;
    }
    f->dns_failed = ran > 0 && failed == ran;
    cc->facts_done = 1;
    return f;
}

void chk_header(struct chk_conn *cc, const char *name, const char *value)
{
    if (cc != NULL && cc->dkim != NULL)
        dkimv_header(cc->dkim, name, value);
}

void chk_eoh(struct chk_conn *cc)
{
    if (cc != NULL && cc->dkim != NULL)
        dkimv_eoh(cc->dkim);
}

void chk_body(struct chk_conn *cc, const unsigned char *buf, size_t len)
{
    if (cc != NULL && cc->dkim != NULL)
        dkimv_body(cc->dkim, buf, len);
}

int chk_eom(struct chk_conn *cc, const struct cfg *cfg, char *buf, size_t len,
            char *summary, size_t slen)
{
    struct dkimv_result res[DKIMV_MAX_SIGS];
    struct msg_facts *f;
    struct authres ar;
    int n = 0;

    summary[0] = '\0';
    if (cc == NULL)
        return 0;
    chk_facts(cc);
    f = &cc->facts;
    if (cc->dkim != NULL) {
        struct timespec deadline;
        size_t used = 0;
        dns_deadline(&deadline, cfg->dns_timeout_ms);
        dkimv_set_deadline(cc->dkim, &deadline);
        n = dkimv_eom(cc->dkim, res, DKIMV_MAX_SIGS);
        for (int i = 0; i < n && used + 1 < slen; i++)
            used += (size_t)snprintf(summary + used, slen - used, "%sdkim=%s d=%s",
                                     i ? ", " : "", dkimv_status_name(res[i].result),
                                     res[i].domain);
        if (n == 0)
            snprintf(summary, slen, "dkim=none");
        f->dkim_done = 1;
        f->dkim_n = n < FACTS_DKIM_MAX ? n : FACTS_DKIM_MAX;
        for (int i = 0; i < f->dkim_n; i++) {
            f->dkim[i].result = res[i].result;
            util_strlcpy(f->dkim[i].domain, res[i].domain, sizeof f->dkim[i].domain);
            util_lower(f->dkim[i].domain);
        }
    }
    if (!f->iprev_done && !f->spf_done && cc->dkim == NULL)
        return 0;
    authres_begin(&ar, buf, len, cfg->authserv_id);
    if (f->iprev_done)
        authres_iprev(&ar, iprev_result_name(f->iprev), cc->ip,
                      f->iprev_host[0] ? f->iprev_host : NULL);
    if (f->spf_done)
        authres_spf(&ar, spf_result_name(f->spf), f->spf_helo ? NULL : cc->sender, cc->helo);
    if (cc->dkim != NULL)
        authres_dkim(&ar, res, n);
    authres_end(&ar);
    return 1;
}
