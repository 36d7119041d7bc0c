/*
 * NAME
 *   milter - libmilter callbacks: collect facts, ask decide, answer
 * DESCRIPTION
 *   Only translation lives here: the connection context (smfi_setpriv)
 *   gathers the client address, the verified host name, HELO, sender and
 *   authentication; at the first RCPT of a message it waits (bounded) for
 *   the DNS checks, the one place a message waits; each RCPT is handed
 *   with those facts to decide_rcpt(); a verdict becomes
 *   SMFIS_CONTINUE or smfi_setreply(451 4.7.1) + SMFIS_TEMPFAIL; at end of
 *   message a delayed message gets its X-Greylist header.
 *
 *   Greylisting keys on the RCPT argument and the connect socket address,
 *   never on MTA macros, which differ between Postfix and Sendmail.
 * THREADS
 *   libmilter runs one connection's callbacks on different worker threads;
 *   all connection state lives in the context.
 */
#ifndef GREYREP_MILTER_H
#define GREYREP_MILTER_H

#include <libmilter/mfapi.h>

extern struct smfiDesc milter_desc;

struct checks;
struct decider;

/* milter_init - the decider (and its store) and the DNS checks every
 * connection uses */
void milter_init(struct decider *d, struct checks *chk);

#endif
