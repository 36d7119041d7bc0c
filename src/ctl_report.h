/*
 * NAME
 *   ctl_report - the aggregation behind greyrepctl report, and its chart
 * DESCRIPTION
 *   report_new() makes an empty report for [until - since, until] in
 *   buckets of one hour (since <= 2 days), six hours (<= 14 days) or a
 *   day.  report_add_hour() adds one hourly metrics record (m|HOST|HOUR,
 *   any host); report_add_triplet() one triplet record (t|NET|SENDER|RCPT).
 *   report_print() writes the text summary and svg_write() the chart of
 *   decisions over time: plain SVG 1.1, no script, no external reference.
 *
 *   A triplet "never retried" is a pending one seen only once, whose first
 *   attempt is more than REPORT_PATIENCE old (a real MTA retries well
 *   within that); younger ones are counted apart as still waiting.
 *   Triplets already swept by expiry are gone and not counted.
 * THREADS
 *   One report belongs to one thread.
 */
#ifndef GREYREP_CTL_REPORT_H
#define GREYREP_CTL_REPORT_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "metrics.h"
#include "record.h"

#define REPORT_PATIENCE 3600
#define REPORT_MAX_BUCKETS 400
#define REPORT_TOP 10

struct report_bucket {
    uint64_t accepted, tempfailed, rejected, passes;
};

struct report_group;   /* counts by sender domain or client network */

struct report {
    time_t since, until;          /* the period */
    unsigned step;                /* bucket width in seconds */
    int nbuckets;
    struct report_bucket b[REPORT_MAX_BUCKETS];
    uint64_t delay[METRICS_DELAY_BUCKETS];
    uint64_t hours;               /* hourly records used */
    uint64_t triplets, passed, retried_early, never_retried, waiting;
    struct report_group *by_domain, *by_net;
};

/* report_new - an empty report; NULL if since is out of range (1h .. 400d) */
struct report *report_new(time_t until, time_t since_seconds);
void report_free(struct report *r);
void report_add_hour(struct report *r, time_t hour, const struct metrics_snapshot *m);
void report_add_triplet(struct report *r, const char *key, size_t klen,
                        const struct rec_triplet *t);
void report_print(FILE *out, const struct report *r);
/* svg_write - the decisions-over-time chart */
void svg_write(FILE *out, const struct report *r);

#endif
