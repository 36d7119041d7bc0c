/*
 * NAME
 *   orgdomain - the organisational (registrable) domain of a name
 * SYNOPSIS
 *   #include "orgdomain.h"
 *
 *   org_init(NULL);                          once, at start
 *   if (org_domain("mx1.mail.example.co.uk", buf, sizeof buf) == 0)
 *       ... buf is "example.co.uk"
 * DESCRIPTION
 *   The organisational domain is the public suffix plus one label, from
 *   the Public Suffix List through libpsl (ICANN and private sections
 *   both: two customers of one private suffix, such as two blogs under a
 *   hosting domain, are two organisations).  The list is Debian's file
 *   ORG_PSL_FILE (package publicsuffix), loaded once; when it cannot be
 *   read, libpsl's built-in copy is used and one line is logged.
 *
 *   org_domain() lower-cases the name and drops one trailing dot.  It
 *   returns -1 (out untouched) for a name that has no organisational
 *   domain: empty, not a DNS name, a public suffix itself ("co.uk"), a
 *   single label, or longer than the buffer.
 *
 *   org_host_len() gives the length of the part left of the
 *   organisational domain ("mx1.mail" in the example; 0 when the name is
 *   its own organisational domain; -1 as above), for callers that look at
 *   the host labels only (the iprev generic-name check).
 * THREADS
 *   org_init() may be called once before threads start; without it the
 *   first org_domain() loads the default list (pthread_once).  After
 *   loading, every function is thread-safe (the list is read-only).
 */
#ifndef GREYREP_ORGDOMAIN_H
#define GREYREP_ORGDOMAIN_H

#include <stddef.h>

#define ORG_PSL_FILE "/usr/share/publicsuffix/public_suffix_list.dat"
#define ORG_NAME_MAX 256 /* a name buffer with the NUL */

/* org_init - load the list from path (NULL = ORG_PSL_FILE); 0 if that
 * file was used, 1 if libpsl's built-in list replaced it (logged); only
 * the first call (or the first lookup) has an effect */
int org_init(const char *path);
/* org_domain - organisational domain of name into out; 0 or -1 */
int org_domain(const char *name, char *out, size_t len);
/* org_host_len - length of the labels left of the organisational domain
 * (without the dot between), 0 if none, -1 if it has none */
int org_host_len(const char *name);
/* org_source - "file" or "builtin": which list is in use (for -V, logs) */
const char *org_source(void);

#endif
