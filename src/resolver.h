/*
 * NAME
 *   resolver - one asynchronous DNS resolver for every check (c-ares)
 * SYNOPSIS
 *   #include "resolver.h"
 * DESCRIPTION
 *   One c-ares channel is owned by one event-loop thread, fed by a queue.
 *   Any thread submits a lookup with dns_submit() and later collects it with
 *   dns_wait(), which blocks until the answer arrives or a deadline passes.
 *   Lookups of one message are submitted as soon as their inputs exist and
 *   run in parallel, so a message waits about as long as its slowest lookup.
 * ERRORS
 *   DNS_TEMPFAIL covers SERVFAIL, REFUSED, timeouts, a missed deadline and a
 *   resolver that is shutting down; it is distinct from DNS_NXDOMAIN and
 *   DNS_NODATA (name exists, no record of that type).
 * THREADS
 *   All functions are thread-safe.  A struct dns_query belongs to the thread
 *   that submitted it until dns_release(); dns_release() may be called before
 *   the answer arrived (the answer is then dropped by the event loop).
 */
#ifndef GREYREP_RESOLVER_H
#define GREYREP_RESOLVER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum dns_status {
    DNS_OK = 0,     /* answer with at least one record of the type */
    DNS_NXDOMAIN,   /* the name does not exist */
    DNS_NODATA,     /* the name exists, no record of this type */
    DNS_TEMPFAIL,   /* SERVFAIL, REFUSED, timeout, deadline, shutdown */
    DNS_PERMFAIL    /* malformed name or answer */
};

struct dns_resolver;
struct dns_query;

/* dns_open - start the resolver thread; servers is a "host:port,..." list
 * (IPv4, [IPv6]:port) or NULL for /etc/resolv.conf.  timeout_ms bounds one
 * query's retries.  NULL with errbuf filled on failure. */
struct dns_resolver *dns_open(const char *servers, unsigned timeout_ms,
                              char *errbuf, size_t errlen);
/* dns_close - stop the thread; pending waiters get DNS_TEMPFAIL */
void dns_close(struct dns_resolver *r);

/* dns_submit - start a lookup of (name, type) where type is an ns_t_* value
 * (ns_t_a, ns_t_aaaa, ns_t_txt, ns_t_ptr, ns_t_mx).  Never NULL for a valid
 * resolver: a query that cannot start completes at once with DNS_TEMPFAIL. */
struct dns_query *dns_submit(struct dns_resolver *r, const char *name, int type);
/* dns_wait - wait until the query completes or CLOCK_MONOTONIC reaches
 * deadline (NULL = no deadline); returns its status */
enum dns_status dns_wait(struct dns_query *q, const struct timespec *deadline);
/* dns_answer - the raw answer packet after DNS_OK/NODATA/NXDOMAIN, else NULL */
const unsigned char *dns_answer(const struct dns_query *q, size_t *len);
/* dns_release - forget the query (waiting or not) */
void dns_release(struct dns_query *q);

/* Parsed views of a DNS_OK answer, for the checks.  Each returns the number
 * of items stored (at most max), or -1 if the packet does not parse. */
struct dns_txt { char *text; size_t len; };      /* strings of one TXT joined */
int dns_parse_txt(const struct dns_query *q, struct dns_txt *out, int max);
void dns_free_txt(struct dns_txt *txt, int n);
int dns_parse_addrs(const struct dns_query *q, int family, void *out, int max); /* in_addr / in6_addr */
int dns_parse_names(const struct dns_query *q, char **out, int max); /* PTR/MX targets; free() each */

/* Counters of lookup outcomes since start (all resolvers of the process),
 * for the metrics.  DNS_O_DEADLINE counts waiters that gave up (the lookup
 * itself is counted again when it finishes); the rest count finished
 * lookups by kind. */
enum dns_outcome {
    DNS_O_OK, DNS_O_NXDOMAIN, DNS_O_NODATA, DNS_O_SERVFAIL, DNS_O_REFUSED,
    DNS_O_TIMEOUT, DNS_O_DEADLINE, DNS_O_OTHER, DNS_O_PERMFAIL, DNS_O_N
};
void dns_outcome_counts(uint64_t out[DNS_O_N]);
/* dns_outcome_name - "ok", "nxdomain", ..., for metric labels */
const char *dns_outcome_name(enum dns_outcome o);

/* dns_deadline - now (CLOCK_MONOTONIC) + ms, for dns_wait() */
void dns_deadline(struct timespec *ts, unsigned ms);

/* dns_status_name - "ok", "nxdomain", "nodata", "tempfail", "permfail" */
const char *dns_status_name(enum dns_status s);

/*
 * In-memory zone, for tests: a resolver opened with dns_open_zone() starts
 * no thread and opens no socket; dns_submit() completes at once from the
 * table, with an answer packet built as a server would (CNAMEs followed),
 * so the parsers above and every check using them run unchanged.  A name
 * absent from the table is NXDOMAIN; a name present without records of the
 * type is NODATA, or DNS_TEMPFAIL when it carries a DNS_ZONE_TIMEOUT entry
 * (a server that never answers for that type).  Names are matched without
 * regard to case or a final dot.
 */
#define DNS_ZONE_TIMEOUT (-1)
struct dns_zone;
struct dns_zone *dns_zone_new(void);
/* dns_zone_add - one record; data is text for ns_t_a / ns_t_aaaa (an
 * address), ns_t_ptr / ns_t_cname (a name) and ns_t_mx ("10 name"), and
 * wire-form RDATA for any other type; NULL/0 for DNS_ZONE_TIMEOUT.
 * Returns 0, or -1 for a malformed name or datum or no memory. */
int dns_zone_add(struct dns_zone *z, const char *name, int type,
                 const void *data, size_t len);
/* dns_zone_add_txt - one TXT record of n character-strings (each <= 255) */
int dns_zone_add_txt(struct dns_zone *z, const char *name,
                     const char *const *strings, const size_t *lens, int n);
void dns_zone_free(struct dns_zone *z);
/* dns_open_zone - a resolver answering from z, which it now owns (and
 * frees even on failure); dns_close() as for any resolver */
struct dns_resolver *dns_open_zone(struct dns_zone *z);

#endif
