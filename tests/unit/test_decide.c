/*
 * NAME
 *   test_decide - unit tests of decide.c with a real LMDB store
 * DESCRIPTION
 *   decide_rcpt() with a configuration from cfg_defaults() and an LMDB
 *   store in a scratch directory, the clock passed in: trusted networks,
 *   authenticated sessions, static and admin whitelists (the admin list is
 *   re-read after decide_admin_bump()), the greylisting life of a triplet,
 *   the client auto-whitelist, dry runs that write nothing, and no store at
 *   all (on_error).  Also the keys: long and oversized addresses.
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
#include "decide.h"
#include "log.h"
#include "record.h"
#include "store.h"
#include "whitelist.h"
#include "unit_util.h"

#define NOW ((time_t)1700000000)
#define HOUR 3600

struct fixture {
    char dir[PATH_MAX];
    struct cfg *cfg;
    struct store *st;
    struct decider *d;          /* over st */
    struct decider *nostore;    /* with no store at all */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct cfg_store cs;
    char err[512] = "";

    if (f == NULL)
        return -1;
    unit_tmpdir(f->dir, sizeof f->dir);
    f->cfg = cfg_defaults();
    cs = f->cfg->store;
    cs.backend = BACKEND_LMDB;
    if ((size_t)snprintf(cs.path, sizeof cs.path, "%s/db", f->dir) >= sizeof cs.path)
        return -1;
    cs.map_size = 1 << 20;
    cs.sync_interval = 1;
    f->st = store_open(&cs, err, sizeof err);
    if (f->st == NULL) {
        fprintf(stderr, "store_open: %s\n", err);
        return -1;
    }
    f->d = decider_new(f->st);
    f->nostore = decider_new(NULL);
    if (f->d == NULL || f->nostore == NULL)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    decider_free(f->d);
    decider_free(f->nostore);
    store_close(f->st);
    cfg_free(f->cfg);
    unit_rmtree(f->dir);
    free(f);
    return 0;
}

/* one decision's inputs, parsed */
struct msg {
    struct net_addr client;
    struct env_addr sender, rcpt;
    struct msg_facts facts;
    struct decide_input in;
};

/* msg - fill m from text; client NULL for a local connection */
static struct decide_input *msg(struct msg *m, const char *client, const char *sender,
                                const char *rcpt)
{
    memset(m, 0, sizeof *m);
    if (client != NULL) {
        if (net_parse(client, &m->client) != 0)
            fail_msg("bad client %s in a test", client);
        m->facts.client_ip = 1;
        m->facts.client = m->client;
    }
    m->in.facts = &m->facts;
    env_parse(sender, &m->sender);
    env_parse(rcpt, &m->rcpt);
    m->in.sender = &m->sender;
    m->in.rcpt = &m->rcpt;
    return &m->in;
}

/* decide - one decision, the verdict returned */
static struct verdict decide(struct fixture *f, const char *client, const char *sender,
                             const char *rcpt, time_t now, int dry_run)
{
    struct msg m;
    struct verdict v;
    decide_rcpt(f->d, f->cfg, msg(&m, client, sender, rcpt), now, dry_run, &v, NULL, 0);
    return v;
}

static int count_fn(void *arg, const char *key, size_t klen, const void *val, size_t vlen,
                    time_t expires)
{
    (void)key;
    (void)klen;
    (void)val;
    (void)vlen;
    (void)expires;
    (*(size_t *)arg)++;
    return 0;
}

/* records - live records under a prefix */
static size_t records(struct fixture *f, const char *prefix)
{
    size_t n = 0;
    assert_int_equal(store_iterate(f->st, prefix, NOW, count_fn, &n), STORE_OK);
    return n;
}

#define EXPECT(v, act, rsn)                                                     \
    do {                                                                        \
        if ((v).action != (act) || (v).reason != (rsn))                        \
            fail_msg("verdict %s/%s (%s), want %s/%s",                          \
                     (v).action == V_ACCEPT ? "accept" : "tempfail",            \
                     policy_reason_name((v).reason), (v).why,                   \
                     (act) == V_ACCEPT ? "accept" : "tempfail",                 \
                     policy_reason_name(rsn));                                  \
    } while (0)

static void test_trusted(void **state)
{
    struct fixture *f = *state;
    struct verdict v;
    struct msg m;
    struct net_cidr *t;

    v = decide(f, "127.0.0.1", "<a@example.org>", "<b@example.net>", NOW, 0);
    EXPECT(v, V_ACCEPT, R_TRUSTED);
    v = decide(f, "127.45.6.7", "<a@example.org>", "<b@example.net>", NOW, 0);
    EXPECT(v, V_ACCEPT, R_TRUSTED);
    v = decide(f, "::1", "<a@example.org>", "<b@example.net>", NOW, 0);
    EXPECT(v, V_ACCEPT, R_TRUSTED);
    v = decide(f, "::ffff:127.0.0.1", "<a@example.org>", "<b@example.net>", NOW, 0);
    EXPECT(v, V_ACCEPT, R_TRUSTED);
    /* not an IP connection */
    decide_rcpt(f->d, f->cfg, msg(&m, NULL, "<a@example.org>", "<b@example.net>"), NOW, 0,
                &v, NULL, 0);
    EXPECT(v, V_ACCEPT, R_TRUSTED);
    /* a network added to trusted_networks */
    t = realloc(f->cfg->trusted, (f->cfg->ntrusted + 1) * sizeof *t);
    assert_non_null(t);
    f->cfg->trusted = t;
    assert_int_equal(net_parse_cidr("192.0.2.0/24", &t[f->cfg->ntrusted++]), 0);
    v = decide(f, "192.0.2.99", "<a@example.org>", "<b@example.net>", NOW, 0);
    EXPECT(v, V_ACCEPT, R_TRUSTED);
    /* nothing decided from the store: nothing written */
    assert_int_equal(records(f, ""), 0);
    v = decide(f, "192.0.3.1", "<a@example.org>", "<b@example.net>", NOW, 0);
    EXPECT(v, V_TEMPFAIL, R_GREY_NEW);
}

static void test_authenticated(void **state)
{
    struct fixture *f = *state;
    struct msg m;
    struct verdict v;

    msg(&m, "198.51.100.1", "<a@example.org>", "<b@example.net>")->authenticated = 1;
    decide_rcpt(f->d, f->cfg, &m.in, NOW, 0, &v, NULL, 0);
    EXPECT(v, V_ACCEPT, R_AUTH);
    assert_int_equal(records(f, "t|"), 0);
    m.in.authenticated = 0;
    decide_rcpt(f->d, f->cfg, &m.in, NOW, 0, &v, NULL, 0);
    EXPECT(v, V_TEMPFAIL, R_GREY_NEW);
}

static void test_static_whitelist(void **state)
{
    static const struct {
        const char *client, *host, *sender, *rcpt, *what;
    } t[] = {
        {"203.0.113.9", NULL, "<a@example.org>", "<b@example.net>", "ip 203.0.113.0/24"},
        {"198.51.100.1", "mx1.partner.example", "<a@example.org>", "<b@example.net>",
         "host .partner.example"},
        {"198.51.100.1", NULL, "<Anyone@Friends.Example>", "<b@example.net>",
         "sender @friends.example"},
        {"198.51.100.1", NULL, "<a@example.org>", "<PostMaster@example.net>",
         "rcpt postmaster@"},
    };
    struct fixture *f = *state;
    const char *why;

    assert_int_equal(wl_add(f->cfg->wl, WL_IP, "203.0.113.0/24", 0, &why), 0);
    assert_int_equal(wl_add(f->cfg->wl, WL_HOST, ".partner.example", 0, &why), 0);
    assert_int_equal(wl_add(f->cfg->wl, WL_SENDER, "@friends.example", 0, &why), 0);
    assert_int_equal(wl_add(f->cfg->wl, WL_RCPT, "postmaster@", 0, &why), 0);
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct msg m;
        struct verdict v;
        msg(&m, t[i].client, t[i].sender, t[i].rcpt)->verified_host = t[i].host;
        decide_rcpt(f->d, f->cfg, &m.in, NOW, 0, &v, NULL, 0);
        EXPECT(v, V_ACCEPT, R_WHITELIST);
        if (strstr(v.why, t[i].what) == NULL)
            fail_msg("case %zu: \"%s\" does not name %s", i, v.why, t[i].what);
        assert_null(strstr(v.why, "(admin)"));
    }
    assert_int_equal(records(f, "t|"), 0);
    /* an unverified host name does not count (the MTA passes NULL then) */
    {
        struct verdict v = decide(f, "198.51.100.1", "<a@example.org>", "<b@example.net>",
                                  NOW, 0);
        EXPECT(v, V_TEMPFAIL, R_GREY_NEW);
    }
}

/* put_admin - what greyrepctl whitelist add does */
static void put_admin(struct fixture *f, const char *key, time_t expires)
{
    struct rec_wl w;
    unsigned char buf[REC_MAX];
    size_t n;

    memset(&w, 0, sizeof w);
    w.added = (uint64_t)NOW;
    snprintf(w.comment, sizeof w.comment, "test entry");
    n = rec_wl_encode(&w, buf);
    assert_int_equal(store_put(f->st, key, buf, n, expires), STORE_OK);
}

static void test_admin_whitelist(void **state)
{
    struct fixture *f = *state;
    struct verdict v;

    /* a first decision loads the (empty) admin list */
    v = decide(f, "198.51.100.1", "<boss@corp.example>", "<b@example.net>", NOW, 0);
    EXPECT(v, V_TEMPFAIL, R_GREY_NEW);

    put_admin(f, "w|sender|boss@corp.example", 0);
    put_admin(f, "w|ip|192.0.2.0/24", NOW + 100);
    put_admin(f, "w|rcpt|@open.example", 0);
    put_admin(f, "w|bogus|entry", 0);          /* ignored, with a warning */
    put_admin(f, "w|sender|not an address", 0);
    assert_int_equal(decide_admin_bump(f->st), STORE_OK);

    v = decide(f, "198.51.100.1", "<boss@corp.example>", "<b@example.net>", NOW + 1, 0);
    EXPECT(v, V_ACCEPT, R_WHITELIST);
    assert_non_null(strstr(v.why, "boss@corp.example"));
    assert_non_null(strstr(v.why, "(admin)"));
    v = decide(f, "198.51.100.1", "<x@example.org>", "<anyone@open.example>", NOW + 1, 0);
    EXPECT(v, V_ACCEPT, R_WHITELIST);
    /* an entry with an expiry: until then, not after */
    v = decide(f, "192.0.2.7", "<x@example.org>", "<b@example.net>", NOW + 99, 0);
    EXPECT(v, V_ACCEPT, R_WHITELIST);
    v = decide(f, "192.0.2.7", "<x@example.org>", "<b@example.net>", NOW + 100, 0);
    EXPECT(v, V_TEMPFAIL, R_GREY_NEW);

    /* removed, bumped: gone at the next decision */
    assert_int_equal(store_del(f->st, "w|sender|boss@corp.example"), STORE_OK);
    assert_int_equal(decide_admin_bump(f->st), STORE_OK);
    v = decide(f, "198.51.100.1", "<boss@corp.example>", "<b@example.net>", NOW + 2, 0);
    assert_int_equal(v.reason, R_GREY_EARLY);
}

static void test_greylist_flow(void **state)
{
    struct fixture *f = *state;
    const char *c = "198.51.100.20", *s = "<sender@example.org>", *r = "<rcpt@example.net>";
    struct verdict v;
    unsigned delay = f->cfg->grey.delay;

    v = decide(f, c, s, r, NOW, 0);
    EXPECT(v, V_TEMPFAIL, R_GREY_NEW);
    assert_int_equal(v.remaining, delay);
    assert_int_equal(records(f, "t|"), 1);
    assert_int_equal(records(f, "c|"), 0);   /* a client counts only its passes */

    v = decide(f, c, s, r, NOW + 100, 0);
    EXPECT(v, V_TEMPFAIL, R_GREY_EARLY);
    assert_int_equal(v.remaining, delay - 100);
    v = decide(f, c, s, r, NOW + delay - 1, 0);
    EXPECT(v, V_TEMPFAIL, R_GREY_EARLY);
    assert_int_equal(v.remaining, 1);

    v = decide(f, c, s, r, NOW + delay, 0);
    EXPECT(v, V_ACCEPT, R_GREY_PASSED);
    assert_int_equal(v.delayed, delay);
    assert_int_equal(records(f, "c|"), 1);
    v = decide(f, c, s, r, NOW + delay + 60, 0);
    EXPECT(v, V_ACCEPT, R_GREY_KNOWN);

    /* the same sender from another address of the same /24: the same triplet */
    v = decide(f, "198.51.100.200", s, r, NOW + delay + 61, 0);
    EXPECT(v, V_ACCEPT, R_GREY_KNOWN);
    /* the sender's other spellings: the same triplet */
    v = decide(f, c, "<Sender+news@EXAMPLE.org>", r, NOW + delay + 62, 0);
    EXPECT(v, V_ACCEPT, R_GREY_KNOWN);
    /* another network, recipient or sender: a new triplet */
    v = decide(f, "198.51.101.20", s, r, NOW + delay + 63, 0);
    EXPECT(v, V_TEMPFAIL, R_GREY_NEW);
    v = decide(f, c, s, "<other@example.net>", NOW + delay + 64, 0);
    EXPECT(v, V_TEMPFAIL, R_GREY_NEW);
    v = decide(f, c, "<other@example.org>", r, NOW + delay + 65, 0);
    EXPECT(v, V_TEMPFAIL, R_GREY_NEW);
    /* the null sender is greylisted like any other */
    v = decide(f, c, "<>", r, NOW, 0);
    EXPECT(v, V_TEMPFAIL, R_GREY_NEW);
    v = decide(f, c, "<>", r, NOW + delay, 0);
    EXPECT(v, V_ACCEPT, R_GREY_PASSED);

    /* IPv6 clients share their /64 */
    v = decide(f, "2001:db8:1:2::10", s, r, NOW, 0);
    EXPECT(v, V_TEMPFAIL, R_GREY_NEW);
    v = decide(f, "2001:db8:1:2::99", s, r, NOW + delay, 0);
    EXPECT(v, V_ACCEPT, R_GREY_PASSED);
    v = decide(f, "2001:db8:1:3::10", s, r, NOW + delay, 0);
    EXPECT(v, V_TEMPFAIL, R_GREY_NEW);

    /* a retry too late starts over */
    v = decide(f, "203.0.113.5", s, r, NOW, 0);
    EXPECT(v, V_TEMPFAIL, R_GREY_NEW);
    v = decide(f, "203.0.113.5", s, r, NOW + f->cfg->grey.retry_window + 1, 0);
    EXPECT(v, V_TEMPFAIL, R_GREY_NEW);
}

static void test_dry_run(void **state)
{
    struct fixture *f = *state;
    const char *c = "198.51.100.30", *s = "<sender@example.org>", *r = "<rcpt@example.net>";
    struct verdict v;
    unsigned delay = f->cfg->grey.delay;

    v = decide(f, c, s, r, NOW, 1);
    EXPECT(v, V_TEMPFAIL, R_GREY_NEW);
    assert_int_equal(v.remaining, delay);
    assert_int_equal(records(f, ""), 0);
    v = decide(f, c, s, r, NOW + 10, 1);
    EXPECT(v, V_TEMPFAIL, R_GREY_NEW);      /* still new: nothing was written */

    v = decide(f, c, s, r, NOW, 0);
    EXPECT(v, V_TEMPFAIL, R_GREY_NEW);
    v = decide(f, c, s, r, NOW + delay, 1);   /* would pass ... */
    EXPECT(v, V_ACCEPT, R_GREY_PASSED);
    v = decide(f, c, s, r, NOW + delay + 1, 1);   /* ... and still would */
    EXPECT(v, V_ACCEPT, R_GREY_PASSED);
    assert_int_equal(records(f, "c|"), 0);
    v = decide(f, c, s, r, NOW + 100, 0);     /* the record is still pending */
    EXPECT(v, V_TEMPFAIL, R_GREY_EARLY);
    assert_int_equal(v.remaining, delay - 100);
}

static void test_passes_after_delay(void **state)
{
    struct fixture *f = *state;
    struct verdict v;

    /* a shorter delay from the configuration, the time from the parameter */
    f->cfg->grey.delay = 60;
    v = decide(f, "198.51.100.40", "<s@example.org>", "<r@example.net>", NOW, 0);
    EXPECT(v, V_TEMPFAIL, R_GREY_NEW);
    assert_int_equal(v.remaining, 60);
    v = decide(f, "198.51.100.40", "<s@example.org>", "<r@example.net>", NOW + 59, 0);
    EXPECT(v, V_TEMPFAIL, R_GREY_EARLY);
    v = decide(f, "198.51.100.40", "<s@example.org>", "<r@example.net>", NOW + 60, 0);
    EXPECT(v, V_ACCEPT, R_GREY_PASSED);
    assert_int_equal(v.delayed, 60);
    /* delay 0: the first attempt passes */
    f->cfg->grey.delay = 0;
    v = decide(f, "198.51.100.40", "<s@example.org>", "<new@example.net>", NOW, 0);
    EXPECT(v, V_ACCEPT, R_GREY_PASSED);
}

static void test_auto_whitelist(void **state)
{
    struct fixture *f = *state;
    const char *c = "198.51.100.50", *s = "<s@example.org>", *r = "<r@example.net>";
    unsigned delay = f->cfg->grey.delay;
    struct verdict v;
    time_t t = NOW;

    v = decide(f, c, s, r, t, 0);
    EXPECT(v, V_TEMPFAIL, R_GREY_NEW);
    t += delay;
    v = decide(f, c, s, r, t, 0);              /* pass 1 */
    EXPECT(v, V_ACCEPT, R_GREY_PASSED);
    for (int i = 0; i < 10; i++) {             /* the same hour: counted once */
        v = decide(f, c, s, r, t + i, 0);
        EXPECT(v, V_ACCEPT, R_GREY_KNOWN);
    }
    v = decide(f, c, "<other@example.org>", r, t + 30, 0);
    EXPECT(v, V_TEMPFAIL, R_GREY_NEW);
    for (int h = 1; h < 5; h++) {              /* passes 2..5, an hour apart */
        v = decide(f, c, s, r, t + h * HOUR, 0);
        EXPECT(v, V_ACCEPT, R_GREY_KNOWN);
    }
    t += 4 * HOUR;
    /* now any triplet of this client passes at once */
    v = decide(f, c, "<stranger@example.com>", "<x@example.net>", t + 1, 0);
    EXPECT(v, V_ACCEPT, R_AUTO);
    /* a neighbour in the same /24 is not the client */
    v = decide(f, "198.51.100.51", "<stranger@example.com>", "<x@example.net>", t + 1, 0);
    EXPECT(v, V_TEMPFAIL, R_GREY_NEW);
    /* after pass_lifetime without a pass it ends */
    v = decide(f, c, "<late@example.com>", "<x@example.net>",
               t + 1 + f->cfg->grey.pass_lifetime + 1, 0);
    EXPECT(v, V_TEMPFAIL, R_GREY_NEW);
    /* off: never */
    f->cfg->grey.auto_whitelist = 0;
    v = decide(f, c, "<strangertoo@example.com>", "<x@example.net>", t + 2, 0);
    EXPECT(v, V_TEMPFAIL, R_GREY_NEW);
}

static void test_no_store(void **state)
{
    struct fixture *f = *state;
    struct msg m;
    struct verdict v;
    const char *why;

    f->cfg->on_error = ON_ERROR_ACCEPT;
    decide_rcpt(f->nostore, f->cfg, msg(&m, "198.51.100.60", "<s@example.org>", "<r@example.net>"),
                NOW, 0, &v, NULL, 0);
    EXPECT(v, V_ACCEPT, R_ERROR);
    f->cfg->on_error = ON_ERROR_TEMPFAIL;
    decide_rcpt(f->nostore, f->cfg, &m.in, NOW, 0, &v, NULL, 0);
    EXPECT(v, V_TEMPFAIL, R_ERROR);
    assert_true(v.why[0] != '\0');
    /* what needs no store still works without one */
    decide_rcpt(f->nostore, f->cfg, msg(&m, "127.0.0.1", "<s@example.org>", "<r@example.net>"),
                NOW, 0, &v, NULL, 0);
    EXPECT(v, V_ACCEPT, R_TRUSTED);
    assert_int_equal(wl_add(f->cfg->wl, WL_SENDER, "@example.org", 0, &why), 0);
    decide_rcpt(f->nostore, f->cfg, msg(&m, "198.51.100.60", "<s@example.org>", "<r@example.net>"),
                NOW, 0, &v, NULL, 0);
    EXPECT(v, V_ACCEPT, R_WHITELIST);
}

static void test_explain(void **state)
{
    struct fixture *f = *state;
    struct msg m;
    struct verdict v;
    char explain[2048], tiny[24];

    decide_rcpt(f->d, f->cfg, msg(&m, "198.51.100.70", "<s@example.org>", "<r@example.net>"),
                NOW, 1, &v, explain, sizeof explain);
    EXPECT(v, V_TEMPFAIL, R_GREY_NEW);
    assert_non_null(strstr(explain, "198.51.100.70"));
    assert_non_null(strstr(explain, "not in trusted_networks"));
    assert_non_null(strstr(explain, "authentication: none"));
    assert_non_null(strstr(explain, "s@example.org"));
    assert_true(explain[strlen(explain) - 1] == '\n');
    decide_rcpt(f->d, f->cfg, msg(&m, "127.0.0.1", "<s@example.org>", "<r@example.net>"),
                NOW, 1, &v, explain, sizeof explain);
    assert_non_null(strstr(explain, "in trusted_networks"));
    assert_non_null(strstr(explain, "verdict:"));
    /* a small buffer is filled, never overrun */
    memset(tiny, 'X', sizeof tiny);
    decide_rcpt(f->d, f->cfg, msg(&m, "198.51.100.70", "<s@example.org>", "<r@example.net>"),
                NOW, 1, &v, tiny, sizeof tiny - 4);
    assert_true(strlen(tiny) < sizeof tiny - 4);
    assert_memory_equal(tiny + sizeof tiny - 4, "XXXX", 4);
    assert_int_equal(records(f, ""), 0);
}

static void test_odd_addresses(void **state)
{
    static const char *senders[] = {
        "<>", "", "<<>>", "<a@b", "<\"a b|c\"@x.example>", "<@r1,@r2:u@d.example>",
        "<j\xc3\xb6rg@example.org>", "<a\x01@x.example>", "<user@[IPv6:2001:db8::1]>",
    };
    struct fixture *f = *state;
    struct verdict v;
    struct msg m;

    for (size_t i = 0; i < sizeof senders / sizeof senders[0]; i++) {
        char rcpt[64];
        /* a recipient of its own: "" is "<>", and "<<>>" may well be too */
        snprintf(rcpt, sizeof rcpt, "<r%zu@example.net>", i);
        v = decide(f, "198.51.100.80", senders[i], rcpt, NOW, 0);
        if (v.reason != R_GREY_NEW)
            fail_msg("sender \"%s\": %s (%s)", senders[i], policy_reason_name(v.reason), v.why);
        v = decide(f, "198.51.100.80", senders[i], rcpt, NOW + 600, 0);
        if (v.reason != R_GREY_PASSED)
            fail_msg("sender \"%s\" retried: %s (%s)", senders[i],
                     policy_reason_name(v.reason), v.why);
    }
    /* a NULL argument (never from an MTA, but possible) */
    msg(&m, "198.51.100.80", "<s@example.org>", "<r@example.net>");
    env_parse(NULL, &m.sender);
    decide_rcpt(f->d, f->cfg, &m.in, NOW, 0, &v, NULL, 0);
    assert_int_equal(v.action, V_TEMPFAIL);
}

/* long_addr - "<" + nlocal * l + "@" + a domain of ndomain bytes + ">" into
 * s (static storage of the caller: a failed assertion must not leak) */
static char *long_addr(char *s, size_t size, size_t nlocal, char l, size_t ndomain)
{
    size_t o = 0;

    assert_true(nlocal + ndomain + 8 <= size);
    s[o++] = '<';
    memset(s + o, l, nlocal);
    o += nlocal;
    s[o++] = '@';
    /* labels of 49 letters and a dot, ending in ".example" */
    for (size_t d = 0; d + 8 < ndomain; d++)
        s[o++] = (d % 50 == 49) ? '.' : 'd';
    memcpy(s + o, ".example", 8);
    o += 8;
    s[o++] = '>';
    s[o] = '\0';
    return s;
}

/* test_long_valid_addresses - addresses at the RFC 5321 limits (64-byte
 * local part, 250-byte domain) are greylisted like any other: their triplet
 * key must be storable, not an error answered with on_error (whose default,
 * accept, would let anyone skip greylisting with long addresses) */
static void test_long_valid_addresses(void **state)
{
    struct fixture *f = *state;
    static char sbuf[400], rbuf[400];
    char *s = long_addr(sbuf, sizeof sbuf, 64, 's', 250);
    char *r = long_addr(rbuf, sizeof rbuf, 64, 'r', 250);
    struct verdict v;
    struct msg m;

    msg(&m, "198.51.100.90", s, r);
    assert_false(m.sender.flags & (ENV_OVERSIZED | ENV_MALFORMED));
    assert_false(m.rcpt.flags & (ENV_OVERSIZED | ENV_MALFORMED));
    f->cfg->on_error = ON_ERROR_ACCEPT;
    v = decide(f, "198.51.100.90", s, r, NOW, 0);
    EXPECT(v, V_TEMPFAIL, R_GREY_NEW);
    v = decide(f, "198.51.100.90", s, r, NOW + f->cfg->grey.delay, 0);
    EXPECT(v, V_ACCEPT, R_GREY_PASSED);
}

/* test_oversized_keys - two oversized recipients that differ only beyond
 * the cut have different keys (the #HASH suffix), even behind an oversized
 * sender: the triplet key must not lose the end of its last part */
static void test_oversized_keys(void **state)
{
    struct fixture *f = *state;
    static char sbuf[16100], r1buf[16100], r2buf[16100];
    char *s = long_addr(sbuf, sizeof sbuf, 8000, 's', 8000);
    char *r1 = long_addr(r1buf, sizeof r1buf, 8000, 'r', 8000);
    char *r2 = long_addr(r2buf, sizeof r2buf, 8000, 'r', 8000);
    char k1[STORE_MAX_KEY], k2[STORE_MAX_KEY], k3[STORE_MAX_KEY];
    struct msg m1, m2;

    r2[7000] = 'x';
    msg(&m1, "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff", s, r1);
    msg(&m2, "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff", s, r2);
    assert_true(m1.rcpt.flags & ENV_OVERSIZED);
    decide_triplet_key(f->cfg, &m1.client, NULL, &m1.sender, &m1.rcpt, k1, sizeof k1);
    decide_triplet_key(f->cfg, &m2.client, NULL, &m2.sender, &m2.rcpt, k2, sizeof k2);
    decide_triplet_key(f->cfg, &m1.client, NULL, &m1.sender, &m1.rcpt, k3, sizeof k3);
    assert_string_equal(k1, k3);
    assert_true(strlen(k1) < STORE_MAX_KEY);
    if (strcmp(k1, k2) == 0)
        fail_msg("two different recipients share the triplet key (%zu bytes, cut?)",
                 strlen(k1));
}

/* verp_keys - in a child: normalisation of digit runs has crashed before */
static int verp_keys(void *arg)
{
    struct cfg *cfg = arg;
    struct msg a, b;
    char k1[STORE_MAX_KEY], k2[STORE_MAX_KEY];

    msg(&a, "198.51.100.1", "<bounce-12345-678@list.example>", "<r@example.net>");
    msg(&b, "198.51.100.1", "<bounce-99-1@list.example>", "<r@example.net>");
    decide_triplet_key(cfg, &a.client, NULL, &a.sender, &a.rcpt, k1, sizeof k1);
    decide_triplet_key(cfg, &b.client, NULL, &b.sender, &b.rcpt, k2, sizeof k2);
    if (strcmp(k1, k2) != 0) {
        fprintf(stderr, "VERP senders: %s vs %s\n", k1, k2);
        return 1;
    }
    return 0;
}

/* test_verp_senders - two bounces of one list share one triplet */
static void test_verp_senders(void **state)
{
    struct fixture *f = *state;
    char why[128];
    if (unit_isolated(verp_keys, f->cfg, why, sizeof why) != NULL)
        fail_msg("VERP sender keys: %s", why);
}

static void test_keys(void **state)
{
    struct fixture *f = *state;
    struct msg m;
    char key[STORE_MAX_KEY];

    msg(&m, "198.51.100.77", "<Sender+tag@Example.ORG>", "<Rcpt@Example.NET>");
    decide_triplet_key(f->cfg, &m.client, NULL, &m.sender, &m.rcpt, key, sizeof key);
    assert_string_equal(key, "t|198.51.100.0/24|sender@example.org|rcpt@example.net");
    decide_client_key(&m.client, key, sizeof key);
    assert_string_equal(key, "c|198.51.100.77");
    msg(&m, "2001:db8:1:2:3:4:5:6", "<>", "<a|b@example.net>");
    decide_triplet_key(f->cfg, &m.client, NULL, &m.sender, &m.rcpt, key, sizeof key);
    assert_string_equal(key, "t|2001:db8:1:2::/64|<>|a%7Cb@example.net");
    decide_client_key(&m.client, key, sizeof key);
    assert_string_equal(key, "c|2001:db8:1:2:3:4:5:6");
    /* an SPF-validated domain replaces the network, escaped like any part */
    msg(&m, "198.51.100.77", "<sender@example.org>", "<rcpt@example.net>");
    decide_triplet_key(f->cfg, &m.client, "example.org", &m.sender, &m.rcpt, key, sizeof key);
    assert_string_equal(key, "t|spf:example.org|sender@example.org|rcpt@example.net");
    decide_triplet_key(f->cfg, &m.client, "a|b c", &m.sender, &m.rcpt, key, sizeof key);
    assert_string_equal(key, "t|spf:a%7Cb%20c|sender@example.org|rcpt@example.net");
}

/* test_counters - every decision that is not a dry run is counted once,
 * store failures (on_error) also as errors */
static void test_counters(void **state)
{
    struct fixture *f = *state;
    struct decide_counters a, b;
    struct msg m;
    struct verdict v;

    decider_counters(f->d, &a);
    assert_true(a.accepted == 0 && a.tempfailed == 0 && a.rejected == 0 && a.errors == 0);
    decide(f, "198.51.100.90", "<s@example.org>", "<r@example.net>", NOW, 0);   /* new */
    decide(f, "198.51.100.90", "<s@example.org>", "<r@example.net>", NOW + 1, 0); /* early */
    decide(f, "198.51.100.90", "<s@example.org>", "<r@example.net>", NOW + 600, 0);
    decide(f, "127.0.0.1", "<s@example.org>", "<r@example.net>", NOW, 0);
    decide(f, "198.51.100.91", "<s@example.org>", "<r@example.net>", NOW, 1);   /* dry run */
    decider_counters(f->d, &b);
    assert_int_equal(b.tempfailed, 2);
    assert_int_equal(b.accepted, 2);
    assert_int_equal(b.rejected, 0);
    assert_int_equal(b.errors, 0);
    f->cfg->on_error = ON_ERROR_TEMPFAIL;
    decide_rcpt(f->nostore, f->cfg, msg(&m, "198.51.100.92", "<s@example.org>",
                                        "<r@example.net>"), NOW, 0, &v, NULL, 0);
    EXPECT(v, V_TEMPFAIL, R_ERROR);
    decider_counters(f->nostore, &b);
    assert_int_equal(b.tempfailed, 1);
    assert_int_equal(b.errors, 1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_trusted),
        T(test_authenticated),
        T(test_static_whitelist),
        T(test_admin_whitelist),
        T(test_greylist_flow),
        T(test_dry_run),
        T(test_passes_after_delay),
        T(test_auto_whitelist),
        T(test_no_store),
        T(test_explain),
        T(test_odd_addresses),
        T(test_long_valid_addresses),
        T(test_oversized_keys),
        T(test_verp_senders),
        T(test_keys),
        T(test_counters),
    };
    log_open("test_decide", 1, 0);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
