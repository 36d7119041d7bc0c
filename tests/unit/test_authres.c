/*
 * NAME
 *   test_authres - unit tests of authres.c (RFC 8601 header values)
 * DESCRIPTION
 *   Table-driven: built values compared with expected text, hostile
 *   values checked for CR/LF/control bytes, authserv-id recognition on a
 *   table of forged and genuine headers.  PASS:/FAIL: per case.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "dkim.h"

static int failures;

/* check - report one condition */
static void check(const char *name, int cond)
{
    printf("%s: %s\n", cond ? "PASS" : "FAIL", name);
    if (!cond)
        failures++;
}

/* check_str - compare with expected text, show both on failure */
static void check_str(const char *name, const char *got, const char *want)
{
    int ok = strcmp(got, want) == 0;

    check(name, ok);
    if (!ok)
        printf("  # got:  [%s]\n  # want: [%s]\n", got, want);
}

/* clean - no CR, no control byte except the "\n\t" folds, no 8-bit byte */
static int clean(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\n' && p[1] == '\t') {
            p++;
            continue;
        }
        if (*p < 0x20 || *p >= 0x7f)
            return 0;
    }
    return 1;
}

/* test_build - whole header values */
static void test_build(void)
{
    char buf[AUTHRES_MAX];
    struct authres ar;
    struct dkimv_result d[2];

    authres_begin(&ar, buf, sizeof buf, "mx.example.org");
    check("empty: end ok", authres_end(&ar) == 0);
    check_str("empty: none", buf, "mx.example.org; none");

    memset(d, 0, sizeof d);
    d[0].result = DKIMV_PASS;
    strcpy(d[0].domain, "example.com");
    strcpy(d[0].selector, "sel");
    strcpy(d[0].algorithm, "rsa-sha256");
    strcpy(d[0].b, "abc/def+");
    d[0].key_bits = 2048;
    d[0].reason = "signature verified";
    d[1].result = DKIMV_POLICY;
    strcpy(d[1].domain, "example.net");
    strcpy(d[1].selector, "small");
    strcpy(d[1].algorithm, "rsa-sha256");
    strcpy(d[1].b, "AAAAAAAA");
    d[1].key_bits = 768;
    d[1].reason = "signing key too small";

    authres_begin(&ar, buf, sizeof buf, "mx.example.org");
    authres_iprev(&ar, "pass", "192.0.2.1", "mail.example.com");
    authres_spf(&ar, "pass", "user@example.com", "helo.example.com");
    authres_dkim(&ar, d, 2);
    check("full: end ok", authres_end(&ar) == 0);
    check_str("full: text", buf,
              "mx.example.org;\n"
              "\tiprev=pass (mail.example.com) policy.iprev=192.0.2.1;\n"
              "\tspf=pass smtp.mailfrom=user@example.com;\n"
              "\tdkim=pass (2048-bit key) header.d=example.com header.s=sel"
              " header.a=rsa-sha256 header.b=\"abc/def+\";\n"
              "\tdkim=policy (768-bit key) reason=\"signing key too small\""
              " header.d=example.net header.s=small header.a=rsa-sha256 header.b=AAAAAAAA");

    authres_begin(&ar, buf, sizeof buf, "mx.example.org");
    authres_iprev(&ar, "permerror", "2001:db8::1", NULL);
    authres_spf(&ar, "none", "", "helo.example.com");
    authres_dkim(&ar, NULL, 0);
    authres_end(&ar);
    check_str("ipv6 quoted, null sender uses helo, dkim=none", buf,
              "mx.example.org;\n"
              "\tiprev=permerror policy.iprev=\"2001:db8::1\";\n"
              "\tspf=none smtp.helo=helo.example.com;\n"
              "\tdkim=none");

    authres_begin(&ar, buf, sizeof buf, "mx.example.org");
    authres_method(&ar, "dnswl", "pass", NULL, "dns.zone", "list.example");
    authres_method(&ar, "Bad Method", "pass", NULL, NULL, NULL);
    authres_end(&ar);
    check_str("generic method; bad method name skipped", buf,
              "mx.example.org;\n\tdnswl=pass dns.zone=list.example");
}

/* test_hostile - network values that must not break the header */
static void test_hostile(void)
{
    static const struct {
        const char *name, *in, *want;
    } values[] = {
        {"CRLF injection in mailfrom", "a@b.example\r\nX-Evil: 1",
         "spf=pass smtp.mailfrom=\"a@b.exampleX-Evil: 1\""},
        {"quote and backslash", "\"odd\\user\"@example.com",
         "spf=pass smtp.mailfrom=\"\\\"odd\\\\user\\\"@example.com\""},
        {"semicolon", "a;dkim=pass@x", "spf=pass smtp.mailfrom=\"a;dkim=pass@x\""},
        {"8-bit bytes", "j\xc3\xb6rg@example.com",
         "spf=pass smtp.mailfrom=\"j??rg@example.com\""},
        {"NUL-free control bytes",
         "a\x01\x7f"
         "b@example.com",
         "spf=pass smtp.mailfrom=\"ab@example.com\""},
        {"dot-atom local part", "first.last+tag@example.com",
         "spf=pass smtp.mailfrom=first.last+tag@example.com"},
        {"leading dot local part", ".x@example.com",
         "spf=pass smtp.mailfrom=\".x@example.com\""},
        {"domain only", "@example.com", "spf=pass smtp.mailfrom=@example.com"},
        {"space", "a b@example.com", "spf=pass smtp.mailfrom=\"a b@example.com\""},
        {"parenthesis", "a(b)@example.com", "spf=pass smtp.mailfrom=\"a(b)@example.com\""},
    };
    char buf[AUTHRES_MAX], want[1024];
    struct authres ar;

    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        authres_begin(&ar, buf, sizeof buf, "mx");
        authres_spf(&ar, "pass", values[i].in, NULL);
        authres_end(&ar);
        snprintf(want, sizeof want, "mx;\n\t%s", values[i].want);
        check_str(values[i].name, buf, want);
        check("  ... header stays clean", clean(buf));
    }

    authres_begin(&ar, buf, sizeof buf, "mx");
    authres_iprev(&ar, "pass", "192.0.2.1", "evil)(x\r\n\\");
    authres_end(&ar);
    check_str("comment escaping", buf,
              "mx;\n\tiprev=pass (evil\\)\\(x\\\\) policy.iprev=192.0.2.1");

    authres_begin(&ar, buf, sizeof buf, "mx");
    authres_spf(&ar, "pass\r\nX: y", "a@example.com", NULL);
    authres_end(&ar);
    check_str("bad result word becomes permerror", buf,
              "mx;\n\tspf=permerror smtp.mailfrom=a@example.com");

    authres_begin(&ar, buf, sizeof buf, "my host;x");
    authres_end(&ar);
    check_str("authserv-id quoted when not a token", buf, "\"my host;x\"; none");

    /* a huge value is cut at AUTHRES_VALUE_MAX, the header stays valid */
    {
        char *big = malloc(100000);
        memset(big, 'a', 99999);
        big[99999] = '\0';
        big[5] = '@';
        authres_begin(&ar, buf, sizeof buf, "mx");
        authres_spf(&ar, "pass", big, NULL);
        authres_end(&ar);
        check("huge value bounded", strlen(buf) < 20 + 2 * AUTHRES_VALUE_MAX && clean(buf));
        free(big);
    }

    /* small buffers: shorter but well formed */
    {
        char small[64];
        authres_begin(&ar, small, sizeof small, "mx.example.org");
        authres_iprev(&ar, "pass", "192.0.2.1", NULL);
        authres_spf(&ar, "pass", "someone.long@example.com", NULL);
        check("small buffer: truncated reported", authres_end(&ar) == -1);
        check_str("small buffer: whole resinfos only", small,
                  "mx.example.org;\n\tiprev=pass policy.iprev=192.0.2.1");
        authres_begin(&ar, small, 5, "mx.example.org");
        check("tiny buffer: -1", authres_end(&ar) == -1 && strlen(small) < 5);
        authres_begin(&ar, NULL, 0, "mx");
        authres_iprev(&ar, "pass", "1.2.3.4", NULL);
        check("no buffer: -1", authres_end(&ar) == -1);
    }

    /* DKIM results with odd bytes */
    {
        struct dkimv_result d;
        memset(&d, 0, sizeof d);
        d.result = DKIMV_FAIL;
        strcpy(d.domain, "exa\"mple.com");
        strcpy(d.selector, "s;1");
        d.reason = "body hash \"did\" not verify";
        authres_begin(&ar, buf, sizeof buf, "mx");
        authres_dkim(&ar, &d, 1);
        authres_end(&ar);
        check_str("dkim odd tags quoted", buf,
                  "mx;\n\tdkim=fail reason=\"body hash \\\"did\\\" not verify\""
                  " header.d=\"exa\\\"mple.com\" header.s=\"s;1\"");
    }
}

/* test_claims - recognising our authserv-id in existing fields */
static void test_claims(void)
{
    static const struct {
        const char *value;
        int want;
    } cases[] = {
        {"mx.example.org; spf=pass smtp.mailfrom=a@b", 1},
        {"MX.Example.ORG; none", 1},
        {" mx.example.org;dkim=pass", 1},
        {"mx.example.org 1; spf=pass", 1},
        {"mx.example.org", 1},
        {"mx.example.org.; spf=pass", 1},
        {"(comment) mx.example.org; spf=pass", 1},
        {"(nested (comment) \\) here)\r\n\tmx.example.org (x); none", 1},
        {"\"mx.example.org\"; spf=pass", 1},
        {"\"mx.exam\\ple.org\"; spf=pass", 1},
        {"\r\n mx.example.org\r\n ; none", 1},
        {"mx.example.org(c); none", 1},
        {"other.example.org; spf=pass", 0},
        {"mx.example.org.evil; spf=pass", 0},
        {"evil.mx.example.org; spf=pass", 0},
        {"mx.example.orgx; none", 0},
        {"mx.example.org/x; none", 0},
        {"mx.example.org@x; none", 0},
        {"(unterminated mx.example.org; none", 0},
        {"\"mx.example.org; none", 0},
        {"", 0},
        {";mx.example.org", 0},
        {"x; mx.example.org", 0},
    };

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char name[200];
        snprintf(name, sizeof name, "claims %d: %.60s", cases[i].want, cases[i].value);
        for (char *p = name; *p; p++)
            if (*p == '\r' || *p == '\n' || *p == '\t')
                *p = ' ';
        check(name, authres_claims_authserv(cases[i].value, "mx.example.org") == cases[i].want);
    }
    check("claims: NULL value", authres_claims_authserv(NULL, "mx") == 0);
    check("claims: NULL id", authres_claims_authserv("mx; none", NULL) == 0);
    check("claims: empty id", authres_claims_authserv("; none", "") == 0);
    {
        /* deep nesting and a long id are bounded */
        char *deep = malloc(200001);
        memset(deep, '(', 100000);
        memset(deep + 100000, ')', 100000);
        deep[200000] = '\0';
        check("claims: deep comment, no id", authres_claims_authserv(deep, "mx") == 0);
        memset(deep, 'a', 200000);
        check("claims: long token", authres_claims_authserv(deep, "mx") == 0);
        free(deep);
    }
    {
        /* what we build, we recognise */
        char buf[AUTHRES_MAX];
        struct authres ar;
        authres_begin(&ar, buf, sizeof buf, "mx.example.org");
        authres_iprev(&ar, "pass", "192.0.2.1", NULL);
        authres_end(&ar);
        check("claims: own header", authres_claims_authserv(buf, "mx.example.org") == 1);
        authres_begin(&ar, buf, sizeof buf, "odd id");
        authres_end(&ar);
        check("claims: own quoted id", authres_claims_authserv(buf, "odd id") == 1);
    }
    {
        /* issue 10: an authserv-id with '@' was written bare, and then
         * not recognised, so forged fields with it survived */
        char buf[AUTHRES_MAX];
        struct authres ar;
        authres_begin(&ar, buf, sizeof buf, "greyrep@mx.example.org");
        authres_spf(&ar, "pass", "a@example.com", NULL);
        authres_end(&ar);
        check_str("authserv-id with @ is a quoted-string", buf,
                  "\"greyrep@mx.example.org\";\n\tspf=pass smtp.mailfrom=a@example.com");
        check("claims: own id with @", authres_claims_authserv(buf, "greyrep@mx.example.org") == 1);
        check("claims: forged quoted id with @",
              authres_claims_authserv("\"GreyRep@MX.example.org\"; spf=pass smtp.mailfrom=x@y.example",
                                      "greyrep@mx.example.org") == 1);
        check("claims: bare id with @ (as we once wrote it) is not a token",
              authres_claims_authserv("greyrep@mx.example.org; spf=pass", "greyrep") == 0);
        check("claims: our id with @ written bare by a forger",
              authres_claims_authserv("Greyrep@MX.example.org; spf=pass", "greyrep@mx.example.org") == 1);
        check("claims: a longer bare id is not ours",
              authres_claims_authserv("greyrep@mx.example.org.evil; spf=pass",
                                      "greyrep@mx.example.org") == 0);
        authres_begin(&ar, buf, sizeof buf, "a\"b\\c");
        authres_end(&ar);
        check("claims: own id with quote and backslash", authres_claims_authserv(buf, "a\"b\\c") == 1);
    }
    {
        /* issue 10: an id that does not fit never leaves a value that
         * starts with ';' */
        char small[8];
        struct authres ar;
        authres_begin(&ar, small, sizeof small, "mx.example.org");
        authres_spf(&ar, "pass", "a@example.com", NULL);
        check("id that does not fit: end reports truncation", authres_end(&ar) == -1);
        check("id that does not fit: no value starting with ';'", small[0] != ';');
        char fits[12];
        authres_begin(&ar, fits, sizeof fits, "mx.example");
        authres_spf(&ar, "pass", "a@example.com", NULL);
        authres_end(&ar);
        check("id fits, resinfo does not: starts with the id", strncmp(fits, "mx.example", 10) == 0);
    }
}

/* main - run every group; exit 1 if a case failed */
int main(void)
{
    test_build();
    test_hostile();
    test_claims();
    return failures != 0;
}
