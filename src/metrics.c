/*
 * metrics.c - counters, their records and the hourly split; see metrics.h
 *
 * The live counters are one static struct metrics_snapshot updated with
 * relaxed atomic adds; a snapshot reads each field atomically (the fields
 * are not mutually consistent to the decision, which no reader needs).
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "record.h"
#include "util.h"

#define NFIELDS (sizeof(struct metrics_snapshot) / sizeof(uint64_t))
#define KNOWN_REASONS (R_DEFER + 1)    /* the last verdict_reason */

_Static_assert(sizeof(struct metrics_snapshot) % sizeof(uint64_t) == 0,
               "struct metrics_snapshot must be uint64_t fields only");

static struct metrics_snapshot live;
static uint64_t last_store_records, last_store_bytes;  /* atomics */

/* Decision latency bounds (µs): 1-2.5-5 steps from 100 µs to 10 s, then +Inf. */
static const uint64_t lat_bounds[METRICS_LAT_BUCKETS] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000,
    250000, 500000, 1000000, 2500000, 5000000, 10000000, 0};
/* Retry delay bounds (s): from 5 min to 2 days, then +Inf. */
static const uint64_t delay_bounds[METRICS_DELAY_BUCKETS] = {
    300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 0};

/* add - one relaxed atomic increment */
static void add(uint64_t *field, uint64_t n)
{
    __atomic_add_fetch(field, n, __ATOMIC_RELAXED);
}

/* bucket - the first bucket whose bound holds v */
static int bucket(const uint64_t *bounds, int n, uint64_t v)
{
    for (int i = 0; i < n - 1; i++)
        if (v <= bounds[i])
            return i;
    return n - 1;
}

void metrics_note_decision(enum verdict_action a, enum verdict_reason r, uint64_t latency_us)
{
    int ai = a >= 0 && a < METRICS_ACTIONS ? (int)a : V_TEMPFAIL;
    int ri = r >= 0 && r < METRICS_REASONS ? (int)r : METRICS_REASONS - 1;

    add(ai == V_ACCEPT ? &live.accepted : ai == V_REJECT ? &live.rejected : &live.tempfailed, 1);
    if (r == R_ERROR)
        add(&live.errors, 1);
    add(&live.decisions[ai][ri], 1);
    add(&live.lat[bucket(lat_bounds, METRICS_LAT_BUCKETS, latency_us)], 1);
    add(&live.lat_sum_us, latency_us);
    add(&live.lat_count, 1);
}

void metrics_note_pass(unsigned delayed)
{
    add(&live.grey_passes, 1);
    add(&live.delay[bucket(delay_bounds, METRICS_DELAY_BUCKETS, delayed)], 1);
    add(&live.delay_sum_s, delayed);
}

void metrics_note_abandoned(void)
{
    add(&live.grey_abandoned, 1);
}

void metrics_on_expired(void *arg, const char *key, size_t klen, const void *val, size_t vlen,
                        time_t expired)
{
    struct rec_triplet t;
    (void)arg;
    (void)expired;
    if (klen >= 2 && memcmp(key, "t|", 2) == 0 && rec_triplet_decode(val, vlen, &t) == 0
        && t.passes == 0)
        metrics_note_abandoned();
}

void metrics_snapshot(struct metrics_snapshot *out)
{
    const uint64_t *src = (const uint64_t *)&live;
    uint64_t *dst = (uint64_t *)out;

    for (size_t i = 0; i < NFIELDS; i++)
        dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
    dns_outcome_counts(out->dns);
    out->since = out->updated = 0;
    out->store_records = out->store_bytes = 0;
}

void metrics_reset(void)
{
    uint64_t *f = (uint64_t *)&live;
    for (size_t i = 0; i < NFIELDS; i++)
        __atomic_store_n(&f[i], 0, __ATOMIC_RELAXED);
}

size_t metrics_encode(const struct metrics_snapshot *m, unsigned char *buf, size_t len)
{
    const uint64_t *f = (const uint64_t *)m;
    unsigned char *p = buf;

    if (len < 3 + 8 * NFIELDS)
        log_panic("metrics_encode: buffer of %zu bytes", len);
    *p++ = 2;
    *p++ = (unsigned char)(NFIELDS >> 8);
    *p++ = (unsigned char)NFIELDS;
    for (size_t i = 0; i < NFIELDS; i++)
        for (int b = 7; b >= 0; b--)
            *p++ = (unsigned char)(f[i] >> (b * 8));
    return (size_t)(p - buf);
}

int metrics_decode(const unsigned char *buf, size_t len, struct metrics_snapshot *m)
{
    uint64_t *f = (uint64_t *)m;
    size_t n;

    memset(m, 0, sizeof *m);
    if (len >= 1 && buf[0] == REC_VERSION) {
        struct rec_counters rc;
        if (rec_counters_decode(buf, len, &rc) < 0)
            return -1;
        m->since = rc.since;
        m->accepted = rc.accepted;
        m->tempfailed = rc.tempfailed;
        m->rejected = rc.rejected;
        m->errors = rc.errors;
        return 0;
    }
    if (len < 3 || buf[0] != 2)
        return -1;
    n = (size_t)buf[1] << 8 | buf[2];
    if (len != 3 + 8 * n)
        return -1;
    for (size_t i = 0; i < n && i < NFIELDS; i++) {
        uint64_t v = 0;
        for (int b = 0; b < 8; b++)
            v = v << 8 | buf[3 + 8 * i + (size_t)b];
        f[i] = v;
    }
    return 0;
}

void metrics_add(struct metrics_snapshot *out, const struct metrics_snapshot *in)
{
    uint64_t since = out->since == 0 ? in->since
                     : in->since == 0 || out->since < in->since ? out->since : in->since;
    uint64_t updated = out->updated > in->updated ? out->updated : in->updated;
    uint64_t *o = (uint64_t *)out;
    const uint64_t *i = (const uint64_t *)in;

    for (size_t k = 0; k < NFIELDS; k++)
        o[k] += i[k];
    out->since = since;
    out->updated = updated;
}

/* metrics_sub - out = a - b, for counters that only grow */
static void metrics_sub(struct metrics_snapshot *out, const struct metrics_snapshot *a,
                        const struct metrics_snapshot *b)
{
    uint64_t *o = (uint64_t *)out;
    const uint64_t *x = (const uint64_t *)a, *y = (const uint64_t *)b;
    for (size_t k = 0; k < NFIELDS; k++)
        o[k] = x[k] >= y[k] ? x[k] - y[k] : 0;
}

void metrics_hour_key(const char *host, time_t t, char *key, size_t len)
{
    struct tm tm;
    char hour[32];
    gmtime_r(&t, &tm);
    strftime(hour, sizeof hour, "%Y%m%dT%H", &tm);
    snprintf(key, len, "m|%s|%s", host, hour);
}

int metrics_parse_hour_key(const char *key, size_t klen, char *host, size_t hlen,
                           time_t *hour)
{
    const char *bar;
    struct tm tm;
    unsigned y, mo, d, h;
    char tail[16], rest;

    if (klen < 2 || klen > 600 || memcmp(key, "m|", 2) != 0)
        return -1;
    for (bar = key + klen - 1; bar > key + 1 && *bar != '|'; bar--)
        ;
    if (bar <= key + 2 || (size_t)(bar - key - 2) >= hlen || key + klen - bar - 1 != 11)
        return -1;
    memcpy(tail, bar + 1, 11);
    tail[11] = '\0';
    if (sscanf(tail, "%4u%2u%2uT%2u%c", &y, &mo, &d, &h, &rest) != 4 || y < 1970
        || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23)
        return -1;
    memcpy(host, key + 2, (size_t)(bar - key - 2));
    host[bar - key - 2] = '\0';
    memset(&tm, 0, sizeof tm);
    tm.tm_year = (int)y - 1900;
    tm.tm_mon = (int)mo - 1;
    tm.tm_mday = (int)d;
    tm.tm_hour = (int)h;
    *hour = timegm(&tm);
    return 0;
}

/* The hour being written by metrics_write(): the counters at its start,
 * and what an earlier process of this host had stored for it. */
static time_t cur_hour = -1;
static struct metrics_snapshot hour_base, hour_earlier, last_written;
static int write_failing;

void metrics_write(struct store *st, time_t now, time_t started)
{
    struct metrics_snapshot snap, delta;
    struct store_stats ss;
    unsigned char buf[METRICS_MAX_RECORD];
    char host[256], key[400];
    time_t hour = now - now % 3600;
    size_t len;
    int ok;

    util_hostname(host, sizeof host);
    metrics_snapshot(&snap);
    if (store_stats(st, &ss) == STORE_OK) {
        snap.store_records = ss.records;
        snap.store_bytes = ss.bytes_used;
        __atomic_store_n(&last_store_records, ss.records, __ATOMIC_RELAXED);
        __atomic_store_n(&last_store_bytes, ss.bytes_used, __ATOMIC_RELAXED);
    }
    snap.since = (uint64_t)started;
    snap.updated = (uint64_t)now;
    snprintf(key, sizeof key, "s|%s", host);
    ok = store_put(st, key, buf, metrics_encode(&snap, buf, sizeof buf), 0) == STORE_OK;

    metrics_hour_key(host, now, key, sizeof key);
    if (hour != cur_hour) {
        /* a restart within the hour adds to what the last process stored */
        len = sizeof buf;
        memset(&hour_earlier, 0, sizeof hour_earlier);
        if (cur_hour == -1 && store_get(st, key, buf, &len, NULL, now) == STORE_OK
            && metrics_decode(buf, len, &hour_earlier) < 0)
            memset(&hour_earlier, 0, sizeof hour_earlier);
        /* what came after the last write of the old hour goes to the new one */
        if (cur_hour == -1)
            memset(&hour_base, 0, sizeof hour_base);
        else
            hour_base = last_written;
        cur_hour = hour;
    }
    last_written = snap;
    metrics_sub(&delta, &snap, &hour_base);
    metrics_add(&delta, &hour_earlier);
    /* levels, not counts: the store size at this write */
    delta.store_records = snap.store_records;
    delta.store_bytes = snap.store_bytes;
    delta.since = (uint64_t)hour;
    delta.updated = (uint64_t)now;
    ok &= store_put(st, key, buf, metrics_encode(&delta, buf, sizeof buf),
                    hour + METRICS_HOUR_TTL) == STORE_OK;
    /* one line when writing starts failing and one when it works again,
     * not one every 10 seconds (greyrepctl stats shows it as stale) */
    if (!ok && !write_failing)
        log_warn("metrics: cannot write the counters to the store; greyrepctl stats will "
                 "show this host as stale");
    else if (ok && write_failing)
        log_info("metrics: counters written again");
    write_failing = !ok;
}

void metrics_last_store(uint64_t *records, uint64_t *bytes)
{
    *records = __atomic_load_n(&last_store_records, __ATOMIC_RELAXED);
    *bytes = __atomic_load_n(&last_store_bytes, __ATOMIC_RELAXED);
}

uint64_t metrics_lat_bound(int i)
{
    return i >= 0 && i < METRICS_LAT_BUCKETS ? lat_bounds[i] : 0;
}

uint64_t metrics_delay_bound(int i)
{
    return i >= 0 && i < METRICS_DELAY_BUCKETS ? delay_bounds[i] : 0;
}

const char *metrics_action_name(int a)
{
    static const char *names[METRICS_ACTIONS] = {"accept", "tempfail", "reject"};
    return a >= 0 && a < METRICS_ACTIONS ? names[a] : "?";
}

const char *metrics_reason_name(int r)
{
    return r >= 0 && r < KNOWN_REASONS ? policy_reason_name((enum verdict_reason)r) : NULL;
}
