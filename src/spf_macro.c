/*
 * spf_macro.c - rewrite the SPF macros libspf2 refuses; see spf_macro.h
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "spf_macro.h"

#define SPF_MACRO_PARTS 128         /* spf_syntax_check() refuses more */

/* a growing output buffer */
struct mbuf {
    char *p;
    size_t len, cap;
    int nomem;
};

/* mbuf_put - append n bytes, growing the buffer */
static void mbuf_put(struct mbuf *b, const char *s, size_t n)
{
    if (b->nomem)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->nomem = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* mbuf_lit - append one byte of expanded text as record text */
static void mbuf_lit(struct mbuf *b, unsigned char c, int url)
{
    static const char hex[] = "0123456789ABCDEF";
    /* RFC 7208 7.3: upper-case letters URL-encode all but "unreserved" */
    int unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                     || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
                     || c == '~';
    if (url && !unreserved) {
        char e[4] = {'%', '%', hex[c >> 4], hex[c & 15]};   /* "%" itself as "%%" */
        mbuf_put(b, e, 4);
    } else if (c == '%') {
        mbuf_put(b, "%%", 2);
    } else if (c == ' ') {
        mbuf_put(b, "%_", 2);
    } else {
        char ch = (char)c;
        mbuf_put(b, &ch, 1);
    }
}

/* macro_value - the text a macro letter stands for, or NULL */
static const char *macro_value(char letter, const struct spf_macro_vars *v)
{
    switch (letter) {
    case 'l': return v->local;
    case 'o': return v->sender_domain;
    case 'd': return v->domain;
    case 'i': return v->ip;
    case 'h': return v->helo;
    case 'v': return v->version;
    default: return NULL;           /* s is built by the caller; p unsupported */
    }
}

/* expand - one macro-expand s[0..n) ("%{...}") into b, per RFC 7208 7.3 */
static int expand(const char *s, size_t n, const struct spf_macro_vars *v, struct mbuf *b)
{
    char letter = s[2];
    int url = letter >= 'A' && letter <= 'Z';
    size_t i = 3, keep = 0;
    int reverse = 0;
    char delims[8] = "";
    size_t nd = 0;
    char sender[1024];

    if (url)
        letter = (char)(letter - 'A' + 'a');
    while (i < n && s[i] >= '0' && s[i] <= '9')
        keep = keep * 10 + (size_t)(s[i++] - '0');
    if (i < n && (s[i] == 'r' || s[i] == 'R')) {
        reverse = 1;
        i++;
    }
    /* the seven delimiters, each once however often it is repeated */
    for (; i < n - 1; i++)
        if (memchr(delims, s[i], nd) == NULL && nd < sizeof delims - 1)
            delims[nd++] = s[i];
    delims[nd] = '\0';
    if (nd == 0)
        strcpy(delims, ".");
    const char *val;
    if (letter == 's') {
        size_t ll = strlen(v->local), dl = strlen(v->sender_domain);
        if (ll + dl + 2 > sizeof sender)
            return SPF_MACRO_UNSUPPORTED;
        memcpy(sender, v->local, ll);
        sender[ll] = '@';
        memcpy(sender + ll + 1, v->sender_domain, dl + 1);
        val = sender;
    } else if ((val = macro_value(letter, v)) == NULL) {
        return SPF_MACRO_UNSUPPORTED;
    }
    /* split into parts (empty parts count, as between two delimiters) */
    const char *start[SPF_MACRO_PARTS * 4];
    size_t plen[SPF_MACRO_PARTS * 4], np = 0;
    const char *p = val, *q;
    for (;;) {
        q = p + strcspn(p, delims);
        if (np == sizeof start / sizeof start[0])
            return SPF_MACRO_UNSUPPORTED;
        start[np] = p;
        plen[np++] = (size_t)(q - p);
        if (*q == '\0')
            break;
        p = q + 1;
    }
    if (reverse) {
        for (size_t a = 0, z = np - 1; a < z; a++, z--) {
            const char *ts = start[a];
            size_t tl = plen[a];
            start[a] = start[z], plen[a] = plen[z];
            start[z] = ts, plen[z] = tl;
        }
    }
    size_t first = keep > 0 && keep < np ? np - keep : 0;
    for (size_t k = first; k < np; k++) {
        if (k > first)
            mbuf_lit(b, '.', url);
        for (size_t c = 0; c < plen[k]; c++)
            mbuf_lit(b, (unsigned char)start[k][c], url);
    }
    return 0;
}

/* spf_macro_rewrite - "R" to "r"; macros with "," or "/" expanded here */
int spf_macro_rewrite(const char *rec, size_t len, const struct spf_macro_vars *v,
                      char **out)
{
    struct mbuf b = {NULL, 0, 0, 0};
    size_t i = 0;

    *out = NULL;
    mbuf_put(&b, "", 0);
    while (i < len) {
        if (rec[i] != '%' || i + 1 >= len) {
            mbuf_put(&b, rec + i, 1);
            i++;
            continue;
        }
        if (rec[i + 1] != '{') {
            mbuf_put(&b, rec + i, 2);       /* %% %_ %- */
            i += 2;
            continue;
        }
        const char *end = memchr(rec + i, '}', len - i);
        if (end == NULL) {
            mbuf_put(&b, rec + i, len - i);  /* not ours to judge */
            break;
        }
        size_t n = (size_t)(end - (rec + i)) + 1;
        const char *m = rec + i;
        size_t d = 3, tpos = 0;     /* tpos: where the "r" transformer is */
        while (d < n - 1 && m[d] >= '0' && m[d] <= '9')
            d++;
        if (d < n - 1 && (m[d] == 'r' || m[d] == 'R'))
            tpos = d++;
        if (memchr(m + d, ',', n - 1 - d) || memchr(m + d, '/', n - 1 - d)) {
            int r = expand(m, n, v, &b);
            if (r < 0) {
                free(b.p);
                return r;
            }
        } else {
            for (size_t k = 0; k < n; k++) {
                char c = tpos != 0 && k == tpos ? 'r' : m[k];
                mbuf_put(&b, &c, 1);
            }
        }
        i += n;
    }
    if (b.nomem) {
        free(b.p);
        return SPF_MACRO_NOMEM;
    }
    *out = b.p;
    return 0;
}
