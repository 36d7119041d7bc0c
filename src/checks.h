/*
 * NAME
 *   checks - who is sending: iprev, SPF, DNS block lists and DKIM for one
 *   connection, through the one resolver
 * SYNOPSIS
 *   chk = chk_open(cfg)                       once per process
 *   cc  = chk_connect(chk, cfg, ip, helo)     at connect: PTR and DNSBL start
 *   chk_mail(cc, cfg, helo, sender)           at MAIL: SPF (in parallel with
 *                                             the lookups still running)
 *   f   = chk_facts(cc)                       at RCPT: wait, bounded (the
 *                                             caller, milter.c, waits here)
 *   chk_header/chk_eoh/chk_body               DKIM is fed the message
 *   chk_eom(cc, cfg, buf)                     Authentication-Results value
 *   chk_conn_free(cc)                         at close
 * DESCRIPTION
 *   Lookups start as soon as their inputs exist and run in parallel, so a
 *   message waits about as long as its slowest lookup.  [dns] timeout
 *   bounds all lookups of one message together: the deadline is set at
 *   MAIL FROM and every wait uses it; DKIM key lookups get their own
 *   deadline of the same length at end of message.
 *
 *   chk_facts() reports dns_failed when every lookup that ran failed
 *   temporarily (DNS down, blackholed, SERVFAIL everywhere): the caller then
 *   answers with on_error.  A single check that fails temporarily only
 *   contributes no opinion.
 * THREADS
 *   A struct checks is shared by all threads.  A struct chk_conn belongs to
 *   one connection, whose callbacks libmilter runs one at a time.
 */
#ifndef GREYREP_CHECKS_H
#define GREYREP_CHECKS_H

#include <stddef.h>

#include "config.h"
#include "facts.h"
#include "dnsbl.h"
#include "iprev.h"
#include "spf.h"

struct checks;
struct chk_conn;


/* chk_open - resolver, SPF and DKIM verifier per [dns]/[dkim]; NULL + err */
struct checks *chk_open(const struct cfg *cfg, char *err, size_t errlen);
void chk_close(struct checks *chk);

/* chk_connect - start the connection's lookups for client (NULL chk: no
 * checks); the facts carry the client address from here on */
struct chk_conn *chk_connect(struct checks *chk, const struct cfg *cfg,
                             const struct net_addr *client);
void chk_conn_free(struct chk_conn *cc);

/* chk_mail - a new message: set its deadline, check SPF for sender
 * ("" for <>) and helo; skip_spf for authenticated senders */
void chk_mail(struct chk_conn *cc, const struct cfg *cfg, const char *helo,
              const char *sender, int skip_spf);
/* chk_facts - every result of this message so far; the first call after
 * chk_mail() waits for the lookups still running, bounded by the message's
 * deadline, so the caller decides where a message may wait.  After
 * chk_eom() the DKIM results are in the facts too. */
const struct msg_facts *chk_facts(struct chk_conn *cc);

void chk_header(struct chk_conn *cc, const char *name, const char *value);
void chk_eoh(struct chk_conn *cc);
void chk_body(struct chk_conn *cc, const unsigned char *buf, size_t len);
/* chk_eom - finish DKIM and build the Authentication-Results value;
 * 1 if buf holds a header value, 0 if nothing was checked.  summary gets
 * a short text of the DKIM results for the log. */
int chk_eom(struct chk_conn *cc, const struct cfg *cfg, char *buf, size_t len,
            char *summary, size_t slen);

#endif
