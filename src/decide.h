/*
 * NAME
 *   decide - gather the facts for one recipient, consult the store, decide
 * DESCRIPTION
 *   The one place where facts, whitelists, the store and the pure policy
 *   meet; used by the milter for every RCPT and by greyrepctl check (with
 *   dry_run set, so nothing is written).  Any store failure gives a verdict
 *   with reason R_ERROR and the configured on_error action; the failure has
 *   been logged once already.
 *
 *   Admin whitelist entries ("w|...") are mirrored in memory and reloaded
 *   whenever the generation stamp "v|whitelist" changes, which greyrepctl
 *   bumps with every change: one small read per decision instead of a scan.
 * THREADS
 *   decide_rcpt() is thread-safe.
 */
#ifndef GREYREP_DECIDE_H
#define GREYREP_DECIDE_H

#include <stdint.h>
#include <time.h>

#include "config.h"
#include "envaddr.h"
#include "netaddr.h"
#include "policy.h"
#include "store.h"

struct chk_conn;

struct decide_input {
    const struct net_addr *client;   /* NULL: not an IP client (local) */
    const char *verified_host;       /* MTA-verified host name or NULL */
    struct chk_conn *checks;         /* the DNS checks of this message, or NULL */
    int authenticated;
    const struct env_addr *sender;
    const struct env_addr *rcpt;
};

/* decide_rcpt - the verdict for one recipient.  explain, if not NULL, gets
 * one line per rule considered ('\n'-separated), for greyrepctl check. */
void decide_rcpt(const struct cfg *cfg, struct store *st, const struct decide_input *in,
                 time_t now, int dry_run, struct verdict *v, char *explain,
                 size_t explain_len);

/* decide_triplet_key / decide_client_key - the store keys for a decision;
 * an SPF-validated sender domain (or NULL) replaces the client network */
void decide_triplet_key(const struct cfg *cfg, const struct net_addr *client,
                        const char *spf_domain, const struct env_addr *sender,
                        const struct env_addr *rcpt, char *key, size_t len);
void decide_client_key(const struct net_addr *client, char *key, size_t len);

/* Decision counters of this process (for greyrepctl stats). */
struct decide_counters {
    uint64_t accepted, tempfailed, rejected, errors;
};
void decide_counters(struct decide_counters *out);
/* decide_note - count a final answer */
void decide_note(enum verdict_action a, int error);

/* decide_admin_bump - greyrepctl: tell every daemon the admin list changed */
int decide_admin_bump(struct store *st);
/* decide_reset - forget the admin whitelist mirror (tests, reload) */
void decide_reset(void);

#endif
