/*
 * fuzz_record - stored record values
 *
 * Input: a type byte (0 triplet, 1 client, 2 whitelist, 3 counters, taken
 * mod 4) and a value.  Invariant: a value that decodes encodes back to
 * the same bytes (decode -> encode identity), and decodes again to the
 * same fields; the one documented tolerance, a counters record from
 * before "rejected" existed, encodes as its prefix plus a zero.
 */
#include "fuzz.h"
#include "log.h"
#include "record.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_open("fuzz", 0, 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char buf[REC_MAX];
    size_t n;

    if (size < 1)
        return 0;
    const uint8_t *v = data + 1;
    size_t len = size - 1;
    switch (data[0] % 4) {
    case 0: {
        struct rec_triplet r, r2;
        if (rec_triplet_decode(v, len, &r) < 0)
            break;
        n = rec_triplet_encode(&r, buf);
        FUZZ_ASSERT(n == len && memcmp(buf, v, n) == 0);
        FUZZ_ASSERT(rec_triplet_decode(buf, n, &r2) == 0);
        FUZZ_ASSERT(r.first_seen == r2.first_seen && r.last_seen == r2.last_seen
                    && r.passes == r2.passes);
        break;
    }
    case 1: {
        struct rec_client r, r2;
        if (rec_client_decode(v, len, &r) < 0)
            break;
        n = rec_client_encode(&r, buf);
        FUZZ_ASSERT(n == len && memcmp(buf, v, n) == 0);
        FUZZ_ASSERT(rec_client_decode(buf, n, &r2) == 0);
        FUZZ_ASSERT(r.last_pass == r2.last_pass && r.last_counted == r2.last_counted
                    && r.passes == r2.passes);
        break;
    }
    case 2: {
        struct rec_wl r, r2;
        if (rec_wl_decode(v, len, &r) < 0)
            break;
        FUZZ_ASSERT(strlen(r.comment) <= REC_COMMENT_MAX);
        n = rec_wl_encode(&r, buf);
        FUZZ_ASSERT(n == len && memcmp(buf, v, n) == 0);
        FUZZ_ASSERT(rec_wl_decode(buf, n, &r2) == 0);
        FUZZ_ASSERT(r.added == r2.added && strcmp(r.comment, r2.comment) == 0);
        break;
    }
    default: {
        struct rec_counters r, r2;
        if (rec_counters_decode(v, len, &r) < 0)
            break;
        n = rec_counters_encode(&r, buf);
        FUZZ_ASSERT(n >= len && memcmp(buf, v, len) == 0);
        FUZZ_ASSERT(n == len || r.rejected == 0);
        FUZZ_ASSERT(rec_counters_decode(buf, n, &r2) == 0);
        FUZZ_ASSERT(memcmp(&r, &r2, sizeof r) == 0);
        break;
    }
    }
    return 0;
}
