/*
 * NAME
 *   util - small helpers: bounded number parsing, strings, hashing, time
 * DESCRIPTION
 *   Numbers from users and peers go through util_parse_u64() with explicit
 *   bounds, never atoi().  All functions are pure and thread-safe.
 */
#ifndef GREYREP_UTIL_H
#define GREYREP_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* util_parse_u64 - decimal in [min, max], no sign, no trailing garbage */
int util_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* util_parse_duration - "300", "5m", "2d", "500ms" into milliseconds */
int util_parse_duration_ms(const char *s, uint64_t *out_ms);
/* util_strlcpy - copy with truncation; returns strlen(src) */
size_t util_strlcpy(char *dst, const char *src, size_t size);
/* util_trim - strip leading and trailing white space in place */
char *util_trim(char *s);
/* util_lower - ASCII lowercase in place */
void util_lower(char *s);
/* util_dns_name_ok - letters, digits, '-', '_' in dot-separated labels of
 * 1..63 bytes, 1..253 bytes in all (no final dot) */
int util_dns_name_ok(const char *s, size_t len);
/* util_hash64 - FNV-1a over the whole key */
uint64_t util_hash64(const void *data, size_t len);
/* util_iso_time - "2026-11-28T05:00:00Z", or "-" for 0 */
const char *util_iso_time(time_t t, char *buf, size_t len);
/* util_rfc5322_time - "Sat, 28 Nov 2026 05:00:00 +0000" (local zone) */
const char *util_rfc5322_time(time_t t, char *buf, size_t len);
/* util_hostname - the host's name, fully qualified when the system says so */
const char *util_hostname(char *buf, size_t len);
/* util_now - wall-clock seconds */
time_t util_now(void);

#endif
