/*
 * ctl_json - the little JSON greyrepctl needs: escaping strings on output,
 * and reading flat objects of strings and integers (dump/load lines).
 */
#ifndef GREYREP_CTL_JSON_H
#define GREYREP_CTL_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* json_string - write s (len bytes) as a JSON string literal */
void json_string(FILE *fp, const char *s, size_t len);

#define JSON_MAX_FIELDS 16
struct json_field {
    char name[32];
    char *str;          /* decoded string (malloc), or NULL for a number */
    size_t len;
    int64_t num;
};
struct json_obj {
    struct json_field f[JSON_MAX_FIELDS];
    int n;
};

/* json_parse_line - one flat object; -1 with *why on a syntax error */
int json_parse_line(const char *line, struct json_obj *out, const char **why);
void json_free(struct json_obj *o);
const struct json_field *json_get(const struct json_obj *o, const char *name);

#endif
