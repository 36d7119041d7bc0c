/*
 * NAME
 *   test_config - unit tests of config.c (greyrep.conf and its whitelists)
 * DESCRIPTION
 *   Writes configuration files into a scratch directory and loads them:
 *   defaults, every key of every kind, bad values, structural errors, and
 *   problems in the whitelist files.  Every problem must be reported as
 *   "FILE:LINE: message" with the right line, all of them, and the load
 *   must then fail.  Also the duration and size parsers, and the
 *   reference-counted current configuration.
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

#include "config.h"
#include "dnsbl.h"
#include "whitelist.h"
#include "unit_util.h"

/* what one test collected through the report callback */
struct reports {
    char *line[64];
    size_t n;
};

static void collect(void *arg, const char *line)
{
    struct reports *r = arg;
    if (r->n < sizeof r->line / sizeof r->line[0])
        r->line[r->n] = strdup(line);
    r->n++;
}

static void reports_free(struct reports *r)
{
    for (size_t i = 0; i < r->n && i < sizeof r->line / sizeof r->line[0]; i++)
        free(r->line[i]);
    memset(r, 0, sizeof *r);
}

/* has_report - is there a report starting "file:line: " and containing text? */
static int has_report(const struct reports *r, const char *file, unsigned line,
                      const char *text)
{
    char prefix[PATH_MAX + 32];
    snprintf(prefix, sizeof prefix, "%s:%u: ", file, line);
    for (size_t i = 0; i < r->n && i < sizeof r->line / sizeof r->line[0]; i++)
        if (strncmp(r->line[i], prefix, strlen(prefix)) == 0
            && (text == NULL || strstr(r->line[i], text) != NULL))
            return 1;
    return 0;
}

/* show - print every report (on a failure, to see what came instead) */
static void show(const struct reports *r)
{
    for (size_t i = 0; i < r->n && i < sizeof r->line / sizeof r->line[0]; i++)
        print_message("  report: %s\n", r->line[i]);
}

#define EXPECT_REPORT(r, file, line, text)                                      \
    do {                                                                        \
        const char *want_ = (text);                                             \
        if (!has_report((r), (file), (line), want_)) {                          \
            show(r);                                                            \
            fail_msg("no report %s:%u: ...%s...", (file), (unsigned)(line),     \
                     want_ ? want_ : "");                                       \
        }                                                                       \
    } while (0)

/* the scratch directory of one test */
struct fixture {
    char dir[PATH_MAX];
    char conf[PATH_MAX];
    struct reports rep;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    unit_tmpdir(f->dir, sizeof f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    reports_free(&f->rep);
    unit_rmtree(f->dir);
    free(f);
    return 0;
}

/* no_lists - a [whitelist] section that names no file, so that files
 * installed on the test machine never leak into a test */
#define NO_LISTS "[whitelist]\nclients =\nrecipients =\nsenders =\n"

/* load - write text as greyrep.conf and load it */
static struct cfg *load(struct fixture *f, const char *text)
{
    unit_write(f->dir, "greyrep.conf", text, f->conf, sizeof f->conf);
    reports_free(&f->rep);
    return cfg_load(f->conf, collect, &f->rep);
}

static void test_defaults(void **state)
{
    struct cfg *c = cfg_defaults();
    struct net_addr a;
    (void)state;

    assert_non_null(c);
    assert_int_equal(c->grey.delay, 300);
    assert_int_equal(c->grey.retry_window, 2 * 86400);
    assert_int_equal(c->grey.pass_lifetime, 35 * 86400);
    assert_int_equal(c->grey.ipv4_prefix, 24);
    assert_int_equal(c->grey.ipv6_prefix, 64);
    assert_int_equal(c->grey.auto_whitelist, 5);
    assert_int_equal(c->grey.suspicious_delay, 30 * 60);
    assert_int_equal(c->on_error, ON_ERROR_ACCEPT);
    assert_true(c->spf_enabled);
    assert_int_equal(c->spf_fail_action, ACT_GREYLIST);
    assert_true(c->iprev_enabled);
    assert_true(c->iprev_generic);
    assert_true(c->dkim_enabled);
    assert_int_equal(c->dkim_min_key_bits, 1024);
    assert_non_null(c->dnsbl);
    assert_int_equal(c->dnsbl->n, 0);
    assert_int_equal(c->dnsbl_threshold, 5);
    assert_int_equal(c->dnsbl_action, ACT_TEMPFAIL);
    assert_true(cfg_checks_enabled(c));
    assert_string_equal(cfg_action_name(ACT_NONE), "none");
    assert_string_equal(cfg_action_name(ACT_REJECT), "reject");
    assert_int_equal(c->socket_mode, 0660);
    assert_int_equal(c->store.backend, BACKEND_LMDB);
    assert_true(c->store.map_size == 64ULL << 20);
    assert_int_equal(c->store.sync_interval, 1);
    assert_int_equal(c->store.sweep_interval, 60);
    assert_int_equal(c->store.redis_timeout_ms, 500);
    assert_int_equal(c->store.redis_db, 0);
    assert_string_equal(c->store.redis_prefix, "greyrep:");
    assert_string_equal(c->store.redis, "127.0.0.1:6379");
    assert_int_equal(c->dns_timeout_ms, 3000);
    assert_string_equal(c->user, "greyrep");
    assert_true(strncmp(c->socket, "unix:", 5) == 0);
    assert_true(strstr(c->store.path, "greyrep") != NULL);
    assert_true(strstr(c->wl_clients, "whitelist_clients") != NULL);
    assert_true(strstr(c->wl_recipients, "whitelist_recipients") != NULL);
    assert_true(strstr(c->wl_senders, "whitelist_senders") != NULL);
    assert_int_equal(c->ntrusted, 2);
    assert_int_equal(net_parse("127.1.2.3", &a), 0);
    assert_true(net_cidr_match(&c->trusted[0], &a) || net_cidr_match(&c->trusted[1], &a));
    assert_int_equal(net_parse("::1", &a), 0);
    assert_true(net_cidr_match(&c->trusted[0], &a) || net_cidr_match(&c->trusted[1], &a));
    assert_non_null(c->wl);
    assert_int_equal(wl_count(c->wl), 0);
    assert_int_equal(c->refs, 1);
    cfg_free(c);
}

/* test_load_minimal - a file with nothing to say gives the defaults */
static void test_load_minimal(void **state)
{
    struct fixture *f = *state;
    struct cfg *c = load(f, "# nothing but comments\n\n   \n" NO_LISTS);
    struct cfg *d = cfg_defaults();

    assert_non_null(c);
    assert_int_equal(f->rep.n, 0);
    assert_string_equal(c->file, f->conf);
    assert_memory_equal(&c->grey, &d->grey, sizeof c->grey);
    assert_true(c->store.map_size == d->store.map_size);
    assert_int_equal(c->on_error, d->on_error);
    assert_int_equal(c->ntrusted, d->ntrusted);
    /* an empty authserv_id becomes the host name */
    assert_true(c->authserv_id[0] != '\0');
    cfg_free(c);
    cfg_free(d);
}

/* test_every_key - every key, every kind, a value other than the default */
static void test_every_key(void **state)
{
    struct fixture *f = *state;
    struct net_addr a;
    struct cfg *c = load(f,
        "[milter]\n"
        "socket = inet:10025@127.0.0.1\n"
        "user = nobody\n"                /* user and group must exist */
        "socket_group = nogroup\n"
        "socket_mode = 0600\n"
        "pidfile = /run/greyrep-test.pid\n"
        "on_error = tempfail\n"
        "authserv_id = mx.example.org\n"
        "trusted_networks = 10.0.0.0/8, 192.0.2.1 2001:db8::/32\n"
        "[store]\n"
        "backend = lmdb\n"
        "path = /var/tmp/greyrep-test\n"
        "map_size = 1G\n"
        "sync_interval = 0\n"
        "sweep_interval = 5m\n"
        "redis = [::1]:6380\n"
        "redis_password = secret\n"
        "redis_db = 3\n"
        "redis_timeout = 2s\n"
        "redis_prefix = gr:\n"
        "[greylist]\n"
        "delay = 10m\n"
        "retry_window = 1d\n"
        "pass_lifetime = 7d\n"
        "ipv4_prefix = 32\n"
        "ipv6_prefix = 56\n"
        "auto_whitelist = 0\n"
        "suspicious_delay = 2h\n"
        NO_LISTS
        "[dns]\n"
        "servers = 127.0.0.1\n"
        "timeout = 1500ms\n"
        "[spf]\n"
        "enabled = no\n"
        "fail_action = reject\n"
        "[iprev]\n"
        "enabled = no\n"
        "generic_names = no\n"
        "[dkim]\n"
        "enabled = no\n"
        "min_key_bits = 2048\n"
        "[dnsbl]\n"
        "zones = bl.example.org=3:127.0.0.2-127.0.0.11 list.example.net\n"
        "threshold = 3\n"
        "action = reject\n");

    if (c == NULL)
        show(&f->rep);
    assert_non_null(c);
    assert_string_equal(c->socket, "inet:10025@127.0.0.1");
    assert_string_equal(c->user, "nobody");
    assert_string_equal(c->socket_group, "nogroup");
    assert_int_equal(c->socket_mode, 0600);
    assert_string_equal(c->pidfile, "/run/greyrep-test.pid");
    assert_int_equal(c->on_error, ON_ERROR_TEMPFAIL);
    assert_string_equal(c->authserv_id, "mx.example.org");
    assert_int_equal(c->ntrusted, 3);
    assert_int_equal(net_parse("10.9.8.7", &a), 0);
    assert_true(net_cidr_match(&c->trusted[0], &a));
    assert_int_equal(net_parse("192.0.2.1", &a), 0);
    assert_true(net_cidr_match(&c->trusted[1], &a));
    assert_int_equal(net_parse("2001:db8:1::1", &a), 0);
    assert_true(net_cidr_match(&c->trusted[2], &a));
    assert_int_equal(net_parse("127.0.0.1", &a), 0);   /* the default is replaced */
    for (size_t i = 0; i < c->ntrusted; i++)
        assert_false(net_cidr_match(&c->trusted[i], &a));
    assert_int_equal(c->store.backend, BACKEND_LMDB);
    assert_string_equal(c->store.path, "/var/tmp/greyrep-test");
    assert_true(c->store.map_size == 1ULL << 30);
    assert_int_equal(c->store.sync_interval, 0);
    assert_int_equal(c->store.sweep_interval, 300);
    assert_string_equal(c->store.redis, "[::1]:6380");
    assert_string_equal(c->store.redis_password, "secret");
    assert_int_equal(c->store.redis_db, 3);
    assert_int_equal(c->store.redis_timeout_ms, 2000);
    assert_string_equal(c->store.redis_prefix, "gr:");
    assert_int_equal(c->grey.delay, 600);
    assert_int_equal(c->grey.retry_window, 86400);
    assert_int_equal(c->grey.pass_lifetime, 7 * 86400);
    assert_int_equal(c->grey.ipv4_prefix, 32);
    assert_int_equal(c->grey.ipv6_prefix, 56);
    assert_int_equal(c->grey.auto_whitelist, 0);
    assert_int_equal(c->grey.suspicious_delay, 7200);
    assert_string_equal(c->wl_clients, "");
    assert_false(c->spf_enabled);
    assert_int_equal(c->spf_fail_action, ACT_REJECT);
    assert_false(c->iprev_enabled);
    assert_false(c->iprev_generic);
    assert_false(c->dkim_enabled);
    assert_int_equal(c->dkim_min_key_bits, 2048);
    assert_int_equal(c->dnsbl->n, 2);
    assert_int_equal(c->dnsbl_threshold, 3);
    assert_int_equal(c->dnsbl_action, ACT_REJECT);
    assert_true(cfg_checks_enabled(c));   /* the zones */
    assert_string_equal(c->dns_servers, "127.0.0.1");
    assert_int_equal(c->dns_timeout_ms, 1500);
    cfg_free(c);
}

/* test_values_and_layout - other spellings that are fine */
static void test_values_and_layout(void **state)
{
    struct fixture *f = *state;
    struct cfg *c = load(f,
        "  # indented comment\n"
        "[ greylist ]\n"
        "delay=90s   # trailing comment\n"
        "\tretry_window\t=\t3h\t\n"
        "[milter]\n"
        "trusted_networks =\n"              /* nothing is trusted */
        "socket = local:/run/greyrep.sock\n"
        "socket_mode = 0\n"
        "[store]\n"
        "map_size = 1048576\n"
        "sync_interval = 1h\n"
        "redis_timeout = 1\n"               /* bare number: seconds */
        NO_LISTS);

    if (c == NULL)
        show(&f->rep);
    assert_non_null(c);
    assert_int_equal(c->grey.delay, 90);
    assert_int_equal(c->grey.retry_window, 3 * 3600);
    assert_int_equal(c->ntrusted, 0);
    assert_string_equal(c->socket, "local:/run/greyrep.sock");
    assert_int_equal(c->socket_mode, 0);
    assert_true(c->store.map_size == 1048576);
    assert_int_equal(c->store.sync_interval, 3600);
    assert_int_equal(c->store.redis_timeout_ms, 1000);
    cfg_free(c);

#ifdef HAVE_REDIS
    c = load(f, "[store]\nbackend = redis\n" NO_LISTS);
    assert_non_null(c);
    assert_int_equal(c->store.backend, BACKEND_REDIS);
    cfg_free(c);
#else
    c = load(f, "[store]\nbackend = redis\n" NO_LISTS);
    assert_null(c);
    EXPECT_REPORT(&f->rep, f->conf, 2, "backend");
#endif
}

/* test_bad_values - one bad value a line; each reported at its line */
static void test_bad_values(void **state)
{
    static const struct {
        const char *line;     /* NULL: a section header follows in hdr */
        const char *hdr;
    } t[] = {
        {NULL, "[milter]"},
        {"socket = /run/greyrep.sock", NULL},
        {"socket = tcp:25", NULL},
        {"socket_mode = 0800", NULL},
        {"socket_mode = 1777", NULL},
        {"socket_mode = rw", NULL},
        {"socket_mode = -600", NULL},
        {"on_error = maybe", NULL},
        {"on_error = ACCEPT", NULL},
        {"user = 0123456789012345678901234567890123456789012345678901234567890123", NULL},
        {"trusted_networks = 10.0.0.0/8, nonsense", NULL},
        {"trusted_networks = 10.0.0.0/33", NULL},
        {NULL, "[store]"},
        {"backend = mysql", NULL},
        {"map_size = 512K", NULL},
        {"map_size = 1T", NULL},
        {"map_size = 2048G", NULL},
        {"map_size = lots", NULL},
        {"sync_interval = 2h", NULL},
        {"sweep_interval = 0", NULL},
        {"redis_db = 1001", NULL},
        {"redis_db = -1", NULL},
        {"redis_timeout = 0ms", NULL},
        {"redis_timeout = 2m", NULL},
        {NULL, "[greylist]"},
        {"delay = 5x", NULL},
        {"delay = 500ms", NULL},
        {"delay = 31d", NULL},
        {"delay = -5", NULL},
        {"delay = 5 m", NULL},
        {"retry_window = 0", NULL},
        {"pass_lifetime = ", NULL},
        {"ipv4_prefix = 33", NULL},
        {"ipv6_prefix = 129", NULL},
        {"ipv6_prefix = -1", NULL},
        {"auto_whitelist = many", NULL},
        {"auto_whitelist = 1000001", NULL},
        {"suspicious_delay = 31d", NULL},
        {NULL, "[dns]"},
        {"timeout = 50ms", NULL},
        {"timeout = 11m", NULL},
        {NULL, "[spf]"},
        {"enabled = maybe", NULL},
        {"enabled = 1", NULL},
        {"fail_action = bounce", NULL},
        {NULL, "[iprev]"},
        {"generic_names = YES", NULL},
        {NULL, "[dkim]"},
        {"min_key_bits = 256", NULL},
        {"min_key_bits = 16385", NULL},
        {NULL, "[dnsbl]"},
        {"threshold = 0", NULL},
        {"action = greylist", NULL},
        {"action = none", NULL},
    };
    struct fixture *f = *state;
    char text[16384] = "";
    size_t bad = 0;
    struct cfg *c;

    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        strcat(text, t[i].line ? t[i].line : t[i].hdr);
        strcat(text, "\n");
        bad += t[i].line != NULL;
    }
    strcat(text, NO_LISTS);
    c = load(f, text);
    assert_null(c);
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char key[64];
        if (t[i].line == NULL)
            continue;
        sscanf(t[i].line, "%63s", key);
        strcat(key, ": ");
        EXPECT_REPORT(&f->rep, f->conf, (unsigned)(i + 1), key);
    }
    if (f->rep.n != bad) {
        show(&f->rep);
        fail_msg("%zu reports for %zu bad lines", f->rep.n, bad);
    }
}

/* test_structure_errors - what is wrong with the lines themselves */
static void test_structure_errors(void **state)
{
    struct fixture *f = *state;
    char text[16384], longline[6000];
    struct cfg *c;

    memset(longline, 'x', sizeof longline - 1);
    longline[sizeof longline - 1] = '\0';
    snprintf(text, sizeof text,
             "delay = 5m\n"                 /* 1: outside a section */
             "[greylist]\n"                 /* 2 */
             "delay\n"                      /* 3: no '=' */
             "color = blue\n"               /* 4: unknown key */
             "[nosuch]\n"                   /* 5: unknown section */
             "[greylist\n"                  /* 6: malformed header */
             "[greylist] x\n"               /* 7: malformed header */
             "[greylist]\n"                 /* 8: duplicate section */
             "delay = 1m # %s\n"            /* 9: too long */
             "ipv4_prefix = 99\n"           /* 10: counted after the long line */
             "auto_whitelist = 3\n"         /* 11: fine */
             NO_LISTS,                      /* 12.. */
             longline);
    c = load(f, text);
    assert_null(c);
    EXPECT_REPORT(&f->rep, f->conf, 1, "delay");
    EXPECT_REPORT(&f->rep, f->conf, 3, NULL);
    EXPECT_REPORT(&f->rep, f->conf, 4, "color");
    EXPECT_REPORT(&f->rep, f->conf, 5, "nosuch");
    EXPECT_REPORT(&f->rep, f->conf, 6, "section");
    EXPECT_REPORT(&f->rep, f->conf, 7, "section");
    EXPECT_REPORT(&f->rep, f->conf, 8, "duplicate section [greylist] (first at line 2)");
    EXPECT_REPORT(&f->rep, f->conf, 9, "too long");
    EXPECT_REPORT(&f->rep, f->conf, 10, "ipv4_prefix");
    if (f->rep.n != 9) {
        show(&f->rep);
        fail_msg("%zu reports, want 9", f->rep.n);
    }
}

/* test_admin_mistakes - what an administrator's trial run found `greyrep
 * -n` passing (issue 10): each an error at its line, naming the value */
static void test_admin_mistakes(void **state)
{
    struct fixture *f = *state;
    struct cfg *c;

    /* a directory as the configuration file */
    reports_free(&f->rep);
    c = cfg_load(f->dir, collect, &f->rep);
    assert_null(c);
    EXPECT_REPORT(&f->rep, f->dir, 0, "not a regular file (a directory)");

    c = load(f,
        "[milter]\n"
        "socket = inet:99999@127.0.0.1\n"             /* 2 */
        "user = no-such-user-greyrep\n"               /* 3 */
        "socket_group = no-such-group-greyrep\n"      /* 4 */
        "on_error = tempfail\n"                       /* 5 */
        "on_error = accept\n"                         /* 6: duplicate key */
        "authserv_id = mx example\n"                  /* 7: a space */
        "trusted_networks = 10.0.0.0/8, 300.1.2.3\n"  /* 8 */
        "[greylist]\n"                                /* 9 */
        "ipv4_prefix = 40\n"                          /* 10 */
        "delay = 40d\n"                               /* 11 */
        "[milter]\n"                                  /* 12: duplicate section */
        "pidfile = /run/x.pid\n"                      /* 13 */
        "socket = inet6:0@::1\n"                      /* 14: duplicate key, reported once */
        NO_LISTS);
    assert_null(c);
    EXPECT_REPORT(&f->rep, f->conf, 2, "port 99999 is not a number from 1 to 65535");
    EXPECT_REPORT(&f->rep, f->conf, 3, "no such user no-such-user-greyrep");
    EXPECT_REPORT(&f->rep, f->conf, 4, "no such group no-such-group-greyrep");
    EXPECT_REPORT(&f->rep, f->conf, 6, "duplicate key on_error in [milter] (first at line 5)");
    EXPECT_REPORT(&f->rep, f->conf, 7, "authserv_id: mx example:");
    EXPECT_REPORT(&f->rep, f->conf, 8, "300.1.2.3 is not an IP address or CIDR network");
    EXPECT_REPORT(&f->rep, f->conf, 10, "40 is not a number from 0 to 32");
    EXPECT_REPORT(&f->rep, f->conf, 11, "40d is out of range (0s to 2592000s)");
    EXPECT_REPORT(&f->rep, f->conf, 12, "duplicate section [milter] (first at line 1)");
    if (f->rep.n != 10) {
        show(&f->rep);
        fail_msg("%zu reports, want 10", f->rep.n);
    }
    EXPECT_REPORT(&f->rep, f->conf, 14, "port 0 is not a number from 1 to 65535");

    /* what is fine: ports at the bounds, an authserv-id with '@' (written
     * as a quoted-string), existing names */
    c = load(f, "[milter]\nsocket = inet:65535@127.0.0.1\nauthserv_id = greyrep@mx.example\n"
                "user = nobody\n" NO_LISTS);
    if (c == NULL)
        show(&f->rep);
    assert_non_null(c);
    assert_string_equal(c->authserv_id, "greyrep@mx.example");
    cfg_free(c);
    c = load(f, "[milter]\nsocket = inet:1\n" NO_LISTS);
    assert_non_null(c);
    cfg_free(c);
    c = load(f, "[milter]\nsocket = unix:\n" NO_LISTS);
    assert_null(c);
    EXPECT_REPORT(&f->rep, f->conf, 2, "no socket path");
    /* messages that had no room for the value get it appended */
    c = load(f, "[milter]\non_error = maybe\nsocket_mode = 999\n" NO_LISTS);
    assert_null(c);
    EXPECT_REPORT(&f->rep, f->conf, 2, "on_error: must be accept or tempfail (got \"maybe\")");
    EXPECT_REPORT(&f->rep, f->conf, 3, "(got \"999\")");
}

/* test_unknown_section_keys - keys under an unknown section are reported
 * (at their own lines) and do not land in the previous section */
static void test_unknown_section_keys(void **state)
{
    struct fixture *f = *state;
    struct cfg *c = load(f,
        "[greylist]\n"
        "delay = 1m\n"
        "[greylisting]\n"
        "delay = 2m\n"
        NO_LISTS);
    assert_null(c);
    EXPECT_REPORT(&f->rep, f->conf, 3, "greylisting");
    EXPECT_REPORT(&f->rep, f->conf, 4, "delay");
}

/* test_delay_longer_than_window - a cross-key check */
static void test_delay_longer_than_window(void **state)
{
    struct fixture *f = *state;
    struct cfg *c = load(f, "[greylist]\ndelay = 3d\nretry_window = 2d\n" NO_LISTS);
    assert_null(c);
    assert_int_equal(f->rep.n, 1);
    assert_true(strncmp(f->rep.line[0], f->conf, strlen(f->conf)) == 0);
    assert_non_null(strstr(f->rep.line[0], "retry_window"));

    c = load(f, "[greylist]\nretry_window = 1h\nsuspicious_delay = 2h\n" NO_LISTS);
    assert_null(c);
    assert_int_equal(f->rep.n, 1);
    assert_non_null(strstr(f->rep.line[0], "suspicious_delay"));
}

/* test_missing_file - the configuration itself cannot be read */
static void test_missing_file(void **state)
{
    struct fixture *f = *state;
    char path[PATH_MAX + 64];
    struct cfg *c;

    snprintf(path, sizeof path, "%s/nonexistent.conf", f->dir);
    c = cfg_load(path, collect, &f->rep);
    assert_null(c);
    assert_int_equal(f->rep.n, 1);
    EXPECT_REPORT(&f->rep, path, 0, "cannot open");
}

/* test_whitelist_files - loaded, entries usable */
static void test_whitelist_files(void **state)
{
    struct fixture *f = *state;
    char cl[PATH_MAX + 64], rc[PATH_MAX + 64], se[PATH_MAX + 64], text[4 * PATH_MAX + 512];
    char what[400];
    struct net_addr a;
    struct env_addr e;
    struct cfg *c;

    unit_write(f->dir, "clients", "# networks and hosts\n192.0.2.0/24\n\n"
               "2001:db8::/32   # v6\nmx.partner.example\n.bulk.example\n", cl, sizeof cl);
    unit_write(f->dir, "recipients", "postmaster@\nabuse@example.org\n", rc, sizeof rc);
    unit_write(f->dir, "senders", "@partner.example\nalerts@monitor.example", se, sizeof se);
    snprintf(text, sizeof text, "[whitelist]\nclients = %s\nrecipients = %s\nsenders = %s\n",
             cl, rc, se);
    c = load(f, text);
    if (c == NULL)
        show(&f->rep);
    assert_non_null(c);
    assert_int_equal(wl_count(c->wl), 8);
    assert_int_equal(net_parse("192.0.2.200", &a), 0);
    assert_true(wl_match_client(c->wl, &a, NULL, 0, what, sizeof what));
    assert_int_equal(net_parse("198.51.100.1", &a), 0);
    assert_true(wl_match_client(c->wl, &a, "a.bulk.example", 0, what, sizeof what));
    assert_true(wl_match_client(c->wl, &a, "mx.partner.example", 0, what, sizeof what));
    assert_false(wl_match_client(c->wl, &a, "partner.example", 0, what, sizeof what));
    env_parse("<PostMaster@anything.example>", &e);
    assert_true(wl_match_rcpt(c->wl, &e, 0, what, sizeof what));
    env_parse("<someone@partner.example>", &e);
    assert_true(wl_match_sender(c->wl, &e, 0, what, sizeof what));
    env_parse("<alerts@monitor.example>", &e);
    assert_true(wl_match_sender(c->wl, &e, 0, what, sizeof what));
    /* a sender entry is not a recipient entry */
    assert_false(wl_match_rcpt(c->wl, &e, 0, what, sizeof what));
    cfg_free(c);
}

/* test_whitelist_file_errors - reported as WLFILE:LINE, all of them */
static void test_whitelist_file_errors(void **state)
{
    struct fixture *f = *state;
    char cl[PATH_MAX + 64], se[PATH_MAX + 64], rc[PATH_MAX + 64], text[4 * PATH_MAX + 512];
    char longline[1500];
    struct cfg *c;

    memset(longline, 'a', sizeof longline - 1);
    longline[sizeof longline - 1] = '\0';
    unit_write(f->dir, "clients",
               "# comment\n"            /* 1 */
               "192.0.2.0/24\n"         /* 2 */
               "not a host!\n"          /* 3: bad */
               "\n"                     /* 4 */
               "mail.example.org\n"     /* 5 */
               "10.0.0.0/33\n",         /* 6: bad */
               cl, sizeof cl);
    unit_write(f->dir, "senders", "user@\n@example.org\n", se, sizeof se);
    {
        char body[2000];
        snprintf(body, sizeof body, "postmaster@\n%s\nabuse@\n<x>@y\n", longline);
        unit_write(f->dir, "recipients", body, rc, sizeof rc);
    }
    snprintf(text, sizeof text,
             "[greylist]\ndelay = 1m\n[whitelist]\nclients = %s\nsenders = %s\n"
             "recipients = %s\n", cl, se, rc);
    c = load(f, text);
    assert_null(c);
    EXPECT_REPORT(&f->rep, cl, 3, "not a host!");
    EXPECT_REPORT(&f->rep, cl, 6, "10.0.0.0/33");
    EXPECT_REPORT(&f->rep, se, 1, "user@");
    EXPECT_REPORT(&f->rep, rc, 2, "too long");
    EXPECT_REPORT(&f->rep, rc, 4, "<x>@y");
    if (f->rep.n != 5) {
        show(&f->rep);
        fail_msg("%zu reports, want 5", f->rep.n);
    }
}

/* test_whitelist_missing - a file named explicitly must exist, a default
 * one (compiled in: SYSCONFDIR/greyrep/...) need not */
static void test_whitelist_missing(void **state)
{
    struct fixture *f = *state;
    char path[PATH_MAX + 64], text[2 * PATH_MAX + 512];
    struct cfg *c, *d;

    snprintf(path, sizeof path, "%s/no-such-list", f->dir);
    snprintf(text, sizeof text, "[whitelist]\nrecipients = %s\nclients =\nsenders =\n", path);
    c = load(f, text);
    assert_null(c);
    EXPECT_REPORT(&f->rep, path, 0, "cannot open");
    assert_int_equal(f->rep.n, 1);

    /* the default paths: not named in the file at all */
    d = cfg_defaults();
    if (access(d->wl_clients, F_OK) == 0 || access(d->wl_recipients, F_OK) == 0
        || access(d->wl_senders, F_OK) == 0) {
        print_message("  default whitelist files exist on this host (%s ...): "
                      "cannot test their absence\n", d->wl_clients);
        cfg_free(d);
        skip();
    }
    cfg_free(d);
    c = load(f, "[greylist]\ndelay = 1m\n");
    if (c == NULL)
        show(&f->rep);
    assert_non_null(c);
    assert_int_equal(f->rep.n, 0);
    assert_int_equal(wl_count(c->wl), 0);
    cfg_free(c);
}

/* test_parse_duration - the shared parser, in seconds */
static void test_parse_duration(void **state)
{
    static const struct {
        const char *in;
        int ok;
        unsigned want;
    } t[] = {
        {"0", 1, 0}, {"300", 1, 300}, {"300s", 1, 300}, {"5m", 1, 300},
        {"2h", 1, 7200}, {"2d", 1, 172800}, {"1000ms", 1, 1}, {"0ms", 1, 0},
        {"4294967295", 1, 4294967295u}, {"49710d", 1, 4294944000u},
        {"", 0, 0}, {"m", 0, 0}, {"5 m", 0, 0}, {" 5m", 0, 0}, {"5m ", 0, 0},
        {"-5", 0, 0}, {"+5", 0, 0}, {"5.5m", 0, 0}, {"5M", 0, 0}, {"5w", 0, 0},
        {"1500ms", 0, 0}, {"5mm", 0, 0}, {"0x10", 0, 0},
        {"4294967296", 0, 0}, {"49711d", 0, 0},
        {"99999999999999999999999999999999999999", 0, 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        unsigned v = 12345;
        int rc = cfg_parse_duration(t[i].in, &v);
        if (t[i].ok && (rc != 0 || v != t[i].want))
            fail_msg("cfg_parse_duration(\"%s\"): rc %d, %u; want %u", t[i].in, rc, v,
                     t[i].want);
        if (!t[i].ok && rc != -1)
            fail_msg("cfg_parse_duration(\"%s\") accepted: %u", t[i].in, v);
    }
}

/* test_parse_size - the shared parser, in bytes */
static void test_parse_size(void **state)
{
    static const struct {
        const char *in;
        int ok;
        uint64_t want;
    } t[] = {
        {"0", 1, 0}, {"1", 1, 1}, {"1048576", 1, 1048576}, {"1k", 1, 1024},
        {"1K", 1, 1024}, {"64M", 1, 64ULL << 20}, {"1G", 1, 1ULL << 30},
        {"1099511627776", 1, 1ULL << 40}, {"1024G", 1, 1ULL << 40},
        {"", 0, 0}, {"M", 0, 0}, {"1T", 0, 0}, {"1m", 0, 0}, {"1MB", 0, 0},
        {"1 M", 0, 0}, {"-1", 0, 0}, {"1.5G", 0, 0}, {"1099511627777", 0, 0},
        {"99999999999999999999999999999999999999", 0, 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        uint64_t v = 12345;
        int rc = cfg_parse_size(t[i].in, &v);
        if (t[i].ok && (rc != 0 || v != t[i].want))
            fail_msg("cfg_parse_size(\"%s\"): rc %d, %llu; want %llu", t[i].in, rc,
                     (unsigned long long)v, (unsigned long long)t[i].want);
        if (!t[i].ok && rc != -1)
            fail_msg("cfg_parse_size(\"%s\") accepted: %llu", t[i].in, (unsigned long long)v);
    }
}

/* test_parse_size_overflow - a number times its unit must not wrap around:
 * 17179869185G is 2^64 + 1G bytes, not 1G */
static void test_parse_size_overflow(void **state)
{
    static const char *t[] = {"17179869185G", "17179869184G", "1099511627776G",
                              "17592186044417M", "18014398509481985K"};
    (void)state;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        uint64_t v = 0;
        int rc = cfg_parse_size(t[i], &v);
        if (rc != -1)
            fail_msg("cfg_parse_size(\"%s\") accepted: %llu (wrapped around)", t[i],
                     (unsigned long long)v);
    }
}


/* test_redis_deploy_keys - ACL user and Sentinel keys, and what goes with what */
static void test_redis_deploy_keys(void **state)
{
    struct fixture *f = *state;
    struct cfg *c = load(f,
        "[store]\n"
        "backend = lmdb\n"
        "redis_user = greyrep\n"
        "redis_password = s3cret\n"
        "redis_sentinels = 10.0.0.1:26379, [2001:db8::1]:26380 sentinel3.example\n"
        "redis_master_name = greyrep-main\n"
        "redis_sentinel_password = sent\n"
        NO_LISTS);
    if (c == NULL)
        show(&f->rep);
    assert_non_null(c);
    assert_string_equal(c->store.redis_user, "greyrep");
    assert_string_equal(c->store.redis_sentinels,
                        "10.0.0.1:26379, [2001:db8::1]:26380 sentinel3.example");
    assert_string_equal(c->store.redis_master_name, "greyrep-main");
    assert_string_equal(c->store.redis_sentinel_password, "sent");
    cfg_free(c);

    /* each bad combination names its own line */
    c = load(f,
        "[store]\n"
        "redis = 10.0.0.5:6379\n"                 /* 2 */
        "redis_sentinels = 10.0.0.1:26379\n"      /* 3: no master name, and both */
        "redis_user = greyrep\n"                  /* 4: no password */
        NO_LISTS);
    assert_null(c);
    EXPECT_REPORT(&f->rep, f->conf, 3, "needs redis_master_name");
    EXPECT_REPORT(&f->rep, f->conf, 3, "not both");
    EXPECT_REPORT(&f->rep, f->conf, 4, "needs redis_password");
    assert_int_equal(f->rep.n, 3);

    c = load(f,
        "[store]\n"
        "redis_master_name = m\n"                 /* 2 */
        "redis_sentinel_password = x\n"           /* 3 */
        NO_LISTS);
    assert_null(c);
    EXPECT_REPORT(&f->rep, f->conf, 2, "needs redis_sentinels");
    EXPECT_REPORT(&f->rep, f->conf, 3, "needs redis_sentinels");

#ifdef HAVE_REDIS
    static const char *const bad[] = {
        "::1:26379", "[::1", "[10.0.0.1]:26379", "a:0", "a:65536", "a:", "a:1x",
        "a b c d e f g h i", "a:1,,b:x", "bad/host:1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[512];
        snprintf(text, sizeof text,
                 "[store]\nredis_sentinels = %s\nredis_master_name = m\n" NO_LISTS, bad[i]);
        c = load(f, text);
        if (c != NULL || f->rep.n != 1)
            fail_msg("redis_sentinels = %s: accepted, or %zu reports", bad[i], f->rep.n);
        EXPECT_REPORT(&f->rep, f->conf, 2, "redis_sentinels");
    }
#endif
}
/* test_current - the reference-counted current configuration */
static void test_current(void **state)
{
    struct cfg *a = cfg_defaults(), *b = cfg_defaults(), *held, *now;
    (void)state;

    a->grey.delay = 111;
    b->grey.delay = 222;
    cfg_install(a);
    held = cfg_current();
    assert_ptr_equal(held, a);
    assert_int_equal(held->refs, 2);
    cfg_install(b);                 /* a stays alive for its holder */
    assert_int_equal(held->grey.delay, 111);
    assert_int_equal(held->refs, 1);
    now = cfg_current();
    assert_ptr_equal(now, b);
    assert_int_equal(now->grey.delay, 222);
    cfg_release(now);
    cfg_release(held);              /* frees a (ASan would see a double free) */
    cfg_release(NULL);
    cfg_install(NULL);              /* frees b */
    assert_null(cfg_current());
}

/* test_world_writable - a config or whitelist file anyone may write is
 * refused, naming the file and its mode */
static void test_world_writable(void **state)
{
    struct fixture *f = *state;
    char wl[PATH_MAX + 64], text[PATH_MAX + 256];
    struct cfg *c;

    unit_write(f->dir, "senders", "@partner.example\n", wl, sizeof wl);
    snprintf(text, sizeof text, "[whitelist]\nclients =\nrecipients =\nsenders = %s\n", wl);
    c = load(f, text);
    assert_non_null(c);
    cfg_free(c);
    assert_int_equal(chmod(f->conf, 0666), 0);
    reports_free(&f->rep);
    assert_null(cfg_load(f->conf, collect, &f->rep));
    EXPECT_REPORT(&f->rep, f->conf, 0, "world-writable file (mode 0666)");
    assert_int_equal(chmod(f->conf, 0644), 0);
    assert_int_equal(chmod(wl, 0602), 0);
    reports_free(&f->rep);
    assert_null(cfg_load(f->conf, collect, &f->rep));
    EXPECT_REPORT(&f->rep, wl, 0, "world-writable file (mode 0602)");
    assert_int_equal(chmod(wl, 0664), 0); /* group-writable is the admin's choice */
    reports_free(&f->rep);
    c = cfg_load(f->conf, collect, &f->rep);
    assert_non_null(c);
    cfg_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test_setup_teardown(test_load_minimal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_values_and_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_structure_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_admin_mistakes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_section_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delay_longer_than_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_whitelist_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_whitelist_file_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_whitelist_missing, setup, teardown),
        cmocka_unit_test(test_parse_duration),
        cmocka_unit_test(test_parse_size),
        cmocka_unit_test(test_parse_size_overflow),
        cmocka_unit_test(test_current),
        cmocka_unit_test_setup_teardown(test_world_writable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redis_deploy_keys, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
