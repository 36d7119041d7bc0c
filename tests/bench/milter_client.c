/*
 * NAME
 *   milter_client - the MTA side of the milter protocol (version 6), for tests
 * SYNOPSIS
 *   See milter_client.h.
 * DESCRIPTION
 *   A packet is a 4-byte length in network order (counting the command
 *   byte), one command byte, then the data.  Packets we send are built in
 *   conn->out and written with mc_flush(); packets we receive are framed in
 *   conn->in by mc_recv_packet(), which refuses a length of zero or above
 *   the negotiated maximum before reading the data.  The blocking calls are
 *   the non-blocking pieces plus poll() with a deadline.
 * DIAGNOSTICS
 *   Negative MC_E* results with a one-line text in conn->err.
 */
#ifdef HAVE_CONFIG_H
#include "autoconf.h"
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "milter_client.h"

#define MC_LEN_MAX 0xfffffffeU	/* largest data length a packet can announce */
#define MC_IN_MIN 4096		/* smallest receive buffer */
#define MC_SHRINK 65536		/* free buffers above this size when idle */

/* mc_fail - record an error text and return the result code */
static int mc_fail(struct mc_conn *c, int result, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int mc_fail(struct mc_conn *c, int result, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->err, sizeof(c->err), fmt, ap);
    va_end(ap);
    return result;
}

/* mc_now_ms - monotonic clock in milliseconds */
static long long mc_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* mc_get32 - read a 32-bit network-order integer */
static uint32_t mc_get32(const unsigned char *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
	| ((uint32_t) p[2] << 8) | (uint32_t) p[3];
}

/* mc_put32 - write a 32-bit network-order integer */
static void mc_put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char) (v >> 24);
    p[1] = (unsigned char) (v >> 16);
    p[2] = (unsigned char) (v >> 8);
    p[3] = (unsigned char) v;
}

/* mc_init - prepare an unconnected conn with default offers */
void    mc_init(struct mc_conn *c, int timeout_ms)
{
    memset(c, 0, sizeof(*c));
    c->fd = -1;
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
    c->offer_version = SMFI_PROT_VERSION;
    c->offer_actions = SMFI_CURR_ACTS;
    c->offer_protocol = SMFI_CURR_PROT;
    c->max_data = MILTER_MAX_DATA_SIZE;
}

/* mc_close - close the socket, free buffers; conn may be reused after mc_init */
void    mc_close(struct mc_conn *c)
{
    int     i;

    if (c->fd >= 0)
	close(c->fd);
    c->fd = -1;
    free(c->out);
    free(c->in);
    c->out = c->in = 0;
    c->out_len = c->out_off = c->out_cap = 0;
    c->in_start = c->in_end = c->in_cap = 0;
    for (i = 0; i < MC_NSTAGES; i++) {
	free(c->symlist[i]);
	c->symlist[i] = 0;
    }
    c->negotiated = 0;
    c->body_skipped = 0;
}

/* mc_parse_port - parse a TCP port 1..65535, nothing else */
static int mc_parse_port(const char *s, size_t len, unsigned *port)
{
    unsigned long v = 0;
    size_t  i;

    if (len == 0 || len > 5)
	return -1;
    for (i = 0; i < len; i++) {
	if (s[i] < '0' || s[i] > '9')
	    return -1;
	v = v * 10 + (unsigned long) (s[i] - '0');
    }
    if (v < 1 || v > 65535)
	return -1;
    *port = (unsigned) v;
    return 0;
}

/* mc_addr_parse - resolve unix:/path, inet:PORT@HOST, inet6:PORT@HOST */
int     mc_addr_parse(const char *spec, struct mc_addr *a, char *err,
		              size_t errlen)
{
    const char *rest;
    const char *at;
    char    host[256];
    char    portstr[8];
    unsigned port;
    int     family;
    struct addrinfo hints;
    struct addrinfo *res;
    int     rc;

    memset(a, 0, sizeof(*a));
    if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0
	|| spec[0] == '/') {
	struct sockaddr_un *sun = (struct sockaddr_un *) &a->ss;

	rest = spec[0] == '/' ? spec : strchr(spec, ':') + 1;
	if (*rest == 0 || strlen(rest) >= sizeof(sun->sun_path)) {
	    snprintf(err, errlen, "bad unix socket path in \"%s\"", spec);
	    return MC_EUSAGE;
	}
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, rest, strlen(rest) + 1);
	a->len = (socklen_t) sizeof(*sun);
	return MC_OK;
    }
    if (strncmp(spec, "inet:", 5) == 0) {
	family = AF_INET;
	rest = spec + 5;
    } else if (strncmp(spec, "inet6:", 6) == 0) {
	family = AF_INET6;
	rest = spec + 6;
    } else {
	snprintf(err, errlen, "\"%s\": expected unix:/path, inet:PORT@HOST "
		 "or inet6:PORT@HOST", spec);
	return MC_EUSAGE;
    }
    at = strchr(rest, '@');
    if (at == 0) {
	at = rest + strlen(rest);
	snprintf(host, sizeof(host), "%s", family == AF_INET ? "127.0.0.1" : "::1");
    } else if (strlen(at + 1) == 0 || strlen(at + 1) >= sizeof(host)) {
	snprintf(err, errlen, "bad host in \"%s\"", spec);
	return MC_EUSAGE;
    } else {
	snprintf(host, sizeof(host), "%s", at + 1);
    }
    if (mc_parse_port(rest, (size_t) (at - rest), &port) != 0) {
	snprintf(err, errlen, "bad port in \"%s\" (1..65535)", spec);
	return MC_EUSAGE;
    }
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
	memmove(host, host + 1, strlen(host));
	host[strlen(host) - 1] = 0;
    }
    snprintf(portstr, sizeof(portstr), "%u", port);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    if ((rc = getaddrinfo(host, portstr, &hints, &res)) != 0) {
	snprintf(err, errlen, "\"%s\": %s", host, gai_strerror(rc));
	return MC_EUSAGE;
    }
    if (res->ai_addrlen > sizeof(a->ss)) {
	freeaddrinfo(res);
	snprintf(err, errlen, "\"%s\": address too long", host);
	return MC_EUSAGE;
    }
    memcpy(&a->ss, res->ai_addr, res->ai_addrlen);
    a->len = res->ai_addrlen;
    freeaddrinfo(res);
    return MC_OK;
}

/* mc_connect_start - begin a non-blocking connect; MC_AGAIN: wait POLLOUT */
int     mc_connect_start(struct mc_conn *c, const struct mc_addr *a)
{
    int     family = a->ss.ss_family;
    int     one = 1;

    if (c->fd >= 0)
	return mc_fail(c, MC_EUSAGE, "already connected");
    c->fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
	return mc_fail(c, MC_EIO, "socket: %s", strerror(errno));
    if (family != AF_UNIX)
	(void) setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, (const struct sockaddr *) &a->ss, a->len) == 0)
	return MC_OK;
    if (errno == EINPROGRESS)
	return MC_AGAIN;
    /* A unix socket with a full backlog: the caller must close and retry. */
    if (errno == EAGAIN) {
	close(c->fd);
	c->fd = -1;
	return mc_fail(c, MC_EBUSY, "connect: %s", strerror(EAGAIN));
    }
    mc_fail(c, MC_EIO, "connect: %s", strerror(errno));
    close(c->fd);
    c->fd = -1;
    return MC_EIO;
}

/* mc_connect_finish - result of a connect that returned MC_AGAIN */
int     mc_connect_finish(struct mc_conn *c)
{
    int     soerr = 0;
    socklen_t len = sizeof(soerr);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
	soerr = errno;
    if (soerr != 0) {
	close(c->fd);
	c->fd = -1;
	return mc_fail(c, MC_EIO, "connect: %s", strerror(soerr));
    }
    return MC_OK;
}

/* mc_wait - poll the socket for events until the deadline */
static int mc_wait(struct mc_conn *c, short events, long long deadline,
		           const char *what)
{
    struct pollfd pfd;
    long long left;
    int     n;

    for (;;) {
	left = deadline - mc_now_ms();
	if (left <= 0)
	    return mc_fail(c, MC_ETIMEOUT, "timeout after %d ms %s",
			   c->timeout_ms, what);
	pfd.fd = c->fd;
	pfd.events = events;
	pfd.revents = 0;
	n = poll(&pfd, 1, left > 1000000 ? 1000000 : (int) left);
	if (n > 0)
	    return MC_OK;
	if (n < 0 && errno != EINTR)
	    return mc_fail(c, MC_EIO, "poll: %s", strerror(errno));
    }
}

/* mc_connect_addr - blocking connect to a resolved address */
int     mc_connect_addr(struct mc_conn *c, const struct mc_addr *a)
{
    long long deadline = mc_now_ms() + c->timeout_ms;
    int     rc;

    for (;;) {
	rc = mc_connect_start(c, a);
	if (rc != MC_EBUSY)
	    break;
	if (mc_now_ms() >= deadline)
	    return mc_fail(c, MC_ETIMEOUT, "timeout connecting: backlog full");
	usleep(10000);
    }
    if (rc == MC_AGAIN) {
	if ((rc = mc_wait(c, POLLOUT, deadline, "connecting")) != MC_OK) {
	    close(c->fd);
	    c->fd = -1;
	    return rc;
	}
	rc = mc_connect_finish(c);
    }
    return rc;
}

/* mc_connect - blocking connect to a socket given as text */
int     mc_connect(struct mc_conn *c, const char *spec)
{
    struct mc_addr a;
    int     rc;

    if ((rc = mc_addr_parse(spec, &a, c->err, sizeof(c->err))) != MC_OK)
	return rc;
    return mc_connect_addr(c, &a);
}

/* mc_out_reserve - make room for len more bytes in the output buffer */
static int mc_out_reserve(struct mc_conn *c, size_t len)
{
    size_t  need;
    size_t  cap;
    unsigned char *p;

    if (c->out_off > 0 && c->out_off == c->out_len)
	c->out_off = c->out_len = 0;
    if (len > SIZE_MAX / 2 - c->out_len)
	return mc_fail(c, MC_EUSAGE, "packet too large");
    need = c->out_len + len;
    if (need <= c->out_cap)
	return MC_OK;
    cap = c->out_cap ? c->out_cap : 512;
    while (cap < need)
	cap *= 2;
    if ((p = realloc(c->out, cap)) == 0)
	return mc_fail(c, MC_EIO, "out of memory (%zu bytes)", cap);
    c->out = p;
    c->out_cap = cap;
    return MC_OK;
}

/* One piece of a packet: bytes, followed by a NUL if nul is set. */
struct mc_part {
    const void *ptr;
    size_t  len;
    int     nul;
};

/* mc_queue_parts - queue one packet made of pieces */
static int mc_queue_parts(struct mc_conn *c, int cmd,
			          const struct mc_part *parts, size_t nparts)
{
    size_t  total = 0;
    size_t  i;
    unsigned char *p;
    int     rc;

    for (i = 0; i < nparts; i++) {
	if (parts[i].len > MC_LEN_MAX - total - 2)
	    return mc_fail(c, MC_EUSAGE, "packet longer than 4 GB");
	total += parts[i].len + (parts[i].nul ? 1 : 0);
    }
    if ((rc = mc_out_reserve(c, total + 5)) != MC_OK)
	return rc;
    p = c->out + c->out_len;
    mc_put32(p, (uint32_t) (total + 1));
    p[4] = (unsigned char) cmd;
    p += 5;
    for (i = 0; i < nparts; i++) {
	if (parts[i].len)
	    memcpy(p, parts[i].ptr, parts[i].len);
	p += parts[i].len;
	if (parts[i].nul)
	    *p++ = 0;
    }
    c->out_len += total + 5;
    return MC_OK;
}

/* mc_queue_raw - queue one packet with the given command byte and data */
int     mc_queue_raw(struct mc_conn *c, int cmd, const void *data, size_t len)
{
    struct mc_part part;

    part.ptr = data;
    part.len = len;
    part.nul = 0;
    return mc_queue_parts(c, cmd, &part, 1);
}

/* mc_queue_strs - queue a packet: optional prefix, then NUL-terminated strings */
static int mc_queue_strs(struct mc_conn *c, int cmd, const void *prefix,
			         size_t prefix_len, const struct mc_str *strs,
			         size_t nstrs)
{
    struct mc_part *parts;
    size_t  n = 0;
    size_t  i;
    int     rc;

    if ((parts = calloc(nstrs + 1, sizeof(*parts))) == 0)
	return mc_fail(c, MC_EIO, "out of memory");
    if (prefix_len) {
	parts[n].ptr = prefix;
	parts[n++].len = prefix_len;
    }
    for (i = 0; i < nstrs; i++, n++) {
	parts[n].ptr = strs[i].ptr;
	parts[n].len = strs[i].len;
	parts[n].nul = 1;
    }
    rc = mc_queue_parts(c, cmd, parts, n);
    free(parts);
    return rc;
}

/* mc_queue_strings - queue a packet of NUL-terminated strings (HELO, MAIL, ...) */
int     mc_queue_strings(struct mc_conn *c, int cmd,
			         const struct mc_str *strs, size_t nstrs)
{
    return mc_queue_strs(c, cmd, "", 0, strs, nstrs);
}

/* mc_queue_optneg - queue SMFIC_OPTNEG with our version, actions, protocol */
int     mc_queue_optneg(struct mc_conn *c)
{
    unsigned char buf[MILTER_OPTLEN];

    mc_put32(buf, c->offer_version);
    mc_put32(buf + 4, c->offer_actions);
    mc_put32(buf + 8, c->offer_protocol);
    return mc_queue_raw(c, SMFIC_OPTNEG, buf, sizeof(buf));
}

/* mc_queue_macros - queue SMFIC_MACRO for a stage: name, value, name, value... */
int     mc_queue_macros(struct mc_conn *c, int stage_cmd,
			        const struct mc_str *pairs, size_t npairs)
{
    char    stage = (char) stage_cmd;

    if (npairs % 2 != 0)
	return mc_fail(c, MC_EUSAGE, "macros come in name/value pairs");
    return mc_queue_strs(c, SMFIC_MACRO, &stage, 1, pairs, npairs);
}

/* mc_queue_connect - queue SMFIC_CONNECT: host, family, port, address */
int     mc_queue_connect(struct mc_conn *c, const char *host, size_t host_len,
			         int family, unsigned port,
			         const char *addr, size_t addr_len)
{
    struct mc_part parts[4];
    unsigned char fam = (unsigned char) family;
    unsigned char portbuf[2];
    size_t  n = 0;

    if (port > 65535)
	return mc_fail(c, MC_EUSAGE, "port %u out of range", port);
    portbuf[0] = (unsigned char) (port >> 8);
    portbuf[1] = (unsigned char) port;
    memset(parts, 0, sizeof(parts));
    parts[n].ptr = host;
    parts[n].len = host_len;
    parts[n++].nul = 1;
    parts[n].ptr = &fam;
    parts[n++].len = 1;
    /* Only the unknown family has neither port nor address (libmilter). */
    if (family != SMFIA_UNKNOWN) {
	parts[n].ptr = portbuf;
	parts[n++].len = 2;
	parts[n].ptr = addr;
	parts[n].len = addr_len;
	parts[n++].nul = 1;
    }
    return mc_queue_parts(c, SMFIC_CONNECT, parts, n);
}

/* mc_flush - write queued bytes without blocking; MC_AGAIN if some remain */
int     mc_flush(struct mc_conn *c)
{
    ssize_t n;

    while (c->out_off < c->out_len) {
	n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
		 MSG_NOSIGNAL);
	if (n > 0) {
	    c->out_off += (size_t) n;
	    continue;
	}
	if (n < 0 && errno == EINTR)
	    continue;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
	    return MC_AGAIN;
	if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
	    return mc_fail(c, MC_EEOF, "connection closed by milter (%s)",
			   strerror(errno));
	return mc_fail(c, MC_EIO, "write: %s", n < 0 ? strerror(errno) : "0 bytes");
    }
    c->out_off = c->out_len = 0;
    if (c->out_cap > MC_SHRINK) {
	free(c->out);
	c->out = 0;
	c->out_cap = 0;
    }
    return MC_OK;
}

/* mc_in_reserve - make room to hold need bytes from in_start */
static int mc_in_reserve(struct mc_conn *c, size_t need)
{
    size_t  cap;
    unsigned char *p;

    if (c->in_start > 0 && (c->in_start == c->in_end
			    || c->in_cap - c->in_start < need)) {
	memmove(c->in, c->in + c->in_start, c->in_end - c->in_start);
	c->in_end -= c->in_start;
	c->in_start = 0;
    }
    if (need < MC_IN_MIN)
	need = MC_IN_MIN;
    if (c->in_start + need <= c->in_cap)
	return MC_OK;
    cap = c->in_cap ? c->in_cap : MC_IN_MIN;
    while (cap < c->in_start + need)
	cap *= 2;
    if ((p = realloc(c->in, cap)) == 0)
	return mc_fail(c, MC_EIO, "out of memory (%zu bytes)", cap);
    c->in = p;
    c->in_cap = cap;
    return MC_OK;
}

/* mc_recv_packet - next complete packet, without blocking; MC_AGAIN if none */
int     mc_recv_packet(struct mc_conn *c, int *cmd,
		               const unsigned char **data, size_t *len)
{
    size_t  avail;
    size_t  need;
    uint32_t plen;
    ssize_t n;
    int     rc;

    for (;;) {
	avail = c->in_end - c->in_start;
	need = 4;
	if (avail >= 4) {
	    plen = mc_get32(c->in + c->in_start);
	    if (plen == 0)
		return mc_fail(c, MC_EPROTO, "milter sent a packet of length 0");
	    if (plen - 1 > c->max_data)
		return mc_fail(c, MC_EPROTO, "milter sent a packet of %lu bytes "
			       "(limit %zu)", (unsigned long) plen - 1, c->max_data);
	    if (avail >= 4 + (size_t) plen) {
		*cmd = c->in[c->in_start + 4];
		*data = c->in + c->in_start + 5;
		*len = plen - 1;
		c->in_start += 4 + (size_t) plen;
		return MC_OK;
	    }
	    need = 4 + (size_t) plen;
	}
	if ((rc = mc_in_reserve(c, need)) != MC_OK)
	    return rc;
	n = recv(c->fd, c->in + c->in_end, c->in_cap - c->in_end, 0);
	if (n > 0) {
	    c->in_end += (size_t) n;
	    continue;
	}
	if (n == 0)
	    return mc_fail(c, MC_EEOF, avail ? "connection closed by milter "
			   "inside a packet" : "connection closed by milter");
	if (errno == EINTR)
	    continue;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
	    return MC_AGAIN;
	if (errno == ECONNRESET)
	    return mc_fail(c, MC_EEOF, "connection reset by milter");
	return mc_fail(c, MC_EIO, "read: %s", strerror(errno));
    }
}

/* mc_take_str - take one NUL-terminated string from a packet */
static int mc_take_str(const unsigned char **p, size_t *left,
		               const char **s, size_t *slen)
{
    const unsigned char *nul = memchr(*p, 0, *left);

    if (nul == 0)
	return -1;
    *s = (const char *) *p;
    *slen = (size_t) (nul - *p);
    *left -= *slen + 1;
    *p = nul + 1;
    return 0;
}

/* mc_decode_optneg - check the milter's SMFIC_OPTNEG answer and keep it */
int     mc_decode_optneg(struct mc_conn *c, int cmd,
			         const unsigned char *data, size_t len)
{
    const unsigned char *p = data;
    size_t  left = len;
    const char *s;
    size_t  slen;
    uint32_t idx;

    if (cmd != SMFIC_OPTNEG)
	return mc_fail(c, MC_EPROTO, "negotiation: milter answered '%c' (0x%02x)",
		       cmd >= 0x20 && cmd < 0x7f ? cmd : '?', cmd);
    if (len < MILTER_OPTLEN)
	return mc_fail(c, MC_EPROTO, "negotiation: answer of %zu bytes", len);
    c->version = mc_get32(p);
    c->actions = mc_get32(p + 4);
    c->protocol = mc_get32(p + 8);
    p += MILTER_OPTLEN;
    left -= MILTER_OPTLEN;
    if (c->version < 2 || c->version > c->offer_version)
	return mc_fail(c, MC_EPROTO, "negotiation: milter protocol version %lu "
		       "(we speak 2..%lu)", (unsigned long) c->version,
		       (unsigned long) c->offer_version);
    if ((c->actions & ~c->offer_actions) != 0)
	return mc_fail(c, MC_EPROTO, "negotiation: milter wants actions 0x%lx "
		       "beyond those offered 0x%lx", (unsigned long) c->actions,
		       (unsigned long) c->offer_actions);
    if ((c->protocol & ~c->offer_protocol) != 0)
	return mc_fail(c, MC_EPROTO, "negotiation: milter wants protocol flags "
		       "0x%lx beyond those offered 0x%lx",
		       (unsigned long) c->protocol,
		       (unsigned long) c->offer_protocol);
    while (left > 0) {
	if (left < 4)
	    return mc_fail(c, MC_EPROTO, "negotiation: %zu stray bytes", left);
	idx = mc_get32(p);
	p += 4;
	left -= 4;
	if (idx >= MC_NSTAGES)
	    return mc_fail(c, MC_EPROTO, "negotiation: macro list for stage %lu",
			   (unsigned long) idx);
	if ((c->actions & SMFIF_SETSYMLIST) == 0)
	    return mc_fail(c, MC_EPROTO, "negotiation: macro list without "
			   "SMFIF_SETSYMLIST");
	if (mc_take_str(&p, &left, &s, &slen) != 0)
	    return mc_fail(c, MC_EPROTO, "negotiation: unterminated macro list");
	free(c->symlist[idx]);
	if ((c->symlist[idx] = strndup(s, slen)) == 0)
	    return mc_fail(c, MC_EIO, "out of memory");
    }
    if (c->protocol & SMFIP_MDS_1M)
	c->max_data = 1024 * 1024 - 1;
    else if (c->protocol & SMFIP_MDS_256K)
	c->max_data = 256 * 1024 - 1;
    else
	c->max_data = MILTER_MAX_DATA_SIZE;
    c->negotiated = 1;
    return MC_OK;
}

/*
 * What negotiation does to each command: the SMFIP_NO* flag that stops it
 * from being sent, the SMFIP_NR_* flag that stops its reply, and the
 * protocol version that introduced it.
 */
static const struct mc_step_info {
    int     cmd;
    uint32_t no_send;
    uint32_t no_reply;
    uint32_t min_version;
}       mc_steps[] = {
    {SMFIC_CONNECT, SMFIP_NOCONNECT, SMFIP_NR_CONN, 2},
    {SMFIC_HELO, SMFIP_NOHELO, SMFIP_NR_HELO, 2},
    {SMFIC_MAIL, SMFIP_NOMAIL, SMFIP_NR_MAIL, 2},
    {SMFIC_RCPT, SMFIP_NORCPT, SMFIP_NR_RCPT, 2},
    {SMFIC_DATA, SMFIP_NODATA, SMFIP_NR_DATA, 4},
    {SMFIC_HEADER, SMFIP_NOHDRS, SMFIP_NR_HDR, 2},
    {SMFIC_EOH, SMFIP_NOEOH, SMFIP_NR_EOH, 2},
    {SMFIC_BODY, SMFIP_NOBODY, SMFIP_NR_BODY, 2},
    {SMFIC_UNKNOWN, SMFIP_NOUNKNOWN, SMFIP_NR_UNKN, 3},
    {SMFIC_BODYEOB, 0, 0, 2},
    {SMFIC_OPTNEG, 0, 0, 2},
};

/* mc_step_find - negotiation facts about a command, null for no-reply ones */
static const struct mc_step_info *mc_step_find(int cmd)
{
    size_t  i;

    for (i = 0; i < sizeof(mc_steps) / sizeof(mc_steps[0]); i++)
	if (mc_steps[i].cmd == cmd)
	    return mc_steps + i;
    return 0;
}

/* mc_step_sent - whether a command is sent, given what was negotiated */
int     mc_step_sent(const struct mc_conn *c, int cmd)
{
    const struct mc_step_info *s = mc_step_find(cmd);

    if (cmd == SMFIC_BODY && c->body_skipped)
	return 0;
    return s == 0 || ((c->protocol & s->no_send) == 0
		      && (!c->negotiated || c->version >= s->min_version));
}

/* mc_step_replied - whether the milter answers a command it was sent */
int     mc_step_replied(const struct mc_conn *c, int cmd)
{
    const struct mc_step_info *s = mc_step_find(cmd);

    return s != 0 && (c->protocol & s->no_reply) == 0;
}

/* Modifications: reply character, name, SMFIF_* action it needs. */
static const struct mc_mod_info {
    int     code;
    const char *name;
    uint32_t action;
}       mc_mod_table[] = {
    {SMFIR_ADDHEADER, "addheader", SMFIF_ADDHDRS},
    {SMFIR_INSHEADER, "insheader", SMFIF_ADDHDRS},
    {SMFIR_CHGHEADER, "chgheader", SMFIF_CHGHDRS},
    {SMFIR_ADDRCPT, "addrcpt", SMFIF_ADDRCPT},
    {SMFIR_ADDRCPT_PAR, "addrcpt_par", SMFIF_ADDRCPT_PAR},
    {SMFIR_DELRCPT, "delrcpt", SMFIF_DELRCPT},
    {SMFIR_CHGFROM, "chgfrom", SMFIF_CHGFROM},
    {SMFIR_REPLBODY, "replbody", SMFIF_CHGBODY},
    {SMFIR_QUARANTINE, "quarantine", SMFIF_QUARANTINE},
};

/* mc_mod_find - facts about a modification, null if cmd is none */
static const struct mc_mod_info *mc_mod_find(int code)
{
    size_t  i;

    for (i = 0; i < sizeof(mc_mod_table) / sizeof(mc_mod_table[0]); i++)
	if (mc_mod_table[i].code == code)
	    return mc_mod_table + i;
    return 0;
}

/* mc_mod_action - the SMFIF_* action that a modification needs, 0 if none */
static uint32_t mc_mod_action(int code)
{
    const struct mc_mod_info *m = mc_mod_find(code);

    return m ? m->action : 0;
}

/* mc_decode_mod - check one modification packet and append it to mods */
static int mc_decode_mod(struct mc_conn *c, int cmd, const unsigned char *data,
			         size_t len, struct mc_mods *mods)
{
    struct mc_mod m;
    const unsigned char *p = data;
    size_t  left = len;
    const char *s1 = 0;
    const char *s2 = 0;
    size_t  l1 = 0;
    size_t  l2 = 0;
    const char *name = mc_mod_name(cmd);

    memset(&m, 0, sizeof(m));
    m.code = cmd;
    if ((c->actions & mc_mod_action(cmd)) == 0)
	return mc_fail(c, MC_EPROTO, "milter sent %s without negotiating it",
		       name);
    if (cmd == SMFIR_REPLBODY) {
	s2 = (const char *) data;
	l2 = len;
	left = 0;
    } else {
	if (cmd == SMFIR_INSHEADER || cmd == SMFIR_CHGHEADER) {
	    if (left < 4)
		return mc_fail(c, MC_EPROTO, "%s: packet too short", name);
	    m.index = mc_get32(p);
	    p += 4;
	    left -= 4;
	}
	if (mc_take_str(&p, &left, &s1, &l1) != 0)
	    return mc_fail(c, MC_EPROTO, "%s: unterminated string", name);
	if (cmd == SMFIR_ADDHEADER || cmd == SMFIR_INSHEADER
	    || cmd == SMFIR_CHGHEADER
	    || ((cmd == SMFIR_ADDRCPT_PAR || cmd == SMFIR_CHGFROM) && left > 0))
	    if (mc_take_str(&p, &left, &s2, &l2) != 0)
		return mc_fail(c, MC_EPROTO, "%s: unterminated second string",
			       name);
	if (left != 0)
	    return mc_fail(c, MC_EPROTO, "%s: %zu bytes after the data",
			   name, left);
	if ((cmd == SMFIR_ADDHEADER || cmd == SMFIR_INSHEADER
	     || cmd == SMFIR_CHGHEADER) && l1 == 0)
	    return mc_fail(c, MC_EPROTO, "%s: empty header name", name);
    }
    if (mods == 0)
	return MC_AGAIN;
    if (s1 && (m.name = strndup(s1, l1)) == 0)
	return mc_fail(c, MC_EIO, "out of memory");
    if (s2) {
	if ((m.value = malloc(l2 + 1)) == 0) {
	    free(m.name);
	    return mc_fail(c, MC_EIO, "out of memory");
	}
	memcpy(m.value, s2, l2);
	m.value[l2] = 0;
	m.value_len = l2;
    }
    if (mods->count == mods->cap) {
	size_t  cap = mods->cap ? 2 * mods->cap : 8;
	struct mc_mod *items = realloc(mods->items, cap * sizeof(*items));

	if (items == 0) {
	    free(m.name);
	    free(m.value);
	    return mc_fail(c, MC_EIO, "out of memory");
	}
	mods->items = items;
	mods->cap = cap;
    }
    mods->items[mods->count++] = m;
    return MC_AGAIN;
}

/* mc_decode_replycode - check and keep the text of SMFIR_REPLYCODE */
static int mc_decode_replycode(struct mc_conn *c, const unsigned char *data,
			               size_t len, struct mc_reply *r)
{
    const unsigned char *p = data;
    size_t  left = len;
    const char *s;
    size_t  slen;
    size_t  keep;

    if (mc_take_str(&p, &left, &s, &slen) != 0)
	return mc_fail(c, MC_EPROTO, "reply code text not terminated");
    if (left != 0)
	return mc_fail(c, MC_EPROTO, "%zu bytes after the reply code text",
		       left);
    if (slen < 3 || (s[0] != '4' && s[0] != '5') || s[1] < '0' || s[1] > '9'
	|| s[2] < '0' || s[2] > '9' || (slen > 3 && s[3] != ' ' && s[3] != '-'))
	return mc_fail(c, MC_EPROTO, "malformed reply code \"%.40s\"", s);
    keep = slen < MC_TEXT_MAX - 1 ? slen : MC_TEXT_MAX - 1;
    memcpy(r->text, s, keep);
    r->text[keep] = 0;
    r->text_len = keep;
    r->truncated = keep < slen;
    return MC_OK;
}

/*
 * mc_decode_reply - judge one packet received while waiting for the reply
 * to step_cmd: MC_OK for a final reply, MC_AGAIN for a modification or a
 * progress note (more packets follow), MC_EPROTO for anything misplaced.
 */
int     mc_decode_reply(struct mc_conn *c, int step_cmd, int cmd,
			        const unsigned char *data, size_t len,
			        struct mc_reply *r, struct mc_mods *mods)
{
    r->code = cmd;
    r->text[0] = 0;
    r->text_len = 0;
    r->truncated = 0;
    switch (cmd) {
    case SMFIR_CONTINUE:
    case SMFIR_ACCEPT:
    case SMFIR_REJECT:
    case SMFIR_TEMPFAIL:
    case SMFIR_DISCARD:
    case SMFIR_CONN_FAIL:
    case SMFIR_SHUTDOWN:
	break;
    case SMFIR_SKIP:
	if (step_cmd != SMFIC_BODY)
	    return mc_fail(c, MC_EPROTO, "milter answered skip to '%c'",
			   step_cmd);
	if ((c->protocol & SMFIP_SKIP) == 0)
	    return mc_fail(c, MC_EPROTO, "milter answered skip without "
			   "negotiating SMFIP_SKIP");
	break;
    case SMFIR_REPLYCODE:
	return mc_decode_replycode(c, data, len, r);
    case SMFIR_PROGRESS:
	if (len != 0)
	    return mc_fail(c, MC_EPROTO, "progress with %zu bytes of data", len);
	return MC_AGAIN;
    default:
	if (mc_mod_action(cmd) != 0) {
	    if (step_cmd != SMFIC_BODYEOB)
		return mc_fail(c, MC_EPROTO, "milter sent %s before end of "
			       "message", mc_mod_name(cmd));
	    return mc_decode_mod(c, cmd, data, len, mods);
	}
	return mc_fail(c, MC_EPROTO, "milter sent unknown reply 0x%02x", cmd);
    }
    if (len != 0)
	return mc_fail(c, MC_EPROTO, "reply '%c' with %zu bytes of data",
		       cmd, len);
    return MC_OK;
}

/* mc_write_all - flush the output buffer, polling until the deadline */
static int mc_write_all(struct mc_conn *c, long long deadline)
{
    int     rc;

    while ((rc = mc_flush(c)) == MC_AGAIN)
	if ((rc = mc_wait(c, POLLOUT, deadline, "writing")) != MC_OK)
	    return rc;
    return rc;
}

/* mc_read_reply - wait for the final reply to step_cmd, collecting mods */
static int mc_read_reply(struct mc_conn *c, int step_cmd, struct mc_reply *r,
			         struct mc_mods *mods)
{
    long long deadline = mc_now_ms() + c->timeout_ms;
    const unsigned char *data;
    size_t  len;
    int     cmd;
    int     rc;

    for (;;) {
	rc = mc_recv_packet(c, &cmd, &data, &len);
	if (rc == MC_AGAIN) {
	    if ((rc = mc_wait(c, POLLIN, deadline, "waiting for reply")) != MC_OK)
		return rc;
	    continue;
	}
	if (rc != MC_OK)
	    return rc;
	rc = mc_decode_reply(c, step_cmd, cmd, data, len, r, mods);
	if (rc != MC_AGAIN)
	    return rc;
	if (cmd == SMFIR_PROGRESS)
	    deadline = mc_now_ms() + c->timeout_ms;
    }
}

/* mc_check_idle - before a command: nothing may be waiting from the milter */
static int mc_check_idle(struct mc_conn *c)
{
    char    b;
    ssize_t n;

    if (c->fd < 0)
	return mc_fail(c, MC_EUSAGE, "not connected");
    if (c->in_end > c->in_start)
	return mc_fail(c, MC_EPROTO, "milter sent %zu bytes nobody asked for",
		       c->in_end - c->in_start);
    n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0)
	return mc_fail(c, MC_EPROTO, "milter sent data nobody asked for");
    if (n == 0)
	return mc_fail(c, MC_EEOF, "connection closed by milter");
    if (errno == ECONNRESET)
	return mc_fail(c, MC_EEOF, "connection reset by milter");
    return MC_OK;
}

/* mc_step - send one queued-by-caller stage and wait for its reply if due */
static int mc_step(struct mc_conn *c, int cmd, struct mc_reply *r,
		           struct mc_mods *mods)
{
    long long deadline = mc_now_ms() + c->timeout_ms;
    struct mc_reply *scratch = 0;
    int     rc;

    if ((rc = mc_write_all(c, deadline)) != MC_OK)
	return rc;
    if (!mc_step_replied(c, cmd)) {
	if (r) {
	    r->code = MC_NOREPLY;
	    r->text[0] = 0;
	    r->text_len = 0;
	}
	return MC_OK;
    }
    if (r == 0 && (r = scratch = malloc(sizeof(*r))) == 0)
	return mc_fail(c, MC_EIO, "out of memory");
    rc = mc_read_reply(c, cmd, r, mods);
    if (rc == MC_OK && cmd == SMFIC_BODY && r->code == SMFIR_SKIP)
	c->body_skipped = 1;
    free(scratch);
    return rc;
}

/* mc_begin - common checks before a blocking stage; 1 if it is to be sent */
static int mc_begin(struct mc_conn *c, int cmd, struct mc_reply *r, int *rc)
{
    if (!c->negotiated && cmd != SMFIC_OPTNEG) {
	*rc = mc_fail(c, MC_EUSAGE, "not negotiated");
	return 0;
    }
    if ((*rc = mc_check_idle(c)) != MC_OK)
	return 0;
    if (!mc_step_sent(c, cmd)) {
	if (r) {
	    r->code = MC_NOTSENT;
	    r->text[0] = 0;
	    r->text_len = 0;
	}
	return 0;
    }
    return 1;
}

/* mc_negotiate - blocking SMFIC_OPTNEG exchange */
int     mc_negotiate(struct mc_conn *c)
{
    long long deadline = mc_now_ms() + c->timeout_ms;
    const unsigned char *data;
    size_t  len;
    int     cmd;
    int     rc;

    if (c->negotiated)
	return mc_fail(c, MC_EUSAGE, "already negotiated");
    if (!mc_begin(c, SMFIC_OPTNEG, 0, &rc))
	return rc;
    if ((rc = mc_queue_optneg(c)) != MC_OK
	|| (rc = mc_write_all(c, deadline)) != MC_OK)
	return rc;
    while ((rc = mc_recv_packet(c, &cmd, &data, &len)) == MC_AGAIN)
	if ((rc = mc_wait(c, POLLIN, deadline, "waiting for negotiation")) != MC_OK)
	    return rc;
    if (rc != MC_OK)
	return rc;
    return mc_decode_optneg(c, cmd, data, len);
}

/* mc_send_macros - send SMFIC_MACRO for a stage (no reply) */
int     mc_send_macros(struct mc_conn *c, int stage_cmd,
		               const struct mc_str *pairs, size_t npairs)
{
    int     rc;

    if (!mc_begin(c, SMFIC_MACRO, 0, &rc))
	return rc;
    if ((rc = mc_queue_macros(c, stage_cmd, pairs, npairs)) != MC_OK)
	return rc;
    return mc_step(c, SMFIC_MACRO, 0, 0);
}

/* mc_send_connect - send SMFIC_CONNECT and read the reply */
int     mc_send_connect(struct mc_conn *c, const char *host, size_t host_len,
			        int family, unsigned port, const char *addr,
			        size_t addr_len, struct mc_reply *r)
{
    int     rc;

    if (!mc_begin(c, SMFIC_CONNECT, r, &rc))
	return rc;
    if ((rc = mc_queue_connect(c, host, host_len, family, port, addr,
			       addr_len)) != MC_OK)
	return rc;
    return mc_step(c, SMFIC_CONNECT, r, 0);
}

/* mc_send_strings - send one packet of NUL-terminated strings, read reply */
static int mc_send_strings(struct mc_conn *c, int cmd,
			           const struct mc_str *strs, size_t n,
			           struct mc_reply *r)
{
    int     rc;

    if (!mc_begin(c, cmd, r, &rc))
	return rc;
    if ((rc = mc_queue_strings(c, cmd, strs, n)) != MC_OK)
	return rc;
    return mc_step(c, cmd, r, 0);
}

/* mc_send_helo - send SMFIC_HELO */
int     mc_send_helo(struct mc_conn *c, const char *helo, size_t len,
		             struct mc_reply *r)
{
    struct mc_str s;

    s.ptr = helo;
    s.len = len;
    return mc_send_strings(c, SMFIC_HELO, &s, 1, r);
}

/* mc_send_mail - send SMFIC_MAIL: sender then ESMTP arguments */
int     mc_send_mail(struct mc_conn *c, const struct mc_str *args, size_t nargs,
		             struct mc_reply *r)
{
    c->body_skipped = 0;
    return mc_send_strings(c, SMFIC_MAIL, args, nargs, r);
}

/* mc_send_rcpt - send SMFIC_RCPT with one argument of any bytes and length */
int     mc_send_rcpt(struct mc_conn *c, const char *arg, size_t len,
		             struct mc_reply *r)
{
    struct mc_str s;

    s.ptr = arg;
    s.len = len;
    return mc_send_strings(c, SMFIC_RCPT, &s, 1, r);
}

/* mc_send_rcpt_args - send SMFIC_RCPT: recipient then ESMTP arguments */
int     mc_send_rcpt_args(struct mc_conn *c, const struct mc_str *args,
			          size_t nargs, struct mc_reply *r)
{
    return mc_send_strings(c, SMFIC_RCPT, args, nargs, r);
}

/* mc_send_header - send SMFIC_HEADER; a leading space if SMFIP_HDR_LEADSPC */
int     mc_send_header(struct mc_conn *c, const char *name, size_t name_len,
		               const char *value, size_t value_len,
		               struct mc_reply *r)
{
    struct mc_str s[3];
    int     rc;

    if (!mc_begin(c, SMFIC_HEADER, r, &rc))
	return rc;
    s[0].ptr = name;
    s[0].len = name_len;
    if (c->protocol & SMFIP_HDR_LEADSPC) {
	/* The milter wants the value as it stands after the colon. */
	char   *v = malloc(value_len + 1);

	if (v == 0)
	    return mc_fail(c, MC_EIO, "out of memory");
	v[0] = ' ';
	memcpy(v + 1, value, value_len);
	s[1].ptr = v;
	s[1].len = value_len + 1;
	rc = mc_queue_strings(c, SMFIC_HEADER, s, 2);
	free(v);
    } else {
	s[1].ptr = value;
	s[1].len = value_len;
	rc = mc_queue_strings(c, SMFIC_HEADER, s, 2);
    }
    if (rc != MC_OK)
	return rc;
    return mc_step(c, SMFIC_HEADER, r, 0);
}

/* mc_send_empty - send a command without data and read the reply if due */
static int mc_send_empty(struct mc_conn *c, int cmd, struct mc_reply *r,
			         struct mc_mods *mods)
{
    int     rc;

    if (!mc_begin(c, cmd, r, &rc))
	return rc;
    if ((rc = mc_queue_raw(c, cmd, "", 0)) != MC_OK)
	return rc;
    return mc_step(c, cmd, r, mods);
}

/* mc_send_data - send SMFIC_DATA */
int     mc_send_data(struct mc_conn *c, struct mc_reply *r)
{
    return mc_send_empty(c, SMFIC_DATA, r, 0);
}

/* mc_send_eoh - send SMFIC_EOH */
int     mc_send_eoh(struct mc_conn *c, struct mc_reply *r)
{
    return mc_send_empty(c, SMFIC_EOH, r, 0);
}

/*
 * mc_send_body - send a body in chunks of MILTER_CHUNK_SIZE as an MTA does,
 * stopping at the first reply other than continue; *r is the last reply.
 */
int     mc_send_body(struct mc_conn *c, const char *data, size_t len,
		             struct mc_reply *r)
{
    size_t  off = 0;
    size_t  n;
    int     rc;

    do {
	if (!mc_begin(c, SMFIC_BODY, r, &rc))
	    return rc;
	n = len - off < MILTER_CHUNK_SIZE ? len - off : MILTER_CHUNK_SIZE;
	if ((rc = mc_queue_raw(c, SMFIC_BODY, data + off, n)) != MC_OK)
	    return rc;
	if ((rc = mc_step(c, SMFIC_BODY, r, 0)) != MC_OK)
	    return rc;
	off += n;
    } while (off < len && (r->code == SMFIR_CONTINUE || r->code == MC_NOREPLY));
    return MC_OK;
}

/* mc_send_eom - send SMFIC_BODYEOB; collect modifications, then final reply */
int     mc_send_eom(struct mc_conn *c, struct mc_reply *r, struct mc_mods *mods)
{
    int     rc = mc_send_empty(c, SMFIC_BODYEOB, r, mods);

    c->body_skipped = 0;
    return rc;
}

/* mc_send_unknown - send SMFIC_UNKNOWN with an SMTP command line */
int     mc_send_unknown(struct mc_conn *c, const char *cmd, size_t len,
		                struct mc_reply *r)
{
    struct mc_str s;

    s.ptr = cmd;
    s.len = len;
    return mc_send_strings(c, SMFIC_UNKNOWN, &s, 1, r);
}

/* mc_send_abort - send SMFIC_ABORT (no reply) */
int     mc_send_abort(struct mc_conn *c)
{
    c->body_skipped = 0;
    return mc_send_empty(c, SMFIC_ABORT, 0, 0);
}

/* mc_send_quit - send SMFIC_QUIT (no reply); the milter then closes */
int     mc_send_quit(struct mc_conn *c)
{
    return mc_send_empty(c, SMFIC_QUIT, 0, 0);
}

/* mc_send_raw - send any packet; read one final reply if want_reply */
int     mc_send_raw(struct mc_conn *c, int cmd, const void *data, size_t len,
		            int want_reply, struct mc_reply *r)
{
    long long deadline = mc_now_ms() + c->timeout_ms;
    int     rc;

    if ((rc = mc_check_idle(c)) != MC_OK)
	return rc;
    if ((rc = mc_queue_raw(c, cmd, data, len)) != MC_OK
	|| (rc = mc_write_all(c, deadline)) != MC_OK)
	return rc;
    if (!want_reply || r == 0) {
	if (r)
	    r->code = MC_NOREPLY;
	return MC_OK;
    }
    return mc_read_reply(c, cmd, r, 0);
}

/*
 * mc_finish - after SMFIC_QUIT: wait up to wait_ms for the milter to close;
 * anything it sends meanwhile is a protocol error.  Not closing is not one.
 */
int     mc_finish(struct mc_conn *c, int wait_ms)
{
    long long deadline = mc_now_ms() + wait_ms;
    struct pollfd pfd;
    char    buf[256];
    ssize_t n;
    long long left;

    if (c->in_end > c->in_start)
	return mc_fail(c, MC_EPROTO, "milter sent %zu bytes nobody asked for",
		       c->in_end - c->in_start);
    while ((left = deadline - mc_now_ms()) > 0) {
	pfd.fd = c->fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, (int) left) <= 0)
	    continue;
	n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n > 0)
	    return mc_fail(c, MC_EPROTO, "milter sent %zd bytes after quit", n);
	if (n == 0 || errno == ECONNRESET)
	    return MC_OK;
	if (errno != EAGAIN && errno != EINTR)
	    return mc_fail(c, MC_EIO, "read: %s", strerror(errno));
    }
    return MC_OK;
}

/* mc_mods_free - free the modifications collected at end of message */
void    mc_mods_free(struct mc_mods *mods)
{
    size_t  i;

    for (i = 0; i < mods->count; i++) {
	free(mods->items[i].name);
	free(mods->items[i].value);
    }
    free(mods->items);
    mods->items = 0;
    mods->count = mods->cap = 0;
}

/* mc_reply_name - a word for a reply: continue, tempfail, ... */
const char *mc_reply_name(const struct mc_reply *r)
{
    static const struct {
	int     code;
	const char *name;
    }       names[] = {
	{MC_NOREPLY, "noreply"}, {MC_NOTSENT, "notsent"},
	{SMFIR_CONTINUE, "continue"}, {SMFIR_ACCEPT, "accept"},
	{SMFIR_REJECT, "reject"}, {SMFIR_TEMPFAIL, "tempfail"},
	{SMFIR_DISCARD, "discard"}, {SMFIR_SKIP, "skip"},
	{SMFIR_CONN_FAIL, "connfail"}, {SMFIR_SHUTDOWN, "shutdown"},
    };
    size_t  i;

    if (r->code == SMFIR_REPLYCODE)
	return r->text[0] == '4' ? "tempfail" : "reject";
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
	if (names[i].code == r->code)
	    return names[i].name;
    return "unknown";
}

/* mc_mod_name - a word for a modification: addheader, chgheader, ... */
const char *mc_mod_name(int code)
{
    const struct mc_mod_info *m = mc_mod_find(code);

    return m ? m->name : "unknown";
}

/* mc_strerror - a word for a result code */
const char *mc_strerror(int result)
{
    switch (result) {
    case MC_OK:
	return "ok";
    case MC_AGAIN:
	return "again";
    case MC_ETIMEOUT:
	return "timeout";
    case MC_EEOF:
	return "connection closed";
    case MC_EPROTO:
	return "protocol error";
    case MC_EIO:
	return "I/O error";
    case MC_EUSAGE:
	return "usage error";
    case MC_EBUSY:
	return "busy";
    default:
	return "unknown error";
    }
}
