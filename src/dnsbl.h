/*
 * NAME
 *   dnsbl - DNS block lists: configured zones, lookups, a weighted score
 * SYNOPSIS
 *   #include "dnsbl.h"
 *
 *   at config:   dnsbl_list_parse(&list, "zen.example.org=3:127.0.0.2-127.0.0.11 "
 *                                        "bl.example.net", err, sizeof err);
 *   at connect:  lk = dnsbl_start(&list, resolver, "192.0.2.1");
 *   later:       dnsbl_finish(lk, &deadline, &outcome);
 *   at close:    dnsbl_free(lk);
 * DESCRIPTION
 *   A zone is written
 *
 *       ZONE[=WEIGHT][:CODE[,CODE...]]
 *
 *   ZONE      the list's DNS zone (at most 189 characters, so that every
 *             IPv6 query name fits in 253)
 *   WEIGHT    integer -1000..1000 added to the score when listed
 *             (default 1; negative for allow lists)
 *   CODE      an accepted answer: 127.0.0.2, a range 127.0.0.2-127.0.0.11
 *             or a prefix 127.0.0.0/24 (at most DNSBL_MAX_CODES)
 *
 *   Without codes, any answer in 127.0.0.2 - 127.255.254.255 counts: not
 *   127.0.0.1, and not 127.255.255.0/24, which lists such as Spamhaus use
 *   for "query refused" and "rate limited" errors.  A list of zones is
 *   separated by white space (or given one zone at a time to
 *   dnsbl_list_add, e.g. one per config line).
 *
 *   A client 192.0.2.1 is looked up as 1.2.0.192.ZONE; an IPv6 client as
 *   its 32 nibbles in reverse order; IPv4-mapped IPv6 as IPv4.  All zones
 *   are asked at dnsbl_start() and collected at dnsbl_finish() under one
 *   deadline.  The outcome: score = sum of the weights of listed zones, the
 *   listed zones with their answer, and how many zones failed temporarily
 *   (those count as not listed).
 * ERRORS
 *   Parse functions return 0, or -1 with a one-line reason in err (the
 *   caller adds file:line).
 * THREADS
 *   A parsed list is read-only and may be shared; dnsbl_start() copies what
 *   it needs, so the list may be replaced (config reload) while lookups run.
 */
#ifndef GREYREP_DNSBL_H
#define GREYREP_DNSBL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "resolver.h"

#define DNSBL_MAX_ZONES 32
#define DNSBL_MAX_CODES 16
#define DNSBL_ZONE_MAX 189
#define DNSBL_WEIGHT_MIN (-1000)
#define DNSBL_WEIGHT_MAX 1000

struct dnsbl_range {
    uint32_t lo, hi; /* host byte order, inclusive */
};

struct dnsbl_zone {
    char name[DNSBL_ZONE_MAX + 1];
    int weight;
    int ncodes; /* 0: the default range */
    struct dnsbl_range codes[DNSBL_MAX_CODES];
};

struct dnsbl_list {
    int n;
    struct dnsbl_zone zones[DNSBL_MAX_ZONES];
};

/* One zone's answer, for dnsbl_evaluate(). */
struct dnsbl_answer {
    enum dns_status status;
    const unsigned char *addrs; /* naddrs IPv4 addresses, 4 bytes each */
    int naddrs;
};

struct dnsbl_hit {
    char zone[DNSBL_ZONE_MAX + 1];
    int weight;
    char code[16]; /* the accepted answer, dotted */
};

struct dnsbl_outcome {
    int score;
    int nlisted;
    int ntempfail;
    struct dnsbl_hit listed[DNSBL_MAX_ZONES];
};

/* dnsbl_parse_zone - one ZONE[=WEIGHT][:CODES] */
int dnsbl_parse_zone(const char *spec, struct dnsbl_zone *out, char *err, size_t errlen);
/* dnsbl_list_add - parse one zone and append it (duplicates refused) */
int dnsbl_list_add(struct dnsbl_list *l, const char *spec, char *err, size_t errlen);
/* dnsbl_list_parse - empty l, then add every white-space separated zone */
int dnsbl_list_parse(struct dnsbl_list *l, const char *specs, char *err, size_t errlen);

/* dnsbl_query_name - the name to look up for client_ip in zone; 0 or -1 */
int dnsbl_query_name(const char *client_ip, const char *zone, char *buf, size_t size);
/* dnsbl_code_accepted - does this answer (network order) count as listed? */
int dnsbl_code_accepted(const struct dnsbl_zone *z, const unsigned char addr[4]);
/* dnsbl_evaluate - outcome from one answer per zone of l (pure) */
void dnsbl_evaluate(const struct dnsbl_list *l, const struct dnsbl_answer *answers,
                    struct dnsbl_outcome *out);

struct dnsbl_lookup;
/* dnsbl_start - submit one A lookup per zone; NULL only when out of memory
 * (an unparsable client gives a lookup that finishes with nothing listed) */
struct dnsbl_lookup *dnsbl_start(const struct dnsbl_list *l, struct dns_resolver *r,
                                 const char *client_ip);
/* dnsbl_finish - collect (bounded by deadline, NULL = resolver timeout);
 * repeated calls give the same outcome */
void dnsbl_finish(struct dnsbl_lookup *lk, const struct timespec *deadline,
                  struct dnsbl_outcome *out);
/* dnsbl_free - release, pending lookups included (NULL ok) */
void dnsbl_free(struct dnsbl_lookup *lk);

#endif
