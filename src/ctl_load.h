/*
 * NAME
 *   ctl_load - greyrepctl dump, load and del: the store as JSON lines
 * SYNOPSIS
 *   #include "ctl_load.h"
 * DESCRIPTION
 *   ctl_dump() prints every live record of the store, one JSON object a
 *   line: key, expires, value (hex) and, for reading, the decoded fields
 *   or "problem" for a record greyrep would not use.
 *
 *   ctl_load() is all or nothing: it reads the whole file, checks every
 *   line (JSON syntax, strict hex, a key of a kind greyrep knows, a value
 *   that decodes as that kind) before it writes anything, and then writes
 *   every record in one store_put_many().  A bad line changes nothing and
 *   is reported as FILE:LINE: what, with the bad value.
 *
 *   ctl_del() removes one record by its raw key, as dump prints it, so
 *   that any record (even one no other verb can name) can be removed.
 *
 *   ctl_record_problem() and ctl_load_line() are pure, for tests and
 *   fuzzing.  The key kinds are record.h's: t| c| w| v|whitelist s|; a
 *   new kind of record must be added to ctl_record_problem().
 * DIAGNOSTICS
 *   The ctl_* commands print their errors on stderr (one line each) and
 *   return greyrepctl's exit status: 0 done, 1 refused or failed.
 */
#ifndef GREYREP_CTL_LOAD_H
#define GREYREP_CTL_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* ctl_record_problem - NULL if key is of a kind greyrep knows and val
 * decodes as that kind; else a short static reason */
const char *ctl_record_problem(const char *key, const unsigned char *val, size_t vlen);

/* ctl_load_line - one dump line into key (NUL-terminated, < STORE_MAX_KEY),
 * val (*vlen bytes, <= STORE_MAX_VALUE) and *expires; NULL, or why not with
 * the offending text in bad[badlen] */
const char *ctl_load_line(const char *line, char *key, unsigned char *val, size_t *vlen,
                          int64_t *expires, char *bad, size_t badlen);

/* ctl_dump - every live record, JSON lines on stdout */
int ctl_dump(struct store *st);
/* ctl_load - file (or "-" for stdin), all or nothing */
int ctl_load(struct store *st, const char *file);
/* ctl_del - remove the record with exactly this key */
int ctl_del(struct store *st, const char *key);

#endif
