/*
 * envaddr.c - SMTP envelope path parsing; see envaddr.h
 *
 * The MTA has usually checked the syntax already, but a milter must not
 * rely on that: Sendmail and Postfix differ in what they let through, and
 * the milter socket itself may be spoken to by anything.
 */
#include "autoconf.h"

#include <string.h>

#include "envaddr.h"
#include "util.h"

/* env_copy - copy n bytes into a part of size max+1, flag a cut */
static void env_copy(char *dst, size_t max, const char *src, size_t n,
                     struct env_addr *out)
{
    if (n > max) {
        n = max;
        out->flags |= ENV_OVERSIZED;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* env_bad - flag malformed input with the first reason found */
static void env_bad(struct env_addr *out, const char *why)
{
    if (!(out->flags & ENV_MALFORMED)) {
        out->flags |= ENV_MALFORMED;
        out->why = why;
    }
}

void env_parse(const char *arg, struct env_addr *out)
{
    const char *p, *end, *at = NULL, *trim_start, *trim_end;
    size_t len;

    memset(out, 0, sizeof *out);
    if (arg == NULL) {
        env_bad(out, "missing address");
        return;
    }
    len = strlen(arg);
    out->hash = util_hash64(arg, len);
    p = arg;
    end = arg + len;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    trim_start = p;
    trim_end = end;

    if (p < end && *p == '<') {
        if (end - p >= 2 && end[-1] == '>') {
            p++;
            end--;
        } else {
            env_bad(out, "unbalanced angle brackets");
            p++;
        }
    } else if (p < end && end[-1] == '>') {
        env_bad(out, "unbalanced angle brackets");
        end--;
    }
    /* An obsolete source route "@a,@b:user@d" is ignored (RFC 5321 4.1.2). */
    if (p < end && *p == '@') {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        if (colon == NULL)
            env_bad(out, "source route without colon");
        else
            p = colon + 1;
    }
    if (p == end) {
        if (out->flags & ENV_MALFORMED)
            return;
        out->flags |= ENV_NULL;
        return;
    }

    if (*p == '"') {
        /* Quoted local part: find the closing quote, honouring backslashes. */
        char buf[ENV_LOCAL_MAX + 1];
        size_t n = 0;
        const char *q = p + 1;
        out->flags |= ENV_QUOTED;
        while (q < end && *q != '"') {
            if (*q == '\\' && q + 1 < end)
                q++;
            if (n < ENV_LOCAL_MAX)
                buf[n++] = *q;
            else
                out->flags |= ENV_OVERSIZED;
            q++;
        }
        buf[n] = '\0';
        memcpy(out->local, buf, n + 1);
        if (q == end) {
            env_bad(out, "unterminated quoted local part");
            return;
        }
        q++;
        if (q < end && *q == '@')
            at = q;
        else if (q < end)
            env_bad(out, "garbage after quoted local part");
    } else {
        for (const char *s = end; s > p; s--)
            if (s[-1] == '@') {
                at = s - 1;
                break;
            }
        env_copy(out->local, ENV_LOCAL_MAX, p, (size_t)((at ? at : end) - p), out);
        if ((size_t)((at ? at : end) - p) == 0)
            env_bad(out, "empty local part");
    }
    if (at != NULL) {
        env_copy(out->domain, ENV_DOMAIN_MAX, at + 1, (size_t)(end - at - 1), out);
        util_lower(out->domain);
        if (out->domain[0] == '\0')
            env_bad(out, "empty domain");
    }
    if (strlen(out->local) > 64 || strlen(out->domain) > 255)
        out->flags |= ENV_OVERSIZED;
    /* surrounding blanks were trimmed above; anything else is suspect */
    for (const unsigned char *c = (const unsigned char *)trim_start;
         c < (const unsigned char *)trim_end; c++) {
        if (*c < 0x20 || *c == 0x7f) {
            env_bad(out, "control character in address");
            break;
        }
    }
    if (memchr(out->local, '<', strlen(out->local)) || memchr(out->local, '>', strlen(out->local))
        || strchr(out->domain, '<') || strchr(out->domain, '>')
        || (!(out->flags & ENV_QUOTED) && strchr(out->local, ' ')))
        env_bad(out, "invalid character in address");
}
