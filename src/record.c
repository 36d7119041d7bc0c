/*
 * record.c - versioned record encodings; see record.h
 */
#include "autoconf.h"

#include <string.h>

#include "record.h"

/* put64/get64 - big-endian integers */
unsigned char *rec_put64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--)
        *p++ = (unsigned char)(v >> (i * 8));
    return p;
}

unsigned char *rec_put32(unsigned char *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--)
        *p++ = (unsigned char)(v >> (i * 8));
    return p;
}

uint64_t rec_get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

uint32_t rec_get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

size_t rec_triplet_encode(const struct rec_triplet *r, unsigned char *buf)
{
    unsigned char *p = buf;
    *p++ = REC_VERSION;
    p = rec_put64(p, r->first_seen);
    p = rec_put64(p, r->last_seen);
    p = rec_put32(p, r->passes);
    return (size_t)(p - buf);
}

int rec_triplet_decode(const unsigned char *buf, size_t len, struct rec_triplet *r)
{
    if (len != 21 || buf[0] != REC_VERSION)
        return -1;
    r->first_seen = rec_get64(buf + 1);
    r->last_seen = rec_get64(buf + 9);
    r->passes = rec_get32(buf + 17);
    return 0;
}

size_t rec_client_encode(const struct rec_client *r, unsigned char *buf)
{
    unsigned char *p = buf;
    *p++ = REC_VERSION;
    p = rec_put64(p, r->last_pass);
    p = rec_put64(p, r->last_counted);
    p = rec_put32(p, r->passes);
    return (size_t)(p - buf);
}

int rec_client_decode(const unsigned char *buf, size_t len, struct rec_client *r)
{
    if (len != 21 || buf[0] != REC_VERSION)
        return -1;
    r->last_pass = rec_get64(buf + 1);
    r->last_counted = rec_get64(buf + 9);
    r->passes = rec_get32(buf + 17);
    return 0;
}

size_t rec_wl_encode(const struct rec_wl *r, unsigned char *buf)
{
    unsigned char *p = buf;
    size_t n = strnlen(r->comment, REC_COMMENT_MAX);
    *p++ = REC_VERSION;
    p = rec_put64(p, r->added);
    *p++ = (unsigned char)n;
    memcpy(p, r->comment, n);
    return (size_t)(p + n - buf);
}

int rec_wl_decode(const unsigned char *buf, size_t len, struct rec_wl *r)
{
    if (len < 10 || buf[0] != REC_VERSION || buf[9] > REC_COMMENT_MAX
        || len != 10u + buf[9])
        return -1;
    r->added = rec_get64(buf + 1);
    memcpy(r->comment, buf + 10, buf[9]);
    r->comment[buf[9]] = '\0';
    if (memchr(r->comment, '\0', buf[9]) != NULL)
        return -1;
    return 0;
}

size_t rec_counters_encode(const struct rec_counters *r, unsigned char *buf)
{
    unsigned char *p = buf;
    *p++ = REC_VERSION;
    p = rec_put64(p, r->since);
    p = rec_put64(p, r->accepted);
    p = rec_put64(p, r->tempfailed);
    p = rec_put64(p, r->errors);
    p = rec_put64(p, r->rejected);
    return (size_t)(p - buf);
}

int rec_counters_decode(const unsigned char *buf, size_t len, struct rec_counters *r)
{
    if ((len != 33 && len != 41) || buf[0] != REC_VERSION)
        return -1;
    r->rejected = len == 41 ? rec_get64(buf + 33) : 0;
    r->since = rec_get64(buf + 1);
    r->accepted = rec_get64(buf + 9);
    r->tempfailed = rec_get64(buf + 17);
    r->errors = rec_get64(buf + 25);
    return 0;
}
