/*
 * sim_report.c - table, goals, JSON and SVG of greyrep-sim; see sim_report.h
 *
 * The chart is written by hand (no plotting library): one panel per mode,
 * the x axis the added delay on a log scale from one minute to five days
 * (with "0" for mail delivered at once), the y axis the share of each
 * class's messages delivered by then.  Wanted and unwanted mail are drawn
 * in separate panels, side by side for each mode.
 */
#include "autoconf.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sim/sim_report.h"

#define PCT(a, b) ((b) ? 100.0 * (double)(a) / (double)(b) : 0.0)

/* fmt_dur - a delay in s as "0", "45s", "12m", "3.5h", "2.1d" */
static const char *fmt_dur(double s, char *buf, size_t len)
{
    if (s < 0.5)
        snprintf(buf, len, "0");
    else if (s < 600)
        snprintf(buf, len, "%.0fs", s);
    else if (s < 7200)
        snprintf(buf, len, "%.0fm", s / 60);
    else if (s < 172800)
        snprintf(buf, len, "%.1fh", s / 3600);
    else
        snprintf(buf, len, "%.1fd", s / 86400);
    return buf;
}

/* add_goal - one judged goal */
static int add_goal(struct sim_goal *out, int n, int max, const char *id, double value,
                    double limit, int at_least, int na, const char *fmt, const char *what)
{
    if (n >= max)
        return n;
    struct sim_goal *g = &out[n];
    g->id = id;
    g->value = value;
    g->limit = limit;
    g->state = na ? GOAL_NA : (at_least ? value >= limit : value <= limit) ? GOAL_MET : GOAL_MISSED;
    snprintf(g->text, sizeof g->text, fmt, what);
    return n + 1;
}

int sim_goals(const struct sim_mix *mix, const struct sim_mode_result *r,
              struct sim_goal *out, int max)
{
    uint64_t nr_sent = 0, nr_stop = 0, er_sent = 0, er_stop = 0, good = 0, good_d = 0;
    uint64_t pool = 0, pool_ok = 0, pass_n = 0, trap = 0;
    double pass_delay = 0;
    int n = 0;

    for (unsigned c = 0; c < mix->n; c++) {
        const struct sim_class_result *k = &r->cls[c];
        enum sim_model m = mix->c[c].model;
        if (m == M_BOT_NORETRY)
            nr_sent += k->sent, nr_stop += k->stopped;
        if (m == M_BOT_EARLY)
            er_sent += k->sent, er_stop += k->stopped;
        if (sim_models[m].legit)
            good += k->good, good_d += k->good_delayed;
        if (m == M_GMAIL || m == M_O365)
            pool += k->proper, pool_ok += k->proper_ok;
        if (m == M_GMAIL || m == M_O365 || m == M_BULK)
            pass_n += k->delivered, pass_delay += k->delay_sum;
        trap += k->trap_msgs;
    }
    n = add_goal(out, n, max, "bot_noretry_stopped", PCT(nr_stop, nr_sent), 95, 1, nr_sent == 0,
                 "%s", "% of mail from bots that never retry stopped (>= 95)");
    n = add_goal(out, n, max, "bot_early_stopped", PCT(er_stop, er_sent), 80, 1, er_sent == 0,
                 "%s", "% of mail from bots that retry too early stopped (>= 80)");
    n = add_goal(out, n, max, "good_history_delayed", PCT(good_d, good), 1, 0, good == 0, "%s",
                 "% of messages from senders with a good history delayed (<= 1)");
    n = add_goal(out, n, max, "pool_first_retry", PCT(pool_ok, pool), 99, 1, pool == 0, "%s",
                 "% of greylisted pool messages delivered on the first proper retry (>= 99)");
    for (unsigned c = 0; c < mix->n; c++) {
        const struct sim_class_result *k = &r->cls[c];
        const struct sim_model_info *mi = &sim_models[mix->c[c].model];
        double retry = k->fresh_delivered ? k->fresh_retry_sum / (double)k->fresh_delivered : 0;
        char what[140];
        if (!mi->legit || mi->retry_nominal == 0 || n >= max)
            continue;
        /* "one retry interval of its MTA": its documented interval, or
         * when its first retry really comes if that is later (Postfix's
         * backoff plus the wait for the next queue scan) */
        if (retry < mi->retry_nominal)
            retry = mi->retry_nominal;
        snprintf(what, sizeof what,
                 "mean delay (s) of a new %s sender's first message (<= %.0f, one retry "
                 "interval)",
                 mix->c[c].label, retry);
        n = add_goal(out, n, max, "new_sender_delay",
                     k->fresh_delivered ? k->fresh_delay_sum / (double)k->fresh_delivered : 0,
                     retry, 0, k->fresh_delivered == 0, "%s", what);
    }
    n = add_goal(out, n, max, "selective_pass_zero", pass_n ? pass_delay / (double)pass_n : 0, 0,
                 0, !strstr(r->name, "selective") || r->selective_missing || pass_n == 0, "%s",
                 r->selective_missing
                     ? "mean delay (s) of FCrDNS + SPF/DKIM-pass pools under selective (= 0): "
                       "n/a, no selective key in this build"
                     : "mean delay (s) of FCrDNS + SPF/DKIM-pass pools under selective (= 0)");
    n = add_goal(out, n, max, "trap_stopped", 0, 0, 1, 1, "%s",
                 trap ? "trap-specific figures: n/a, no greytrap configuration in this build"
                      : "trap-specific figures: n/a, no trap mail in the mix");
    return n;
}

static const char *goal_state_name(enum sim_goal_state s)
{
    return s == GOAL_MET ? "met" : s == GOAL_MISSED ? "MISSED" : "n/a";
}

void sim_report_text(FILE *fp, const struct sim_run_info *info, const struct sim_mix *mix,
                     const struct sim_mode_result *modes, int nmodes)
{
    char a[16], b[16], c3[16], d[16];

    fprintf(fp, "greyrep-sim: seed %llu, %zu messages over %u days, mix %s, %.1f s\n",
            (unsigned long long)info->seed, info->messages, info->days, info->mix_file,
            info->wall);
    for (int i = 0; i < nmodes; i++) {
        const struct sim_mode_result *r = &modes[i];
        struct sim_goal g[SIM_MAX_GOALS];
        int ng = sim_goals(mix, r, g, SIM_MAX_GOALS);

        fprintf(fp, "\nmode %s (delay %us; %.1f s, %.1f s CPU)%s%s\n", r->name, r->delay,
                r->wall, r->cpu,
                r->note[0] ? ": " : "", r->note);
        fprintf(fp, "%-18s %7s %7s %6s %6s %6s %6s %13s %8s %9s\n", "class", "sent", "deliv%",
                "stop%", "mean", "p95", "max", "good-delayed", "new-mean", "1st-retry");
        for (unsigned c = 0; c < mix->n; c++) {
            const struct sim_class_result *k = &r->cls[c];
            char gd[32], pr[16];
            snprintf(gd, sizeof gd, "%llu/%llu", (unsigned long long)k->good_delayed,
                     (unsigned long long)k->good);
            if (k->proper)
                snprintf(pr, sizeof pr, "%.1f%%", PCT(k->proper_ok, k->proper));
            else
                snprintf(pr, sizeof pr, "-");
            fprintf(fp, "%-18s %7llu %7.1f %6.1f %6s %6s %6s %13s %8s %9s\n", mix->c[c].label,
                    (unsigned long long)k->sent, PCT(k->delivered, k->sent),
                    PCT(k->stopped, k->sent),
                    fmt_dur(k->delivered ? k->delay_sum / (double)k->delivered : 0, a, sizeof a),
                    fmt_dur(k->p95, b, sizeof b), fmt_dur(k->max, c3, sizeof c3), gd,
                    k->fresh_delivered
                        ? fmt_dur(k->fresh_delay_sum / (double)k->fresh_delivered, d, sizeof d)
                        : "-",
                    pr);
        }
        fprintf(fp, "goals:\n");
        for (int j = 0; j < ng; j++) {
            if (g[j].state == GOAL_NA)
                fprintf(fp, "  %-6s %s\n", goal_state_name(g[j].state), g[j].text);
            else
                fprintf(fp, "  %-6s %.1f %s\n", goal_state_name(g[j].state), g[j].value,
                        g[j].text);
        }
    }
    /* the same figures side by side: % stopped / mean added delay */
    fprintf(fp, "\nside by side: %% stopped / mean added delay\n%-18s", "class");
    for (int i = 0; i < nmodes; i++)
        fprintf(fp, " %20s", modes[i].name);
    fputc('\n', fp);
    for (unsigned c = 0; c < mix->n; c++) {
        fprintf(fp, "%-18s", mix->c[c].label);
        for (int i = 0; i < nmodes; i++) {
            const struct sim_class_result *k = &modes[i].cls[c];
            char cell[40];
            snprintf(cell, sizeof cell, "%.1f%% / %s", PCT(k->stopped, k->sent),
                     fmt_dur(k->delivered ? k->delay_sum / (double)k->delivered : 0, a,
                             sizeof a));
            fprintf(fp, " %20s", cell);
        }
        fputc('\n', fp);
    }
}

/* json_str - a JSON string of printable text (labels are checked ASCII) */
static void json_str(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', fp);
        if ((unsigned char)*s >= 0x20)
            fputc(*s, fp);
    }
    fputc('"', fp);
}

void sim_report_json(FILE *fp, const struct sim_run_info *info, const struct sim_mix *mix,
                     const struct sim_mode_result *modes, int nmodes)
{
    fprintf(fp, "{\"seed\":%llu,\"messages\":%zu,\"days\":%u,\"mix\":",
            (unsigned long long)info->seed, info->messages, info->days);
    json_str(fp, info->mix_file);
    fprintf(fp, ",\"wall_s\":%.2f,\"modes\":[", info->wall);
    for (int i = 0; i < nmodes; i++) {
        const struct sim_mode_result *r = &modes[i];
        struct sim_goal g[SIM_MAX_GOALS];
        int ng = sim_goals(mix, r, g, SIM_MAX_GOALS);
        fprintf(fp, "%s{\"mode\":", i ? "," : "");
        json_str(fp, r->name);
        fprintf(fp, ",\"note\":");
        json_str(fp, r->note);
        fprintf(fp, ",\"delay_s\":%u,\"wall_s\":%.2f,\"cpu_s\":%.2f,\"classes\":[", r->delay,
                r->wall, r->cpu);
        for (unsigned c = 0; c < mix->n; c++) {
            const struct sim_class_result *k = &r->cls[c];
            fprintf(fp, "%s{\"class\":", c ? "," : "");
            json_str(fp, mix->c[c].label);
            fprintf(fp, ",\"model\":");
            json_str(fp, sim_models[mix->c[c].model].name);
            fprintf(fp,
                    ",\"sent\":%llu,\"delivered\":%llu,\"stopped\":%llu,"
                    "\"delivered_pct\":%.2f,\"stopped_pct\":%.2f,\"delayed\":%llu,"
                    "\"mean_delay_s\":%.1f,\"p95_delay_s\":%u,\"max_delay_s\":%u,"
                    "\"good_history\":%llu,\"good_history_delayed\":%llu,"
                    "\"new_senders\":%llu,\"new_sender_mean_delay_s\":%.1f,"
                    "\"new_sender_mean_first_retry_s\":%.1f,"
                    "\"first_proper_retry\":%llu,\"first_proper_retry_ok\":%llu,"
                    "\"trap_messages\":%llu}",
                    (unsigned long long)k->sent, (unsigned long long)k->delivered,
                    (unsigned long long)k->stopped, PCT(k->delivered, k->sent),
                    PCT(k->stopped, k->sent), (unsigned long long)k->delayed,
                    k->delivered ? k->delay_sum / (double)k->delivered : 0.0, k->p95, k->max,
                    (unsigned long long)k->good, (unsigned long long)k->good_delayed,
                    (unsigned long long)k->fresh,
                    k->fresh_delivered ? k->fresh_delay_sum / (double)k->fresh_delivered : 0.0,
                    k->fresh_delivered ? k->fresh_retry_sum / (double)k->fresh_delivered : 0.0,
                    (unsigned long long)k->proper, (unsigned long long)k->proper_ok,
                    (unsigned long long)k->trap_msgs);
        }
        fprintf(fp, "],\"goals\":[");
        for (int j = 0; j < ng; j++) {
            fprintf(fp, "%s{\"goal\":\"%s\",\"state\":\"%s\",\"value\":%.2f,\"limit\":%.2f,"
                        "\"text\":",
                    j ? "," : "", g[j].id, goal_state_name(g[j].state), g[j].value, g[j].limit);
            json_str(fp, g[j].text);
            fputc('}', fp);
        }
        fprintf(fp, "]}");
    }
    fprintf(fp, "]}\n");
}

/* A palette that stays apart on screen and in grey print. */
static const char *const palette[] = {
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#ad494a", "#637939", "#843c39", "#7b4173", "#3182bd"};
#define NPALETTE (sizeof palette / sizeof palette[0])

/* xml_text - text for an SVG text node (labels are checked ASCII) */
static void xml_text(FILE *fp, const char *s)
{
    for (; *s; s++) {
        if (*s == '<')
            fputs("&lt;", fp);
        else if (*s == '&')
            fputs("&amp;", fp);
        else if (*s == '>')
            fputs("&gt;", fp);
        else
            fputc(*s, fp);
    }
}

/* panel_x - x position of a delay inside a panel of width w */
static double panel_x(double delay, double w)
{
    /* the first tenth of the width is the "0" column */
    if (delay <= 0)
        return 0;
    double lo = log(60.0), hi = log(432000.0), v = delay < 60 ? 60 : delay;
    return 0.1 * w + 0.9 * w * (log(v) - lo) / (hi - lo);
}

/* svg_panel - one panel: the classes of one kind (wanted or not) in one mode */
static void svg_panel(FILE *fp, const struct sim_mix *mix, const struct sim_mode_result *r,
                      int legit, double ox, double oy, double pw, double ph)
{
    static const struct { double s; const char *t; } ticks[] = {
        {0, "0"}, {60, "1m"}, {300, "5m"}, {1800, "30m"}, {3600, "1h"},
        {14400, "4h"}, {86400, "1d"}, {432000, "5d"}};

    fprintf(fp, "<g transform=\"translate(%.0f,%.0f)\">\n", ox, oy);
    fprintf(fp, "<text x=\"0\" y=\"-8\" font-size=\"14\"><tspan font-weight=\"bold\">");
    xml_text(fp, r->name);
    fprintf(fp, "</tspan> (delay %us): %s</text>\n", r->delay,
            legit ? "wanted, higher is better" : "unwanted, lower is better");
    fprintf(fp, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#fafafa\" "
                "stroke=\"#999\"/>\n", pw, ph);
    for (int y = 0; y <= 100; y += 25) {
        double yy = ph - ph * y / 100.0;
        fprintf(fp, "<line x1=\"0\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                    "<text x=\"-6\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%d%%</text>\n",
                pw, yy, yy, yy + 4, y);
    }
    for (size_t t = 0; t < sizeof ticks / sizeof ticks[0]; t++) {
        double xx = ticks[t].s == 0 ? 0.05 * pw : panel_x(ticks[t].s, pw);
        fprintf(fp, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"0\" y2=\"%.0f\" stroke=\"#ddd\"/>"
                    "<text x=\"%.1f\" y=\"%.0f\" font-size=\"11\" text-anchor=\"middle\">%s</text>\n",
                xx, xx, ph, xx, ph + 14, ticks[t].t);
    }
    fprintf(fp, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"0\" y2=\"%.0f\" stroke=\"#999\"/>\n",
            0.1 * pw, 0.1 * pw, ph);
    unsigned rank = 0;
    for (unsigned c = 0; c < mix->n; c++) {
        const struct sim_class_result *k = &r->cls[c];
        if (sim_models[mix->c[c].model].legit != legit)
            continue;
        /* colours by rank within the panel, so each panel gets the most
         * distinct ones; every other line dashed */
        unsigned q = rank++;
        if (k->sent == 0)
            continue;
        fprintf(fp, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
                    "stroke-linejoin=\"round\"%s points=\"",
                palette[q % NPALETTE], q % 2 ? " stroke-dasharray=\"7,3\"" : "");
        for (unsigned b = 0; b < SIM_CDF_BINS; b++) {
            double share = (double)k->cdf[b] / (double)k->sent;
            double x0 = b == 0 ? 0 : panel_x(sim_cdf_edge(b), pw);
            double x1 = b == 0 ? 0.1 * pw : x0;
            fprintf(fp, "%.1f,%.1f %.1f,%.1f ", x0, ph - ph * share, x1, ph - ph * share);
        }
        fprintf(fp, "\"/>\n");
    }
    fprintf(fp, "</g>\n");
}

int sim_report_svg(const char *file, const struct sim_run_info *info,
                   const struct sim_mix *mix, const struct sim_mode_result *modes,
                   int nmodes)
{
    const double pw = 440, ph = 190, ml = 60, mt = 96, gapx = 70, gapy = 62;
    unsigned nl[2] = {0, 0};
    for (unsigned c = 0; c < mix->n; c++)
        nl[sim_models[mix->c[c].model].legit != 0]++;
    const unsigned lrows = ((nl[0] > nl[1] ? nl[0] : nl[1]) + 1) / 2;
    const double W = ml + 2 * pw + gapx + 20, H = mt + nmodes * (ph + gapy) + 22.0 * lrows + 10;
    FILE *fp = fopen(file, "w");

    if (fp == NULL)
        return -1;
    fprintf(fp, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                "viewBox=\"0 0 %.0f %.0f\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
                "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            W, H, W, H);
    fprintf(fp, "<text x=\"%.0f\" y=\"28\" font-size=\"18\" font-weight=\"bold\">"
                "Share of each class delivered, against the delay greylisting added</text>\n",
            ml);
    fprintf(fp, "<text x=\"%.0f\" y=\"50\" font-size=\"12\" fill=\"#444\">greyrep-sim: "
                "seed %llu, %zu messages over %u days.  A line that ends below 100%% is mail "
                "that was never delivered;</text>\n",
            ml, (unsigned long long)info->seed, info->messages, info->days);
    fprintf(fp, "<text x=\"%.0f\" y=\"66\" font-size=\"12\" fill=\"#444\">left of the "
                "grey line: delivered at once.  Delay on a log scale.</text>\n", ml);
    for (int i = 0; i < nmodes; i++) {
        double oy = mt + i * (ph + gapy);
        svg_panel(fp, mix, &modes[i], 1, ml, oy, pw, ph);
        svg_panel(fp, mix, &modes[i], 0, ml + pw + gapx, oy, pw, ph);
    }
    double ly = mt + nmodes * (ph + gapy) - 16;
    unsigned seen[2] = {0, 0};
    for (unsigned c = 0; c < mix->n; c++) {
        int legit = sim_models[mix->c[c].model].legit != 0;
        unsigned k = seen[legit]++;
        double lx = ml + (legit ? 0 : pw + gapx) + (k % 2) * (pw / 2), yy = ly + 22.0 * (k / 2);
        fprintf(fp, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"%s\" "
                    "stroke-width=\"3\"%s/><text x=\"%.0f\" y=\"%.0f\" font-size=\"13\">",
                lx, lx + 30, yy, yy, palette[k % NPALETTE],
                k % 2 ? " stroke-dasharray=\"7,3\"" : "", lx + 38, yy + 4);
        xml_text(fp, mix->c[c].label);
        fprintf(fp, "</text>\n");
    }
    fprintf(fp, "</svg>\n");
    return fclose(fp) == 0 ? 0 : -1;
}
