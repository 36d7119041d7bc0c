/*
 * fuzz_ctlload - the lines `greyrepctl load` reads (ctl_load.c, ctl_json.c)
 *
 * Input: one line.  The line goes through json_parse_line() and through
 * ctl_load_line(), greyrepctl load's whole check of one line.  What the
 * JSON reader accepts is checked field by field; a line ctl_load_line()
 * accepts must hold a key under STORE_MAX_KEY and a value that
 * ctl_record_problem() finds nothing wrong with (load writes only records
 * greyrep uses), and written back as `greyrepctl dump` writes it, it must
 * load again to the same key, value and expiry.  Last, the input itself is
 * used as a key: written with json_string() into a dump line, the line
 * must parse back to the same bytes (dump -> load identity).
 */
#include <inttypes.h>

#include "ctl_json.h"
#include "ctl_load.h"
#include "fuzz.h"
#include "store.h"

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

    /* greyrepctl load's own check of the line */
    char key[STORE_MAX_KEY], key2[STORE_MAX_KEY], bad[128];
    unsigned char val[STORE_MAX_VALUE], val2[STORE_MAX_VALUE];
    size_t vlen = sizeof val, vlen2 = sizeof val2;
    int64_t exp, exp2;
    why = ctl_load_line(line, key, val, &vlen, &exp, bad, sizeof bad);
    if (why == NULL) {
        FUZZ_ASSERT(strlen(key) > 0 && strlen(key) < STORE_MAX_KEY);
        FUZZ_ASSERT(vlen <= STORE_MAX_VALUE && exp >= 0);
        FUZZ_ASSERT(ctl_record_problem(key, val, vlen) == NULL);
        if ((fp = open_memstream(&buf, &buflen)) == NULL)
            abort();
        fputs("{\"key\":", fp);
        json_string(fp, key, strlen(key));
        fprintf(fp, ",\"expires\":%" PRId64 ",\"value\":\"", exp);
        for (size_t i = 0; i < vlen; i++)
            fprintf(fp, "%02x", val[i]);
        fputs("\"}", fp);
        fclose(fp);
        FUZZ_ASSERT(ctl_load_line(buf, key2, val2, &vlen2, &exp2, bad, sizeof bad) == NULL);
        FUZZ_ASSERT(strcmp(key, key2) == 0 && vlen == vlen2 && exp == exp2);
        FUZZ_ASSERT(memcmp(val, val2, vlen) == 0);
        free(buf);
        buf = NULL;
    } else {
        FUZZ_ASSERT(memchr(bad, '\0', sizeof bad) != NULL);
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
