/*
 * NAME
 *   resolver_impl.h - what resolver.c and resolver_zone.c share
 * DESCRIPTION
 *   Internal to the resolver module: no other file includes this.
 *   r->lock guards the queue, the reference counts and every query's
 *   done/status/answer; functions named *_locked expect it held.
 */
#ifndef GREYREP_RESOLVER_IMPL_H
#define GREYREP_RESOLVER_IMPL_H

#include <pthread.h>
#include <stddef.h>

#include <ares.h>

#include "resolver.h"

#define DNS_MAX_NAME 255        /* presentation form, without the root dot */

struct dns_zone_rr {
    char *name;                 /* lower case, no trailing dot */
    int type;                   /* ns_t_* or DNS_ZONE_TIMEOUT */
    unsigned char *rdata;       /* wire form */
    size_t rdlen;
};

struct dns_zone {
    struct dns_zone_rr *rr;
    size_t n, cap;
};

struct dns_sock {
    ares_socket_t fd;
    short events;
};

struct dns_resolver {
    pthread_mutex_t lock;       /* queue, refs, stopping, every query's state */
    int refs;                   /* owner + one per live query */
    int stopping;
    struct dns_query *queue_head, *queue_tail;
    struct dns_zone *zone;      /* non-NULL: static test resolver, no thread */
    /* owned by the loop thread only */
    pthread_t thread;
    int wake_fd;
    ares_channel channel;
    struct dns_sock *socks;
    size_t nsocks, capsocks;
};

struct dns_query {
    struct dns_resolver *r;
    struct dns_query *next;     /* queue link */
    pthread_cond_t cond;
    int refs;                   /* submitter + loop */
    int done;
    enum dns_status status;
    int type;
    unsigned char *answer;
    size_t len;
    char name[DNS_MAX_NAME + 2];
};

/* dns_name_ok - canonical copy of a query name (lower case, no final dot); 0 if malformed */
int dns_name_ok(const char *name, char *out, size_t outlen);
/* dns_resolver_alloc - a resolver with its lock and one owner reference */
struct dns_resolver *dns_resolver_alloc(void);
/* dns_query_complete_locked - record a result once and wake the waiter */
void dns_query_complete_locked(struct dns_query *q, enum dns_status st,
                               const unsigned char *abuf, size_t alen);
/* dns_zone_answer - answer q from r's zone at once (lock held) */
void dns_zone_answer(struct dns_resolver *r, struct dns_query *q);

#endif
