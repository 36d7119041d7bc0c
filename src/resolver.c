/*
 * NAME
 *   resolver.c - one c-ares event loop thread behind dns_submit()/dns_wait()
 * SYNOPSIS
 *   #include "resolver.h"
 * DESCRIPTION
 *   c-ares has no thread safety within a channel, so exactly one thread, the
 *   loop, touches the channel.  Callers put a struct dns_query on a queue
 *   and wake the loop through an eventfd; the loop starts the query, polls
 *   the sockets c-ares reports through ARES_OPT_SOCK_STATE_CB (no ares_fds:
 *   no FD_SETSIZE limit), and on completion stores the status and a copy of
 *   the answer in the query and signals the query's condition variable.
 *
 *   Queries and the resolver are reference counted: a query holds one
 *   reference for its submitter and one while the loop owns it, and each
 *   query holds one on its resolver, so dns_release() before completion and
 *   dns_release() after dns_close() are both safe.
 *
 *   A resolver opened with dns_open_zone() (resolver_zone.c) has no thread
 *   and no sockets: dns_submit() hands its queries to dns_zone_answer().
 * DIAGNOSTICS
 *   dns_open() reports c-ares set-up errors through errbuf; run-time errors
 *   become DNS_TEMPFAIL and are logged with log_warn() only when they are
 *   our own failures (memory, eventfd), never per failed lookup.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <ares.h>

#include "log.h"
#include "resolver.h"
#include "resolver_impl.h"

static pthread_once_t dns_once = PTHREAD_ONCE_INIT;
static int dns_lib_status;

/* dns_lib_init - ares_library_init() once per process */
static void dns_lib_init(void)
{
    dns_lib_status = ares_library_init(ARES_LIB_INIT_ALL);
}

/* dns_deadline - now (CLOCK_MONOTONIC) + ms, for dns_wait() */
void dns_deadline(struct timespec *ts, unsigned ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* dns_status_name - short name of a status for logs and tests */
const char *dns_status_name(enum dns_status s)
{
    switch (s) {
    case DNS_OK: return "ok";
    case DNS_NXDOMAIN: return "nxdomain";
    case DNS_NODATA: return "nodata";
    case DNS_TEMPFAIL: return "tempfail";
    case DNS_PERMFAIL: return "permfail";
    }
    return "unknown";
}

/* resolver_unref - drop a reference, free the resolver with the last; lock held on entry, released */
static void resolver_unref_locked(struct dns_resolver *r)
{
    int last = --r->refs == 0;
    pthread_mutex_unlock(&r->lock);
    if (!last)
        return;
    if (r->zone)
        dns_zone_free(r->zone);
    pthread_mutex_destroy(&r->lock);
    free(r->socks);
    free(r);
}

/* query_unref_locked - drop a query reference; frees it with the last (lock stays held) */
static void query_unref_locked(struct dns_query *q)
{
    if (--q->refs > 0)
        return;
    pthread_cond_destroy(&q->cond);
    free(q->answer);
    free(q);
}

/* dns_query_complete_locked - record a result once and wake the waiter */
void dns_query_complete_locked(struct dns_query *q, enum dns_status st,
                                  const unsigned char *abuf, size_t alen)
{
    if (q->done)
        return;
    q->status = st;
    if (abuf && alen > 0 && q->refs > 1) {
        q->answer = malloc(alen);
        if (q->answer) {
            memcpy(q->answer, abuf, alen);
            q->len = alen;
        } else if (st == DNS_OK) {
            q->status = DNS_TEMPFAIL;
        }
    }
    q->done = 1;
    pthread_cond_signal(&q->cond);
}

/* dns_skip_name - length of the (possibly compressed) name at p, or -1 */
static long dns_skip_name(const unsigned char *pkt, size_t len, size_t p)
{
    size_t start = p;

    for (;;) {
        if (p >= len)
            return -1;
        unsigned c = pkt[p];
        if (c == 0)
            return (long)(p + 1 - start);
        if ((c & 0xc0) == 0xc0)
            return p + 2 <= len ? (long)(p + 2 - start) : -1;
        if (c & 0xc0)
            return -1;
        p += c + 1;
    }
}

/* dns_count_answers - answer RRs of type in a packet, or -1 if it does not parse */
static int dns_count_answers(const unsigned char *pkt, size_t len, int type)
{
    if (len < 12)
        return -1;
    unsigned qd = (unsigned)pkt[4] << 8 | pkt[5];
    unsigned an = (unsigned)pkt[6] << 8 | pkt[7];
    size_t p = 12;
    int n = 0;

    for (unsigned i = 0; i < qd; i++) {
        long s = dns_skip_name(pkt, len, p);
        if (s < 0 || p + (size_t)s + 4 > len)
            return -1;
        p += (size_t)s + 4;
    }
    for (unsigned i = 0; i < an; i++) {
        long s = dns_skip_name(pkt, len, p);
        if (s < 0 || p + (size_t)s + 10 > len)
            return -1;
        p += (size_t)s;
        int t = pkt[p] << 8 | pkt[p + 1];
        size_t rdlen = (size_t)pkt[p + 8] << 8 | pkt[p + 9];
        p += 10;
        if (p + rdlen > len)
            return -1;
        p += rdlen;
        if (t == type)
            n++;
    }
    return n;
}

/* dns_ares_status - our status for a c-ares status of a finished query */
static enum dns_status dns_ares_status(int status)
{
    switch (status) {
    case ARES_SUCCESS: return DNS_OK;
    case ARES_ENODATA: return DNS_NODATA;
    case ARES_ENOTFOUND: return DNS_NXDOMAIN;
    case ARES_EBADNAME: return DNS_PERMFAIL;
    default: return DNS_TEMPFAIL;  /* SERVFAIL, REFUSED, timeout, destruction */
    }
}

/* Outcome counters of every lookup, for the metrics (relaxed atomics:
 * each is read on its own, a snapshot need not be exact across them). */
static uint64_t dns_outcomes[DNS_O_N];

/* dns_count - one more lookup with this outcome */
static void dns_count(enum dns_outcome o)
{
    __atomic_add_fetch(&dns_outcomes[o], 1, __ATOMIC_RELAXED);
}

/* dns_outcome_of - the outcome kind of a c-ares status */
static enum dns_outcome dns_outcome_of(int status, enum dns_status st)
{
    switch (status) {
    case ARES_ESERVFAIL: return DNS_O_SERVFAIL;
    case ARES_EREFUSED: return DNS_O_REFUSED;
    case ARES_ETIMEOUT: return DNS_O_TIMEOUT;
    default: break;
    }
    switch (st) {
    case DNS_OK: return DNS_O_OK;
    case DNS_NXDOMAIN: return DNS_O_NXDOMAIN;
    case DNS_NODATA: return DNS_O_NODATA;
    case DNS_PERMFAIL: return DNS_O_PERMFAIL;
    default: return DNS_O_OTHER;
    }
}

void dns_outcome_counts(uint64_t out[DNS_O_N])
{
    for (int i = 0; i < DNS_O_N; i++)
        out[i] = __atomic_load_n(&dns_outcomes[i], __ATOMIC_RELAXED);
}

const char *dns_outcome_name(enum dns_outcome o)
{
    static const char *names[DNS_O_N] = {"ok", "nxdomain", "nodata", "servfail", "refused",
                                         "timeout", "deadline", "other", "permfail"};
    return o < DNS_O_N ? names[o] : "?";
}

/* dns_ares_callback - c-ares finished a query (loop thread) */
static void dns_ares_callback(void *arg, int status, int timeouts,
                              unsigned char *abuf, int alen)
{
    struct dns_query *q = arg;
    struct dns_resolver *r = q->r;
    enum dns_status st = dns_ares_status(status);
    size_t len = abuf && alen > 0 ? (size_t)alen : 0;

    (void)timeouts;
    /* DNS_OK means at least one record of the asked type, not a CNAME alone */
    if (st == DNS_OK) {
        int n = dns_count_answers(abuf, len, q->type);
        st = n > 0 ? DNS_OK : n == 0 ? DNS_NODATA : DNS_PERMFAIL;
    }
    if (st != DNS_OK && st != DNS_NODATA && st != DNS_NXDOMAIN)
        len = 0;
    dns_count(dns_outcome_of(status, st));
    pthread_mutex_lock(&r->lock);
    dns_query_complete_locked(q, st, abuf, len);
    query_unref_locked(q);
    pthread_mutex_unlock(&r->lock);
}

/* dns_sock_state - c-ares opened, changed or closed a socket (loop thread) */
static void dns_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    struct dns_resolver *r = data;
    size_t i;

    for (i = 0; i < r->nsocks && r->socks[i].fd != fd; i++)
        ;
    if (!readable && !writable) {
        if (i < r->nsocks)
            r->socks[i] = r->socks[--r->nsocks];
        return;
    }
    if (i == r->nsocks) {
        if (r->nsocks == r->capsocks) {
            size_t cap = r->capsocks ? 2 * r->capsocks : 8;
            struct dns_sock *s = realloc(r->socks, cap * sizeof *s);
            if (!s) {
                /* the query on it will time out instead of hanging */
                log_warn("dns: out of memory tracking a socket");
                return;
            }
            r->socks = s;
            r->capsocks = cap;
        }
        r->socks[r->nsocks++].fd = fd;
    }
    r->socks[i].events = (short)((readable ? POLLIN : 0) | (writable ? POLLOUT : 0));
}

/* dns_loop_start_queued - hand queued queries to c-ares (loop thread) */
static int dns_loop_start_queued(struct dns_resolver *r)
{
    pthread_mutex_lock(&r->lock);
    struct dns_query *q = r->queue_head;
    int stopping = r->stopping;
    r->queue_head = r->queue_tail = NULL;
    pthread_mutex_unlock(&r->lock);

    while (q) {
        struct dns_query *next = q->next;
        q->next = NULL;
        if (stopping) {
            dns_ares_callback(q, ARES_EDESTRUCTION, 0, NULL, 0);
        } else {
            /* a query whose submitter has already gone is not worth sending */
            pthread_mutex_lock(&r->lock);
            int orphan = q->refs == 1;
            pthread_mutex_unlock(&r->lock);
            if (orphan)
                dns_ares_callback(q, ARES_ECANCELLED, 0, NULL, 0);
            else
                ares_query(r->channel, q->name, ns_c_in, q->type, dns_ares_callback, q);
        }
        q = next;
    }
    return stopping;
}

/* dns_loop - the resolver thread: poll the wake fd and c-ares' sockets */
static void *dns_loop(void *arg)
{
    struct dns_resolver *r = arg;
    struct pollfd *pfd = NULL;
    size_t cap = 0;

    for (;;) {
        if (dns_loop_start_queued(r))
            break;
        size_t n = r->nsocks + 1;
        if (n > cap) {
            struct pollfd *p = realloc(pfd, n * sizeof *p);
            if (!p) {
                log_warn("dns: out of memory in the event loop");
                sleep(1);
                continue;
            }
            pfd = p;
            cap = n;
        }
        pfd[0].fd = r->wake_fd;
        pfd[0].events = POLLIN;
        for (size_t i = 0; i < r->nsocks; i++) {
            pfd[i + 1].fd = r->socks[i].fd;
            pfd[i + 1].events = r->socks[i].events;
        }
        struct timeval tv, *tvp = ares_timeout(r->channel, NULL, &tv);
        int ms = tvp ? (int)(tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000) : -1;
        int rc = poll(pfd, n, ms);
        if (rc < 0 && errno != EINTR) {
            log_warn("dns: poll: %s", strerror(errno));
            continue;
        }
        if (rc > 0 && (pfd[0].revents & POLLIN)) {
            uint64_t v;
            if (read(r->wake_fd, &v, sizeof v) < 0 && errno != EAGAIN)
                log_warn("dns: eventfd read: %s", strerror(errno));
        }
        /* c-ares may open and close sockets while processing: work on the copy */
        for (size_t i = 1; rc > 0 && i < n; i++) {
            short re = pfd[i].revents;
            if (!re)
                continue;
            ares_socket_t rfd = (re & (POLLIN | POLLERR | POLLHUP)) ? pfd[i].fd : ARES_SOCKET_BAD;
            ares_socket_t wfd = (re & POLLOUT) ? pfd[i].fd : ARES_SOCKET_BAD;
            ares_process_fd(r->channel, rfd, wfd);
        }
        /* time-outs and retries */
        ares_process_fd(r->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    }
    /* every query still in c-ares gets ARES_EDESTRUCTION -> DNS_TEMPFAIL */
    ares_destroy(r->channel);
    dns_loop_start_queued(r);
    free(pfd);
    return NULL;
}

/* dns_resolver_alloc - a resolver with its lock and one owner reference */
struct dns_resolver *dns_resolver_alloc(void)
{
    struct dns_resolver *r = calloc(1, sizeof *r);

    if (!r)
        return NULL;
    pthread_mutex_init(&r->lock, NULL);
    r->refs = 1;
    r->wake_fd = -1;
    return r;
}

/* dns_open - start the resolver thread */
struct dns_resolver *dns_open(const char *servers, unsigned timeout_ms,
                              char *errbuf, size_t errlen)
{
    struct ares_options o;
    int rc;

    pthread_once(&dns_once, dns_lib_init);
    if (dns_lib_status != ARES_SUCCESS) {
        snprintf(errbuf, errlen, "ares_library_init: %s", ares_strerror(dns_lib_status));
        return NULL;
    }
    struct dns_resolver *r = dns_resolver_alloc();
    if (!r) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    /*
     * c-ares waits timeout, then 2 * timeout on the second try (one server),
     * so a third of the budget per first try keeps one query within it.
     */
    memset(&o, 0, sizeof o);
    o.timeout = timeout_ms / 3 > 50 ? (int)(timeout_ms / 3) : 50;
    o.tries = 2;
    o.lookups = (char *)"b";    /* never /etc/hosts */
    o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOCHECKRESP;
    o.sock_state_cb = dns_sock_state;
    o.sock_state_cb_data = r;
    rc = ares_init_options(&r->channel, &o,
                           ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_LOOKUPS |
                               ARES_OPT_FLAGS | ARES_OPT_SOCK_STATE_CB);
    if (rc != ARES_SUCCESS) {
        snprintf(errbuf, errlen, "ares_init_options: %s", ares_strerror(rc));
        goto fail;
    }
    if (servers && *servers) {
        rc = ares_set_servers_ports_csv(r->channel, servers);
        if (rc != ARES_SUCCESS) {
            snprintf(errbuf, errlen, "DNS servers \"%s\": %s", servers, ares_strerror(rc));
            ares_destroy(r->channel);
            goto fail;
        }
    }
    r->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (r->wake_fd < 0) {
        snprintf(errbuf, errlen, "eventfd: %s", strerror(errno));
        ares_destroy(r->channel);
        goto fail;
    }
    rc = pthread_create(&r->thread, NULL, dns_loop, r);
    if (rc != 0) {
        snprintf(errbuf, errlen, "pthread_create: %s", strerror(rc));
        ares_destroy(r->channel);
        close(r->wake_fd);
        goto fail;
    }
    return r;
fail:
    pthread_mutex_destroy(&r->lock);
    free(r);
    return NULL;
}

/* dns_wake - make the loop look at its queue */
static void dns_wake(struct dns_resolver *r)
{
    uint64_t one = 1;

    if (write(r->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
        log_warn("dns: eventfd write: %s", strerror(errno));
}

/* dns_close - stop the thread; pending waiters get DNS_TEMPFAIL */
void dns_close(struct dns_resolver *r)
{
    if (!r)
        return;
    if (!r->zone) {
        pthread_mutex_lock(&r->lock);
        r->stopping = 1;
        pthread_mutex_unlock(&r->lock);
        dns_wake(r);
        pthread_join(r->thread, NULL);
        close(r->wake_fd);
        r->wake_fd = -1;
    }
    pthread_mutex_lock(&r->lock);
    r->stopping = 1;
    resolver_unref_locked(r);
}

/* dns_name_ok - copy a query name in canonical form (lower case, no final dot); 0 if malformed */
int dns_name_ok(const char *name, char *out, size_t outlen)
{
    size_t len = strlen(name), label = 0;

    if (len > 0 && name[len - 1] == '.')
        len--;
    if (len == 0 || len > 253 || len + 1 > outlen)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == '.') {
            if (label == 0)
                return 0;
            label = 0;
        } else if (++label > 63 || c < 0x20 || c >= 0x7f) {
            return 0;
        }
        out[i] = (char)tolower(c);
    }
    out[len] = '\0';
    return label > 0;
}

/* dns_submit - start a lookup of (name, type) */
struct dns_query *dns_submit(struct dns_resolver *r, const char *name, int type)
{
    struct dns_query *q = calloc(1, sizeof *q);

    if (!q) {
        /* the header promises a query; a static one that says TEMPFAIL */
        static struct dns_query oom = { .done = 1, .status = DNS_TEMPFAIL, .refs = 1 << 30 };
        log_warn("dns: out of memory submitting %s", name);
        return &oom;
    }
    q->r = r;
    q->type = type;
    q->refs = 2;
    q->status = DNS_TEMPFAIL;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->cond, &ca);
    pthread_condattr_destroy(&ca);

    pthread_mutex_lock(&r->lock);
    r->refs++;
    if (!dns_name_ok(name, q->name, sizeof q->name)) {
        dns_query_complete_locked(q, DNS_PERMFAIL, NULL, 0);
        q->refs--;
    } else if (r->stopping) {
        dns_query_complete_locked(q, DNS_TEMPFAIL, NULL, 0);
        q->refs--;
    } else if (r->zone) {
        dns_zone_answer(r, q);
        q->refs--;
    } else {
        if (r->queue_tail)
            r->queue_tail->next = q;
        else
            r->queue_head = q;
        r->queue_tail = q;
        pthread_mutex_unlock(&r->lock);
        dns_wake(r);
        return q;
    }
    pthread_mutex_unlock(&r->lock);
    return q;
}

/* dns_wait - wait for completion or the deadline; returns the status */
enum dns_status dns_wait(struct dns_query *q, const struct timespec *deadline)
{
    struct dns_resolver *r = q->r;
    enum dns_status st;

    if (!r)
        return q->status;       /* the out-of-memory query */
    pthread_mutex_lock(&r->lock);
    while (!q->done) {
        int rc = deadline ? pthread_cond_timedwait(&q->cond, &r->lock, deadline)
                          : pthread_cond_wait(&q->cond, &r->lock);
        if (rc == ETIMEDOUT) {
            dns_count(DNS_O_DEADLINE);
            break;
        }
    }
    st = q->done ? q->status : DNS_TEMPFAIL;
    pthread_mutex_unlock(&r->lock);
    return st;
}

/* dns_answer - the raw answer packet after DNS_OK/NODATA/NXDOMAIN, else NULL */
const unsigned char *dns_answer(const struct dns_query *q, size_t *len)
{
    const unsigned char *a = NULL;

    *len = 0;
    if (!q->r)
        return NULL;
    pthread_mutex_lock(&q->r->lock);
    if (q->done && q->answer) {
        a = q->answer;
        *len = q->len;
    }
    pthread_mutex_unlock(&q->r->lock);
    return a;
}

/* dns_release - forget the query (waiting or not) */
void dns_release(struct dns_query *q)
{
    struct dns_resolver *r = q ? q->r : NULL;

    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    query_unref_locked(q);
    resolver_unref_locked(r);
}

/* dns_done_answer - the answer packet for the c-ares parsers, DNS_OK if there is one */
static enum dns_status dns_done_answer(const struct dns_query *q,
                                       const unsigned char **abuf, int *alen)
{
    size_t len;

    *abuf = dns_answer(q, &len);
    *alen = (int)len;
    return *abuf && len > 0 && len < INT32_MAX ? DNS_OK : DNS_TEMPFAIL;
}

/* dns_parse_txt - each TXT record of a DNS_OK answer, its strings joined */
int dns_parse_txt(const struct dns_query *q, struct dns_txt *out, int max)
{
    const unsigned char *abuf;
    int alen, n = 0;
    struct ares_txt_ext *txt = NULL;

    if (dns_done_answer(q, &abuf, &alen) != DNS_OK ||
        ares_parse_txt_reply_ext(abuf, alen, &txt) != ARES_SUCCESS)
        return -1;
    for (struct ares_txt_ext *t = txt; t && n < max;) {
        struct ares_txt_ext *u = t;
        size_t len = 0;
        do {
            len += u->length;
            u = u->next;
        } while (u && !u->record_start);
        char *s = malloc(len + 1);
        if (!s) {
            dns_free_txt(out, n);
            ares_free_data(txt);
            return -1;
        }
        size_t off = 0;
        for (u = t; u && (u == t || !u->record_start); u = u->next) {
            memcpy(s + off, u->txt, u->length);
            off += u->length;
        }
        s[off] = '\0';
        out[n].text = s;
        out[n].len = off;
        n++;
        t = u;
    }
    ares_free_data(txt);
    return n;
}

/* dns_free_txt - free what dns_parse_txt() stored */
void dns_free_txt(struct dns_txt *txt, int n)
{
    for (int i = 0; i < n; i++) {
        free(txt[i].text);
        txt[i].text = NULL;
    }
}

/* dns_parse_addrs - the addresses of an A (AF_INET) or AAAA (AF_INET6) answer */
int dns_parse_addrs(const struct dns_query *q, int family, void *out, int max)
{
    const unsigned char *abuf;
    int alen, n = max;

    if (max <= 0)
        return 0;
    if (dns_done_answer(q, &abuf, &alen) != DNS_OK)
        return -1;
    if (family == AF_INET) {
        struct ares_addrttl *a = calloc((size_t)max, sizeof *a);
        if (!a)
            return -1;
        if (ares_parse_a_reply(abuf, alen, NULL, a, &n) != ARES_SUCCESS)
            n = -1;
        for (int i = 0; i < n; i++)
            ((struct in_addr *)out)[i] = a[i].ipaddr;
        free(a);
        return n;
    }
    if (family == AF_INET6) {
        struct ares_addr6ttl *a = calloc((size_t)max, sizeof *a);
        if (!a)
            return -1;
        if (ares_parse_aaaa_reply(abuf, alen, NULL, a, &n) != ARES_SUCCESS)
            n = -1;
        for (int i = 0; i < n; i++)
            memcpy(&((struct in6_addr *)out)[i], &a[i].ip6addr, sizeof(struct in6_addr));
        free(a);
        return n;
    }
    return -1;
}

/* dns_parse_names - PTR or MX target names (MX in preference order); free() each */
int dns_parse_names(const struct dns_query *q, char **out, int max)
{
    const unsigned char *abuf;
    int alen, n = 0;

    if (dns_done_answer(q, &abuf, &alen) != DNS_OK)
        return -1;
    if (q->type == ns_t_mx) {
        struct ares_mx_reply *mx = NULL;
        if (ares_parse_mx_reply(abuf, alen, &mx) != ARES_SUCCESS)
            return -1;
        /* stable selection sort by preference: MX order is the host order */
        for (int pref = -1; n < max;) {
            int best = 0x10000;
            for (struct ares_mx_reply *m = mx; m; m = m->next)
                if (m->priority > pref && m->priority < best)
                    best = m->priority;
            if (best == 0x10000)
                break;
            for (struct ares_mx_reply *m = mx; m && n < max; m = m->next)
                if (m->priority == best && (out[n] = strdup(m->host)) != NULL)
                    n++;
            pref = best;
        }
        ares_free_data(mx);
        return n;
    }
    if (q->type == ns_t_ptr) {
        unsigned char dummy[16] = { 0 };
        struct hostent *h = NULL;
        if (ares_parse_ptr_reply(abuf, alen, dummy, 4, AF_INET, &h) != ARES_SUCCESS)
            return -1;
        /* c-ares 1.18 lists every PTR target among the aliases, in answer
         * order, and repeats the last one as h_name */
        for (char **al = h->h_aliases; al && *al && n < max; al++)
            if ((out[n] = strdup(*al)) != NULL)
                n++;
        if (n == 0 && max > 0 && h->h_name && (out[n] = strdup(h->h_name)) != NULL)
            n++;
        ares_free_hostent(h);
        return n;
    }
    return -1;
}
