/*
 * NAME
 *   authres.c - build and recognise Authentication-Results (RFC 8601)
 * DESCRIPTION
 *   See authres.h.  Each resinfo is first written into a scratch buffer
 *   and only copied into the caller's buffer when it fits whole, so a short
 *   buffer yields a shorter but well-formed value, never a cut one.
 */
#include "autoconf.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "authres.h"
#include "util.h"
#include "dkim.h"

#define AUTHRES_RESINFO_MAX (4 * AUTHRES_VALUE_MAX + 512)
#define AUTHRES_FOLD ";\n\t"

/* A bounded writer: overflow is remembered, never written past size. */
struct authres_out {
    char *p;
    size_t size;
    size_t len;
    bool overflow;
};

/* authres_putc - one byte */
static void authres_putc(struct authres_out *o, char c)
{
    if (o->len + 1 < o->size) {
        o->p[o->len++] = c;
        o->p[o->len] = '\0';
    } else {
        o->overflow = true;
    }
}

/* authres_puts - a trusted string */
static void authres_puts(struct authres_out *o, const char *s)
{
    while (*s != '\0')
        authres_putc(o, *s++);
}

/* authres_tspecial - RFC 2045 tspecials */
static bool authres_tspecial(unsigned char c)
{
    return c != '\0' && strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

/* authres_token_char - RFC 2045 token character */
static bool authres_token_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && !authres_tspecial(c);
}

/* authres_atext - RFC 5322 atext */
static bool authres_atext(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* authres_is_token - whole string is a non-empty token */
static bool authres_is_token(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!authres_token_char((unsigned char)s[i]))
            return false;
    return true;
}

/* authres_is_domain - a host or domain name that needs no quoting */
static bool authres_is_domain(const char *s, size_t len)
{
    return util_dns_name_ok(s, len);
}

/* authres_is_addr - [dot-atom-local-part] "@" domain, written bare */
static bool authres_is_addr(const char *s, size_t len)
{
    const char *at = memchr(s, '@', len);
    size_t local;

    if (at == NULL)
        return false;
    local = (size_t)(at - s);
    for (size_t i = 0; i < local; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (i == 0 || i + 1 == local || s[i - 1] == '.')
                return false;
        } else if (!authres_atext(c)) {
            return false;
        }
    }
    return authres_is_domain(at + 1, len - local - 1);
}

/* authres_quoted - a quoted-string: '"' and '\\' escaped, control bytes
 * dropped, 8-bit bytes as '?' */
static void authres_quoted(struct authres_out *o, const char *v, size_t len)
{
    authres_putc(o, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c < 0x20 || c == 0x7f)
            continue;
        if (c >= 0x80)
            c = '?';
        if (c == '"' || c == '\\')
            authres_putc(o, '\\');
        authres_putc(o, (char)c);
    }
    authres_putc(o, '"');
}

/* authres_value - a property value: bare when safe, else quoted */
static void authres_value(struct authres_out *o, const char *v)
{
    size_t len = v != NULL ? strnlen(v, AUTHRES_VALUE_MAX) : 0;

    if (authres_is_token(v, len) || authres_is_addr(v, len)) {
        for (size_t i = 0; i < len; i++)
            authres_putc(o, v[i]);
        return;
    }
    authres_quoted(o, v, len);
}

/* authres_comment - " (text)" with ctext escaped; nothing if text empty */
static void authres_comment(struct authres_out *o, const char *text)
{
    size_t len = text != NULL ? strnlen(text, AUTHRES_VALUE_MAX) : 0;

    if (len == 0)
        return;
    authres_puts(o, " (");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x20 || c == 0x7f)
            continue;
        if (c >= 0x80)
            c = '?';
        if (c == '(' || c == ')' || c == '\\')
            authres_putc(o, '\\');
        authres_putc(o, (char)c);
    }
    authres_putc(o, ')');
}

/* authres_keyword_ok - a method, result or ptype.property we write bare */
static bool authres_keyword_ok(const char *s, bool dots)
{
    size_t len = s != NULL ? strlen(s) : 0;

    if (len == 0 || len > 64)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              (dots && c == '.')))
            return false;
    }
    return true;
}

/* authres_result - METHOD=RESULT, a bad result word written as permerror */
static void authres_result(struct authres_out *o, const char *method, const char *result)
{
    authres_puts(o, method);
    authres_putc(o, '=');
    authres_puts(o, authres_keyword_ok(result, false) ? result : "permerror");
}

/* authres_property - " ptype.property=value"; nothing if value is NULL */
static void authres_property(struct authres_out *o, const char *prop, const char *value)
{
    if (value == NULL)
        return;
    authres_putc(o, ' ');
    authres_puts(o, prop);
    authres_putc(o, '=');
    authres_value(o, value);
}

/* authres_append - copy one finished resinfo if it fits whole */
static void authres_append(struct authres *ar, const struct authres_out *ri)
{
    size_t need = strlen(AUTHRES_FOLD) + ri->len;

    if (ri->overflow || ar->len + need + 1 > ar->size) {
        ar->truncated = 1;
        return;
    }
    memcpy(ar->buf + ar->len, AUTHRES_FOLD, strlen(AUTHRES_FOLD));
    memcpy(ar->buf + ar->len + strlen(AUTHRES_FOLD), ri->p, ri->len);
    ar->len += need;
    ar->buf[ar->len] = '\0';
    ar->methods++;
}

/* authres_begin - the authserv-id, as a token or a quoted-string (never
 * bare local@domain: RFC 8601 says value, and authres_claims_authserv()
 * reads a token or a quoted-string back).  An id that does not fit leaves
 * an empty, finished value: nothing may follow, so it never starts ';'. */
void authres_begin(struct authres *ar, char *buf, size_t size, const char *authserv_id)
{
    struct authres_out o = {buf, size, 0, false};
    const char *id = authserv_id != NULL && *authserv_id != '\0' ? authserv_id : "localhost";
    size_t len = strnlen(id, AUTHRES_VALUE_MAX);

    memset(ar, 0, sizeof *ar);
    ar->buf = buf;
    ar->size = size;
    if (buf == NULL || size == 0) {
        ar->size = 0;
        ar->truncated = 1;
        return;
    }
    buf[0] = '\0';
    if (authres_is_token(id, len))
        for (size_t i = 0; i < len; i++)
            authres_putc(&o, id[i]);
    else
        authres_quoted(&o, id, len);
    if (o.overflow || id[len] != '\0') {
        buf[0] = '\0';
        ar->size = 0;       /* authres_append() and authres_end() add nothing */
        ar->truncated = 1;
        return;
    }
    ar->len = o.len;
}

/* authres_iprev - iprev=RESULT [(host)] policy.iprev=IP */
void authres_iprev(struct authres *ar, const char *result, const char *client_ip,
                   const char *host)
{
    char tmp[AUTHRES_RESINFO_MAX];
    struct authres_out o = {tmp, sizeof tmp, 0, false};

    tmp[0] = '\0';
    authres_result(&o, "iprev", result);
    authres_comment(&o, host);
    authres_property(&o, "policy.iprev", client_ip);
    authres_append(ar, &o);
}

/* authres_spf - spf=RESULT smtp.mailfrom=... or smtp.helo=... */
void authres_spf(struct authres *ar, const char *result, const char *mailfrom, const char *helo)
{
    char tmp[AUTHRES_RESINFO_MAX];
    struct authres_out o = {tmp, sizeof tmp, 0, false};

    tmp[0] = '\0';
    authres_result(&o, "spf", result);
    if (mailfrom != NULL && *mailfrom != '\0')
        authres_property(&o, "smtp.mailfrom", mailfrom);
    else
        authres_property(&o, "smtp.helo", helo);
    authres_append(ar, &o);
}

/* authres_dkim_one - one dkim=... resinfo */
static void authres_dkim_one(struct authres *ar, const struct dkimv_result *r)
{
    char tmp[AUTHRES_RESINFO_MAX];
    struct authres_out o = {tmp, sizeof tmp, 0, false};
    char bits[32];

    tmp[0] = '\0';
    authres_result(&o, "dkim", dkimv_status_name(r->result));
    if (r->key_bits > 0) {
        snprintf(bits, sizeof bits, "%u-bit key", r->key_bits);
        authres_comment(&o, bits);
    }
    if (r->result != DKIMV_PASS && r->reason != NULL && *r->reason != '\0') {
        authres_puts(&o, " reason=");
        authres_quoted(&o, r->reason, strnlen(r->reason, AUTHRES_VALUE_MAX));
    }
    if (r->domain[0] != '\0')
        authres_property(&o, "header.d", r->domain);
    if (r->selector[0] != '\0')
        authres_property(&o, "header.s", r->selector);
    if (r->algorithm[0] != '\0')
        authres_property(&o, "header.a", r->algorithm);
    if (r->b[0] != '\0')
        authres_property(&o, "header.b", r->b);
    authres_append(ar, &o);
}

/* authres_dkim - every signature, or dkim=none */
void authres_dkim(struct authres *ar, const struct dkimv_result *res, int n)
{
    if (res == NULL || n <= 0) {
        authres_method(ar, "dkim", "none", NULL, NULL, NULL);
        return;
    }
    for (int i = 0; i < n; i++)
        authres_dkim_one(ar, &res[i]);
}

/* authres_method - a generic resinfo for methods without their own helper */
void authres_method(struct authres *ar, const char *method, const char *result,
                    const char *comment, const char *property, const char *value)
{
    char tmp[AUTHRES_RESINFO_MAX];
    struct authres_out o = {tmp, sizeof tmp, 0, false};

    if (!authres_keyword_ok(method, false)) {
        ar->truncated = 1;
        return;
    }
    tmp[0] = '\0';
    authres_result(&o, method, result);
    authres_comment(&o, comment);
    if (property != NULL && authres_keyword_ok(property, true) && strchr(property, '.') != NULL)
        authres_property(&o, property, value);
    authres_append(ar, &o);
}

/* authres_end - "; none" when empty; report truncation */
int authres_end(struct authres *ar)
{
    if (ar->size == 0)
        return -1;
    if (ar->methods == 0) {
        if (ar->len + 7 <= ar->size) {
            memcpy(ar->buf + ar->len, "; none", 7);
            ar->len += 6;
        } else {
            ar->truncated = 1;
        }
    }
    return ar->truncated ? -1 : 0;
}

/* authres_skip_cfws - past white space and (nested) comments; NULL if a
 * comment is not closed */
static const char *authres_skip_cfws(const char *p)
{
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        if (*p != '(')
            return p;
        for (int depth = 0;; p++) {
            if (*p == '\0')
                return NULL;
            if (*p == '\\') {
                if (p[1] == '\0')
                    return NULL;
                p++;
            } else if (*p == '(') {
                depth++;
            } else if (*p == ')' && --depth == 0) {
                p++;
                break;
            }
        }
    }
}

/* authres_id_equal - compare ids without case, ignoring one trailing dot */
static bool authres_id_equal(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);

    if (alen > 0 && a[alen - 1] == '.')
        alen--;
    if (blen > 0 && b[blen - 1] == '.')
        blen--;
    return alen == blen && alen > 0 && strncasecmp(a, b, alen) == 0;
}

/* authres_claims_authserv - does this A-R value carry our authserv-id? */
int authres_claims_authserv(const char *header_value, const char *authserv_id)
{
    char id[256];
    size_t n = 0;
    const char *p;

    if (header_value == NULL || authserv_id == NULL || *authserv_id == '\0')
        return 0;
    if ((p = authres_skip_cfws(header_value)) == NULL)
        return 0;
    /* an id that is no token (one with '@') written bare, as greyrep once
     * wrote it and a forger may still: malformed, but a lenient reader
     * would take it as ours, so it claims our id too */
    size_t il = strlen(authserv_id);
    if (!authres_is_token(authserv_id, il) && strncasecmp(p, authserv_id, il) == 0
        && (p[il] == '\0' || strchr(" \t\r\n(;", p[il]) != NULL))
        return 1;
    if (*p == '"') {
        for (p++; *p != '"'; p++) {
            if (*p == '\0')
                return 0;
            if (*p == '\\' && *++p == '\0')
                return 0;
            if (n + 1 >= sizeof id)
                return 0;
            id[n++] = *p;
        }
        p++;
    } else {
        while (authres_token_char((unsigned char)*p)) {
            if (n + 1 >= sizeof id)
                return 0;
            id[n++] = *p++;
        }
    }
    id[n] = '\0';
    /* the id must end at white space, a comment, ';' or the end */
    if (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' && *p != '(' &&
        *p != ';')
        return 0;
    return authres_id_equal(id, n, authserv_id) ? 1 : 0;
}
