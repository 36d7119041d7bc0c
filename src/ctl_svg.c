/*
 * ctl_svg.c - the chart of greyrepctl report --svg; see ctl_report.h
 *
 * Stacked bars per bucket (accepted, tempfailed, rejected), the greylist
 * passes as a line over them, a y axis with round ticks and grid lines, a
 * few time labels on the x axis, a title and a legend.  Written by hand:
 * the format is small and a plotting library would be a new dependency.
 */
#include "autoconf.h"

#include <string.h>

#include "ctl_report.h"

#define W 860
#define H 420
#define LEFT 80
#define RIGHT 24
#define TOP 64
#define BOTTOM 72

static const char *colour[3] = {"#3a923a", "#e69f00", "#c0392b"};
static const char *label[3] = {"accepted", "tempfailed", "rejected"};

/* nice_max - the smallest 1, 2, 2.5 (from 25 up) or 5 times a power of ten >= v (at least 1) */
static uint64_t nice_max(uint64_t v)
{
    uint64_t p = 1;
    if (v <= 1)
        return 1;
    for (;;) {
        if (v <= p)
            return p;
        if (v <= 2 * p)
            return 2 * p;
        if (p >= 10 && v <= 25 * p / 10)
            return 25 * p / 10;
        if (v <= 5 * p)
            return 5 * p;
        p *= 10;
    }
}

void svg_write(FILE *out, const struct report *r)
{
    const double pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
    uint64_t max = 0, ymax;
    double slot = pw / r->nbuckets;
    double barw = slot > 3 ? slot * 0.8 : slot;
    int every = (r->nbuckets + 9) / 10;
    char t1[32], t2[32];
    struct tm tm;

    for (int i = 0; i < r->nbuckets; i++) {
        uint64_t all = r->b[i].accepted + r->b[i].tempfailed + r->b[i].rejected;
        if (all > max)
            max = all;
        if (r->b[i].passes > max)
            max = r->b[i].passes;
    }
    ymax = nice_max(max);
    gmtime_r(&r->since, &tm);
    strftime(t1, sizeof t1, "%Y-%m-%d %H:%M", &tm);
    gmtime_r(&r->until, &tm);
    strftime(t2, sizeof t2, "%Y-%m-%d %H:%M", &tm);

    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
                 "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Arial, "
                 "sans-serif\" font-size=\"12\">\n",
            W, H, W, H);
    fprintf(out, "<title>greyrep decisions %s to %s UTC</title>\n", t1, t2);
    fprintf(out, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", W, H);
    fprintf(out, "<text x=\"%d\" y=\"26\" font-size=\"16\" font-weight=\"bold\">"
                 "greyrep decisions per %s</text>\n",
            LEFT, r->step == 3600 ? "hour" : r->step == 6 * 3600 ? "6 hours" : "day");
    fprintf(out, "<text x=\"%d\" y=\"44\" fill=\"#555555\">%s to %s UTC</text>\n", LEFT, t1, t2);

    /* y axis: five ticks with grid lines */
    for (int k = 0; k <= 5; k++) {
        double y = TOP + ph - ph * k / 5.0;
        unsigned long long v = (unsigned long long)(ymax * (uint64_t)k / 5);
        if (ymax < 5 && ymax * (uint64_t)k % 5 != 0)
            continue;   /* no fractional ticks */
        fprintf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\"/>\n",
                LEFT, y, W - RIGHT, y, k == 0 ? "#000000" : "#dddddd");
        fprintf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%llu</text>\n", LEFT - 8,
                y + 4, v);
    }
    fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%.1f\" stroke=\"#000000\"/>\n", LEFT,
            TOP, LEFT, TOP + ph);
    fprintf(out, "<text transform=\"translate(18 %.1f) rotate(-90)\" text-anchor=\"middle\">"
                 "decisions (recipients)</text>\n",
            TOP + ph / 2);

    /* bars */
    for (int i = 0; i < r->nbuckets; i++) {
        const uint64_t v[3] = {r->b[i].accepted, r->b[i].tempfailed, r->b[i].rejected};
        double x = LEFT + slot * i + (slot - barw) / 2, base = TOP + ph;
        for (int c = 0; c < 3; c++) {
            double h = ph * (double)v[c] / (double)ymax;
            if (v[c] == 0)
                continue;
            base -= h;
            fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                         "fill=\"%s\"><title>%s %llu</title></rect>\n",
                    x, base, barw, h, colour[c], label[c], (unsigned long long)v[c]);
        }
    }
    /* passes: a line through the bucket centres */
    fprintf(out, "<polyline fill=\"none\" stroke=\"#1f4e9a\" stroke-width=\"2\" points=\"");
    for (int i = 0; i < r->nbuckets; i++)
        fprintf(out, "%s%.1f,%.1f", i ? " " : "", LEFT + slot * (i + 0.5),
                TOP + ph - ph * (double)r->b[i].passes / (double)ymax);
    fprintf(out, "\"/>\n");

    /* x axis labels */
    for (int i = 0; i < r->nbuckets; i += every) {
        time_t t = r->since + (time_t)i * r->step;
        char when[32];
        double x = LEFT + slot * i;
        gmtime_r(&t, &tm);
        strftime(when, sizeof when, r->step < 86400 ? "%m-%d %H:00" : "%Y-%m-%d", &tm);
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000000\"/>\n",
                x, TOP + ph, x, TOP + ph + 5);
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", x,
                TOP + ph + 20, when);
    }
    fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">time (UTC)</text>\n",
            LEFT + pw / 2, H - 18);
    if (max == 0)
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#555555\">"
                     "no decisions recorded in this period</text>\n",
                LEFT + pw / 2, TOP + ph / 2);

    /* legend, top right */
    for (int c = 0; c < 4; c++) {
        double x = W - RIGHT - 430 + c * 110;
        if (c < 3)
            fprintf(out, "<rect x=\"%.1f\" y=\"18\" width=\"14\" height=\"14\" fill=\"%s\"/>\n", x,
                    colour[c]);
        else
            fprintf(out, "<line x1=\"%.1f\" y1=\"25\" x2=\"%.1f\" y2=\"25\" stroke=\"#1f4e9a\" "
                         "stroke-width=\"2\"/>\n",
                    x, x + 14);
        fprintf(out, "<text x=\"%.1f\" y=\"30\">%s</text>\n", x + 20,
                c < 3 ? label[c] : "greylist passes");
    }
    fprintf(out, "</svg>\n");
}
