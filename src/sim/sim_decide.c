/*
 * sim_decide.c - the simulator's adapter to decide_rcpt(); see sim_decide.h
 *
 * Today's decide_rcpt() reads the DNS facts through chk_facts(in->checks),
 * a function of checks.c, which only runs live lookups.  Until decide takes
 * a struct msg_facts directly (the "Seam" work on main), this file defines
 * struct chk_conn and chk_facts() itself: the simulator is linked without
 * checks.o (nothing else it uses needs that object), so decide.c, policy.c
 * and greylist.c run unchanged and read the facts the model supplied.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "decide.h"
#include "dnsbl.h"
#include "envaddr.h"
#include "facts.h"
#include "iprev.h"
#include "sim/sim_decide.h"
#include "store.h"
#include "util.h"

/* The facts of one message, where decide.c expects the checks. */
struct chk_conn {
    struct msg_facts facts;
};

/* chk_facts - decide.c's view of the checks: the facts we filled in */
const struct msg_facts *chk_facts(struct chk_conn *cc);
const struct msg_facts *chk_facts(struct chk_conn *cc)
{
    return cc == NULL ? NULL : &cc->facts;
}

struct sim_decider {
    struct cfg *cfg;
    struct store *st;
};

struct sim_decider *sim_decider_open(struct cfg *cfg, const char *dir, char *err,
                                     size_t errlen)
{
    struct sim_decider *d = calloc(1, sizeof *d);
    if (d == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    cfg->store.backend = BACKEND_LMDB;
    util_strlcpy(cfg->store.path, dir, sizeof cfg->store.path);
    /* virtual time: flushing to disk would only measure the disk */
    cfg->store.sync_interval = 3600;
    d->cfg = cfg;
    if ((d->st = store_open(&cfg->store, err, errlen)) == NULL) {
        free(d);
        return NULL;
    }
    decide_reset();
    return d;
}

void sim_decider_close(struct sim_decider *d)
{
    if (d == NULL)
        return;
    store_close(d->st);
    free(d);
}

/* sim_iprev - iprev_evaluate() over the PTR and forward answers of the
 * model; the verified name goes to host */
static enum iprev_result sim_iprev(const struct sim_attempt *a, char *host, size_t len)
{
    struct iprev_addr ia;
    struct iprev_forward fwd;
    unsigned char addr[4];
    uint32_t shown = a->client;
    int verified = -1;
    enum iprev_result r;

    ia.family = AF_INET;
    for (int i = 0; i < 4; i++)
        ia.bytes[i] = (unsigned char)(a->client >> (24 - 8 * i));
    host[0] = '\0';
    if (a->dns->ptr == PTR_NONE)
        return iprev_evaluate(&ia, DNS_NXDOMAIN, NULL, 0, NULL);
    if (a->dns->ptr == PTR_MISMATCH)
        shown ^= 1;     /* the name's A record is another address */
    for (int i = 0; i < 4; i++)
        addr[i] = (unsigned char)(shown >> (24 - 8 * i));
    fwd.name = a->dns->ptr_name;
    fwd.status = DNS_OK;
    fwd.addrs = addr;
    fwd.naddrs = 1;
    r = iprev_evaluate(&ia, DNS_OK, &fwd, 1, &verified);
    if (r == IPREV_PASS && verified == 0)
        util_strlcpy(host, a->dns->ptr_name, len);
    return r;
}

void sim_facts(const struct cfg *cfg, const struct sim_attempt *a, struct msg_facts *f)
{
    memset(f, 0, sizeof *f);
    f->client_ip = 1;
    f->client.family = AF_INET;
    for (int i = 0; i < 4; i++)
        f->client.a[i] = (unsigned char)(a->client >> (24 - 8 * i));
    if (cfg->iprev_enabled) {
        f->iprev = sim_iprev(a, f->iprev_host, sizeof f->iprev_host);
        f->iprev_done = 1;
        if (cfg->iprev_generic && f->iprev == IPREV_PASS && f->iprev_host[0]) {
            struct iprev_addr ia = {AF_INET, {0}};
            memcpy(ia.bytes, f->client.a, 4);
            f->generic = iprev_generic_name(f->iprev_host, &ia) != IPREV_GENERIC_NO;
        }
    }
    if (cfg->spf_enabled) {
        const char *at = strrchr(a->sender, '@');
        f->spf_done = 1;
        f->spf = (enum spf_result)a->dns->spf;
        f->spf_helo = a->sender[0] == '\0';
        util_strlcpy(f->spf_domain, f->spf_helo ? a->helo : at ? at + 1 : "",
                     sizeof f->spf_domain);
        util_lower(f->spf_domain);
    }
    if (cfg->dnsbl != NULL && cfg->dnsbl->n > 0) {
        f->dnsbl_done = 1;
        f->dnsbl_zones = cfg->dnsbl->n;
        if (a->dns->dnsbl_listed) {
            f->dnsbl_score = (int)cfg->dnsbl_threshold;
            snprintf(f->dnsbl_listed, sizeof f->dnsbl_listed, "%s=127.0.0.2",
                     cfg->dnsbl->zones[0].name);
        }
    }
}

void sim_decide(struct sim_decider *d, const struct sim_attempt *a, time_t now,
                struct verdict *v)
{
    struct chk_conn cc;
    struct decide_input in;
    struct net_addr client;
    struct env_addr sender, rcpt;
    char arg[600];

    sim_facts(d->cfg, a, &cc.facts);
    client = cc.facts.client;
    snprintf(arg, sizeof arg, "<%s>", a->sender);
    env_parse(arg, &sender);
    snprintf(arg, sizeof arg, "<%s>", a->rcpt);
    env_parse(arg, &rcpt);
    memset(&in, 0, sizeof in);
    in.client = &client;
    /* what Postfix passes as a verified client name */
    in.verified_host = a->dns->ptr == PTR_MATCH ? a->dns->ptr_name : NULL;
    in.checks = &cc;
    in.sender = &sender;
    in.rcpt = &rcpt;
    decide_rcpt(d->cfg, d->st, &in, now, 0, v, NULL, 0);
}

void sim_sweep(struct sim_decider *d, time_t now)
{
    size_t removed;
    store_expire(d->st, now, 0, &removed);
}
