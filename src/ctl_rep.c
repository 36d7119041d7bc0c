/*
 * NAME
 *   ctl_rep - greyrepctl's reputation and greytrap verbs
 * SYNOPSIS
 *   greyrepctl reputation show IDENTITY [--json]
 *   greyrepctl reputation list [--top N] [--sort KEY] [--json]
 *   greyrepctl reputation reset IDENTITY
 *   greyrepctl greytrap add ADDR | del ADDR | list [--json]
 * DESCRIPTION
 *   IDENTITY is KIND:VALUE (ip, net, ptr, spf, dkim, from; a domain is
 *   reduced to its organisational domain, an address given as net: to its
 *   greylist network).  Counters are shown decayed to now; showing writes
 *   nothing.  One record a line, tab-separated, in the order of
 *   ctl_rep_fields; --json one object a line.  Greytraps added here are
 *   "g|ADDR" records, read by every decision in its own store update, so
 *   the daemon sees them at once.
 * DIAGNOSTICS
 *   Exit 0 on success, 1 for a bad identity, an absent record or a store
 *   failure (one line on stderr), 2 for usage errors.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctl_json.h"
#include "ctl_rep.h"
#include "decide.h"
#include "log.h"
#include "record.h"
#include "reputation.h"
#include "store.h"
#include "util.h"

/* ctl_rep_fail - one line, exit 1 */
static void ctl_rep_fail(const char *what, const char *arg)
{
    fprintf(stderr, "greyrepctl: %s%s%s\n", what, arg ? ": " : "", arg ? arg : "");
    exit(1);
}

static void ctl_rep_usage(void)
{
    fprintf(stderr, "usage: greyrepctl reputation show IDENTITY [--json]\n"
                    "       greyrepctl reputation list [--top N] [--sort KEY] [--json]\n"
                    "       greyrepctl reputation reset IDENTITY\n"
                    "       greyrepctl greytrap add ADDR | del ADDR | list [--json]\n"
                    "IDENTITY is ip:ADDR, net:CIDR, ptr:DOMAIN, spf:DOMAIN, dkim:DOMAIN or "
                    "from:DOMAIN\n"
                    "KEY is score, accepted, passes, abandoned, rcpts, rate or last_seen\n");
    exit(2);
}

/* One record of a listing. */
struct ctl_rep_row {
    char identity[STORE_MAX_KEY];
    enum rep_kind kind;
    struct rep_rec r;
    double score;
    int established;
    time_t expires;
};

/* ctl_rep_kind - the kind of a "KIND:..." identity text */
static enum rep_kind ctl_rep_kind(const char *identity)
{
    for (int k = 0; k < REP_NKINDS; k++) {
        size_t n = strlen(rep_kind_name((enum rep_kind)k));
        if (strncmp(identity, rep_kind_name((enum rep_kind)k), n) == 0 && identity[n] == ':')
            return (enum rep_kind)k;
    }
    return REP_FROM;
}

/* ctl_rep_print - one row as a tab-separated line or a JSON object */
static void ctl_rep_print(const struct ctl_rep_row *w, int json)
{
    const struct rep_rec *r = &w->r;
    char first[32], last[32], pen[32];

    if (json) {
        printf("{\"identity\":");
        json_string(stdout, w->identity, strlen(w->identity));
        printf(",\"score\":%.1f,\"established\":%s,\"accepted\":%.2f,\"passes\":%.2f,"
               "\"abandoned\":%.2f,\"spf_pass\":%.2f,\"spf_fail\":%.2f,\"dkim_pass\":%.2f,"
               "\"dkim_fail\":%.2f,\"trap_hits\":%.2f,\"rcpts\":%.2f,\"rate\":%.2f,"
               "\"tokens\":%.2f,\"first_seen\":%llu,\"last_seen\":%llu,"
               "\"penalty_until\":%llu,\"expires\":%lld}\n",
               w->score, w->established ? "true" : "false", r->accepted, r->passes,
               r->abandoned, r->spf_pass, r->spf_fail, r->dkim_pass, r->dkim_fail,
               r->trap_hits, r->rcpts, r->rate, r->tokens, (unsigned long long)r->first_seen,
               (unsigned long long)r->last_seen, (unsigned long long)r->penalty_until,
               (long long)w->expires);
        return;
    }
    printf("%s\t%.1f\t%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f"
           "\t%s\t%s\t%s\n",
           w->identity, w->score, w->established ? "established" : "-", r->accepted,
           r->passes, r->abandoned, r->spf_pass, r->spf_fail, r->dkim_pass, r->dkim_fail,
           r->trap_hits, r->rcpts, r->rate, r->tokens,
           util_iso_time((time_t)r->first_seen, first, sizeof first),
           util_iso_time((time_t)r->last_seen, last, sizeof last),
           util_iso_time((time_t)r->penalty_until, pen, sizeof pen));
}

/* ctl_rep_row - decode one stored record into a row, decayed to now */
static int ctl_rep_row(const struct cfg *cfg, const char *key, size_t klen, const void *val,
                       size_t vlen, time_t expires, time_t now, struct ctl_rep_row *w)
{
    if (klen < 3 || klen >= sizeof w->identity || rep_rec_decode(val, vlen, &w->r) < 0)
        return -1;
    /* "r|KIND|VALUE" is shown as KIND:VALUE */
    memcpy(w->identity, key + 2, klen - 2);
    w->identity[klen - 2] = '\0';
    char *bar = strchr(w->identity, '|');
    if (bar == NULL)
        return -1;
    *bar = ':';
    w->kind = ctl_rep_kind(w->identity);
    rep_decay(&cfg->rep, &w->r, now);
    w->score = rep_score(w->kind, &w->r);
    w->established = rep_established(&cfg->rep, w->kind, &w->r, now);
    w->expires = expires;
    return 0;
}

/* ctl_rep_parse - IDENTITY argument, or exit 1 */
static void ctl_rep_parse(const struct cfg *cfg, const char *text, struct rep_id *id)
{
    const char *why = NULL;
    if (rep_parse_identity(&cfg->grey, text, id, &why) < 0) {
        fprintf(stderr, "greyrepctl: invalid identity %s: %s\n", text, why);
        exit(1);
    }
}

static int ctl_rep_show(const struct cfg *cfg, struct store *st, const char *text, int json)
{
    struct rep_id id;
    unsigned char val[STORE_MAX_VALUE];
    size_t len = sizeof val;
    time_t expires, now = util_now();
    struct ctl_rep_row w;
    int rc;

    ctl_rep_parse(cfg, text, &id);
    rc = store_get(st, id.key, val, &len, &expires, now);
    if (rc == STORE_NOTFOUND)
        ctl_rep_fail("no reputation record for", text);
    if (rc != STORE_OK)
        ctl_rep_fail("store failure", NULL);
    if (ctl_rep_row(cfg, id.key, strlen(id.key), val, len, expires, now, &w) < 0)
        ctl_rep_fail("record does not decode (a newer greyrep's, or damaged)", id.key);
    ctl_rep_print(&w, json);
    return 0;
}

struct ctl_rep_list {
    const struct cfg *cfg;
    time_t now;
    struct ctl_rep_row *rows;
    size_t n, cap;
    size_t bad;
};

static int ctl_rep_collect(void *arg, const char *key, size_t klen, const void *val,
                           size_t vlen, time_t expires)
{
    struct ctl_rep_list *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        struct ctl_rep_row *g = realloc(l->rows, cap * sizeof *g);
        if (g == NULL)
            ctl_rep_fail("out of memory", NULL);
        l->rows = g;
        l->cap = cap;
    }
    if (ctl_rep_row(l->cfg, key, klen, val, vlen, expires, l->now, &l->rows[l->n]) == 0)
        l->n++;
    else
        l->bad++;
    return 0;
}

static const char *ctl_rep_sort_key;

/* ctl_rep_value - the sort value of a row */
static double ctl_rep_value(const struct ctl_rep_row *w)
{
    const char *k = ctl_rep_sort_key;
    if (strcmp(k, "score") == 0) return w->score;
    if (strcmp(k, "accepted") == 0) return w->r.accepted;
    if (strcmp(k, "passes") == 0) return w->r.passes;
    if (strcmp(k, "abandoned") == 0) return w->r.abandoned;
    if (strcmp(k, "rate") == 0) return w->r.rate;
    if (strcmp(k, "last_seen") == 0) return (double)w->r.last_seen;
    return w->r.rcpts;
}

/* ctl_rep_cmp - descending by the sort key, then by identity */
static int ctl_rep_cmp(const void *a, const void *b)
{
    const struct ctl_rep_row *x = a, *y = b;
    double vx = ctl_rep_value(x), vy = ctl_rep_value(y);
    if (vx != vy)
        return vx < vy ? 1 : -1;
    return strcmp(x->identity, y->identity);
}

static int ctl_rep_list(const struct cfg *cfg, struct store *st, size_t top, int json)
{
    struct ctl_rep_list l = {cfg, util_now(), NULL, 0, 0, 0};

    if (store_iterate(st, "r|", l.now, ctl_rep_collect, &l) != STORE_OK)
        ctl_rep_fail("store failure", NULL);
    if (l.n > 0)
        qsort(l.rows, l.n, sizeof *l.rows, ctl_rep_cmp);
    for (size_t i = 0; i < l.n && (top == 0 || i < top); i++)
        ctl_rep_print(&l.rows[i], json);
    if (l.bad > 0)
        fprintf(stderr, "greyrepctl: %zu reputation records did not decode\n", l.bad);
    free(l.rows);
    return fflush(stdout) == 0 ? 0 : 1;
}

static int ctl_rep_reset(const struct cfg *cfg, struct store *st, const char *text)
{
    struct rep_id id;
    unsigned char val[STORE_MAX_VALUE];
    size_t len = sizeof val;
    int rc;

    ctl_rep_parse(cfg, text, &id);
    rc = store_get(st, id.key, val, &len, NULL, util_now());
    if (rc == STORE_NOTFOUND)
        ctl_rep_fail("no reputation record for", text);
    if (rc != STORE_OK || store_del(st, id.key) != STORE_OK)
        ctl_rep_fail("store failure", NULL);
    return 0;
}

/* ---- greytraps --------------------------------------------------------- */

static void ctl_trap_key(const char *value, char *key, size_t len)
{
    const char *why = NULL;
    if (decide_greytrap_key(value, key, len, &why) < 0) {
        fprintf(stderr, "greyrepctl: invalid greytrap %s: %s\n", value, why);
        exit(1);
    }
}

static int ctl_trap_print(void *arg, const char *key, size_t klen, const void *val,
                          size_t vlen, time_t expires)
{
    const int *json = arg;
    struct rec_wl w;
    char added[32];
    (void)expires;
    if (klen < 3)
        return 0;
    if (rec_wl_decode(val, vlen, &w) < 0)
        w.added = 0;
    if (*json) {
        printf("{\"recipient\":");
        json_string(stdout, key + 2, klen - 2);
        printf(",\"added\":%llu}\n", (unsigned long long)w.added);
    } else {
        printf("%.*s\t%s\n", (int)(klen - 2), key + 2,
               util_iso_time((time_t)w.added, added, sizeof added));
    }
    return ferror(stdout) ? 1 : 0;
}

static int ctl_trap(struct store *st, const char *sub, const char *value, int json)
{
    char key[STORE_MAX_KEY];
    unsigned char buf[REC_MAX], val[STORE_MAX_VALUE];
    size_t len = sizeof val;
    struct rec_wl w;
    int rc;

    if (strcmp(sub, "list") == 0) {
        if (value != NULL)
            ctl_rep_usage();
        rc = store_iterate(st, "g|", util_now(), ctl_trap_print, &json);
        return rc == STORE_OK && fflush(stdout) == 0 ? 0 : 1;
    }
    if (value == NULL)
        ctl_rep_usage();
    ctl_trap_key(value, key, sizeof key);
    if (strcmp(sub, "add") == 0) {
        memset(&w, 0, sizeof w);
        w.added = (uint64_t)util_now();
        if (store_put(st, key, buf, rec_wl_encode(&w, buf), 0) != STORE_OK)
            ctl_rep_fail("store failure", NULL);
        return 0;
    }
    if (strcmp(sub, "del") == 0) {
        rc = store_get(st, key, val, &len, NULL, util_now());
        if (rc == STORE_NOTFOUND)
            ctl_rep_fail("no greytrap", value);
        if (rc != STORE_OK || store_del(st, key) != STORE_OK)
            ctl_rep_fail("store failure", NULL);
        return 0;
    }
    ctl_rep_usage();
    return 2;
}

int ctl_rep_main(const char *file, const char *verb, int argc, char **argv)
{
    const char *args[4], *sort = "rcpts", *top_text = NULL;
    int nargs = 0, json = 0, rc;
    uint64_t top = 0;
    struct cfg *cfg;
    struct store *st;
    char err[512];

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--top") == 0 && i + 1 < argc)
            top_text = argv[++i];
        else if (strcmp(argv[i], "--sort") == 0 && i + 1 < argc)
            sort = argv[++i];
        else if (strncmp(argv[i], "--", 2) == 0 || nargs == 4)
            ctl_rep_usage();
        else
            args[nargs++] = argv[i];
    }
    if (nargs < 1 || nargs > 2)
        ctl_rep_usage();
    if (top_text != NULL && util_parse_u64(top_text, 1, 100000000, &top) < 0)
        ctl_rep_usage();
    ctl_rep_sort_key = sort;
    if (strcmp(sort, "score") != 0 && strcmp(sort, "accepted") != 0
        && strcmp(sort, "passes") != 0 && strcmp(sort, "abandoned") != 0
        && strcmp(sort, "rcpts") != 0 && strcmp(sort, "rate") != 0
        && strcmp(sort, "last_seen") != 0)
        ctl_rep_usage();
    if (strcmp(verb, "reputation") == 0
        && !((strcmp(args[0], "list") == 0 && nargs == 1)
             || ((strcmp(args[0], "show") == 0 || strcmp(args[0], "reset") == 0)
                 && nargs == 2)))
        ctl_rep_usage();
    if ((cfg = cfg_load(file, NULL, NULL)) == NULL)
        ctl_rep_fail("invalid configuration", file);
    if ((st = store_open(&cfg->store, err, sizeof err)) == NULL)
        ctl_rep_fail("store", err);
    if (strcmp(verb, "greytrap") == 0)
        rc = ctl_trap(st, args[0], nargs == 2 ? args[1] : NULL, json);
    else if (strcmp(args[0], "show") == 0)
        rc = ctl_rep_show(cfg, st, args[1], json);
    else if (strcmp(args[0], "reset") == 0)
        rc = ctl_rep_reset(cfg, st, args[1]);
    else
        rc = ctl_rep_list(cfg, st, (size_t)top, json);
    store_close(st);
    cfg_free(cfg);
    return rc;
}
