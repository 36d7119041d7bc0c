/*
 * NAME
 *   noop-milter - a milter that accepts everything, as a benchmark baseline
 * SYNOPSIS
 *   noop-milter -p SOCKET [-b BACKLOG] [-m] [-n] [-x]
 * DESCRIPTION
 *   Registers the same libmilter callbacks as greyrep (negotiate, connect,
 *   helo, envfrom, envrcpt, header, eoh, body, eom, abort, close) with
 *   SMFIF_ADDHDRS|SMFIF_CHGHDRS, keeps a small per-connection context as
 *   greyrep does, answers continue everywhere and adds one header at end of
 *   message (-n: none), so that greyrep-loadgen measures the cost of
 *   libmilter and the protocol alone.  -x answers every RCPT with
 *   "451 4.7.1 Greylisted by noop-milter" instead, to test the client side.
 *   -m negotiates the minimal steps greyrep asks for with its sender checks
 *   off (src/negotiate.h): no header, end of header, body, DATA or unknown
 *   command, and no reply to connect, HELO and MAIL, which then answer
 *   SMFIS_NOREPLY: the floor for a minimal greylisting milter.
 *
 *   SOCKET is unix:/path, inet:PORT@HOST or inet6:PORT@HOST.  On an inet
 *   socket it sets TCP_NODELAY on the listening socket (accepted sockets
 *   inherit it on Linux): libmilter writes each end-of-message action as a
 *   separate small packet, and with Nagle the last one would wait for the
 *   MTA's delayed ACK.  It raises its open-file limit to the hard limit.
 * DIAGNOSTICS
 *   Exits 1 if the socket cannot be opened, 2 on a usage error.  Stops on
 *   SIGTERM or SIGINT (libmilter takes a few seconds to do so).
 */
#ifdef HAVE_CONFIG_H
#include "autoconf.h"
#endif

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

/* Per-connection state, to cost what greyrep's context costs. */
struct noop_ctx {
    unsigned long rcpts;
    unsigned long headers;
    unsigned long body_bytes;
};

static int add_header = 1;
static int tempfail_rcpt;
static int minimal;

/* The steps -m asks for, and the no-reply ones among them. */
#define MINIMAL_STEPS (SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOBODY | SMFIP_NOUNKNOWN \
		       | SMFIP_NODATA | SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL)

/* noop_go_on - continue, or no reply at the steps -m made reply-less
 * (libmilter offers the SMFIP_NR_* flags even to an MTA without them) */
static sfsistat noop_go_on(unsigned long nr)
{
    return minimal && (MINIMAL_STEPS & nr) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* noop_ctx - the connection's context, or null */
static struct noop_ctx *noop_ctx(SMFICTX *ctx)
{
    return (struct noop_ctx *) smfi_getpriv(ctx);
}

/* noop_negotiate - take the actions we need, leave protocol as registered */
static sfsistat noop_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
			               unsigned long f2, unsigned long f3,
			               unsigned long *pf0, unsigned long *pf1,
			               unsigned long *pf2, unsigned long *pf3)
{
    (void) ctx;
    (void) f1;
    (void) f2;
    (void) f3;
    if ((f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS)) != (SMFIF_ADDHDRS | SMFIF_CHGHDRS))
	return SMFIS_REJECT;
    *pf0 = SMFIF_ADDHDRS | SMFIF_CHGHDRS;
    /* No unknown commands and no DATA: we have no callbacks for them. */
    *pf1 = f1 & (minimal ? MINIMAL_STEPS : (SMFIP_NOUNKNOWN | SMFIP_NODATA));
    if (minimal && (*pf1 & (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL))
	!= (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL))
	return SMFIS_REJECT;	/* libmilter always offers these */
    *pf2 = 0;
    *pf3 = 0;
    return SMFIS_CONTINUE;
}

/* noop_connect - allocate the context */
static sfsistat noop_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
    struct noop_ctx *nc = noop_ctx(ctx);

    (void) host;
    (void) sa;
    if (nc == 0 && (nc = calloc(1, sizeof(*nc))) == 0)
	return minimal ? SMFIS_NOREPLY : SMFIS_TEMPFAIL;
    memset(nc, 0, sizeof(*nc));
    smfi_setpriv(ctx, nc);
    return noop_go_on(SMFIP_NR_CONN);
}

/* noop_helo - continue */
static sfsistat noop_helo(SMFICTX *ctx, char *helo)
{
    (void) ctx;
    (void) helo;
    return noop_go_on(SMFIP_NR_HELO);
}

/* noop_envfrom - reset the message counters */
static sfsistat noop_envfrom(SMFICTX *ctx, char **argv)
{
    struct noop_ctx *nc = noop_ctx(ctx);

    (void) argv;
    if (nc) {
	nc->rcpts = 0;
	nc->headers = 0;
	nc->body_bytes = 0;
    }
    return noop_go_on(SMFIP_NR_MAIL);
}

/* noop_envrcpt - count; continue, or tempfail with -x */
static sfsistat noop_envrcpt(SMFICTX *ctx, char **argv)
{
    struct noop_ctx *nc = noop_ctx(ctx);

    (void) argv;
    if (nc)
	nc->rcpts++;
    if (tempfail_rcpt) {
	smfi_setreply(ctx, "451", "4.7.1", "Greylisted by noop-milter");
	return SMFIS_TEMPFAIL;
    }
    return SMFIS_CONTINUE;
}

/* noop_header - count */
static sfsistat noop_header(SMFICTX *ctx, char *name, char *value)
{
    struct noop_ctx *nc = noop_ctx(ctx);

    (void) name;
    (void) value;
    if (nc)
	nc->headers++;
    return SMFIS_CONTINUE;
}

/* noop_eoh - continue */
static sfsistat noop_eoh(SMFICTX *ctx)
{
    (void) ctx;
    return SMFIS_CONTINUE;
}

/* noop_body - count */
static sfsistat noop_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
    struct noop_ctx *nc = noop_ctx(ctx);

    (void) chunk;
    if (nc)
	nc->body_bytes += len;
    return SMFIS_CONTINUE;
}

/* noop_eom - add one header, as greyrep adds its own */
static sfsistat noop_eom(SMFICTX *ctx)
{
    if (add_header)
	(void) smfi_addheader(ctx, "X-Noop-Milter", "passed");
    return SMFIS_CONTINUE;
}

/* noop_abort - continue */
static sfsistat noop_abort(SMFICTX *ctx)
{
    (void) ctx;
    return SMFIS_CONTINUE;
}

/* noop_close - free the context */
static sfsistat noop_close(SMFICTX *ctx)
{
    free(noop_ctx(ctx));
    smfi_setpriv(ctx, 0);
    return SMFIS_CONTINUE;
}

/*
 * noop_nodelay - set TCP_NODELAY on our listening inet socket.  libmilter
 * does not hand out its descriptor, so look for the listening TCP socket
 * among our own descriptors.
 */
static void noop_nodelay(void)
{
    int     fd;
    int     val;
    int     one = 1;
    socklen_t len;
    int     found = 0;

    for (fd = 3; fd < 1024; fd++) {
	len = sizeof(val);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &val, &len) != 0 || !val)
	    continue;
	len = sizeof(val);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &val, &len) != 0
	    || (val != AF_INET && val != AF_INET6))
	    continue;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
	    fprintf(stderr, "noop-milter: TCP_NODELAY: %s\n", strerror(errno));
	else
	    found = 1;
    }
    if (!found)
	fprintf(stderr, "noop-milter: warning: no listening TCP socket found "
		"for TCP_NODELAY\n");
}

/* noop_raise_nofile - raise the open-file limit to the hard limit */
static void noop_raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
	rl.rlim_cur = rl.rlim_max;
	(void) setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static struct smfiDesc noop_desc = {
    "noop-milter",			/* filter name */
    SMFI_VERSION,			/* version code */
    SMFIF_ADDHDRS | SMFIF_CHGHDRS,	/* flags */
    noop_connect,
    noop_helo,
    noop_envfrom,
    noop_envrcpt,
    noop_header,
    noop_eoh,
    noop_body,
    noop_eom,
    noop_abort,
    noop_close,
    0,					/* unknown */
    0,					/* data */
    noop_negotiate,
};

/* main - parse options, open the socket, run libmilter */
int     main(int argc, char **argv)
{
    const char *spec = 0;
    long    backlog = 0;
    char   *end;
    int     ch;

    while ((ch = getopt(argc, argv, "b:mnp:x")) != -1) {
	switch (ch) {
	case 'b':
	    backlog = strtol(optarg, &end, 10);
	    if (*end || backlog < 1 || backlog > 65535) {
		fprintf(stderr, "noop-milter: -b: expected 1..65535\n");
		return 2;
	    }
	    break;
	case 'm':
	    minimal = 1;
	    break;
	case 'n':
	    add_header = 0;
	    break;
	case 'p':
	    spec = optarg;
	    break;
	case 'x':
	    tempfail_rcpt = 1;
	    break;
	default:
	    spec = 0;
	    optind = argc + 1;
	    break;
	}
    }
    if (spec == 0 || optind != argc) {
	fprintf(stderr, "usage: noop-milter -p SOCKET [-b BACKLOG] [-m] [-n] [-x]\n");
	return 2;
    }
    noop_raise_nofile();
    if (smfi_setconn((char *) spec) == MI_FAILURE
	|| smfi_register(noop_desc) == MI_FAILURE
	|| (backlog && smfi_setbacklog((int) backlog) == MI_FAILURE)) {
	fprintf(stderr, "noop-milter: cannot set up %s\n", spec);
	return 1;
    }
    if (smfi_opensocket(1) == MI_FAILURE) {
	fprintf(stderr, "noop-milter: cannot open %s\n", spec);
	return 1;
    }
    if (strncmp(spec, "inet", 4) == 0)
	noop_nodelay();
    fprintf(stderr, "noop-milter: listening on %s\n", spec);
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}
