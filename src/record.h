/*
 * NAME
 *   record - store keys and versioned record encodings
 * DESCRIPTION
 *   Keys are printable text with a type prefix, so that dumps and Redis
 *   keys are readable and one prefix scan finds one type:
 *
 *     t|NET|SENDER|RCPT      triplet (NET is a CIDR, parts escaped)
 *     c|ADDR                 client (auto-whitelist counter)
 *     w|TYPE|VALUE           admin whitelist entry (TYPE ip|host|sender|rcpt)
 *     v|whitelist            generation stamp of the admin whitelist
 *     s|HOST                 decision counters of one greyrep instance
 *                            (version 1: struct rec_counters; greyrep now
 *                            writes version 2, see metrics.h)
 *     m|HOST|YYYYMMDDTHH     one hour of those counters (metrics.h)
 *
 *   Values start with a version byte.  rec_*_decode() returns -1 for a
 *   value it does not understand (wrong version, wrong length): callers
 *   treat such a record as absent and log it.  Integers are big-endian.
 * THREADS
 *   Pure.
 */
#ifndef GREYREP_RECORD_H
#define GREYREP_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define REC_VERSION 1
#define REC_COMMENT_MAX 200

struct rec_triplet {
    uint64_t first_seen;
    uint64_t last_seen;
    uint32_t passes;      /* 0 while pending */
};

struct rec_client {
    uint64_t last_pass;
    uint64_t last_counted;
    uint32_t passes;
};

struct rec_wl {
    uint64_t added;
    char comment[REC_COMMENT_MAX + 1];
};

struct rec_counters {
    uint64_t since;
    uint64_t accepted;
    uint64_t tempfailed;
    uint64_t errors;
    uint64_t rejected;    /* absent (0) in records written before it existed */
};

/* Each encoder returns the length written (buffers of REC_MAX are enough). */
#define REC_MAX (8 + REC_COMMENT_MAX + 16)
size_t rec_triplet_encode(const struct rec_triplet *r, unsigned char *buf);
int rec_triplet_decode(const unsigned char *buf, size_t len, struct rec_triplet *r);
size_t rec_client_encode(const struct rec_client *r, unsigned char *buf);
int rec_client_decode(const unsigned char *buf, size_t len, struct rec_client *r);
size_t rec_wl_encode(const struct rec_wl *r, unsigned char *buf);
int rec_wl_decode(const unsigned char *buf, size_t len, struct rec_wl *r);
size_t rec_counters_encode(const struct rec_counters *r, unsigned char *buf);
int rec_counters_decode(const unsigned char *buf, size_t len, struct rec_counters *r);

/* rec_put64/rec_put32 - a big-endian integer at p; p past it.
 * rec_get64/rec_get32 - the reverse.  For every record encoding. */
unsigned char *rec_put64(unsigned char *p, uint64_t v);
unsigned char *rec_put32(unsigned char *p, uint32_t v);
uint64_t rec_get64(const unsigned char *p);
uint32_t rec_get32(const unsigned char *p);

#endif
