/*
 * NAME
 *   decide - one recipient: facts + whitelists + store + policy
 * SYNOPSIS
 *   d = decider_new(store)                     once per process
 *   decide_rcpt(d, cfg, &input, now, 0, &v, NULL, 0)   every RCPT
 *   decider_free(d)
 * DESCRIPTION
 *   The one place where the facts of a message (struct msg_facts, gathered
 *   and waited for by the caller), the whitelists, the store and the pure
 *   policy meet; used by the milter for every RCPT, by greyrepctl check
 *   (dry_run set: nothing is written, nothing counted) and by the
 *   simulator.  decide_rcpt() never waits on DNS: the caller hands it
 *   facts that are complete (milter.c waits, bounded, before calling).
 *
 *   In order: trusted network, authenticated session, whitelists (static
 *   first, so they work while the store is down; then the admin entries);
 *   refusals from the facts alone (DNSBL, SPF fail_action); then one atomic
 *   store update reads the triplet, the client and the admin whitelist's
 *   stamp together and the policy decides inside it.
 *
 *   Admin whitelist entries ("w|...") are mirrored in the decider and
 *   reloaded whenever the generation stamp "v|whitelist" changes, which
 *   greyrepctl bumps with every change.  The stamp is a compare-only
 *   record of the decision's own store update, so noticing a change costs
 *   no extra round trip; a mirror hit is confirmed against the store, and
 *   the mirror is reloaded before any refusal.
 *
 *   Any store failure gives a verdict with reason R_ERROR and the
 *   configured on_error action; the failure has been logged once already.
 * THREADS
 *   decide_rcpt() is thread-safe; one decider serves all threads.
 */
#ifndef GREYREP_DECIDE_H
#define GREYREP_DECIDE_H

#include <stdint.h>
#include <time.h>

#include "config.h"
#include "envaddr.h"
#include "facts.h"
#include "netaddr.h"
#include "policy.h"
#include "store.h"

struct decider;

struct decide_input {
    const struct msg_facts *facts;   /* the client and what the checks found;
                                      * facts->client_ip 0: not an IP client */
    const char *verified_host;       /* MTA-verified host name or NULL */
    int authenticated;
    const struct env_addr *sender;
    const struct env_addr *rcpt;
};

/* The records one decision reads and writes, by name: the slots of its
 * store update. */
enum decide_slot {
    SLOT_TRIPLET,   /* t|NET|SENDER|RCPT: the greylisting state */
    SLOT_CLIENT,    /* c|ADDR: passes, for the auto-whitelist */
    SLOT_STAMP,     /* v|whitelist: compare-only, the admin list's generation */
    SLOT_COUNT
};

/* decider_new - the admin mirror and counters of one process; st may be
 * NULL (no store: every decision that needs it gets on_error).  NULL when
 * out of memory. */
struct decider *decider_new(struct store *st);
void decider_free(struct decider *d);

/* decide_rcpt - the verdict for one recipient.  explain, if not NULL, gets
 * one line per rule considered ('\n'-separated), for greyrepctl check. */
void decide_rcpt(struct decider *d, const struct cfg *cfg, const struct decide_input *in,
                 time_t now, int dry_run, struct verdict *v, char *explain,
                 size_t explain_len);

/* decide_triplet_key / decide_client_key - the store keys for a decision;
 * an SPF-validated sender domain (or NULL) replaces the client network */
void decide_triplet_key(const struct cfg *cfg, const struct net_addr *client,
                        const char *spf_domain, const struct env_addr *sender,
                        const struct env_addr *rcpt, char *key, size_t len);
void decide_client_key(const struct net_addr *client, char *key, size_t len);

/* Decision counters of this process (for greyrepctl stats): every verdict
 * of a decision that was not a dry run. */
struct decide_counters {
    uint64_t accepted, tempfailed, rejected, errors;
};
void decider_counters(struct decider *d, struct decide_counters *out);

/* decide_admin_bump - greyrepctl: tell every daemon the admin list changed */
int decide_admin_bump(struct store *st);
/* decider_forget_admin - drop the admin whitelist mirror (tests, reload) */
void decider_forget_admin(struct decider *d);

#endif
