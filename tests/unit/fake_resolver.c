/*
 * fake_resolver.c - resolver.h over an in-memory table; see fake_resolver.h
 */
#include "autoconf.h"

#include <sys/types.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fake_resolver.h"

#define FAKE_MAX 256

struct fake_rr {
    char name[300];
    int type;
    int forced; /* status entry, no data */
    enum dns_status status;
    char text[4096]; /* TXT, PTR/MX target */
    size_t len;
    unsigned char addr[16]; /* A / AAAA */
    int lookups;
};

struct dns_resolver {
    int unused;
};

struct dns_query {
    char name[300];
    int type;
    enum dns_status status;
};

static struct fake_rr fake_table[FAKE_MAX];
static int fake_count;
static int fake_outstanding;
static struct dns_resolver fake_the_resolver;

/* fake_dns_resolver - the one handle */
struct dns_resolver *fake_dns_resolver(void)
{
    return &fake_the_resolver;
}

/* fake_dns_reset - empty everything */
void fake_dns_reset(void)
{
    memset(fake_table, 0, sizeof fake_table);
    fake_count = 0;
    fake_outstanding = 0;
}

/* fake_add - a new table row */
static struct fake_rr *fake_add(const char *name, int type)
{
    struct fake_rr *rr;

    if (fake_count >= FAKE_MAX) {
        fprintf(stderr, "fake_resolver: table full\n");
        abort();
    }
    rr = &fake_table[fake_count++];
    snprintf(rr->name, sizeof rr->name, "%s", name);
    rr->type = type;
    rr->status = DNS_OK;
    return rr;
}

/* fake_dns_txt - one TXT record */
void fake_dns_txt(const char *name, const char *text)
{
    struct fake_rr *rr = fake_add(name, ns_t_txt);

    rr->len = strlen(text);
    if (rr->len >= sizeof rr->text)
        abort();
    memcpy(rr->text, text, rr->len);
}

/* fake_dns_addr - one A or AAAA record */
void fake_dns_addr(const char *name, const char *address)
{
    struct fake_rr *rr;

    if (strchr(address, ':') != NULL) {
        rr = fake_add(name, ns_t_aaaa);
        if (inet_pton(AF_INET6, address, rr->addr) != 1)
            abort();
    } else {
        rr = fake_add(name, ns_t_a);
        if (inet_pton(AF_INET, address, rr->addr) != 1)
            abort();
    }
}

/* fake_dns_name - one PTR or MX target */
void fake_dns_name(const char *name, int type, const char *target)
{
    struct fake_rr *rr = fake_add(name, type);

    snprintf(rr->text, sizeof rr->text, "%s", target);
    rr->len = strlen(rr->text);
}

/* fake_dns_status - force a status */
void fake_dns_status(const char *name, int type, enum dns_status status)
{
    struct fake_rr *rr = fake_add(name, type);

    rr->forced = 1;
    rr->status = status;
}

/* fake_dns_lookups - count of submitted lookups */
int fake_dns_lookups(const char *name, int type)
{
    int n = 0;

    for (int i = 0; i < fake_count; i++)
        if (fake_table[i].type == type && strcasecmp(fake_table[i].name, name) == 0) {
            n = fake_table[i].lookups;
            break;
        }
    return n;
}

/* fake_dns_outstanding - unreleased queries */
int fake_dns_outstanding(void)
{
    return fake_outstanding;
}

/* dns_open - the fake handle; servers and timeout are ignored */
struct dns_resolver *dns_open(const char *servers, unsigned timeout_ms, char *errbuf,
                              size_t errlen)
{
    (void)servers;
    (void)timeout_ms;
    (void)errbuf;
    (void)errlen;
    return &fake_the_resolver;
}

/* dns_close - nothing to stop */
void dns_close(struct dns_resolver *r)
{
    (void)r;
}

/* dns_submit - answer at once from the table */
struct dns_query *dns_submit(struct dns_resolver *r, const char *name, int type)
{
    struct dns_query *q = calloc(1, sizeof *q);
    int have_name = 0, have_type = 0, counted = 0;

    (void)r;
    if (q == NULL)
        abort();
    fake_outstanding++;
    snprintf(q->name, sizeof q->name, "%s", name);
    q->type = type;
    q->status = DNS_NXDOMAIN;
    for (int i = 0; i < fake_count; i++) {
        struct fake_rr *rr = &fake_table[i];
        if (strcasecmp(rr->name, name) != 0)
            continue;
        have_name = 1;
        if (rr->type != type)
            continue;
        if (!counted) {
            rr->lookups++;
            counted = 1;
        }
        if (rr->forced) {
            q->status = rr->status;
            return q;
        }
        have_type = 1;
    }
    if (have_type)
        q->status = DNS_OK;
    else if (have_name)
        q->status = DNS_NODATA;
    if (!counted) {
        /* remember the lookup even for unknown names */
        struct fake_rr *rr = fake_add(name, type);
        rr->forced = 1;
        rr->status = q->status;
        rr->lookups = 1;
    }
    return q;
}

/* dns_wait - answers are there at once; the deadline is not needed */
enum dns_status dns_wait(struct dns_query *q, const struct timespec *deadline)
{
    (void)deadline;
    return q != NULL ? q->status : DNS_TEMPFAIL;
}

/* dns_answer - the fake keeps no packets */
const unsigned char *dns_answer(const struct dns_query *q, size_t *len)
{
    (void)q;
    if (len != NULL)
        *len = 0;
    return NULL;
}

/* dns_release - free a query */
void dns_release(struct dns_query *q)
{
    if (q == NULL)
        return;
    fake_outstanding--;
    free(q);
}

/* fake_next - the next data row for q after index *i, or NULL */
static struct fake_rr *fake_next(const struct dns_query *q, int *i)
{
    for (; *i < fake_count; (*i)++) {
        struct fake_rr *rr = &fake_table[*i];
        if (!rr->forced && rr->type == q->type && strcasecmp(rr->name, q->name) == 0) {
            (*i)++;
            return rr;
        }
    }
    return NULL;
}

/* dns_parse_txt - the TXT rows of the name, copied */
int dns_parse_txt(const struct dns_query *q, struct dns_txt *out, int max)
{
    struct fake_rr *rr;
    int i = 0, n = 0;

    if (q == NULL || q->status != DNS_OK || q->type != ns_t_txt)
        return -1;
    while (n < max && (rr = fake_next(q, &i)) != NULL) {
        out[n].text = malloc(rr->len + 1);
        if (out[n].text == NULL)
            abort();
        memcpy(out[n].text, rr->text, rr->len);
        out[n].text[rr->len] = '\0';
        out[n].len = rr->len;
        n++;
    }
    return n;
}

/* dns_free_txt - free what dns_parse_txt copied */
void dns_free_txt(struct dns_txt *txt, int n)
{
    for (int i = 0; i < n; i++)
        free(txt[i].text);
}

/* dns_parse_addrs - A or AAAA rows, packed */
int dns_parse_addrs(const struct dns_query *q, int family, void *out, int max)
{
    struct fake_rr *rr;
    int i = 0, n = 0;
    size_t size = family == AF_INET6 ? 16 : 4;

    if (q == NULL || q->status != DNS_OK)
        return -1;
    if ((family == AF_INET && q->type != ns_t_a) ||
        (family == AF_INET6 && q->type != ns_t_aaaa))
        return -1;
    while (n < max && (rr = fake_next(q, &i)) != NULL) {
        memcpy((unsigned char *)out + (size_t)n * size, rr->addr, size);
        n++;
    }
    return n;
}

/* dns_parse_names - PTR or MX targets, strdup()ed */
int dns_parse_names(const struct dns_query *q, char **out, int max)
{
    struct fake_rr *rr;
    int i = 0, n = 0;

    if (q == NULL || q->status != DNS_OK)
        return -1;
    while (n < max && (rr = fake_next(q, &i)) != NULL) {
        if ((out[n] = strdup(rr->text)) == NULL)
            abort();
        n++;
    }
    return n;
}

/* dns_deadline - now + ms on CLOCK_MONOTONIC */
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
