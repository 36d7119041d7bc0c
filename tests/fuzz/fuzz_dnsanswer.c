/*
 * fuzz_dnsanswer - the DNS answer packets greyrep parses (resolver.c)
 *
 * Input: a selector byte, then a raw answer packet as a server (or a
 * compromised one) may send it.  The selector picks dns_parse_txt (SPF
 * and DKIM key records), dns_parse_addrs A / AAAA (iprev forward
 * lookups, DNSBL answers) or dns_parse_names PTR / MX.  With bit 3 of the
 * selector set, the rest is not a packet but records to build one from
 * (a valid header and question, then per record: a type byte, a length
 * byte and that much RDATA): c-ares is not instrumented, so libFuzzer sees
 * no coverage inside it, and well-formed packets reach further into it
 * than mutated bytes.  Invariants: at
 * most max items; every TXT text is NUL-terminated at its length; every
 * name is a C string, and iprev_name_ok() judges it without fault.
 */
#include <arpa/nameser.h>
#include <netinet/in.h>

#include "fuzz.h"
#include "iprev.h"
#include "log.h"
#include "resolver_impl.h"

static struct dns_resolver *res;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_open("fuzz", 0, 0);
    res = dns_resolver_alloc();
    FUZZ_ASSERT(res != NULL);
    return 0;
}

/* build_packet - a packet for query type qtype with records from data */
static size_t build_packet(const uint8_t *data, size_t size, int qtype, unsigned char *out,
                           size_t cap)
{
    static const unsigned char head[] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0,
                                          7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'o', 'r',
                                          'g', 0 };
    static const int types[] = { 0, 5, 16, 1, 28, 12, 15, 2, 6 }; /* 0: the query type */
    size_t o = sizeof head, i = 0;
    unsigned n = 0;

    memcpy(out, head, sizeof head);
    out[o++] = (unsigned char)(qtype >> 8);
    out[o++] = (unsigned char)qtype;
    out[o++] = 0;
    out[o++] = 1;
    while (i + 2 <= size && n < 64) {
        int t = types[data[i] % 9];
        size_t len = data[i + 1], avail = size - i - 2;
        if (t == 0)
            t = qtype;
        if (len > avail)
            len = avail;
        if (o + 12 + len > cap)
            break;
        out[o++] = 0xc0;            /* the question's name */
        out[o++] = 0x0c;
        out[o++] = (unsigned char)(t >> 8);
        out[o++] = (unsigned char)t;
        out[o++] = 0;
        out[o++] = 1;
        memcpy(out + o, "\0\0\x0e\x10", 4);
        o += 4;
        out[o++] = (unsigned char)(len >> 8);
        out[o++] = (unsigned char)len;
        memcpy(out + o, data + i + 2, len);
        o += len;
        i += 2 + len;
        n++;
    }
    out[6] = (unsigned char)(n >> 8);
    out[7] = (unsigned char)n;
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dns_query q;
    int n, max = 1 + (size ? data[0] >> 4 : 0);

    if (size < 2)
        return 0;
    memset(&q, 0, sizeof q);
    q.r = res;
    q.done = 1;
    q.status = DNS_OK;
    static const int qtypes[5] = { ns_t_txt, ns_t_a, ns_t_aaaa, ns_t_ptr, ns_t_mx };
    q.answer = malloc(size + 65536);
    FUZZ_ASSERT(q.answer != NULL);
    if (data[0] & 8) {
        q.len = build_packet(data + 1, size - 1, qtypes[data[0] % 5], q.answer, size + 65536);
    } else {
        memcpy(q.answer, data + 1, size - 1);
        q.len = size - 1;
    }
    switch (data[0] % 5) {
    case 0: {
        struct dns_txt txt[16];
        q.type = ns_t_txt;
        n = dns_parse_txt(&q, txt, max);
        FUZZ_ASSERT(n <= max);
        for (int i = 0; i < n; i++) {
            FUZZ_ASSERT(txt[i].text[txt[i].len] == '\0');
            FUZZ_ASSERT(strlen(txt[i].text) <= txt[i].len);
        }
        if (n > 0)
            dns_free_txt(txt, n);
        break;
    }
    case 1: {
        struct in_addr a[16];
        q.type = ns_t_a;
        n = dns_parse_addrs(&q, AF_INET, a, max);
        FUZZ_ASSERT(n <= max);
        break;
    }
    case 2: {
        struct in6_addr a[16];
        q.type = ns_t_aaaa;
        n = dns_parse_addrs(&q, AF_INET6, a, max);
        FUZZ_ASSERT(n <= max);
        break;
    }
    default: {
        char *names[16];
        q.type = data[0] % 5 == 3 ? ns_t_ptr : ns_t_mx;
        n = dns_parse_names(&q, names, max);
        FUZZ_ASSERT(n <= max);
        for (int i = 0; i < n; i++) {
            FUZZ_ASSERT(names[i] != NULL);
            if (iprev_name_ok(names[i]))
                FUZZ_ASSERT(strlen(names[i]) <= 254);
            free(names[i]);
        }
        break;
    }
    }
    free(q.answer);
    return 0;
}
