/*
 * NAME
 *   greylist - triplet keys, sender normalisation, the triplet state machine
 * DESCRIPTION
 *   grey_normalise_sender() maps the many envelope senders one real sender
 *   uses for one message (BATV tags, SRS rewrites, +extensions, VERP and
 *   other per-message numbers) onto one stable text, so that its retry finds
 *   the record of its first attempt.  grey_key_part() escapes any text for
 *   use inside a store key.
 *
 *   grey_step() is the state machine of one triplet: pure, with the time
 *   passed in, so every transition is tested with an injected clock.
 * THREADS
 *   Pure functions.
 */
#ifndef GREYREP_GREYLIST_H
#define GREYREP_GREYLIST_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "envaddr.h"
#include "netaddr.h"
#include "record.h"

/* Longest escaped sender or recipient text: two of them, the network and
 * the separators stay under LMDB's 511-byte key limit (STORE_MAX_KEY). */
#define GREY_PART_MAX 180
#define GREY_DOMAIN_MAX 120 /* an SPF domain in place of the network */

struct cfg_greylist;

/* grey_normalise_sender - stable, escaped text of a MAIL FROM path */
void grey_normalise_sender(const struct env_addr *addr, char *out, size_t len);
/* grey_normalise_rcpt - stable, escaped text of a RCPT TO path */
void grey_normalise_rcpt(const struct env_addr *addr, char *out, size_t len);
/* grey_key_part - escape bytes outside printable ASCII, '%', '|', '<' and
 * '>' as %XX; text longer than GREY_PART_MAX (or the buffer) is cut and
 * suffixed with #HASH, a hash of the whole text in[0..inlen) alone, so
 * every retry of one normalised address gets one key.  oversized (beyond
 * RFC 5321's limits) forces the suffix.  A nonzero hash (the normalisers
 * pass the raw argument's only when env_parse() had to cut a part beyond
 * 256 bytes, so the whole text is gone) is hashed in with the text's:
 * such addresses stay apart, but their BATV/VERP retries do not match. */
void grey_key_part(const char *in, size_t inlen, uint64_t hash, int oversized,
                   char *out, size_t len);
/* grey_client_net - the client address masked to the configured prefix */
void grey_client_net(const struct cfg_greylist *g, const struct net_addr *client,
                     struct net_cidr *out);

enum grey_state {
    GREY_NEW,       /* first sight (or start over): tempfail */
    GREY_EARLY,     /* retry before delay: tempfail */
    GREY_PASSED,    /* first proper retry: pass, message delayed */
    GREY_KNOWN      /* a passed triplet seen again: pass */
};

struct grey_outcome {
    enum grey_state state;
    unsigned remaining;   /* GREY_NEW / GREY_EARLY: seconds to wait */
    unsigned delayed;     /* GREY_PASSED: seconds since first sight */
    int changed;          /* the record changed: it must be written */
};

/*
 * Read-mostly: a passed triplet used again, and a known client, are
 * rewritten only when their last use is older than pass_lifetime /
 * GREY_REFRESH_DIV (about a day at the default 35d).  Most decisions then
 * change nothing and need no write; the price is that a passed triplet or
 * an auto-whitelisted client is kept at least pass_lifetime * 31/32 after
 * its last use instead of pass_lifetime, and that a triplet's passes count
 * its uses at most once a refresh interval.
 */
#define GREY_REFRESH_DIV 32  /* with [greylist] read_mostly = yes (the default) */

/* grey_step - advance one triplet at time now.  *found says whether a live
 * record exists; the record is updated in place and its new expiry stored
 * in *expires.  Returns the outcome. */
struct grey_outcome grey_step(const struct cfg_greylist *g, int found,
                              struct rec_triplet *t, time_t now, time_t *expires);

/* grey_client_count - count a pass for the client auto-whitelist, at most
 * once an hour; the client record's new expiry into *expires (left alone
 * when nothing changed).  1 if the record changed and must be written. */
int grey_client_count(const struct cfg_greylist *g, int found, struct rec_client *c,
                      time_t now, time_t *expires);
/* grey_client_listed - is this client auto-whitelisted at time now? */
int grey_client_listed(const struct cfg_greylist *g, int found,
                       const struct rec_client *c, time_t now);

#endif
