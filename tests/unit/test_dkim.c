/*
 * NAME
 *   test_dkim - unit tests of dkim.c against real DKIM vectors
 * DESCRIPTION
 *   Messages from tests/data/dkim are fed the way libmilter hands them over
 *   (name and value apart, the space after the colon dropped, folds as LF,
 *   body with CRLF) to a verifier whose key lookups go to the in-memory
 *   fake resolver.  Prints PASS:/FAIL: per case; exit status 1 on failure.
 *   $srcdir (set by make check) locates the data.
 */
#include "autoconf.h"

#include <arpa/nameser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkim.h"
#include "fake_resolver.h"
#include "log.h"

static int failures;
static char datadir[1024];

#define CHECK(name, cond) check((name), (cond), __FILE__, __LINE__)

/* check - report one condition */
static void check(const char *name, int cond, const char *file, int line)
{
    if (cond) {
        printf("PASS: %s\n", name);
    } else {
        printf("FAIL: %s (%s:%d)\n", name, file, line);
        failures++;
    }
}

/* slurp - a whole file, NUL-terminated; exits if missing */
static char *slurp(const char *name, size_t *lenp)
{
    char path[2048];
    FILE *f;
    char *buf;
    long len;

    snprintf(path, sizeof path, "%s/%s", datadir, name);
    if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        perror(path);
        exit(99);
    }
    if ((buf = malloc((size_t)len + 1)) == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len)
        exit(99);
    buf[len] = '\0';
    fclose(f);
    if (lenp != NULL)
        *lenp = (size_t)len;
    return buf;
}

/* load_keys - "name record" lines into the fake DNS */
static void load_keys(const char *file)
{
    char *text = slurp(file, NULL), *line, *save = NULL;

    for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        char *sp = strchr(line, ' ');
        if (sp == NULL)
            continue;
        *sp = '\0';
        fake_dns_txt(line, sp + 1);
    }
    free(text);
}

/* strip_cr - drop CRs so that both LF and CRLF files parse alike */
static size_t strip_cr(char *s, size_t len)
{
    size_t o = 0;

    for (size_t i = 0; i < len; i++)
        if (s[i] != '\r')
            s[o++] = s[i];
    s[o] = '\0';
    return o;
}

/* feed - hand a message to m as libmilter would */
static void feed(struct dkimv_msg *m, const char *msgtext)
{
    char *text = strdup(msgtext), *p, *body, *out;
    size_t len = strip_cr(text, strlen(text));

    /* header: split fields at a LF not followed by white space */
    body = strstr(text, "\n\n");
    if (body == NULL)
        body = text + len;
    else
        *body++ = '\0', body++;
    p = text;
    while (*p != '\0') {
        char *end = p, *colon, *value;
        while (*end != '\0' && !(end[0] == '\n' && end[1] != ' ' && end[1] != '\t'))
            end++;
        if (*end == '\n')
            *end++ = '\0';
        colon = strchr(p, ':');
        if (colon != NULL) {
            *colon = '\0';
            value = colon + 1;
            if (*value == ' ')
                value++;
            dkimv_header(m, p, value);
        }
        p = end;
    }
    dkimv_eoh(m);
    /* body: LF -> CRLF, fed in small chunks */
    out = malloc(2 * strlen(body) + 1);
    len = 0;
    for (const char *b = body; *b != '\0'; b++) {
        if (*b == '\n')
            out[len++] = '\r';
        out[len++] = *b;
    }
    for (size_t off = 0; off < len; off += 7)
        dkimv_body(m, (const unsigned char *)out + off, len - off < 7 ? len - off : 7);
    free(out);
    free(text);
}

/* verify_sha1 - run one message, rsa-sha1 allowed or not */
static int verify_sha1(struct dkimv *v, const char *msgtext, struct dkimv_result *res,
                       int max, int allow_sha1)
{
    struct dkimv_msg *m = dkimv_msg_new(v, "TEST", NULL);
    int n;

    dkimv_set_allow_sha1(m, allow_sha1);
    feed(m, msgtext);
    n = dkimv_eom(m, res, max);
    dkimv_msg_free(m);
    return n;
}

/* verify - run one message; returns the number of results */
static int verify(struct dkimv *v, const char *msgtext, struct dkimv_result *res, int max)
{
    struct dkimv_msg *m = dkimv_msg_new(v, "TEST", NULL);
    int n;

    feed(m, msgtext);
    n = dkimv_eom(m, res, max);
    dkimv_msg_free(m);
    return n;
}

/* replace - copy of s with the first "from" replaced by "to" */
static char *replace(const char *s, const char *from, const char *to)
{
    const char *at = strstr(s, from);
    char *r;

    if (at == NULL) {
        fprintf(stderr, "replace: %s not found\n", from);
        exit(99);
    }
    r = malloc(strlen(s) + strlen(to) + 1);
    memcpy(r, s, (size_t)(at - s));
    strcpy(r + (at - s), to);
    strcat(r, at + strlen(from));
    return r;
}

/* find - the result with this selector, or NULL */
static const struct dkimv_result *find(const struct dkimv_result *res, int n,
                                       const char *selector)
{
    for (int i = 0; i < n; i++)
        if (strcmp(res[i].selector, selector) == 0)
            return &res[i];
    return NULL;
}

/* result_is - selector present with the wanted result */
static int result_is(const struct dkimv_result *res, int n, const char *selector,
                     enum dkimv_status want)
{
    const struct dkimv_result *r = find(res, n, selector);

    if (r == NULL)
        return 0;
    if (r->result != want)
        printf("  # s=%s: got %s (%s), want %s\n", selector, dkimv_status_name(r->result),
               r->reason, dkimv_status_name(want));
    return r->result == want;
}

/* test_vectors - rfc6376.signed.msg: pass, tampering, broken signatures, key size */
static void test_vectors(void)
{
    struct dkimv_result res[DKIMV_MAX_SIGS];
    char *msg = slurp("rfc6376.signed.msg", NULL), *bad;
    const struct dkimv_result *r;
    struct dkimv *v;
    int n;

    fake_dns_reset();
    load_keys("rfc8463.keys");
    v = dkimv_new(fake_dns_resolver(), 0);
    CHECK("dkimv_new", v != NULL);

    n = verify(v, msg, res, DKIMV_MAX_SIGS);
    CHECK("rfc6376.signed.msg: two signatures", n == 2);
    CHECK("rfc6376 ed25519-sha256 passes", result_is(res, n, "brisbane", DKIMV_PASS));
    CHECK("rfc6376 rsa-sha256 passes", result_is(res, n, "test", DKIMV_PASS));
    r = find(res, n, "brisbane");
    CHECK("ed25519 d= a= b= bits", r != NULL &&
                                       strcmp(r->domain, "football.example.com") == 0 &&
                                       strcmp(r->algorithm, "ed25519-sha256") == 0 &&
                                       strcmp(r->b, "9/dsDChY") == 0 && r->key_bits == 256);
    r = find(res, n, "test");
    CHECK("rsa d= a= b= bits", r != NULL && strcmp(r->domain, "football.example.com") == 0 &&
                                   strcmp(r->algorithm, "rsa-sha256") == 0 &&
                                   strcmp(r->b, "icKcLSEZ") == 0 && r->key_bits == 1024);
    CHECK("each key looked up once",
          fake_dns_lookups("brisbane._domainkey.football.example.com", ns_t_txt) == 1 &&
              fake_dns_lookups("test._domainkey.football.example.com", ns_t_txt) == 1);
    CHECK("no query left unreleased", fake_dns_outstanding() == 0);

    bad = replace(msg, "We lost the game.", "We won the game.");
    n = verify(v, bad, res, DKIMV_MAX_SIGS);
    CHECK("modified body: ed25519 fails", result_is(res, n, "brisbane", DKIMV_FAIL));
    CHECK("modified body: rsa fails", result_is(res, n, "test", DKIMV_FAIL));
    free(bad);

    bad = replace(msg, "Subject: Is dinner ready?", "Subject: Is lunch ready?");
    n = verify(v, bad, res, DKIMV_MAX_SIGS);
    CHECK("modified Subject: both fail", n == 2 && result_is(res, n, "brisbane", DKIMV_FAIL) &&
                                             result_is(res, n, "test", DKIMV_FAIL));
    free(bad);

    /* one signature broken (no d=), the other must still pass */
    bad = replace(msg,
                  " d=football.example.com; i=@football.example.com; \n q=dns/txt; s=brisbane;",
                  " i=@football.example.com; \n q=dns/txt; s=brisbane;");
    n = verify(v, bad, res, DKIMV_MAX_SIGS);
    CHECK("signature without d=: permerror", result_is(res, n, "brisbane", DKIMV_PERMERROR));
    CHECK("signature without d=: other one passes", result_is(res, n, "test", DKIMV_PASS));
    free(bad);

    bad = replace(msg, "From: Joe SixPack <joe@football.example.com>\n", "");
    n = verify(v, bad, res, DKIMV_MAX_SIGS);
    /* the signed From: is gone: fail or permerror, never pass */
    CHECK("no From: no pass", n == 2 && res[0].result != DKIMV_PASS &&
                                  res[0].result != DKIMV_NONE && res[1].result != DKIMV_PASS &&
                                  res[1].result != DKIMV_NONE);
    free(bad);

    n = verify(v, "From: a@example.com\nSubject: hi\n\nbody\n", res, DKIMV_MAX_SIGS);
    CHECK("unsigned message: no results", n == 0);
    n = verify(v, msg, res, 1);
    CHECK("max limits the results", n == 1);
    dkimv_free(v);

    /* min 2048 bits: the 1024-bit RSA key is refused, ed25519 unaffected */
    v = dkimv_new(fake_dns_resolver(), 2048);
    n = verify(v, msg, res, DKIMV_MAX_SIGS);
    CHECK("min 2048: rsa 1024 is policy", result_is(res, n, "test", DKIMV_POLICY));
    CHECK("min 2048: ed25519 passes", result_is(res, n, "brisbane", DKIMV_PASS));
    dkimv_free(v);
    free(msg);
}

/* test_key_failures - SERVFAIL, NXDOMAIN, revoked, odd and long key records */
static void test_key_failures(void)
{
    struct dkimv_result res[DKIMV_MAX_SIGS];
    char *msg = slurp("rfc6376.signed.msg", NULL);
    char *ed = NULL, *rsa = NULL, *p;
    struct dkimv *v = dkimv_new(fake_dns_resolver(), 0);
    int n;

    /* keep the two records to rebuild tables below */
    fake_dns_reset();
    load_keys("rfc8463.keys");
    p = slurp("rfc8463.keys", NULL);
    ed = strdup(strchr(p, ' ') + 1);
    *strchr(ed, '\n') = '\0';
    rsa = strdup(strchr(strchr(p, '\n') + 1, ' ') + 1);
    if (strchr(rsa, '\n') != NULL)
        *strchr(rsa, '\n') = '\0';
    free(p);

    fake_dns_reset();
    fake_dns_status("brisbane._domainkey.football.example.com", ns_t_txt, DNS_TEMPFAIL);
    fake_dns_txt("test._domainkey.football.example.com", rsa);
    n = verify(v, msg, res, DKIMV_MAX_SIGS);
    CHECK("SERVFAIL on key: temperror", result_is(res, n, "brisbane", DKIMV_TEMPERROR));
    CHECK("SERVFAIL on one key: other passes", result_is(res, n, "test", DKIMV_PASS));
    CHECK("SERVFAIL: key asked once",
          fake_dns_lookups("brisbane._domainkey.football.example.com", ns_t_txt) == 1);

    fake_dns_reset();
    n = verify(v, msg, res, DKIMV_MAX_SIGS);
    CHECK("NXDOMAIN keys: permerror", n == 2 &&
                                          result_is(res, n, "brisbane", DKIMV_PERMERROR) &&
                                          result_is(res, n, "test", DKIMV_PERMERROR));

    fake_dns_reset();
    fake_dns_txt("brisbane._domainkey.football.example.com", "v=DKIM1; k=ed25519; p=");
    fake_dns_txt("test._domainkey.football.example.com", "v=DKIM1; p=!!!notbase64");
    n = verify(v, msg, res, DKIMV_MAX_SIGS);
    CHECK("revoked key: permerror", result_is(res, n, "brisbane", DKIMV_PERMERROR));
    CHECK("garbage key: not pass",
          find(res, n, "test") != NULL && find(res, n, "test")->result != DKIMV_PASS);

    fake_dns_reset();
    fake_dns_txt("brisbane._domainkey.football.example.com", "v=spf1 -all");
    fake_dns_txt("brisbane._domainkey.football.example.com", ed);
    fake_dns_txt("test._domainkey.football.example.com", rsa);
    fake_dns_txt("test._domainkey.football.example.com", "unrelated text");
    n = verify(v, msg, res, DKIMV_MAX_SIGS);
    CHECK("several TXT records: the v=DKIM1 one is used",
          result_is(res, n, "brisbane", DKIMV_PASS) && result_is(res, n, "test", DKIMV_PASS));

    fake_dns_reset();
    {
        char big[3000];
        memset(big, 'A', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        memcpy(big, "v=DKIM1; k=rsa; p=", 18);
        fake_dns_txt("test._domainkey.football.example.com", big);
        fake_dns_txt("brisbane._domainkey.football.example.com", ed);
        n = verify(v, msg, res, DKIMV_MAX_SIGS);
        CHECK("key record too long: permerror", result_is(res, n, "test", DKIMV_PERMERROR));
        CHECK("key record too long: other passes", result_is(res, n, "brisbane", DKIMV_PASS));
    }
    CHECK("no query left unreleased", fake_dns_outstanding() == 0);
    dkimv_free(v);
    free(ed);
    free(rsa);
    free(msg);
}

/* test_other_vectors - Exim ed25519 relaxed, a 768-bit key */
static void test_other_vectors(void)
{
    struct dkimv_result res[DKIMV_MAX_SIGS];
    char *msg;
    struct dkimv *v;
    int n;

    fake_dns_reset();
    load_keys("exim.keys");
    load_keys("small768.keys");
    v = dkimv_new(fake_dns_resolver(), 0);
    msg = slurp("ed25519test2.msg", NULL);
    n = verify(v, msg, res, DKIMV_MAX_SIGS);
    CHECK("Exim ed25519 relaxed/relaxed passes",
          n == 1 && result_is(res, n, "sed", DKIMV_PASS));
    free(msg);

    msg = slurp("small768.signed.msg", NULL);
    n = verify(v, msg, res, DKIMV_MAX_SIGS);
    CHECK("768-bit key refused (policy)", n == 1 && result_is(res, n, "small", DKIMV_POLICY));
    CHECK("768-bit key size reported", n == 1 && res[0].key_bits == 768);
    dkimv_free(v);

    v = dkimv_new(fake_dns_resolver(), 512);
    n = verify(v, msg, res, DKIMV_MAX_SIGS);
    CHECK("768-bit key passes with min 512", n == 1 && result_is(res, n, "small", DKIMV_PASS));
    dkimv_free(v);
    free(msg);
}

/* test_query_and_sha1 - issue 10: q= naming only unknown methods never
 * verifies (RFC 6376 3.5), and rsa-sha1 is policy unless allowed (RFC
 * 8301 3.1).  The vectors are real signatures by python3-dkim (see
 * tests/data/dkim/README). */
static void test_query_and_sha1(void)
{
    struct dkimv_result res[DKIMV_MAX_SIGS];
    struct dkimv *v;
    char *msg;
    int n;

    fake_dns_reset();
    load_keys("qtest.keys");
    v = dkimv_new(fake_dns_resolver(), 0);

    msg = slurp("q-http.signed.msg", NULL);
    n = verify(v, msg, res, DKIMV_MAX_SIGS);
    CHECK("q=http: permerror", n == 1 && result_is(res, n, "qtest", DKIMV_PERMERROR));
    CHECK("q=http: the reason names q=", n == 1 && strstr(res[0].reason, "q=") != NULL);
    CHECK("q=http: no key fetched",
          fake_dns_lookups("qtest._domainkey.example.com", ns_t_txt) == 0);
    free(msg);

    msg = slurp("q-dns_special.signed.msg", NULL);
    n = verify(v, msg, res, DKIMV_MAX_SIGS);
    CHECK("q=dns/special: permerror", n == 1 && result_is(res, n, "qtest", DKIMV_PERMERROR));
    free(msg);

    /* an unknown method beside dns/txt is ignored */
    msg = slurp("q-http_dns_txt.signed.msg", NULL);
    n = verify(v, msg, res, DKIMV_MAX_SIGS);
    CHECK("q=http:dns/txt: passes", n == 1 && result_is(res, n, "qtest", DKIMV_PASS));
    free(msg);

    msg = slurp("sha1.signed.msg", NULL);
    n = verify(v, msg, res, DKIMV_MAX_SIGS);
    CHECK("rsa-sha1: policy by default", n == 1 && result_is(res, n, "qtest", DKIMV_POLICY));
    CHECK("rsa-sha1: the reason names RFC 8301",
          n == 1 && strstr(res[0].reason, "8301") != NULL);
    n = verify_sha1(v, msg, res, DKIMV_MAX_SIGS, 1);
    CHECK("rsa-sha1: passes with allow_sha1", n == 1 && result_is(res, n, "qtest", DKIMV_PASS));
    free(msg);
    /* a broken rsa-sha1 signature still fails, allowed or not */
    msg = slurp("sha1.signed.msg", NULL);
    char *bad = replace(msg, "This is a test message.", "This is a changed message.");
    n = verify_sha1(v, bad, res, DKIMV_MAX_SIGS, 1);
    CHECK("rsa-sha1 modified body: fails", n == 1 && result_is(res, n, "qtest", DKIMV_FAIL));
    n = verify(v, bad, res, DKIMV_MAX_SIGS);
    CHECK("rsa-sha1 modified body: fails by default too",
          n == 1 && result_is(res, n, "qtest", DKIMV_FAIL));
    free(bad);
    free(msg);
    dkimv_free(v);
}

/* test_hostile - NULLs, junk signatures, huge or smuggling fields, limits */
static void test_hostile(void)
{
    struct dkimv_result res[DKIMV_MAX_SIGS];
    char *msg = slurp("rfc6376.signed.msg", NULL), *big;
    struct dkimv *v;
    struct dkimv_msg *m;
    int n, ok;

    fake_dns_reset();
    load_keys("rfc8463.keys");
    v = dkimv_new(fake_dns_resolver(), 0);

    /* NULL and empty names and values, odd calls */
    m = dkimv_msg_new(v, NULL, NULL);
    dkimv_header(m, NULL, NULL);
    dkimv_header(m, "", "");
    dkimv_header(m, "DKIM-Signature", NULL);
    dkimv_body(m, NULL, 5);
    dkimv_eoh(m);
    dkimv_eoh(m);
    n = dkimv_eom(m, res, DKIMV_MAX_SIGS);
    CHECK("NULL name/value: no crash, no pass",
          n >= 0 && (n == 0 || res[0].result != DKIMV_PASS));
    CHECK("second eom returns 0", dkimv_eom(m, res, DKIMV_MAX_SIGS) == 0);
    dkimv_msg_free(m);
    dkimv_msg_free(NULL);
    dkimv_header(NULL, "a", "b");
    CHECK("NULL message handle ignored", dkimv_eom(NULL, res, 1) == 0);

    /* garbage signatures */
    {
        static const char *junk[] = {
            "",
            ";;;;",
            "=====",
            "v=1; d=; s=",
            "d="
            "\x01\x02\xff"
            "; s=..; b=",
            "v=1; a=rsa-sha256; d=example.com; s=a..b; b=x; bh=y; h=from",
            "v=1; a=ed25519-sha256; d=-.example; s=x; b=AAAA; bh=AAAA; h=from",
            "v=1; a=rsa-sha256; d=example.com; s=sel; b=AAAA; bh=AAAA; h=from; "
            "l=99999999999999999999",
            "v=1; a=rsa-sha256; d=example.com; s=sel; b=AAAA; bh=AAAA; h=from; x=1; "
            "t=999999999999999999999",
        };
        ok = 1;
        for (size_t i = 0; i < sizeof junk / sizeof *junk; i++) {
            m = dkimv_msg_new(v, "J", NULL);
            dkimv_header(m, "DKIM-Signature", junk[i]);
            dkimv_header(m, "From", "a@example.com");
            dkimv_eoh(m);
            dkimv_body(m, (const unsigned char *)"x\r\n", 3);
            n = dkimv_eom(m, res, DKIMV_MAX_SIGS);
            for (int k = 0; k < n; k++)
                if (res[k].result == DKIMV_PASS || res[k].result == DKIMV_NONE)
                    ok = 0;
            if (n != 1)
                ok = 0;
            dkimv_msg_free(m);
        }
        CHECK("garbage DKIM-Signature values: one non-pass result each", ok);
    }

    /* a huge header field makes the message unusable */
    big = malloc(DKIMV_MAX_HEADER + 100);
    memset(big, 'x', DKIMV_MAX_HEADER + 99);
    big[DKIMV_MAX_HEADER + 99] = '\0';
    m = dkimv_msg_new(v, "BIG", NULL);
    feed(m, msg); /* a normal message ... */
    dkimv_msg_free(m);
    m = dkimv_msg_new(v, "BIG", NULL);
    dkimv_header(m, "X-Big", big);
    {
        char *copy = strdup(msg);
        feed(m, copy);
        free(copy);
    }
    n = dkimv_eom(m, res, DKIMV_MAX_SIGS);
    CHECK("huge header field: permerror, no pass",
          n == 2 && res[0].result == DKIMV_PERMERROR && res[1].result == DKIMV_PERMERROR);
    dkimv_msg_free(m);
    free(big);

    /* a header field that smuggles in another one */
    {
        static const char *evil[] = {"a\r\nFrom: evil@example.net", "a\nFrom: x", "a\rb",
                                     "a\r\n", "\n"};
        for (size_t i = 0; i < sizeof evil / sizeof *evil; i++) {
            struct dkimv_msg *mm = dkimv_msg_new(v, "EVIL", NULL);
            dkimv_header(mm, "X-Note", evil[i]);
            feed(mm, msg);
            n = dkimv_eom(mm, res, DKIMV_MAX_SIGS);
            if (n != 2 || res[0].result == DKIMV_PASS || res[1].result == DKIMV_PASS)
                break;
            dkimv_msg_free(mm);
            if (i + 1 == sizeof evil / sizeof *evil)
                n = -1;
        }
        CHECK("line break not followed by WSP in a value: no pass", n == -1);
    }
    {
        struct dkimv_msg *mm = dkimv_msg_new(v, "FOLD", NULL);
        dkimv_header(mm, "X-Note", "folded\r\n\tline");
        dkimv_header(mm, "X-Note2", " lead space\n next");
        feed(mm, msg);
        n = dkimv_eom(mm, res, DKIMV_MAX_SIGS);
        CHECK("folded unsigned fields do not disturb a pass",
              n == 2 && res[0].result == DKIMV_PASS && res[1].result == DKIMV_PASS);
        dkimv_msg_free(mm);
    }

    /* many signatures: bounded lookups, no pass */
    m = dkimv_msg_new(v, "MANY", NULL);
    for (int i = 0; i < 50; i++) {
        char sig[200];
        snprintf(sig, sizeof sig,
                 "v=1; a=rsa-sha256; d=example.com; s=s%d; b=AAAA; bh=AAAA; h=from", i);
        dkimv_header(m, "DKIM-Signature", sig);
    }
    dkimv_header(m, "From", "a@example.com");
    dkimv_eoh(m);
    n = dkimv_eom(m, res, DKIMV_MAX_SIGS);
    ok = n == DKIMV_MAX_SIGS;
    for (int i = 0; i < n; i++)
        if (res[i].result != DKIMV_PERMERROR)
            ok = 0;
    CHECK("50 signatures: capped, permerror", ok);
    CHECK("50 signatures: lookups bounded",
          fake_dns_lookups("s16._domainkey.example.com", ns_t_txt) == 0 &&
              fake_dns_lookups("s49._domainkey.example.com", ns_t_txt) == 0);
    dkimv_msg_free(m);

    /* many header fields */
    m = dkimv_msg_new(v, "HDRS", NULL);
    dkimv_header(m, "DKIM-Signature",
                 "v=1; a=rsa-sha256; d=example.com; s=x; b=AAAA; bh=AAAA; h=from");
    for (int i = 0; i < DKIMV_MAX_HEADERS + 10; i++)
        dkimv_header(m, "Received", "from x by y");
    dkimv_eoh(m);
    n = dkimv_eom(m, res, DKIMV_MAX_SIGS);
    CHECK("too many header fields: permerror", n == 1 && res[0].result == DKIMV_PERMERROR);
    dkimv_msg_free(m);

    /* header name with a colon or space */
    m = dkimv_msg_new(v, "NAME", NULL);
    dkimv_header(m, "DKIM-Signature",
                 "v=1; a=rsa-sha256; d=example.com; s=x; b=AAAA; bh=AAAA; h=from");
    dkimv_header(m, "From: x", "a@example.com");
    n = dkimv_eom(m, res, DKIMV_MAX_SIGS);
    CHECK("bad header name: permerror", n == 1 && res[0].result == DKIMV_PERMERROR);
    dkimv_msg_free(m);

    /* body before eoh, message freed mid-way with lookups pending */
    m = dkimv_msg_new(v, "MID", NULL);
    dkimv_header(m, "DKIM-Signature",
                 "v=1; a=rsa-sha256; d=example.com; s=x; b=AAAA; bh=AAAA; h=from");
    dkimv_body(m, (const unsigned char *)"x", 1);
    dkimv_msg_free(m);
    CHECK("no query left unreleased", fake_dns_outstanding() == 0);

    CHECK("status names", strcmp(dkimv_status_name(DKIMV_TEMPERROR), "temperror") == 0 &&
                              strcmp(dkimv_status_name(DKIMV_NONE), "none") == 0 &&
                              strcmp(dkimv_status_name((enum dkimv_status)99), "none") == 0);
    dkimv_free(v);
    free(msg);
}

/* main - run every group; exit 1 if a case failed */
int main(void)
{
    const char *srcdir = getenv("srcdir");

    snprintf(datadir, sizeof datadir, "%s/tests/data/dkim", srcdir != NULL ? srcdir : ".");
    log_open("test_dkim", 0, 0);
    test_vectors();
    test_key_failures();
    test_other_vectors();
    test_query_and_sha1();
    test_hostile();
    return failures != 0;
}
