/*
 * ctl_stats.c - liveness lines and Prometheus output; see ctl_ops.h
 *
 * The instance label is "host", not "instance": node_exporter's textfile
 * collector exposes these under the scraping job's own instance label,
 * which Prometheus would otherwise rename ours to exported_instance.
 */
#include "autoconf.h"

#include <string.h>

#include "ctl_json.h"
#include "ctl_ops.h"
#include "util.h"

struct collect {
    struct ctl_instance *out;
    int n, max;
};

/* collect_one - one s|HOST record */
static int collect_one(void *arg, const char *key, size_t klen, const void *val, size_t vlen,
                       time_t expires)
{
    struct collect *c = arg;
    struct ctl_instance *in;
    (void)expires;
    if (c->n >= c->max || klen < 3 || klen - 2 >= CTL_HOST_MAX)
        return 0;
    in = &c->out[c->n];
    if (metrics_decode(val, vlen, &in->m) < 0)
        return 0;
    memcpy(in->host, key + 2, klen - 2);
    in->host[klen - 2] = '\0';
    c->n++;
    return 0;
}

int ctl_instances(struct store *st, time_t now, struct ctl_instance *out, int max)
{
    struct collect c = {out, 0, max};
    if (store_iterate(st, "s|", now, collect_one, &c) != STORE_OK)
        return -1;
    return c.n;
}

/* dns_errors - lookups that did not give an answer */
static uint64_t dns_errors(const struct metrics_snapshot *m)
{
    return m->dns[DNS_O_SERVFAIL] + m->dns[DNS_O_REFUSED] + m->dns[DNS_O_TIMEOUT]
           + m->dns[DNS_O_OTHER] + m->dns[DNS_O_PERMFAIL];
}

/* dns_lookups - finished lookups (a waiter's deadline is not one) */
static uint64_t dns_lookups(const struct metrics_snapshot *m)
{
    uint64_t n = 0;
    for (int i = 0; i < DNS_O_N; i++)
        if (i != DNS_O_DEADLINE)
            n += m->dns[i];
    return n;
}

void ctl_stats_print(FILE *out, const struct ctl_instance *in, time_t now, int json)
{
    const struct metrics_snapshot *m = &in->m;
    const char *h = in->host;
    long long age = m->updated ? (long long)now - (long long)m->updated : -1;
    const char *state = m->updated == 0 ? "unknown" : age > METRICS_STALE_AFTER ? "stale" : "live";
    unsigned long long mean = m->lat_count ? m->lat_sum_us / m->lat_count : 0;
    char since[32], updated[32];

    util_iso_time((time_t)m->since, since, sizeof since);
    util_iso_time((time_t)m->updated, updated, sizeof updated);
    if (json) {
        fprintf(out, "{\"host\":");
        json_string(out, h, strlen(h));
        fprintf(out, ",\"accepted\":%llu,\"tempfailed\":%llu,\"rejected\":%llu,\"errors\":%llu,"
                     "\"since\":%llu,\"updated\":%llu,\"age_seconds\":%lld,\"state\":\"%s\","
                     "\"greylist_passes\":%llu,\"greylist_abandoned\":%llu,"
                     "\"dns_lookups\":%llu,\"dns_errors\":%llu,\"latency_mean_us\":%llu,"
                     "\"store_records\":%llu,\"decisions\":{",
                (unsigned long long)m->accepted, (unsigned long long)m->tempfailed,
                (unsigned long long)m->rejected, (unsigned long long)m->errors,
                (unsigned long long)m->since, (unsigned long long)m->updated, age, state,
                (unsigned long long)m->grey_passes, (unsigned long long)m->grey_abandoned,
                (unsigned long long)dns_lookups(m), (unsigned long long)dns_errors(m), mean,
                (unsigned long long)m->store_records);
        int first = 1;
        for (int a = 0; a < METRICS_ACTIONS; a++)
            for (int r = 0; r < METRICS_REASONS; r++)
                if (m->decisions[a][r] && metrics_reason_name(r)) {
                    fprintf(out, "%s\"%s/%s\":%llu", first ? "" : ",", metrics_action_name(a),
                            metrics_reason_name(r), (unsigned long long)m->decisions[a][r]);
                    first = 0;
                }
        fprintf(out, "}}\n");
        return;
    }
    fprintf(out, "host %s accepted\t%llu\nhost %s tempfailed\t%llu\nhost %s rejected\t%llu\n"
                 "host %s errors\t%llu\nhost %s since\t%s\n",
            h, (unsigned long long)m->accepted, h, (unsigned long long)m->tempfailed, h,
            (unsigned long long)m->rejected, h, (unsigned long long)m->errors, h, since);
    fprintf(out, "host %s updated\t%s\nhost %s age_seconds\t%lld\nhost %s state\t%s\n", h,
            updated, h, age, h, state);
    fprintf(out, "host %s greylist_passes\t%llu\nhost %s greylist_abandoned\t%llu\n"
                 "host %s dns_lookups\t%llu\nhost %s dns_errors\t%llu\n"
                 "host %s latency_mean_us\t%llu\n",
            h, (unsigned long long)m->grey_passes, h, (unsigned long long)m->grey_abandoned, h,
            (unsigned long long)dns_lookups(m), h, (unsigned long long)dns_errors(m), h, mean);
    for (int a = 0; a < METRICS_ACTIONS; a++)
        for (int r = 0; r < METRICS_REASONS; r++)
            if (m->decisions[a][r] && metrics_reason_name(r))
                fprintf(out, "host %s %s/%s\t%llu\n", h, metrics_action_name(a),
                        metrics_reason_name(r), (unsigned long long)m->decisions[a][r]);
}

void prom_label(FILE *out, const char *s)
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

void prom_write(FILE *out, const struct ctl_instance *in, int n, time_t now)
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
