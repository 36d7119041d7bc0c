/*
 * NAME
 *   dkim.c - DKIM verification with libopendkim, keys via resolver.h
 * DESCRIPTION
 *   See dkim.h for the contract.  How libopendkim 2.11 is driven here:
 *
 *   - one DKIM_LIB per struct dkimv, with dkim_set_key_lookup() so that the
 *     library never uses its own (thread-unsafe) resolver;
 *   - DKIM_LIBFLAGS_DELAYSIGPROC: keys are asked for at dkim_eom(), not at
 *     dkim_eoh(); we start the TXT lookups ourselves as soon as each
 *     DKIM-Signature header field arrives, so by the end of the body the
 *     answers are usually there and no milter callback blocks early;
 *   - DKIM_LIBFLAGS_BADSIGHANDLES: signatures that do not parse stay in the
 *     signature list with an error code, so they are reported (permerror)
 *     rather than silently dropped;
 *   - a key lookup callback that answers DKIM_CBSTAT_TRYAGAIN leaves the
 *     signature unprocessed (no error code); the per-message key table
 *     remembers why, which is how temperror is reported.
 */
#include "autoconf.h"

#include <sys/types.h>
#include <arpa/nameser.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <opendkim/dkim.h>

#include "dkim.h"
#include "log.h"
#include "resolver.h"

#define DKIMV_KEY_TXT_MAX 8 /* TXT records looked at per key name */

enum dkimv_key_state {
    KEY_PENDING = 0, /* submitted, not collected */
    KEY_FOUND,       /* record in key->record */
    KEY_NOTFOUND,    /* NXDOMAIN / no TXT */
    KEY_TEMP,        /* SERVFAIL, timeout, deadline */
    KEY_PERM         /* bad name, malformed answer or record */
};

struct dkimv_key {
    char name[256];          /* selector._domainkey.domain */
    struct dns_query *query; /* while KEY_PENDING */
    enum dkimv_key_state state;
    char *record;       /* KEY_FOUND */
    const char *reason; /* KEY_TEMP / KEY_PERM */
};

/* What our own parse of a DKIM-Signature header field found. */
struct dkimv_seen {
    char domain[254];
    char selector[254];
    char algorithm[32];
    char b[9];
    bool no_query_method; /* q= names no method we know (RFC 6376 3.5) */
};

struct dkimv {
    DKIM_LIB *lib;
    struct dns_resolver *resolver;
    unsigned min_key_bits;
};

struct dkimv_msg {
    struct dkimv *v;
    DKIM *dkim; /* NULL if libopendkim refused */
    char id[64];
    struct timespec deadline;
    bool has_deadline;
    bool eoh_done;
    bool eom_done;
    bool allow_sha1;        /* rsa-sha1 may pass (RFC 8301 says it must not) */
    const char *unusable;              /* why no signature can be verified */
    enum dkimv_status unusable_status; /* permerror, or temperror for our
                                        * own failures (memory, library) */
    int nheaders;
    int nseen; /* DKIM-Signature fields seen */
    struct dkimv_seen seen[DKIMV_MAX_SIGS];
    int nkeys;
    struct dkimv_key keys[DKIMV_MAX_SIGS];
};

/* dkimv_status_name - RFC 8601 spelling of a result */
const char *dkimv_status_name(enum dkimv_status s)
{
    switch (s) {
    case DKIMV_PASS: return "pass";
    case DKIMV_FAIL: return "fail";
    case DKIMV_NEUTRAL: return "neutral";
    case DKIMV_POLICY: return "policy";
    case DKIMV_TEMPERROR: return "temperror";
    case DKIMV_PERMERROR: return "permerror";
    case DKIMV_NONE: break;
    }
    return "none";
}

/* dkimv_copy - copy printable ASCII without white space; others become '?' */
static void dkimv_copy(char *dst, size_t size, const char *src, size_t srclen)
{
    size_t n = 0;

    if (size == 0)
        return;
    for (size_t i = 0; src != NULL && i < srclen && n + 1 < size; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        dst[n++] = (c > 0x20 && c < 0x7f) ? (char)c : '?';
    }
    dst[n] = '\0';
}

/* dkimv_copy_str - dkimv_copy of a C string (NULL gives "") */
static void dkimv_copy_str(char *dst, size_t size, const char *src)
{
    dkimv_copy(dst, size, src, src != NULL ? strlen(src) : 0);
}

/* dkimv_valid_label_char - may this byte appear in a key name label? */
static bool dkimv_valid_label_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

/* dkimv_valid_dns_name - selector or domain fit for a DNS query */
static bool dkimv_valid_dns_name(const char *s)
{
    size_t len = strlen(s), label = 0;

    if (len == 0 || len > 253 || s[0] == '.' || s[len - 1] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.') {
            if (label == 0)
                return false;
            label = 0;
        } else if (!dkimv_valid_label_char((unsigned char)s[i]) || ++label > 63) {
            return false;
        }
    }
    return true;
}

/* dkimv_key_name - "selector._domainkey.domain", or -1 if unusable */
static int dkimv_key_name(char *buf, size_t size, const char *selector, const char *domain)
{
    int n;

    if (selector == NULL || domain == NULL || !dkimv_valid_dns_name(selector) ||
        !dkimv_valid_dns_name(domain))
        return -1;
    n = snprintf(buf, size, "%s._domainkey.%s", selector, domain);
    if (n < 0 || (size_t)n >= size || n > 253)
        return -1;
    return 0;
}

/* dkimv_key_find - the key table entry for name, NULL if none */
static struct dkimv_key *dkimv_key_find(struct dkimv_msg *m, const char *name)
{
    for (int i = 0; i < m->nkeys; i++)
        if (strcasecmp(m->keys[i].name, name) == 0)
            return &m->keys[i];
    return NULL;
}

/* dkimv_key_start - find or submit the TXT lookup for a key name */
static struct dkimv_key *dkimv_key_start(struct dkimv_msg *m, const char *name)
{
    struct dkimv_key *key = dkimv_key_find(m, name);

    if (key != NULL)
        return key;
    if (m->nkeys >= DKIMV_MAX_SIGS)
        return NULL;
    key = &m->keys[m->nkeys++];
    memset(key, 0, sizeof *key);
    snprintf(key->name, sizeof key->name, "%s", name);
    key->state = KEY_PENDING;
    if (m->v->resolver != NULL)
        key->query = dns_submit(m->v->resolver, name, ns_t_txt);
    if (key->query == NULL) {
        key->state = KEY_TEMP;
        key->reason = "no resolver";
    }
    return key;
}

/* dkimv_pick_record - the key record among the TXT records of one name:
 * the first that starts "v=DKIM1", else the first one */
static const struct dns_txt *dkimv_pick_record(const struct dns_txt *txt, int n)
{
    for (int i = 0; i < n; i++) {
        const char *t = txt[i].text;
        size_t len = txt[i].len;
        while (len > 0 && (*t == ' ' || *t == '\t'))
            t++, len--;
        if (len >= 7 && strncmp(t, "v=DKIM1", 7) == 0)
            return &txt[i];
    }
    return n > 0 ? &txt[0] : NULL;
}

/* dkimv_key_collect - wait (bounded) for a pending key and classify it */
static void dkimv_key_collect(struct dkimv_msg *m, struct dkimv_key *key)
{
    struct dns_txt txt[DKIMV_KEY_TXT_MAX];
    const struct dns_txt *rec;
    enum dns_status st;
    int n;

    if (key->state != KEY_PENDING)
        return;
    st = dns_wait(key->query, m->has_deadline ? &m->deadline : NULL);
    switch (st) {
    case DNS_OK:
        n = dns_parse_txt(key->query, txt, DKIMV_KEY_TXT_MAX);
        if (n < 0) {
            key->state = KEY_PERM;
            key->reason = "malformed key DNS answer";
            break;
        }
        rec = dkimv_pick_record(txt, n);
        if (rec == NULL) {
            key->state = KEY_NOTFOUND;
        } else if (rec->text == NULL || memchr(rec->text, '\0', rec->len) != NULL) {
            key->state = KEY_PERM;
            key->reason = "NUL byte in key record";
        } else if ((key->record = malloc(rec->len + 1)) == NULL) {
            key->state = KEY_TEMP;
            key->reason = "out of memory";
        } else {
            memcpy(key->record, rec->text, rec->len);
            key->record[rec->len] = '\0';
            key->state = KEY_FOUND;
        }
        dns_free_txt(txt, n);
        break;
    case DNS_NXDOMAIN:
    case DNS_NODATA: key->state = KEY_NOTFOUND; break;
    case DNS_TEMPFAIL:
        key->state = KEY_TEMP;
        key->reason = "key DNS lookup failed temporarily";
        break;
    case DNS_PERMFAIL:
    default:
        key->state = KEY_PERM;
        key->reason = "malformed key DNS answer";
        break;
    }
    dns_release(key->query);
    key->query = NULL;
}

/* dkimv_query_ok - does a q= value (colon-separated methods, FWS around
 * them) name dns/txt, the only method RFC 6376 3.5 defines?  Unknown
 * methods are ignored; when none is left the key cannot be fetched. */
static bool dkimv_query_ok(const char *q, size_t len)
{
    size_t i = 0;

    while (i <= len) {
        size_t start = i, end;
        while (i < len && q[i] != ':')
            i++;
        end = i++;
        while (start < end && strchr(" \t\r\n", q[start]) != NULL)
            start++;
        while (end > start && strchr(" \t\r\n", q[end - 1]) != NULL)
            end--;
        if (end - start == 7 && strncasecmp(q + start, "dns/txt", 7) == 0)
            return true;
    }
    return false;
}

/* dkimv_sig_query_ok - q= of a signature as libopendkim parsed it (absent: dns/txt) */
static bool dkimv_sig_query_ok(DKIM_SIGINFO *sig)
{
    const char *q = (const char *)dkim_sig_gettagvalue(sig, false, (u_char *)"q");
    return q == NULL || dkimv_query_ok(q, strlen(q));
}

/* dkimv_key_lookup - libopendkim's key callback: our resolver, our deadline */
static DKIM_CBSTAT dkimv_key_lookup(DKIM *dkim, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
    struct dkimv_msg *m = dkim_get_user_context(dkim);
    struct dkimv_key *key;
    char name[256];

    if (m == NULL || buf == NULL || buflen == 0)
        return DKIM_CBSTAT_ERROR;
    if (!dkimv_sig_query_ok(sig))
        return DKIM_CBSTAT_ERROR;   /* no way to fetch the key: see dkimv_result_from_sig */
    if (dkimv_key_name(name, sizeof name, (const char *)dkim_sig_getselector(sig),
                       (const char *)dkim_sig_getdomain(sig)) < 0)
        return DKIM_CBSTAT_NOTFOUND;
    if ((key = dkimv_key_start(m, name)) == NULL)
        return DKIM_CBSTAT_ERROR;
    dkimv_key_collect(m, key);
    switch (key->state) {
    case KEY_FOUND:
        if (strlen(key->record) >= buflen) {
            key->state = KEY_PERM;
            key->reason = "key record too long";
            return DKIM_CBSTAT_ERROR;
        }
        memcpy(buf, key->record, strlen(key->record) + 1);
        return DKIM_CBSTAT_CONTINUE;
    case KEY_NOTFOUND: return DKIM_CBSTAT_NOTFOUND;
    case KEY_TEMP:
    case KEY_PENDING: return DKIM_CBSTAT_TRYAGAIN;
    case KEY_PERM: break;
    }
    return DKIM_CBSTAT_ERROR;
}

/* dkimv_new - one DKIM_LIB with our key lookup and options */
struct dkimv *dkimv_new(struct dns_resolver *resolver, unsigned min_key_bits)
{
    struct dkimv *v = calloc(1, sizeof *v);
    unsigned int flags = DKIM_LIBFLAGS_DELAYSIGPROC | DKIM_LIBFLAGS_BADSIGHANDLES;
    unsigned int bits;

    if (v == NULL) {
        log_err("dkim: out of memory");
        return NULL;
    }
    v->resolver = resolver;
    v->min_key_bits = min_key_bits != 0 ? min_key_bits : DKIMV_MIN_KEY_BITS;
    bits = v->min_key_bits;
    if ((v->lib = dkim_init(NULL, NULL)) == NULL) {
        log_err("dkim: dkim_init failed");
        free(v);
        return NULL;
    }
    if (dkim_options(v->lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof flags) !=
            DKIM_STAT_OK ||
        dkim_options(v->lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &bits, sizeof bits) !=
            DKIM_STAT_OK ||
        dkim_set_key_lookup(v->lib, dkimv_key_lookup) != DKIM_STAT_OK) {
        log_err("dkim: cannot configure libopendkim");
        dkim_close(v->lib);
        free(v);
        return NULL;
    }
    if (!dkim_libfeature(v->lib, DKIM_FEATURE_ED25519))
        log_warn("dkim: libopendkim built without ed25519-sha256 support");
    return v;
}

/* dkimv_free - close the library */
void dkimv_free(struct dkimv *v)
{
    if (v == NULL)
        return;
    dkim_close(v->lib);
    free(v);
}

/* dkimv_msg_new - per-message verifier */
struct dkimv_msg *dkimv_msg_new(struct dkimv *v, const char *id,
                                const struct timespec *deadline)
{
    struct dkimv_msg *m;
    DKIM_STAT st = DKIM_STAT_OK;

    if (v == NULL || (m = calloc(1, sizeof *m)) == NULL)
        return NULL;
    m->v = v;
    dkimv_copy_str(m->id, sizeof m->id, id != NULL ? id : "-");
    dkimv_set_deadline(m, deadline);
    m->dkim = dkim_verify(v->lib, (const u_char *)m->id, NULL, &st);
    if (m->dkim == NULL) {
        log_warn("%s: dkim: dkim_verify: %s", m->id, dkim_getresultstr(st));
        m->unusable = "verifier unavailable";
        m->unusable_status = DKIMV_TEMPERROR;
    } else {
        dkim_set_user_context(m->dkim, m);
    }
    return m;
}

/* dkimv_set_allow_sha1 - may rsa-sha1 signatures pass for this message? */
void dkimv_set_allow_sha1(struct dkimv_msg *m, int allow)
{
    if (m != NULL)
        m->allow_sha1 = allow != 0;
}

/* dkimv_set_deadline - copy the deadline (NULL: none) */
void dkimv_set_deadline(struct dkimv_msg *m, const struct timespec *deadline)
{
    if (m == NULL)
        return;
    m->has_deadline = deadline != NULL;
    if (deadline != NULL)
        m->deadline = *deadline;
}

/* dkimv_header_name_ok - RFC 5322 field name: printable ASCII, no colon */
static bool dkimv_header_name_ok(const char *name, size_t len)
{
    if (len == 0 || len > 998)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c <= 0x20 || c >= 0x7f || c == ':')
            return false;
    }
    return true;
}

/* dkimv_sig_tags - pull d=, s=, a= and the start of b= out of a
 * DKIM-Signature value (tag-list of RFC 6376 3.2), bounded by len */
static void dkimv_sig_tags(const char *value, size_t len, struct dkimv_seen *out)
{
    size_t i = 0;

    memset(out, 0, sizeof *out);
    while (i < len) {
        size_t tag_start, tag_end, val_start, val_end;

        while (i < len &&
               (value[i] == ' ' || value[i] == '\t' || value[i] == '\r' || value[i] == '\n'))
            i++;
        tag_start = i;
        while (i < len && value[i] != '=' && value[i] != ';')
            i++;
        tag_end = i;
        while (tag_end > tag_start &&
               (value[tag_end - 1] == ' ' || value[tag_end - 1] == '\t' ||
                value[tag_end - 1] == '\r' || value[tag_end - 1] == '\n'))
            tag_end--;
        if (i >= len || value[i] == ';') { /* no '=': skip the junk */
            i++;
            continue;
        }
        val_start = ++i;
        while (i < len && value[i] != ';')
            i++;
        val_end = i++;
        if (tag_end - tag_start != 1)
            continue;
        switch (value[tag_start]) {
        case 'd':
            dkimv_copy(out->domain, sizeof out->domain, value + val_start, val_end - val_start);
            break;
        case 's':
            dkimv_copy(out->selector, sizeof out->selector, value + val_start,
                       val_end - val_start);
            break;
        case 'a':
            dkimv_copy(out->algorithm, sizeof out->algorithm, value + val_start,
                       val_end - val_start);
            break;
        case 'b':
            dkimv_copy(out->b, sizeof out->b, value + val_start, val_end - val_start);
            break;
        case 'q':
            out->no_query_method = !dkimv_query_ok(value + val_start, val_end - val_start);
            break;
        default: break;
        }
    }
}

/* dkimv_make_unusable - give up on a partial view of the message */
static void dkimv_make_unusable(struct dkimv_msg *m, const char *why)
{
    if (m->unusable == NULL) {
        m->unusable = why;
        m->unusable_status = DKIMV_PERMERROR;
        log_info("%s: dkim: %s", m->id, why);
    }
}

/* dkimv_seen_signature - note a DKIM-Signature field, start its key lookup */
static void dkimv_seen_signature(struct dkimv_msg *m, const char *value, size_t len)
{
    struct dkimv_seen *seen;
    char name[256];

    if (m->nseen >= DKIMV_MAX_SIGS) {
        m->nseen++;
        dkimv_make_unusable(m, "too many signatures");
        return;
    }
    seen = &m->seen[m->nseen++];
    dkimv_sig_tags(value, len, seen);
    if (seen->no_query_method)
        return;                     /* RFC 6376 3.5: no method to fetch the key */
    if (dkimv_key_name(name, sizeof name, seen->selector, seen->domain) == 0)
        (void)dkimv_key_start(m, name);
}

/* dkimv_header - check one header field, then hand it to libopendkim as
 * "name:value" with CRLF line ends */
void dkimv_header(struct dkimv_msg *m, const char *name, const char *value)
{
    size_t nlen, vlen, out = 0;
    char *buf;
    DKIM_STAT st;

    if (m == NULL || m->eoh_done)
        return;
    if (name == NULL)
        name = "";
    if (value == NULL)
        value = "";
    nlen = strlen(name);
    vlen = strlen(value);
    if (++m->nheaders > DKIMV_MAX_HEADERS) {
        dkimv_make_unusable(m, "too many header fields");
        return;
    }
    if (nlen + vlen > DKIMV_MAX_HEADER) {
        dkimv_make_unusable(m, "header field too long");
        return;
    }
    if (!dkimv_header_name_ok(name, nlen)) {
        dkimv_make_unusable(m, "malformed header field name");
        return;
    }
    if (nlen == 14 && strcasecmp(name, "DKIM-Signature") == 0)
        dkimv_seen_signature(m, value, vlen);
    if (m->unusable != NULL)
        return;

    /* worst case: every LF becomes CRLF, plus ": " and NUL */
    if ((buf = malloc(nlen + 2 * vlen + 3)) == NULL) {
        dkimv_make_unusable(m, "out of memory");
        m->unusable_status = DKIMV_TEMPERROR;
        return;
    }
    memcpy(buf, name, nlen);
    out = nlen;
    buf[out++] = ':';
    if (vlen > 0 && value[0] != ' ' && value[0] != '\t')
        buf[out++] = ' ';
    for (size_t i = 0; i < vlen; i++) {
        char c = value[i];
        if (c == '\r' || c == '\n') {
            /* a line break must be CRLF or LF followed by folding white
             * space; anything else would smuggle in another field */
            size_t next = (c == '\r' && i + 1 < vlen && value[i + 1] == '\n') ? i + 2 : i + 1;
            if (next >= vlen || (value[next] != ' ' && value[next] != '\t')) {
                free(buf);
                dkimv_make_unusable(m, "bare line break in header field");
                return;
            }
            buf[out++] = '\r';
            buf[out++] = '\n';
            i = next - 1;
            continue;
        }
        buf[out++] = c;
    }
    buf[out] = '\0';
    st = dkim_header(m->dkim, (u_char *)buf, out);
    if (st != DKIM_STAT_OK)
        log_debug("%s: dkim: header %.40s: %s", m->id, name, dkim_getresultstr(st));
    free(buf);
}

/* dkimv_eoh - end of header */
void dkimv_eoh(struct dkimv_msg *m)
{
    DKIM_STAT st;

    if (m == NULL || m->eoh_done)
        return;
    m->eoh_done = true;
    if (m->unusable != NULL || m->nseen == 0)
        return;
    st = dkim_eoh(m->dkim);
    if (st != DKIM_STAT_OK && st != DKIM_STAT_NOSIG) {
        log_debug("%s: dkim: eoh: %s", m->id, dkim_getresultstr(st));
        if (st == DKIM_STAT_SYNTAX)
            dkimv_make_unusable(m, "message not usable for DKIM (no From:?)");
        else
            dkimv_make_unusable(m, dkim_getresultstr(st));
    }
}

/* dkimv_body - a body chunk; skipped once nothing more can be learnt */
void dkimv_body(struct dkimv_msg *m, const unsigned char *buf, size_t len)
{
    DKIM_STAT st;

    if (m == NULL || buf == NULL || len == 0 || m->eom_done)
        return;
    if (!m->eoh_done)
        dkimv_eoh(m);
    if (m->unusable != NULL || m->nseen == 0)
        return;
    st = dkim_body(m->dkim, (u_char *)buf, len);
    if (st != DKIM_STAT_OK)
        log_debug("%s: dkim: body: %s", m->id, dkim_getresultstr(st));
}

/* dkimv_classify - RFC 8601 result of one processed signature */
static enum dkimv_status dkimv_classify(DKIM_SIGINFO *sig, const struct dkimv_key *key,
                                        const char **reason)
{
    unsigned int flags = dkim_sig_getflags(sig);
    int err = dkim_sig_geterror(sig);
    int bh = dkim_sig_getbh(sig);

    if ((flags & DKIM_SIGFLAG_PASSED) != 0 && bh == DKIM_SIGBH_MATCH &&
        err == DKIM_SIGERROR_OK) {
        *reason = "signature verified";
        return DKIMV_PASS;
    }
    if ((flags & DKIM_SIGFLAG_PROCESSED) == 0 && err == DKIM_SIGERROR_UNKNOWN) {
        /* the key callback did not deliver: our key table says why */
        if (key != NULL && (key->state == KEY_TEMP || key->state == KEY_PENDING)) {
            *reason = key->reason != NULL ? key->reason : "key lookup timed out";
            return DKIMV_TEMPERROR;
        }
        if (key != NULL && key->state == KEY_PERM) {
            *reason = key->reason;
            return DKIMV_PERMERROR;
        }
        if (key != NULL && key->state == KEY_NOTFOUND) {
            *reason = "no key for signature";
            return DKIMV_PERMERROR;
        }
        *reason = "signature not evaluated";
        return DKIMV_NEUTRAL;
    }
    *reason = dkim_sig_geterrorstr(err);
    if (*reason == NULL)
        *reason = "signature error";
    switch (err) {
    case DKIM_SIGERROR_OK:
        if (bh == DKIM_SIGBH_MISMATCH) {
            *reason = "body hash did not verify";
            return DKIMV_FAIL;
        }
        *reason = "signature did not verify";
        return DKIMV_FAIL;
    case DKIM_SIGERROR_BADSIG:
    case DKIM_SIGERROR_TOOLARGE_L:
        if (bh == DKIM_SIGBH_MISMATCH)
            *reason = "body hash did not verify";
        return DKIMV_FAIL;
    case DKIM_SIGERROR_KEYTOOSMALL:
    case DKIM_SIGERROR_MBSFAILED: return DKIMV_POLICY;
    case DKIM_SIGERROR_KEYFAIL: return DKIMV_TEMPERROR;
    case DKIM_SIGERROR_EXPIRED:
    case DKIM_SIGERROR_FUTURE: return DKIMV_NEUTRAL;
    default: return DKIMV_PERMERROR;
    }
}

/* dkimv_result_from_seen - a result from our own parse only */
static void dkimv_result_from_seen(struct dkimv_result *r, const struct dkimv_seen *s,
                                   enum dkimv_status status, const char *reason)
{
    memset(r, 0, sizeof *r);
    r->result = status;
    memcpy(r->domain, s->domain, sizeof r->domain);
    memcpy(r->selector, s->selector, sizeof r->selector);
    memcpy(r->algorithm, s->algorithm, sizeof r->algorithm);
    memcpy(r->b, s->b, sizeof r->b);
    r->reason = reason;
}

/* dkimv_result_from_sig - a result from libopendkim's view of a signature;
 * seen (may be NULL) fills in what the library could not parse */
static void dkimv_result_from_sig(struct dkimv_msg *m, struct dkimv_result *r,
                                  DKIM_SIGINFO *sig, const struct dkimv_seen *seen)
{
    const char *d = (const char *)dkim_sig_getdomain(sig);
    const char *s = (const char *)dkim_sig_getselector(sig);
    const char *b = (const char *)dkim_sig_gettagvalue(sig, false, (u_char *)"b");
    const char *a = (const char *)dkim_sig_gettagvalue(sig, false, (u_char *)"a");
    struct dkimv_key *key = NULL;
    dkim_alg_t alg = DKIM_SIGN_UNKNOWN;
    unsigned int bits = 0;
    char name[256];

    memset(r, 0, sizeof *r);
    dkimv_copy_str(r->domain, sizeof r->domain, d);
    dkimv_copy_str(r->selector, sizeof r->selector, s);
    dkimv_copy_str(r->algorithm, sizeof r->algorithm, a);
    dkimv_copy_str(r->b, sizeof r->b, b);
    if (seen != NULL) {
        if (r->domain[0] == '\0')
            memcpy(r->domain, seen->domain, sizeof r->domain);
        if (r->selector[0] == '\0')
            memcpy(r->selector, seen->selector, sizeof r->selector);
        if (r->algorithm[0] == '\0')
            memcpy(r->algorithm, seen->algorithm, sizeof r->algorithm);
        if (r->b[0] == '\0')
            memcpy(r->b, seen->b, sizeof r->b);
    }
    if (dkimv_key_name(name, sizeof name, s, d) == 0)
        key = dkimv_key_find(m, name);
    r->result = dkimv_classify(sig, key, &r->reason);
    if (dkim_sig_getkeysize(sig, &bits) == DKIM_STAT_OK)
        r->key_bits = bits;
    if (dkim_sig_getsignalg(sig, &alg) != DKIM_STAT_OK)
        alg = DKIM_SIGN_UNKNOWN;
    if (r->key_bits == 0 && alg == DKIM_SIGN_ED25519SHA256 &&
        (r->result == DKIMV_PASS || r->result == DKIMV_FAIL))
        r->key_bits = 256;
    /* libopendkim ignores q=: a signature whose methods are all unknown
     * has no key we may fetch, so it cannot verify (RFC 6376 3.5) */
    if (!dkimv_sig_query_ok(sig) || (seen != NULL && seen->no_query_method)) {
        r->result = DKIMV_PERMERROR;
        r->reason = "no known key query method (q=)";
    } else if (r->result == DKIMV_PASS && alg == DKIM_SIGN_RSASHA1 && !m->allow_sha1) {
        /* RFC 8301 3.1: verifiers must not treat rsa-sha1 as valid */
        r->result = DKIMV_POLICY;
        r->reason = "rsa-sha1 signature (RFC 8301), see [dkim] allow_sha1";
    }
}

/* dkimv_eom - finish verification, one result per signature */
int dkimv_eom(struct dkimv_msg *m, struct dkimv_result *out, int max)
{
    DKIM_SIGINFO **sigs = NULL;
    int nsigs = 0, n = 0;
    DKIM_STAT st;

    if (m == NULL || out == NULL || max <= 0 || m->eom_done)
        return 0;
    if (!m->eoh_done)
        dkimv_eoh(m);
    m->eom_done = true;
    if (m->nseen == 0)
        return 0;

    if (m->unusable == NULL) {
        st = dkim_eom(m->dkim, NULL);
        if (st != DKIM_STAT_OK)
            log_debug("%s: dkim: eom: %s", m->id, dkim_getresultstr(st));
        if (dkim_getsiglist(m->dkim, &sigs, &nsigs) != DKIM_STAT_OK || sigs == NULL)
            nsigs = 0;
        if (nsigs > DKIMV_MAX_SIGS)
            nsigs = DKIMV_MAX_SIGS;
        for (int i = 0; i < nsigs && n < max; i++)
            dkimv_result_from_sig(m, &out[n++], sigs[i],
                                  nsigs == m->nseen ? &m->seen[i] : NULL);
        if (nsigs == m->nseen)
            return n;
        /* the library kept fewer signatures than we saw: report the
         * others as broken rather than drop them */
        for (int i = nsigs; i < m->nseen && i < DKIMV_MAX_SIGS && n < max; i++)
            dkimv_result_from_seen(&out[n++], &m->seen[i], DKIMV_PERMERROR,
                                   "signature not parsed");
        return n;
    }
    for (int i = 0; i < m->nseen && i < DKIMV_MAX_SIGS && n < max; i++)
        dkimv_result_from_seen(&out[n++], &m->seen[i], m->unusable_status, m->unusable);
    return n;
}

/* dkimv_msg_free - release the handle, pending lookups and records */
void dkimv_msg_free(struct dkimv_msg *m)
{
    if (m == NULL)
        return;
    if (m->dkim != NULL)
        dkim_free(m->dkim);
    for (int i = 0; i < m->nkeys; i++) {
        if (m->keys[i].query != NULL)
            dns_release(m->keys[i].query);
        free(m->keys[i].record);
    }
    free(m);
}
