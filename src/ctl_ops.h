/*
 * NAME
 *   ctl_ops - greyrepctl's operating verbs: stats liveness, Prometheus
 *   output, report, import postgrey
 * DESCRIPTION
 *   ctl_stats.c reads the daemons' s|HOST records (metrics.h) for the
 *   liveness lines of `stats` and for `stats --prometheus` (whose
 *   formatter, metrics_prometheus(), is in the library: the daemon's
 *   optional HTTP endpoint uses it too); ctl_report.c
 *   aggregates the hourly m| records and the triplets for `report`
 *   (ctl_svg.c draws its chart); ctl_import.c maps postgrey whitelist
 *   files to admin entries.  The formatters take plain data and a FILE,
 *   so unit tests drive them without a store.
 *
 *   Exit codes follow greyrepctl: 0 done, 1 refused or failed, 2 usage.
 * THREADS
 *   greyrepctl is single-threaded; so are these.
 */
#ifndef GREYREP_CTL_OPS_H
#define GREYREP_CTL_OPS_H

#include <stdio.h>
#include <time.h>

#include "config.h"
#include "metrics.h"
#include "store.h"
#include "whitelist.h"

#define CTL_MAX_INSTANCES 64

/* ctl_instances - every s|HOST record that decodes (at most max); -1 on a
 * store failure, else the count */
int ctl_instances(struct store *st, time_t now, struct metrics_instance *out, int max);
/* ctl_stats_print - one host's lines for `stats` (text or JSON), with its
 * liveness: seconds since it last wrote, and "stale" past METRICS_STALE_AFTER */
void ctl_stats_print(FILE *out, const struct metrics_instance *in, time_t now, int json);

/* One greyrep admin entry an import line maps to. */
struct import_entry {
    enum wl_type type;
    char value[WL_VALUE_MAX + 1];
};
/* import_map_line - a postgrey whitelist line (recipients: from
 * whitelist_recipients, else whitelist_clients) to at most 2 entries:
 * the count (0 for a blank or comment line), or -1 with why */
int import_map_line(int recipients, const char *line, struct import_entry out[2],
                    const char **why);
/* import_perl_regex - a postgrey (Perl) regular expression as a POSIX ERE,
 * for the common Perl forms (\d \w \s, (?:, lazy quantifiers); -1 with why */
int import_perl_regex(const char *in, char *out, size_t len, const char **why);

/* ctl_report / ctl_import - the verbs, with their own arguments */
int ctl_report(const struct cfg *cfg, struct store *st, int argc, char **argv);
int ctl_import(const struct cfg *cfg, struct store *st, int argc, char **argv);

#endif
