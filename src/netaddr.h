/*
 * NAME
 *   netaddr - IP addresses, CIDR networks, masking
 * DESCRIPTION
 *   One representation for IPv4 and IPv6: an IPv4-mapped IPv6 address
 *   (::ffff:a.b.c.d) is stored and treated as IPv4 everywhere, so a client
 *   that arrives over an IPv6 socket as a mapped address is greylisted with
 *   the IPv4 prefix.  Parsers are strict: trailing garbage, a prefix out of
 *   range, or an empty string is an error (-1).
 * THREADS
 *   Pure functions.
 */
#ifndef GREYREP_NETADDR_H
#define GREYREP_NETADDR_H

#include <stddef.h>
#include <sys/socket.h>

#define NET_STRLEN 64 /* enough for any address or CIDR we print */

struct net_addr {
    int family;               /* AF_INET or AF_INET6 */
    unsigned char a[16];      /* IPv4 in a[0..3] */
};

struct net_cidr {
    struct net_addr addr;     /* host bits already cleared */
    unsigned prefix;
};

/* net_parse - "192.0.2.1", "2001:db8::1", "[2001:db8::1]", "IPv6:2001:db8::1" */
int net_parse(const char *s, struct net_addr *out);
/* net_from_sockaddr - from a connect callback's address; -1 if not IP */
int net_from_sockaddr(const struct sockaddr *sa, struct net_addr *out);
/* net_parse_cidr - "192.0.2.0/24", or an address alone (a /32 or /128);
 * host bits set below the prefix are cleared */
int net_parse_cidr(const char *s, struct net_cidr *out);
/* net_mask - clear all bits below prefix (prefix is clamped to the family) */
void net_mask(struct net_addr *a, unsigned prefix);
int net_cidr_match(const struct net_cidr *c, const struct net_addr *a);
int net_equal(const struct net_addr *x, const struct net_addr *y);
/* net_format - the canonical text form */
const char *net_format(const struct net_addr *a, char *buf, size_t len);
const char *net_format_cidr(const struct net_cidr *c, char *buf, size_t len);
/* net_max_prefix - 32 or 128 */
unsigned net_max_prefix(const struct net_addr *a);

#endif
