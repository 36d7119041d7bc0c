/*
 * metrics_prom.c - the Prometheus text exposition of metrics snapshots;
 * see metrics.h
 *
 * The instance label is "host", not "instance": node_exporter's textfile
 * collector exposes these under the scraping job's own instance label,
 * which Prometheus would otherwise rename ours to exported_instance.
 */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "metrics.h"

/* prom_label - a label value escaped as the format wants */
static void prom_label(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            fprintf(out, "\\%c", *s);
        else if (*s == '\n')
            fputs("\\n", out);
        else
            fputc(*s, out);
    }
    fputc('"', out);
}

/* family - the HELP and TYPE lines of one metric */
static void family(FILE *out, const char *name, const char *type, const char *help)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* sample - name{host="H"[,extra]} value */
static void sample(FILE *out, const char *name, const char *host, const char *extra,
                   unsigned long long v)
{
    fprintf(out, "%s{host=", name);
    prom_label(out, host);
    fprintf(out, "%s%s} %llu\n", extra ? "," : "", extra ? extra : "", v);
}

/* histogram - cumulative buckets, _sum (in unit, from sum scaled by div)
 * and _count */
static void histogram(FILE *out, const char *name, const char *host, const uint64_t *b, int n,
                      uint64_t (*bound)(int), double div, uint64_t sum, uint64_t count)
{
    char le[64], full[128];
    uint64_t cum = 0;
    for (int i = 0; i < n; i++) {
        cum += b[i];
        if (bound(i))
            snprintf(le, sizeof le, "le=\"%g\"", (double)bound(i) / div);
        else
            snprintf(le, sizeof le, "le=\"+Inf\"");
        snprintf(full, sizeof full, "%s_bucket", name);
        sample(out, full, host, le, cum);
    }
    fprintf(out, "%s_sum{host=", name);
    prom_label(out, host);
    fprintf(out, "} %.6f\n", (double)sum / div);
    snprintf(full, sizeof full, "%s_count", name);
    sample(out, full, host, NULL, count);
}

void metrics_prometheus(FILE *out, const struct metrics_instance *in, int n, time_t now)
{
    char extra[128];

    family(out, "greyrep_decisions_total", "counter",
           "Recipient decisions since the daemon started, by verdict and reason.");
    for (int i = 0; i < n; i++)
        for (int a = 0; a < METRICS_ACTIONS; a++)
            for (int r = 0; r < METRICS_REASONS; r++)
                if (metrics_reason_name(r)) {
                    snprintf(extra, sizeof extra, "verdict=\"%s\",reason=\"%s\"",
                             metrics_action_name(a), metrics_reason_name(r));
                    sample(out, "greyrep_decisions_total", in[i].host, extra,
                           in[i].m.decisions[a][r]);
                }
    family(out, "greyrep_errors_total", "counter",
           "Decisions that could not be made (answered with on_error).");
    for (int i = 0; i < n; i++)
        sample(out, "greyrep_errors_total", in[i].host, NULL, in[i].m.errors);
    family(out, "greyrep_greylist_passes_total", "counter",
           "Greylisted triplets that retried after the delay and passed.");
    for (int i = 0; i < n; i++)
        sample(out, "greyrep_greylist_passes_total", in[i].host, NULL, in[i].m.grey_passes);
    family(out, "greyrep_greylist_abandoned_total", "counter",
           "Pending triplets that expired without a retry.");
    for (int i = 0; i < n; i++)
        sample(out, "greyrep_greylist_abandoned_total", in[i].host, NULL,
               in[i].m.grey_abandoned);
    family(out, "greyrep_dns_lookups_total", "counter",
           "DNS lookups by outcome (deadline: a waiter gave up before the answer).");
    for (int i = 0; i < n; i++)
        for (int o = 0; o < DNS_O_N; o++) {
            snprintf(extra, sizeof extra, "outcome=\"%s\"", dns_outcome_name((enum dns_outcome)o));
            sample(out, "greyrep_dns_lookups_total", in[i].host, extra, in[i].m.dns[o]);
        }
    family(out, "greyrep_store_records", "gauge", "Records in the store at the last write.");
    for (int i = 0; i < n; i++)
        sample(out, "greyrep_store_records", in[i].host, NULL, in[i].m.store_records);
    family(out, "greyrep_store_bytes", "gauge", "Store space in use at the last write.");
    for (int i = 0; i < n; i++)
        sample(out, "greyrep_store_bytes", in[i].host, NULL, in[i].m.store_bytes);
    family(out, "greyrep_decision_latency_seconds", "histogram",
           "Time to decide one recipient, DNS wait included.");
    for (int i = 0; i < n; i++)
        histogram(out, "greyrep_decision_latency_seconds", in[i].host, in[i].m.lat,
                  METRICS_LAT_BUCKETS, metrics_lat_bound, 1e6, in[i].m.lat_sum_us,
                  in[i].m.lat_count);
    family(out, "greyrep_greylist_delay_seconds", "histogram",
           "How long greylisted mail waited before its retry passed.");
    for (int i = 0; i < n; i++)
        histogram(out, "greyrep_greylist_delay_seconds", in[i].host, in[i].m.delay,
                  METRICS_DELAY_BUCKETS, metrics_delay_bound, 1, in[i].m.delay_sum_s,
                  in[i].m.grey_passes);
    family(out, "greyrep_start_time_seconds", "gauge", "When the daemon started (Unix time).");
    for (int i = 0; i < n; i++)
        sample(out, "greyrep_start_time_seconds", in[i].host, NULL, in[i].m.since);
    family(out, "greyrep_last_update_seconds", "gauge",
           "When the daemon last wrote its counters (Unix time).");
    for (int i = 0; i < n; i++)
        sample(out, "greyrep_last_update_seconds", in[i].host, NULL, in[i].m.updated);
    family(out, "greyrep_stale", "gauge",
           "1 when the daemon has not written its counters for 3 write intervals.");
    for (int i = 0; i < n; i++)
        sample(out, "greyrep_stale", in[i].host, NULL,
               in[i].m.updated == 0 || (long long)now - (long long)in[i].m.updated
                                           > METRICS_STALE_AFTER);
}
