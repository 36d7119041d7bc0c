/*
 * NAME
 *   policy - the verdict for one recipient, from facts, records and the time
 * DESCRIPTION
 *   Pure: no I/O, no clock.  decide.c gathers the facts (trusted network,
 *   authentication, whitelist matches, and the checks' struct msg_facts)
 *   and the stored records, and calls policy_static(), policy_delay() and
 *   then policy_records() inside the store's atomic update; what
 *   policy_records() writes back is what the store commits.
 * THREADS
 *   Pure functions.
 */
#ifndef GREYREP_POLICY_H
#define GREYREP_POLICY_H

#include <time.h>

#include "greylist.h"
#include "store.h"

enum verdict_action { V_ACCEPT, V_TEMPFAIL, V_REJECT };

enum verdict_reason {
    R_TRUSTED,      /* client in trusted_networks, or not an IP client */
    R_AUTH,         /* SMTP-authenticated session */
    R_WHITELIST,    /* a static or admin whitelist entry */
    R_AUTO,         /* client auto-whitelisted */
    R_GREY_NEW,
    R_GREY_EARLY,
    R_GREY_PASSED,
    R_GREY_KNOWN,
    R_ERROR,        /* no decision possible: on_error */
    R_DNSBL,        /* DNS block list score at or over the threshold */
    R_SPF_FAIL      /* SPF fail with fail_action tempfail or reject */
};

struct verdict {
    enum verdict_action action;
    enum verdict_reason reason;
    unsigned remaining;   /* seconds to wait, for tempfail */
    unsigned delayed;     /* R_GREY_PASSED: seconds the message was delayed */
    int bad_record;       /* a stored record did not decode (treated as absent) */
    char why[320];        /* one line for logs and greyrepctl check */
};

struct msg_facts;

struct policy_facts {
    int trusted;
    int authenticated;
    const char *whitelisted;     /* description of the matching entry, or NULL */
    const struct msg_facts *dns; /* what the checks found; never NULL */
};

/* The greylisting delay for one sender, and why it is not the plain one. */
struct policy_wait {
    unsigned delay;       /* seconds a retry must wait */
    int suspicious;       /* delay is suspicious_delay because of why */
    char why[300];        /* the remarks ("" for none): suspicion, or a note */
};

/* policy_static - decide from facts alone; 1 if decided (no store needed) */
int policy_static(const struct cfg *cfg, const struct policy_facts *f, struct verdict *v);

/* policy_delay - the greylisting delay for this sender: delay, or
 * suspicious_delay when the checks found something suspicious */
void policy_delay(const struct cfg *cfg, const struct policy_facts *f, struct policy_wait *w);
/* policy_spf_domain - the SPF-validated sender domain that replaces the
 * client network in the triplet key, or NULL */
const char *policy_spf_domain(const struct policy_facts *f);

/* policy_records - the greylist decision from the triplet and client
 * records.  Fills v and sets the records' actions. */
void policy_records(const struct cfg_greylist *g, unsigned delay, struct store_rec *triplet,
                    struct store_rec *client, time_t now, struct verdict *v);

/* policy_reason_name - short stable name for logs and JSON */
const char *policy_reason_name(enum verdict_reason r);

#endif
