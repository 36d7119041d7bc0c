/*
 * ctl_stats.c - the daemons' counter records and their liveness lines;
 * see ctl_ops.h
 */
#include "autoconf.h"

#include <string.h>

#include "ctl_json.h"
#include "ctl_ops.h"
#include "util.h"

struct collect {
    struct metrics_instance *out;
    int n, max;
};

/* collect_one - one s|HOST record */
static int collect_one(void *arg, const char *key, size_t klen, const void *val, size_t vlen,
                       time_t expires)
{
    struct collect *c = arg;
    struct metrics_instance *in;
    (void)expires;
    if (c->n >= c->max || klen < 3 || klen - 2 >= METRICS_HOST_MAX)
        return 0;
    in = &c->out[c->n];
    if (metrics_decode(val, vlen, &in->m) < 0)
        return 0;
    memcpy(in->host, key + 2, klen - 2);
    in->host[klen - 2] = '\0';
    c->n++;
    return 0;
}

int ctl_instances(struct store *st, time_t now, struct metrics_instance *out, int max)
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

void ctl_stats_print(FILE *out, const struct metrics_instance *in, time_t now, int json)
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
