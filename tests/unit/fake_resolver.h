/*
 * NAME
 *   fake_resolver - resolver.h over an in-memory table, for unit tests
 * DESCRIPTION
 *   Implements every function of resolver.h without a network.  Tests fill
 *   the table with fake_dns_*() calls; a lookup of a name with records of
 *   the type answers DNS_OK, a name known only with other types DNS_NODATA,
 *   an unknown name DNS_NXDOMAIN, and fake_dns_status() forces any status
 *   (DNS_TEMPFAIL for SERVFAIL or a timeout).  Names compare without case.
 * THREADS
 *   Not thread-safe: one test thread.
 */
#ifndef GREYREP_FAKE_RESOLVER_H
#define GREYREP_FAKE_RESOLVER_H

#include "resolver.h"

/* fake_dns_resolver - a resolver handle to pass to the code under test */
struct dns_resolver *fake_dns_resolver(void);
/* fake_dns_reset - empty the table and the counters */
void fake_dns_reset(void);
/* fake_dns_txt - add one TXT record (the strings already joined) */
void fake_dns_txt(const char *name, const char *text);
/* fake_dns_addr - add an A or AAAA record from text ("192.0.2.1", "2001:db8::1") */
void fake_dns_addr(const char *name, const char *address);
/* fake_dns_name - add a PTR (type ns_t_ptr) or MX (ns_t_mx) target */
void fake_dns_name(const char *name, int type, const char *target);
/* fake_dns_status - force the status of (name, type) */
void fake_dns_status(const char *name, int type, enum dns_status status);
/* fake_dns_lookups - how many lookups of (name, type) were submitted */
int fake_dns_lookups(const char *name, int type);
/* fake_dns_outstanding - queries submitted and not released (leak check) */
int fake_dns_outstanding(void);

#endif
