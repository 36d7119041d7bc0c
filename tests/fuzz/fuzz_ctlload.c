/*
 * fuzz_ctlload - the lines `greyrepctl load` reads (ctl_json.c)
 *
 * Input: one line.  The line goes through json_parse_line() as
 * greyrepctl load does; what it accepts is checked field by field.  Then
 * the input itself is used as a key and as a string value: written with
 * json_string() (as `greyrepctl dump` writes) into a dump line, the line
 * must parse back to the same bytes (dump -> load identity).
 */
#include "ctl_json.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = fuzz_cstr(data, size), *buf = NULL;
    size_t buflen = 0;
    struct json_obj obj;
    const char *why = NULL;
    FILE *fp;

    if (json_parse_line(line, &obj, &why) == 0) {
        FUZZ_ASSERT(obj.n >= 0 && obj.n <= JSON_MAX_FIELDS);
        for (int i = 0; i < obj.n; i++) {
            FUZZ_ASSERT(strlen(obj.f[i].name) < sizeof obj.f[i].name);
            if (obj.f[i].str != NULL)
                FUZZ_ASSERT(obj.f[i].str[obj.f[i].len] == '\0');
            FUZZ_ASSERT(json_get(&obj, obj.f[i].name) != NULL);
        }
        json_free(&obj);
    } else {
        FUZZ_ASSERT(why != NULL);
    }

    /* dump -> load: any bytes of a key survive the JSON round trip */
    if ((fp = open_memstream(&buf, &buflen)) == NULL)
        abort();
    fputs("{\"key\":", fp);
    json_string(fp, (const char *)data, size);
    fputs(",\"expires\":0,\"value\":\"01ff\"}", fp);
    fclose(fp);
    FUZZ_ASSERT(json_parse_line(buf, &obj, &why) == 0);
    const struct json_field *k = json_get(&obj, "key"), *e = json_get(&obj, "expires");
    FUZZ_ASSERT(k != NULL && k->str != NULL && k->len == size);
    FUZZ_ASSERT(memcmp(k->str, data, size) == 0);
    FUZZ_ASSERT(e != NULL && e->str == NULL && e->num == 0);
    json_free(&obj);
    free(buf);
    free(line);
    return 0;
}
