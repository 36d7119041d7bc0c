/*
 * ctl_report.c - greyrepctl report: aggregation and the text summary;
 * see ctl_report.h (the chart is in ctl_svg.c)
 */
#include "autoconf.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_ops.h"
#include "ctl_report.h"
#include "log.h"
#include "util.h"

struct group_entry {
    char *name;          /* NULL: empty slot */
    uint64_t volume, never;
};

struct report_group {
    struct group_entry *e;
    size_t n, cap;
};

/* group_find - the entry for name, created at zero */
static struct group_entry *group_find(struct report_group *g, const char *name)
{
    size_t mask, i;

    if (g->n * 2 >= g->cap) {
        struct report_group old = *g;
        g->cap = g->cap ? g->cap * 2 : 256;
        if ((g->e = calloc(g->cap, sizeof *g->e)) == NULL)
            log_fatal("out of memory");
        g->n = 0;
        for (size_t k = 0; k < old.cap; k++)
            if (old.e[k].name != NULL) {
                struct group_entry *slot = group_find(g, old.e[k].name);
                free(slot->name);
                *slot = old.e[k];
            }
        free(old.e);
    }
    mask = g->cap - 1;
    i = (size_t)util_hash64(name, strlen(name)) & mask;
    while (g->e[i].name != NULL && strcmp(g->e[i].name, name) != 0)
        i = (i + 1) & mask;
    if (g->e[i].name == NULL) {
        if ((g->e[i].name = strdup(name)) == NULL)
            log_fatal("out of memory");
        g->n++;
    }
    return &g->e[i];
}

static void group_free(struct report_group *g)
{
    if (g == NULL)
        return;
    for (size_t i = 0; i < g->cap; i++)
        free(g->e[i].name);
    free(g->e);
    free(g);
}

struct report *report_new(time_t until, time_t since_seconds)
{
    struct report *r;
    time_t start;

    if (since_seconds < 3600 || since_seconds > 400 * 86400)
        return NULL;
    if ((r = calloc(1, sizeof *r)) == NULL || (r->by_domain = calloc(1, sizeof *r->by_domain)) == NULL
        || (r->by_net = calloc(1, sizeof *r->by_net)) == NULL)
        log_fatal("out of memory");
    r->step = since_seconds <= 2 * 86400 ? 3600 : since_seconds <= 14 * 86400 ? 6 * 3600 : 86400;
    start = until - since_seconds;
    start -= start % r->step;
    r->since = start;
    r->until = until;
    r->nbuckets = (int)((until - start + r->step - 1) / r->step);
    if (r->nbuckets < 1)
        r->nbuckets = 1;
    if (r->nbuckets > REPORT_MAX_BUCKETS)
        r->nbuckets = REPORT_MAX_BUCKETS;
    return r;
}

void report_free(struct report *r)
{
    if (r == NULL)
        return;
    group_free(r->by_domain);
    group_free(r->by_net);
    free(r);
}

void report_add_hour(struct report *r, time_t hour, const struct metrics_snapshot *m)
{
    struct report_bucket *b;
    long idx;

    if (hour < r->since || hour >= r->until)
        return;
    idx = (long)((hour - r->since) / r->step);
    if (idx < 0 || idx >= r->nbuckets)
        return;
    b = &r->b[idx];
    b->accepted += m->accepted;
    b->tempfailed += m->tempfailed;
    b->rejected += m->rejected;
    b->passes += m->grey_passes;
    for (int i = 0; i < METRICS_DELAY_BUCKETS; i++)
        r->delay[i] += m->delay[i];
    r->hours++;
}

void report_add_triplet(struct report *r, const char *key, size_t klen,
                        const struct rec_triplet *t)
{
    char k[STORE_MAX_KEY], *net, *sender, *rcpt, *at;
    struct group_entry *d, *n;
    int never;

    if (klen >= sizeof k || klen < 2 || (time_t)t->first_seen < r->since)
        return;
    memcpy(k, key, klen);
    k[klen] = '\0';
    net = k + 2;
    if ((sender = strchr(net, '|')) == NULL || (rcpt = strchr(sender + 1, '|')) == NULL)
        return;
    *sender++ = '\0';
    *rcpt = '\0';
    at = strrchr(sender, '@');
    r->triplets++;
    never = 0;
    if (t->passes > 0) {
        r->passed++;
    } else if (t->last_seen > t->first_seen) {
        r->retried_early++;
    } else if ((time_t)t->first_seen + REPORT_PATIENCE < r->until) {
        r->never_retried++;
        never = 1;
    } else {
        r->waiting++;
    }
    d = group_find(r->by_domain, at != NULL && at[1] != '\0' ? at + 1 : sender);
    d->volume += 1 + t->passes;
    d->never += (uint64_t)never;
    n = group_find(r->by_net, net);
    n->volume += 1 + t->passes;
    n->never += (uint64_t)never;
}

/* by_volume / by_never - qsort orders, ties by name */
static int by_volume(const void *a, const void *b)
{
    const struct group_entry *x = a, *y = b;
    if (x->volume != y->volume)
        return x->volume < y->volume ? 1 : -1;
    return strcmp(x->name, y->name);
}

static int by_never(const void *a, const void *b)
{
    const struct group_entry *x = a, *y = b;
    if (x->never != y->never)
        return x->never < y->never ? 1 : -1;
    return by_volume(a, b);
}

/* print_top - the REPORT_TOP first entries of g in an order */
static void print_top(FILE *out, const char *title, const struct report_group *g, int never)
{
    struct group_entry *v = calloc(g->n ? g->n : 1, sizeof *v);
    size_t n = 0;

    if (v == NULL)
        log_fatal("out of memory");
    for (size_t i = 0; i < g->cap; i++)
        if (g->e[i].name != NULL && (!never || g->e[i].never > 0))
            v[n++] = g->e[i];
    qsort(v, n, sizeof *v, never ? by_never : by_volume);
    fprintf(out, "\n%s\n", title);
    if (n == 0)
        fprintf(out, "  (none)\n");
    for (size_t i = 0; i < n && i < REPORT_TOP; i++)
        fprintf(out, "  %8llu  %s\n", (unsigned long long)(never ? v[i].never : v[i].volume),
                v[i].name);
    free(v);
}

/* pct - a share in percent, 0 for an empty whole */
static double pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/* bar - two spaces and a text bar of width proportional to v/max, then
 * the end of the line */
static void bar(FILE *out, uint64_t v, uint64_t max, int width)
{
    int n = max ? (int)((v * (uint64_t)width + max - 1) / max) : 0;
    if (n > 0)
        fputs("  ", out);
    for (int i = 0; i < n; i++)
        fputc('#', out);
    fputc('\n', out);
}

void report_print(FILE *out, const struct report *r)
{
    char t1[32], t2[32];
    uint64_t acc = 0, temp = 0, rej = 0, passes = 0, max = 0, dmax = 0, dtotal = 0;

    fprintf(out, "greyrep report %s .. %s (%s buckets, %llu hourly records)\n",
            util_iso_time(r->since, t1, sizeof t1), util_iso_time(r->until, t2, sizeof t2),
            r->step == 3600 ? "1 hour" : r->step == 6 * 3600 ? "6 hour" : "1 day",
            (unsigned long long)r->hours);
    for (int i = 0; i < r->nbuckets; i++) {
        uint64_t all = r->b[i].accepted + r->b[i].tempfailed + r->b[i].rejected;
        acc += r->b[i].accepted;
        temp += r->b[i].tempfailed;
        rej += r->b[i].rejected;
        passes += r->b[i].passes;
        if (all > max)
            max = all;
    }
    fprintf(out, "\ndecisions over time (UTC)\n  %-16s %9s %10s %8s %7s\n", "from", "accepted",
            "tempfailed", "rejected", "passes");
    for (int i = 0; i < r->nbuckets; i++) {
        const struct report_bucket *b = &r->b[i];
        time_t start = r->since + (time_t)i * r->step;
        struct tm tm;
        char when[32];
        gmtime_r(&start, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:00", &tm);
        fprintf(out, "  %-16s %9llu %10llu %8llu %7llu", when,
                (unsigned long long)b->accepted, (unsigned long long)b->tempfailed,
                (unsigned long long)b->rejected, (unsigned long long)b->passes);
        bar(out, b->accepted + b->tempfailed + b->rejected, max, 30);
    }
    fprintf(out, "  %-16s %9llu %10llu %8llu %7llu\n", "total", (unsigned long long)acc,
            (unsigned long long)temp, (unsigned long long)rej, (unsigned long long)passes);

    for (int i = 0; i < METRICS_DELAY_BUCKETS; i++) {
        dtotal += r->delay[i];
        if (r->delay[i] > dmax)
            dmax = r->delay[i];
    }
    fprintf(out, "\nretry delay of greylist passes (%llu passes)\n", (unsigned long long)dtotal);
    for (int i = 0; i < METRICS_DELAY_BUCKETS; i++) {
        uint64_t b = metrics_delay_bound(i);
        char label[32];
        if (b == 0)
            snprintf(label, sizeof label, "> %llud", (unsigned long long)(metrics_delay_bound(i - 1) / 86400));
        else if (b < 3600)
            snprintf(label, sizeof label, "<= %llum", (unsigned long long)(b / 60));
        else if (b < 86400)
            snprintf(label, sizeof label, "<= %lluh", (unsigned long long)(b / 3600));
        else
            snprintf(label, sizeof label, "<= %llud", (unsigned long long)(b / 86400));
        fprintf(out, "  %-7s %8llu %5.1f%%", label, (unsigned long long)r->delay[i],
                pct(r->delay[i], dtotal));
        bar(out, r->delay[i], dmax, 30);
    }

    fprintf(out, "\ntriplets first seen in the period: %llu\n", (unsigned long long)r->triplets);
    fprintf(out, "  passed                 %8llu %5.1f%%\n", (unsigned long long)r->passed,
            pct(r->passed, r->triplets));
    fprintf(out, "  pending, retried early %8llu %5.1f%%\n", (unsigned long long)r->retried_early,
            pct(r->retried_early, r->triplets));
    fprintf(out, "  pending, never retried %8llu %5.1f%%  (first attempt over %dh ago)\n",
            (unsigned long long)r->never_retried, pct(r->never_retried, r->triplets),
            REPORT_PATIENCE / 3600);
    fprintf(out, "  pending, still waiting %8llu %5.1f%%\n", (unsigned long long)r->waiting,
            pct(r->waiting, r->triplets));
    {
        uint64_t pending = r->retried_early + r->never_retried + r->waiting;
        fprintf(out, "  share of pending triplets that never retried: %.1f%%\n",
                pct(r->never_retried, pending));
    }
    print_top(out, "top sender domains by volume (triplets + passes)", r->by_domain, 0);
    print_top(out, "top sender domains by abandonment (never retried)", r->by_domain, 1);
    print_top(out, "top client networks by volume", r->by_net, 0);
    print_top(out, "top client networks by abandonment", r->by_net, 1);
}

/* hour_one / triplet_one - store_iterate callbacks */
static int hour_one(void *arg, const char *key, size_t klen, const void *val, size_t vlen,
                    time_t expires)
{
    struct metrics_snapshot m;
    char host[METRICS_HOST_MAX];
    time_t hour;
    (void)expires;
    if (metrics_parse_hour_key(key, klen, host, sizeof host, &hour) == 0
        && metrics_decode(val, vlen, &m) == 0)
        report_add_hour(arg, hour, &m);
    return 0;
}

static int triplet_one(void *arg, const char *key, size_t klen, const void *val, size_t vlen,
                       time_t expires)
{
    struct rec_triplet t;
    (void)expires;
    if (rec_triplet_decode(val, vlen, &t) == 0)
        report_add_triplet(arg, key, klen, &t);
    return 0;
}

int ctl_report(const struct cfg *cfg, struct store *st, int argc, char **argv)
{
    const char *since = "1d", *svg = NULL;
    uint64_t ms;
    struct report *r;
    time_t now = util_now();
    int rc = 0;

    (void)cfg;
    for (int i = 0; i < argc; i++) {
        const char **slot = strcmp(argv[i], "--since") == 0 ? &since
                            : strcmp(argv[i], "--svg") == 0 ? &svg : NULL;
        if (slot == NULL) {
            fprintf(stderr, "greyrepctl: report: unknown argument %s\n", argv[i]);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "greyrepctl: report: %s needs a value\n", argv[i]);
            return 2;
        }
        *slot = argv[++i];
    }
    if (util_parse_duration_ms(since, &ms) < 0 || (r = report_new(now, (time_t)(ms / 1000))) == NULL) {
        fprintf(stderr, "greyrepctl: report: --since %s: not a duration from 1h to 400d\n", since);
        return 2;
    }
    if (store_iterate(st, "m|", now, hour_one, r) != STORE_OK
        || store_iterate(st, "t|", now, triplet_one, r) != STORE_OK) {
        fprintf(stderr, "greyrepctl: report: store failure\n");
        report_free(r);
        return 1;
    }
    report_print(stdout, r);
    if (svg != NULL) {
        char tmp[PATH_MAX];
        FILE *fp;
        snprintf(tmp, sizeof tmp, "%s.tmp", svg);
        if ((fp = fopen(tmp, "w")) == NULL) {
            fprintf(stderr, "greyrepctl: report: %s: %s\n", tmp, strerror(errno));
            rc = 1;
        } else {
            svg_write(fp, r);
            if (fclose(fp) != 0 || rename(tmp, svg) != 0) {
                fprintf(stderr, "greyrepctl: report: cannot write %s: %s\n", svg, strerror(errno));
                unlink(tmp);
                rc = 1;
            }
        }
    }
    if (fflush(stdout) != 0)
        rc = 1;
    report_free(r);
    return rc;
}
