/*
 * milter.c - libmilter callbacks; see milter.h
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strings.h>
#include <time.h>

#include "authres.h"
#include "checks.h"
#include "config.h"
#include "decide.h"
#include "envaddr.h"
#include "log.h"
#include "metrics.h"
#include "milter.h"
#include "negotiate.h"
#include "netaddr.h"
#include "util.h"

#define HOST_MAX 256

/* negotiate.h repeats libmilter's protocol bits; they must agree */
_Static_assert(NEG_NOHDRS == SMFIP_NOHDRS && NEG_NOBODY == SMFIP_NOBODY
                   && NEG_NOEOH == SMFIP_NOEOH && NEG_NOHELO == SMFIP_NOHELO
                   && NEG_NODATA == SMFIP_NODATA && NEG_NOUNKNOWN == SMFIP_NOUNKNOWN
                   && NEG_NR_CONN == SMFIP_NR_CONN && NEG_NR_HELO == SMFIP_NR_HELO
                   && NEG_NR_MAIL == SMFIP_NR_MAIL && NEG_NR_RCPT == SMFIP_NR_RCPT
                   && NEG_NR_HDR == SMFIP_NR_HDR && NEG_NR_EOH == SMFIP_NR_EOH
                   && NEG_NR_BODY == SMFIP_NR_BODY && NEG_NR_DATA == SMFIP_NR_DATA
                   && NEG_NR_UNKN == SMFIP_NR_UNKN,
               "negotiate.h and mfdef.h disagree");

struct conn {
    struct cfg *cfg;            /* a reference for the whole connection */
    unsigned long steps;        /* protocol flags negotiated (SMFIP_*) */
    int failed;                 /* a no-reply step failed: tempfail at EOM */
    int refused;                /* on_error tempfail decided at connect (NR_CONN) */
    int ip;                     /* client is an IP address */
    struct net_addr client;
    char addr[NET_STRLEN];      /* client address text, for logs */
    char host[HOST_MAX];        /* MTA-verified host name, or "" */
    char helo[HOST_MAX];
    char qid[32];
    /* per message */
    struct env_addr sender;
    char from[120];             /* the sender as received, printable, for logs */
    int authenticated;
    int delayed;                /* a recipient passed after a delay */
    unsigned delayed_by;
    int nrcpt;                  /* recipients decided in this message */
    int n_plain;                /* ... accepted outright */
    int n_deferred;             /* ... accepted for the end-of-message decision */
    int n_earned;               /* ... accepted by greylisting or reputation */
    char deferred[DECIDE_DEFER_MAX][STORE_MAX_KEY]; /* their triplet keys */
    struct chk_conn *checks;    /* DNS checks; NULL for trusted or local clients */
    struct msg_facts *bare;     /* the client alone, where no check waits */
    int trusted;
    int ar_count;               /* Authentication-Results fields seen */
    int nforged;                /* ... of which claim our authserv-id */
    int forged_cap;
    int *forged;                /* their indices (1-based, per field name) */
};

static struct decider *milter_decider;
static struct checks *milter_checks;
static char milter_host[HOST_MAX];

void milter_init(struct decider *d, struct checks *chk)
{
    milter_decider = d;
    milter_checks = chk;
    util_hostname(milter_host, sizeof milter_host);
}

/* conn_of - the context, or NULL (a callback out of order: bad peer) */
static struct conn *conn_of(SMFICTX *ctx)
{
    return smfi_getpriv(ctx);
}

/* go_on - "continue", or no reply at all where the step was negotiated so */
static sfsistat go_on(const struct conn *c, unsigned long nr)
{
    return c != NULL && (c->steps & nr) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* on_negotiate - ask for the steps the configuration needs (negotiate.h);
 * the connection's context starts here, with its configuration */
static sfsistat on_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
                             unsigned long f2, unsigned long f3, unsigned long *pf0,
                             unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
    struct conn *c = calloc(1, sizeof *c);
    char off[400], got[400];

    (void)f2;
    (void)f3;
    if (c == NULL || (c->cfg = cfg_current()) == NULL) {
        log_err("cannot set up a connection context: every protocol step is used");
        free(c);
        return SMFIS_ALL_OPTS;
    }
    c->steps = neg_steps(c->cfg, f1);
    *pf0 = (SMFIF_ADDHDRS | SMFIF_CHGHDRS) & f0;
    *pf1 = c->steps;
    *pf2 = 0;
    *pf3 = 0;
    if (log_debug_enabled())
        log_debug("negotiated protocol steps: %s (MTA offered %s)",
                  neg_format(c->steps, got, sizeof got), neg_format(f1, off, sizeof off));
    smfi_setpriv(ctx, c);
    return SMFIS_CONTINUE;
}

/* macro - a macro's value, or "" */
static const char *macro(SMFICTX *ctx, const char *name)
{
    const char *v = smfi_getsymval(ctx, (char *)name);
    return v ? v : "";
}

/* note_qid - remember the queue id once the MTA has one */
static void note_qid(SMFICTX *ctx, struct conn *c)
{
    const char *q = macro(ctx, "i");
    if (*q != '\0')
        util_strlcpy(c->qid, q, sizeof c->qid);
}

/* safe - a printable, bounded rendering of peer text for log lines */
static const char *safe(const char *s, char *buf, size_t len)
{
    size_t o = 0;

    if (len < 8) {
        if (len > 0)
            buf[0] = '\0';
        return buf;
    }
    /* room is kept for one escape (4 bytes), "..." and the NUL: adding
     * snprintf's return once the text was cut wrote past the buffer */
    for (; s && *s && o + 8 <= len; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch < 0x20 || ch >= 0x7f)
            o += (size_t)snprintf(buf + o, len - o, "\\x%02x", ch);
        else
            buf[o++] = (char)ch;
    }
    if (s && *s) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}

/* on_error_answer - what a callback answers when it cannot do its work:
 * on_error accept lets the connection or message through unfiltered
 * (accept_code), tempfail refuses it for now */
static sfsistat on_error_answer(const struct cfg *cfg, sfsistat accept_code)
{
    return cfg == NULL || cfg->on_error == ON_ERROR_ACCEPT ? accept_code : SMFIS_TEMPFAIL;
}

/*
 * A connection that is not over IPv4/IPv6 (the milter family "unknown" or
 * "unix") has no address to greylist.  It is local only when the MTA says
 * so by naming the client "localhost": Postfix does for smtpd clients that
 * are not on an Internet socket (and its non-SMTP mail comes as
 * 127.0.0.1), Sendmail for "sendmail -bs" and other local submissions.
 * Any other non-IP client is a decision greyrep cannot make: on_error.
 */
static sfsistat on_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *sa)
{
    struct conn *c = conn_of(ctx);
    char buf[300];

    if (c == NULL) {
        /* the negotiation could not set up a context: no step is "no reply" */
        if ((c = calloc(1, sizeof *c)) == NULL) {
            struct cfg *cfg = cfg_current();
            sfsistat r = on_error_answer(cfg, SMFIS_ACCEPT);
            log_err("out of memory at connect: on_error %s",
                    r == SMFIS_ACCEPT ? "accept (connection not filtered)" : "tempfail");
            cfg_release(cfg);
            return r;
        }
        c->cfg = cfg_current();
    }
    c->ip = sa != NULL && net_from_sockaddr(sa, &c->client) == 0;
    if (c->ip) {
        net_format(&c->client, c->addr, sizeof c->addr);
        c->trusted = cfg_trusted(c->cfg, &c->client);
        if (!c->trusted)
            c->checks = chk_connect(milter_checks, c->cfg, &c->client);
    } else if (hostname != NULL && strcasecmp(hostname, "localhost") == 0) {
        c->trusted = 1;
        util_strlcpy(c->addr, "local", sizeof c->addr);
        log_info("client=%s host=localhost: not an IP connection, local by the MTA's word",
                 c->addr);
    } else {
        sfsistat r = on_error_answer(c->cfg, SMFIS_ACCEPT);
        log_warn("client=unknown host=%s: not an IP connection and not localhost: "
                 "on_error %s", safe(hostname, buf, sizeof buf),
                 r == SMFIS_ACCEPT ? "accept (connection not filtered)" : "tempfail");
        if (c->steps & SMFIP_NR_CONN) {
            /* no reply at connect: answer at each RCPT instead */
            util_strlcpy(c->addr, "unknown", sizeof c->addr);
            c->trusted = 1;
            c->refused = r != SMFIS_ACCEPT;
            smfi_setpriv(ctx, c);
            return SMFIS_NOREPLY;
        }
        smfi_setpriv(ctx, NULL);
        cfg_release(c->cfg);
        free(c);
        return r;
    }
    /* Postfix passes its forward-confirmed name or "unknown"; Sendmail says
     * whether its name was confirmed in {client_resolve}. */
    if (hostname != NULL && hostname[0] != '[' && strcmp(hostname, "unknown") != 0
        && strlen(hostname) < sizeof c->host) {
        const char *resolve = smfi_getsymval(ctx, (char *)"{client_resolve}");
        if (resolve == NULL || strcmp(resolve, "OK") == 0)
            util_strlcpy(c->host, hostname, sizeof c->host);
    }
    smfi_setpriv(ctx, c);
    return go_on(c, SMFIP_NR_CONN);
}

static sfsistat on_helo(SMFICTX *ctx, char *helo)
{
    struct conn *c = conn_of(ctx);
    char buf[80];
    if (c == NULL)
        return SMFIS_CONTINUE;
    if (helo == NULL || *helo == '\0')
        log_warn("client=%s: empty HELO", c->addr);
    else if (strlen(helo) >= sizeof c->helo)
        log_warn("client=%s: HELO of %zu bytes cut: %s", c->addr, strlen(helo),
                 safe(helo, buf, sizeof buf));
    util_strlcpy(c->helo, helo ? helo : "", sizeof c->helo);
    return go_on(c, SMFIP_NR_HELO);
}

/* rcpt_facts - the facts a recipient is decided on.  The bounded wait for
 * the DNS checks happens here, at the first RCPT of a message, and only
 * where their answers matter: not for trusted or authenticated senders. */
static const struct msg_facts *rcpt_facts(struct conn *c)
{
    if (c->checks != NULL && !c->authenticated)
        return chk_facts(c->checks);
    if (c->bare == NULL) {
        if ((c->bare = calloc(1, sizeof *c->bare)) == NULL)
            return NULL;
        c->bare->client_ip = c->ip;
        c->bare->client = c->client;
    }
    return c->bare;
}

/* warn_address - one log line about a malformed or oversized address */
static void warn_address(struct conn *c, const char *what, const char *arg,
                         const struct env_addr *a)
{
    char buf[120];
    if (a->flags & ENV_MALFORMED)
        log_warn("client=%s qid=%s: malformed %s (%s): %s", c->addr, c->qid[0] ? c->qid : "-",
                 what, a->why, safe(arg, buf, sizeof buf));
    else if (a->flags & ENV_OVERSIZED)
        log_warn("client=%s qid=%s: oversized %s (%zu bytes): %s", c->addr,
                 c->qid[0] ? c->qid : "-", what, strlen(arg), safe(arg, buf, sizeof buf));
}

static sfsistat on_envfrom(SMFICTX *ctx, char **argv)
{
    struct conn *c = conn_of(ctx);
    const char *arg = argv && argv[0] ? argv[0] : "";
    if (c == NULL)
        return SMFIS_CONTINUE;
    c->delayed = 0;
    c->delayed_by = 0;
    c->failed = 0;
    c->nrcpt = c->n_plain = c->n_deferred = c->n_earned = 0;
    c->qid[0] = '\0';
    note_qid(ctx, c);
    env_parse(arg, &c->sender);
    warn_address(c, "sender", arg, &c->sender);
    safe(arg, c->from, sizeof c->from);
    c->authenticated = *macro(ctx, "{auth_authen}") != '\0';
    c->ar_count = c->nforged = 0;
    if (c->checks != NULL) {
        char sender[ENV_LOCAL_MAX + ENV_DOMAIN_MAX + 2] = "";
        if (!(c->sender.flags & ENV_NULL))
            snprintf(sender, sizeof sender, "%s@%s", c->sender.local, c->sender.domain);
        chk_mail(c->checks, c->cfg, c->helo, sender, c->authenticated);
    }
    return go_on(c, SMFIP_NR_MAIL);
}

static sfsistat on_envrcpt(SMFICTX *ctx, char **argv)
{
    struct conn *c = conn_of(ctx);
    const char *arg = argv && argv[0] ? argv[0] : "";
    struct env_addr rcpt;
    struct decide_input in;
    struct verdict v;
    struct timespec t0, t1;
    char r[120], text[160];

    if (c == NULL) {
        struct cfg *cfg = cfg_current();
        int accept = cfg == NULL || cfg->on_error == ON_ERROR_ACCEPT;
        cfg_release(cfg);
        log_warn("RCPT without a connection context: on_error %s",
                 accept ? "accept" : "tempfail");
        return accept ? SMFIS_CONTINUE : SMFIS_TEMPFAIL;
    }
    note_qid(ctx, c);
    if (c->refused) {
        smfi_setreply(ctx, "451", "4.3.0", "Temporary failure, please try again later");
        return SMFIS_TEMPFAIL;
    }
    env_parse(arg, &rcpt);
    if (rcpt.flags & ENV_NULL)
        log_warn("client=%s qid=%s: empty recipient <>", c->addr, c->qid[0] ? c->qid : "-");
    warn_address(c, "recipient", arg, &rcpt);
    clock_gettime(CLOCK_MONOTONIC, &t0);    /* latency: the DNS wait and the decision */
    if ((in.facts = rcpt_facts(c)) == NULL) {
        int accept = c->cfg->on_error == ON_ERROR_ACCEPT;
        log_err("client=%s: out of memory at RCPT: on_error %s", c->addr,
                accept ? "accept" : "tempfail");
        return accept ? SMFIS_CONTINUE : SMFIS_TEMPFAIL;
    }
    in.verified_host = c->host[0] ? c->host : NULL;
    in.authenticated = c->authenticated;
    in.sender = &c->sender;
    in.rcpt = &rcpt;
    in.rcpt_index = c->nrcpt++;
    in.defer_ok = c->n_plain == 0 && c->n_deferred < DECIDE_DEFER_MAX;
    in.earned = c->n_earned > 0;
    decide_rcpt(milter_decider, c->cfg, &in, util_now(), 0, &v, NULL, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    metrics_note_decision(v.action, v.reason,
                          (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000L
                                     + (t1.tv_nsec - t0.tv_nsec) / 1000));
    if (v.reason == R_GREY_PASSED)
        metrics_note_pass(v.delayed);
    log_info("client=%s qid=%s from=%s to=%s: %s (%s: %s)%s%s%s%s", c->addr,
             c->qid[0] ? c->qid : "-", c->from, safe(arg, r, sizeof r),
             v.action == V_ACCEPT ? "accept" : v.action == V_REJECT ? "reject" : "tempfail",
             policy_reason_name(v.reason), v.why, v.assessed ? " trust=" : "",
             v.assessed ? rep_level_name((enum rep_level)v.trust) : "",
             v.assessed ? " " : "", v.assessed ? v.trust_why : "");
    if (v.action == V_ACCEPT) {
        if (v.reason == R_GREY_PASSED || v.reason == R_GREY_KNOWN || v.reason == R_AUTO
            || v.reason == R_REP_TRUSTED || v.reason == R_DEFER)
            c->n_earned++;
        if (v.reason == R_DEFER)
            util_strlcpy(c->deferred[c->n_deferred++], v.defer_key, STORE_MAX_KEY);
        else
            c->n_plain++;
        if (v.reason == R_GREY_PASSED && v.delayed >= c->delayed_by) {
            c->delayed = 1;
            c->delayed_by = v.delayed;
        }
        return SMFIS_CONTINUE;
    }
    if (v.action == V_REJECT) {
        smfi_setreply(ctx, "550", "5.7.1",
                      v.reason == R_DNSBL     ? "Rejected: client is listed in DNS block lists"
                      : v.reason == R_REP_BAD ? "Rejected: poor sender reputation"
                                              : "Rejected: SPF does not allow this client");
        return SMFIS_REJECT;
    }
    if (v.reason == R_ERROR) {
        smfi_setreply(ctx, "451", "4.3.0", "Temporary failure, please try again later");
    } else if (v.reason == R_DNSBL) {
        smfi_setreply(ctx, "451", "4.7.1", "Client is listed in DNS block lists, try again later");
    } else if (v.reason == R_SPF_FAIL) {
        smfi_setreply(ctx, "451", "4.7.1", "SPF does not allow this client, try again later");
    } else if (v.reason == R_RATE) {
        /* RFC 7372 4.7.28: mail flood detected */
        smfi_setreply(ctx, "451", "4.7.28", "Rate limited: too much mail from this sender, "
                                            "try again later");
    } else if (v.reason == R_REP_BAD) {
        smfi_setreply(ctx, "451", "4.7.1", "Poor sender reputation, try again later");
    } else {
        /* greylisting, and greytraps, which must look the same */
        snprintf(text, sizeof text, "Greylisted, please try again in %u seconds",
                 v.remaining);
        smfi_setreply(ctx, "451", "4.7.1", text);
    }
    return SMFIS_TEMPFAIL;
}

static sfsistat on_header(SMFICTX *ctx, char *name, char *value)
{
    struct conn *c = conn_of(ctx);
    if (c == NULL || name == NULL || value == NULL)
        return go_on(c, SMFIP_NR_HDR);
    if (!c->trusted && !c->failed && strcasecmp(name, "Authentication-Results") == 0) {
        c->ar_count++;
        if (authres_claims_authserv(value, c->cfg->authserv_id)) {
            /* the MTA bounds the header size, and so this array */
            if (c->nforged == c->forged_cap) {
                int cap = c->forged_cap ? c->forged_cap * 2 : 8;
                int *grown = realloc(c->forged, (size_t)cap * sizeof *grown);
                if (grown == NULL) {
                    sfsistat r = on_error_answer(c->cfg, SMFIS_CONTINUE);
                    log_err("client=%s: out of memory noting a forged Authentication-Results: "
                            "on_error %s", c->addr,
                            r == SMFIS_CONTINUE ? "accept (the field stays)" : "tempfail");
                    if (r == SMFIS_CONTINUE)
                        return go_on(c, SMFIP_NR_HDR);
                    /* with no reply here (NR_HDR) the message fails at its end */
                    c->failed = 1;
                    return (c->steps & SMFIP_NR_HDR) ? SMFIS_NOREPLY : r;
                }
                c->forged = grown;
                c->forged_cap = cap;
            }
            c->forged[c->nforged++] = c->ar_count;
        }
    }
    chk_header(c->checks, name, value);
    return go_on(c, SMFIP_NR_HDR);
}

static sfsistat on_eoh(SMFICTX *ctx)
{
    struct conn *c = conn_of(ctx);
    if (c != NULL)
        chk_eoh(c->checks);
    return go_on(c, SMFIP_NR_EOH);
}

static sfsistat on_body(SMFICTX *ctx, unsigned char *buf, size_t len)
{
    struct conn *c = conn_of(ctx);
    if (c != NULL && buf != NULL)
        chk_body(c->checks, buf, len);
    return go_on(c, SMFIP_NR_BODY);
}

static sfsistat on_eom(SMFICTX *ctx)
{
    struct conn *c = conn_of(ctx);
    char value[512], date[64], ar[AUTHRES_MAX], summary[256];

    if (c == NULL)
        return SMFIS_CONTINUE;
    note_qid(ctx, c);
    if (c->failed) {
        log_warn("client=%s qid=%s: a forged Authentication-Results could not be removed: "
                 "tempfail", c->addr, c->qid[0] ? c->qid : "-");
        c->failed = 0;
        c->delayed = 0;
        smfi_setreply(ctx, "451", "4.3.0", "Temporary failure, please try again later");
        return SMFIS_TEMPFAIL;
    }
    /* a sender must not hand us our own verdict: remove claims of our id,
     * from the last to the first so the indices stay valid */
    for (int i = c->nforged - 1; i >= 0; i--) {
        if (smfi_chgheader(ctx, "Authentication-Results", c->forged[i], NULL) != MI_SUCCESS)
            log_warn("client=%s qid=%s: could not remove a forged Authentication-Results",
                     c->addr, c->qid[0] ? c->qid : "-");
    }
    if (c->nforged > 0)
        log_info("client=%s qid=%s: removed %d Authentication-Results claiming %s", c->addr,
                 c->qid[0] ? c->qid : "-", c->nforged, c->cfg->authserv_id);
    if (chk_eom(c->checks, c->cfg, ar, sizeof ar, summary, sizeof summary)) {
        if (smfi_insheader(ctx, 0, "Authentication-Results", ar) != MI_SUCCESS)
            log_warn("client=%s qid=%s: could not add Authentication-Results", c->addr,
                     c->qid[0] ? c->qid : "-");
        if (summary[0] != '\0')
            log_info("client=%s qid=%s: %s", c->addr, c->qid[0] ? c->qid : "-", summary);
    }
    if (c->nrcpt > 0 && !c->trusted && !c->authenticated && rcpt_facts(c) != NULL) {
        /* learn the accepted message; decide a deferred one */
        char why[300];
        if (decide_eom(milter_decider, c->cfg, rcpt_facts(c), &c->sender, c->deferred,
                       c->n_deferred, c->n_earned > 0, c->delayed && c->delayed_by > 0,
                       util_now(), why, sizeof why) != V_ACCEPT) {
            log_info("client=%s qid=%s from=%s: tempfail (deferred: %s)", c->addr,
                     c->qid[0] ? c->qid : "-", c->from, why);
            smfi_setreply(ctx, "451", "4.7.1",
                          "Greylisted: the message is not signed by its sender's domain, "
                          "please try again later");
            c->delayed = 0;
            return SMFIS_TEMPFAIL;
        }
        if (why[0] != '\0')
            log_info("client=%s qid=%s: accept (%s)", c->addr, c->qid[0] ? c->qid : "-", why);
    }
    if (c->delayed) {
        snprintf(value, sizeof value, "delayed %u seconds by greyrep-%s at %s; %s",
                 c->delayed_by, PACKAGE_VERSION, milter_host,
                 util_rfc5322_time(util_now(), date, sizeof date));
        if (smfi_addheader(ctx, "X-Greylist", value) != MI_SUCCESS)
            log_warn("client=%s qid=%s: could not add X-Greylist", c->addr,
                     c->qid[0] ? c->qid : "-");
    }
    c->delayed = 0;
    return SMFIS_CONTINUE;
}

static sfsistat on_abort(SMFICTX *ctx)
{
    struct conn *c = conn_of(ctx);
    if (c != NULL)
        c->delayed = c->failed = 0;
    return SMFIS_CONTINUE;
}

static sfsistat on_close(SMFICTX *ctx)
{
    struct conn *c = conn_of(ctx);
    if (c != NULL) {
        smfi_setpriv(ctx, NULL);
        chk_conn_free(c->checks);
        free(c->bare);
        cfg_release(c->cfg);
        free(c->forged);
        free(c);
    }
    return SMFIS_CONTINUE;
}

struct smfiDesc milter_desc = {
    .xxfi_name = "greyrep",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS,
    .xxfi_connect = on_connect,
    .xxfi_helo = on_helo,
    .xxfi_envfrom = on_envfrom,
    .xxfi_envrcpt = on_envrcpt,
    .xxfi_header = on_header,
    .xxfi_eoh = on_eoh,
    .xxfi_body = on_body,
    .xxfi_eom = on_eom,
    .xxfi_abort = on_abort,
    .xxfi_close = on_close,
    .xxfi_negotiate = on_negotiate,
};
