/*
 * ctl_json.c - minimal JSON for greyrepctl; see ctl_json.h
 */
#include "autoconf.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_json.h"

void json_string(FILE *fp, const char *s, size_t len)
{
    fputc('"', fp);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(fp, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            fprintf(fp, "\\u%04x", c);   /* keys are ASCII; other bytes stay exact */
        else
            fputc(c, fp);
    }
    fputc('"', fp);
}

/* hexval - one hex digit, or -1 */
static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* parse_string - a JSON string at *pp into a malloc'd buffer */
static int parse_string(const char **pp, char **out, size_t *outlen)
{
    const char *p = *pp + 1;
    size_t cap = 64, n = 0;
    char *buf = malloc(cap);

    if (buf == NULL)
        return -1;
    while (*p && *p != '"') {
        int c = (unsigned char)*p++;
        if (c == '\\') {
            c = (unsigned char)*p++;
            switch (c) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case '"': case '\\': case '/': break;
            case 'u': {
                int v = 0;
                for (int i = 0; i < 4; i++) {
                    int h = hexval((unsigned char)*p++);
                    if (h < 0) { free(buf); return -1; }
                    v = v * 16 + h;
                }
                if (v > 0xff) { free(buf); return -1; }
                c = v;
                break;
            }
            default: free(buf); return -1;
            }
        }
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap *= 2);
            if (nb == NULL) { free(buf); return -1; }
            buf = nb;
        }
        buf[n++] = (char)c;
    }
    if (*p != '"') {
        free(buf);
        return -1;
    }
    buf[n] = '\0';
    *out = buf;
    *outlen = n;
    *pp = p + 1;
    return 0;
}

int json_parse_line(const char *line, struct json_obj *o, const char **why)
{
    const char *p = line;

    memset(o, 0, sizeof *o);
#define WS() while (isspace((unsigned char)*p)) p++
    WS();
    if (*p++ != '{') { *why = "expected {"; return -1; }
    WS();
    if (*p == '}') { p++; goto end; }
    for (;;) {
        struct json_field *f;
        char *name;
        size_t nlen;
        WS();
        if (*p != '"' || parse_string(&p, &name, &nlen) < 0) { *why = "bad field name"; goto bad; }
        if (o->n == JSON_MAX_FIELDS || nlen >= sizeof o->f[0].name) {
            free(name);
            *why = "too many or too long fields";
            goto bad;
        }
        f = &o->f[o->n++];
        memcpy(f->name, name, nlen + 1);
        free(name);
        WS();
        if (*p++ != ':') { *why = "expected :"; goto bad; }
        WS();
        if (*p == '"') {
            if (parse_string(&p, &f->str, &f->len) < 0) { *why = "bad string"; goto bad; }
        } else if (*p == '-' || isdigit((unsigned char)*p)) {
            char *end;
            errno = 0;
            f->num = strtoll(p, &end, 10);
            if (errno) { *why = "number out of range"; goto bad; }
            p = end;
        } else {
            *why = "only strings and integers are expected";
            goto bad;
        }
        WS();
        if (*p == ',') { p++; continue; }
        if (*p == '}') { p++; break; }
        *why = "expected , or }";
        goto bad;
    }
end:
    WS();
    if (*p != '\0') { *why = "trailing garbage"; goto bad; }
    return 0;
bad:
    json_free(o);
    return -1;
#undef WS
}

void json_free(struct json_obj *o)
{
    for (int i = 0; i < o->n; i++)
        free(o->f[i].str);
    o->n = 0;
}

const struct json_field *json_get(const struct json_obj *o, const char *name)
{
    for (int i = 0; i < o->n; i++)
        if (strcmp(o->f[i].name, name) == 0)
            return &o->f[i];
    return NULL;
}
