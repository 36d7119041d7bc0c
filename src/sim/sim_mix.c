/*
 * sim_mix.c - the traffic-mix file of greyrep-sim; see sim.h
 *
 * One class a line, five words:   LABEL MODEL SENDERS PER_DAY RCPTS
 *   LABEL    up to 31 printable characters, the name in the output
 *   MODEL    a sender model (greyrep-sim(8) lists them)
 *   SENDERS  1..100000 distinct senders of this class
 *   PER_DAY  messages per sender per day, 0.001..100000 (decimal)
 *   RCPTS    1..8: each message has 1..RCPTS recipients
 * '#' starts a comment; blank lines are ignored.  Every error names the
 * file and line, and the whole file is rejected.
 */
#include "autoconf.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"
#include "util.h"

/* mix_error - "FILE:LINE: message" */
static int mix_error(char *err, size_t len, const char *file, unsigned line, const char *what,
                     const char *word)
{
    snprintf(err, len, "%s:%u: %s%s%.40s%s", file, line, what, word ? " '" : "",
             word ? word : "", word ? "'" : "");
    return -1;
}

/* mix_number - a decimal number in [min, max], nothing after it */
static int mix_number(const char *s, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int sim_mix_load(const char *file, struct sim_mix *mix, char *err, size_t errlen)
{
    FILE *fp = fopen(file, "r");
    char buf[512];
    unsigned line = 0;

    memset(mix, 0, sizeof *mix);
    if (fp == NULL) {
        snprintf(err, errlen, "%s: %s", file, strerror(errno));
        return -1;
    }
    while (fgets(buf, sizeof buf, fp) != NULL) {
        char *w[6], *save = NULL, *hash;
        int n = 0, m;
        uint64_t senders, rcpts;
        double rate;
        struct sim_class *c;

        line++;
        if (strchr(buf, '\n') == NULL && !feof(fp)) {
            fclose(fp);
            return mix_error(err, errlen, file, line, "line longer than 510 bytes", NULL);
        }
        if ((hash = strchr(buf, '#')) != NULL)
            *hash = '\0';
        for (char *t = strtok_r(buf, " \t\r\n", &save); t && n < 6;
             t = strtok_r(NULL, " \t\r\n", &save))
            w[n++] = t;
        if (n == 0)
            continue;
        if (n != 5) {
            fclose(fp);
            return mix_error(err, errlen, file, line,
                             "want LABEL MODEL SENDERS PER_DAY RCPTS", NULL);
        }
        if (mix->n == SIM_MAX_CLASSES) {
            fclose(fp);
            return mix_error(err, errlen, file, line, "more than 32 classes", NULL);
        }
        if (strlen(w[0]) >= sizeof mix->c[0].label) {
            fclose(fp);
            return mix_error(err, errlen, file, line, "label longer than 31 characters", w[0]);
        }
        for (const char *p = w[0]; *p; p++)
            if (*p < 0x21 || *p > 0x7e || *p == '"' || *p == '\\' || *p == '<' || *p == '&') {
                fclose(fp);
                return mix_error(err, errlen, file, line, "bad character in label", w[0]);
            }
        for (unsigned i = 0; i < mix->n; i++)
            if (strcmp(mix->c[i].label, w[0]) == 0) {
                fclose(fp);
                return mix_error(err, errlen, file, line, "label used twice", w[0]);
            }
        if ((m = sim_model_by_name(w[1])) < 0) {
            fclose(fp);
            return mix_error(err, errlen, file, line, "unknown sender model", w[1]);
        }
        if (util_parse_u64(w[2], 1, 100000, &senders) < 0) {
            fclose(fp);
            return mix_error(err, errlen, file, line, "SENDERS must be 1..100000, not", w[2]);
        }
        if (mix_number(w[3], 0.001, 100000, &rate) < 0) {
            fclose(fp);
            return mix_error(err, errlen, file, line, "PER_DAY must be 0.001..100000, not",
                             w[3]);
        }
        if (util_parse_u64(w[4], 1, SIM_MAX_RCPTS, &rcpts) < 0) {
            fclose(fp);
            return mix_error(err, errlen, file, line, "RCPTS must be 1..8, not", w[4]);
        }
        c = &mix->c[mix->n++];
        util_strlcpy(c->label, w[0], sizeof c->label);
        c->model = (enum sim_model)m;
        c->senders = (unsigned)senders;
        c->weight = (double)senders * rate;
        c->max_rcpts = (unsigned)rcpts;
    }
    if (ferror(fp)) {
        snprintf(err, errlen, "%s: read error", file);
        fclose(fp);
        return -1;
    }
    fclose(fp);
    if (mix->n == 0) {
        snprintf(err, errlen, "%s:%u: no classes", file, line);
        return -1;
    }
    return 0;
}
