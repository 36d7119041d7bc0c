/*
 * NAME
 *   test_record - unit tests of record.c (versioned record encodings)
 * DESCRIPTION
 *   Every record type: round trips with small, zero and extreme values;
 *   then every way a stored value can be wrong (truncated, too long, wrong
 *   version, random garbage, a comment length that lies) must decode to -1,
 *   never to a record and never out of bounds.
 */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "record.h"

/* the codecs of one record type, through void pointers for one table */
struct codec {
    const char *name;
    size_t (*encode)(const void *r, unsigned char *buf);
    int (*decode)(const unsigned char *buf, size_t len, void *r);
};

/* any_rec - room, correctly aligned, for a record of any type */
union any_rec {
    struct rec_triplet t;
    struct rec_client c;
    struct rec_wl w;
    struct rec_counters k;
};

static size_t enc_triplet(const void *r, unsigned char *b) { return rec_triplet_encode(r, b); }
static int dec_triplet(const unsigned char *b, size_t l, void *r) { return rec_triplet_decode(b, l, r); }
static size_t enc_client(const void *r, unsigned char *b) { return rec_client_encode(r, b); }
static int dec_client(const unsigned char *b, size_t l, void *r) { return rec_client_decode(b, l, r); }
static size_t enc_wl(const void *r, unsigned char *b) { return rec_wl_encode(r, b); }
static int dec_wl(const unsigned char *b, size_t l, void *r) { return rec_wl_decode(b, l, r); }
static size_t enc_counters(const void *r, unsigned char *b) { return rec_counters_encode(r, b); }
static int dec_counters(const unsigned char *b, size_t l, void *r) { return rec_counters_decode(b, l, r); }

static const struct codec codecs[] = {
    {"triplet", enc_triplet, dec_triplet},
    {"client", enc_client, dec_client},
    {"wl", enc_wl, dec_wl},
    {"counters", enc_counters, dec_counters},
};

static void test_triplet_round_trip(void **state)
{
    static const struct rec_triplet t[] = {
        {0, 0, 0},
        {1700000000, 1700000300, 1},
        {UINT64_MAX, UINT64_MAX - 1, UINT32_MAX},
        {0x0102030405060708ULL, 0x1112131415161718ULL, 0x21222324},
    };
    (void)state;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        unsigned char buf[REC_MAX];
        struct rec_triplet r;
        size_t n = rec_triplet_encode(&t[i], buf);
        assert_int_equal(n, 21);
        assert_int_equal(buf[0], REC_VERSION);
        memset(&r, 0xee, sizeof r);
        assert_int_equal(rec_triplet_decode(buf, n, &r), 0);
        assert_true(r.first_seen == t[i].first_seen);
        assert_true(r.last_seen == t[i].last_seen);
        assert_true(r.passes == t[i].passes);
    }
    /* big-endian on disk, whatever the host */
    {
        unsigned char buf[REC_MAX];
        rec_triplet_encode(&t[3], buf);
        assert_int_equal(buf[1], 0x01);
        assert_int_equal(buf[8], 0x08);
        assert_int_equal(buf[17], 0x21);
        assert_int_equal(buf[20], 0x24);
    }
}

static void test_client_round_trip(void **state)
{
    static const struct rec_client t[] = {
        {0, 0, 0},
        {1700003600, 1700000000, 5},
        {UINT64_MAX, 1, UINT32_MAX},
    };
    (void)state;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        unsigned char buf[REC_MAX];
        struct rec_client r;
        size_t n = rec_client_encode(&t[i], buf);
        assert_int_equal(n, 21);
        memset(&r, 0xee, sizeof r);
        assert_int_equal(rec_client_decode(buf, n, &r), 0);
        assert_true(r.last_pass == t[i].last_pass);
        assert_true(r.last_counted == t[i].last_counted);
        assert_true(r.passes == t[i].passes);
    }
}

static void test_wl_round_trip(void **state)
{
    struct rec_wl w, r;
    unsigned char buf[REC_MAX];
    size_t n;
    (void)state;

    memset(&w, 0, sizeof w);
    w.added = 1700000000;
    n = rec_wl_encode(&w, buf);
    assert_int_equal(n, 10);
    memset(&r, 0xee, sizeof r);
    assert_int_equal(rec_wl_decode(buf, n, &r), 0);
    assert_true(r.added == w.added);
    assert_string_equal(r.comment, "");

    strcpy(w.comment, "ticket #42: partner's MX, \xc3\xa9t\xc3\xa9 | 100%");
    n = rec_wl_encode(&w, buf);
    assert_int_equal(n, 10 + strlen(w.comment));
    assert_int_equal(rec_wl_decode(buf, n, &r), 0);
    assert_string_equal(r.comment, w.comment);

    /* the longest comment */
    memset(w.comment, 'c', REC_COMMENT_MAX);
    w.comment[REC_COMMENT_MAX] = '\0';
    w.added = UINT64_MAX;
    n = rec_wl_encode(&w, buf);
    assert_true(n <= REC_MAX);
    assert_int_equal(n, 10 + REC_COMMENT_MAX);
    assert_int_equal(rec_wl_decode(buf, n, &r), 0);
    assert_string_equal(r.comment, w.comment);
    assert_true(r.added == UINT64_MAX);
}

static void test_counters_round_trip(void **state)
{
    struct rec_counters c = {1700000000, 123456789, 987654321, UINT64_MAX, 42}, r;
    unsigned char buf[REC_MAX];
    size_t n;
    (void)state;

    n = rec_counters_encode(&c, buf);
    assert_int_equal(n, 41);
    memset(&r, 0, sizeof r);
    assert_int_equal(rec_counters_decode(buf, n, &r), 0);
    assert_memory_equal(&r, &c, sizeof c);
    /* a record written before "rejected" existed still decodes, as 0 */
    memset(&r, 0xff, sizeof r);
    assert_int_equal(rec_counters_decode(buf, 33, &r), 0);
    assert_true(r.errors == UINT64_MAX && r.rejected == 0);
}

/* sample - a valid encoding of one record of codec i */
static size_t sample(size_t i, unsigned char *buf)
{
    struct rec_triplet t = {1700000000, 1700000300, 3};
    struct rec_client c = {1700000300, 1700000000, 2};
    struct rec_wl w = {1700000000, "a comment"};
    struct rec_counters k = {1, 2, 3, 4, 5};
    const void *recs[] = {&t, &c, &w, &k};
    return codecs[i].encode(recs[i], buf);
}

/* test_truncated_and_long - every wrong length is refused */
static void test_truncated_and_long(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++) {
        unsigned char buf[REC_MAX + 64];
        union any_rec rec;
        size_t n = sample(i, buf);

        memset(buf + n, 0, sizeof buf - n);
        assert_int_equal(codecs[i].decode(buf, n, &rec), 0);
        for (size_t len = 0; len < n; len++)
            if (!(strcmp(codecs[i].name, "counters") == 0 && len == 33)
                && codecs[i].decode(buf, len, &rec) != -1)
                fail_msg("%s: truncated to %zu of %zu bytes decoded", codecs[i].name, len, n);
        for (size_t len = n + 1; len < n + 40; len++)
            if (codecs[i].decode(buf, len, &rec) != -1)
                fail_msg("%s: %zu bytes (valid: %zu) decoded", codecs[i].name, len, n);
    }
}

/* test_wrong_version - any version byte but REC_VERSION is refused */
static void test_wrong_version(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++) {
        unsigned char buf[REC_MAX];
        union any_rec rec;
        size_t n = sample(i, buf);
        for (int v = 0; v < 256; v++) {
            if (v == REC_VERSION)
                continue;
            buf[0] = (unsigned char)v;
            if (codecs[i].decode(buf, n, &rec) != -1)
                fail_msg("%s: version %d decoded", codecs[i].name, v);
        }
    }
}

/* test_wl_lying_length - the comment length byte must match the value */
static void test_wl_lying_length(void **state)
{
    unsigned char buf[REC_MAX + 300];
    struct rec_wl w = {1700000000, "hello"}, r;
    size_t n;
    (void)state;

    n = rec_wl_encode(&w, buf);
    buf[9] = 6;    /* says one byte more than there is */
    assert_int_equal(rec_wl_decode(buf, n, &r), -1);
    buf[9] = 4;    /* says one byte less */
    assert_int_equal(rec_wl_decode(buf, n, &r), -1);
    /* a length beyond REC_COMMENT_MAX, with the bytes present */
    memset(buf + 10, 'x', 255);
    buf[9] = 255;
    assert_int_equal(rec_wl_decode(buf, 10 + 255, &r), -1);
    buf[9] = REC_COMMENT_MAX + 1;
    assert_int_equal(rec_wl_decode(buf, 10 + REC_COMMENT_MAX + 1, &r), -1);
    /* a NUL inside the comment */
    n = rec_wl_encode(&w, buf);
    buf[12] = '\0';
    assert_int_equal(rec_wl_decode(buf, n, &r), -1);
}

/* test_garbage - random values decode to -1 or to a value that re-encodes
 * to exactly the same bytes (then they were valid after all) */
static void test_garbage(void **state)
{
    unsigned int seed = 12345;
    (void)state;
    for (int round = 0; round < 20000; round++) {
        unsigned char buf[REC_MAX + 16], again[REC_MAX + 16];
        union any_rec rec;
        size_t len = (size_t)(rand_r(&seed) % (int)sizeof buf);
        size_t i = (size_t)rand_r(&seed) % (sizeof codecs / sizeof codecs[0]);

        for (size_t b = 0; b < len; b++)
            buf[b] = (unsigned char)rand_r(&seed);
        /* a valid version byte half of the time, to get past the first check */
        if (len > 0 && (round & 1))
            buf[0] = REC_VERSION;
        if (len > 9 && i == 2 && (round & 2))
            buf[9] = (unsigned char)(len - 10);
        /* the decoder must not read beyond len: copy to an exact-size block */
        unsigned char *exact = malloc(len ? len : 1);
        assert_non_null(exact);
        memcpy(exact, buf, len);
        if (codecs[i].decode(exact, len, &rec) == 0) {
            size_t n = codecs[i].encode(&rec, again);
            /* an old 33-byte counters record re-encodes with "rejected" added */
            if (strcmp(codecs[i].name, "counters") == 0 && len == 33 && n == 41)
                n = 33;
            if (n != len || memcmp(again, exact, len) != 0)
                fail_msg("%s: garbage of %zu bytes decoded to a different record",
                         codecs[i].name, len);
        }
        free(exact);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_triplet_round_trip),
        cmocka_unit_test(test_client_round_trip),
        cmocka_unit_test(test_wl_round_trip),
        cmocka_unit_test(test_counters_round_trip),
        cmocka_unit_test(test_truncated_and_long),
        cmocka_unit_test(test_wrong_version),
        cmocka_unit_test(test_wl_lying_length),
        cmocka_unit_test(test_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
