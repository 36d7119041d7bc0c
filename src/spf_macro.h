/*
 * NAME
 *   spf_macro - rewrite the SPF macros libspf2 refuses into ones it takes
 * SYNOPSIS
 *   #include "spf_macro.h"
 * DESCRIPTION
 *   RFC 7208 section 7 allows the transformer "R" as well as "r" and the
 *   delimiters . - + , / _ =; libspf2 (1.2.10) refuses "R" and the
 *   delimiters "," and "/" and so returns permerror for records that are
 *   valid.  spf_macro_rewrite() turns "R" into "r", and expands every
 *   macro whose delimiters include "," or "/" itself (RFC 7208 7.3: split
 *   on the delimiters, reverse, keep the rightmost parts, join with ".",
 *   URL-encode for an upper-case letter), writing the result as literal
 *   record text ("%" as "%%", " " as "%_").  Everything else is copied.
 *
 *   The record must already have passed spf_syntax_check().  The letter
 *   "p" is not expanded here (it needs validated PTR lookups): such a
 *   macro makes spf_macro_rewrite() fail, and the caller answers
 *   permerror as libspf2 would have.
 * DIAGNOSTICS
 *   Returns 0 with *out malloc'ed, SPF_MACRO_NOMEM, or SPF_MACRO_UNSUPPORTED.
 * THREADS
 *   Pure; thread-safe.
 */
#ifndef GREYREP_SPF_MACRO_H
#define GREYREP_SPF_MACRO_H

#include <stddef.h>

#define SPF_MACRO_NOMEM (-1)
#define SPF_MACRO_UNSUPPORTED (-2)

/* what the macro letters stand for, as RFC 7208 7.3 defines them */
struct spf_macro_vars {
    const char *local;          /* l: the sender's local part ("postmaster" for HELO) */
    const char *sender_domain;  /* o */
    const char *domain;         /* d: the current domain */
    const char *ip;             /* i: dotted quad, or 32 dot-separated nibbles */
    const char *helo;           /* h */
    const char *version;        /* v: "in-addr" or "ip6" */
};

/* spf_macro_rewrite - the record rec (len bytes) as libspf2 can compile it */
int spf_macro_rewrite(const char *rec, size_t len, const struct spf_macro_vars *v,
                      char **out);

#endif
