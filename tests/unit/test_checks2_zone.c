/*
 * NAME
 *   test_checks2_zone - dkim, iprev and dnsbl over the real resolver.c
 * DESCRIPTION
 *   The other unit tests use a fake resolver; this one runs the modules on
 *   resolver.c's in-memory zone (dns_open_zone), so real DNS packets go
 *   through the real parsers: a DKIM key split over several TXT strings,
 *   PTR targets with a final dot, A/AAAA answers, and a server that never
 *   answers (DNS_ZONE_TIMEOUT).  PASS:/FAIL: per case.
 */
#include "autoconf.h"

#include <arpa/nameser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkim.h"
#include "dnsbl.h"
#include "iprev.h"
#include "log.h"
#include "resolver.h"

static int failures;

/* check - report one condition */
static void check(const char *name, int cond)
{
    printf("%s: %s\n", cond ? "PASS" : "FAIL", name);
    if (!cond)
        failures++;
}

/* slurp - a data file, NUL-terminated */
static char *slurp(const char *name)
{
    const char *srcdir = getenv("srcdir");
    char path[2048];
    FILE *f;
    char *buf;
    long len;

    snprintf(path, sizeof path, "%s/tests/data/dkim/%s", srcdir ? srcdir : ".", name);
    if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0 || (buf = malloc((size_t)len + 1)) == NULL ||
        fread(buf, 1, (size_t)len, f) != (size_t)len) {
        perror(path);
        exit(99);
    }
    buf[len] = '\0';
    fclose(f);
    return buf;
}

/* add_keys_split - a key file's records as TXT split into 100-byte strings */
static void add_keys_split(struct dns_zone *z, const char *file)
{
    char *text = slurp(file), *line, *save = NULL;

    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *rec = strchr(line, ' ');
        const char *strings[8];
        size_t lens[8], len;
        int n = 0;
        if (rec == NULL)
            continue;
        *rec++ = '\0';
        len = strlen(rec);
        for (size_t off = 0; off < len && n < 8; off += 100, n++) {
            strings[n] = rec + off;
            lens[n] = len - off < 100 ? len - off : 100;
        }
        if (dns_zone_add_txt(z, line, strings, lens, n) != 0)
            exit(99);
    }
    free(text);
}

/* verify - feed the message as libmilter gives it (see test_dkim.c) */
static int verify(struct dkimv *v, const char *msgtext, struct dkimv_result *res, int max)
{
    struct dkimv_msg *m = dkimv_msg_new(v, "ZONE", NULL);
    char *text = strdup(msgtext), *p, *body, *out;
    size_t len = 0;
    int n;

    for (char *s = text, *d = text;; s++) /* CRLF files too */
        if (*s != '\r' && (*d++ = *s) == '\0')
            break;
    body = strstr(text, "\n\n");
    if (body == NULL)
        exit(99);
    *body = '\0';
    body += 2;
    for (p = text; *p;) {
        char *end = p, *colon;
        while (*end && !(end[0] == '\n' && end[1] != ' ' && end[1] != '\t'))
            end++;
        if (*end)
            *end++ = '\0';
        if ((colon = strchr(p, ':')) != NULL) {
            *colon = '\0';
            dkimv_header(m, p, colon[1] == ' ' ? colon + 2 : colon + 1);
        }
        p = end;
    }
    dkimv_eoh(m);
    out = malloc(2 * strlen(body) + 1);
    for (const char *b = body; *b; b++) {
        if (*b == '\n')
            out[len++] = '\r';
        out[len++] = *b;
    }
    dkimv_body(m, (unsigned char *)out, len);
    n = dkimv_eom(m, res, max);
    dkimv_msg_free(m);
    free(out);
    free(text);
    return n;
}

/* main - one zone, every check; exit 1 if a case failed */
int main(void)
{
    struct dns_zone *z = dns_zone_new();
    struct dns_resolver *r;
    struct dkimv_result res[DKIMV_MAX_SIGS];
    struct dkimv *v;
    char *msg, host[IPREV_NAME_MAX];
    struct iprev_check *c;
    struct dnsbl_list list;
    struct dnsbl_lookup *lk;
    struct dnsbl_outcome out;
    struct timespec deadline;
    int n;

    log_open("test_checks2_zone", 0, 0);
    add_keys_split(z, "rfc8463.keys");
    add_keys_split(z, "small768.keys");
    dns_zone_add(z, "10.2.0.192.in-addr.arpa", ns_t_ptr, "mail.example.com.", 17);
    dns_zone_add(z, "mail.example.com", ns_t_a, "192.0.2.10", 10);
    dns_zone_add(z, "11.2.0.192.in-addr.arpa", ns_t_ptr, "mail.bank.example", 17);
    dns_zone_add(z, "mail.bank.example", ns_t_a, "198.51.100.7", 12);
    dns_zone_add(z, "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
                 ns_t_ptr, "v6.example", 10);
    dns_zone_add(z, "v6.example", ns_t_aaaa, "2001:db8::10", 12);
    dns_zone_add(z, "12.2.0.192.in-addr.arpa", DNS_ZONE_TIMEOUT, NULL, 0);
    dns_zone_add(z, "10.2.0.192.zen.example.org", ns_t_a, "127.0.0.4", 9);
    dns_zone_add(z, "10.2.0.192.bl.example.net", ns_t_a, "127.255.255.254", 15);
    dns_zone_add(z, "10.2.0.192.slow.example", DNS_ZONE_TIMEOUT, NULL, 0);
    if ((r = dns_open_zone(z)) == NULL) {
        printf("FAIL: dns_open_zone\n");
        return 1;
    }
    dns_deadline(&deadline, 2000);

    v = dkimv_new(r, 0);
    msg = slurp("rfc6376.signed.msg");
    n = verify(v, msg, res, DKIMV_MAX_SIGS);
    check("zone: rfc6376 both signatures pass (key in split TXT strings)",
          n == 2 && res[0].result == DKIMV_PASS && res[1].result == DKIMV_PASS);
    free(msg);
    msg = slurp("small768.signed.msg");
    n = verify(v, msg, res, DKIMV_MAX_SIGS);
    check("zone: 768-bit key is policy", n == 1 && res[0].result == DKIMV_POLICY);
    free(msg);
    msg = slurp("ed25519test2.msg");
    n = verify(v, msg, res, DKIMV_MAX_SIGS);
    check("zone: key not in DNS is permerror", n == 1 && res[0].result == DKIMV_PERMERROR);
    free(msg);
    dkimv_free(v);

    c = iprev_start(r, "192.0.2.10");
    check("zone: iprev pass", iprev_finish(c, &deadline, host, sizeof host) == IPREV_PASS &&
                                  strcmp(host, "mail.example.com") == 0);
    iprev_free(c);
    c = iprev_start(r, "192.0.2.11");
    check("zone: iprev forged PTR fails",
          iprev_finish(c, &deadline, host, sizeof host) == IPREV_FAIL);
    iprev_free(c);
    c = iprev_start(r, "2001:db8::10");
    check("zone: iprev IPv6 pass", iprev_finish(c, &deadline, host, sizeof host) == IPREV_PASS);
    iprev_free(c);
    c = iprev_start(r, "192.0.2.12");
    check("zone: iprev PTR timeout temperror",
          iprev_finish(c, &deadline, host, sizeof host) == IPREV_TEMPERROR);
    iprev_free(c);
    c = iprev_start(r, "192.0.2.99");
    check("zone: iprev no PTR permerror",
          iprev_finish(c, &deadline, host, sizeof host) == IPREV_PERMERROR);
    iprev_free(c);

    dnsbl_list_parse(&list,
                     "zen.example.org=3:127.0.0.2-127.0.0.11 bl.example.net=2 slow.example=1",
                     NULL, 0);
    lk = dnsbl_start(&list, r, "192.0.2.10");
    dnsbl_finish(lk, &deadline, &out);
    check("zone: dnsbl score, error code ignored, timeout counted",
          out.score == 3 && out.nlisted == 1 && out.ntempfail == 1);
    dnsbl_free(lk);

    dns_close(r);
    return failures != 0;
}
