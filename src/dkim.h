/*
 * NAME
 *   dkim - verify every DKIM signature of a message (libopendkim)
 * SYNOPSIS
 *   #include "dkim.h"
 * DESCRIPTION
 *   One struct dkimv per process wraps one DKIM_LIB.  Per message the
 *   caller creates a struct dkimv_msg, feeds it the header fields in order
 *   (dkimv_header), the end of the header (dkimv_eoh), the body in chunks
 *   (dkimv_body) and collects one result per signature with dkimv_eom().
 *
 *   Public keys are fetched with TXT lookups through resolver.h, never
 *   through libopendkim's own resolver (which shares one res_state between
 *   threads).  Lookups start as soon as a DKIM-Signature header field is
 *   seen, so they run in parallel with the rest of the message; each wait
 *   is bounded by the message's deadline.
 *
 *   Results follow RFC 8601 section 2.7.1:
 *     pass       signature verified
 *     fail       signature or body hash did not verify
 *     neutral    signature not evaluated (expired, dated in the future,
 *                ignored by the library)
 *     policy     verified in principle but not acceptable here: key
 *                shorter than min_key_bits, or rsa-sha1 (RFC 8301 3.1)
 *                unless dkimv_set_allow_sha1() allowed it
 *     temperror  key lookup failed temporarily (SERVFAIL, timeout,
 *                deadline): libopendkim's DKIM_STAT_KEYFAIL case; also
 *                our own trouble (out of memory, library refused)
 *     permerror  no key, revoked key, malformed signature or key record,
 *                a q= tag that names no known query method (only dns/txt
 *                exists: RFC 6376 3.5; no key is fetched for it),
 *                message unusable (limits exceeded, malformed field)
 *   An unsigned message gives no results (dkimv_eom returns 0): report
 *   that as dkim=none.
 * HOSTILE INPUT
 *   Names and values may be NULL, empty, huge or odd.  A header field
 *   longer than DKIMV_MAX_HEADER bytes, more than DKIMV_MAX_HEADERS fields
 *   or more than DKIMV_MAX_SIGS signatures make the message unusable: every
 *   signature then gets permerror (never a pass on a partial view).
 *   Strings in results are printable ASCII only, bounded, NUL-terminated.
 * THREADS
 *   dkimv_new/dkimv_free: start-up and shut-down only.  A struct dkimv is
 *   shared by all threads; a struct dkimv_msg belongs to one message and
 *   may move between threads but must not be used by two at once.
 */
#ifndef GREYREP_DKIM_H
#define GREYREP_DKIM_H

#include <stddef.h>
#include <time.h>

#include "facts.h" /* enum dkimv_status */

struct dns_resolver;
struct dkimv;
struct dkimv_msg;

#define DKIMV_MIN_KEY_BITS 1024 /* default when min_key_bits is 0 */
#define DKIMV_MAX_HEADER (128 * 1024)
#define DKIMV_MAX_HEADERS 1000
#define DKIMV_MAX_SIGS 16 /* signatures evaluated per message */

struct dkimv_result {
    enum dkimv_status result;
    char domain[254];   /* d= ("" if missing) */
    char selector[254]; /* s= */
    char algorithm[32]; /* a=, e.g. rsa-sha256, ed25519-sha256 */
    char b[9];          /* first 8 characters of b= */
    unsigned key_bits;  /* RSA modulus size; 256 for ed25519; 0 unknown */
    const char *reason; /* static text for logs and comments; never NULL */
};

/* dkimv_new - one verifier per process; min_key_bits 0 means 1024.
 * NULL (logged) if libopendkim cannot start. */
struct dkimv *dkimv_new(struct dns_resolver *resolver, unsigned min_key_bits);
/* dkimv_free - after every dkimv_msg is freed */
void dkimv_free(struct dkimv *v);

/* dkimv_msg_new - start a message; deadline (CLOCK_MONOTONIC) bounds every
 * key lookup wait, NULL = the resolver's own timeout.  id names the message
 * in logs (queue id; may be NULL).  NULL only when out of memory. */
struct dkimv_msg *dkimv_msg_new(struct dkimv *v, const char *id,
                                const struct timespec *deadline);
/* dkimv_set_allow_sha1 - let rsa-sha1 signatures pass for this message
 * (default: they verify as policy, RFC 8301 3.1) */
void dkimv_set_allow_sha1(struct dkimv_msg *m, int allow);
/* dkimv_set_deadline - move the deadline (e.g. when end of data arrives) */
void dkimv_set_deadline(struct dkimv_msg *m, const struct timespec *deadline);

/* dkimv_header - one header field as libmilter gives it: name without the
 * colon, value with folding (LF or CRLF line ends both fine).  A value that
 * starts with white space (SMFIP_HDR_LEADSPC) is used as is; otherwise one
 * space is put back after the colon. */
void dkimv_header(struct dkimv_msg *m, const char *name, const char *value);
/* dkimv_eoh - end of the header */
void dkimv_eoh(struct dkimv_msg *m);
/* dkimv_body - a chunk of the body (CRLF line ends, as libmilter gives it) */
void dkimv_body(struct dkimv_msg *m, const unsigned char *buf, size_t len);
/* dkimv_eom - finish; stores up to max results in out and returns how many
 * were stored (0 for an unsigned message).  Call once. */
int dkimv_eom(struct dkimv_msg *m, struct dkimv_result *out, int max);
/* dkimv_msg_free - free a message at any stage (NULL ok) */
void dkimv_msg_free(struct dkimv_msg *m);

/* dkimv_status_name - "pass", "fail", ... as RFC 8601 spells them */
const char *dkimv_status_name(enum dkimv_status s);

#endif
