/*
 * sim_decide.c - the simulator's adapter to decide_rcpt(); see sim_decide.h
 *
 * decide_rcpt() takes the facts of a message as a struct msg_facts, which
 * the milter gets from checks.c after its bounded DNS wait; here the same
 * structure is filled from the sender model's DNS answers, so decide.c,
 * policy.c and greylist.c run exactly as in the daemon.
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

struct sim_decider {
    struct cfg *cfg;
    struct store *st;
    struct decider *decider;
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
    /* virtual time: flushing to disk would only measure the disk; a map
     * big enough for a month of any mix (sparse: only what is used counts) */
    cfg->store.sync_interval = 3600;
    if (cfg->store.map_size < (1ULL << 30))
        cfg->store.map_size = 1ULL << 30;
    d->cfg = cfg;
    if ((d->st = store_open(&cfg->store, err, errlen)) == NULL) {
        free(d);
        return NULL;
    }
    if ((d->decider = decider_new(d->st)) == NULL) {
        snprintf(err, errlen, "out of memory");
        store_close(d->st);
        free(d);
        return NULL;
    }
    return d;
}

void sim_decider_close(struct sim_decider *d)
{
    if (d == NULL)
        return;
    decider_free(d->decider);
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
    if (a->dns == NULL)
        return;
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
    struct msg_facts facts;
    struct decide_input in;
    struct env_addr sender, rcpt;
    char arg[600];

    sim_facts(d->cfg, a, &facts);
    snprintf(arg, sizeof arg, "<%s>", a->sender);
    env_parse(arg, &sender);
    snprintf(arg, sizeof arg, "<%s>", a->rcpt);
    env_parse(arg, &rcpt);
    memset(&in, 0, sizeof in);
    in.facts = &facts;
    /* what Postfix passes as a verified client name */
    in.verified_host = a->dns && a->dns->ptr == PTR_MATCH ? a->dns->ptr_name : NULL;
    in.sender = &sender;
    in.rcpt = &rcpt;
    decide_rcpt(d->decider, d->cfg, &in, now, 0, v, NULL, 0);
}

void sim_sweep(struct sim_decider *d, time_t now)
{
    size_t removed;
    store_expire(d->st, now, 0, &removed);
}
