/*
 * NAME
 *   sim_decide - greyrep-sim's one door into greyrep's decision code
 * DESCRIPTION
 *   Everything the simulator knows about greyrep's policy is in this file
 *   pair: it opens the real store (store_open(), LMDB in a directory of
 *   the caller's), turns a sender model's DNS answers into the struct
 *   msg_facts the checks would have produced, and calls decide_rcpt()
 *   with the virtual time, exactly as the milter does at RCPT TO.  When
 *   greyrep's decision entry point changes, only sim_decide.c changes.
 *
 *   The resolver boundary: iprev is decided by the real iprev_evaluate()
 *   over the model's PTR and forward answers, and a generic host name by
 *   the real iprev_generic_name(); SPF and DNSBL results are the model's
 *   (running libspf2 over an in-memory zone per message was measured too
 *   slow, see greyrep-sim(8)); DKIM is known only at end of message and
 *   takes no part in the RCPT decision today.
 * ERRORS
 *   sim_decider_open() returns NULL with err filled; sim_decide() returns
 *   the verdict (a store failure gives greyrep's own on_error verdict).
 * THREADS
 *   Single-threaded.  Each decider has its own store and greyrep decider
 *   (admin mirror, counters); greyrep-sim still runs modes in separate
 *   processes, to use both cores.
 */
#ifndef GREYREP_SIM_DECIDE_H
#define GREYREP_SIM_DECIDE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "policy.h"
#include "sim/sim.h"

struct sim_decider;

/* One RCPT TO as the MTA would present it to the milter. */
struct sim_attempt {
    uint32_t client;          /* IPv4, host order */
    const char *helo;
    const char *sender;       /* MAIL FROM without <>; "" for <> */
    const char *rcpt;
    const struct sim_dns *dns; /* what DNS answers about client and sender;
                                * NULL: no check ran (as with every check off) */
};

/* sim_decider_open - the store of cfg, opened in dir (LMDB) */
struct sim_decider *sim_decider_open(struct cfg *cfg, const char *dir, char *err,
                                     size_t errlen);
void sim_decider_close(struct sim_decider *d);
/* sim_decide - greyrep's verdict for one recipient at virtual time now */
void sim_decide(struct sim_decider *d, const struct sim_attempt *a, time_t now,
                struct verdict *v);
/* sim_sweep - the daemon's expiry sweep, at virtual time now */
void sim_sweep(struct sim_decider *d, time_t now);
/* sim_facts - the msg_facts the checks of cfg would report (exposed for
 * the tests) */
struct msg_facts;
void sim_facts(const struct cfg *cfg, const struct sim_attempt *a, struct msg_facts *f);

#endif
