/*
 * NAME
 *   test_metrics - unit tests of metrics.c and the Prometheus formatter
 * DESCRIPTION
 *   Counting (decisions by verdict and reason, latency and delay buckets),
 *   the record encoding (round trip, version 1 records, a newer writer with
 *   more fields, refused lengths), hourly keys, metrics_write() over a real
 *   LMDB store (hour records add up across a restart within the hour), the
 *   on-expire hook, and metrics_prometheus(): every family has HELP and TYPE before
 *   its samples, every sample line parses, histogram buckets are cumulative
 *   and end in +Inf equal to _count, label values are escaped; the
 *   [metrics] listen syntax.
 */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "ctl_ops.h"
#include "metrics.h"
#include "record.h"
#include "util.h"
#include "unit_util.h"

/* test_counting - what metrics_note_* add up to */
static void test_counting(void **state)
{
    struct metrics_snapshot m;
    (void)state;
    metrics_reset();
    metrics_note_decision(V_ACCEPT, R_WHITELIST, 50);
    metrics_note_decision(V_ACCEPT, R_WHITELIST, 100);     /* on a bound: that bucket */
    metrics_note_decision(V_TEMPFAIL, R_GREY_NEW, 101);
    metrics_note_decision(V_TEMPFAIL, R_ERROR, 20000000);  /* over 10 s: +Inf */
    metrics_note_decision(V_REJECT, R_DNSBL, 3000);
    metrics_note_pass(300);
    metrics_note_pass(301);
    metrics_note_pass(10 * 86400);
    metrics_note_abandoned();
    metrics_snapshot(&m);
    assert_int_equal(m.accepted, 2);
    assert_int_equal(m.tempfailed, 2);
    assert_int_equal(m.rejected, 1);
    assert_int_equal(m.errors, 1);
    assert_int_equal(m.decisions[V_ACCEPT][R_WHITELIST], 2);
    assert_int_equal(m.decisions[V_TEMPFAIL][R_GREY_NEW], 1);
    assert_int_equal(m.decisions[V_REJECT][R_DNSBL], 1);
    assert_int_equal(m.lat[0], 2);
    assert_int_equal(m.lat[1], 1);
    assert_int_equal(m.lat[METRICS_LAT_BUCKETS - 1], 1);
    assert_int_equal(m.lat_count, 5);
    assert_int_equal(m.lat_sum_us, 50 + 100 + 101 + 20000000 + 3000);
    assert_int_equal(m.grey_passes, 3);
    assert_int_equal(m.delay[0], 1);
    assert_int_equal(m.delay[1], 1);
    assert_int_equal(m.delay[METRICS_DELAY_BUCKETS - 1], 1);
    assert_int_equal(m.grey_abandoned, 1);
    metrics_reset();
    metrics_snapshot(&m);
    assert_int_equal(m.accepted + m.lat_count + m.grey_passes, 0);
}

/* test_encoding - round trip, version 1, a newer writer, bad lengths */
static void test_encoding(void **state)
{
    struct metrics_snapshot m, back;
    unsigned char buf[METRICS_MAX_RECORD + 64];
    size_t n;
    uint64_t *f = (uint64_t *)&m;
    (void)state;

    for (size_t i = 0; i < sizeof m / 8; i++)
        f[i] = 0x0102030405060708ull * (i + 1);
    n = metrics_encode(&m, buf, sizeof buf);
    assert_int_equal(n, 3 + sizeof m);
    assert_int_equal(buf[0], 2);
    assert_int_equal(metrics_decode(buf, n, &back), 0);
    assert_memory_equal(&m, &back, sizeof m);

    /* a newer writer appended two fields: the known ones still decode */
    memset(buf + n, 0xab, 16);
    buf[2] = (unsigned char)(buf[2] + 2);
    assert_int_equal(metrics_decode(buf, n + 16, &back), 0);
    assert_memory_equal(&m, &back, sizeof m);
    buf[2] = (unsigned char)(buf[2] - 2);
    /* an older writer with fewer fields: the rest are zero */
    buf[1] = 0;
    buf[2] = 6;
    assert_int_equal(metrics_decode(buf, 3 + 48, &back), 0);
    assert_int_equal(back.errors, m.errors);
    assert_int_equal(back.decisions[0][0], 0);
    /* wrong lengths and versions */
    assert_int_equal(metrics_decode(buf, 3 + 47, &back), -1);
    assert_int_equal(metrics_decode(buf, 2, &back), -1);
    buf[0] = 3;
    assert_int_equal(metrics_decode(buf, 3 + 48, &back), -1);

    /* version 1 (struct rec_counters), with and without "rejected" */
    {
        struct rec_counters rc = {1700000000, 5, 6, 7, 8};
        unsigned char v1[REC_MAX];
        size_t l = rec_counters_encode(&rc, v1);
        assert_int_equal(metrics_decode(v1, l, &back), 0);
        assert_int_equal(back.since, 1700000000);
        assert_int_equal(back.accepted, 5);
        assert_int_equal(back.tempfailed, 6);
        assert_int_equal(back.errors, 7);
        assert_int_equal(back.rejected, 8);
        assert_int_equal(back.updated, 0);
        assert_int_equal(metrics_decode(v1, 33, &back), 0);
        assert_int_equal(back.rejected, 0);
        assert_int_equal(metrics_decode(v1, 34, &back), -1);
    }
}

/* test_hour_keys - m|HOST|YYYYMMDDTHH both ways, hostile keys refused */
static void test_hour_keys(void **state)
{
    static const char *bad[] = {"m|", "m|host", "m|host|2026120418", "m|host|20261204T24",
                                "m|host|20261304T10", "m||20261204T10", "s|host|20261204T10",
                                "m|host|20261204T1x", "m|host|20261204T10x"};
    char key[400], host[METRICS_HOST_MAX];
    time_t hour;
    (void)state;

    metrics_hour_key("mx1.example|x", 1796407200 + 1799, key, sizeof key);
    assert_string_equal(key, "m|mx1.example|x|20261204T18");
    assert_int_equal(metrics_parse_hour_key(key, strlen(key), host, sizeof host, &hour), 0);
    assert_string_equal(host, "mx1.example|x");
    assert_int_equal(hour, 1796407200);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (metrics_parse_hour_key(bad[i], strlen(bad[i]), host, sizeof host, &hour) == 0)
            fail_msg("%s accepted", bad[i]);
}

/* test_write - s| and m| records in a real store, and a restart in the hour */
static void test_write(void **state)
{
    char dir[PATH_MAX], err[256], host[256], key[400];
    struct cfg *cfg = cfg_defaults();
    struct store *st;
    unsigned char buf[METRICS_MAX_RECORD];
    struct metrics_snapshot m;
    struct metrics_instance in[4];
    size_t len;
    time_t t0 = 1796407200 + 60;
    (void)state;

    unit_tmpdir(dir, sizeof dir);
    snprintf(cfg->store.path, sizeof cfg->store.path, "%s", dir);
    st = store_open(&cfg->store, err, sizeof err);
    assert_non_null(st);
    metrics_reset();
    metrics_note_decision(V_TEMPFAIL, R_GREY_NEW, 10);
    metrics_write(st, t0, t0 - 60);
    metrics_note_decision(V_ACCEPT, R_GREY_PASSED, 10);
    metrics_note_pass(400);
    metrics_write(st, t0 + 10, t0 - 60);

    assert_int_equal(ctl_instances(st, t0 + 10, in, 4), 1);
    util_hostname(host, sizeof host);
    assert_string_equal(in[0].host, host);
    assert_int_equal(in[0].m.since, t0 - 60);
    assert_int_equal(in[0].m.updated, t0 + 10);
    assert_int_equal(in[0].m.accepted, 1);
    assert_int_equal(in[0].m.grey_passes, 1);
    assert_true(in[0].m.store_records >= 2);

    metrics_hour_key(host, t0, key, sizeof key);
    len = sizeof buf;
    assert_int_equal(store_get(st, key, buf, &len, NULL, t0), STORE_OK);
    assert_int_equal(metrics_decode(buf, len, &m), 0);
    assert_int_equal(m.tempfailed, 1);
    assert_int_equal(m.accepted, 1);
    assert_int_equal(m.since, 1796407200);

    /* next hour: only what happened since the hour began */
    metrics_note_decision(V_REJECT, R_DNSBL, 10);
    metrics_write(st, t0 + 3600, t0 - 60);
    metrics_hour_key(host, t0 + 3600, key, sizeof key);
    len = sizeof buf;
    assert_int_equal(store_get(st, key, buf, &len, NULL, t0), STORE_OK);
    assert_int_equal(metrics_decode(buf, len, &m), 0);
    assert_int_equal(m.rejected, 1);
    assert_int_equal(m.accepted + m.tempfailed, 0);
    store_close(st);
    cfg_free(cfg);
    unit_rmtree(dir);
}

/* test_on_expired - pending triplets count as abandoned, passed ones do not */
static void test_on_expired(void **state)
{
    struct rec_triplet t = {100, 100, 0};
    unsigned char buf[REC_MAX];
    size_t n = rec_triplet_encode(&t, buf);
    struct metrics_snapshot m;
    (void)state;
    metrics_reset();
    metrics_on_expired(NULL, "t|a|b|c", 7, buf, n, 200);
    t.passes = 2;
    n = rec_triplet_encode(&t, buf);
    metrics_on_expired(NULL, "t|a|b|c", 7, buf, n, 200);
    metrics_on_expired(NULL, "t|a|b|c", 7, buf, 3, 200);   /* does not decode */
    metrics_snapshot(&m);
    assert_int_equal(m.grey_abandoned, 1);
}

/* family_of - a sample's metric family (histogram suffixes stripped) */
static void family_of(const char *name, char *out, size_t len)
{
    static const char *suffix[] = {"_bucket", "_sum", "_count"};
    snprintf(out, len, "%s", name);
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(out), s = strlen(suffix[i]);
        if (n > s && strcmp(out + n - s, suffix[i]) == 0 && strstr(out, "latency") != NULL)
            out[n - s] = '\0';
        else if (n > s && strcmp(out + n - s, suffix[i]) == 0 && strstr(out, "delay") != NULL)
            out[n - s] = '\0';
    }
}

/* test_prometheus - the exposition format, checked line by line */
static void test_prometheus(void **state)
{
    struct metrics_instance in[2];
    char *text = NULL, *line, *save = NULL, typed[64][96];
    size_t len = 0;
    int ntyped = 0, samples = 0;
    double last_bucket = -1, inf = -1, count = -1;
    FILE *out = open_memstream(&text, &len);
    (void)state;

    memset(in, 0, sizeof in);
    snprintf(in[0].host, sizeof in[0].host, "mx1.example");
    snprintf(in[1].host, sizeof in[1].host, "odd\"host\\name");
    in[0].m.updated = 1000;
    in[1].m.updated = 960;
    in[0].m.decisions[V_ACCEPT][R_WHITELIST] = 7;
    in[0].m.lat[0] = 3;
    in[0].m.lat[5] = 2;
    in[0].m.lat[METRICS_LAT_BUCKETS - 1] = 1;
    in[0].m.lat_count = 6;
    in[0].m.lat_sum_us = 2500000;
    in[0].m.dns[DNS_O_TIMEOUT] = 4;
    metrics_prometheus(out, in, 2, 1000);
    fclose(out);

    assert_non_null(strstr(text, "greyrep_decisions_total{host=\"mx1.example\",verdict=\"accept\","
                                 "reason=\"whitelisted\"} 7\n"));
    assert_non_null(strstr(text, "host=\"odd\\\"host\\\\name\""));
    assert_non_null(strstr(text, "greyrep_dns_lookups_total{host=\"mx1.example\",outcome=\"timeout\"} 4\n"));
    assert_non_null(strstr(text, "greyrep_decision_latency_seconds_sum{host=\"mx1.example\"} 2.500000\n"));
    assert_non_null(strstr(text, "greyrep_decision_latency_seconds_bucket{host=\"mx1.example\",le=\"0.0001\"} 3\n"));
    assert_non_null(strstr(text, "greyrep_stale{host=\"mx1.example\"} 0\n"));
    assert_non_null(strstr(text, "greyrep_stale{host=\"odd\\\"host\\\\name\"} 1\n"));

    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char name[96], fam[96];
        double v;
        if (strncmp(line, "# HELP ", 7) == 0)
            continue;
        if (strncmp(line, "# TYPE ", 7) == 0) {
            char type[32];
            assert_int_equal(sscanf(line + 7, "%95s %31s", typed[ntyped], type), 2);
            assert_true(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0
                        || strcmp(type, "histogram") == 0);
            ntyped++;
            continue;
        }
        /* NAME{labels} VALUE, the name in [a-z_], the value a number */
        const char *brace = strchr(line, '{'), *close = strrchr(line, '}');
        if (brace == NULL || close == NULL || close[1] != ' ')
            fail_msg("bad sample line: %s", line);
        assert_true((size_t)(brace - line) < sizeof name);
        memcpy(name, line, (size_t)(brace - line));
        name[brace - line] = '\0';
        assert_int_equal(strspn(name, "abcdefghijklmnopqrstuvwxyz_"), strlen(name));
        char *end;
        v = strtod(close + 2, &end);
        if (*end != '\0')
            fail_msg("bad value: %s", line);
        family_of(name, fam, sizeof fam);
        if (ntyped == 0 || strcmp(typed[ntyped - 1], fam) != 0)
            fail_msg("sample %s before its TYPE line", name);
        if (strcmp(fam, "greyrep_counter_total") == 0 || strstr(name, "_total") != NULL)
            assert_true(strstr(typed[ntyped - 1], "_total") != NULL);
        if (strstr(line, "greyrep_decision_latency_seconds_bucket{host=\"mx1.example\"")) {
            assert_true(v >= last_bucket);
            last_bucket = v;
            if (strstr(line, "le=\"+Inf\""))
                inf = v;
        }
        if (strstr(line, "greyrep_decision_latency_seconds_count{host=\"mx1.example\"}"))
            count = v;
        samples++;
    }
    assert_true(samples > 50);
    assert_true(inf == 6 && count == 6);
    free(text);
}

/* test_parse_listen - [metrics] listen values */
static void test_parse_listen(void **state)
{
    static const struct {
        const char *in;
        int ok, family, port;
    } t[] = {
        {"9154", 1, AF_INET, 9154},
        {"127.0.0.1:9154", 1, AF_INET, 9154},
        {"[::1]:9154", 1, AF_INET6, 9154},
        {"0", 0, 0, 0},
        {"65536", 0, 0, 0},
        {"99999", 0, 0, 0},
        {"localhost:9154", 0, 0, 0},
        {"::1:9154", 0, 0, 0},
        {"[::1]9154", 0, 0, 0},
        {"127.0.0.1:", 0, 0, 0},
        {"127.0.0.1:9154 ", 0, 0, 0},
        {"", 0, 0, 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct sockaddr_storage ss;
        socklen_t len;
        int rc = metrics_parse_listen(t[i].in, &ss, &len);
        if (rc != (t[i].ok ? 0 : -1))
            fail_msg("\"%s\": %d", t[i].in, rc);
        if (!t[i].ok)
            continue;
        assert_int_equal(ss.ss_family, t[i].family);
        assert_int_equal(ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                                       : ((struct sockaddr_in6 *)&ss)->sin6_port),
                         t[i].port);
        if (strchr(t[i].in, ':') == NULL)   /* a port alone is loopback */
            assert_int_equal(ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr), 0x7f000001);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counting),
        cmocka_unit_test(test_encoding),
        cmocka_unit_test(test_hour_keys),
        cmocka_unit_test(test_write),
        cmocka_unit_test(test_on_expired),
        cmocka_unit_test(test_prometheus),
        cmocka_unit_test(test_parse_listen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
