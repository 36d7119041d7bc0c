/*
 * sim_run.c - traffic generation and the event loop of one mode; see sim_run.h
 *
 * The event loop is a binary heap of messages keyed by their next attempt.
 * At each attempt every recipient still pending goes through sim_decide(),
 * as separate RCPT TO commands of one transaction would; accepted ones are
 * delivered, the rest wait for the sender's next retry.  The daemon's
 * expiry sweep runs once a virtual day: a record past its expiry is absent
 * for every reader whether or not it was swept (store.h), so the sweep
 * changes the store's size, never a verdict, and sweeping every minute as
 * the daemon does would only spend the sweeper's pauses in real time.
 */
#include "autoconf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/sim_decide.h"
#include "sim/sim_run.h"

#define DAY 86400
#define NUSERS 1000      /* ordinary recipients user0..user999@example.org */
#define NTRAPS 10        /* trap0..trap9@example.org (trap-spammer targets) */
#define SWEEP_EVERY (7 * DAY) /* the expiry sweep, in virtual time */

double sim_cdf_edge(unsigned bin)
{
    if (bin == 0)
        return 0;
    /* 1 min .. 5 days, log-spaced */
    return 60.0 * pow(7200.0, (double)(bin - 1) / (SIM_CDF_BINS - 2));
}

void sim_rcpt_name(unsigned r, char *buf, size_t len)
{
    if (r >= NUSERS)
        snprintf(buf, len, "trap%u@example.org", r - NUSERS);
    else
        snprintf(buf, len, "user%u@example.org", r);
}

/* msg_cmp - order by first attempt, then by sender (stable across libcs) */
static int msg_cmp(const void *a, const void *b)
{
    const struct sim_msg *x = a, *y = b;
    if (x->first != y->first)
        return x->first < y->first ? -1 : 1;
    if (x->sender != y->sender)
        return x->sender < y->sender ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* pick_rcpts - the recipients of one message */
static void pick_rcpts(const struct sim_sender *s, const struct sim_class *c, struct sim_msg *m,
                       struct sim_rng *r)
{
    m->nrcpt = (uint8_t)(1 + sim_rng_below(r, c->max_rcpts));
    for (unsigned i = 0; i < m->nrcpt; i++) {
        unsigned u;
        if (sim_models[s->model].legit) {
            /* people write to the same few correspondents again */
            uint64_t x = ((uint64_t)s->id << 20) ^ sim_rng_below(r, s->ncorr);
            u = (unsigned)(sim_splitmix64(&x) % NUSERS);
        } else if (s->model == M_TRAP && sim_rng_below(r, 10) < 3) {
            u = NUSERS + (unsigned)sim_rng_below(r, NTRAPS);
            m->trap = 1;
        } else {
            u = (unsigned)sim_rng_below(r, NUSERS);
        }
        /* no recipient twice in one message */
        int dup = 0;
        for (unsigned j = 0; j < i; j++)
            dup |= m->rcpt[j] == u;
        if (dup) {
            m->nrcpt = (uint8_t)i;
            break;
        }
        m->rcpt[i] = (uint16_t)u;
    }
    m->pending = (uint8_t)((1u << m->nrcpt) - 1);
}

int sim_traffic_build(struct sim_traffic *t, const struct sim_mix *mix, uint64_t seed,
                      size_t nmsgs, unsigned days)
{
    double total = 0;
    size_t ns = 0, nm = 0, next_local[M_NMODELS] = {0};
    struct sim_rng r;

    memset(t, 0, sizeof *t);
    t->mix = mix;
    t->seed = seed;
    t->days = days;
    for (unsigned i = 0; i < mix->n; i++) {
        total += mix->c[i].weight;
        ns += mix->c[i].senders;
    }
    t->senders = calloc(ns, sizeof *t->senders);
    t->msgs = calloc(nmsgs + mix->n, sizeof *t->msgs);
    if (t->senders == NULL || t->msgs == NULL)
        return -1;
    sim_rng_seed(&r, seed, 1, 0, 0);
    for (unsigned i = 0; i < mix->n; i++) {
        const struct sim_class *c = &mix->c[i];
        size_t base = t->nsenders;
        for (unsigned k = 0; k < c->senders; k++) {
            struct sim_sender *s = &t->senders[t->nsenders];
            s->model = c->model;
            s->id = (uint32_t)t->nsenders++;
            s->local_id = (uint32_t)next_local[c->model]++;
            s->cls = i;
            s->phase = (uint32_t)sim_rng_below(&r, 3600);
            s->ncorr = 1 + (unsigned)sim_rng_below(&r, 5);
        }
        size_t want = (size_t)llround((double)nmsgs * c->weight / total);
        for (size_t k = 0; k < want; k++) {
            struct sim_msg *m = &t->msgs[nm];
            struct sim_rng mr;
            double u;
            sim_rng_seed(&mr, seed, 2, i, k);
            m->sender = (uint32_t)(base + sim_rng_below(&mr, c->senders));
            u = sim_rng_unit(&mr);
            /* snowshoe campaigns ramp up: density grows linearly */
            if (c->model == M_SNOWSHOE)
                u = sqrt(u);
            m->first = SIM_EPOCH + (time_t)(u * (double)days * DAY);
            pick_rcpts(&t->senders[m->sender], c, m, &mr);
            m->id = (uint32_t)nm++;
        }
    }
    qsort(t->msgs, nm, sizeof *t->msgs, msg_cmp);
    for (size_t k = 0; k < nm; k++) {
        t->msgs[k].id = (uint32_t)k;
        t->msgs[k].next = t->msgs[k].first;
    }
    t->nmsgs = nm;
    return 0;
}

void sim_traffic_free(struct sim_traffic *t)
{
    free(t->senders);
    free(t->msgs);
    memset(t, 0, sizeof *t);
}

/* --- the heap of pending messages ---------------------------------- */

struct heap {
    uint32_t *h;
    size_t n;
    const struct sim_msg *m;
};

/* heap_less - earlier next attempt first; ties by message id */
static int heap_less(const struct heap *hp, uint32_t a, uint32_t b)
{
    const struct sim_msg *x = &hp->m[a], *y = &hp->m[b];
    return x->next < y->next || (x->next == y->next && a < b);
}

static void heap_push(struct heap *hp, uint32_t v)
{
    size_t i = hp->n++;
    hp->h[i] = v;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!heap_less(hp, hp->h[i], hp->h[p]))
            break;
        uint32_t tmp = hp->h[i];
        hp->h[i] = hp->h[p];
        hp->h[p] = tmp;
        i = p;
    }
}

static uint32_t heap_pop(struct heap *hp)
{
    uint32_t top = hp->h[0];
    size_t i = 0;
    hp->h[0] = hp->h[--hp->n];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, s = i;
        if (l < hp->n && heap_less(hp, hp->h[l], hp->h[s]))
            s = l;
        if (r < hp->n && heap_less(hp, hp->h[r], hp->h[s]))
            s = r;
        if (s == i)
            break;
        uint32_t tmp = hp->h[i];
        hp->h[i] = hp->h[s];
        hp->h[s] = tmp;
        i = s;
    }
    return top;
}

/* --- one mode ------------------------------------------------------- */

struct sender_state {
    uint32_t started, delivered;
    time_t first_delivery;
};

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* first_retry_gap - when the sender's MTA makes its first retry of m, s
 * after the first attempt (the same draw the event loop makes); 0 if never */
static double first_retry_gap(const struct sim_traffic *t, const struct sim_msg *m)
{
    struct sim_rng rr;
    sim_rng_seed(&rr, t->seed, 4, m->id, 0);
    time_t next = sim_model_next(&t->senders[m->sender], m->first, m->first, 1, &rr);
    return next > m->first ? (double)(next - m->first) : 0;
}

/* finish - account one message that is delivered or stopped */
static void finish(const struct sim_traffic *t, struct sim_class_result *cr, struct sim_msg *m,
                   uint32_t **delays, size_t *nd)
{
    if (m->good_history) {
        cr->good++;
        cr->good_delayed += m->done == 0 || m->done > m->first;
    }
    if (m->proper_seen) {
        cr->proper++;
        cr->proper_ok += m->proper_ok;
    }
    if (m->done == 0) {
        cr->stopped++;
        return;
    }
    uint32_t d = (uint32_t)(m->done - m->first);
    cr->delivered++;
    cr->delay_sum += d;
    cr->delayed += d > 0;
    if (d > cr->max)
        cr->max = d;
    if (m->new_sender) {
        cr->fresh_delivered++;
        cr->fresh_delay_sum += d;
        cr->fresh_retry_sum += first_retry_gap(t, m);
    }
    unsigned b = 0;
    while (b + 1 < SIM_CDF_BINS && sim_cdf_edge(b) < d)
        b++;
    cr->cdf[b]++;
    (*delays)[(*nd)++] = d;
}

int sim_mode_run(const struct sim_traffic *t, struct cfg *cfg, const char *dir,
                 struct sim_mode_result *res, char *err, size_t errlen)
{
    struct sim_decider *dec = sim_decider_open(cfg, dir, err, errlen);
    struct sim_msg *msgs;
    struct sender_state *ss;
    struct heap hp;
    uint32_t *delays[SIM_MAX_CLASSES] = {0};
    size_t nd[SIM_MAX_CLASSES] = {0};
    struct timespec t0, t1;
    time_t next_sweep = SIM_EPOCH + SWEEP_EVERY;

    if (dec == NULL)
        return -1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    res->delay = cfg->grey.delay;
    msgs = malloc(t->nmsgs * sizeof *msgs + 1);
    ss = calloc(t->nsenders + 1, sizeof *ss);
    hp.h = malloc((t->nmsgs + 1) * sizeof *hp.h);
    hp.n = 0;
    hp.m = msgs;
    for (unsigned c = 0; c < t->mix->n; c++)
        delays[c] = malloc((t->nmsgs + 1) * sizeof **delays);
    if (msgs == NULL || ss == NULL || hp.h == NULL) {
        snprintf(err, errlen, "out of memory");
        sim_decider_close(dec);
        return -1;
    }
    memcpy(msgs, t->msgs, t->nmsgs * sizeof *msgs);
    for (size_t i = 0; i < t->nmsgs; i++)
        heap_push(&hp, (uint32_t)i);

    while (hp.n > 0) {
        uint32_t mi = heap_pop(&hp);
        struct sim_msg *m = &msgs[mi];
        const struct sim_sender *s = &t->senders[m->sender];
        struct sim_class_result *cr = &res->cls[s->cls];
        struct sender_state *st = &ss[m->sender];
        time_t now = m->next;
        unsigned k = m->attempt;
        struct sim_rng rng;
        struct sim_dns dns;
        struct sim_attempt a;
        char helo[160], sender[300], rcpt[64];
        uint32_t client;

        while (next_sweep <= now) {
            sim_sweep(dec, next_sweep);
            next_sweep += SWEEP_EVERY;
        }
        if (k == 0) {
            cr->sent++;
            cr->trap_msgs += m->trap;
            m->new_sender = st->started++ == 0 && sim_models[s->model].legit;
            if (m->new_sender)
                cr->fresh++;
            m->good_history = sim_models[s->model].legit && st->delivered >= 3
                              && now - st->first_delivery >= DAY;
        }
        sim_rng_seed(&rng, t->seed, 3, m->id, k);
        client = sim_model_client(s, m->id, k, &rng);
        sim_model_dns(s, client, m->first, &dns);
        sim_model_helo(s, client, helo, sizeof helo);
        a.client = client;
        a.helo = helo;
        a.dns = &dns;
        a.sender = sender;
        a.rcpt = rcpt;
        for (unsigned i = 0; i < m->nrcpt && !m->stopped; i++) {
            struct verdict v;
            if (!(m->pending & (1u << i)))
                continue;
            sim_model_sender(s, m->id, m->first, m->rcpt[i], sender, sizeof sender);
            sim_rcpt_name(m->rcpt[i], rcpt, sizeof rcpt);
            sim_decide(dec, &a, now, &v);
            if (v.action == V_ACCEPT)
                m->pending &= (uint8_t)~(1u << i);
            else if (v.action == V_REJECT)
                m->stopped = 1;
        }
        m->attempt++;
        if (k >= 1 && !m->proper_seen && now - m->first >= (time_t)cfg->grey.delay) {
            m->proper_seen = 1;
            m->proper_ok = m->pending == 0 && !m->stopped;
        }
        if (m->pending == 0 && !m->stopped) {
            m->done = now;
            if (st->delivered++ == 0)
                st->first_delivery = now;
            finish(t, cr, m, &delays[s->cls], &nd[s->cls]);
            continue;
        }
        if (!m->stopped) {
            struct sim_rng rr;
            sim_rng_seed(&rr, t->seed, 4, m->id, k);
            time_t next = sim_model_next(s, m->first, now, k + 1, &rr);
            if (next > now) {
                m->next = next;
                heap_push(&hp, mi);
                continue;
            }
        }
        m->stopped = 1;
        finish(t, cr, m, &delays[s->cls], &nd[s->cls]);
    }
    for (unsigned c = 0; c < t->mix->n; c++) {
        struct sim_class_result *cr = &res->cls[c];
        if (nd[c] > 0) {
            qsort(delays[c], nd[c], sizeof **delays, cmp_u32);
            size_t idx = (size_t)ceil(0.95 * (double)nd[c]) - 1;
            cr->p95 = delays[c][idx];
        }
        for (unsigned b = 1; b < SIM_CDF_BINS; b++)
            cr->cdf[b] += cr->cdf[b - 1];
        free(delays[c]);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    res->wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    free(hp.h);
    free(ss);
    free(msgs);
    sim_decider_close(dec);
    return 0;
}
