/*
 * NAME
 *   sim_report - greyrep-sim's output: table, goals, JSON, SVG chart
 * DESCRIPTION
 *   Everything here reads finished sim_mode_result structures and writes
 *   text; nothing runs the simulation.  sim_goals() judges the goals of
 *   greyrep-sim(8) on the figures and is what make check asserts.
 */
#ifndef GREYREP_SIM_REPORT_H
#define GREYREP_SIM_REPORT_H

#include <stdio.h>

#include "sim/sim.h"

struct sim_run_info {
    uint64_t seed;
    size_t messages;
    unsigned days;
    const char *mix_file;
    double wall;              /* whole run, s */
};

enum sim_goal_state { GOAL_MET, GOAL_MISSED, GOAL_NA };
struct sim_goal {
    const char *id;           /* stable name, for scripts and tests */
    char text[160];           /* what was measured, in words */
    double value, limit;
    enum sim_goal_state state;
};
#define SIM_MAX_GOALS 16

/* sim_goals - the goals judged for one mode; returns how many */
int sim_goals(const struct sim_mix *mix, const struct sim_mode_result *r,
              struct sim_goal *out, int max);

void sim_report_text(FILE *fp, const struct sim_run_info *info, const struct sim_mix *mix,
                     const struct sim_mode_result *modes, int nmodes);
void sim_report_json(FILE *fp, const struct sim_run_info *info, const struct sim_mix *mix,
                     const struct sim_mode_result *modes, int nmodes);
/* sim_report_svg - 0, or -1 if the file cannot be written */
int sim_report_svg(const char *file, const struct sim_run_info *info,
                   const struct sim_mix *mix, const struct sim_mode_result *modes,
                   int nmodes);

#endif
