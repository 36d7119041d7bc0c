/*
 * fuzz_dnsnames - DNSBL zone specs and query names, iprev names
 *
 * Input: "CLIENT\nSPEC\nNAME".  Invariants: a zone spec that parses has a
 * name within DNSBL_ZONE_MAX and a weight within range; every query name
 * built for a parsed client fits in 253 bytes and ends with the zone;
 * the PTR name of a parsed address is the in-addr.arpa / ip6.arpa form;
 * a name iprev_name_ok() accepts is a bounded host name.
 */
#include <arpa/inet.h>

#include "dnsbl.h"
#include "fuzz.h"
#include "iprev.h"
#include "log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_open("fuzz", 0, 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *client = fuzz_cstr(data, size), *spec = fuzz_split(client, '\n');
    char *name = fuzz_split(spec, '\n');
    char err[256], qname[512], ptr[512];
    struct iprev_addr ia;
    struct dnsbl_list *list = calloc(1, sizeof *list);
    int have_ip = iprev_addr_parse(client, &ia) == 0;

    FUZZ_ASSERT(list != NULL);
    if (have_ip) {
        FUZZ_ASSERT(ia.family == AF_INET || ia.family == AF_INET6);
        FUZZ_ASSERT(iprev_ptr_name(&ia, ptr, sizeof ptr) == 0);
        size_t l = strlen(ptr);
        FUZZ_ASSERT(l > 13 && l <= 253);
        FUZZ_ASSERT(strcmp(ptr + l - (ia.family == AF_INET ? 13 : 9),
                           ia.family == AF_INET ? ".in-addr.arpa" : ".ip6.arpa") == 0);
        iprev_generic_name(ptr, &ia);
    }
    if (spec != NULL && dnsbl_list_parse(list, spec, err, sizeof err) == 0) {
        FUZZ_ASSERT(list->n >= 0 && list->n <= DNSBL_MAX_ZONES);
        for (int i = 0; i < list->n; i++) {
            const struct dnsbl_zone *z = &list->zones[i];
            size_t zl = strlen(z->name);
            FUZZ_ASSERT(zl > 0 && zl <= DNSBL_ZONE_MAX);
            FUZZ_ASSERT(z->weight >= DNSBL_WEIGHT_MIN && z->weight <= DNSBL_WEIGHT_MAX);
            FUZZ_ASSERT(z->ncodes >= 0 && z->ncodes <= DNSBL_MAX_CODES);
            for (int k = 0; k < z->ncodes; k++)
                FUZZ_ASSERT(z->codes[k].lo <= z->codes[k].hi);
            if (have_ip && dnsbl_query_name(client, z->name, qname, sizeof qname) == 0) {
                size_t ql = strlen(qname);
                FUZZ_ASSERT(ql <= 253 && ql > zl);
                FUZZ_ASSERT(strcmp(qname + ql - zl, z->name) == 0 && qname[ql - zl - 1] == '.');
            }
            unsigned char code[4] = { 127, 0, 0, 2 };
            dnsbl_code_accepted(z, code);
        }
    } else if (spec != NULL) {
        FUZZ_ASSERT(err[0] != '\0');
    }
    if (name != NULL) {
        if (iprev_name_ok(name))
            FUZZ_ASSERT(strlen(name) < IPREV_NAME_MAX + 1);
        iprev_generic_name(name, have_ip ? &ia : NULL);
    }
    free(list);
    free(client);
    return 0;
}
