/*
 * milter.c - libmilter callbacks; see milter.h
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strings.h>

#include "authres.h"
#include "checks.h"
#include "config.h"
#include "decide.h"
#include "envaddr.h"
#include "log.h"
#include "milter.h"
#include "netaddr.h"
#include "util.h"

#define HOST_MAX 256

struct conn {
    struct cfg *cfg;            /* a reference for the whole connection */
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
    for (; s && *s && o + 5 < len; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch < 0x20 || ch >= 0x7f)
            o += (size_t)snprintf(buf + o, len - o, "\\x%02x", ch);
        else
            buf[o++] = (char)ch;
    }
    if (s && *s)
        o += (size_t)snprintf(buf + o, len - o, "...");
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
    struct conn *c = calloc(1, sizeof *c);
    char buf[300];

    if (c == NULL) {
        struct cfg *cfg = cfg_current();
        sfsistat r = on_error_answer(cfg, SMFIS_ACCEPT);
        log_err("out of memory at connect: on_error %s",
                r == SMFIS_ACCEPT ? "accept (connection not filtered)" : "tempfail");
        cfg_release(cfg);
        return r;
    }
    c->cfg = cfg_current();
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
    return SMFIS_CONTINUE;
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
    return SMFIS_CONTINUE;
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
    return SMFIS_CONTINUE;
}

static sfsistat on_envrcpt(SMFICTX *ctx, char **argv)
{
    struct conn *c = conn_of(ctx);
    const char *arg = argv && argv[0] ? argv[0] : "";
    struct env_addr rcpt;
    struct decide_input in;
    struct verdict v;
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
    env_parse(arg, &rcpt);
    if (rcpt.flags & ENV_NULL)
        log_warn("client=%s qid=%s: empty recipient <>", c->addr, c->qid[0] ? c->qid : "-");
    warn_address(c, "recipient", arg, &rcpt);
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
    decide_rcpt(milter_decider, c->cfg, &in, util_now(), 0, &v, NULL, 0);
    log_info("client=%s qid=%s from=%s to=%s: %s (%s: %s)", c->addr,
             c->qid[0] ? c->qid : "-", c->from, safe(arg, r, sizeof r),
             v.action == V_ACCEPT ? "accept" : v.action == V_REJECT ? "reject" : "tempfail",
             policy_reason_name(v.reason), v.why);
    if (v.action == V_ACCEPT) {
        if (v.reason == R_GREY_PASSED && v.delayed >= c->delayed_by) {
            c->delayed = 1;
            c->delayed_by = v.delayed;
        }
        return SMFIS_CONTINUE;
    }
    if (v.action == V_REJECT) {
        smfi_setreply(ctx, "550", "5.7.1", v.reason == R_DNSBL
                                               ? "Rejected: client is listed in DNS block lists"
                                               : "Rejected: SPF does not allow this client");
        return SMFIS_REJECT;
    }
    if (v.reason == R_ERROR) {
        smfi_setreply(ctx, "451", "4.3.0", "Temporary failure, please try again later");
    } else if (v.reason == R_DNSBL) {
        smfi_setreply(ctx, "451", "4.7.1", "Client is listed in DNS block lists, try again later");
    } else if (v.reason == R_SPF_FAIL) {
        smfi_setreply(ctx, "451", "4.7.1", "SPF does not allow this client, try again later");
    } else {
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
        return SMFIS_CONTINUE;
    if (!c->trusted && strcasecmp(name, "Authentication-Results") == 0) {
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
                    return r;
                }
                c->forged = grown;
                c->forged_cap = cap;
            }
            c->forged[c->nforged++] = c->ar_count;
        }
    }
    chk_header(c->checks, name, value);
    return SMFIS_CONTINUE;
}

static sfsistat on_eoh(SMFICTX *ctx)
{
    struct conn *c = conn_of(ctx);
    if (c != NULL)
        chk_eoh(c->checks);
    return SMFIS_CONTINUE;
}

static sfsistat on_body(SMFICTX *ctx, unsigned char *buf, size_t len)
{
    struct conn *c = conn_of(ctx);
    if (c != NULL && buf != NULL)
        chk_body(c->checks, buf, len);
    return SMFIS_CONTINUE;
}

static sfsistat on_eom(SMFICTX *ctx)
{
    struct conn *c = conn_of(ctx);
    char value[512], date[64], ar[AUTHRES_MAX], summary[256];

    if (c == NULL)
        return SMFIS_CONTINUE;
    note_qid(ctx, c);
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
        c->delayed = 0;
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
};
