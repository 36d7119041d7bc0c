/*
 * NAME
 *   spf_syntax - RFC 7208 syntax check of an SPF record, before any evaluation
 * SYNOPSIS
 *   #include "spf_syntax.h"
 * DESCRIPTION
 *   Checks a record against the ABNF of RFC 7208 section 12: the version
 *   tag, terms separated by single spaces only (no tabs, CR, LF), the eight
 *   mechanisms with their domain-spec and CIDR lengths (dual CIDR for a and
 *   mx, 0-32 / 0-128, no leading zeros), ip4/ip6 networks, the modifiers
 *   redirect and exp (at most once each) and unknown modifiers, the
 *   macro-string grammar (letters, digit and "r" transformers, delimiters,
 *   %% %_ %-; a digit transformer above 128 is refused on purpose, see
 *   spf_syntax.c), and the domain-end rule (the last label a toplabel, or a
 *   macro).  Macro letters c, r and t are allowed only in exp text.
 *
 *   The check is pure: no DNS, no allocation, no global state.  Everything
 *   that would make an RFC 7208 evaluator return permerror from the text of
 *   a record alone is reported here, so that libspf2 only ever parses
 *   records that are known to be well formed.
 * DIAGNOSTICS
 *   The check functions return NULL for a well-formed input, or a short
 *   static English reason ("bad CIDR length", ...) for permerror.
 * THREADS
 *   Thread-safe.
 */
#ifndef GREYREP_SPF_SYNTAX_H
#define GREYREP_SPF_SYNTAX_H

#include <stddef.h>

/* spf_syntax_is_spf - 1 if a TXT record is an SPF record ("v=spf1" then SP or end) */
int spf_syntax_is_spf(const char *rec, size_t len);

/* spf_syntax_check - NULL if rec (an SPF record) is well formed, else why not */
const char *spf_syntax_check(const char *rec, size_t len);

/* spf_syntax_explain - NULL if text is a valid explain-string (the TXT
 * record an exp= modifier points at), else why not */
const char *spf_syntax_explain(const char *text, size_t len);

/* spf_syntax_domain_spec - NULL if s is a valid domain-spec, else why not */
const char *spf_syntax_domain_spec(const char *s, size_t len);

/* One term of a well-formed record, as spf_syntax_next_term() returns it. */
enum spf_term_kind {
    SPF_TERM_ALL, SPF_TERM_INCLUDE, SPF_TERM_A, SPF_TERM_MX, SPF_TERM_PTR,
    SPF_TERM_IP4, SPF_TERM_IP6, SPF_TERM_EXISTS,
    SPF_TERM_REDIRECT, SPF_TERM_EXP, SPF_TERM_UNKNOWN_MODIFIER
};
struct spf_term {
    enum spf_term_kind kind;
    char qualifier;             /* '+', '-', '~', '?'; 0 if none given or a modifier */
    const char *text;           /* the whole term */
    size_t len;
    const char *arg;            /* domain-spec, network or modifier value; */
    size_t arglen;              /* without ':' / '=' and CIDR lengths; 0 if absent */
    int cidr4, cidr6;           /* -1 when absent */
};

/* spf_syntax_next_term - the term at or after *pos in a record that
 * spf_syntax_check() accepted; 1 and *pos advanced, or 0 at the end (or at
 * a term that does not parse, which cannot happen for an accepted record) */
int spf_syntax_next_term(const char *rec, size_t len, size_t *pos, struct spf_term *t);

#endif
