/*
 * sim_models.c - the sender models of greyrep-sim; see sim.h
 *
 * Each model answers four questions: when does the sender try again,
 * from which address, with which MAIL FROM, and what does DNS say about
 * it.  The retry schedules follow the documented defaults of each MTA
 * (greyrep-sim(8) names the source of every figure); where an operator
 * publishes nothing (the Gmail-like and Office-365-like pools, bots) the
 * model says so in the man page and uses a stated assumption.
 *
 * Addresses are IPv4, one first octet per model, so that no two classes
 * ever share a network:  sender s of a static model sits alone in its /24.
 */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "facts.h"
#include "sim/sim.h"

#define MIN 60
#define HOUR 3600
#define DAY 86400

const struct sim_model_info sim_models[M_NMODELS] = {
    [M_POSTFIX] = {"postfix", 1, 300},
    [M_EXIM] = {"exim", 1, 900},
    [M_SENDMAIL] = {"sendmail", 1, 900},
    [M_EXCHANGE] = {"exchange", 1, 900},
    [M_GMAIL] = {"gmail-like", 1, 600},
    [M_O365] = {"o365-like", 1, 900},
    [M_BULK] = {"bulk-verp", 1, 300},
    [M_SELF_PTR] = {"selfhosted-ptr", 1, 300},
    [M_SELF_NOPTR] = {"selfhosted-noptr", 1, 300},
    [M_BOT_NORETRY] = {"bot-noretry", 0, 0},
    [M_BOT_EARLY] = {"bot-early", 0, 0},
    [M_BOT_RETRY] = {"bot-retry", 0, 0},
    [M_SNOWSHOE] = {"snowshoe", 0, 300},
    [M_TRAP] = {"trap-spammer", 0, 300},
    [M_BACKSCATTER] = {"backscatter", 0, 300},
};

/* first octet of each model's addresses */
static const unsigned char model_net[M_NMODELS] = {
    [M_POSTFIX] = 11, [M_EXIM] = 12, [M_SENDMAIL] = 13, [M_EXCHANGE] = 14,
    [M_GMAIL] = 209, [M_O365] = 40, [M_BULK] = 15, [M_SELF_PTR] = 16,
    [M_SELF_NOPTR] = 17, [M_BOT_NORETRY] = 180, [M_BOT_EARLY] = 181,
    [M_BOT_RETRY] = 182, [M_SNOWSHOE] = 185, [M_TRAP] = 190, [M_BACKSCATTER] = 18,
};

/* sim_model_by_name - the model of a mix-file name, or -1 */
int sim_model_by_name(const char *name)
{
    for (int m = 0; m < M_NMODELS; m++)
        if (strcmp(sim_models[m].name, name) == 0)
            return m;
    return -1;
}

/* queue_run_at - the first run of a queue runner (every period s, at
 * phase) at or after t */
static time_t queue_run_at(time_t t, unsigned period, unsigned phase)
{
    time_t base = t - (time_t)(phase % period);
    time_t k = (base + (time_t)period - 1) / (time_t)period;
    return k * (time_t)period + (time_t)(phase % period);
}

/* postfix_next - qmgr: a deferred message waits its age, clamped to
 * [minimal_backoff_time, maximal_backoff_time] = [300, 4000] s, and is
 * picked up by the next deferred-queue scan (queue_run_delay = 300 s);
 * bounced after maximal_queue_lifetime = 5 d */
static time_t postfix_next(const struct sim_sender *s, time_t first, time_t last)
{
    time_t age = last - first, backoff = age < 300 ? 300 : age > 4000 ? 4000 : age;
    time_t t = queue_run_at(last + backoff, 300, s->phase);
    return t - first > 5 * DAY ? -1 : t;
}

/* exim_next - the default retry rule "F,2h,15m; G,16h,1h,1.5; F,4d,6h",
 * measured from the first failure; a retry happens at the first queue run
 * after its retry time (Debian: QUEUEINTERVAL=30m); bounce after 4 d */
static time_t exim_next(const struct sim_sender *s, time_t first, time_t last)
{
    time_t e = last - first, iv;
    if (e < 2 * HOUR) {
        iv = 15 * MIN;
    } else if (e < 16 * HOUR) {
        double sum = 0, g = HOUR;
        while (sum + g <= (double)(e - 2 * HOUR))
            sum += g, g *= 1.5;
        iv = (time_t)g;
    } else {
        iv = 6 * HOUR;
    }
    time_t t = queue_run_at(last + iv, 30 * MIN, s->phase);
    return t - first > 4 * DAY ? -1 : t;
}

/* sendmail_next - a queue runner every 15 min (-q15m) tries every queued
 * message (MinQueueAge 0); Timeout.queuereturn = 5 d */
static time_t sendmail_next(const struct sim_sender *s, time_t first, time_t last)
{
    time_t t = queue_run_at(last + 1, 15 * MIN, s->phase);
    return t - first > 5 * DAY ? -1 : t;
}

/* exchange_next - Exchange transport: MessageRetryInterval = 15 min,
 * MessageExpirationTimeout = 2 d */
static time_t exchange_next(time_t first, time_t last)
{
    time_t t = last + 15 * MIN;
    return t - first > 2 * DAY ? -1 : t;
}

time_t sim_model_next(const struct sim_sender *s, time_t first, time_t last,
                      unsigned attempt, struct sim_rng *rng)
{
    switch (s->model) {
    case M_POSTFIX:
    case M_BULK:
    case M_SELF_PTR:
    case M_SELF_NOPTR:
    case M_SNOWSHOE:
    case M_TRAP:
    case M_BACKSCATTER:
        return postfix_next(s, first, last);
    case M_EXIM:
        return exim_next(s, first, last);
    case M_SENDMAIL:
        return sendmail_next(s, first, last);
    case M_EXCHANGE:
        return exchange_next(first, last);
    case M_GMAIL: {
        /* assumption: first retry after 5-10 min, gaps doubling to 2 h, 3 d */
        time_t iv = (time_t)(5 * MIN + sim_rng_below(rng, 5 * MIN));
        for (unsigned i = 1; i < attempt && iv < 2 * HOUR; i++)
            iv *= 2;
        if (iv > 2 * HOUR)
            iv = 2 * HOUR;
        return last + iv - first > 3 * DAY ? -1 : last + iv;
    }
    case M_O365:
        /* assumption: as Exchange on premises, 15 min apart, 2 d */
        return exchange_next(first, last);
    case M_BOT_NORETRY:
        return -1;
    case M_BOT_EARLY:
        /* one retry, 30 s to 4 min later: before any 5 min delay */
        return attempt == 1 ? last + 30 + (time_t)sim_rng_below(rng, 210) : -1;
    case M_BOT_RETRY:
        /* a spam engine with a retry queue: 4 retries 10-20 min apart */
        return attempt <= 4 ? last + 10 * MIN + (time_t)sim_rng_below(rng, 10 * MIN) : -1;
    case M_NMODELS:
        break;
    }
    return -1;
}

/* ip4 - a.b.c.d in host order */
static uint32_t ip4(unsigned a, unsigned b, unsigned c, unsigned d)
{
    return (uint32_t)(a & 255) << 24 | (uint32_t)(b & 255) << 16 | (uint32_t)(c & 255) << 8
           | (d & 255);
}

uint32_t sim_model_client(const struct sim_sender *s, uint32_t msg, unsigned attempt,
                          struct sim_rng *rng)
{
    unsigned net = model_net[s->model], id = s->local_id;
    struct sim_rng r;

    switch (s->model) {
    case M_GMAIL: {
        /* one shared outbound pool: 64 addresses in 16 /24s, any may retry */
        unsigned k = (unsigned)sim_rng_below(rng, 64);
        return ip4(net, 85, 128 + k / 4, 10 + k % 4);
    }
    case M_O365:
        /* every attempt from another /24 of a /15 (512 networks) */
        return ip4(net, 92 + (unsigned)sim_rng_below(rng, 2), (unsigned)sim_rng_below(rng, 256),
                   (unsigned)sim_rng_below(rng, 254) + 1);
    case M_BULK:
        return ip4(net, id >> 8, id, 10 + msg % 4);
    case M_BOT_NORETRY:
    case M_BOT_EARLY:
    case M_BOT_RETRY:
        /* a dynamic address per message; the same for its retries */
        sim_rng_seed(&r, 0xb07, s->id, msg, 0);
        return ip4(net + (unsigned)sim_rng_below(&r, 4), (unsigned)sim_rng_below(&r, 256),
                   (unsigned)sim_rng_below(&r, 256), (unsigned)sim_rng_below(&r, 254) + 1);
    case M_SNOWSHOE: {
        /* 256 addresses over 32 /24s per campaign, any message any of them */
        unsigned k = (unsigned)sim_rng_below(rng, 256);
        (void)attempt;
        return ip4(net, id, k / 8, 20 + k % 8);
    }
    case M_TRAP:
        return ip4(net, id >> 8, id, 30 + msg % 3);
    default:
        return ip4(net, id >> 8, id, 25);
    }
}

void sim_model_sender(const struct sim_sender *s, uint32_t msg, time_t first,
                      unsigned rcpt, char *buf, size_t len)
{
    unsigned id = s->local_id;
    switch (s->model) {
    case M_GMAIL:
        snprintf(buf, len, "user%u@gmail-like.example", id);
        break;
    case M_O365:
        snprintf(buf, len, "staff%u@tenant%u.example", msg % 7, id);
        break;
    case M_BULK:
        /* half the lists put a number in the VERP address (list managers),
         * half an opaque token with letters (mailing services) */
        if (id % 2 == 0)
            snprintf(buf, len, "news-bounces+%u-user%u=example.org@list%u.example", msg,
                     rcpt, id);
        else
            snprintf(buf, len, "b.%08x%04xq.user%u=example.org@bounce.esp%u.example",
                     (unsigned)(msg * 2654435761u), msg & 0xffff, rcpt, id);
        break;
    case M_BOT_NORETRY:
    case M_BOT_EARLY:
    case M_BOT_RETRY:
    case M_TRAP:
        snprintf(buf, len, "x%u@forged%u.example", msg % 9973, msg % 500);
        break;
    case M_SNOWSHOE:
        snprintf(buf, len, "offers@snow%u-d%ld.example", id, (long)(first / DAY));
        break;
    case M_BACKSCATTER:
        buf[0] = '\0';
        break;
    default:
        snprintf(buf, len, "person%u@%s%u.example", msg % 5, sim_models[s->model].name, id);
        break;
    }
}

void sim_model_helo(const struct sim_sender *s, uint32_t client, char *buf, size_t len)
{
    snprintf(buf, len, "mx%u.%s%u.example", client & 255, sim_models[s->model].name,
             s->local_id);
}

void sim_model_dns(const struct sim_sender *s, uint32_t client, time_t first,
                   struct sim_dns *out)
{
    unsigned a = client >> 24, b = (client >> 16) & 255, c = (client >> 8) & 255, d = client & 255;
    unsigned id = s->local_id;

    memset(out, 0, sizeof *out);
    out->ptr = PTR_MATCH;
    out->spf = SPF_PASS;
    switch (s->model) {
    case M_GMAIL:
        snprintf(out->ptr_name, sizeof out->ptr_name, "mail-sor-f%u.gpool.example",
                 (c - 128) * 4 + d);
        out->dkim_pass = 1;
        break;
    case M_O365:
        snprintf(out->ptr_name, sizeof out->ptr_name, "mail-eur%uon%u.outbound.protection.example",
                 b, c * 256 + d);
        out->dkim_pass = 1;
        break;
    case M_BULK:
        snprintf(out->ptr_name, sizeof out->ptr_name, "o%u.out.esp%u.example", d, id);
        out->dkim_pass = 1;
        break;
    case M_SELF_NOPTR:
        out->ptr = PTR_NONE;
        out->spf = id % 2 ? SPF_PASS : SPF_NONE;
        break;
    case M_SELF_PTR:
        snprintf(out->ptr_name, sizeof out->ptr_name, "mail.selfhosted%u.example", id);
        out->spf = id % 3 ? SPF_PASS : SPF_NONE;
        break;
    case M_BOT_NORETRY:
    case M_BOT_EARLY:
    case M_BOT_RETRY:
        /* half without PTR, half with the provider's generic name */
        if ((client ^ (client >> 9)) % 2) {
            out->ptr = PTR_NONE;
        } else {
            snprintf(out->ptr_name, sizeof out->ptr_name, "%u-%u-%u-%u.dyn.isp%u.example", a,
                     b, c, d, a);
        }
        /* forged sender domains: fail, softfail or no SPF at all */
        out->spf = (client % 10) < 4 ? SPF_FAIL : (client % 10) < 7 ? SPF_SOFTFAIL : SPF_NONE;
        out->dnsbl_listed = (client % 10) < 6;
        break;
    case M_SNOWSHOE:
        /* fresh domain of the day, valid SPF and DKIM, matching PTRs */
        snprintf(out->ptr_name, sizeof out->ptr_name, "mx%u.snow%u-d%ld.example", c * 8 + d,
                 id, (long)(first / DAY));
        out->dkim_pass = 1;
        break;
    case M_TRAP:
        out->ptr = PTR_NONE;
        out->spf = SPF_NONE;
        out->dnsbl_listed = 1;
        break;
    case M_BACKSCATTER:
        snprintf(out->ptr_name, sizeof out->ptr_name, "mail.bouncer%u.example", id);
        out->spf = SPF_NONE;   /* HELO identity without SPF */
        break;
    default:
        snprintf(out->ptr_name, sizeof out->ptr_name, "mail.%s%u.example",
                 sim_models[s->model].name, id);
        out->dkim_pass = s->model == M_EXCHANGE ? 0 : id % 2;
        break;
    }
}
