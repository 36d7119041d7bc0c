/*
 * NAME
 *   test_spf_suite - the openspf RFC 7208 test suite through spf.c
 * SYNOPSIS
 *   test_spf_suite [-v] [-x XFAIL-FILE] SUITE.txt
 * DESCRIPTION
 *   SUITE.txt is tests/data/spf/rfc7208-tests.yml flattened by
 *   tests/dns/spf-suite-convert.py (see there for the format).  For every
 *   scenario the zone data is loaded into an in-memory resolver
 *   (dns_open_zone), so spf.c, libspf2 and the resolver's parsers run
 *   exactly as in the daemon; only the network is replaced.
 *
 *   Each test prints "PASS: spf-suite SCENARIO/TEST" when our result is one
 *   of the results the suite accepts, else "FAIL: ..." with what we got.
 *   Tests listed in XFAIL-FILE (one "SCENARIO/TEST reason" a line) print
 *   XFAIL/XPASS instead and do not fail the run.  Explanation strings are
 *   not compared: greyrep never uses them.
 *
 *   The last line is "spf-suite: N/M acceptable (P%) ...".  Exit status 1
 *   on any FAIL, 2 on a usage or input error.
 */
#include "autoconf.h"

#include <arpa/nameser.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "resolver.h"
#include "spf.h"

#define MAX_FIELDS 32
#define MAX_LINE 8192

struct xfail {
    char name[256];
    char reason[256];
    int seen;
};

static struct xfail *xfails;
static int nxfails;
static int verbose;

/* unescape - decode a '"'-prefixed field in place; its length */
static size_t unescape(char *s)
{
    size_t o = 0;
    const char *p = s + (*s == '"');

    while (*p) {
        if (p[0] == '\\' && p[1] == 'x' && isxdigit((unsigned char)p[2]) &&
            isxdigit((unsigned char)p[3])) {
            char hex[3] = { p[2], p[3], 0 };
            s[o++] = (char)strtoul(hex, NULL, 16);
            p += 4;
        } else {
            s[o++] = *p++;
        }
    }
    s[o] = '\0';
    return o;
}

/* split - cut a line at spaces into at most max fields */
static int split(char *line, char **f, int max)
{
    int n = 0;

    for (char *tok = strtok(line, " \n"); tok && n < max; tok = strtok(NULL, " \n"))
        f[n++] = tok;
    return n;
}

/* rr_type - the ns_t_* value of a suite record type, -2 if unknown */
static int rr_type(const char *t)
{
    static const struct { const char *name; int type; } types[] = {
        { "A", ns_t_a }, { "AAAA", ns_t_aaaa }, { "TXT", ns_t_txt },
        { "SPF", 99 }, { "MX", ns_t_mx }, { "PTR", ns_t_ptr },
        { "CNAME", ns_t_cname }, { "TIMEOUT", DNS_ZONE_TIMEOUT },
    };
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (strcmp(t, types[i].name) == 0)
            return types[i].type;
    return -2;
}

/* load_xfail - read "SCENARIO/TEST reason" lines */
static int load_xfail(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[600];

    if (!f) {
        perror(path);
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        char *p = line;
        while (*p == ' ')
            p++;
        if (*p == '#' || *p == '\n' || *p == '\0')
            continue;
        struct xfail *x = realloc(xfails, (size_t)(nxfails + 1) * sizeof *x);
        if (!x)
            return -1;
        xfails = x;
        x = &xfails[nxfails++];
        memset(x, 0, sizeof *x);
        size_t n = strcspn(p, " \t\n");
        snprintf(x->name, sizeof x->name, "%.*s", (int)n, p);
        p += n;
        p += strspn(p, " \t");
        snprintf(x->reason, sizeof x->reason, "%.*s", (int)strcspn(p, "\n"), p);
    }
    fclose(f);
    return 0;
}

/* find_xfail - the xfail entry for a test, or NULL */
static struct xfail *find_xfail(const char *name)
{
    for (int i = 0; i < nxfails; i++)
        if (strcmp(xfails[i].name, name) == 0)
            return &xfails[i];
    return NULL;
}

/* scenario_slug - "Record lookup" -> "record-lookup" */
static void scenario_slug(const char *desc, char *out, size_t len)
{
    size_t o = 0;

    for (const char *p = desc; *p && o + 1 < len; p++)
        out[o++] = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '-';
    out[o] = '\0';
}

/* acceptable - is got one of the comma-separated results? */
static int acceptable(const char *results, const char *got)
{
    size_t gl = strlen(got);

    for (const char *p = results; *p;) {
        size_t n = strcspn(p, ",");
        if (n == gl && strncmp(p, got, n) == 0)
            return 1;
        p += n + (p[n] == ',');
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *xfail_path = NULL;
    int argi = 1;

    while (argi < argc && argv[argi][0] == '-') {
        if (strcmp(argv[argi], "-v") == 0) {
            verbose = 1;
            argi++;
        } else if (strcmp(argv[argi], "-x") == 0 && argi + 1 < argc) {
            xfail_path = argv[argi + 1];
            argi += 2;
        } else {
            break;
        }
    }
    if (argi + 1 != argc) {
        fprintf(stderr, "usage: test_spf_suite [-v] [-x XFAIL-FILE] SUITE.txt\n");
        return 2;
    }
    log_open("test_spf_suite", 1, 0);
    log_set_debug(verbose);
    if (xfail_path && load_xfail(xfail_path) < 0)
        return 2;
    FILE *f = fopen(argv[argi], "r");
    if (!f) {
        perror(argv[argi]);
        return 2;
    }

    char line[MAX_LINE], slug[128] = "none";
    struct dns_zone *zone = NULL;
    struct dns_resolver *r = NULL;
    struct spf *spf = NULL;
    int total = 0, ok = 0, failed = 0, xfailed = 0, lineno = 0;

    while (fgets(line, sizeof line, f)) {
        char *fld[MAX_FIELDS];
        lineno++;
        int n = split(line, fld, MAX_FIELDS);
        if (n == 0 || fld[0][0] == '#')
            continue;
        if (strcmp(fld[0], "S") == 0 && n >= 2) {
            spf_free(spf);
            dns_close(r);
            spf = NULL;
            r = NULL;
            dns_zone_free(zone);
            zone = dns_zone_new();
            unescape(fld[1]);
            scenario_slug(fld[1], slug, sizeof slug);
        } else if (strcmp(fld[0], "Z") == 0 && n >= 3 && zone) {
            unescape(fld[1]);
            int type = rr_type(fld[2]);
            int rc;
            if (type == -2) {
                fprintf(stderr, "line %d: unknown type %s\n", lineno, fld[2]);
                return 2;
            }
            if (type == ns_t_txt || type == 99) {
                const char *strs[MAX_FIELDS];
                size_t lens[MAX_FIELDS];
                for (int i = 3; i < n; i++) {
                    lens[i - 3] = unescape(fld[i]);
                    strs[i - 3] = fld[i];
                }
                if (type == ns_t_txt) {
                    rc = dns_zone_add_txt(zone, fld[1], strs, lens, n - 3);
                } else {
                    /* type SPF is never asked for; keep it anyway */
                    unsigned char rd[2048];
                    size_t o = 0;
                    for (int i = 0; i < n - 3 && o + 1 + lens[i] <= sizeof rd; i++) {
                        rd[o++] = (unsigned char)lens[i];
                        memcpy(rd + o, strs[i], lens[i]);
                        o += lens[i];
                    }
                    rc = dns_zone_add(zone, fld[1], 99, rd, o);
                }
            } else if (type == DNS_ZONE_TIMEOUT) {
                rc = dns_zone_add(zone, fld[1], type, NULL, 0);
            } else {
                size_t len = n > 3 ? unescape(fld[3]) : 0;
                rc = dns_zone_add(zone, fld[1], type, n > 3 ? fld[3] : "", len);
            }
            /* the suite has names that no zone could hold: those stay NXDOMAIN */
            if (rc < 0 && verbose)
                fprintf(stderr, "line %d: record for %s not loaded\n", lineno, fld[1]);
        } else if (strcmp(fld[0], "T") == 0 && n >= 6) {
            char name[300], domain[256], client[128];
            struct timespec deadline;
            if (!spf) {
                r = dns_open_zone(zone);
                zone = NULL;
                spf = r ? spf_new(r, "receiver.example") : NULL;
                if (!spf) {
                    fprintf(stderr, "cannot set up resolver/spf\n");
                    return 2;
                }
            }
            unescape(fld[2]);
            unescape(fld[3]);
            unescape(fld[4]);
            snprintf(client, sizeof client, "%s", fld[2]);
            snprintf(name, sizeof name, "%s/%s", slug, fld[1]);
            dns_deadline(&deadline, 5000);
            enum spf_result res = spf_check_mailfrom(spf, client, fld[3], fld[4],
                                                     &deadline, domain, sizeof domain);
            const char *got = spf_result_name(res);
            int good = acceptable(fld[5], got);
            struct xfail *x = find_xfail(name);
            total++;
            ok += good;
            if (x) {
                x->seen = 1;
                if (good) {
                    printf("XPASS: spf-suite %s\n", name);
                } else {
                    xfailed++;
                    printf("XFAIL: spf-suite %s (got %s, want %s: %s)\n", name, got,
                           fld[5], x->reason);
                }
            } else if (good) {
                printf("PASS: spf-suite %s\n", name);
            } else {
                failed++;
                printf("FAIL: spf-suite %s (got %s, want %s)\n", name, got, fld[5]);
            }
        } else {
            fprintf(stderr, "line %d: cannot parse\n", lineno);
            return 2;
        }
    }
    fclose(f);
    spf_free(spf);
    dns_close(r);
    dns_zone_free(zone);
    for (int i = 0; i < nxfails; i++)
        if (!xfails[i].seen)
            printf("NOTE: xfail entry %s matches no test\n", xfails[i].name);
    free(xfails);
    printf("spf-suite: %d/%d acceptable (%.1f%%), %d expected failures, %d "
           "unexpected; explanation strings not compared\n",
           ok, total, total ? 100.0 * ok / total : 0.0, xfailed, failed);
    return failed ? 1 : 0;
}
