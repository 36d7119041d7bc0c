/*
 * ctl_import.c - greyrepctl import postgrey; see ctl_ops.h
 *
 * Each line is read the way postgrey reads it (a '#' starts a comment,
 * surrounding blanks go) and mapped to the greyrep admin entries that
 * match what postgrey matched:
 *
 *   clients     /RE/           host /ERE/ (Perl forms translated)
 *               a.b.c.d[/n]    ip, as written
 *               a.b.c, a.b     ip a.b.c.0/24, a.b.0.0/16
 *               IPv6[/n]       ip
 *               NAME           host NAME and host .NAME (postgrey matches
 *                              the name and every name below it)
 *   recipients  user@domain    rcpt user@domain
 *               user@          rcpt user@
 *               @domain, domain  rcpt @domain
 *               /RE/           not mapped: greyrep has no regex recipients
 *
 * All or nothing by default: if one line cannot be mapped, every such line
 * is reported as FILE:LINE: text: why and nothing is written; the entries
 * are written in one store_put_many(), so a store failure writes none.  --partial
 * writes what maps and reports the rest; --dry-run prints the entries.
 */
#include "autoconf.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_ops.h"
#include "decide.h"
#include "record.h"
#include "util.h"

/* emit - append s to out at *o, or fail when out is full */
static int emit(char *out, size_t len, size_t *o, const char *s)
{
    size_t n = strlen(s);
    if (*o + n >= len)
        return -1;
    memcpy(out + *o, s, n);
    *o += n;
    out[*o] = '\0';
    return 0;
}

int import_perl_regex(const char *in, char *out, size_t len, const char **why)
{
    size_t o = 0;
    int bracket = 0;   /* inside [...]: 1 just opened (']' still literal), 2 after */
    char one[3];

    out[0] = '\0';
    for (const char *p = in; *p; p++) {
        const char *add = NULL;
        if (*p == '\\') {
            char c = *++p;
            if (c == '\0') {
                *why = "trailing backslash";
                return -1;
            }
            if (bracket) {
                add = c == 'd' ? "0-9" : c == 'w' ? "[:alnum:]_" : c == 's' ? "[:space:]" : NULL;
                if (add == NULL) {
                    if (isalnum((unsigned char)c) || strchr("]^-\\", c) != NULL) {
                        *why = "Perl escape inside [...] with no POSIX equivalent";
                        return -1;
                    }
                    one[0] = c;
                    one[1] = '\0';
                    add = one;
                }
                bracket = 2;
            } else {
                switch (c) {
                case 'd': add = "[0-9]"; break;
                case 'D': add = "[^0-9]"; break;
                case 'w': add = "[[:alnum:]_]"; break;
                case 'W': add = "[^[:alnum:]_]"; break;
                case 's': add = "[[:space:]]"; break;
                case 'S': add = "[^[:space:]]"; break;
                default:
                    if (isalnum((unsigned char)c)) {
                        *why = "Perl escape with no POSIX equivalent (\\b, \\A, \\z, ...)";
                        return -1;
                    }
                    if (strchr(".[]()*+?{}|^$\\", c) != NULL) {
                        one[0] = '\\';
                        one[1] = c;
                        one[2] = '\0';
                    } else {
                        one[0] = c;     /* \- \/ \@ ...: the character itself */
                        one[1] = '\0';
                    }
                    add = one;
                }
            }
        } else if (bracket) {
            if (*p == ']' && bracket == 2)
                bracket = 0;
            else if (*p == '[' && p[1] == ':') {
                const char *end = strstr(p, ":]");
                if (end == NULL) {
                    *why = "unterminated [: class";
                    return -1;
                }
                char cls[32];
                if ((size_t)(end + 2 - p) >= sizeof cls) {
                    *why = "unknown [: class";
                    return -1;
                }
                memcpy(cls, p, (size_t)(end + 2 - p));
                cls[end + 2 - p] = '\0';
                if (emit(out, len, &o, cls) < 0)
                    goto toolong;
                p = end + 1;
                bracket = 2;
                continue;
            } else if (!(*p == '^' && bracket == 1 && p[-1] == '['))
                bracket = 2;
            one[0] = *p;
            one[1] = '\0';
            add = one;
        } else if (*p == '[') {
            bracket = 1;
            add = "[";
        } else if (*p == '(' && p[1] == '?') {
            if (p[2] != ':') {
                *why = "Perl (?...) group with no POSIX equivalent";
                return -1;
            }
            p += 2;
            add = "(";
        } else if (*p == '?' && p > in && strchr("*+?}", p[-1]) != NULL
                   && !(p - 1 > in && p[-2] == '\\')) {
            continue;   /* lazy quantifier: the same yes/no answer as greedy */
        } else if (*p == '+' && p > in && strchr("*+?}", p[-1]) != NULL
                   && !(p - 1 > in && p[-2] == '\\')) {
            *why = "Perl possessive quantifier";
            return -1;
        } else {
            one[0] = *p;
            one[1] = '\0';
            add = one;
        }
        if (emit(out, len, &o, add) < 0)
            goto toolong;
    }
    if (bracket) {
        *why = "unterminated [...]";
        return -1;
    }
    return 0;
toolong:
    *why = "regular expression too long once translated";
    return -1;
}

/* put - normalise one entry into out; -1 with why */
static int put(struct import_entry *out, enum wl_type t, const char *value, const char **why)
{
    out->type = t;
    return wl_normalise(t, value, out->value, sizeof out->value, why);
}

int import_map_line(int recipients, const char *line, struct import_entry out[2],
                    const char **why)
{
    char buf[1024], *s, *hash;
    size_t n;

    if (strlen(line) >= sizeof buf) {
        *why = "line too long";
        return -1;
    }
    util_strlcpy(buf, line, sizeof buf);
    if ((hash = strchr(buf, '#')) != NULL)
        *hash = '\0';
    s = util_trim(buf);
    if (*s == '\0')
        return 0;
    n = strlen(s);
    for (size_t i = 0; i < n; i++)
        if (isspace((unsigned char)s[i])) {
            *why = recipients ? "does not look like an address (postgrey ignores it too)"
                              : "does not look like a host name (postgrey ignores it too)";
            return -1;
        }
    if (n >= 3 && s[0] == '/' && s[n - 1] == '/') {
        char ere[WL_VALUE_MAX + 1], entry[WL_VALUE_MAX + 3];
        if (recipients) {
            *why = "greyrep has no regular-expression recipient entries";
            return -1;
        }
        s[n - 1] = '\0';
        if (import_perl_regex(s + 1, ere, sizeof ere, why) < 0)
            return -1;
        snprintf(entry, sizeof entry, "/%s/", ere);
        return put(&out[0], WL_HOST, entry, why) < 0 ? -1 : 1;
    }
    if (recipients) {
        char *at = strchr(s, '@'), entry[WL_VALUE_MAX + 2];
        if (at == NULL) {
            /* a bare domain: postgrey also matches names below it */
            snprintf(entry, sizeof entry, "@%s", s);
            return put(&out[0], WL_RCPT, entry, why) < 0 ? -1 : 1;
        }
        return put(&out[0], WL_RCPT, s, why) < 0 ? -1 : 1;
    }
    {
        enum wl_type t;
        wl_client_type(s, &t);
        if (t == WL_IP)
            return put(&out[0], WL_IP, s, why) < 0 ? -1 : 1;
        if (s[0] == '.') {
            *why = "a name starting with a dot matches nothing in postgrey";
            return -1;
        }
        if (put(&out[0], WL_HOST, s, why) < 0)
            return -1;
        char suffix[WL_VALUE_MAX + 2];
        snprintf(suffix, sizeof suffix, ".%s", out[0].value);
        return put(&out[1], WL_HOST, suffix, why) < 0 ? -1 : 2;
    }
}

struct mapped {
    struct import_entry e;
    char where[128];
};

/* entry_record - the key and value greyrepctl whitelist add would write */
static size_t entry_record(const struct mapped *m, time_t now, char *key, size_t klen,
                           unsigned char *val)
{
    struct rec_wl w;

    w.added = (uint64_t)now;
    snprintf(w.comment, sizeof w.comment, "postgrey %s", m->where);
    snprintf(key, klen, "w|%s|%s", wl_type_name(m->e.type), m->e.value);
    return rec_wl_encode(&w, val);
}

int ctl_import(const struct cfg *cfg, struct store *st, int argc, char **argv)
{
    int partial = 0, dry_run = 0, force = -1, bad = 0, files = 0;
    struct mapped *all = NULL;
    size_t nall = 0, cap = 0, written = 0;
    time_t now = util_now();

    (void)cfg;
    if (argc < 1 || strcmp(argv[0], "postgrey") != 0) {
        fprintf(stderr, "greyrepctl: import: the only source is postgrey "
                        "(greyrepctl import postgrey FILE...)\n");
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        const char *path = argv[i];
        FILE *fp;
        char line[1100];
        unsigned lineno = 0;
        int recipients;

        if (strcmp(path, "--partial") == 0) { partial = 1; continue; }
        if (strcmp(path, "--dry-run") == 0) { dry_run = 1; continue; }
        if (strcmp(path, "--clients") == 0) { force = 0; continue; }
        if (strcmp(path, "--recipients") == 0) { force = 1; continue; }
        if (strncmp(path, "--", 2) == 0) {
            fprintf(stderr, "greyrepctl: import: unknown option %s\n", path);
            return 2;
        }
        {
            const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
            recipients = force >= 0 ? force : strstr(base, "recipient") != NULL ? 1
                                            : strstr(base, "client") != NULL ? 0 : -1;
        }
        if (recipients < 0) {
            fprintf(stderr, "greyrepctl: import: %s: is it a clients or a recipients file? "
                            "say --clients or --recipients before it\n", path);
            return 2;
        }
        if ((fp = fopen(path, "r")) == NULL) {
            fprintf(stderr, "greyrepctl: import: %s: %s\n", path, strerror(errno));
            free(all);
            return 1;
        }
        files++;
        while (fgets(line, sizeof line, fp) != NULL) {
            struct import_entry e[2];
            const char *why = NULL;
            size_t ll = strlen(line);
            int n;
            lineno++;
            if (ll > 0 && line[ll - 1] == '\n')
                line[--ll] = '\0';
            else if (!feof(fp)) {
                int c;
                while ((c = fgetc(fp)) != EOF && c != '\n')
                    ;
                fprintf(stderr, "%s:%u: line too long\n", path, lineno);
                bad++;
                continue;
            }
            if ((n = import_map_line(recipients, line, e, &why)) < 0) {
                char shown[120];
                util_strlcpy(shown, line, sizeof shown);
                fprintf(stderr, "%s:%u: %s: %s\n", path, lineno, util_trim(shown), why);
                bad++;
                continue;
            }
            for (int k = 0; k < n; k++) {
                if (nall == cap) {
                    cap = cap ? 2 * cap : 256;
                    if ((all = realloc(all, cap * sizeof *all)) == NULL) {
                        fprintf(stderr, "greyrepctl: out of memory\n");
                        exit(1);
                    }
                }
                all[nall].e = e[k];
                snprintf(all[nall].where, sizeof all[nall].where, "%.100s:%u",
                         strrchr(path, '/') ? strrchr(path, '/') + 1 : path, lineno);
                nall++;
            }
        }
        fclose(fp);
    }
    if (files == 0) {
        fprintf(stderr, "greyrepctl: import postgrey: missing FILE argument\n");
        free(all);
        return 2;
    }
    if (bad && !partial) {
        fprintf(stderr, "greyrepctl: import: %d line%s could not be mapped; nothing written "
                        "(--partial imports the rest)\n", bad, bad == 1 ? "" : "s");
        free(all);
        return 1;
    }
    if (dry_run) {
        for (size_t i = 0; i < nall; i++)
            printf("%s\t%s\t%s\n", wl_type_name(all[i].e.type), all[i].e.value, all[i].where);
    } else if (nall > 0) {
        /* one atomic step: every entry is written, or none */
        struct store_item *items = calloc(nall, sizeof *items);
        char (*keys)[STORE_MAX_KEY] = calloc(nall, sizeof *keys);
        unsigned char (*vals)[REC_MAX] = calloc(nall, sizeof *vals);
        int rc;
        if (items == NULL || keys == NULL || vals == NULL) {
            fprintf(stderr, "greyrepctl: out of memory\n");
            exit(1);
        }
        for (size_t i = 0; i < nall; i++) {
            items[i].vlen = entry_record(&all[i], now, keys[i], sizeof keys[i], vals[i]);
            items[i].key = keys[i];
            items[i].val = vals[i];
            items[i].expires = 0;
        }
        rc = store_put_many(st, items, nall);
        free(items);
        free(keys);
        free(vals);
        if (rc != STORE_OK) {
            fprintf(stderr, "greyrepctl: import: store failure; nothing written\n");
            free(all);
            return 1;
        }
        written = nall;
    }
    if (written > 0 && decide_admin_bump(st) != STORE_OK) {
        fprintf(stderr, "greyrepctl: import: store failure telling greyrep\n");
        free(all);
        return 1;
    }
    fprintf(stderr, "greyrepctl: import: %zu entries %s, %d line%s skipped\n", nall,
            dry_run ? "mapped (dry run, nothing written)" : "imported", bad,
            bad == 1 ? "" : "s");
    free(all);
    return 0;
}
