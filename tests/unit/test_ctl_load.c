/*
 * NAME
 *   test_ctl_load - unit tests of ctl_load.c (greyrepctl dump, load, del)
 * DESCRIPTION
 *   Issue 10: load was not all or nothing (line 1 was written although
 *   line 2 failed), records that do not decode were loaded, hex was read
 *   with %1x (which skips white space), and keys such as "arbitrary" or
 *   "w|ip|notanip" could be removed by no verb.  Over a real LMDB store:
 *   the record checks on a table, strict hex, a file with one bad line
 *   changing nothing, the bad line named as FILE:LINE, and ctl_del
 *   removing any key that dump shows.
 */
#include "autoconf.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "ctl_load.h"
#include "log.h"
#include "record.h"
#include "store.h"
#include "util.h"
#include "unit_util.h"

struct fixture {
    char dir[PATH_MAX];
    struct cfg_store cs;
    struct store *st;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    char err[256];
    if (f == NULL)
        return -1;
    unit_tmpdir(f->dir, sizeof f->dir);
    f->cs.backend = BACKEND_LMDB;
    if ((size_t)snprintf(f->cs.path, sizeof f->cs.path, "%s/db", f->dir) >= sizeof f->cs.path)
        abort();
    f->cs.map_size = 1 << 20;
    f->cs.sync_interval = 1;
    f->cs.sweep_interval = 60;
    if ((f->st = store_open(&f->cs, err, sizeof err)) == NULL)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    store_close(f->st);
    unit_rmtree(f->dir);
    free(f);
    return 0;
}

/* hex - a record's bytes as the hex text of a dump line */
static void hex(const unsigned char *v, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", v[i]);
    out[2 * n] = '\0';
}

static int count_fn(void *arg, const char *key, size_t klen, const void *val, size_t vlen,
                    time_t expires)
{
    (void)key, (void)klen, (void)val, (void)vlen, (void)expires;
    ++*(size_t *)arg;
    return 0;
}

static size_t count(struct store *st)
{
    size_t n = 0;
    assert_int_equal(store_iterate(st, "", util_now(), count_fn, &n), STORE_OK);
    return n;
}

/* with_stderr - run ctl_load(file) with stderr in a file; its text in out */
static int load_capture(struct store *st, const char *file, const char *dir, char *out,
                        size_t len)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/stderr", dir);
    fflush(stderr);
    int saved = dup(2), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    int rc = ctl_load(st, file);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    FILE *fp = fopen(path, "r");
    size_t n = fread(out, 1, len - 1, fp);
    out[n] = '\0';
    fclose(fp);
    return rc;
}

/* test_record_problem - which keys and values load may write */
static void test_record_problem(void **state)
{
    unsigned char t[REC_MAX], c[REC_MAX], w[REC_MAX], n[REC_MAX], stamp[16] = {0};
    struct rec_triplet rt = {1, 2, 0};
    struct rec_client rc = {1, 2, 3};
    struct rec_wl rw = {5, "comment"};
    struct rec_counters rn = {1, 2, 3, 4, 5};
    size_t tl = rec_triplet_encode(&rt, t), cl = rec_client_encode(&rc, c),
           wl = rec_wl_encode(&rw, w), nl = rec_counters_encode(&rn, n);
    (void)state;

    assert_null(ctl_record_problem("t|192.0.2.0/24|user@example.org|rcpt@example.net", t, tl));
    assert_null(ctl_record_problem("t|spf:example.org|<>|rcpt@example.net", t, tl));
    assert_null(ctl_record_problem("t|2001:db8::/64|%E9@x.example|r@y.example", t, tl));
    assert_null(ctl_record_problem("c|192.0.2.1", c, cl));
    assert_null(ctl_record_problem("c|2001:db8::1", c, cl));
    assert_null(ctl_record_problem("w|ip|192.0.2.0/24", w, wl));
    assert_null(ctl_record_problem("w|sender|@example.org", w, wl));
    assert_null(ctl_record_problem("v|whitelist", stamp, sizeof stamp));
    assert_null(ctl_record_problem("s|mx1.example.org", n, nl));

    static const char *const bad_keys[] = {
        "arbitrary", "w|ip|notanip", "w|ip|300.1.2.3", "w|color|red", "w|ip",
        "t|192.0.2.1/24|a|b",          /* not the network's canonical text */
        "t|192.0.2.0/24|a", "t|192.0.2.0/24|a|b|c", "t|192.0.2.0/24||b",
        "t|notanet|a|b", "t|spf:|a|b", "t|192.0.2.0/24|a b|c",
        "c|notanip", "c|2001:DB8::1", "v|other", "s|", "x|y", "", "t", "|t",
    };
    for (size_t i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++) {
        const unsigned char *v = bad_keys[i][0] == 'c' ? c : bad_keys[i][0] == 'w' ? w
                                 : bad_keys[i][0] == 'v' ? stamp : bad_keys[i][0] == 's' ? n : t;
        size_t vl = bad_keys[i][0] == 'c' ? cl : bad_keys[i][0] == 'w' ? wl
                    : bad_keys[i][0] == 'v' ? sizeof stamp : bad_keys[i][0] == 's' ? nl : tl;
        if (ctl_record_problem(bad_keys[i], v, vl) == NULL)
            fail_msg("key \"%s\" accepted", bad_keys[i]);
    }
    /* good keys, values that do not decode as their kind */
    assert_non_null(ctl_record_problem("t|192.0.2.0/24|a|b", t, tl - 1));
    assert_non_null(ctl_record_problem("c|192.0.2.1", c, cl + 1));
    assert_non_null(ctl_record_problem("w|ip|192.0.2.1", t, 3));
    assert_non_null(ctl_record_problem("v|whitelist", stamp, 15));
    assert_non_null(ctl_record_problem("t|192.0.2.0/24|a|b", (const unsigned char *)"", 0));
}

/* test_load_line - strict JSON fields and hex */
static void test_load_line(void **state)
{
    unsigned char t[REC_MAX], val[STORE_MAX_VALUE];
    struct rec_triplet rt = {1, 2, 0};
    size_t tl = rec_triplet_encode(&rt, t), vlen;
    char h[2 * REC_MAX + 1], line[1024], key[STORE_MAX_KEY], bad[128];
    int64_t exp;
    const char *why;
    (void)state;

    hex(t, tl, h);
    snprintf(line, sizeof line, "{\"key\":\"t|192.0.2.0/24|a|b\",\"expires\":7,\"value\":\"%s\"}", h);
    assert_null(ctl_load_line(line, key, val, &vlen, &exp, bad, sizeof bad));
    assert_string_equal(key, "t|192.0.2.0/24|a|b");
    assert_int_equal(vlen, tl);
    assert_memory_equal(val, t, tl);
    assert_true(exp == 7);
    /* upper-case hex is hex */
    for (char *p = h; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    snprintf(line, sizeof line, "{\"key\":\"t|192.0.2.0/24|a|b\",\"expires\":0,\"value\":\"%s\"}", h);
    assert_null(ctl_load_line(line, key, val, &vlen, &exp, bad, sizeof bad));

    static const char *const bad_values[] = {" 1000000", "1 000000", "0x000000", "zz", "1",
                                             "+1000000", "-1000000", "\\t1000000"};
    for (size_t i = 0; i < sizeof bad_values / sizeof bad_values[0]; i++) {
        snprintf(line, sizeof line, "{\"key\":\"t|192.0.2.0/24|a|b\",\"expires\":0,\"value\":\"%s\"}",
                 bad_values[i]);
        why = ctl_load_line(line, key, val, &vlen, &exp, bad, sizeof bad);
        if (why == NULL)
            fail_msg("value \"%s\" accepted", bad_values[i]);
    }
    why = ctl_load_line("{\"key\":\"t|x\",\"value\":\"00\"}", key, val, &vlen, &exp, bad, sizeof bad);
    assert_non_null(why);
    assert_non_null(strstr(why, "expires"));
    why = ctl_load_line("{\"key\":\"arbitrary\",\"expires\":0,\"value\":\"01\"}", key, val, &vlen,
                        &exp, bad, sizeof bad);
    assert_non_null(why);
    assert_string_equal(bad, "arbitrary");      /* the bad value is named */
    assert_non_null(ctl_load_line("not json", key, val, &vlen, &exp, bad, sizeof bad));
    assert_non_null(ctl_load_line("{\"key\":\"t|192.0.2.0/24|a|b\",\"expires\":-1,\"value\":\"\"}",
                                  key, val, &vlen, &exp, bad, sizeof bad));
}

/* test_load_all_or_nothing - a bad line 2 leaves the store as it was */
static void test_load_all_or_nothing(void **state)
{
    struct fixture *f = *state;
    unsigned char c[REC_MAX], w[REC_MAX];
    struct rec_client rc = {1, 2, 3};
    struct rec_wl rw = {5, ""};
    char hc[2 * REC_MAX + 1], hw[2 * REC_MAX + 1], text[4096], path[PATH_MAX], err[1024];

    hex(c, rec_client_encode(&rc, c), hc);
    hex(w, rec_wl_encode(&rw, w), hw);
    static const char *const second[] = {
        "{\"key\":\"arbitrary\",\"expires\":0,\"value\":\"01\"}",
        "{\"key\":\"w|ip|notanip\",\"expires\":0,\"value\":\"%s\"}",
        "{\"key\":\"c|192.0.2.2\",\"expires\":0,\"value\":\"01 \"}",
        "{\"key\":\"c|192.0.2.2\",\"expires\":0,\"value\":\"01\"}",   /* does not decode */
        "{\"key\":\"c|192.0.2.2\",\"expires\":0",
    };
    for (size_t i = 0; i < sizeof second / sizeof second[0]; i++) {
        char l2[512];
        snprintf(l2, sizeof l2, second[i], hw);
        snprintf(text, sizeof text,
                 "{\"key\":\"c|192.0.2.1\",\"expires\":0,\"value\":\"%s\"}\n%s\n"
                 "{\"key\":\"w|ip|192.0.2.0/24\",\"expires\":0,\"value\":\"%s\"}\n", hc, l2, hw);
        unit_write(f->dir, "load.jsonl", text, path, sizeof path);
        assert_int_equal(load_capture(f->st, path, f->dir, err, sizeof err), 1);
        assert_int_equal(count(f->st), 0);
        char want[PATH_MAX + 8];
        snprintf(want, sizeof want, "%s:2: ", path);
        if (strstr(err, want) == NULL)
            fail_msg("case %zu: no %s in: %s", i, want, err);
    }
    /* all good: all written at once, and the whitelist stamp bumped */
    snprintf(text, sizeof text,
             "{\"key\":\"c|192.0.2.1\",\"expires\":0,\"value\":\"%s\"}\n\n"
             "{\"key\":\"w|ip|192.0.2.0/24\",\"expires\":0,\"value\":\"%s\"}\n"
             "{\"key\":\"c|192.0.2.9\",\"expires\":1000,\"value\":\"%s\"}\n", hc, hw, hc);
    unit_write(f->dir, "load.jsonl", text, path, sizeof path);
    assert_int_equal(load_capture(f->st, path, f->dir, err, sizeof err), 0);
    assert_int_equal(count(f->st), 3);  /* the expired one skipped, the stamp added */
    unsigned char v[64];
    size_t vl = sizeof v;
    assert_int_equal(store_get(f->st, "v|whitelist", v, &vl, NULL, util_now()), STORE_OK);
}

/* test_del_any_key - keys that no other verb can name */
static void test_del_any_key(void **state)
{
    struct fixture *f = *state;
    unsigned char v[64];
    size_t vl;

    assert_int_equal(store_put(f->st, "arbitrary", "x", 1, 0), STORE_OK);
    assert_int_equal(store_put(f->st, "w|ip|notanip", "y", 1, 0), STORE_OK);
    assert_int_equal(ctl_del(f->st, "arbitrary"), 0);
    assert_int_equal(ctl_del(f->st, "w|ip|notanip"), 0);
    vl = sizeof v;
    assert_int_equal(store_get(f->st, "arbitrary", v, &vl, NULL, util_now()), STORE_NOTFOUND);
    vl = sizeof v;
    assert_int_equal(store_get(f->st, "w|ip|notanip", v, &vl, NULL, util_now()), STORE_NOTFOUND);
    /* a w| key bumps the stamp, so running daemons forget the entry */
    vl = sizeof v;
    assert_int_equal(store_get(f->st, "v|whitelist", v, &vl, NULL, util_now()), STORE_OK);
    assert_int_equal(ctl_del(f->st, "arbitrary"), 1);    /* gone already */
    assert_int_equal(ctl_del(f->st, ""), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_problem),
        cmocka_unit_test(test_load_line),
        cmocka_unit_test_setup_teardown(test_load_all_or_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_del_any_key, setup, teardown),
    };
    log_open("test_ctl_load", 0, 0);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
