/*
 * NAME
 *   greyrep-loadgen - milter load generator
 * SYNOPSIS
 *   greyrep-loadgen -s SOCKET [-c CONNS] [-d SECONDS | -n MESSAGES] [options]
 * DESCRIPTION
 *   Plays an MTA with CONNS concurrent milter connections (1..2000), each
 *   running one SMTP session after another: negotiate, connect, helo, mail,
 *   rcpt (one or more), then data, headers, eoh, body and eom when a
 *   recipient passed, or abort when none did, and quit.  A few worker
 *   threads each run an epoll loop over non-blocking sockets, built on
 *   milter_client's non-blocking pieces.
 *
 *   Each session is one message of one class, drawn by weight (--mix):
 *   a new triplet (client address, sender, recipients never seen before),
 *   a proper retry of a triplet sent earlier by the same thread (same
 *   address, sender and recipients; with --retry-after only triplets at
 *   least that old), or a message from a whitelisted client network.
 *   Every field of a message derives from a 64-bit seed through a full
 *   64-bit mix, so addresses, senders and recipients are spread over their
 *   whole ranges.  Client addresses come from benchmarking/documentation
 *   ranges: new clients from 198.18.0.0/15 and 2001:2::/48, whitelisted
 *   ones from 192.0.2.0/24 and 2001:db8::/32 (configure greyrep's client
 *   whitelist with those two).
 *
 *   It reports messages per second, the RCPT decision latency (time from
 *   writing RCPT to reading its reply) as p50/p99/p99.9/max in
 *   microseconds, the replies at RCPT (tempfail, reject, pass = continue or
 *   accept) per class, end-of-message outcomes and errors, as a table or
 *   with --json as one JSON object.
 * OPTIONS
 *   See lg_usage() below, or run with -h.
 * DIAGNOSTICS
 *   Exit 0 when messages were sent without a single error, 1 otherwise,
 *   2 for a usage error.  The first errors are described on stderr.
 */
#ifdef HAVE_CONFIG_H
#include "autoconf.h"
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "milter_client.h"

#define LG_CONNS_MAX 2000
#define LG_THREADS_MAX 64
#define LG_RCPTS_MAX 100
#define LG_HEADERS 5
#define LG_ERRORS_SHOWN 10
#define LG_HEXACT 2048		/* latencies below this are kept exactly */
#define LG_HSUB 128		/* sub-buckets per power of two above */
#define LG_HBUCKETS (LG_HEXACT + 30 * LG_HSUB)

enum lg_class {
    LG_NEW, LG_RETRY, LG_WL, LG_NCLASS
};

static const char *lg_class_name[LG_NCLASS] = {"new", "retry", "whitelist"};

/* What a recipient got. */
enum lg_outcome {
    LG_TEMPFAIL, LG_REJECT, LG_PASS, LG_OTHER, LG_NOUT
};

static const char *lg_outcome_name[LG_NOUT] = {"tempfail", "reject", "pass", "other"};

/* A client network: family, address, prefix length. */
struct lg_net {
    int     family;
    unsigned char addr[16];
    int     prefix;
};

/* Command-line settings. */
struct lg_opts {
    const char *spec;
    struct mc_addr addr;
    int     conns;
    int     threads;
    double  duration;
    unsigned long long messages;
    int     timeout_ms;
    unsigned weight[LG_NCLASS];
    int     rcpt_min;
    int     rcpt_max;
    double  ipv6;
    size_t  body;
    double  retry_after;
    struct lg_net net4, net6, wl4, wl6;
    unsigned long users;
    const char *domain;
    unsigned long long seed;
    size_t  history;
    int     json;
    int     macros;
    int     verbose;
    int     ack_fd;		/* --ack-log: one line per RCPT reply, or -1 */
};

/* Counters; one set per thread, summed at the end. */
struct lg_stats {
    unsigned long long messages;
    unsigned long long class_msgs[LG_NCLASS];
    unsigned long long class_rcpt[LG_NCLASS][LG_NOUT];
    unsigned long long rcpts;
    unsigned long long rcpt_continue, rcpt_accept, rcpt_tempfail;
    unsigned long long rcpt_reject, rcpt_replycode4, rcpt_replycode5;
    unsigned long long rcpt_discard, rcpt_noreply, rcpt_other;
    unsigned long long early_connect, early_helo, early_mail, aborted;
    unsigned long long stopped_in_data;
    unsigned long long eom_continue, eom_accept, eom_other, mods;
    unsigned long long retry_fallback;
    unsigned long long err_timeout, err_eof, err_proto, err_io, err_connect;
    unsigned long long lat_count, lat_max, lat_sum;
    unsigned long long last_done_us;
    unsigned long long hist[LG_HBUCKETS];
};

/* lg_sum() adds them up as an array: every field must be a counter. */
_Static_assert(sizeof(struct lg_stats) % sizeof(unsigned long long) == 0,
	       "struct lg_stats holds only unsigned long long");

/* One remembered new triplet, for retries. */
struct lg_past {
    unsigned long long seed;
    unsigned long long t_us;
};

enum lg_state {
    LG_IDLE, LG_CONNECTING, LG_NEGOTIATING, LG_WAITING, LG_CLOSING, LG_DONE
};

enum lg_phase {
    P_CONNECT, P_HELO, P_MAIL, P_RCPT, P_DATA, P_HEADER, P_EOH, P_BODY,
    P_EOM, P_ABORT, P_QUIT
};

static const char *lg_phase_name[] = {
    "connect", "helo", "mail", "rcpt", "data", "header", "eoh", "body",
    "eom", "abort", "quit",
};

struct lg_thread;

/* One connection and the session it is running. */
struct lg_conn {
    struct mc_conn mc;
    struct lg_thread *th;
    enum lg_state state;
    enum lg_phase phase;
    int     index;		/* recipient, header or body chunk number */
    int     step_cmd;		/* command whose reply we wait for */
    int     want_out;		/* EPOLLOUT registered */
    unsigned long long t_sent;	/* when the awaited command was written */
    unsigned long long deadline;
    unsigned long long wake;	/* LG_IDLE: start the next session then */
    unsigned long long busy_since;	/* first "backlog full" of this try */
    enum lg_class cls;
    unsigned long long seed;
    int     v6;
    int     nrcpt;
    int     rcpt_ok;
    char    addr[INET6_ADDRSTRLEN];
    char    sender[80];
};

/* One worker thread. */
struct lg_thread {
    pthread_t tid;
    int     id;
    int     epfd;
    struct lg_conn *conns;
    int     nconns;
    unsigned long long rng;
    struct lg_past *past;
    size_t  past_head;		/* oldest entry */
    size_t  past_count;
    struct lg_stats st;
};

static struct lg_opts opt;
static char *lg_body;
static atomic_int lg_stop;
static atomic_ullong lg_claimed;
static atomic_int lg_errors_shown;
static unsigned long long lg_start_us;

/* lg_now_us - monotonic clock in microseconds */
static unsigned long long lg_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long) ts.tv_sec * 1000000ULL
	+ (unsigned long long) ts.tv_nsec / 1000;
}

/* lg_mix - splitmix64 finaliser: every input bit moves every output bit */
static unsigned long long lg_mix(unsigned long long x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* lg_rand - next number of a thread's generator */
static unsigned long long lg_rand(struct lg_thread *th)
{
    th->rng += 0x9e3779b97f4a7c15ULL;
    return lg_mix(th->rng);
}

/* lg_hbucket - histogram bucket of a latency */
static size_t lg_hbucket(unsigned long long v)
{
    int     e;

    if (v < LG_HEXACT)
	return (size_t) v;
    e = 63 - __builtin_clzll(v);
    if (e > 40)
	return LG_HBUCKETS - 1;
    return LG_HEXACT + (size_t) (e - 11) * LG_HSUB
	+ (size_t) ((v >> (e - 7)) & (LG_HSUB - 1));
}

/* lg_hvalue - the largest latency a bucket holds */
static unsigned long long lg_hvalue(size_t b)
{
    int     e;
    unsigned long long sub;

    if (b < LG_HEXACT)
	return b;
    b -= LG_HEXACT;
    e = (int) (b / LG_HSUB) + 11;
    sub = b % LG_HSUB;
    return ((LG_HSUB + sub + 1) << (e - 7)) - 1;
}

/* lg_error - count an error and describe the first few on stderr */
static void lg_error(struct lg_conn *lc, int rc, const char *what)
{
    struct lg_stats *st = &lc->th->st;

    switch (rc) {
    case MC_ETIMEOUT:
	st->err_timeout++;
	break;
    case MC_EEOF:
	st->err_eof++;
	break;
    case MC_EPROTO:
	st->err_proto++;
	break;
    default:
	st->err_io++;
	break;
    }
    if (atomic_fetch_add(&lg_errors_shown, 1) < LG_ERRORS_SHOWN || opt.verbose)
	fprintf(stderr, "greyrep-loadgen: client %s: %s: %s: %s\n", lc->addr,
		lc->state == LG_CONNECTING ? "connecting"
		: lc->state == LG_NEGOTIATING ? "negotiation"
		: lg_phase_name[lc->phase], what, lc->mc.err);
}

/* lg_net_pick - an address in a network, host bits from two random words */
static void lg_net_pick(const struct lg_net *net, unsigned long long r1,
			        unsigned long long r2, char *out, size_t outlen)
{
    unsigned char a[16];
    unsigned char rnd[16];
    int     len = net->family == AF_INET ? 4 : 16;
    int     i;
    int     bits;

    memcpy(rnd, &r1, 8);
    memcpy(rnd + 8, &r2, 8);
    for (i = 0; i < len; i++) {
	bits = net->prefix - 8 * i;
	if (bits >= 8)
	    a[i] = net->addr[i];
	else if (bits <= 0)
	    a[i] = rnd[i];
	else
	    a[i] = (unsigned char) ((net->addr[i] & (0xff << (8 - bits)))
				    | (rnd[i] & (0xff >> bits)));
    }
    inet_ntop(net->family, a, out, (socklen_t) outlen);
}

/* lg_derive - client address, sender and recipient count from the seed */
static void lg_derive(struct lg_conn *lc)
{
    unsigned long long s = lc->seed;
    unsigned long long h1 = lg_mix(s ^ 0x11);
    const struct lg_net *net;

    lc->v6 = (double) (h1 % 1000000) < opt.ipv6 * 1000000.0;
    if (lc->cls == LG_WL)
	net = lc->v6 ? &opt.wl6 : &opt.wl4;
    else
	net = lc->v6 ? &opt.net6 : &opt.net4;
    lg_net_pick(net, lg_mix(s ^ 0x22), lg_mix(s ^ 0x33), lc->addr,
		sizeof(lc->addr));
    snprintf(lc->sender, sizeof(lc->sender), "<%012llx@d%05llx.example.net>",
	     lg_mix(s ^ 0x44) & 0xffffffffffffULL, lg_mix(s ^ 0x55) % 0x100000);
    lc->nrcpt = opt.rcpt_min
	+ (int) (lg_mix(s ^ 0x66) % (unsigned long long) (opt.rcpt_max - opt.rcpt_min + 1));
}

/* lg_rcpt - recipient i of the session's message */
static void lg_rcpt(const struct lg_conn *lc, int i, char *out, size_t outlen)
{
    unsigned long long user = lg_mix(lc->seed ^ (0x1000 + (unsigned long long) i))
    % opt.users;

    snprintf(out, outlen, "<%08llx@%s>", lg_mix(user ^ 0x77) & 0xffffffffULL,
	     opt.domain);
}

/* lg_past_add - remember a new triplet for later retries */
static void lg_past_add(struct lg_thread *th, unsigned long long seed,
			        unsigned long long now)
{
    size_t  slot;

    if (opt.history == 0)
	return;
    if (th->past_count < opt.history) {
	slot = (th->past_head + th->past_count++) % opt.history;
    } else {
	slot = th->past_head;
	th->past_head = (th->past_head + 1) % opt.history;
    }
    th->past[slot].seed = seed;
    th->past[slot].t_us = now;
}

/* lg_past_pick - a remembered triplet old enough to retry; 0 if none */
static int lg_past_pick(struct lg_thread *th, unsigned long long now,
			        unsigned long long *seed)
{
    unsigned long long limit = (unsigned long long) (opt.retry_after * 1e6);
    size_t  lo = 0;
    size_t  hi = th->past_count;
    size_t  mid;

    /* Entries are in time order: count those sent at least limit ago. */
    while (lo < hi) {
	mid = (lo + hi) / 2;
	if (th->past[(th->past_head + mid) % opt.history].t_us + limit <= now)
	    lo = mid + 1;
	else
	    hi = mid;
    }
    if (lo == 0)
	return 0;
    *seed = th->past[(th->past_head + lg_rand(th) % lo) % opt.history].seed;
    return 1;
}

/* lg_pick_message - choose the class and seed of the next message */
static void lg_pick_message(struct lg_conn *lc, unsigned long long now)
{
    struct lg_thread *th = lc->th;
    unsigned total = opt.weight[LG_NEW] + opt.weight[LG_RETRY] + opt.weight[LG_WL];
    unsigned long long r = lg_rand(th) % total;

    if (r < opt.weight[LG_NEW])
	lc->cls = LG_NEW;
    else if (r < opt.weight[LG_NEW] + opt.weight[LG_RETRY])
	lc->cls = LG_RETRY;
    else
	lc->cls = LG_WL;
    lc->seed = lg_rand(th);
    if (lc->cls == LG_RETRY && !lg_past_pick(th, now, &lc->seed)) {
	th->st.retry_fallback++;
	lc->cls = LG_NEW;
    }
    lg_derive(lc);
}

/* lg_watch - set the epoll events for a connection */
static int lg_watch(struct lg_conn *lc, int op, int want_out)
{
    struct epoll_event ev;

    ev.events = EPOLLIN | (want_out ? EPOLLOUT : 0);
    ev.data.ptr = lc;
    lc->want_out = want_out;
    if (epoll_ctl(lc->th->epfd, op, lc->mc.fd, &ev) != 0) {
	snprintf(lc->mc.err, sizeof(lc->mc.err), "epoll_ctl: %s", strerror(errno));
	return MC_EIO;
    }
    return MC_OK;
}

static void lg_session_start(struct lg_conn *);

/* lg_session_end - close the socket; start the next session after delay_us */
static void lg_session_end(struct lg_conn *lc, unsigned long long delay_us)
{
    mc_close(&lc->mc);
    lc->state = LG_IDLE;
    lc->wake = lg_now_us() + delay_us;
    if (delay_us == 0)
	lg_session_start(lc);
}

/* lg_fail - count an error and end the session */
static void lg_fail(struct lg_conn *lc, int rc, const char *what)
{
    lg_error(lc, rc, what);
    lg_session_end(lc, 10000);
}

/* lg_session_done - count a completed session and start the next */
static void lg_session_done(struct lg_conn *lc)
{
    struct lg_stats *st = &lc->th->st;
    unsigned long long now = lg_now_us();

    st->messages++;
    st->class_msgs[lc->cls]++;
    st->last_done_us = now;
    if (lc->cls == LG_NEW)
	lg_past_add(lc->th, lc->seed, now);
    lg_session_end(lc, 0);
}

/* lg_flush - write what is queued; register for EPOLLOUT if it must wait */
static int lg_flush(struct lg_conn *lc)
{
    int     rc = mc_flush(&lc->mc);

    if (rc == MC_AGAIN)
	return lc->want_out ? MC_OK : lg_watch(lc, EPOLL_CTL_MOD, 1);
    if (rc == MC_OK && lc->want_out)
	return lg_watch(lc, EPOLL_CTL_MOD, 0);
    return rc;
}

/* lg_connect_error - count a failed connect; try again in 100 ms */
static void lg_connect_error(struct lg_conn *lc)
{
    lc->th->st.err_connect++;
    if (atomic_fetch_add(&lg_errors_shown, 1) < LG_ERRORS_SHOWN || opt.verbose)
	fprintf(stderr, "greyrep-loadgen: %s: %s\n", opt.spec, lc->mc.err);
    lg_session_end(lc, 100000);
}

/* lg_session_start - begin a session: pick a message, connect */
static void lg_session_start(struct lg_conn *lc)
{
    unsigned long long now = lg_now_us();
    int     rc;

    if (atomic_load(&lg_stop)
	|| (opt.messages && atomic_fetch_add(&lg_claimed, 1) >= opt.messages)) {
	lc->state = LG_DONE;
	return;
    }
    lg_pick_message(lc, now);
    mc_init(&lc->mc, opt.timeout_ms);
    lc->phase = P_CONNECT;
    lc->index = 0;
    lc->rcpt_ok = 0;
    lc->deadline = now + (unsigned long long) opt.timeout_ms * 1000;
    rc = mc_connect_start(&lc->mc, &opt.addr);
    if (rc == MC_EBUSY && (lc->busy_since == 0 || now < lc->busy_since
			   + (unsigned long long) opt.timeout_ms * 1000)) {
	/* The milter's backlog is full: try again shortly, for a while. */
	if (lc->busy_since == 0)
	    lc->busy_since = now;
	if (opt.messages)
	    atomic_fetch_sub(&lg_claimed, 1);
	lc->state = LG_IDLE;
	lc->wake = now + 2000;
	return;
    }
    lc->busy_since = 0;
    if (rc != MC_OK && rc != MC_AGAIN) {
	/* The message counts as sent and failed, so that -n always ends. */
	lg_connect_error(lc);
	return;
    }
    if (lg_watch(lc, EPOLL_CTL_ADD, rc == MC_AGAIN) != MC_OK) {
	lg_fail(lc, MC_EIO, "connect");
	return;
    }
    if (rc == MC_AGAIN) {
	lc->state = LG_CONNECTING;
	return;
    }
    lc->state = LG_NEGOTIATING;
    if ((rc = mc_queue_optneg(&lc->mc)) != MC_OK || (rc = lg_flush(lc)) != MC_OK)
	lg_fail(lc, rc, "negotiate");
}

/* lg_macro - queue one macro pair for a stage, if macros are on */
static int lg_macro(struct lg_conn *lc, int stage, const char *name,
		            const char *value)
{
    struct mc_str pair[2];

    if (!opt.macros)
	return MC_OK;
    pair[0].ptr = name;
    pair[0].len = strlen(name);
    pair[1].ptr = value;
    pair[1].len = strlen(value);
    return mc_queue_macros(&lc->mc, stage, pair, 2);
}

/* lg_str - a counted string for a C string */
static struct mc_str lg_str(const char *s)
{
    struct mc_str m;

    m.ptr = s;
    m.len = strlen(s);
    return m;
}

/* lg_phase_cmd - the command a phase sends */
static int lg_phase_cmd(enum lg_phase p)
{
    static const int cmd[] = {
	SMFIC_CONNECT, SMFIC_HELO, SMFIC_MAIL, SMFIC_RCPT, SMFIC_DATA,
	SMFIC_HEADER, SMFIC_EOH, SMFIC_BODY, SMFIC_BODYEOB, SMFIC_ABORT,
	SMFIC_QUIT,
    };

    return cmd[p];
}

/* lg_next_phase - move on after a step that passed (or needs no reply) */
static void lg_next_phase(struct lg_conn *lc)
{
    size_t  chunks = (opt.body + MILTER_CHUNK_SIZE - 1) / MILTER_CHUNK_SIZE;

    switch (lc->phase) {
    case P_RCPT:
	if (++lc->index < lc->nrcpt)
	    return;
	lc->phase = lc->rcpt_ok ? P_DATA : P_ABORT;
	if (!lc->rcpt_ok)
	    lc->th->st.aborted++;
	break;
    case P_HEADER:
	if (++lc->index < LG_HEADERS)
	    return;
	lc->phase = P_EOH;
	break;
    case P_BODY:
	if ((size_t)++ lc->index < chunks)
	    return;
	lc->phase = P_EOM;
	break;
    case P_EOM:
    case P_ABORT:
	lc->phase = P_QUIT;
	break;
    default:
	lc->phase++;
	break;
    }
    lc->index = 0;
    if (lc->phase == P_BODY && chunks == 0)
	lc->phase = P_EOM;
}

/* lg_queue_phase - queue the packets of the current phase */
static int lg_queue_phase(struct lg_conn *lc)
{
    struct mc_conn *c = &lc->mc;
    char    buf[128];
    char    rcpt[128];
    struct mc_str s[2];
    size_t  off;
    int     rc = MC_OK;

    switch (lc->phase) {
    case P_CONNECT:
	if ((rc = lg_macro(lc, SMFIC_CONNECT, "j", "mx.example.org")) != MC_OK
	    || (rc = lg_macro(lc, SMFIC_CONNECT, "{daemon_name}", "loadgen")) != MC_OK)
	    return rc;
	return mc_queue_connect(c, "unknown", 7, lc->v6 ? SMFIA_INET6 : SMFIA_INET,
				(unsigned) (lc->seed % 30000) + 20000,
				lc->addr, strlen(lc->addr));
    case P_HELO:
	snprintf(buf, sizeof(buf), "h%08llx.example.net",
		 lg_mix(lc->seed ^ 0x88) & 0xffffffffULL);
	s[0] = lg_str(buf);
	return mc_queue_strings(c, SMFIC_HELO, s, 1);
    case P_MAIL:
	if ((rc = lg_macro(lc, SMFIC_MAIL, "{mail_addr}", lc->sender)) != MC_OK)
	    return rc;
	snprintf(buf, sizeof(buf), "SIZE=%zu", opt.body + 300);
	s[0] = lg_str(lc->sender);
	s[1] = lg_str(buf);
	return mc_queue_strings(c, SMFIC_MAIL, s, 2);
    case P_RCPT:
	lg_rcpt(lc, lc->index, rcpt, sizeof(rcpt));
	if ((rc = lg_macro(lc, SMFIC_RCPT, "{rcpt_addr}", rcpt)) != MC_OK)
	    return rc;
	s[0] = lg_str(rcpt);
	return mc_queue_strings(c, SMFIC_RCPT, s, 1);
    case P_HEADER:
	switch (lc->index) {
	case 0:
	    s[0] = lg_str("From");
	    s[1] = lg_str(lc->sender);
	    break;
	case 1:
	    lg_rcpt(lc, 0, rcpt, sizeof(rcpt));
	    s[0] = lg_str("To");
	    s[1] = lg_str(rcpt);
	    break;
	case 2:
	    snprintf(buf, sizeof(buf), "load test %016llx", lc->seed);
	    s[0] = lg_str("Subject");
	    s[1] = lg_str(buf);
	    break;
	case 3:
	    s[0] = lg_str("Date");
	    s[1] = lg_str("Mon, 1 Jan 2024 00:00:00 +0000");
	    break;
	default:
	    snprintf(buf, sizeof(buf), "<%016llx@loadgen.example>", lc->seed);
	    s[0] = lg_str("Message-ID");
	    s[1] = lg_str(buf);
	    break;
	}
	if (c->protocol & SMFIP_HDR_LEADSPC) {
	    snprintf(rcpt, sizeof(rcpt), " %s", s[1].ptr);
	    s[1] = lg_str(rcpt);
	}
	return mc_queue_strings(c, SMFIC_HEADER, s, 2);
    case P_BODY:
	off = (size_t) lc->index * MILTER_CHUNK_SIZE;
	return mc_queue_raw(c, SMFIC_BODY, lg_body + off,
			    opt.body - off < MILTER_CHUNK_SIZE ?
			    opt.body - off : MILTER_CHUNK_SIZE);
    case P_EOM:
	snprintf(buf, sizeof(buf), "%010llX", lc->seed & 0xffffffffffULL);
	if ((rc = lg_macro(lc, SMFIC_BODYEOB, "i", buf)) != MC_OK)
	    return rc;
	/* FALLTHROUGH */
    default:
	return mc_queue_raw(c, lg_phase_cmd(lc->phase), "", 0);
    }
}

/* lg_advance - send phases until one needs a reply or the session ends */
static void lg_advance(struct lg_conn *lc)
{
    int     cmd;
    int     rc;

    for (;;) {
	cmd = lg_phase_cmd(lc->phase);
	if (!mc_step_sent(&lc->mc, cmd)) {
	    lg_next_phase(lc);
	    continue;
	}
	if ((rc = lg_queue_phase(lc)) != MC_OK) {
	    lg_fail(lc, rc, "queue");
	    return;
	}
	if (lc->phase == P_QUIT) {
	    if ((rc = lg_flush(lc)) == MC_OK && lc->mc.out_len == 0)
		lg_session_done(lc);
	    else if (rc == MC_OK)
		lc->state = LG_CLOSING;
	    else
		lg_fail(lc, rc, "quit");
	    return;
	}
	if (mc_step_replied(&lc->mc, cmd))
	    break;
	if (cmd == SMFIC_RCPT) {
	    lc->th->st.rcpts++;
	    lc->th->st.rcpt_noreply++;
	    lc->rcpt_ok++;
	}
	lg_next_phase(lc);
    }
    lc->state = LG_WAITING;
    lc->step_cmd = cmd;
    lc->t_sent = lg_now_us();
    lc->deadline = lc->t_sent + (unsigned long long) opt.timeout_ms * 1000;
    if ((rc = lg_flush(lc)) != MC_OK)
	lg_fail(lc, rc, "write");
}

/*
 * lg_ack - log one acknowledged RCPT decision, "OUTCOME CLASS ADDR SENDER
 * RCPT", as soon as its reply is read: one write() of a whole line to an
 * O_APPEND file, so lines of several threads never mix and a line is
 * there even if greyrep (or this program) is killed right after.
 */
static void lg_ack(const struct lg_conn *lc, enum lg_outcome out)
{
    char    rcpt[160], line[400];
    int     n;

    lg_rcpt(lc, lc->index, rcpt, sizeof(rcpt));
    n = snprintf(line, sizeof(line), "%s %s %s %s %s\n", lg_outcome_name[out],
		 lg_class_name[lc->cls], lc->addr, lc->sender, rcpt);
    if (n > 0 && (size_t) n < sizeof(line) && write(opt.ack_fd, line, (size_t) n) != n) {
	perror("greyrep-loadgen: --ack-log");
	exit(1);
    }
}

/* lg_rcpt_reply - count a reply at RCPT and its latency */
static void lg_rcpt_reply(struct lg_conn *lc, const struct mc_reply *r)
{
    struct lg_stats *st = &lc->th->st;
    unsigned long long lat = lg_now_us() - lc->t_sent;
    enum lg_outcome out;

    st->rcpts++;
    st->lat_count++;
    st->lat_sum += lat;
    if (lat > st->lat_max)
	st->lat_max = lat;
    st->hist[lg_hbucket(lat)]++;
    switch (r->code) {
    case SMFIR_CONTINUE:
	st->rcpt_continue++;
	out = LG_PASS;
	break;
    case SMFIR_ACCEPT:
	st->rcpt_accept++;
	out = LG_PASS;
	break;
    case SMFIR_TEMPFAIL:
	st->rcpt_tempfail++;
	out = LG_TEMPFAIL;
	break;
    case SMFIR_REJECT:
	st->rcpt_reject++;
	out = LG_REJECT;
	break;
    case SMFIR_REPLYCODE:
	if (r->text[0] == '4')
	    st->rcpt_replycode4++;
	else
	    st->rcpt_replycode5++;
	out = r->text[0] == '4' ? LG_TEMPFAIL : LG_REJECT;
	break;
    case SMFIR_DISCARD:
	st->rcpt_discard++;
	out = LG_OTHER;
	break;
    default:
	st->rcpt_other++;
	out = LG_OTHER;
	break;
    }
    st->class_rcpt[lc->cls][out]++;
    if (out == LG_PASS)
	lc->rcpt_ok++;
    if (opt.ack_fd >= 0)
	lg_ack(lc, out);
}

/* lg_reply - act on the final reply to the awaited command */
static void lg_reply(struct lg_conn *lc, const struct mc_reply *r)
{
    struct lg_stats *st = &lc->th->st;

    switch (lc->phase) {
    case P_CONNECT:
    case P_HELO:
    case P_MAIL:
	if (r->code == SMFIR_CONTINUE) {
	    lg_next_phase(lc);
	} else {
	    if (lc->phase == P_CONNECT)
		st->early_connect++;
	    else if (lc->phase == P_HELO)
		st->early_helo++;
	    else
		st->early_mail++;
	    lc->phase = P_QUIT;
	}
	break;
    case P_RCPT:
	lg_rcpt_reply(lc, r);
	lg_next_phase(lc);
	break;
    case P_EOM:
	if (r->code == SMFIR_CONTINUE)
	    st->eom_continue++;
	else if (r->code == SMFIR_ACCEPT)
	    st->eom_accept++;
	else
	    st->eom_other++;
	lc->phase = P_QUIT;
	break;
    default:
	if (r->code == SMFIR_CONTINUE) {
	    lg_next_phase(lc);
	} else if (r->code == SMFIR_SKIP) {
	    lc->mc.body_skipped = 1;
	    lc->phase = P_EOM;
	} else {
	    st->stopped_in_data++;
	    lc->phase = P_ABORT;
	}
	break;
    }
    lg_advance(lc);
}

/* lg_packet - handle one received packet; 1 if the session moved on */
static int lg_packet(struct lg_conn *lc, int cmd, const unsigned char *data,
		             size_t len)
{
    struct mc_reply r;
    int     rc;

    if (lc->state == LG_NEGOTIATING) {
	if ((rc = mc_decode_optneg(&lc->mc, cmd, data, len)) != MC_OK) {
	    lg_fail(lc, rc, "negotiate");
	    return 1;
	}
	lg_advance(lc);
	return 1;
    }
    if (lc->state != LG_WAITING) {
	snprintf(lc->mc.err, sizeof(lc->mc.err), "packet '%c' nobody asked for",
		 cmd >= 0x20 && cmd < 0x7f ? cmd : '?');
	lg_fail(lc, MC_EPROTO, "read");
	return 1;
    }
    rc = mc_decode_reply(&lc->mc, lc->step_cmd, cmd, data, len, &r, 0);
    if (rc == MC_AGAIN) {
	if (cmd == SMFIR_PROGRESS)
	    lc->deadline = lg_now_us() + (unsigned long long) opt.timeout_ms * 1000;
	else
	    lc->th->st.mods++;
	return 0;
    }
    if (rc != MC_OK) {
	lg_fail(lc, rc, "reply");
	return 1;
    }
    lg_reply(lc, &r);
    return 1;
}

/* lg_event - handle epoll events of one connection */
static void lg_event(struct lg_conn *lc, unsigned events)
{
    const unsigned char *data;
    size_t  len;
    int     cmd;
    int     rc;

    if (lc->state == LG_CONNECTING) {
	if ((rc = mc_connect_finish(&lc->mc)) != MC_OK) {
	    lg_connect_error(lc);
	    return;
	}
	lc->state = LG_NEGOTIATING;
	if ((rc = mc_queue_optneg(&lc->mc)) != MC_OK || (rc = lg_flush(lc)) != MC_OK)
	    lg_fail(lc, rc, "negotiate");
	return;
    }
    if ((events & EPOLLOUT) && lc->want_out) {
	if ((rc = lg_flush(lc)) != MC_OK) {
	    lg_fail(lc, rc, "write");
	    return;
	}
	if (lc->state == LG_CLOSING && lc->mc.out_len == 0) {
	    lg_session_done(lc);
	    return;
	}
    }
    if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) == 0)
	return;
    for (;;) {
	rc = mc_recv_packet(&lc->mc, &cmd, &data, &len);
	if (rc == MC_AGAIN)
	    return;
	if (rc != MC_OK) {
	    lg_fail(lc, rc, lc->state == LG_WAITING ? "waiting for reply" : "read");
	    return;
	}
	if (!lg_packet(lc, cmd, data, len))
	    continue;
	/*
	 * A final reply was handled and the next command sent (or the
	 * session ended).  Bytes still buffered would be a second reply to
	 * one command; otherwise wait for epoll rather than read EAGAIN.
	 */
	if (lc->state == LG_WAITING && lc->mc.in_end > lc->mc.in_start) {
	    snprintf(lc->mc.err, sizeof(lc->mc.err), "milter sent more than "
		     "one reply");
	    lg_fail(lc, MC_EPROTO, "read");
	}
	return;
    }
}

/* lg_sweep - time out stuck connections, wake idle ones; 1 if all done */
static int lg_sweep(struct lg_thread *th, unsigned long long now)
{
    struct lg_conn *lc;
    int     done = 1;
    int     i;

    for (i = 0; i < th->nconns; i++) {
	lc = th->conns + i;
	switch (lc->state) {
	case LG_DONE:
	    continue;
	case LG_IDLE:
	    if (now >= lc->wake)
		lg_session_start(lc);
	    break;
	default:
	    if (now > lc->deadline) {
		snprintf(lc->mc.err, sizeof(lc->mc.err), "timeout after %d ms",
			 opt.timeout_ms);
		lg_fail(lc, MC_ETIMEOUT, lc->state == LG_CONNECTING ? "connect"
			: lc->state == LG_NEGOTIATING ? "negotiate"
			: "waiting for reply");
	    }
	    break;
	}
	if (lc->state != LG_DONE)
	    done = 0;
    }
    return done;
}

/* lg_thread_main - one worker: an epoll loop over its connections */
static void *lg_thread_main(void *arg)
{
    struct lg_thread *th = arg;
    struct epoll_event ev[256];
    unsigned long long now;
    unsigned long long next_sweep = 0;
    int     n;
    int     i;

    for (i = 0; i < th->nconns; i++)
	lg_session_start(th->conns + i);
    for (;;) {
	n = epoll_wait(th->epfd, ev, 256, 5);
	if (n < 0 && errno != EINTR) {
	    perror("greyrep-loadgen: epoll_wait");
	    exit(1);
	}
	for (i = 0; i < n; i++)
	    lg_event((struct lg_conn *) ev[i].data.ptr, ev[i].events);
	now = lg_now_us();
	if (now >= next_sweep) {
	    if (lg_sweep(th, now))
		break;
	    next_sweep = now + 5000;
	}
    }
    return 0;
}

/* lg_usage - print usage and exit 2 */
static void lg_usage(void)
{
    fputs("usage: greyrep-loadgen -s SOCKET [options]\n"
	  "  -s, --socket SPEC       milter socket: unix:/path, inet:PORT@HOST, inet6:PORT@HOST\n"
	  "  -c, --connections N     concurrent connections, 1..2000 (default 10)\n"
	  "  -d, --duration S        run for S seconds (default 10 unless -n)\n"
	  "  -n, --messages N        stop after N messages\n"
	  "  -T, --threads N         worker threads (default: online CPUs)\n"
	  "  -t, --timeout S         bound for each reply (default 10)\n"
	  "      --mix N:R:W         weights of new triplets, retries, whitelisted\n"
	  "                          clients (default 70:20:10)\n"
	  "      --retry-after S     retry only triplets sent at least S seconds ago (0)\n"
	  "  -r, --rcpts MIN[-MAX]   recipients per message (default 1)\n"
	  "  -6, --ipv6 FRACTION     share of IPv6 clients, 0..1 (default 0.2)\n"
	  "  -b, --body BYTES        body size (default 2048)\n"
	  "      --net4 CIDR         new clients, IPv4 (default 198.18.0.0/15)\n"
	  "      --net6 CIDR         new clients, IPv6 (default 2001:2::/48)\n"
	  "      --wl4 CIDR          whitelisted clients, IPv4 (default 192.0.2.0/24)\n"
	  "      --wl6 CIDR          whitelisted clients, IPv6 (default 2001:db8::/32)\n"
	  "      --users N           distinct recipients (default 10000)\n"
	  "      --domain DOMAIN     recipient domain (default example.org)\n"
	  "      --history N         triplets remembered per thread for retries (100000)\n"
	  "      --no-macros         send no macros\n"
	  "      --seed N            random seed (default 1)\n"
	  "      --json              print one JSON object instead of a table\n"
	  "      --ack-log FILE      append \"OUTCOME CLASS ADDR SENDER RCPT\" for every\n"
	  "                          RCPT reply, as soon as it is read\n"
	  "  -v, --verbose           describe every error, not only the first ones\n",
	  stderr);
    exit(2);
}

/* lg_die - print a message and exit 2 */
static void lg_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void lg_die(const char *fmt, ...)
{
    va_list ap;

    fputs("greyrep-loadgen: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

/* lg_ull - parse an unsigned integer in [min, max] or die */
static unsigned long long lg_ull(const char *s, const char *what,
				         unsigned long long min,
				         unsigned long long max)
{
    char   *end;
    unsigned long long v;

    errno = 0;
    if (*s == '-' || *s == 0)
	lg_die("%s: expected a number, %llu..%llu", what, min, max);
    v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
	lg_die("%s: expected a number, %llu..%llu", what, min, max);
    return v;
}

/* lg_double - parse a number in [min, max] or die */
static double lg_double(const char *s, const char *what, double min, double max)
{
    char   *end;
    double  v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || *end || end == s || !(v >= min && v <= max))
	lg_die("%s: expected a number, %g..%g", what, min, max);
    return v;
}

/* lg_cidr - parse ADDRESS/PREFIX of the given family or die */
static void lg_cidr(const char *s, int family, struct lg_net *net, const char *what)
{
    char    buf[INET6_ADDRSTRLEN + 8];
    char   *slash;
    int     maxlen = family == AF_INET ? 32 : 128;

    if (strlen(s) >= sizeof(buf))
	lg_die("%s: bad network \"%s\"", what, s);
    strcpy(buf, s);
    if ((slash = strchr(buf, '/')) == 0)
	lg_die("%s: expected ADDRESS/PREFIX", what);
    *slash = 0;
    memset(net, 0, sizeof(*net));
    net->family = family;
    if (inet_pton(family, buf, net->addr) != 1)
	lg_die("%s: bad address \"%s\"", what, buf);
    net->prefix = (int) lg_ull(slash + 1, what, 0, (unsigned long long) maxlen);
}

/* lg_parse - parse the command line into opt */
static void lg_parse(int argc, char **argv)
{
    enum {
	O_MIX = 256, O_RETRY_AFTER, O_NET4, O_NET6, O_WL4, O_WL6, O_USERS,
	O_DOMAIN, O_HISTORY, O_NO_MACROS, O_SEED, O_JSON, O_ACK_LOG,
    };
    static const struct option lopts[] = {
	{"socket", 1, 0, 's'}, {"connections", 1, 0, 'c'},
	{"duration", 1, 0, 'd'}, {"messages", 1, 0, 'n'},
	{"threads", 1, 0, 'T'}, {"timeout", 1, 0, 't'},
	{"mix", 1, 0, O_MIX}, {"retry-after", 1, 0, O_RETRY_AFTER},
	{"rcpts", 1, 0, 'r'}, {"ipv6", 1, 0, '6'}, {"body", 1, 0, 'b'},
	{"net4", 1, 0, O_NET4}, {"net6", 1, 0, O_NET6},
	{"wl4", 1, 0, O_WL4}, {"wl6", 1, 0, O_WL6},
	{"users", 1, 0, O_USERS}, {"domain", 1, 0, O_DOMAIN},
	{"history", 1, 0, O_HISTORY}, {"no-macros", 0, 0, O_NO_MACROS},
	{"seed", 1, 0, O_SEED}, {"json", 0, 0, O_JSON},
	{"ack-log", 1, 0, O_ACK_LOG},
	{"verbose", 0, 0, 'v'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0},
    };
    unsigned a, b, w;
    char    tail;
    long    ncpu;
    int     ch;

    opt.conns = 10;
    opt.ack_fd = -1;
    opt.timeout_ms = 10000;
    opt.weight[LG_NEW] = 70;
    opt.weight[LG_RETRY] = 20;
    opt.weight[LG_WL] = 10;
    opt.rcpt_min = opt.rcpt_max = 1;
    opt.ipv6 = 0.2;
    opt.body = 2048;
    opt.users = 10000;
    opt.domain = "example.org";
    opt.seed = 1;
    opt.history = 100000;
    opt.macros = 1;
    lg_cidr("198.18.0.0/15", AF_INET, &opt.net4, "net4");
    lg_cidr("2001:2::/48", AF_INET6, &opt.net6, "net6");
    lg_cidr("192.0.2.0/24", AF_INET, &opt.wl4, "wl4");
    lg_cidr("2001:db8::/32", AF_INET6, &opt.wl6, "wl6");
    while ((ch = getopt_long(argc, argv, "s:c:d:n:T:t:r:6:b:vh", lopts, 0)) != -1) {
	switch (ch) {
	case 's':
	    opt.spec = optarg;
	    break;
	case 'c':
	    opt.conns = (int) lg_ull(optarg, "-c", 1, LG_CONNS_MAX);
	    break;
	case 'd':
	    opt.duration = lg_double(optarg, "-d", 0.01, 86400 * 7);
	    break;
	case 'n':
	    opt.messages = lg_ull(optarg, "-n", 1, 1ULL << 50);
	    break;
	case 'T':
	    opt.threads = (int) lg_ull(optarg, "-T", 1, LG_THREADS_MAX);
	    break;
	case 't':
	    opt.timeout_ms = (int) (lg_double(optarg, "-t", 0.001, 3600) * 1000);
	    break;
	case O_MIX:
	    if (sscanf(optarg, "%u:%u:%u%c", &a, &b, &w, &tail) != 3
		|| a > 1000000 || b > 1000000 || w > 1000000 || a + b + w == 0)
		lg_die("--mix: expected NEW:RETRY:WHITELIST weights, e.g. 70:20:10");
	    opt.weight[LG_NEW] = a;
	    opt.weight[LG_RETRY] = b;
	    opt.weight[LG_WL] = w;
	    break;
	case O_RETRY_AFTER:
	    opt.retry_after = lg_double(optarg, "--retry-after", 0, 86400 * 30);
	    break;
	case 'r':
	    if (sscanf(optarg, "%u-%u%c", &a, &b, &tail) == 2) {
		/* MIN-MAX */
	    } else if (sscanf(optarg, "%u%c", &a, &tail) == 1) {
		b = a;
	    } else {
		lg_die("-r: expected MIN or MIN-MAX");
	    }
	    if (a < 1 || b < a || b > LG_RCPTS_MAX)
		lg_die("-r: recipients must be 1..%d, MIN <= MAX", LG_RCPTS_MAX);
	    opt.rcpt_min = (int) a;
	    opt.rcpt_max = (int) b;
	    break;
	case '6':
	    opt.ipv6 = lg_double(optarg, "-6", 0, 1);
	    break;
	case 'b':
	    opt.body = (size_t) lg_ull(optarg, "-b", 0, 64 * 1024 * 1024);
	    break;
	case O_NET4:
	    lg_cidr(optarg, AF_INET, &opt.net4, "--net4");
	    break;
	case O_NET6:
	    lg_cidr(optarg, AF_INET6, &opt.net6, "--net6");
	    break;
	case O_WL4:
	    lg_cidr(optarg, AF_INET, &opt.wl4, "--wl4");
	    break;
	case O_WL6:
	    lg_cidr(optarg, AF_INET6, &opt.wl6, "--wl6");
	    break;
	case O_USERS:
	    opt.users = (unsigned long) lg_ull(optarg, "--users", 1, 1UL << 31);
	    break;
	case O_DOMAIN:
	    if (strlen(optarg) == 0 || strlen(optarg) > 60 || strpbrk(optarg, "<>@ \t"))
		lg_die("--domain: expected a domain name");
	    opt.domain = optarg;
	    break;
	case O_HISTORY:
	    opt.history = (size_t) lg_ull(optarg, "--history", 1, 100000000);
	    break;
	case O_NO_MACROS:
	    opt.macros = 0;
	    break;
	case O_SEED:
	    opt.seed = lg_ull(optarg, "--seed", 0, ~0ULL);
	    break;
	case O_JSON:
	    opt.json = 1;
	    break;
	case O_ACK_LOG:
	    opt.ack_fd = open(optarg, O_WRONLY | O_CREAT | O_APPEND, 0644);
	    if (opt.ack_fd < 0)
		lg_die("--ack-log %s: %s", optarg, strerror(errno));
	    break;
	case 'v':
	    opt.verbose = 1;
	    break;
	default:
	    lg_usage();
	}
    }
    if (opt.spec == 0 || optind != argc)
	lg_usage();
    if (opt.duration == 0 && opt.messages == 0)
	opt.duration = 10;
    if (opt.threads == 0) {
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	opt.threads = ncpu < 1 ? 1 : ncpu > LG_THREADS_MAX ? LG_THREADS_MAX : (int) ncpu;
    }
    if (opt.threads > opt.conns)
	opt.threads = opt.conns;
}

/* lg_raise_nofile - make room for one descriptor per connection */
static void lg_raise_nofile(void)
{
    struct rlimit rl;
    rlim_t  need = (rlim_t) opt.conns + (rlim_t) opt.threads + 64;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
	return;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
	lg_die("%d connections need %lu open files; the hard limit is %lu",
	       opt.conns, (unsigned long) need, (unsigned long) rl.rlim_max);
    rl.rlim_cur = need;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
	lg_die("setrlimit(RLIMIT_NOFILE, %lu): %s", (unsigned long) need,
	       strerror(errno));
}

/* lg_make_body - a body of text lines, CRLF-terminated */
static void lg_make_body(void)
{
    static const char line[] = "The quick brown fox jumps over the lazy dog "
	"0123456789 abcdefghijklmnopqrstuvwxyz.\r\n";
    size_t  i;

    if ((lg_body = malloc(opt.body + 1)) == 0)
	lg_die("out of memory");
    for (i = 0; i < opt.body; i++)
	lg_body[i] = line[i % (sizeof(line) - 1)];
}

/* lg_sum - add one thread's counters into the total */
static void lg_sum(struct lg_stats *t, const struct lg_stats *s)
{
    const unsigned long long *src = (const unsigned long long *) s;
    unsigned long long *dst = (unsigned long long *) t;
    size_t  n = sizeof(*s) / sizeof(unsigned long long);
    size_t  i;
    size_t  max_i = offsetof(struct lg_stats, lat_max) / sizeof(unsigned long long);
    size_t  last_i = offsetof(struct lg_stats, last_done_us) / sizeof(unsigned long long);

    /* Every field is a counter except the two maxima. */
    for (i = 0; i < n; i++)
	if (i == max_i || i == last_i)
	    dst[i] = dst[i] > src[i] ? dst[i] : src[i];
	else
	    dst[i] += src[i];
}

/* lg_percentile - latency at quantile q, from the histogram */
static unsigned long long lg_percentile(const struct lg_stats *st, double q)
{
    unsigned long long want;
    unsigned long long seen = 0;
    size_t  b;

    if (st->lat_count == 0)
	return 0;
    want = (unsigned long long) (q * (double) st->lat_count + 0.999999);
    if (want < 1)
	want = 1;
    for (b = 0; b < LG_HBUCKETS; b++) {
	seen += st->hist[b];
	if (seen >= want)
	    return lg_hvalue(b) < st->lat_max ? lg_hvalue(b) : st->lat_max;
    }
    return st->lat_max;
}

/* lg_report_json - print the results as one JSON object */
static void lg_report_json(const struct lg_stats *st, double secs,
			           unsigned long long errors)
{
    int     k;
    int     o;

    printf("{\"socket\":\"");
    for (k = 0; opt.spec[k]; k++)
	printf(opt.spec[k] == '"' || opt.spec[k] == '\\' ? "\\%c" : "%c", opt.spec[k]);
    printf("\",\"connections\":%d,\"threads\":%d,\"seed\":%llu,"
	   "\"elapsed_s\":%.3f,\"messages\":%llu,\"msgs_per_s\":%.1f,",
	   opt.conns, opt.threads, opt.seed, secs, st->messages,
	   secs > 0 ? (double) st->messages / secs : 0.0);
    printf("\"rcpt\":{\"sent\":%llu,\"continue\":%llu,\"accept\":%llu,"
	   "\"tempfail\":%llu,\"reject\":%llu,\"replycode_4xx\":%llu,"
	   "\"replycode_5xx\":%llu,\"discard\":%llu,\"noreply\":%llu,\"other\":%llu},",
	   st->rcpts, st->rcpt_continue, st->rcpt_accept, st->rcpt_tempfail,
	   st->rcpt_reject, st->rcpt_replycode4, st->rcpt_replycode5,
	   st->rcpt_discard, st->rcpt_noreply, st->rcpt_other);
    printf("\"classes\":{");
    for (k = 0; k < LG_NCLASS; k++) {
	printf("%s\"%s\":{\"messages\":%llu", k ? "," : "", lg_class_name[k],
	       st->class_msgs[k]);
	for (o = 0; o < LG_NOUT; o++)
	    printf(",\"%s\":%llu", lg_outcome_name[o], st->class_rcpt[k][o]);
	printf("}");
    }
    printf("},\"retry_fallback\":%llu,", st->retry_fallback);
    printf("\"latency_us\":{\"samples\":%llu,\"mean\":%.1f,\"p50\":%llu,"
	   "\"p99\":%llu,\"p999\":%llu,\"max\":%llu},",
	   st->lat_count, st->lat_count ? (double) st->lat_sum / (double) st->lat_count : 0.0,
	   lg_percentile(st, 0.5), lg_percentile(st, 0.99),
	   lg_percentile(st, 0.999), st->lat_max);
    printf("\"eom\":{\"continue\":%llu,\"accept\":%llu,\"other\":%llu,"
	   "\"modifications\":%llu},", st->eom_continue, st->eom_accept,
	   st->eom_other, st->mods);
    printf("\"stopped\":{\"connect\":%llu,\"helo\":%llu,\"mail\":%llu,"
	   "\"all_rcpts_refused\":%llu,\"data\":%llu},", st->early_connect,
	   st->early_helo, st->early_mail, st->aborted, st->stopped_in_data);
    printf("\"errors\":{\"total\":%llu,\"timeout\":%llu,\"closed\":%llu,"
	   "\"protocol\":%llu,\"io\":%llu,\"connect\":%llu}}\n", errors,
	   st->err_timeout, st->err_eof, st->err_proto, st->err_io,
	   st->err_connect);
}

/* lg_report_table - print the results as a table */
static void lg_report_table(const struct lg_stats *st, double secs,
			            unsigned long long errors)
{
    int     k;
    int     o;

    printf("greyrep-loadgen: %s, %d connections, %d threads, seed %llu\n",
	   opt.spec, opt.conns, opt.threads, opt.seed);
    printf("elapsed          %.3f s\n", secs);
    printf("messages         %llu (%.1f msg/s)\n", st->messages,
	   secs > 0 ? (double) st->messages / secs : 0.0);
    printf("rcpt             %llu: continue %llu, accept %llu, tempfail %llu, "
	   "reject %llu, 4xx code %llu, 5xx code %llu, discard %llu, "
	   "noreply %llu, other %llu\n", st->rcpts, st->rcpt_continue,
	   st->rcpt_accept, st->rcpt_tempfail, st->rcpt_reject,
	   st->rcpt_replycode4, st->rcpt_replycode5, st->rcpt_discard,
	   st->rcpt_noreply, st->rcpt_other);
    printf("%-16s %10s", "class", "messages");
    for (o = 0; o < LG_NOUT; o++)
	printf(" %10s", lg_outcome_name[o]);
    printf("   (replies to RCPT)\n");
    for (k = 0; k < LG_NCLASS; k++) {
	printf("%-16s %10llu", lg_class_name[k], st->class_msgs[k]);
	for (o = 0; o < LG_NOUT; o++)
	    printf(" %10llu", st->class_rcpt[k][o]);
	printf("\n");
    }
    printf("retry fallback   %llu (no triplet old enough: sent as new)\n",
	   st->retry_fallback);
    printf("rcpt latency us  p50 %llu, p99 %llu, p99.9 %llu, max %llu "
	   "(mean %.1f, %llu samples)\n", lg_percentile(st, 0.5),
	   lg_percentile(st, 0.99), lg_percentile(st, 0.999), st->lat_max,
	   st->lat_count ? (double) st->lat_sum / (double) st->lat_count : 0.0,
	   st->lat_count);
    printf("eom              continue %llu, accept %llu, other %llu, "
	   "modifications %llu\n", st->eom_continue, st->eom_accept,
	   st->eom_other, st->mods);
    printf("stopped          at connect %llu, helo %llu, mail %llu; "
	   "all rcpts refused %llu; in data %llu\n", st->early_connect,
	   st->early_helo, st->early_mail, st->aborted, st->stopped_in_data);
    printf("errors           %llu (timeout %llu, closed %llu, protocol %llu, "
	   "io %llu, connect %llu)\n", errors, st->err_timeout, st->err_eof,
	   st->err_proto, st->err_io, st->err_connect);
}

/* main - start the workers, wait, report */
int     main(int argc, char **argv)
{
    struct lg_thread *th;
    static struct lg_stats total;
    unsigned long long errors;
    unsigned long long end_us;
    double  secs;
    char    err[256];
    int     per;
    int     extra;
    int     i;
    int     j;
    int     next = 0;
    struct lg_conn *conns;

    lg_parse(argc, argv);
    if (mc_addr_parse(opt.spec, &opt.addr, err, sizeof(err)) != MC_OK)
	lg_die("%s", err);
    signal(SIGPIPE, SIG_IGN);
    lg_raise_nofile();
    lg_make_body();
    if ((th = calloc((size_t) opt.threads, sizeof(*th))) == 0
	|| (conns = calloc((size_t) opt.conns, sizeof(*conns))) == 0)
	lg_die("out of memory");
    per = opt.conns / opt.threads;
    extra = opt.conns % opt.threads;
    lg_start_us = lg_now_us();
    for (i = 0; i < opt.threads; i++) {
	th[i].id = i;
	th[i].conns = conns + next;
	th[i].nconns = per + (i < extra);
	next += th[i].nconns;
	th[i].rng = lg_mix(opt.seed * 0x100000001b3ULL + (unsigned long long) i);
	if ((th[i].past = calloc(opt.history, sizeof(*th[i].past))) == 0)
	    lg_die("out of memory (--history)");
	if ((th[i].epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
	    lg_die("epoll_create1: %s", strerror(errno));
	for (j = 0; j < th[i].nconns; j++) {
	    th[i].conns[j].th = th + i;
	    mc_init(&th[i].conns[j].mc, opt.timeout_ms);
	    snprintf(th[i].conns[j].addr, sizeof(th[i].conns[j].addr), "-");
	}
	if (pthread_create(&th[i].tid, 0, lg_thread_main, th + i) != 0)
	    lg_die("pthread_create: %s", strerror(errno));
    }
    if (opt.duration > 0) {
	unsigned long long until = lg_start_us + (unsigned long long) (opt.duration * 1e6);
	struct timespec ts;

	/* Sleep in slices so a -n run that ends early is not held up. */
	while (lg_now_us() < until && !(opt.messages
				       && atomic_load(&lg_claimed) >= opt.messages)) {
	    ts.tv_sec = 0;
	    ts.tv_nsec = 20 * 1000000L;
	    nanosleep(&ts, 0);
	}
	atomic_store(&lg_stop, 1);
    }
    for (i = 0; i < opt.threads; i++) {
	pthread_join(th[i].tid, 0);
	lg_sum(&total, &th[i].st);
	close(th[i].epfd);
	free(th[i].past);
    }
    end_us = total.last_done_us > lg_start_us ? total.last_done_us : lg_now_us();
    secs = (double) (end_us - lg_start_us) / 1e6;
    errors = total.err_timeout + total.err_eof + total.err_proto + total.err_io
	+ total.err_connect;
    if (opt.json)
	lg_report_json(&total, secs, errors);
    else
	lg_report_table(&total, secs, errors);
    free(conns);
    free(th);
    free(lg_body);
    return errors == 0 && total.messages > 0 ? 0 : 1;
}
