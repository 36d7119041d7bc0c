/*
 * fuzz_dkim - the DKIM header and body feed (dkim.c, libopendkim)
 *
 * Input: a message, header fields then an empty line then the body (LF
 * or CRLF).  Fields are cut into name and value as libmilter does
 * (continuation lines kept with their CRLF) and fed to dkimv_header(),
 * the body to dkimv_body() in uneven chunks with CRLF line ends.  No
 * network: keys come from an in-memory zone that holds the two RFC 8463
 * keys of football.example.com, every other name is NXDOMAIN at once.
 * Invariants: at most the results asked for; every string printable and
 * NUL-terminated, every reason set; a pass only for d=football.example.com
 * (the only keys there are), and never for rsa-sha1 (RFC 8301; greyrep
 * reports it as policy unless [dkim] allow_sha1, which this target leaves
 * off).
 */
#include <arpa/nameser.h>

#include "dkim.h"
#include "fuzz.h"
#include "log.h"
#include "resolver.h"

static struct dkimv *verifier;

static const char *const keys[][2] = {
    { "brisbane._domainkey.football.example.com",
      "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=" },
    { "test._domainkey.football.example.com",
      "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk0"
      "8a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHv"
      "qMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB" },
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct dns_zone *z;
    struct dns_resolver *r;

    (void)argc;
    (void)argv;
    log_open("fuzz", 0, 0);
    z = dns_zone_new();
    FUZZ_ASSERT(z != NULL);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *s[2] = { keys[i][1], NULL };
        size_t l[2] = { strlen(keys[i][1]), 0 };
        if (l[0] > 255) {
            s[1] = keys[i][1] + 255;
            l[1] = l[0] - 255;
            l[0] = 255;
        }
        FUZZ_ASSERT(dns_zone_add_txt(z, keys[i][0], s, l, s[1] ? 2 : 1) == 0);
    }
    r = dns_open_zone(z);
    FUZZ_ASSERT(r != NULL);
    verifier = dkimv_new(r, 1024);
    FUZZ_ASSERT(verifier != NULL);
    return 0;
}

/* printable_str - NUL within size, and printable ASCII before it */
static void printable_str(const char *s, size_t size)
{
    const char *end = memchr(s, '\0', size);
    FUZZ_ASSERT(end != NULL);
    for (; s < end; s++)
        FUZZ_ASSERT(*s >= 0x20 && *s <= 0x7e);
}

/* feed_header - one field "Name: value..." (continuations included) */
static void feed_header(struct dkimv_msg *m, char *field)
{
    char *colon = strchr(field, ':');
    if (colon == NULL) {
        dkimv_header(m, field, "");
        return;
    }
    *colon = '\0';
    dkimv_header(m, field, colon + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dkimv_msg *m = dkimv_msg_new(verifier, "FUZZ", NULL);
    struct dkimv_result res[DKIMV_MAX_SIGS];
    char *field = malloc(2 * size + 2), *body = malloc(2 * size + 2);
    size_t i = 0, flen = 0, blen = 0;
    int n;

    FUZZ_ASSERT(m != NULL && field != NULL && body != NULL);
    /* header: lines up to an empty one; WSP-led lines continue a field */
    while (i < size) {
        size_t e = i;
        while (e < size && data[e] != '\n')
            e++;
        size_t l = e - i;
        if (l > 0 && data[e - 1] == '\r')
            l--;
        if (l == 0) {
            i = e + 1;
            break;
        }
        if (flen > 0 && data[i] != ' ' && data[i] != '\t') {
            field[flen] = '\0';
            feed_header(m, field);
            flen = 0;
        }
        if (flen > 0) {
            field[flen++] = '\r';
            field[flen++] = '\n';
        }
        memcpy(field + flen, data + i, l);
        flen += l;
        i = e + 1;
    }
    if (flen > 0) {
        field[flen] = '\0';
        feed_header(m, field);
    }
    dkimv_eoh(m);
    for (; i < size; i++) {
        if (data[i] == '\n' && (blen == 0 || body[blen - 1] != '\r'))
            body[blen++] = '\r';
        body[blen++] = (char)data[i];
    }
    for (size_t o = 0, step = 1 + size % 97; o < blen; o += step, step = step * 3 + 1)
        dkimv_body(m, (unsigned char *)body + o, o + step <= blen ? step : blen - o);
    n = dkimv_eom(m, res, DKIMV_MAX_SIGS);
    FUZZ_ASSERT(n >= 0 && n <= DKIMV_MAX_SIGS);
    for (int k = 0; k < n; k++) {
        printable_str(res[k].domain, sizeof res[k].domain);
        printable_str(res[k].selector, sizeof res[k].selector);
        printable_str(res[k].algorithm, sizeof res[k].algorithm);
        printable_str(res[k].b, sizeof res[k].b);
        FUZZ_ASSERT(res[k].reason != NULL);
        if (res[k].result == DKIMV_PASS) {
            FUZZ_ASSERT(strcasecmp(res[k].domain, "football.example.com") == 0);
            FUZZ_ASSERT(strcmp(res[k].algorithm, "rsa-sha1") != 0);
        }
    }
    dkimv_msg_free(m);
    free(field);
    free(body);
    return 0;
}
