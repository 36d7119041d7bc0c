/*
 * NAME
 *   whitelist - static and admin whitelists: parse, normalise, match
 * DESCRIPTION
 *   One struct wl holds entries of four types:
 *     ip      an address or CIDR network
 *     host    a client host name, ".suffix" for every name below it, or
 *             "/RE/": a POSIX extended regular expression (at most
 *             WL_REGEX_MAX characters between the slashes, matched without
 *             regard to case against the whole verified name unless
 *             anchored: write ^...$), compiled once when it is added;
 *             refused when it would be costly to compile (a repetition of
 *             a repetition, groups nested over WL_REGEX_DEPTH, a {m,n}
 *             bound over WL_REGEX_BOUND, more than two of them, or a
 *             back-reference)
 *     sender  an envelope sender address, or "@domain"
 *     rcpt    a recipient address, "local@" (any domain) or "@domain"
 *   The static lists come from the files named in [whitelist]; the admin
 *   entries (greyrepctl whitelist add) live in the store as "w|TYPE|VALUE"
 *   and are mirrored into a second struct wl by decide.c.
 *
 *   An ip entry may be a partial IPv4 address: "10", "10.1", "195.235.39"
 *   mean 10.0.0.0/8, 10.1.0.0/16, 195.235.39.0/24.  Anything made only of
 *   digits, dots and '/' is read as IPv4 and must be valid (300.1.2.3 and
 *   10.0.0.0/33 are errors, never host names).  A host name whose last
 *   label is numeric is refused for the same reason.  One trailing dot on
 *   a name or domain ("mail.example.org.") is the same name without it.
 *
 *   wl_normalise() is the one definition of an entry's canonical text, used
 *   by the file loader, by greyrepctl and for store keys, so that an entry
 *   added one way is found every other way.
 * THREADS
 *   A struct wl is built by one thread and then only read.
 */
#ifndef GREYREP_WHITELIST_H
#define GREYREP_WHITELIST_H

#include <stddef.h>
#include <time.h>

#include "config.h"
#include "envaddr.h"
#include "netaddr.h"

enum wl_type { WL_IP, WL_HOST, WL_SENDER, WL_RCPT };
#define WL_VALUE_MAX 300
#define WL_REGEX_MAX 200   /* characters between the slashes of a /RE/ host */
#define WL_REGEX_DEPTH 5   /* groups nested at most this deep */
#define WL_REGEX_BOUND 32  /* largest m or n in {m,n} */

struct wl *wl_new(void);
void wl_free(struct wl *wl);
size_t wl_count(const struct wl *wl);

int wl_parse_type(const char *s, enum wl_type *out);
const char *wl_type_name(enum wl_type t);
/* wl_normalise - canonical text of an entry; -1 and *why if invalid */
int wl_normalise(enum wl_type t, const char *value, char *out, size_t len,
                 const char **why);
/* wl_client_type - ip or host, by the entry's shape (a clients file line) */
int wl_client_type(const char *entry, enum wl_type *out);
/* wl_add - add a valid entry (normalised here); expires 0 = never */
int wl_add(struct wl *wl, enum wl_type t, const char *value, time_t expires,
           const char **why);
/* wl_load_file - read one entry a line; in a clients file an entry is ip or
 * host by its shape.  Problems are reported as FILE:LINE: message. */
int wl_load_file(struct wl *wl, int clients_file, enum wl_type t, const char *path,
                 cfg_report_fn report, void *arg);

/* Matching: 1 and a description of the entry in what, or 0. */
int wl_match_client(const struct wl *wl, const struct net_addr *addr,
                    const char *verified_host, time_t now, char *what, size_t len);
int wl_match_sender(const struct wl *wl, const struct env_addr *a, time_t now,
                    char *what, size_t len);
int wl_match_rcpt(const struct wl *wl, const struct env_addr *a, time_t now,
                  char *what, size_t len);

#endif
