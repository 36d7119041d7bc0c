/*
 * NAME
 *   spf.c - libspf2 behind resolver.c, with RFC 7208 corrections
 * DESCRIPTION
 *   See spf.h.  libspf2's SPF_server_t is shared by all threads; what one
 *   evaluation needs besides it (resolver, deadline, counters, errors our
 *   checks found) lives in a struct spf_eval on the caller's stack, reached
 *   from the DNS callbacks through a thread-local pointer: libspf2 calls
 *   them synchronously in the thread that runs SPF_request_query_mailfrom(),
 *   and the pointer never outlives that call.
 *
 *   Two DNS hooks are installed.  get_spf replaces libspf2's record lookup:
 *   it fetches TXT, selects the record as RFC 7208 4.5 says, runs
 *   spf_syntax_check() and only then lets libspf2 compile it.  lookup
 *   answers everything else (A, AAAA, MX, PTR, and the TXT of exp=, which
 *   we never show anyone and so do not fetch).
 *
 *   libspf2 reports an internal error through SPF_error_handler, declared
 *   noreturn; ours logs and longjmps back to the check that was running,
 *   which then answers temperror (the request's memory is lost, the process
 *   lives).  Outside a check it logs and aborts.
 * DIAGNOSTICS
 *   log_warn() for libspf2 internal errors; per-message SPF outcomes are
 *   the caller's to log.
 */
#include "autoconf.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <spf2/spf.h>
#include <spf2/spf_dns.h>
#include <spf2/spf_dns_rr.h>

#include "log.h"
#include "resolver.h"
#include "spf.h"
#include "spf_macro.h"
#include "spf_syntax.h"

#define SPF_MAX_VOID 2          /* RFC 7208 4.6.4 */
#define SPF_MAX_PTR_NAMES 10    /* RFC 7208 4.6.4: the rest are ignored */
#define SPF_MAX_ADDRS 64
#define SPF_MAX_TXT 32
#define SPF_MAX_TERMS 10        /* RFC 7208 4.6.4 */
#define SPF_MAX_FOLLOW 10       /* address lookups after MX/PTR, per term */
#define DNS_NAME_BUF 256
/*
 * "a/0" and "mx//0" (any address of the family) are legal but libspf2
 * refuses to compile them.  They are rewritten to a name under this suffix,
 * which the lookup hook strips again: it answers an address query for such
 * a name with the client's own address whenever the real name has any.
 */
#define SPF_ANY_SUFFIX ".greyrep-any.invalid"

struct spf {
    SPF_server_t *server;
    SPF_dns_server_t *dns;      /* ours to free: SPF_server_new_dns() does not take it */
    struct dns_resolver *resolver;
};

/* one evaluation, on the stack of the thread running it */
struct spf_eval {
    struct dns_resolver *resolver;
    const struct timespec *deadline;
    int family;                 /* the client: AF_INET or AF_INET6 */
    struct in_addr ip4;
    struct in6_addr ip6;
    int records;                /* SPF records fetched: the first is the top one */
    int terms;                  /* terms that caused a DNS lookup (RFC 7208 4.6.4) */
    int voids;                  /* NXDOMAIN/NODATA answers to mechanism lookups */
    /* the names of the last MX or PTR answer: their address lookups come
     * next and belong to the same term */
    char follow[SPF_MAX_FOLLOW][DNS_NAME_BUF];
    int nfollow, ifollow;
    int permerror;              /* our checks found a permerror */
    int temperror;              /* a lookup failed temporarily */
    const char *why;            /* reason for permerror, for debug logs */
    const char *local, *sender_domain, *helo;   /* for the macros we expand */
    sigjmp_buf panic;           /* SPF_error_handler returns here */
};

static __thread struct spf_eval *spf_current;

/* spf_result_name - RFC 8601 result words */
const char *spf_result_name(enum spf_result r)
{
    static const char *const names[] = {
        "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror"
    };
    return (unsigned)r < sizeof names / sizeof *names ? names[r] : "permerror";
}

static void spf_log_error(const char *file, int line, const char *msg)
    __attribute__((noreturn));

/* spf_log_error - libspf2 internal error: back to the running check, or abort */
static void spf_log_error(const char *file, int line, const char *msg)
{
    struct spf_eval *ev = spf_current;

    log_warn("libspf2 internal error at %s:%d: %s", file ? file : "?", line,
             msg ? msg : "?");
    if (ev)
        siglongjmp(ev->panic, 1);
    abort();
}

/* spf_log_warning - libspf2 warnings are about records of others: debug only */
static void spf_log_warning(const char *file, int line, const char *msg)
{
    (void)file;
    (void)line;
    log_debug("libspf2: %s", msg ? msg : "?");
}

/* spf_dns_status - libspf2's h_errno for our status */
static SPF_dns_stat_t spf_dns_status(enum dns_status st)
{
    switch (st) {
    case DNS_OK: return NETDB_SUCCESS;
    case DNS_NODATA: return NO_DATA;
    case DNS_NXDOMAIN: return HOST_NOT_FOUND;
    case DNS_PERMFAIL: return HOST_NOT_FOUND;  /* a name that cannot exist */
    case DNS_TEMPFAIL: break;
    }
    return TRY_AGAIN;
}

/* spf_query - one lookup for the current evaluation; NULL query if none runs */
static enum dns_status spf_query(struct spf_eval *ev, const char *name, int type,
                                 struct dns_query **qp)
{
    *qp = NULL;
    if (!ev)
        return DNS_TEMPFAIL;
    if (ev->deadline) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > ev->deadline->tv_sec ||
            (now.tv_sec == ev->deadline->tv_sec && now.tv_nsec >= ev->deadline->tv_nsec)) {
            ev->temperror = 1;
            return DNS_TEMPFAIL;        /* too late: do not even ask */
        }
    }
    *qp = dns_submit(ev->resolver, name, type);
    enum dns_status st = dns_wait(*qp, ev->deadline);
    if (st == DNS_TEMPFAIL)
        ev->temperror = 1;
    return st;
}

/* spf_rr_add - append one datum to an rr; 0 on success */
static int spf_rr_add(SPF_dns_rr_t *rr, const void *data, size_t len)
{
    if (SPF_dns_rr_buf_realloc(rr, rr->num_rr, len) != SPF_E_SUCCESS)
        return -1;
    memcpy(rr->rr[rr->num_rr], data, len);
    rr->num_rr++;
    return 0;
}

/* spf_limit - count one DNS-querying term; 0, or -1 past the limit (permerror) */
static int spf_limit(struct spf_eval *ev)
{
    ev->nfollow = ev->ifollow = 0;
    if (++ev->terms <= SPF_MAX_TERMS)
        return 0;
    ev->permerror = 1;
    ev->why = "more than 10 DNS-querying terms";
    return -1;
}

/* spf_count_lookup - classify an address/MX/PTR lookup for the limits; -1 past them */
static int spf_count_lookup(struct spf_eval *ev, const char *name, ns_type type)
{
    if ((type == ns_t_a || type == ns_t_aaaa) && ev->ifollow < ev->nfollow &&
        strcasecmp(ev->follow[ev->ifollow], name) == 0) {
        ev->ifollow++;
        return 0;               /* an MX host or PTR name of the previous term */
    }
    return spf_limit(ev);
}

/* spf_strip_any - cut SPF_ANY_SUFFIX off name into buf; 1 if it was there */
static int spf_strip_any(const char *name, char *buf, size_t len)
{
    size_t n = strlen(name), sl = sizeof SPF_ANY_SUFFIX - 1;

    if (n <= sl || strcasecmp(name + n - sl, SPF_ANY_SUFFIX) != 0 || n - sl >= len)
        return 0;
    memcpy(buf, name, n - sl);
    buf[n - sl] = '\0';
    return 1;
}

/* spf_dns_lookup - libspf2's lookup hook: A, AAAA, MX, PTR (and exp TXT) */
static SPF_dns_rr_t *spf_dns_lookup(SPF_dns_server_t *dns, const char *domain,
                                    ns_type type, int should_cache)
{
    struct spf_eval *ev = spf_current;
    struct dns_query *q = NULL;
    enum dns_status st;

    (void)should_cache;
    if (type == ns_t_txt || type == ns_t_spf) {
        /* only exp= text gets here; explanations are never used, and not
         * fetching them keeps their macros away from libspf2 */
        return SPF_dns_rr_new_init(dns, domain, type, 0, NO_DATA);
    }
    if (!ev || ev->permerror)
        return SPF_dns_rr_new_init(dns, domain, type, 0, TRY_AGAIN);  /* stop */
    char real[DNS_NAME_BUF];
    int any = spf_strip_any(domain, real, sizeof real);
    if (spf_count_lookup(ev, domain, type) < 0)
        return SPF_dns_rr_new_init(dns, domain, type, 0, TRY_AGAIN);  /* stop */
    st = spf_query(ev, any ? real : domain, type, &q);
    SPF_dns_rr_t *rr = SPF_dns_rr_new_init(dns, domain, type, 0, spf_dns_status(st));
    if (!rr) {
        dns_release(q);
        return NULL;            /* libspf2 then calls SPF_error: see above */
    }
    if (st == DNS_NXDOMAIN || st == DNS_NODATA) {
        if (++ev->voids > SPF_MAX_VOID) {
            ev->permerror = 1;
            ev->why = "too many void lookups";
            rr->herrno = TRY_AGAIN;     /* stop; corrected to permerror */
        }
    } else if (st == DNS_OK) {
        if (type == ns_t_a) {
            struct in_addr a4[SPF_MAX_ADDRS];
            int n = dns_parse_addrs(q, AF_INET, a4, SPF_MAX_ADDRS);
            if (any && n > 0)
                spf_rr_add(rr, &ev->ip4, sizeof ev->ip4);
            for (int i = 0; !any && i < n; i++)
                spf_rr_add(rr, &a4[i], sizeof a4[i]);
        } else if (type == ns_t_aaaa) {
            struct in6_addr a6[SPF_MAX_ADDRS];
            int n = dns_parse_addrs(q, AF_INET6, a6, SPF_MAX_ADDRS);
            if (any && n > 0)
                spf_rr_add(rr, &ev->ip6, sizeof ev->ip6);
            for (int i = 0; !any && i < n; i++)
                spf_rr_add(rr, &a6[i], sizeof a6[i]);
        } else if (type == ns_t_mx || type == ns_t_ptr) {
            char *names[SPF_MAX_ADDRS];
            int n = dns_parse_names(q, names, SPF_MAX_ADDRS);
            for (int i = 0; i < n; i++) {
                char name[DNS_NAME_BUF];
                snprintf(name, sizeof name, "%s%s", names[i], any ? SPF_ANY_SUFFIX : "");
                free(names[i]);
                /* RFC 7208 4.6.4: PTR names past the tenth are ignored */
                if (type == ns_t_ptr && i >= SPF_MAX_PTR_NAMES)
                    continue;
                spf_rr_add(rr, name, strlen(name) + 1);
                if (ev->nfollow < SPF_MAX_FOLLOW)
                    snprintf(ev->follow[ev->nfollow++], DNS_NAME_BUF, "%s", name);
            }
        }
        if (rr->num_rr == 0)
            rr->herrno = NO_DATA;
    }
    dns_release(q);
    return rr;
}

/* spf_put - append text to a bounded buffer; the caller checks *o <= len at the end */
static void spf_put(char *buf, size_t len, size_t *o, const char *s, size_t n)
{
    if (*o + n < len)
        memcpy(buf + *o, s, n);
    *o += n;
}

/*
 * spf_normalise - the record as libspf2 should see it (malloc'ed):
 *  - unknown modifiers and exp= dropped (ignored by RFC 7208, and exp
 *    text is never used by us);
 *  - redirect= moved to the end, or dropped when there is an "all"
 *    (RFC 7208 6.1; libspf2 evaluates it where it stands);
 *  - CIDR length 0: ip4/ip6 become the client's own address when the
 *    client's family matches (else they cannot match and keep a harmless
 *    /1); a and mx get SPF_ANY_SUFFIX, see there.
 */
static size_t spf_normalise_into(const char *rec, size_t len, const struct spf_eval *ev,
                                 char *out, size_t cap)
{
    size_t o = 0, pos = 0;
    char client[INET6_ADDRSTRLEN], num[16];
    struct spf_term t, redirect = { .arg = NULL, .arglen = 0 };
    int has_all = 0, has_redirect = 0, v4 = ev->family == AF_INET;

    if (v4)
        inet_ntop(AF_INET, &ev->ip4, client, sizeof client);
    else
        inet_ntop(AF_INET6, &ev->ip6, client, sizeof client);
    spf_put(out, cap, &o, "v=spf1", 6);
    while (spf_syntax_next_term(rec, len, &pos, &t)) {
        const char *q = t.qualifier ? &t.qualifier : "";
        size_t ql = t.qualifier ? 1 : 0;
        switch (t.kind) {
        case SPF_TERM_UNKNOWN_MODIFIER:
        case SPF_TERM_EXP:
            continue;
        case SPF_TERM_REDIRECT:
            redirect = t;
            has_redirect = 1;
            continue;
        case SPF_TERM_ALL:
            has_all = 1;
            break;
        case SPF_TERM_IP4:
        case SPF_TERM_IP6: {
            int mine = (t.kind == SPF_TERM_IP4) == v4;
            int cidr = t.kind == SPF_TERM_IP4 ? t.cidr4 : t.cidr6;
            if (cidr != 0)
                break;
            spf_put(out, cap, &o, " ", 1);
            spf_put(out, cap, &o, q, ql);
            spf_put(out, cap, &o, t.kind == SPF_TERM_IP4 ? "ip4:" : "ip6:", 4);
            if (mine) {
                spf_put(out, cap, &o, client, strlen(client));
            } else {
                spf_put(out, cap, &o, t.arg, t.arglen);
                spf_put(out, cap, &o, "/1", 2);
            }
            continue;
        }
        case SPF_TERM_A:
        case SPF_TERM_MX: {
            if (t.cidr4 != 0 && t.cidr6 != 0)
                break;
            int any = (v4 ? t.cidr4 : t.cidr6) == 0;
            spf_put(out, cap, &o, " ", 1);
            spf_put(out, cap, &o, q, ql);
            spf_put(out, cap, &o, t.kind == SPF_TERM_A ? "a:" : "mx:", t.kind == SPF_TERM_A ? 2 : 3);
            size_t al = t.arglen;
            if (al > 0 && t.arg[al - 1] == '.')
                al--;
            if (al > 0)
                spf_put(out, cap, &o, t.arg, al);
            else
                spf_put(out, cap, &o, "%{d}", 4);
            if (any) {
                spf_put(out, cap, &o, SPF_ANY_SUFFIX, sizeof SPF_ANY_SUFFIX - 1);
                continue;
            }
            /* the other family's /0 cannot matter: any valid length will do */
            if (t.cidr4 >= 0) {
                int n = snprintf(num, sizeof num, "/%d", t.cidr4 ? t.cidr4 : 1);
                spf_put(out, cap, &o, num, (size_t)n);
            }
            if (t.cidr6 >= 0) {
                int n = snprintf(num, sizeof num, "//%d", t.cidr6 ? t.cidr6 : 1);
                spf_put(out, cap, &o, num, (size_t)n);
            }
            continue;
        }
        default:
            break;
        }
        spf_put(out, cap, &o, " ", 1);
        spf_put(out, cap, &o, t.text, t.len);
    }
    if (has_redirect && !has_all) {
        spf_put(out, cap, &o, " redirect=", 10);
        spf_put(out, cap, &o, redirect.arg, redirect.arglen);
    }
    /* libspf2 only recognises "v=spf1 " with its space */
    spf_put(out, cap, &o, " ", 1);
    if (o < cap)
        out[o] = '\0';
    return o;
}

/* spf_macro_ip - the "i" macro's text: dotted quad, or 32 dotted nibbles */
static void spf_macro_ip(const struct spf_eval *ev, char *buf, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    if (ev->family == AF_INET) {
        inet_ntop(AF_INET, &ev->ip4, buf, (socklen_t)len);
        return;
    }
    size_t o = 0;
    for (int i = 0; i < 16 && o + 4 < len; i++) {
        unsigned char b = ev->ip6.s6_addr[i];
        buf[o++] = hex[b >> 4];
        buf[o++] = '.';
        buf[o++] = hex[b & 15];
        buf[o++] = '.';
    }
    buf[o ? o - 1 : 0] = '\0';
}

/*
 * spf_normalise - spf_normalise_into() sized by a first pass (the /0
 * rewrite has no fixed bound on its growth), then the macros libspf2
 * refuses rewritten (spf_macro.h).  NULL with *why set, or malloc'ed text.
 */
static char *spf_normalise(const char *rec, size_t len, const struct spf_eval *ev,
                           const char *domain, const char **why)
{
    size_t need = spf_normalise_into(rec, len, ev, NULL, 0) + 1;
    char *out = malloc(need), ip[80];

    *why = "out of memory";
    if (!out)
        return NULL;
    if (spf_normalise_into(rec, len, ev, out, need) + 1 != need) {
        free(out);
        log_panic("spf_normalise: the two passes disagree");
    }
    if (strchr(out, '%') == NULL)
        return out;
    spf_macro_ip(ev, ip, sizeof ip);
    struct spf_macro_vars v = {
        .local = ev->local ? ev->local : "postmaster",
        .sender_domain = ev->sender_domain ? ev->sender_domain : domain,
        .domain = domain,
        .ip = ip,
        .helo = ev->helo ? ev->helo : "",
        .version = ev->family == AF_INET ? "in-addr" : "ip6",
    };
    char *fixed;
    int r = spf_macro_rewrite(out, strlen(out), &v, &fixed);
    free(out);
    if (r == SPF_MACRO_UNSUPPORTED)
        *why = "a %{p} macro with delimiters libspf2 cannot take";
    return r == 0 ? fixed : NULL;
}

/* spf_get_record - libspf2's get_spf hook: fetch, select, check, compile */
static SPF_errcode_t spf_get_record(SPF_server_t *server, SPF_request_t *req,
                                    SPF_response_t *resp, SPF_record_t **recp)
{
    struct spf_eval *ev = spf_current;
    struct dns_query *q = NULL;
    struct dns_txt txt[SPF_MAX_TXT];
    const char *domain = req->cur_dom;
    int n, found = -1, count = 0;

    *recp = NULL;
    if (!ev || ev->permerror)
        return SPF_E_DNS_ERROR;         /* stop; corrected to permerror */
    if (ev->records++ > 0 && spf_limit(ev) < 0)
        return SPF_E_DNS_ERROR;         /* include or redirect past the limit */
    enum dns_status st = spf_query(ev, domain, ns_t_txt, &q);
    if (st == DNS_TEMPFAIL) {
        dns_release(q);
        return SPF_E_DNS_ERROR;
    }
    n = st == DNS_OK ? dns_parse_txt(q, txt, SPF_MAX_TXT) : 0;
    dns_release(q);
    if (n < 0) {
        if (ev)
            ev->temperror = 1;
        return SPF_E_DNS_ERROR;         /* an answer we cannot read */
    }
    for (int i = 0; i < n; i++) {
        if (spf_syntax_is_spf(txt[i].text, txt[i].len)) {
            count++;
            found = i;
        }
    }
    SPF_errcode_t err = SPF_E_SUCCESS;
    const char *why = NULL;
    if (count == 0) {
        resp->result = SPF_RESULT_NONE;
        err = SPF_E_NOT_SPF;
    } else if (count > 1) {
        why = "more than one SPF record";
        err = SPF_E_MULTIPLE_RECORDS;
    } else if (strlen(txt[found].text) != txt[found].len) {
        why = "NUL in SPF record";
        err = SPF_E_SYNTAX;
    } else if ((why = spf_syntax_check(txt[found].text, txt[found].len)) != NULL) {
        err = SPF_E_SYNTAX;
    } else {
        const char *nwhy;
        char *text = spf_normalise(txt[found].text, txt[found].len, ev, domain, &nwhy);
        err = text ? SPF_record_compile(server, resp, recp, text) : SPF_E_NO_MEMORY;
        if (text && log_debug_enabled())
            log_debug("spf: %s: evaluating \"%s\"", domain, text);
        free(text);
        if (!text)
            why = nwhy;
        else if (err != SPF_E_SUCCESS)
            why = "libspf2 could not compile the record";
    }
    if (why) {
        ev->permerror = 1;
        ev->why = why;
    }
    if (why) {
        resp->result = SPF_RESULT_PERMERROR;
        resp->err = err;
        if (*recp) {
            SPF_record_free(*recp);
            *recp = NULL;
        }
    }
    dns_free_txt(txt, n);
    return err;
}

static pthread_once_t spf_once = PTHREAD_ONCE_INIT;

/* spf_install_handlers - libspf2's log hooks are process globals: set once */
static void spf_install_handlers(void)
{
    SPF_error_handler = spf_log_error;
    SPF_warning_handler = spf_log_warning;
    SPF_info_handler = spf_log_warning;
    SPF_debug_handler = spf_log_warning;
}

/* spf_new - one shared libspf2 server over resolver r */
struct spf *spf_new(struct dns_resolver *r, const char *receiver)
{
    pthread_once(&spf_once, spf_install_handlers);
    struct spf *s = calloc(1, sizeof *s);
    SPF_dns_server_t *dns = calloc(1, sizeof *dns);

    if (!s || !dns) {
        free(s);
        free(dns);
        return NULL;
    }
    dns->lookup = spf_dns_lookup;
    dns->get_spf = spf_get_record;
    dns->name = "greyrep";
    s->resolver = r;
    s->dns = dns;
    s->server = SPF_server_new_dns(dns, 0);
    if (!s->server) {
        free(dns);
        free(s);
        return NULL;
    }
    SPF_server_set_rec_dom(s->server, receiver ? receiver : "unknown");
    /* RFC 7208 4.6.4 */
    SPF_server_set_max_dns_mech(s->server, 10);
    SPF_server_set_max_dns_mx(s->server, 10);
    SPF_server_set_max_dns_ptr(s->server, 10);
    return s;
}

/* spf_free - free the checker (not its resolver) */
void spf_free(struct spf *s)
{
    if (!s)
        return;
    SPF_server_free(s->server);
    free(s->dns);
    free(s);
}

/* spf_domain_ok - RFC 7208 4.3: a multi-label name with labels of 1-63 octets */
static int spf_domain_ok(const char *d)
{
    size_t len = strlen(d), label = 0;
    int labels = 1;

    if (len > 0 && d[len - 1] == '.')
        len--;
    if (len == 0 || len > 253)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)d[i];
        if (c == '.') {
            if (label == 0)
                return 0;
            label = 0;
            labels++;
        } else if (++label > 63 || c <= 0x20 || c >= 0x7f || c == '[' || c == ']') {
            return 0;
        }
    }
    return label > 0 && labels > 1;
}

/* spf_set_client - the client address, ::ffff:a.b.c.d as IPv4; 0, or -1 if unparsable */
static int spf_set_client(SPF_request_t *req, const char *client, int *loopback)
{
    struct in_addr a4;
    struct in6_addr a6;

    *loopback = 0;
    if (!client)
        return -1;
    if (inet_pton(AF_INET, client, &a4) == 1) {
        *loopback = (ntohl(a4.s_addr) >> 24) == 127;
        return SPF_request_set_ipv4(req, a4) == SPF_E_SUCCESS ? 0 : -1;
    }
    if (inet_pton(AF_INET6, client, &a6) != 1)
        return -1;
    if (IN6_IS_ADDR_V4MAPPED(&a6)) {
        memcpy(&a4.s_addr, a6.s6_addr + 12, 4);
        *loopback = (ntohl(a4.s_addr) >> 24) == 127;
        return SPF_request_set_ipv4(req, a4) == SPF_E_SUCCESS ? 0 : -1;
    }
    *loopback = IN6_IS_ADDR_LOOPBACK(&a6);
    return SPF_request_set_ipv6(req, a6) == SPF_E_SUCCESS ? 0 : -1;
}

/* spf_map - our result from libspf2's result, its error code and our findings */
static enum spf_result spf_map(SPF_result_t res, SPF_errcode_t err, const struct spf_eval *ev)
{
    if (ev->permerror)
        return SPF_PERMERROR;
    switch (res) {
    case SPF_RESULT_NEUTRAL: return SPF_NEUTRAL;
    case SPF_RESULT_PASS: return SPF_PASS;
    case SPF_RESULT_FAIL: return SPF_FAIL;
    case SPF_RESULT_SOFTFAIL: return SPF_SOFTFAIL;
    case SPF_RESULT_NONE: return SPF_NONE;
    case SPF_RESULT_TEMPERROR: return SPF_TEMPERROR;
    case SPF_RESULT_PERMERROR: return SPF_PERMERROR;
    default: break;
    }
    /* SPF_RESULT_INVALID: libspf2 says this for DNS trouble and syntax alike */
    if (err == SPF_E_DNS_ERROR || ev->temperror)
        return SPF_TEMPERROR;
    if (err == SPF_E_NOT_SPF)
        return SPF_NONE;
    return SPF_PERMERROR;
}

/* spf_copy_domain - the checked domain into the caller's buffer */
static void spf_copy_domain(char *out, size_t len, const char *domain)
{
    if (out && len > 0)
        snprintf(out, len, "%s", domain ? domain : "");
}

/* spf_query_guarded - run libspf2 with spf_current set; -1 if it hit an internal error */
static int spf_query_guarded(SPF_request_t *req, struct spf_eval *ev,
                             SPF_response_t **resp, SPF_errcode_t *err)
{
    *resp = NULL;
    if (sigsetjmp(ev->panic, 0) != 0) {
        spf_current = NULL;
        return -1;
    }
    spf_current = ev;
    *err = SPF_request_query_mailfrom(req, resp);
    spf_current = NULL;
    return 0;
}

/* spf_run - one evaluation of identity (sender or postmaster@helo) */
static enum spf_result spf_run(struct spf *s, const char *client, const char *helo,
                               const char *sender, int use_helo,
                               const struct timespec *deadline,
                               char *domain_out, size_t domain_len)
{
    const char *domain;
    int loopback;

    if (!helo)
        helo = "";
    if (!sender)
        sender = "";
    if (use_helo || *sender == '\0') {
        use_helo = 1;
        domain = helo;
    } else {
        const char *at = strrchr(sender, '@');
        domain = at ? at + 1 : sender;
    }
    spf_copy_domain(domain_out, domain_len, domain);
    /* RFC 7208 4.3: a malformed or single-label domain gives none */
    if (!spf_domain_ok(domain))
        return SPF_NONE;

    SPF_request_t *req = SPF_request_new(s->server);
    if (!req)
        return SPF_TEMPERROR;
    if (spf_set_client(req, client, &loopback) < 0) {
        SPF_request_free(req);
        return SPF_PERMERROR;   /* our caller's bug, but no reason to stop mail */
    }
    if (loopback) {
        SPF_request_free(req);
        return SPF_NONE;
    }
    struct spf_eval ev;
    memset(&ev, 0, sizeof ev);
    ev.resolver = s->resolver;
    ev.deadline = deadline;
    ev.family = req->client_ver;
    ev.ip4 = req->ipv4;
    ev.ip6 = req->ipv6;
    SPF_request_set_helo_dom(req, *helo ? helo : domain);
    /* the identity's parts, as SPF_request_set_env_from() splits them */
    char local[512];
    const char *at = use_helo ? NULL : strrchr(sender, '@');
    if (at && at > sender && (size_t)(at - sender) < sizeof local) {
        memcpy(local, sender, (size_t)(at - sender));
        local[at - sender] = '\0';
    } else {
        strcpy(local, "postmaster");
    }
    ev.local = local;
    ev.sender_domain = domain;
    ev.helo = *helo ? helo : domain;
    if (use_helo) {
        SPF_request_set_env_from(req, "");      /* postmaster@helo */
        req->use_helo = 1;
    } else {
        SPF_request_set_env_from(req, sender);
    }
    SPF_response_t *resp = NULL;
    SPF_errcode_t err;
    enum spf_result result;
    if (spf_query_guarded(req, &ev, &resp, &err) < 0)
        return SPF_TEMPERROR;   /* req and resp are lost, on purpose */
    if (resp) {
        SPF_errcode_t rerr = SPF_response_errcode(resp);
        result = spf_map(SPF_response_result(resp), err != SPF_E_SUCCESS ? err : rerr, &ev);
    } else {
        result = SPF_TEMPERROR;
    }
    if (ev.permerror && log_debug_enabled())
        log_debug("spf: %s: permerror: %s", domain, ev.why ? ev.why : "?");
    SPF_response_free(resp);
    SPF_request_free(req);
    return result;
}

/* spf_check_mailfrom - MAIL FROM identity, or HELO when the sender is <> */
enum spf_result spf_check_mailfrom(struct spf *s, const char *client,
                                   const char *helo, const char *sender,
                                   const struct timespec *deadline,
                                   char *domain_out, size_t domain_len)
{
    return spf_run(s, client, helo, sender, 0, deadline, domain_out, domain_len);
}

/* spf_check_helo - HELO identity */
enum spf_result spf_check_helo(struct spf *s, const char *client,
                               const char *helo, const struct timespec *deadline,
                               char *domain_out, size_t domain_len)
{
    return spf_run(s, client, helo, "", 1, deadline, domain_out, domain_len);
}
