/*
 * NAME
 *   negotiate - the milter protocol steps greyrep asks the MTA for
 * SYNOPSIS
 *   #include "negotiate.h"
 *   steps = neg_steps(cfg, offered);
 * DESCRIPTION
 *   A pure function of the configuration and of what the MTA offers
 *   (libmilter's f1 in xxfi_negotiate, which already holds the no-reply
 *   flags libmilter can fake for an MTA that lacks them).  The rules:
 *   - connect, HELO, MAIL: always sent, never answered (SMFIP_NR_CONN,
 *     SMFIP_NR_HELO, SMFIP_NR_MAIL): greyrep only takes notes there and
 *     decides at RCPT; a failure at those steps (out of memory) is
 *     answered at RCPT with on_error;
 *   - RCPT and end of message: sent and answered (the verdict; the added
 *     and removed header fields);
 *   - headers: only when greyrep writes an Authentication-Results field
 *     (iprev, SPF or DKIM on), because it must then remove forged fields
 *     claiming its authserv-id, and DKIM reads them; never answered
 *     (SMFIP_NR_HDR).  With all three off greyrep neither adds nor removes
 *     Authentication-Results, and asks for no header (SMFIP_NOHDRS);
 *   - end of headers and body: only for DKIM, never answered
 *     (SMFIP_NR_EOH, SMFIP_NR_BODY), else SMFIP_NOEOH and SMFIP_NOBODY;
 *   - DATA and unknown commands: never (SMFIP_NODATA, SMFIP_NOUNKNOWN);
 *     greyrep has no callback for them.
 *   Every flag is asked only when offered, so an older MTA still works:
 *   it then sends a step greyrep ignores.
 *
 *   A connection keeps the steps and the configuration it negotiated
 *   with; a reload (SIGUSR1) applies to new connections only.
 */
#ifndef GREYREP_NEGOTIATE_H
#define GREYREP_NEGOTIATE_H

#include <stddef.h>

struct cfg;

/* The bits of libmilter's SMFIP_* protocol flags (mfdef.h), repeated here
 * so that this module and its test need no libmilter header; milter.c
 * checks at compile time that they agree. */
#define NEG_NOHELO 0x00000002UL
#define NEG_NOBODY 0x00000010UL
#define NEG_NOHDRS 0x00000020UL
#define NEG_NOEOH 0x00000040UL
#define NEG_NR_HDR 0x00000080UL
#define NEG_NOUNKNOWN 0x00000100UL
#define NEG_NODATA 0x00000200UL
#define NEG_NR_CONN 0x00001000UL
#define NEG_NR_HELO 0x00002000UL
#define NEG_NR_MAIL 0x00004000UL
#define NEG_NR_RCPT 0x00008000UL
#define NEG_NR_DATA 0x00010000UL
#define NEG_NR_UNKN 0x00020000UL
#define NEG_NR_EOH 0x00040000UL
#define NEG_NR_BODY 0x00080000UL

/* neg_steps - the protocol flags to ask for: what cfg needs, of offered */
unsigned long neg_steps(const struct cfg *cfg, unsigned long offered);
/* neg_format - the flags' names, space-separated ("NOHDRS NR_CONN ..."),
 * then the value in hex; returns buf */
char *neg_format(unsigned long flags, char *buf, size_t len);

#endif
