/*
 * NAME
 *   authres - the RFC 8601 Authentication-Results header field
 * SYNOPSIS
 *   #include "authres.h"
 *
 *   char buf[AUTHRES_MAX];
 *   struct authres ar;
 *   authres_begin(&ar, buf, sizeof buf, "mx.example.org");
 *   authres_iprev(&ar, "pass", "192.0.2.1", "mail.example.com");
 *   authres_spf(&ar, "pass", "user@example.com", NULL);
 *   authres_dkim(&ar, results, nresults);
 *   authres_end(&ar);            -> buf holds the field value
 * DESCRIPTION
 *   Builds the value of an Authentication-Results field (without the name):
 *
 *     mx.example.org;
 *         iprev=pass policy.iprev=192.0.2.1 (mail.example.com);
 *         spf=pass smtp.mailfrom=user@example.com;
 *         dkim=pass (2048-bit key) header.d=example.com header.s=sel
 *         header.a=rsa-sha256 header.b="abc/def+"
 *
 *   Each method result ("resinfo") starts a new line folded with "\n\t",
 *   which libmilter's smfi_insheader() accepts.  A message without any
 *   method gets "authserv-id; none".  authres_dkim() with no results writes
 *   dkim=none.
 *
 *   Every value from the network (addresses, host names, DKIM tags) is
 *   sanitised: written bare when it is an RFC 2045 token or a plain
 *   local-part@domain, else as a quoted-string with '"' and '\' escaped;
 *   control bytes (CR, LF, NUL, ...) are dropped and 8-bit bytes become '?'.
 *   Comments escape '(' ')' '\'.  A result word that is not a plain
 *   lower-case keyword is written as "permerror" (a bug upstream, not a
 *   reason to emit a broken header).
 *
 *   authres_claims_authserv() says whether an existing Authentication-Results
 *   value claims our authserv-id (leading CFWS and comments skipped, id
 *   compared without case, token or quoted-string, optional version after
 *   it; an id that is not a token, one with '@', also when written bare),
 *   so that the milter can delete forged fields.  authres_begin() writes
 *   the id as a token, or as a quoted-string when it is none.
 * ERRORS
 *   authres_end() returns -1 when some resinfo did not fit in the buffer;
 *   the value is then still well formed, only shorter.
 * THREADS
 *   No shared state: thread-safe.
 */
#ifndef GREYREP_AUTHRES_H
#define GREYREP_AUTHRES_H

#include <stddef.h>

#include "dkim.h"

#define AUTHRES_MAX 4096      /* a buffer that fits every normal case */
#define AUTHRES_VALUE_MAX 320 /* a property value is cut at this length */

struct authres {
    char *buf;
    size_t size;
    size_t len;
    int methods; /* resinfos written */
    int truncated;
};

/* authres_begin - start a value in buf with our authserv-id */
void authres_begin(struct authres *ar, char *buf, size_t size, const char *authserv_id);
/* authres_iprev - iprev=RESULT policy.iprev=IP [(host)] */
void authres_iprev(struct authres *ar, const char *result, const char *client_ip,
                   const char *host);
/* authres_spf - spf=RESULT smtp.mailfrom=ADDR, or smtp.helo=NAME when
 * mailfrom is NULL or empty (null sender, or a HELO check) */
void authres_spf(struct authres *ar, const char *result, const char *mailfrom,
                 const char *helo);
/* authres_dkim - one dkim=... per result; dkim=none when n is 0 */
void authres_dkim(struct authres *ar, const struct dkimv_result *res, int n);
/* authres_method - any other method: METHOD=RESULT [PTYPE.PROPERTY=VALUE] */
void authres_method(struct authres *ar, const char *method, const char *result,
                    const char *comment, const char *property, const char *value);
/* authres_end - finish ("; none" if nothing was added); 0 or -1 truncated */
int authres_end(struct authres *ar);

/* authres_claims_authserv - 1 if header_value names authserv_id as its
 * authserv-id, else 0 (also for NULL or malformed input) */
int authres_claims_authserv(const char *header_value, const char *authserv_id);

#endif
