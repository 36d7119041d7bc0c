/*
 * fuzz_dnsanswer - the DNS answer packets greyrep parses (resolver.c)
 *
 * Input: a selector byte, then a raw answer packet as a server (or a
 * compromised one) may send it.  The selector picks dns_parse_txt (SPF
 * and DKIM key records), dns_parse_addrs A / AAAA (iprev forward
 * lookups, DNSBL answers) or dns_parse_names PTR / MX.  Invariants: at
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
    q.answer = malloc(size - 1);
    FUZZ_ASSERT(q.answer != NULL);
    memcpy(q.answer, data + 1, size - 1);
    q.len = size - 1;
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
