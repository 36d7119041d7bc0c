/*
 * NAME
 *   iprev - reverse DNS that matches forward DNS (RFC 8601 section 3)
 * SYNOPSIS
 *   #include "iprev.h"
 *
 *   at connect:  c = iprev_start(resolver, "192.0.2.1");
 *   later:       r = iprev_finish(c, &deadline, host, sizeof host);
 *   at close:    iprev_free(c);
 * DESCRIPTION
 *   The client address is looked up as a PTR; each of its first
 *   IPREV_MAX_NAMES names is looked up as A (IPv4 client) or AAAA (IPv6
 *   client), in parallel; the client passes when one of those addresses is
 *   its own.  Results (RFC 8601 2.7.3):
 *     pass       a PTR name resolves back to the client address
 *     fail       PTR names exist, none resolves back (mismatch, NXDOMAIN,
 *                no address)
 *     temperror  the PTR lookup, or a forward lookup that could have
 *                matched, failed temporarily (SERVFAIL, timeout, deadline)
 *     permerror  no PTR data for the address, or an address we cannot parse
 *
 *   iprev_evaluate() is the pure decision over lookup results, for tests
 *   and for callers with their own DNS; the driver only does the lookups.
 *
 *   iprev_generic_name() is a heuristic: does a host name look like one an
 *   access provider generates for a dynamic or customer address (client
 *   address digits in the name, words such as dyn, dsl, pool)?  It never
 *   does DNS.
 * THREADS
 *   Thread-safe.  One struct iprev_check belongs to one connection.
 */
#ifndef GREYREP_IPREV_H
#define GREYREP_IPREV_H

#include <stddef.h>
#include <time.h>

#include "facts.h" /* enum iprev_result */
#include "resolver.h"

#define IPREV_MAX_NAMES 10 /* PTR names followed */
#define IPREV_MAX_ADDRS 16 /* forward addresses looked at per name */
#define IPREV_NAME_MAX 254 /* host name buffer, with the NUL */


/* An address; IPv4-mapped IPv6 (::ffff:a.b.c.d) is stored as IPv4. */
struct iprev_addr {
    int family;              /* AF_INET or AF_INET6 */
    unsigned char bytes[16]; /* network order; 4 used for AF_INET */
};

/* The forward lookup of one PTR name, for iprev_evaluate(). */
struct iprev_forward {
    const char *name;
    enum dns_status status;     /* of its A (IPv4) or AAAA (IPv6) lookup */
    const unsigned char *addrs; /* naddrs packed addresses, 4 or 16 bytes */
    int naddrs;
};

/* iprev_addr_parse - text to address; 0, or -1 if not an address */
int iprev_addr_parse(const char *text, struct iprev_addr *out);
/* iprev_ptr_name - "4.3.2.1.in-addr.arpa" / nibbles ".ip6.arpa"; 0 or -1 */
int iprev_ptr_name(const struct iprev_addr *a, char *buf, size_t size);
/* iprev_name_ok - is this PTR target a host name we may look up? */
int iprev_name_ok(const char *name);

/* iprev_evaluate - the decision: PTR status plus the forward lookup of each
 * PTR name (n may be 0).  *verified (may be NULL) gets the index of the name
 * that passed, else -1. */
enum iprev_result iprev_evaluate(const struct iprev_addr *client, enum dns_status ptr_status,
                                 const struct iprev_forward *fwd, int n, int *verified);

struct iprev_check;
/* iprev_start - submit the PTR lookup; NULL only when out of memory.  A
 * client_ip that does not parse gives a check that finishes as permerror. */
struct iprev_check *iprev_start(struct dns_resolver *r, const char *client_ip);
/* iprev_finish - wait (bounded by deadline, NULL = resolver timeout), do
 * the forward lookups, decide.  host (may be NULL) gets the verified name
 * on pass, "" otherwise.  Calling again returns the same answer at once. */
enum iprev_result iprev_finish(struct iprev_check *c, const struct timespec *deadline,
                               char *host, size_t hostlen);
/* iprev_free - release the check and any pending lookup (NULL ok) */
void iprev_free(struct iprev_check *c);

/* iprev_result_name - "pass", "fail", "temperror", "permerror" */
const char *iprev_result_name(enum iprev_result r);

enum iprev_generic {
    IPREV_GENERIC_NO = 0,
    IPREV_GENERIC_ADDRESS, /* the client address is written in the name */
    IPREV_GENERIC_KEYWORD  /* a dynamic / customer word in the host part */
};
/* iprev_generic_name - heuristic for provider-generated names; client may
 * be NULL (then only keywords count) */
enum iprev_generic iprev_generic_name(const char *name, const struct iprev_addr *client);

#endif
