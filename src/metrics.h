/*
 * NAME
 *   metrics - what the daemon counts, and the records greyrepctl reads
 * SYNOPSIS
 *   #include "metrics.h"
 * DESCRIPTION
 *   The daemon counts with metrics_note_*() (relaxed atomics: any thread,
 *   no lock); its maintenance thread calls metrics_write() every
 *   METRICS_WRITE_INTERVAL seconds, which stores two kinds of record:
 *
 *     s|HOST                 totals since this process started (no expiry)
 *     m|HOST|YYYYMMDDTHH     what happened in that UTC hour, kept
 *                            METRICS_HOUR_TTL (for greyrepctl report)
 *
 *   Both hold a struct metrics_snapshot: every field is a uint64_t, encoded
 *   as version byte 2, a big-endian 16-bit field count N, then N big-endian
 *   64-bit fields in struct order.  New fields are only ever appended, so a
 *   reader takes the fields it knows and zeroes those the writer did not
 *   have.  metrics_decode() also reads the version 1 counters record
 *   (record.h struct rec_counters) that greyrep wrote before: its totals,
 *   with no breakdown.
 *
 *   Abandonments (a pending triplet that expired without a retry) come from
 *   the store's on-expire hook: metrics_on_expired() is a store_expired_fn
 *   for the "t|" prefix.  With Redis each expired triplet is reported once
 *   for all the hosts sharing it, to the host whose sweep found it.
 *
 *   [metrics] listen, when set, also serves this process's counters over
 *   HTTP (metrics_http.c): a small, optional endpoint for a Prometheus
 *   that scrapes greyrep directly instead of node_exporter's textfiles.
 * THREADS
 *   metrics_note_*() and metrics_snapshot() are thread-safe.
 *   metrics_write() keeps the current hour's state: one thread only.
 */
#ifndef GREYREP_METRICS_H
#define GREYREP_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>

#include "config.h"
#include "policy.h"
#include "resolver.h"
#include "store.h"

#define METRICS_WRITE_INTERVAL 10             /* seconds between writes */
#define METRICS_STALE_AFTER (3 * METRICS_WRITE_INTERVAL)
#define METRICS_HOUR_TTL (35 * 86400)         /* hourly records are kept this long */
#define METRICS_ACTIONS 3                     /* V_ACCEPT, V_TEMPFAIL, V_REJECT */
#define METRICS_REASONS 24                    /* room for enum verdict_reason to grow */
#define METRICS_LAT_BUCKETS 17                /* decision latency, see metrics_lat_bound */
#define METRICS_DELAY_BUCKETS 11              /* greylist retry delay, see metrics_delay_bound */
#define METRICS_MAX_RECORD (3 + 8 * 512)

struct metrics_snapshot {
    uint64_t since;                 /* process start (s| records); hour start (m|) */
    uint64_t updated;               /* time of this write */
    uint64_t accepted, tempfailed, rejected, errors;
    uint64_t decisions[METRICS_ACTIONS][METRICS_REASONS];
    uint64_t grey_passes;           /* first proper retries: a greylisted message got through */
    uint64_t grey_abandoned;        /* pending triplets expired without a retry */
    uint64_t store_records, store_bytes;
    uint64_t dns[DNS_O_N];          /* lookups by outcome (resolver.h) */
    uint64_t lat[METRICS_LAT_BUCKETS];  /* decisions by latency bucket (not cumulative) */
    uint64_t lat_sum_us, lat_count;
    uint64_t delay[METRICS_DELAY_BUCKETS]; /* greylist passes by delay bucket */
    uint64_t delay_sum_s;
};

#define METRICS_HOST_MAX 256

/* One daemon's counters as read back from its s|HOST record. */
struct metrics_instance {
    char host[METRICS_HOST_MAX];
    struct metrics_snapshot m;
};

/* Counting, in the daemon. */
void metrics_note_decision(enum verdict_action a, enum verdict_reason r, uint64_t latency_us);
/* metrics_note_pass - a greylisted triplet passed after delayed seconds */
void metrics_note_pass(unsigned delayed);
/* metrics_note_abandoned - a pending triplet expired without a retry */
void metrics_note_abandoned(void);
/* metrics_on_expired - a store_expired_fn: a pending triplet is abandoned */
void metrics_on_expired(void *arg, const char *key, size_t klen, const void *val, size_t vlen,
                        time_t expired);
/* metrics_snapshot - this process's counters now (store and times not set) */
void metrics_snapshot(struct metrics_snapshot *out);
/* metrics_reset - zero every counter (tests) */
void metrics_reset(void);

/* metrics_write - store s|HOST and this hour's m|HOST|HOUR records;
 * started is the process start; errors are logged, not returned */
void metrics_write(struct store *st, time_t now, time_t started);

/* Encoding. */
size_t metrics_encode(const struct metrics_snapshot *m, unsigned char *buf, size_t len);
/* metrics_decode - 0, or -1 for a value that is neither version 1 nor 2 */
int metrics_decode(const unsigned char *buf, size_t len, struct metrics_snapshot *m);
/* metrics_add - out += in, field by field (since/updated: min/max) */
void metrics_add(struct metrics_snapshot *out, const struct metrics_snapshot *in);
/* metrics_hour_key - "m|HOST|YYYYMMDDTHH" of the hour holding t */
void metrics_hour_key(const char *host, time_t t, char *key, size_t len);
/* metrics_parse_hour_key - the host and the hour start of such a key; -1 if not one */
int metrics_parse_hour_key(const char *key, size_t klen, char *host, size_t hlen,
                           time_t *hour);

/* metrics_prometheus - the Prometheus text exposition format of n
 * instances (HELP and TYPE per family, counters *_total, histograms
 * *_bucket/_sum/_count, label host="NAME"); stale is judged at now */
void metrics_prometheus(FILE *out, const struct metrics_instance *in, int n, time_t now);

/* metrics_last_store - the store size seen by the last metrics_write() */
void metrics_last_store(uint64_t *records, uint64_t *bytes);

/* The optional HTTP endpoint ([metrics] listen): one thread answering
 * GET /metrics with this process's counters.  metrics_parse_listen()
 * reads "PORT" (127.0.0.1), "IPv4:PORT" or "[IPv6]:PORT" (-1 if not one);
 * metrics_http_start() does nothing for an empty listen, else binds and
 * starts the thread (-1 with err filled); metrics_http_stop() ends it. */
int metrics_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len);
int metrics_http_start(const char *listen_on, time_t started, char *err, size_t errlen);
void metrics_http_stop(void);

/* Names and bounds for output. */
uint64_t metrics_lat_bound(int i);     /* upper bound in microseconds; 0 for +Inf */
uint64_t metrics_delay_bound(int i);   /* upper bound in seconds; 0 for +Inf */
const char *metrics_action_name(int a);
/* metrics_reason_name - the policy reason name, or NULL for an unused slot */
const char *metrics_reason_name(int r);

#endif
