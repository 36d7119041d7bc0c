/*
 * sim_modes.c - the modes greyrep-sim compares, each a greyrep configuration
 *
 * Each mode is a struct cfg as cfg_load() would build it; the comparison
 * modes set only keys greyrep.conf(5) has, so each can be written down as
 * a greyrep.conf (greyrep-sim(8) MODES lists them).
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "dnsbl.h"
#include "sim/sim_run.h"

/* checks_off - a configuration without any DNS check */
static void checks_off(struct cfg *cfg)
{
    cfg->spf_enabled = 0;
    cfg->iprev_enabled = 0;
    cfg->iprev_generic = 0;
    cfg->dkim_enabled = 0;
    cfg->dnsbl->n = 0;
}

int sim_modes_build(struct sim_mode_def *m, int max, const char *config)
{
    int n = 0;

    m[n].name = "greyrep";
    m[n].cfg = cfg_defaults();
    snprintf(m[n].note, sizeof m[n].note, "greyrep's shipped defaults");
    n++;

    m[n].name = "greyrep-selective";
    m[n].cfg = cfg_defaults();
    /* [greylist] selective = yes, once the reputation work adds the key */
    m[n].selective_missing = 1;
    snprintf(m[n].note, sizeof m[n].note,
             "no [greylist] selective key in this build: runs greyrep's defaults");
    n++;

    m[n].name = "postgrey-like";
    m[n].cfg = cfg_defaults();
    m[n].cfg->grey.delay = 300;
    m[n].cfg->grey.retry_window = 2 * 86400;
    m[n].cfg->grey.pass_lifetime = 35 * 86400;
    m[n].cfg->grey.ipv4_prefix = 24;
    m[n].cfg->grey.auto_whitelist = 5;
    m[n].cfg->grey.suspicious_delay = 300;
    checks_off(m[n].cfg);
    snprintf(m[n].note, sizeof m[n].note,
             "plain triplets, delay 300s, /24, client auto-whitelist after 5, no DNS checks");
    n++;

    m[n].name = "milter-greylist-like";
    m[n].cfg = cfg_defaults();
    m[n].cfg->grey.delay = 1800;
    m[n].cfg->grey.retry_window = 5 * 86400;
    m[n].cfg->grey.pass_lifetime = 86400;
    m[n].cfg->grey.ipv4_prefix = 32;
    m[n].cfg->grey.ipv6_prefix = 128;
    m[n].cfg->grey.auto_whitelist = 0;
    m[n].cfg->grey.suspicious_delay = 1800;
    checks_off(m[n].cfg);
    snprintf(m[n].note, sizeof m[n].note,
             "delay 30m, /32, a passed triplet is auto-whitelisted 1d, tuples kept 5d");
    n++;

    if (config != NULL && n < max) {
        m[n].name = "custom";
        if ((m[n].cfg = cfg_load(config, NULL, NULL)) == NULL) {
            fprintf(stderr, "greyrep-sim: %s: invalid configuration (see greyrep -n -c %s)\n",
                    config, config);
            return -1;
        }
        snprintf(m[n].note, sizeof m[n].note, "%.150s", config);
        n++;
    }
    return n;
}

