/*
 * NAME
 *   test_spf_syntax - table-driven tests of the RFC 7208 syntax check
 * DESCRIPTION
 *   Each row is a record and whether spf_syntax_check() must accept it.
 *   Prints "PASS: spf_syntax N record" / "FAIL: ..."; exit 1 on any failure.
 */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "spf_syntax.h"

static const struct {
    const char *rec;
    int ok;
} records[] = {
    /* version */
    { "v=spf1", 1 },
    { "v=spf1 ", 1 },
    { "V=SPF1 -ALL", 1 },
    { "v=spf1  a   -all  ", 1 },
    { "v=spf10", 0 },
    { "v=spf1-all", 0 },
    { "spf1 -all", 0 },
    /* separators and characters */
    { "v=spf1 a\t-all", 0 },
    { "v=spf1 a:ctrl.example.com\rptr -all", 0 },
    { "v=spf1 ip4:192.0.2.5\n -all", 0 },
    { "v=spf1 \x80" "a:example.net -all", 0 },
    { "v=spf1 a:example.net \x96" "all", 0 },
    /* all */
    { "v=spf1 +all", 1 },
    { "v=spf1 all.", 0 },
    { "v=spf1 all:foo.example.com", 0 },
    { "v=spf1 all/8", 0 },
    { "v=spf1 -all ?all", 1 },
    /* qualifiers */
    { "v=spf1 ~a ?mx -ptr +include:x.example.com", 1 },
    { "v=spf1 !a", 0 },
    { "v=spf1 --all", 0 },
    /* include / exists */
    { "v=spf1 include:_spf.example.com", 1 },
    { "v=spf1 include", 0 },
    { "v=spf1 include:", 0 },
    { "v=spf1 include:example.com/24", 0 },
    { "v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d}", 1 },
    { "v=spf1 exists", 0 },
    { "v=spf1 exists:foo.example.com/24", 0 },
    /* a / mx with domain-spec and dual CIDR */
    { "v=spf1 a", 1 },
    { "v=spf1 a/24", 1 },
    { "v=spf1 a//64", 1 },
    { "v=spf1 a/24//64", 1 },
    { "v=spf1 a:example.com/0//0", 1 },
    { "v=spf1 mx:example.com/32//128", 1 },
    { "v=spf1 a/33", 0 },
    { "v=spf1 a//129", 0 },
    { "v=spf1 a/24/64", 0 },
    { "v=spf1 a/024", 0 },
    { "v=spf1 a/", 0 },
    { "v=spf1 a:", 0 },
    { "v=spf1 mx:", 0 },
    { "v=spf1 a:foo:bar/baz.example.com", 1 },
    { "v=spf1 a:example.com:8080", 0 },
    { "v=spf1 a:111.222.33.44", 0 },
    { "v=spf1 a:abc.123", 0 },
    { "v=spf1 a:museum", 0 },
    { "v=spf1 a:museum.", 0 },
    { "v=spf1 a:example.-com", 0 },
    { "v=spf1 a:example.com-", 0 },
    { "v=spf1 a:foo.example.xn--zckzah", 1 },
    { "v=spf1 a:foo.123-456", 1 },
    { "v=spf1 a:example.com.", 1 },
    { "v=spf1 a:example.com..", 0 },
    { "v=spf1 a:mail.example...com", 1 },      /* valid syntax, not a valid name */
    { "v=spf1 a:%{d}", 1 },
    { "v=spf1 a:%{H}.bar", 1 },
    /* ptr */
    { "v=spf1 ptr", 1 },
    { "v=spf1 ptr:example.com", 1 },
    { "v=spf1 ptr/0", 0 },
    { "v=spf1 ptr:", 0 },
    /* ip4 */
    { "v=spf1 ip4:192.0.2.1", 1 },
    { "v=spf1 ip4:192.0.2.0/24", 1 },
    { "v=spf1 ip4:0.0.0.0/0", 1 },
    { "v=spf1 ip4:192.0.2.1/32", 1 },
    { "v=spf1 ip4:192.0.2.1/33", 0 },
    { "v=spf1 ip4:192.0.2.1/032", 0 },
    { "v=spf1 ip4:192.0.2", 0 },
    { "v=spf1 ip4:192.0.2.1:25", 0 },
    { "v=spf1 ip4:192.0.2.256", 0 },
    { "v=spf1 ip4:192.0.02.1", 0 },
    { "v=spf1 ip4", 0 },
    { "v=spf1 ip4:", 0 },
    { "v=spf1 ip4:192.0.2.1//64", 0 },
    /* ip6 */
    { "v=spf1 ip6:2001:db8::/32", 1 },
    { "v=spf1 ip6:::1", 1 },
    { "v=spf1 ip6:::/0", 1 },
    { "v=spf1 ip6:::ffff:192.0.2.1", 1 },
    { "v=spf1 ip6:2001:db8::/129", 0 },
    { "v=spf1 ip6:2001:db8::/", 0 },
    { "v=spf1 ip6:2001:db8:::1", 0 },
    { "v=spf1 ip6:192.0.2.1", 0 },
    { "v=spf1 ip6", 0 },
    /* modifiers */
    { "v=spf1 redirect=_spf.example.com", 1 },
    { "v=spf1 -all exp=explain.example.com", 1 },
    { "v=spf1 redirect=a.example.com redirect=b.example.com", 0 },
    { "v=spf1 exp=a.example.com exp=b.example.com", 0 },
    { "v=spf1 redirect=", 0 },
    { "v=spf1 exp=", 0 },
    { "v=spf1 -redirect=a.example.com", 0 },
    { "v=spf1 redirect:a.example.com", 0 },
    { "v=spf1 moo.cow-far_out=man:dog/cat ip4:1.2.3.4 -all", 1 },
    { "v=spf1 moo.cow/far_out=man:dog/cat ip4:1.2.3.4 -all", 0 },
    { "v=spf1 moo.cow:far_out=man:dog/cat ip4:1.2.3.4 -all", 0 },
    { "v=spf1 =foo", 0 },
    { "v=spf1 9foo=bar", 0 },
    { "v=spf1 foo=", 1 },
    { "v=spf1 foo=%{c}", 1 },
    { "v=spf1 foo=%z", 0 },
    { "v=spf1 default=deny", 1 },
    { "v=spf1 -all foo=%abc", 0 },
    /* macros */
    { "v=spf1 exists:%{s}.%{l}.%{o}.%{d}.%{i}.%{p}.%{h}.%{v}.example.com", 1 },
    { "v=spf1 exists:%{S}.%{L}.%{IR}.example.com", 1 },
    { "v=spf1 exists:%{d2}.example.com", 1 },
    { "v=spf1 exists:%{d0}.example.com", 0 },
    { "v=spf1 exists:%{d128}.example.com", 1 },
    { "v=spf1 exists:%{d129}.example.com", 0 },       /* deliberate: see spf_syntax.c */
    { "v=spf1 exists:%{d2147483648}.example.com", 0 },
    { "v=spf1 exists:%{ir.-+,/_=}.example.com", 1 },
    { "v=spf1 exists:%{i;}.example.com", 0 },
    { "v=spf1 exists:%{x}.example.com", 0 },
    { "v=spf1 exists:%{c}.example.com", 0 },      /* c, r, t only in exp text */
    { "v=spf1 exists:%{r}.example.com", 0 },
    { "v=spf1 exists:%{t}.example.com", 0 },
    { "v=spf1 exists:%{i", 0 },
    { "v=spf1 exists:%%%_%-.example.com", 1 },
    { "v=spf1 exists:foo%.example.com", 0 },
    { "v=spf1 exists:foo%", 0 },
    { "v=spf1 a:macro%%percent%_%_space%-url-space.example.com", 1 },
    { "v=spf1 exists:%{d}", 1 },
    { "v=spf1 exists:%-", 1 },
    /* unknown mechanisms */
    { "v=spf1 foo", 0 },
    { "v=spf1 foo:bar.example.com", 0 },
    { "v=spf1 ip5:192.0.2.1", 0 },
};

static const struct {
    const char *text;
    int ok;
} explains[] = {
    { "Mail from %{s} via %{i} is not allowed, see %{c} at %{t} (%{r})", 1 },
    { "%{l} is not %{d2}", 1 },
    { "bad %{z} letter", 0 },
    { "lone % sign", 0 },
    { "tab\there", 0 },
    { "", 1 },
};

int main(void)
{
    int failures = 0, n = 0;

    for (size_t i = 0; i < sizeof records / sizeof *records; i++) {
        const char *why = spf_syntax_check(records[i].rec, strlen(records[i].rec));
        int good = (why == NULL) == records[i].ok;
        printf("%s: spf_syntax %zu \"", good ? "PASS" : "FAIL", i + 1);
        for (const char *p = records[i].rec; *p; p++)
            printf((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f ? "\\x%02x" : "%c",
                   (unsigned char)*p);
        printf("\" %s%s%s\n", records[i].ok ? "accepted" : "rejected",
               why ? ": " : "", why ? why : "");
        failures += !good;
        n++;
    }
    for (size_t i = 0; i < sizeof explains / sizeof *explains; i++) {
        const char *why = spf_syntax_explain(explains[i].text, strlen(explains[i].text));
        int good = (why == NULL) == explains[i].ok;
        printf("%s: spf_syntax explain \"%s\"\n", good ? "PASS" : "FAIL", explains[i].text);
        failures += !good;
        n++;
    }
    /* the term iterator that spf.c relies on */
    {
        const char *rec = "v=spf1 -a:example.com/24//64 ip4:192.0.2.0/0 redirect=x.example.com";
        size_t pos = 0;
        struct spf_term t;
        int ok = spf_syntax_next_term(rec, strlen(rec), &pos, &t) && t.kind == SPF_TERM_A &&
                 t.qualifier == '-' && t.arglen == 11 && memcmp(t.arg, "example.com", 11) == 0 &&
                 t.cidr4 == 24 && t.cidr6 == 64;
        ok = ok && spf_syntax_next_term(rec, strlen(rec), &pos, &t) && t.kind == SPF_TERM_IP4 &&
             t.cidr4 == 0 && t.cidr6 == -1 && t.arglen == 9;
        ok = ok && spf_syntax_next_term(rec, strlen(rec), &pos, &t) &&
             t.kind == SPF_TERM_REDIRECT && t.arglen == 13;
        ok = ok && !spf_syntax_next_term(rec, strlen(rec), &pos, &t);
        printf("%s: spf_syntax term iterator\n", ok ? "PASS" : "FAIL");
        failures += !ok;
        n++;
    }
    printf("spf_syntax: %d/%d passed\n", n - failures, n);
    return failures ? 1 : 0;
}
