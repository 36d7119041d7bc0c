/*
 * NAME
 *   ctl_owner - greyrepctl opens the store as the user greyrep runs as
 * DESCRIPTION
 *   Run as root, greyrepctl would create an LMDB store (data.mdb,
 *   lock.mdb) owned by root, which greyrep, running as [milter] user, then
 *   cannot open.  ctl_store_open() therefore, when root and the backend is
 *   LMDB and [milter] user is set: creates the store directory if missing
 *   and gives it to that user, takes on that user's uid, gid and groups
 *   (effective ids only) for store_open(), and takes root back afterwards,
 *   so that later steps of the command (reading or writing files the admin
 *   names) are not limited.  A store the user may not open is refused
 *   with a message that says how to fix it.  Not root, an empty user, or
 *   Redis: plain store_open().
 */
#ifndef GREYREP_CTL_OWNER_H
#define GREYREP_CTL_OWNER_H

#include <stddef.h>

#include "config.h"
#include "store.h"

/* ctl_store_open - store_open() as [milter] user when root; NULL and err on failure */
struct store *ctl_store_open(const struct cfg *cfg, char *err, size_t errlen);

#endif
