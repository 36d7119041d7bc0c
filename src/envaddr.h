/*
 * NAME
 *   envaddr - parse an SMTP envelope path (the MAIL FROM / RCPT TO argument)
 * DESCRIPTION
 *   env_parse() splits "<local@domain>" into its parts.  It never fails:
 *   input that is not a valid path (unbalanced brackets, control bytes,
 *   a missing domain) is still split as well as it can be and flagged
 *   ENV_MALFORMED with a short reason, so the caller can log it and still
 *   key on it.  Parts longer than the RFC 5321 limits are cut and flagged
 *   ENV_OVERSIZED; env->hash then identifies the whole original text, so a
 *   retry of the same oversized address still finds its record.
 * THREADS
 *   Pure.
 */
#ifndef GREYREP_ENVADDR_H
#define GREYREP_ENVADDR_H

#include <stdint.h>

#define ENV_LOCAL_MAX 256   /* RFC 5321: 64; we keep more before cutting */
#define ENV_DOMAIN_MAX 256  /* RFC 5321: 255 */

#define ENV_NULL 0x01       /* the null path <> */
#define ENV_MALFORMED 0x02
#define ENV_OVERSIZED 0x04
#define ENV_QUOTED 0x08     /* the local part was a quoted string */

struct env_addr {
    unsigned flags;
    char local[ENV_LOCAL_MAX + 1];   /* unquoted, as received */
    char domain[ENV_DOMAIN_MAX + 1]; /* lowercased; may be an [address literal] */
    uint64_t hash;                   /* of the whole argument, for ENV_OVERSIZED */
    const char *why;                 /* static text for ENV_MALFORMED */
};

/* env_parse - split one path argument (NULL is treated as malformed "") */
void env_parse(const char *arg, struct env_addr *out);

#endif
