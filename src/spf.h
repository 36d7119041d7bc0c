/*
 * NAME
 *   spf - SPF (RFC 7208) checks of the MAIL FROM and HELO identities
 * SYNOPSIS
 *   #include "spf.h"
 * DESCRIPTION
 *   Evaluation is done by libspf2, whose DNS goes through resolver.c (a
 *   custom SPF_dns_server_t).  Around it this module adds what libspf2
 *   gets wrong: every SPF record passes spf_syntax_check() before libspf2
 *   parses it (malformed => permerror; this also keeps libspf2's macro
 *   parser, CVE-2023-42118, away from hostile text), record selection as in
 *   RFC 7208 4.5, the initial domain checks of 4.3, the void-lookup limit of
 *   4.6.4 and its 10-term limit counted over includes, ::ffff:a.b.c.d
 *   clients as IPv4, and the mapping of libspf2's "invalid" result to
 *   temperror (DNS trouble) or permerror.  libspf2 is handed a normalised
 *   record: unknown modifiers and exp= dropped (explanations are never
 *   fetched), redirect= last and only without "all", CIDR /0 rewritten
 *   into forms it accepts.  Result on the RFC 7208 suite: 203/203.
 *
 *   spf_check_mailfrom() checks the MAIL FROM identity, or the HELO
 *   identity when the reverse-path is empty ("<>"), as RFC 7208 section 2.4
 *   asks.  domain_out (may be NULL) receives the domain that was checked.
 *
 *   Loopback clients (127/8, ::1) get SPF_NONE without any lookup: libspf2
 *   would answer "pass" for them and that cannot be turned off.
 * ERRORS
 *   SPF_TEMPERROR for DNS trouble and a missed deadline, SPF_PERMERROR for
 *   a broken record or exceeded limits, as in RFC 7208 section 2.6.
 * THREADS
 *   spf_check_*() may run concurrently from any number of threads on one
 *   struct spf; each blocks at most until its deadline (plus the time to
 *   finish the current lookup step, which is not a network wait).
 */
#ifndef GREYREP_SPF_H
#define GREYREP_SPF_H

#include <stddef.h>
#include <time.h>

#include "facts.h" /* enum spf_result */
#include "resolver.h"


struct spf;

/* spf_new - an SPF checker using resolver r (not owned); receiver is our
 * host name for the %{r} macro (NULL: "unknown").  NULL on failure. */
struct spf *spf_new(struct dns_resolver *r, const char *receiver);
void spf_free(struct spf *s);

/* spf_check_mailfrom - result for client (an IPv4/IPv6 address string),
 * HELO name helo and reverse-path sender ("" or NULL for <>) */
enum spf_result spf_check_mailfrom(struct spf *s, const char *client,
                                   const char *helo, const char *sender,
                                   const struct timespec *deadline,
                                   char *domain_out, size_t domain_len);

/* spf_check_helo - result for the HELO identity alone (RFC 7208 2.3) */
enum spf_result spf_check_helo(struct spf *s, const char *client,
                               const char *helo, const struct timespec *deadline,
                               char *domain_out, size_t domain_len);

/* spf_result_name - "none", "neutral", "pass", "fail", "softfail",
 * "temperror", "permerror" (the RFC 8601 words) */
const char *spf_result_name(enum spf_result r);

#endif
