/*
 * netaddr.c - IP addresses and CIDR networks; see netaddr.h
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "netaddr.h"
#include "util.h"

static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* net_unmap - turn ::ffff:a.b.c.d into a.b.c.d */
static void net_unmap(struct net_addr *a)
{
    if (a->family == AF_INET6 && memcmp(a->a, v4mapped, 12) == 0) {
        memmove(a->a, a->a + 12, 4);
        memset(a->a + 4, 0, 12);
        a->family = AF_INET;
    }
}

int net_parse(const char *s, struct net_addr *out)
{
    char buf[NET_STRLEN];
    size_t len;

    if (s == NULL)
        return -1;
    len = strlen(s);
    if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
        s++;
        len -= 2;
    }
    if (len >= 5 && strncasecmp(s, "IPv6:", 5) == 0) {
        s += 5;
        len -= 5;
    }
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, buf, out->a) == 1) {
        out->family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, buf, out->a) == 1) {
        out->family = AF_INET6;
        net_unmap(out);
        return 0;
    }
    return -1;
}

int net_from_sockaddr(const struct sockaddr *sa, struct net_addr *out)
{
    memset(out, 0, sizeof *out);
    if (sa == NULL)
        return -1;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        out->family = AF_INET;
        memcpy(out->a, &in->sin_addr, 4);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        out->family = AF_INET6;
        memcpy(out->a, &in6->sin6_addr, 16);
        net_unmap(out);
        return 0;
    }
    return -1;
}

unsigned net_max_prefix(const struct net_addr *a)
{
    return a->family == AF_INET ? 32 : 128;
}

void net_mask(struct net_addr *a, unsigned prefix)
{
    unsigned max = net_max_prefix(a);
    if (prefix > max)
        prefix = max;
    for (unsigned i = 0; i < max / 8; i++) {
        unsigned bit = i * 8;
        if (bit >= prefix)
            a->a[i] = 0;
        else if (prefix - bit < 8)
            a->a[i] &= (unsigned char)(0xff << (8 - (prefix - bit)));
    }
}

int net_parse_cidr(const char *s, struct net_cidr *out)
{
    char buf[NET_STRLEN];
    const char *slash = strchr(s, '/');
    uint64_t prefix;

    if (slash == NULL) {
        if (net_parse(s, &out->addr) < 0)
            return -1;
        out->prefix = net_max_prefix(&out->addr);
        return 0;
    }
    if ((size_t)(slash - s) >= sizeof buf)
        return -1;
    memcpy(buf, s, (size_t)(slash - s));
    buf[slash - s] = '\0';
    if (net_parse(buf, &out->addr) < 0)
        return -1;
    /* A mapped address parsed as IPv4 takes an IPv4 prefix. */
    if (util_parse_u64(slash + 1, 0, net_max_prefix(&out->addr), &prefix) < 0)
        return -1;
    out->prefix = (unsigned)prefix;
    net_mask(&out->addr, out->prefix);
    return 0;
}

int net_cidr_match(const struct net_cidr *c, const struct net_addr *a)
{
    struct net_addr m;
    if (c->addr.family != a->family)
        return 0;
    m = *a;
    net_mask(&m, c->prefix);
    return memcmp(m.a, c->addr.a, 16) == 0;
}

int net_equal(const struct net_addr *x, const struct net_addr *y)
{
    return x->family == y->family && memcmp(x->a, y->a, 16) == 0;
}

const char *net_format(const struct net_addr *a, char *buf, size_t len)
{
    if (inet_ntop(a->family, a->a, buf, (socklen_t)len) == NULL)
        util_strlcpy(buf, "?", len);
    return buf;
}

const char *net_format_cidr(const struct net_cidr *c, char *buf, size_t len)
{
    char tmp[NET_STRLEN];
    snprintf(buf, len, "%s/%u", net_format(&c->addr, tmp, sizeof tmp), c->prefix);
    return buf;
}
