/*
 * NAME
 *   greyrepctl - administer greyrep's store while greyrep runs
 * SYNOPSIS
 *   greyrepctl [-c FILE] COMMAND ...
 * DESCRIPTION
 *   Works on the same store as the daemon (LMDB allows several processes;
 *   Redis is shared by design).  Admin whitelist changes bump the stamp
 *   "v|whitelist", which makes every running greyrep reload its mirror of
 *   the admin entries at its next decision.  Text output is one record a
 *   line, tab-separated, in the field order documented in greyrepctl(8);
 *   --json prints one object a line.
 * EXIT STATUS
 *   0 success; 1 refused or failed (bad input, store failure); 2 usage;
 *   check: 0 would accept, 3 would tempfail, 4 would reject.
 */
#include "autoconf.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "config.h"
#include "ctl_json.h"
#include "ctl_load.h"
#include "decide.h"
#include "envaddr.h"
#include "greylist.h"
#include "log.h"
#include "record.h"
#include "store.h"
#include "util.h"
#include "whitelist.h"

struct opts {
    int json;
    const char *ttl, *comment, *ip, *from, *rcpt, *helo, *host;
    char *args[8];
    int nargs;
};

/* usage_text - the synopsis, to fp */
static void usage_text(FILE *fp)
{
    fprintf(fp,
            "usage: greyrepctl [-c FILE] COMMAND ...\n"
            "       greyrepctl -V | --version | -h | --help\n"
            "  whitelist add TYPE VALUE [--ttl DURATION] [--comment TEXT]\n"
            "  whitelist del TYPE VALUE\n"
            "  whitelist list [--json]\n"
            "  greylist list [--json]\n"
            "  greylist del IP SENDER RCPT\n"
            "  check --ip IP --from SENDER --rcpt RCPT [--helo NAME] [--host NAME] [--json]\n"
            "  stats [--json]\n"
            "  dump\n"
            "  load FILE|-\n"
            "  del KEY          (a raw key, as dump prints it)\n"
            "  expire\n"
            "TYPE is ip, host, sender or rcpt\n");
}

/* usage - the synopsis on stderr, exit 2 */
static void usage(void)
{
    usage_text(stderr);
    exit(2);
}

/* usage_error - one line that names the mistake, exit 2 */
static void usage_error(const char *command, const char *what, const char *arg)
{
    fprintf(stderr, "greyrepctl: %s%s%s%s (greyrepctl --help for the usage)\n",
            command ? command : "", command ? ": " : "", what, arg ? arg : "");
    exit(2);
}

/* missing - a usage error that names what is missing */
static void missing(const char *what, const char *command)
{
    usage_error(command, "missing ", what);
}

/* want_args - exactly n verb arguments, named in names[] */
static void want_args(int nargs, int n, const char *const *names, const char *command)
{
    if (nargs < n)
        missing(names[nargs], command);
    if (nargs > n)
        usage_error(command, "too many arguments", NULL);
}

/* fail - one clear line, exit 1 */
static void fail(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "greyrepctl: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    exit(1);
}

/* parse_opts - verb arguments and --options, in any order */
static void parse_opts(int argc, char **argv, struct opts *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 0; i < argc; i++) {
        const char **slot = NULL;
        if (strcmp(argv[i], "--json") == 0) {
            o->json = 1;
            continue;
        }
        if (strcmp(argv[i], "--ttl") == 0) slot = &o->ttl;
        else if (strcmp(argv[i], "--comment") == 0) slot = &o->comment;
        else if (strcmp(argv[i], "--ip") == 0) slot = &o->ip;
        else if (strcmp(argv[i], "--from") == 0) slot = &o->from;
        else if (strcmp(argv[i], "--rcpt") == 0) slot = &o->rcpt;
        else if (strcmp(argv[i], "--helo") == 0) slot = &o->helo;
        else if (strcmp(argv[i], "--host") == 0) slot = &o->host;
        else if (strncmp(argv[i], "--", 2) == 0) {
            fprintf(stderr, "greyrepctl: unknown option %s\n", argv[i]);
            usage();
        }
        if (slot != NULL) {
            if (i + 1 >= argc)
                usage_error(argv[i], "missing its value", NULL);
            *slot = argv[++i];
        } else if (o->nargs < 8) {
            o->args[o->nargs++] = argv[i];
        } else {
            usage_error(NULL, "too many arguments", NULL);
        }
    }
}

/* --- whitelist ------------------------------------------------------- */

/* wl_key - "w|TYPE|VALUE" from user input, normalised like the daemon does */
static void wl_key(const char *type, const char *value, char *key, size_t len,
                   enum wl_type *t)
{
    char norm[WL_VALUE_MAX + 1];
    const char *why;
    if (wl_parse_type(type, t) < 0)
        fail("unknown whitelist type %s (ip, host, sender, rcpt)", type, "");
    if (wl_normalise(*t, value, norm, sizeof norm, &why) < 0) {
        char what[WL_VALUE_MAX + 64];
        snprintf(what, sizeof what, "%s entry %.*s", type, WL_VALUE_MAX, value);
        fail("invalid %s: %s", what, why);
    }
    snprintf(key, len, "w|%s|%s", type, norm);
}

static int cmd_whitelist_add(struct store *st, const struct opts *o)
{
    char key[STORE_MAX_KEY];
    unsigned char buf[REC_MAX];
    struct rec_wl w;
    enum wl_type t;
    unsigned ttl = 0;
    time_t now = util_now();
    static const char *const names[] = {"TYPE (ip, host, sender or rcpt)", "VALUE"};

    want_args(o->nargs, 2, names, "whitelist add");
    wl_key(o->args[0], o->args[1], key, sizeof key, &t);
    if (o->ttl != NULL && (cfg_parse_duration(o->ttl, &ttl) < 0 || ttl == 0))
        fail("invalid --ttl %s (like 3600, 12h, 7d)", o->ttl, "");
    memset(&w, 0, sizeof w);
    w.added = (uint64_t)now;
    if (o->comment != NULL) {
        if (strlen(o->comment) > REC_COMMENT_MAX)
            fail("comment longer than %s characters", "200", "");
        util_strlcpy(w.comment, o->comment, sizeof w.comment);
    }
    if (store_put(st, key, buf, rec_wl_encode(&w, buf), ttl ? now + ttl : 0) != STORE_OK
        || decide_admin_bump(st) != STORE_OK)
        fail("store failure%s%s", "", "");
    return 0;
}

static int cmd_whitelist_del(struct store *st, const struct opts *o)
{
    char key[STORE_MAX_KEY];
    unsigned char buf[STORE_MAX_VALUE];
    size_t len = sizeof buf;
    enum wl_type t;
    int rc;
    static const char *const names[] = {"TYPE (ip, host, sender or rcpt)", "VALUE"};

    want_args(o->nargs, 2, names, "whitelist del");
    wl_key(o->args[0], o->args[1], key, sizeof key, &t);
    rc = store_get(st, key, buf, &len, NULL, util_now());
    if (rc == STORE_NOTFOUND)
        fail("no %s entry %s", o->args[0], o->args[1]);
    if (rc != STORE_OK || store_del(st, key) != STORE_OK || decide_admin_bump(st) != STORE_OK)
        fail("store failure%s%s", "", "");
    return 0;
}

static int print_wl(void *arg, const char *key, size_t klen, const void *val,
                    size_t vlen, time_t expires)
{
    const struct opts *o = arg;
    struct rec_wl w;
    char k[STORE_MAX_KEY], *type, *value, t1[32], t2[32];

    if (klen >= sizeof k)
        return 0;
    memcpy(k, key, klen);
    k[klen] = '\0';
    type = k + 2;
    if ((value = strchr(type, '|')) == NULL)
        return 0;
    *value++ = '\0';
    if (rec_wl_decode(val, vlen, &w) < 0) {
        fprintf(stderr, "greyrepctl: record %s does not decode\n", k);
        return 0;
    }
    if (o->json) {
        printf("{\"type\":");
        json_string(stdout, type, strlen(type));
        printf(",\"value\":");
        json_string(stdout, value, strlen(value));
        printf(",\"added\":%llu,\"expires\":%lld,\"comment\":", (unsigned long long)w.added,
               (long long)expires);
        json_string(stdout, w.comment, strlen(w.comment));
        printf("}\n");
    } else {
        for (char *c = w.comment; *c; c++)
            if (*c == '\t' || *c == '\n')
                *c = ' ';
        printf("%s\t%s\t%s\t%s\t%s\n", type, value, util_iso_time((time_t)w.added, t1, sizeof t1),
               util_iso_time(expires, t2, sizeof t2), w.comment);
    }
    return 0;
}

/* --- greylist -------------------------------------------------------- */

static int print_triplet(void *arg, const char *key, size_t klen, const void *val,
                         size_t vlen, time_t expires)
{
    const struct opts *o = arg;
    struct rec_triplet t;
    char k[STORE_MAX_KEY], *net, *sender, *rcpt, t1[32], t2[32], t3[32];

    if (klen >= sizeof k)
        return 0;
    memcpy(k, key, klen);
    k[klen] = '\0';
    net = k + 2;
    if ((sender = strchr(net, '|')) == NULL || (rcpt = strchr(sender + 1, '|')) == NULL)
        return 0;
    *sender++ = '\0';
    *rcpt++ = '\0';
    if (rec_triplet_decode(val, vlen, &t) < 0) {
        fprintf(stderr, "greyrepctl: record %s does not decode\n", key);
        return 0;
    }
    if (o->json) {
        printf("{\"network\":");
        json_string(stdout, net, strlen(net));
        printf(",\"sender\":");
        json_string(stdout, sender, strlen(sender));
        printf(",\"recipient\":");
        json_string(stdout, rcpt, strlen(rcpt));
        printf(",\"state\":\"%s\",\"first_seen\":%llu,\"last_seen\":%llu,\"passes\":%u,"
               "\"expires\":%lld}\n",
               t.passes ? "passed" : "pending", (unsigned long long)t.first_seen,
               (unsigned long long)t.last_seen, t.passes, (long long)expires);
    } else {
        printf("%s\t%s\t%s\t%s\t%s\t%s\t%u\t%s\n", net, sender, rcpt,
               t.passes ? "passed" : "pending", util_iso_time((time_t)t.first_seen, t1, sizeof t1),
               util_iso_time((time_t)t.last_seen, t2, sizeof t2), t.passes,
               util_iso_time(expires, t3, sizeof t3));
    }
    return 0;
}

/* parse_triplet - IP SENDER RCPT as the daemon would see them; with
 * spf_domain, "spf:DOMAIN" is accepted in place of the IP */
static void parse_triplet(const char *ip, const char *from, const char *rcpt,
                          struct net_addr *a, const char **spf_domain,
                          struct env_addr *s, struct env_addr *r)
{
    if (spf_domain != NULL && strncmp(ip, "spf:", 4) == 0 && ip[4] != '\0') {
        static char domain[256];
        util_strlcpy(domain, ip + 4, sizeof domain);
        util_lower(domain);     /* keys hold the domain lowercased */
        *spf_domain = domain;
        memset(a, 0, sizeof *a);
    } else if (spf_domain != NULL && strchr(ip, '/') != NULL) {
        struct net_cidr c;      /* a network as greylist list prints it */
        if (net_parse_cidr(ip, &c) < 0)
            fail("invalid network %s", ip, "");
        *a = c.addr;
    } else if (net_parse(ip, a) < 0) {
        fail("invalid IP address %s", ip, "");
    }
    env_parse(from, s);
    if (s->flags & ENV_MALFORMED)
        fail("invalid sender %s: %s", from, s->why);
    env_parse(rcpt, r);
    if (r->flags & (ENV_MALFORMED | ENV_NULL))
        fail("invalid recipient %s: %s", rcpt, r->why ? r->why : "empty");
}

static int cmd_greylist_del(const struct cfg *cfg, struct store *st, const struct opts *o)
{
    struct net_addr a;
    struct env_addr s, r;
    char key[STORE_MAX_KEY];
    unsigned char buf[STORE_MAX_VALUE];
    size_t len = sizeof buf;
    int rc;

    const char *spf_domain = NULL;
    static const char *const names[] = {"IP (or NETWORK as greylist list prints it)",
                                        "SENDER", "RCPT"};

    want_args(o->nargs, 3, names, "greylist del");
    /* first the three fields exactly as greylist list prints them (CIDR
     * network, escaped and normalised addresses) */
    if ((size_t)snprintf(key, sizeof key, "t|%s|%s|%s", o->args[0], o->args[1], o->args[2])
            < sizeof key
        && (rc = store_get(st, key, buf, &len, NULL, util_now())) != STORE_NOTFOUND) {
        if (rc != STORE_OK || store_del(st, key) != STORE_OK)
            fail("store failure%s%s", "", "");
        return 0;
    }
    /* else an address and two envelope paths, as the daemon would see them */
    len = sizeof buf;
    parse_triplet(o->args[0], o->args[1], o->args[2], &a, &spf_domain, &s, &r);
    decide_triplet_key(cfg, &a, spf_domain, &s, &r, key, sizeof key);
    rc = store_get(st, key, buf, &len, NULL, util_now());
    if (rc == STORE_NOTFOUND)
        fail("no greylist entry %s", key + 2, "");
    if (rc != STORE_OK || store_del(st, key) != STORE_OK)
        fail("store failure%s%s", "", "");
    return 0;
}

/* --- check ----------------------------------------------------------- */

static int cmd_check(const struct cfg *cfg, struct store *st, const struct opts *o)
{
    struct net_addr a;
    struct env_addr s, r;
    struct decide_input in;
    struct verdict v;
    struct checks *chk = NULL;
    struct chk_conn *cc = NULL;
    struct msg_facts bare;
    struct decider *d;
    char explain[4096], *line, *save = NULL, err[256];
    char sender[ENV_LOCAL_MAX + ENV_DOMAIN_MAX + 2] = "";
    int trusted = 0;

    if (o->ip == NULL || o->from == NULL || o->rcpt == NULL || o->nargs != 0)
        usage();
    parse_triplet(o->ip, o->from, o->rcpt, &a, NULL, &s, &r);
    memset(&in, 0, sizeof in);
    memset(&bare, 0, sizeof bare);
    bare.client_ip = 1;
    bare.client = a;
    in.facts = &bare;
    in.sender = &s;
    in.rcpt = &r;
    in.verified_host = o->host;   /* as the MTA would vouch for it */
    trusted = cfg_trusted(cfg, &a);
    /* live, read-only lookups, exactly as the daemon would make them */
    if (!trusted && cfg_checks_enabled(cfg)) {
        if ((chk = chk_open(cfg, err, sizeof err)) == NULL)
            fail("DNS checks: %s%s", err, "");
        cc = chk_connect(chk, cfg, &a);
        if (!(s.flags & ENV_NULL))
            snprintf(sender, sizeof sender, "%s@%s", s.local, s.domain);
        chk_mail(cc, cfg, o->helo ? o->helo : "", sender, 0);
        if (cc != NULL)
            in.facts = chk_facts(cc);
    }
    if ((d = decider_new(st)) == NULL)
        fail("out of memory%s%s", "", "");
    decide_rcpt(d, cfg, &in, util_now(), 1, &v, explain, sizeof explain);
    decider_free(d);
    chk_conn_free(cc);
    chk_close(chk);
    if (o->json) {
        printf("{\"verdict\":\"%s\",\"reason\":\"%s\",\"remaining\":%u,\"why\":",
               v.action == V_ACCEPT ? "accept" : v.action == V_REJECT ? "reject" : "tempfail",
               policy_reason_name(v.reason),
               v.remaining);
        json_string(stdout, v.why, strlen(v.why));
        printf(",\"reasons\":[");
        for (line = strtok_r(explain, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            json_string(stdout, line, strlen(line));
            if (save && *save)
                putchar(',');
        }
        printf("]}\n");
    } else {
        printf("verdict\t%s\n",
               v.action == V_ACCEPT ? "accept" : v.action == V_REJECT ? "reject" : "tempfail");
        for (line = strtok_r(explain, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
            printf("reason\t%s\n", line);
    }
    return v.action == V_ACCEPT ? 0 : v.action == V_REJECT ? 4 : 3;
}

/* --- stats ----------------------------------------------------------- */

struct tally {
    uint64_t pending, passed, clients, clients_listed, wl, bad;
    const struct cfg *cfg;
    time_t now;
};

static int count_record(void *arg, const char *key, size_t klen, const void *val,
                        size_t vlen, time_t expires)
{
    struct tally *t = arg;
    (void)klen;
    (void)expires;
    if (key[0] == 't') {
        struct rec_triplet r;
        if (rec_triplet_decode(val, vlen, &r) < 0)
            t->bad++;
        else if (r.passes)
            t->passed++;
        else
            t->pending++;
    } else if (key[0] == 'c') {
        struct rec_client c;
        if (rec_client_decode(val, vlen, &c) < 0) {
            t->bad++;
        } else {
            t->clients++;
            t->clients_listed += grey_client_listed(&t->cfg->grey, 1, &c, t->now);
        }
    } else if (key[0] == 'w') {
        t->wl++;
    }
    return 0;
}

struct counters_print {
    int json;
};

static int print_counters(void *arg, const char *key, size_t klen, const void *val,
                          size_t vlen, time_t expires)
{
    struct counters_print *cp = arg;
    struct rec_counters c;
    char host[STORE_MAX_KEY], since[32];
    (void)expires;
    if (klen < 3 || klen >= sizeof host || rec_counters_decode(val, vlen, &c) < 0)
        return 0;
    memcpy(host, key + 2, klen - 2);
    host[klen - 2] = '\0';
    if (cp->json) {
        printf("{\"host\":");
        json_string(stdout, host, strlen(host));
        printf(",\"accepted\":%llu,\"tempfailed\":%llu,\"rejected\":%llu,\"errors\":%llu,"
               "\"since\":%llu}\n",
               (unsigned long long)c.accepted, (unsigned long long)c.tempfailed,
               (unsigned long long)c.rejected, (unsigned long long)c.errors,
               (unsigned long long)c.since);
    } else {
        printf("host %s accepted\t%llu\nhost %s tempfailed\t%llu\nhost %s rejected\t%llu\n"
               "host %s errors\t%llu\nhost %s since\t%s\n",
               host, (unsigned long long)c.accepted, host, (unsigned long long)c.tempfailed,
               host, (unsigned long long)c.rejected, host, (unsigned long long)c.errors, host,
               util_iso_time((time_t)c.since, since, sizeof since));
    }
    return 0;
}

static int cmd_stats(const struct cfg *cfg, struct store *st, const struct opts *o)
{
    struct tally t;
    struct store_stats ss;
    struct counters_print cp = {o->json};

    memset(&t, 0, sizeof t);
    t.cfg = cfg;
    t.now = util_now();
    if (store_stats(st, &ss) != STORE_OK || store_iterate(st, "t|", t.now, count_record, &t) != STORE_OK
        || store_iterate(st, "c|", t.now, count_record, &t) != STORE_OK
        || store_iterate(st, "w|", t.now, count_record, &t) != STORE_OK)
        fail("store failure%s%s", "", "");
    if (o->json)
        printf("{\"backend\":\"%s\",\"records\":%llu,\"triplets_pending\":%llu,"
               "\"triplets_passed\":%llu,\"clients\":%llu,\"clients_whitelisted\":%llu,"
               "\"whitelist_entries\":%llu,\"bytes_used\":%llu,\"bytes_max\":%llu}\n",
               store_backend_name(st), (unsigned long long)ss.records,
               (unsigned long long)t.pending, (unsigned long long)t.passed,
               (unsigned long long)t.clients, (unsigned long long)t.clients_listed,
               (unsigned long long)t.wl, (unsigned long long)ss.bytes_used,
               (unsigned long long)ss.bytes_max);
    else
        printf("backend\t%s\nrecords\t%llu\ntriplets_pending\t%llu\ntriplets_passed\t%llu\n"
               "clients\t%llu\nclients_whitelisted\t%llu\nwhitelist_entries\t%llu\n"
               "bytes_used\t%llu\nbytes_max\t%llu\n",
               store_backend_name(st), (unsigned long long)ss.records,
               (unsigned long long)t.pending, (unsigned long long)t.passed,
               (unsigned long long)t.clients, (unsigned long long)t.clients_listed,
               (unsigned long long)t.wl, (unsigned long long)ss.bytes_used,
               (unsigned long long)ss.bytes_max);
    if (store_iterate(st, "s|", t.now, print_counters, &cp) != STORE_OK)
        fail("store failure%s%s", "", "");
    return 0;
}

int main(int argc, char **argv)
{
    const char *file = CFG_DEFAULT_FILE;
    struct cfg *cfg;
    struct store *st;
    struct opts o;
    char err[512];
    int opt, rc = 0;
    const char *verb, *sub = NULL;

    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    /* getopt names a missing -c argument itself */
    while ((opt = getopt_long(argc, argv, "+c:hV", longopts, NULL)) != -1) {
        if (opt == 'c') {
            file = optarg;
        } else if (opt == 'h') {
            usage_text(stdout);
            return 0;
        } else if (opt == 'V') {
            printf("greyrepctl %s\n", PACKAGE_VERSION);
            return 0;
        } else {
            usage();
        }
    }
    if (optind >= argc)
        missing("COMMAND", NULL);
    log_open("greyrepctl", 1, 0);
    verb = argv[optind++];
    if (strcmp(verb, "whitelist") == 0 || strcmp(verb, "greylist") == 0) {
        if (optind >= argc)
            missing(strcmp(verb, "whitelist") == 0 ? "add, del or list" : "list or del", verb);
        sub = argv[optind++];
        if (strcmp(sub, "list") != 0 && strcmp(sub, "del") != 0
            && (strcmp(verb, "greylist") == 0 || strcmp(sub, "add") != 0))
            usage_error(verb, "unknown subcommand ", sub);
    } else if (strcmp(verb, "check") != 0 && strcmp(verb, "stats") != 0
               && strcmp(verb, "dump") != 0 && strcmp(verb, "load") != 0
               && strcmp(verb, "expire") != 0 && strcmp(verb, "del") != 0) {
        fprintf(stderr, "greyrepctl: unknown command %s\n", verb);
        usage();
    }
    parse_opts(argc - optind, argv + optind, &o);
    if (strcmp(verb, "load") == 0 || strcmp(verb, "del") == 0) {
        static const char *const load_names[] = {"FILE (or - for stdin)"};
        static const char *const del_names[] = {"KEY (as dump prints it)"};
        want_args(o.nargs, 1, verb[0] == 'l' ? load_names : del_names, verb);
    } else if ((strcmp(verb, "dump") == 0 || strcmp(verb, "expire") == 0
                || strcmp(verb, "stats") == 0 || (sub && strcmp(sub, "list") == 0))
               && o.nargs != 0) {
        usage_error(verb, "unexpected argument ", o.args[0]);
    } else if (strcmp(verb, "check") == 0 && (o.ip == NULL || o.from == NULL || o.rcpt == NULL)) {
        missing(o.ip == NULL ? "--ip IP" : o.from == NULL ? "--from SENDER" : "--rcpt RCPT",
                "check");
    }

    cfg = cfg_load(file, NULL, NULL);
    if (cfg == NULL)
        fail("invalid configuration %s", file, "");
    st = store_open(&cfg->store, err, sizeof err);
    if (st == NULL)
        fail("store: %s", err, "");

    if (strcmp(verb, "whitelist") == 0) {
        if (strcmp(sub, "add") == 0)
            rc = cmd_whitelist_add(st, &o);
        else if (strcmp(sub, "del") == 0)
            rc = cmd_whitelist_del(st, &o);
        else if (strcmp(sub, "list") == 0 && o.nargs == 0)
            rc = store_iterate(st, "w|", util_now(), print_wl, &o) == STORE_OK ? 0 : 1;
        else
            usage();
    } else if (strcmp(verb, "greylist") == 0) {
        if (strcmp(sub, "list") == 0 && o.nargs == 0)
            rc = store_iterate(st, "t|", util_now(), print_triplet, &o) == STORE_OK ? 0 : 1;
        else if (strcmp(sub, "del") == 0)
            rc = cmd_greylist_del(cfg, st, &o);
        else
            usage();
    } else if (strcmp(verb, "check") == 0) {
        rc = cmd_check(cfg, st, &o);
    } else if (strcmp(verb, "stats") == 0) {
        rc = cmd_stats(cfg, st, &o);
    } else if (strcmp(verb, "dump") == 0) {
        rc = ctl_dump(st);
    } else if (strcmp(verb, "load") == 0) {
        rc = ctl_load(st, o.args[0]);
    } else if (strcmp(verb, "del") == 0) {
        rc = ctl_del(st, o.args[0]);
    } else if (strcmp(verb, "expire") == 0) {
        size_t removed = 0;
        if (store_expire(st, util_now(), 0, &removed) != STORE_OK)
            fail("store failure%s%s", "", "");
        printf("expired\t%zu\n", removed);
    }
    store_close(st);
    cfg_free(cfg);
    return rc;
}
