/*
 * NAME
 *   test_sim_facts - the facts greyrep-sim supplies are what greyrep's own
 *   checks compute from the sender models' DNS
 * DESCRIPTION
 *   For attempts of every sender model, the DNS the model describes (PTR,
 *   the PTR name's A record, the sender domain's SPF record) is written
 *   into an in-memory zone (dns_open_zone(): real answer packets), and
 *   greyrep's real iprev check (iprev_start/iprev_finish), its SPF check
 *   (libspf2 through spf_check_mailfrom) and its generic-name heuristic run
 *   over it.  Their results must equal the struct msg_facts that
 *   sim_facts() hands to decide_rcpt(): the simulator's shortcut at the
 *   resolver boundary changes no fact.
 */
#include "autoconf.h"

#include <arpa/nameser.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "facts.h"
#include "iprev.h"
#include "resolver.h"
#include "sim/sim.h"
#include "sim/sim_decide.h"
#include "spf.h"

/* zone_for - the zone that says what dns says about client and sender */
static struct dns_zone *zone_for(uint32_t client, const struct sim_dns *dns, const char *domain)
{
    struct dns_zone *z = dns_zone_new();
    char ptr[64], ip[32], other[32], txt[96];
    snprintf(ip, sizeof ip, "%u.%u.%u.%u", client >> 24, (client >> 16) & 255,
             (client >> 8) & 255, client & 255);
    snprintf(other, sizeof other, "%u.%u.%u.%u", client >> 24, (client >> 16) & 255,
             (client >> 8) & 255, (client & 255) ^ 1);
    snprintf(ptr, sizeof ptr, "%u.%u.%u.%u.in-addr.arpa", client & 255, (client >> 8) & 255,
             (client >> 16) & 255, client >> 24);
    assert_non_null(z);
    if (dns->ptr != PTR_NONE) {
        assert_int_equal(dns_zone_add(z, ptr, ns_t_ptr, dns->ptr_name, strlen(dns->ptr_name)), 0);
        const char *a = dns->ptr == PTR_MATCH ? ip : other;
        assert_int_equal(dns_zone_add(z, dns->ptr_name, ns_t_a, a, strlen(a)), 0);
    }
    txt[0] = '\0';
    if (dns->spf == SPF_PASS)
        snprintf(txt, sizeof txt, "v=spf1 ip4:%s -all", ip);
    else if (dns->spf == SPF_FAIL)
        snprintf(txt, sizeof txt, "v=spf1 -all");
    else if (dns->spf == SPF_SOFTFAIL)
        snprintf(txt, sizeof txt, "v=spf1 ~all");
    else
        assert_int_equal(dns->spf, SPF_NONE);
    if (txt[0] != '\0' && domain[0] != '\0') {
        const char *s[1] = {txt};
        size_t l[1] = {strlen(txt)};
        assert_int_equal(dns_zone_add_txt(z, domain, s, l, 1), 0);
    }
    return z;
}

static void test_facts_match_real_checks(void **state)
{
    struct cfg *cfg = cfg_defaults();
    unsigned checked = 0, passes = 0, generic = 0, fails = 0;
    (void)state;
    for (int m = 0; m < M_NMODELS; m++) {
        for (unsigned k = 0; k < 12; k++) {
            struct sim_sender s = {(enum sim_model)m, k, k, 0, 0, 1};
            struct sim_rng r;
            struct sim_dns dns;
            struct sim_attempt a;
            struct msg_facts f;
            char helo[160], sender[300], ip[32], host[256], dom[256];
            sim_rng_seed(&r, 11, (uint64_t)m, k, 0);
            uint32_t client = sim_model_client(&s, 100 + k, k % 3, &r);
            sim_model_dns(&s, client, 86400 * (time_t)k, &dns);
            sim_model_helo(&s, client, helo, sizeof helo);
            sim_model_sender(&s, 100 + k, 86400 * (time_t)k, 3, sender, sizeof sender);
            a.client = client;
            a.helo = helo;
            a.sender = sender;
            a.rcpt = "user3@example.org";
            a.dns = &dns;
            sim_facts(cfg, &a, &f);

            const char *at = strrchr(sender, '@');
            struct dns_resolver *res =
                dns_open_zone(zone_for(client, &dns, sender[0] ? (at ? at + 1 : "") : helo));
            struct spf *spf = spf_new(res, "mx.example.org");
            assert_non_null(res);
            assert_non_null(spf);
            snprintf(ip, sizeof ip, "%u.%u.%u.%u", client >> 24, (client >> 16) & 255,
                     (client >> 8) & 255, client & 255);
            struct iprev_check *c = iprev_start(res, ip);
            enum iprev_result ir = iprev_finish(c, NULL, host, sizeof host);
            iprev_free(c);
            enum spf_result sr = spf_check_mailfrom(spf, ip, helo, sender, NULL, dom, sizeof dom);
            spf_free(spf);
            dns_close(res);

            if (!f.iprev_done || f.iprev != ir || strcmp(f.iprev_host, host) != 0)
                fail_msg("%s %s: iprev sim %d '%s', real %d '%s'", sim_models[m].name, ip,
                         f.iprev, f.iprev_host, ir, host);
            struct iprev_addr ia;
            assert_int_equal(iprev_addr_parse(ip, &ia), 0);
            int real_generic = ir == IPREV_PASS && host[0]
                               && iprev_generic_name(host, &ia) != IPREV_GENERIC_NO;
            assert_int_equal(f.generic, real_generic);
            if (!f.spf_done || f.spf != sr || strcmp(f.spf_domain, dom) != 0)
                fail_msg("%s %s <%s>: spf sim %d '%s', real %d '%s'", sim_models[m].name, ip,
                         sender, f.spf, f.spf_domain, sr, dom);
            checked++;
            passes += ir == IPREV_PASS;
            generic += f.generic;
            fails += sr == SPF_FAIL;
        }
    }
    /* the table went through every kind of answer */
    assert_true(passes > 0 && passes < checked);
    assert_true(generic > 0);
    assert_true(fails > 0);
    cfg_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_facts_match_real_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
