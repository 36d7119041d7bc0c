/*
 * NAME
 *   sim_run - build the month of traffic, and replay it through one mode
 * DESCRIPTION
 *   sim_traffic_build() draws the senders and messages of a mix (pure, from
 *   the seed); sim_mode_run() replays them in virtual time through one
 *   greyrep configuration (sim_decide.h) and fills a sim_mode_result.
 *   The traffic is read-only during a run, so modes may run in forked
 *   children that share it.
 * ERRORS
 *   sim_mode_run() returns -1 with err filled when the store cannot be
 *   opened.
 */
#ifndef GREYREP_SIM_RUN_H
#define GREYREP_SIM_RUN_H

#include "config.h"
#include "sim/sim.h"

#define SIM_EPOCH 1767225600 /* 2026-01-01 00:00:00 UTC, virtual start */

struct sim_traffic {
    const struct sim_mix *mix;
    uint64_t seed;
    unsigned days;
    struct sim_sender *senders;
    size_t nsenders;
    struct sim_msg *msgs;     /* in order of first attempt */
    size_t nmsgs;
};

/* sim_traffic_build - nmsgs messages over days, shared out by weight */
int sim_traffic_build(struct sim_traffic *t, const struct sim_mix *mix, uint64_t seed,
                      size_t nmsgs, unsigned days);
void sim_traffic_free(struct sim_traffic *t);
/* sim_rcpt_name - the recipient address of recipient number r */
void sim_rcpt_name(unsigned r, char *buf, size_t len);

/* sim_mode_run - replay t through cfg, with the store in dir */
int sim_mode_run(const struct sim_traffic *t, struct cfg *cfg, const char *dir,
                 struct sim_mode_result *res, char *err, size_t errlen);

/* One mode: a name, its configuration and a note for the output. */
#define SIM_MAX_MODES 5
struct sim_mode_def {
    const char *name;
    struct cfg *cfg;
    char note[160];
    int selective_missing;   /* asks for selective greylisting, not in this build */
};
/* sim_modes_build - greyrep, greyrep-selective, postgrey-like,
 * milter-greylist-like and, with config, "custom" from that file; the
 * number of modes, or -1 (config invalid, already reported on stderr) */
int sim_modes_build(struct sim_mode_def *m, int max, const char *config);

#endif
