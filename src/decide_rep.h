/*
 * NAME
 *   decide_rep - the reputation half of one decision (internal to decide.c)
 * DESCRIPTION
 *   decide.c calls these inside its one store update: drep_prepare()
 *   before it (identities, keys, the static greytrap list), drep_judge()
 *   in the callback before the triplet is stepped (greytrap, trust level,
 *   rate limit), drep_learn() in the callback after the verdict (what the
 *   outcome teaches each identity, written in the same update), and
 *   drep_explain() afterwards for greyrepctl check.  The slots are
 *   SLOT_TRAP_ADDR, SLOT_TRAP_DOMAIN and SLOT_REP.. of decide.h.
 * THREADS
 *   A struct decide_rep belongs to one decision.
 */
#ifndef GREYREP_DECIDE_REP_H
#define GREYREP_DECIDE_REP_H

#include "decide.h"
#include "reputation.h"
#include "whitelist.h"

struct decide_rep {
    const struct msg_facts *facts;
    struct rep_ids ids;
    char trap_addr[STORE_MAX_KEY], trap_domain[STORE_MAX_KEY];
    int static_trap;              /* the recipient is in [greytrap] recipients */
    int first_rcpt;
    int earned;                   /* the message is counted already */
    int defer_ok;
    /* filled in the callback */
    struct rep_rec recs[REP_MAX_IDS];
    struct rep_rec judged[REP_MAX_IDS]; /* as the trust level saw them */
    int found[REP_MAX_IDS];
    int trap;
    int bad_record;
    struct rep_assessment a;
};

/* drep_prepare - identities and keys of one recipient's decision */
void drep_prepare(struct decide_rep *x, const struct cfg *cfg, const struct decide_input *in,
                  time_t now);
/* drep_slots - point the reputation slots at their keys; the slot count */
size_t drep_slots(struct decide_rep *x, struct store_rec *rec);
/* drep_judge - 1 if reputation decided v (trap, bad, rate limit, trusted);
 * 0 to let greylisting decide with *delay (raised for suspicious senders)
 * and *no_auto (the client auto-whitelist must not vouch) */
int drep_judge(struct decide_rep *x, const struct cfg *cfg, struct store_rec *rec,
               time_t now, struct verdict *v, unsigned *delay, int *no_auto);
/* drep_finish - after the verdict: a greylisting delay becomes R_DEFER
 * when the deferred decision applies; the trust level goes into v; what
 * the verdict teaches goes into the reputation slots */
void drep_finish(struct decide_rep *x, const struct cfg *cfg, struct store_rec *rec,
                 time_t now, struct verdict *v);
/* drep_explain - one line for the level and one per identity */
void drep_explain(const struct decide_rep *x, void (*out)(void *, const char *), void *arg);

/* decider_store - the decider's store, or NULL (decide.c) */
struct store *decider_store(struct decider *d);

#endif
