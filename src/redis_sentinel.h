/*
 * NAME
 *   redis_sentinel - find the Redis primary through Redis Sentinel
 * SYNOPSIS
 *   #include "redis_sentinel.h"
 * DESCRIPTION
 *   Used by redis_pool.c only.  redis_sentinels_parse() reads the
 *   [store] redis_sentinels list ("host:port, [v6]:port, host"; a missing
 *   port is Sentinel's 26379) with the master name and the Sentinel
 *   password.  redis_sentinel_query() asks the Sentinels in the order
 *   given, each on a new connection with the configured timeout,
 *   "SENTINEL get-master-addr-by-name NAME", and returns the first
 *   address one of them gives.  A Sentinel that does not answer, refuses
 *   us, or does not know the name is skipped; the worst case is one
 *   timeout per Sentinel.
 *
 *   Whether the address really is the primary is the caller's business
 *   (redis_pool.c sends ROLE on every new connection): a Sentinel may
 *   answer with the old primary for a while after it failed.
 * ERRORS
 *   redis_sentinels_parse() returns -1 with errbuf filled for a bad list.
 *   redis_sentinel_query() returns -1 with why filled (every Sentinel's
 *   failure, in order, truncated); *refused is then set when every
 *   Sentinel answered and refused us (password, unknown name): at start
 *   that is a configuration error, while one Sentinel that cannot be
 *   reached leaves the question open.
 * THREADS
 *   Both functions touch only their arguments; a struct redis_sentinels
 *   is read-only after parsing.
 */
#ifndef GREYREP_REDIS_SENTINEL_H
#define GREYREP_REDIS_SENTINEL_H

#include <stddef.h>
#include <sys/time.h>

#define REDIS_SENTINELS_MAX 8
#define REDIS_SENTINEL_PORT 26379

struct redis_sentinels {
    int n;                        /* 0: no Sentinel, a fixed address */
    struct {
        char host[256];
        int port;
    } node[REDIS_SENTINELS_MAX];
    char master[128];             /* the name in "sentinel monitor NAME ..." */
    char password[128];           /* AUTH to each Sentinel; empty: none */
};

/* redis_sentinels_parse - list, name and password into *s; 0 or -1 */
int redis_sentinels_parse(struct redis_sentinels *s, const char *list,
                          const char *master, const char *password,
                          char *errbuf, size_t errlen);

/* redis_sentinel_query - the primary's host and port from the first Sentinel that knows */
int redis_sentinel_query(const struct redis_sentinels *s, struct timeval timeout,
                         char *host, size_t hostlen, int *port, char *why,
                         size_t whylen, int *refused);

#endif
