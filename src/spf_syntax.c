/*
 * NAME
 *   spf_syntax.c - RFC 7208 section 12 grammar, checked by hand
 * DESCRIPTION
 *   See spf_syntax.h.  Every function takes a pointer and a length and
 *   never reads outside them; nothing needs a NUL terminator.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <string.h>

#include "spf_syntax.h"

/* where a macro-string appears decides which macro letters are allowed */
enum macro_ctx { MACRO_DOMAIN, MACRO_EXPLAIN, MACRO_UNKNOWN_MOD };

enum mech_arg { ARG_NONE, ARG_OPTIONAL, ARG_REQUIRED };
enum mech_cidr { CIDR_NONE, CIDR_DUAL, CIDR_IP4, CIDR_IP6 };

static const struct mech {
    const char *name;
    enum mech_arg domain;
    enum mech_cidr cidr;
} mechs[] = {
    { "all", ARG_NONE, CIDR_NONE },
    { "include", ARG_REQUIRED, CIDR_NONE },
    { "a", ARG_OPTIONAL, CIDR_DUAL },
    { "mx", ARG_OPTIONAL, CIDR_DUAL },
    { "ptr", ARG_OPTIONAL, CIDR_NONE },
    { "ip4", ARG_REQUIRED, CIDR_IP4 },   /* the argument is a network */
    { "ip6", ARG_REQUIRED, CIDR_IP6 },
    { "exists", ARG_REQUIRED, CIDR_NONE },
};

/* is_alpha, is_digit, is_alnum - ASCII only, whatever the locale */
static int is_alpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_alnum(unsigned char c) { return is_alpha(c) || is_digit(c); }

/* lower - ASCII lower case */
static unsigned char lower(unsigned char c) { return is_alpha(c) ? (unsigned char)(c | 0x20) : c; }

/* same_word - s[0..len) equals the lower-case word w, ignoring case */
static int same_word(const char *s, size_t len, const char *w)
{
    if (strlen(w) != len)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (lower((unsigned char)s[i]) != (unsigned char)w[i])
            return 0;
    return 1;
}

/* spf_syntax_is_spf - "v=spf1" followed by SP or the end */
int spf_syntax_is_spf(const char *rec, size_t len)
{
    return len >= 6 && same_word(rec, 6, "v=spf1") && (len == 6 || rec[6] == ' ');
}

/* macro_expand - parse one macro-expand at s[0] == '%'; its length, or 0 if bad */
static size_t macro_expand(const char *s, size_t len, enum macro_ctx ctx)
{
    size_t i = 2;

    if (len < 2)
        return 0;
    if (s[1] == '%' || s[1] == '_' || s[1] == '-')
        return 2;
    if (s[1] != '{' || len < 4)
        return 0;
    unsigned char letter = lower((unsigned char)s[2]);
    if (!strchr("slodiphv", letter) || letter == '\0') {
        /* c, r and t exist only in explanation text */
        if (ctx == MACRO_DOMAIN || !strchr("crt", letter) || letter == '\0')
            return 0;
    }
    i = 3;
    size_t digits = 0;
    unsigned value = 0;
    while (i < len && is_digit((unsigned char)s[i])) {
        if (value < 100000)
            value = value * 10 + (unsigned)(s[i] - '0');
        digits++;
        i++;
    }
    if (digits && value == 0)
        return 0;               /* "%{d0}": the number of parts must be nonzero */
    /*
     * RFC 7208 7.3 asks for at least 128 parts; more is legal but absurd
     * (a name has at most 127 labels), and libspf2's macro compiler is the
     * part with known overflows: refuse it.
     */
    if (value > 128)
        return 0;
    if (i < len && lower((unsigned char)s[i]) == 'r')
        i++;
    while (i < len && strchr(".-+,/_=", s[i]) && s[i] != '\0')
        i++;
    if (i >= len || s[i] != '}')
        return 0;
    return i + 1;
}

/* macro_string - check a macro-string; *tail = offset after the last macro-expand */
static const char *macro_string(const char *s, size_t len, enum macro_ctx ctx, size_t *tail)
{
    size_t i = 0;

    *tail = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            size_t n = macro_expand(s + i, len - i, ctx);
            if (n == 0)
                return "bad macro";
            i += n;
            *tail = i;
        } else if ((c >= 0x21 && c <= 0x7e) || (c == ' ' && ctx == MACRO_EXPLAIN)) {
            i++;
        } else {
            return c >= 0x80 ? "non-ASCII character" : "control character or space in a term";
        }
    }
    return NULL;
}

/* toplabel - RFC 7208 toplabel: LDH, alphanumeric at both ends, not all digits */
static int toplabel(const char *s, size_t len)
{
    int alpha = 0, dash = 0;

    if (len == 0 || len > 63)
        return 0;
    if (!is_alnum((unsigned char)s[0]) || !is_alnum((unsigned char)s[len - 1]))
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_alpha(c))
            alpha = 1;
        else if (c == '-')
            dash = 1;
        else if (!is_digit(c))
            return 0;
    }
    return alpha || dash;
}

/* spf_syntax_domain_spec - macro-string then domain-end ("." toplabel ["."] or a macro) */
const char *spf_syntax_domain_spec(const char *s, size_t len)
{
    size_t tail;
    const char *why;

    if (len == 0)
        return "empty domain-spec";
    if ((why = macro_string(s, len, MACRO_DOMAIN, &tail)) != NULL)
        return why;
    if (tail == len)
        return NULL;            /* ends with a macro-expand */
    const char *t = s + tail;
    size_t tl = len - tail;
    if (t[tl - 1] == '.')
        tl--;
    size_t dot = tl;
    while (dot > 0 && t[dot - 1] != '.')
        dot--;
    if (dot == 0)
        return "domain-spec without a dot before its last label";
    if (!toplabel(t + dot, tl - dot))
        return "bad top label in domain-spec";
    return NULL;
}

/* cidr_number - "0" or 1-9 then digits, at most max; -1 if malformed */
static int cidr_number(const char *s, size_t len, int max)
{
    int v = 0;

    if (len == 0 || len > 3 || (len > 1 && s[0] == '0'))
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v <= max ? v : -1;
}

/* strip_cidr - if s ends in "/" DIGITS, check it against max and cut it; -1 if bad */
static int strip_cidr(const char *s, size_t *len, int max)
{
    size_t d = *len;

    while (d > 0 && is_digit((unsigned char)s[d - 1]))
        d--;
    if (d == *len || d == 0 || s[d - 1] != '/')
        return 0;               /* no CIDR suffix here */
    if (cidr_number(s + d, *len - d, max) < 0)
        return -1;
    *len = d - 1;
    return 1;
}

/* ip4_network - four dotted qnums without leading zeros */
static int ip4_network(const char *s, size_t len)
{
    size_t i = 0;

    for (int part = 0; part < 4; part++) {
        size_t start = i;
        unsigned v = 0;
        while (i < len && is_digit((unsigned char)s[i]) && i - start < 3)
            v = v * 10 + (unsigned)(s[i++] - '0');
        if (i == start || v > 255 || (i - start > 1 && s[start] == '0'))
            return 0;
        if (part < 3) {
            if (i >= len || s[i] != '.')
                return 0;
            i++;
        }
    }
    return i == len;
}

/* ip6_network - an RFC 4291 text address */
static int ip6_network(const char *s, size_t len)
{
    char buf[64];
    unsigned char a[16];

    if (len == 0 || len >= sizeof buf)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!is_alnum((unsigned char)s[i]) && s[i] != ':' && s[i] != '.')
            return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return inet_pton(AF_INET6, buf, a) == 1;
}

/* mechanism - check the argument of a known mechanism (after its name) */
static const char *mechanism(const struct mech *m, const char *arg, size_t len,
                             struct spf_term *t)
{
    if (m->cidr == CIDR_IP4 || m->cidr == CIDR_IP6) {
        int v6 = m->cidr == CIDR_IP6;
        if (len < 2 || arg[0] != ':')
            return v6 ? "ip6 without a network" : "ip4 without a network";
        arg++;
        len--;
        size_t l = len;
        int r = strip_cidr(arg, &l, v6 ? 128 : 32);
        if (r < 0)
            return "bad CIDR length";
        if (r > 0) {
            if (v6)
                t->cidr6 = cidr_number(arg + l + 1, len - l - 1, 128);
            else
                t->cidr4 = cidr_number(arg + l + 1, len - l - 1, 32);
        }
        if (v6 ? !ip6_network(arg, l) : !ip4_network(arg, l))
            return v6 ? "bad ip6 network" : "bad ip4 network";
        t->arg = arg;
        t->arglen = l;
        return NULL;
    }
    if (m->cidr == CIDR_DUAL) {
        /* dual-cidr-length = [ "/" ip4-cidr ] [ "//" ip6-cidr ], cut from the end */
        size_t l = len;
        int r6 = strip_cidr(arg, &l, 128);
        if (r6 < 0)
            return "bad CIDR length";
        if (r6 > 0) {
            if (l == 0 || arg[l - 1] != '/') {
                l = len;        /* it was the ip4 length, not "//" */
            } else {
                t->cidr6 = cidr_number(arg + l + 1, len - l - 1, 128);
                l--;
            }
        }
        size_t l4 = l;
        int r4 = strip_cidr(arg, &l, 32);
        if (r4 < 0)
            return "bad CIDR length";
        if (r4 > 0)
            t->cidr4 = cidr_number(arg + l + 1, l4 - l - 1, 32);
        len = l;
    }
    if (len == 0)
        return m->domain == ARG_REQUIRED ? "mechanism needs a domain-spec" : NULL;
    if (arg[0] != ':' || m->domain == ARG_NONE)
        return "unexpected text after a mechanism";
    t->arg = arg + 1;
    t->arglen = len - 1;
    return spf_syntax_domain_spec(arg + 1, len - 1);
}

/* term - check one directive or modifier and describe it; counts redirect= and exp= */
static const char *term(const char *s, size_t len, int *redirects, int *exps,
                        struct spf_term *t)
{
    size_t i = 0;

    memset(t, 0, sizeof *t);
    t->text = s;
    t->len = len;
    t->cidr4 = t->cidr6 = -1;
    if (strchr("+-?~", s[0]) && s[0] != '\0') {
        t->qualifier = s[0];
        i = 1;
    }
    size_t name = i;
    while (i < len && (is_alnum((unsigned char)s[i]) || s[i] == '-' || s[i] == '_' || s[i] == '.'))
        i++;
    size_t nlen = i - name;
    if (nlen == 0)
        return "term does not start with a name";
    if (i < len && s[i] == '=') {
        size_t tail;
        t->arg = s + i + 1;
        t->arglen = len - i - 1;
        if (t->qualifier)
            return "qualifier before a modifier";
        if (same_word(s + name, nlen, "redirect")) {
            t->kind = SPF_TERM_REDIRECT;
            if (++*redirects > 1)
                return "more than one redirect modifier";
            return spf_syntax_domain_spec(t->arg, t->arglen);
        }
        if (same_word(s + name, nlen, "exp")) {
            t->kind = SPF_TERM_EXP;
            if (++*exps > 1)
                return "more than one exp modifier";
            return spf_syntax_domain_spec(t->arg, t->arglen);
        }
        t->kind = SPF_TERM_UNKNOWN_MODIFIER;
        if (!is_alpha((unsigned char)s[name]))
            return "bad modifier name";
        return macro_string(t->arg, t->arglen, MACRO_UNKNOWN_MOD, &tail);
    }
    for (size_t k = 0; k < sizeof mechs / sizeof *mechs; k++) {
        if (same_word(s + name, nlen, mechs[k].name)) {
            t->kind = (enum spf_term_kind)k;
            return mechanism(&mechs[k], s + i, len - i, t);
        }
    }
    return "unknown mechanism";
}

/* next_term - find the term at or after *pos; 0 at the end */
static int next_term(const char *rec, size_t len, size_t *pos, size_t *start)
{
    size_t i = *pos;

    while (i < len && rec[i] == ' ')
        i++;
    *start = i;
    while (i < len && rec[i] != ' ')
        i++;
    *pos = i;
    return i > *start;
}

/* spf_syntax_next_term - iterate over the terms of an accepted record */
int spf_syntax_next_term(const char *rec, size_t len, size_t *pos, struct spf_term *t)
{
    size_t start;
    int redirects = 0, exps = 0;

    if (*pos < 6)
        *pos = 6;               /* after "v=spf1" */
    if (!next_term(rec, len, pos, &start))
        return 0;
    return term(rec + start, *pos - start, &redirects, &exps, t) == NULL;
}

/* spf_syntax_check - the whole record */
const char *spf_syntax_check(const char *rec, size_t len)
{
    int redirects = 0, exps = 0;
    size_t i, start;
    struct spf_term t;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)rec[i];
        if (c >= 0x80)
            return "non-ASCII character";
        if (c < 0x20 || c == 0x7f)
            return "control character";
    }
    if (!spf_syntax_is_spf(rec, len))
        return "no v=spf1 version tag";
    i = 6;
    while (next_term(rec, len, &i, &start)) {
        const char *why = term(rec + start, i - start, &redirects, &exps, &t);
        if (why)
            return why;
    }
    return NULL;
}

/* spf_syntax_explain - explain-string: macro-strings and spaces, c/r/t allowed */
const char *spf_syntax_explain(const char *text, size_t len)
{
    size_t tail;

    return macro_string(text, len, MACRO_EXPLAIN, &tail);
}
