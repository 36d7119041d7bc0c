/*
 * fuzz_netaddr - IP addresses and CIDR networks
 *
 * Input: one text.  Invariants: what parses formats to a canonical text
 * that parses back to the same value, and formatting is a fixed point;
 * a parsed network has no host bits and a prefix within its family, and
 * matches its own address.
 */
#include "fuzz.h"
#include "log.h"
#include "netaddr.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_open("fuzz", 0, 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    char b1[NET_STRLEN], b2[NET_STRLEN];
    struct net_addr a, a2;
    struct net_cidr c, c2;

    if (net_parse(s, &a) == 0) {
        FUZZ_ASSERT(a.family == AF_INET || a.family == AF_INET6);
        net_format(&a, b1, sizeof b1);
        FUZZ_ASSERT(net_parse(b1, &a2) == 0);
        FUZZ_ASSERT(net_equal(&a, &a2));
        net_format(&a2, b2, sizeof b2);
        FUZZ_ASSERT(strcmp(b1, b2) == 0);
        /* an address alone is a host network */
        FUZZ_ASSERT(net_parse_cidr(s, &c) == 0);
        FUZZ_ASSERT(c.prefix == net_max_prefix(&a));
        FUZZ_ASSERT(net_cidr_match(&c, &a));
    }
    if (net_parse_cidr(s, &c) == 0) {
        FUZZ_ASSERT(c.prefix <= net_max_prefix(&c.addr));
        a2 = c.addr;
        net_mask(&a2, c.prefix);
        FUZZ_ASSERT(net_equal(&a2, &c.addr));
        FUZZ_ASSERT(net_cidr_match(&c, &c.addr));
        net_format_cidr(&c, b1, sizeof b1);
        FUZZ_ASSERT(net_parse_cidr(b1, &c2) == 0);
        FUZZ_ASSERT(c2.prefix == c.prefix && net_equal(&c.addr, &c2.addr));
        net_format_cidr(&c2, b2, sizeof b2);
        FUZZ_ASSERT(strcmp(b1, b2) == 0);
    }
    free(s);
    return 0;
}
