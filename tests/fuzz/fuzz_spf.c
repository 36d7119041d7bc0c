/*
 * fuzz_spf - the SPF record syntax check, normalisation and evaluation
 *
 * Input: a flag byte (bit 0: IPv6 client, bit 1: give the record as two
 * TXT strings) then one TXT record text, published for example.org in an
 * in-memory zone (every other name NXDOMAIN, no network); records over
 * 1000 bytes are only syntax-checked (the zone's TXT limit).
 * Invariants: spf_syntax_next_term() walks an accepted record with terms
 * and arguments inside the record; a record that the check refuses
 * evaluates to permerror; an accepted record made only of ip4, ip6 and
 * all terms (nothing libspf2 must look up) never does.  Evaluation runs
 * the normalisation for libspf2 and libspf2 itself on what we accepted.
 */
#include <arpa/nameser.h>

#include "fuzz.h"
#include "log.h"
#include "resolver.h"
#include "spf.h"
#include "spf_syntax.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_open("fuzz", 0, 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *rec;
    size_t len, pos = 0;
    struct spf_term t;
    const char *why;
    int simple = 1, terms = 0;

    if (size < 1 || size > 4000)
        return 0;
    rec = (const char *)data + 1;
    len = size - 1;
    spf_syntax_explain(rec, len);
    spf_syntax_domain_spec(rec, len);
    int is_spf = spf_syntax_is_spf(rec, len);
    why = spf_syntax_check(rec, len);
    if (why == NULL) {
        while (spf_syntax_next_term(rec, len, &pos, &t)) {
            FUZZ_ASSERT(t.text >= rec && t.text + t.len <= rec + len && t.len > 0);
            if (t.arglen > 0)
                FUZZ_ASSERT(t.arg >= t.text && t.arg + t.arglen <= t.text + t.len);
            FUZZ_ASSERT(t.cidr4 >= -1 && t.cidr4 <= 32 && t.cidr6 >= -1 && t.cidr6 <= 128);
            if (t.kind != SPF_TERM_IP4 && t.kind != SPF_TERM_IP6 && t.kind != SPF_TERM_ALL)
                simple = 0;
            FUZZ_ASSERT(++terms <= (int)len);
        }
    }
    if (!is_spf || memchr(rec, '\0', len) != NULL || len > 1000)
        return 0;

    /* evaluate it for a client, as greyrep does */
    struct dns_zone *z = dns_zone_new();
    const char *s[8];
    size_t l[8];
    int ns = 0;
    for (size_t o = 0; o < len || ns == 0; ns++) {
        size_t piece = (data[0] & 2) && o == 0 && len > 1 ? len / 2 : len - o;
        if (piece > 255)
            piece = 255;
        s[ns] = rec + o;
        l[ns] = piece;
        o += piece;
    }
    FUZZ_ASSERT(z != NULL && dns_zone_add_txt(z, "example.org", s, l, ns) == 0);
    struct dns_resolver *r = dns_open_zone(z);
    struct spf *spf = spf_new(r, "mx.example.net");
    char domain[256];
    FUZZ_ASSERT(r != NULL && spf != NULL);
    enum spf_result res = spf_check_mailfrom(spf, data[0] & 1 ? "2001:db8::25" : "192.0.2.25",
                                             "helo.example.org", "user@example.org", NULL,
                                             domain, sizeof domain);
    if (why != NULL)
        FUZZ_ASSERT(res == SPF_PERMERROR);
    else if (simple)
        FUZZ_ASSERT(res != SPF_PERMERROR && res != SPF_TEMPERROR);
    spf_free(spf);
    dns_close(r);
    return 0;
}
