/*
 * util.c - small helpers; see util.h
 */
#include "autoconf.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

int util_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (s == NULL || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int util_parse_duration_ms(const char *s, uint64_t *out_ms)
{
    char num[32];
    size_t n = 0;
    uint64_t v, mult;

    while (s[n] && isdigit((unsigned char)s[n]))
        n++;
    if (n == 0 || n >= sizeof num)
        return -1;
    memcpy(num, s, n);
    num[n] = '\0';
    if (util_parse_u64(num, 0, UINT32_MAX, &v) < 0)
        return -1;
    if (strcmp(s + n, "") == 0 || strcmp(s + n, "s") == 0)
        mult = 1000;
    else if (strcmp(s + n, "ms") == 0)
        mult = 1;
    else if (strcmp(s + n, "m") == 0)
        mult = 60 * 1000;
    else if (strcmp(s + n, "h") == 0)
        mult = 3600 * 1000;
    else if (strcmp(s + n, "d") == 0)
        mult = 86400ULL * 1000;
    else
        return -1;
    *out_ms = v * mult;
    return 0;
}

size_t util_strlcpy(char *dst, const char *src, size_t size)
{
    size_t len = strlen(src);
    if (size > 0) {
        size_t n = len < size - 1 ? len : size - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
    }
    return len;
}

char *util_trim(char *s)
{
    char *e;
    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

void util_lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

int util_dns_name_ok(const char *s, size_t len)
{
    size_t label = 0;

    if (len == 0 || len > 253)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (label == 0)
                return 0;
            label = 0;
        } else if (isalnum(c) || c == '-' || c == '_') {
            if (++label > 63)
                return 0;
        } else {
            return 0;
        }
    }
    return label > 0;
}

uint64_t util_hash64(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL;
    while (len--) {
        h ^= *p++;
        h *= 0x100000001b3ULL;
    }
    return h;
}

const char *util_iso_time(time_t t, char *buf, size_t len)
{
    struct tm tm;
    if (t == 0 || gmtime_r(&t, &tm) == NULL) {
        util_strlcpy(buf, "-", len);
        return buf;
    }
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

const char *util_rfc5322_time(time_t t, char *buf, size_t len)
{
    static const char *days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    long off;

    /* Built by hand: strftime's %a/%b follow the locale, RFC 5322 does not. */
    localtime_r(&t, &tm);
    off = tm.tm_gmtoff / 60;
    snprintf(buf, len, "%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld",
             days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
             off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
    return buf;
}

const char *util_hostname(char *buf, size_t len)
{
    if (gethostname(buf, len) != 0 || buf[0] == '\0')
        util_strlcpy(buf, "localhost", len);
    buf[len - 1] = '\0';
    return buf;
}

time_t util_now(void)
{
    return time(NULL);
}
