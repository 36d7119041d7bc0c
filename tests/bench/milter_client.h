/*
 * NAME
 *   milter_client - the MTA side of the milter protocol (version 6), for tests
 * SYNOPSIS
 *   #include "milter_client.h"
 * DESCRIPTION
 *   Speaks to a milter as Postfix or Sendmail would: connect to its socket
 *   (unix:/path, inet:PORT@HOST, inet6:PORT@HOST), negotiate options
 *   (SMFIC_OPTNEG), then send the SMTP stages and read the replies.  It
 *   respects what the milter negotiated away: a step turned off with
 *   SMFIP_NO* is not sent (reply code MC_NOTSENT), a step with SMFIP_NR_* is
 *   sent without waiting for a reply (MC_NOREPLY).
 *
 *   Two layers share one struct mc_conn, whose socket is always non-blocking:
 *   - the blocking calls mc_connect(), mc_negotiate(), mc_send_*(): each
 *     sends one stage and waits for its reply, every wait bounded by
 *     timeout_ms (poll), so a broken milter never hangs the caller;
 *   - the non-blocking pieces for event loops: mc_connect_start(),
 *     mc_queue_*(), mc_flush(), mc_recv_packet(), mc_decode_*().
 *
 *   Arguments are counted byte strings (struct mc_str): they may hold NUL
 *   bytes and be longer than the milter accepts; that is how hostile input
 *   is sent.  What comes back is checked like Postfix's milter8.c does:
 *   every packet length against the negotiated maximum, every string for
 *   its terminating NUL and for trailing bytes, every reply against the
 *   stage it answers, every modification against the negotiated actions.
 * DIAGNOSTICS
 *   Functions return MC_OK (0) or a negative MC_E* code; conn->err then
 *   holds one line saying what happened.  After an error other than
 *   MC_EUSAGE the connection is unusable: call mc_close().
 * THREADS
 *   A struct mc_conn belongs to one thread at a time; there is no global
 *   state.  SIGPIPE is avoided with MSG_NOSIGNAL.
 */
#ifndef GREYREP_MILTER_CLIENT_H
#define GREYREP_MILTER_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>

/* Results. */
#define MC_OK 0
#define MC_AGAIN 1		/* non-blocking: wait for the socket, call again */
#define MC_ETIMEOUT (-1)	/* no progress within timeout_ms */
#define MC_EEOF (-2)		/* milter closed the connection */
#define MC_EPROTO (-3)		/* milter broke the protocol */
#define MC_EIO (-4)		/* system error: socket, connect, read, write */
#define MC_EUSAGE (-5)		/* caller error: bad argument, not negotiated */
#define MC_EBUSY (-6)		/* unix socket backlog full: retry later */

/* Pseudo reply codes beside the SMFIR_* characters. */
#define MC_NOREPLY 0		/* sent; milter negotiated SMFIP_NR_* for it */
#define MC_NOTSENT 1		/* not sent; milter negotiated it away */

#define MC_TEXT_MAX 4096	/* reply text kept (SMFIR_REPLYCODE) */
#define MC_NSTAGES 7		/* SMFIM_CONNECT .. SMFIM_EOH */

/* A counted byte string: may contain NUL bytes. */
struct mc_str {
    const char *ptr;
    size_t  len;
};

/* One reply of the milter to one stage. */
struct mc_reply {
    int     code;		/* SMFIR_* character, MC_NOREPLY, MC_NOTSENT */
    size_t  text_len;		/* SMFIR_REPLYCODE: length of text */
    int     truncated;		/* text longer than MC_TEXT_MAX - 1 */
    char    text[MC_TEXT_MAX];	/* "451 4.7.1 ...", NUL-terminated */
};

/*
 * One modification requested at end of message.  name/value are
 * NUL-terminated copies (they cannot hold NUL: the protocol forbids it).
 *   SMFIR_ADDHEADER  name, value
 *   SMFIR_INSHEADER  index, name, value
 *   SMFIR_CHGHEADER  index, name, value ("" deletes the header)
 *   SMFIR_ADDRCPT    name = recipient
 *   SMFIR_ADDRCPT_PAR name = recipient, value = ESMTP args or NULL
 *   SMFIR_DELRCPT    name = recipient
 *   SMFIR_CHGFROM    name = sender, value = ESMTP args or NULL
 *   SMFIR_QUARANTINE name = reason
 *   SMFIR_REPLBODY   value = chunk (value_len bytes, may hold NUL)
 */
struct mc_mod {
    int     code;
    uint32_t index;
    char   *name;
    char   *value;
    size_t  value_len;
};

struct mc_mods {
    struct mc_mod *items;
    size_t  count;
    size_t  cap;
};

/* A resolved milter socket address. */
struct mc_addr {
    struct sockaddr_storage ss;
    socklen_t len;
};

/* One connection to a milter. Fields marked (in) may be set after mc_init. */
struct mc_conn {
    int     fd;
    int     timeout_ms;		/* (in) bound for each wait */
    uint32_t offer_version;	/* (in) sent in SMFIC_OPTNEG: 6 */
    uint32_t offer_actions;	/* (in) default SMFI_CURR_ACTS */
    uint32_t offer_protocol;	/* (in) default SMFI_CURR_PROT */
    int     negotiated;
    uint32_t version;		/* what the milter answered */
    uint32_t actions;
    uint32_t protocol;
    char   *symlist[MC_NSTAGES];	/* macros requested per SMFIM_* stage */
    size_t  max_data;		/* largest packet data accepted from milter */
    int     body_skipped;	/* milter answered SMFIR_SKIP to a body chunk */
    unsigned char *out;		/* queued packets */
    size_t  out_len;
    size_t  out_off;
    size_t  out_cap;
    unsigned char *in;		/* received bytes */
    size_t  in_start;
    size_t  in_end;
    size_t  in_cap;
    char    err[256];
};

/*
 * Set-up.  mc_init() must come first; offer_* may then be changed before
 * negotiating.  mc_addr_parse() accepts unix:/path (also local:/path or a
 * bare /path), inet:PORT@HOST, inet6:PORT@HOST (HOST a name or address,
 * default loopback); it resolves names once, and returns MC_EUSAGE with a
 * message in err.  mc_connect() and mc_connect_addr() block up to
 * timeout_ms: MC_EIO (refused, no such socket), MC_ETIMEOUT.  mc_close()
 * frees everything; the conn may then be given to mc_init() again.
 */
void    mc_init(struct mc_conn *, int timeout_ms);
int     mc_addr_parse(const char *spec, struct mc_addr *, char *err, size_t errlen);
int     mc_connect(struct mc_conn *, const char *spec);
int     mc_connect_addr(struct mc_conn *, const struct mc_addr *);
void    mc_close(struct mc_conn *);

/*
 * Blocking steps.  Each one first checks that nothing unasked-for waits
 * from the milter (MC_EPROTO) and that it has not closed (MC_EEOF), then
 * sends its packet and waits for the final reply, which is stored in
 * *reply: an SMFIR_* character, MC_NOREPLY (SMFIP_NR_* negotiated) or
 * MC_NOTSENT (step negotiated away, or body after SMFIR_SKIP).  Errors:
 * MC_ETIMEOUT (no reply within timeout_ms; SMFIR_PROGRESS restarts it),
 * MC_EEOF, MC_EPROTO (length above the negotiated maximum, reply not valid
 * for the step, malformed reply text, modification before end of message
 * or not negotiated, trailing bytes), MC_EIO, MC_EUSAGE (not negotiated,
 * packet over 4 GB).
 *
 * mc_negotiate() sends offer_*; the answer must not ask for more than was
 * offered.  mc_send_macros() sends name/value pairs for one stage (the
 * command character it precedes); the milter does not answer.
 * mc_send_connect() takes family SMFIA_INET, SMFIA_INET6, SMFIA_UNIX or
 * SMFIA_UNKNOWN (then port and address are not sent).  mc_send_header()
 * adds the leading space itself when SMFIP_HDR_LEADSPC was negotiated.
 * mc_send_body() cuts data into MILTER_CHUNK_SIZE chunks, stopping at the
 * first reply other than continue.  mc_send_eom() appends the
 * modifications to *mods (may be null) before the final reply; free them
 * with mc_mods_free().  mc_send_abort() and mc_send_quit() expect no
 * reply.  mc_send_raw() sends any command with any data, bypassing
 * negotiation, and reads one final reply if want_reply.  mc_finish(),
 * after quit, waits up to wait_ms for the milter to close: data from it
 * is MC_EPROTO, not closing is fine.
 */
int     mc_negotiate(struct mc_conn *);
int     mc_send_macros(struct mc_conn *, int stage_cmd,
		               const struct mc_str *pairs, size_t npairs);
int     mc_send_connect(struct mc_conn *, const char *host, size_t host_len,
		               int family, unsigned port,
		               const char *addr, size_t addr_len, struct mc_reply *);
int     mc_send_helo(struct mc_conn *, const char *helo, size_t len,
		             struct mc_reply *);
int     mc_send_mail(struct mc_conn *, const struct mc_str *args, size_t nargs,
		             struct mc_reply *);
int     mc_send_rcpt(struct mc_conn *, const char *arg, size_t len,
		             struct mc_reply *);
int     mc_send_rcpt_args(struct mc_conn *, const struct mc_str *args,
		                  size_t nargs, struct mc_reply *);
int     mc_send_data(struct mc_conn *, struct mc_reply *);
int     mc_send_header(struct mc_conn *, const char *name, size_t name_len,
		               const char *value, size_t value_len,
		               struct mc_reply *);
int     mc_send_eoh(struct mc_conn *, struct mc_reply *);
int     mc_send_body(struct mc_conn *, const char *data, size_t len,
		             struct mc_reply *);
int     mc_send_eom(struct mc_conn *, struct mc_reply *, struct mc_mods *);
int     mc_send_unknown(struct mc_conn *, const char *cmd, size_t len,
		                struct mc_reply *);
int     mc_send_abort(struct mc_conn *);
int     mc_send_quit(struct mc_conn *);
int     mc_send_raw(struct mc_conn *, int cmd, const void *data, size_t len,
		            int want_reply, struct mc_reply *);
int     mc_finish(struct mc_conn *, int wait_ms);

/*
 * Non-blocking pieces, for an event loop.  mc_connect_start() returns
 * MC_OK (connected), MC_AGAIN (wait for POLLOUT, then mc_connect_finish()),
 * MC_EBUSY (unix socket backlog full: nothing is open, retry later) or
 * MC_EIO.  mc_queue_*() only append packets to conn->out (MC_EUSAGE if a
 * packet would exceed 4 GB); mc_flush() writes them: MC_OK when all is
 * written, MC_AGAIN to wait for POLLOUT.  mc_recv_packet() returns the
 * next whole packet (data valid until the next call) or MC_AGAIN to wait
 * for POLLIN; lengths are checked before data is read.  mc_decode_optneg()
 * judges the answer to SMFIC_OPTNEG and stores what was negotiated.
 * mc_decode_reply() judges a packet received while waiting for the reply
 * to step_cmd: MC_OK for a final reply, MC_AGAIN for a modification
 * (appended to mods if not null) or SMFIR_PROGRESS, MC_EPROTO otherwise.
 * mc_step_sent() tells whether a command is to be sent at all, and
 * mc_step_replied() whether its reply is to be awaited.  The caller sets
 * conn->body_skipped after an SMFIR_SKIP reply.
 */
int     mc_connect_start(struct mc_conn *, const struct mc_addr *);
int     mc_connect_finish(struct mc_conn *);
int     mc_queue_optneg(struct mc_conn *);
int     mc_queue_macros(struct mc_conn *, int stage_cmd,
		                const struct mc_str *pairs, size_t npairs);
int     mc_queue_connect(struct mc_conn *, const char *host, size_t host_len,
		                 int family, unsigned port,
		                 const char *addr, size_t addr_len);
int     mc_queue_strings(struct mc_conn *, int cmd,
		                 const struct mc_str *strs, size_t nstrs);
int     mc_queue_raw(struct mc_conn *, int cmd, const void *data, size_t len);
int     mc_flush(struct mc_conn *);
int     mc_recv_packet(struct mc_conn *, int *cmd,
		               const unsigned char **data, size_t *len);
int     mc_decode_optneg(struct mc_conn *, int cmd,
		                 const unsigned char *data, size_t len);
int     mc_decode_reply(struct mc_conn *, int step_cmd, int cmd,
		                const unsigned char *data, size_t len,
		                struct mc_reply *, struct mc_mods *);
int     mc_step_sent(const struct mc_conn *, int cmd);
int     mc_step_replied(const struct mc_conn *, int cmd);

/*
 * Results and names.  mc_reply_name() gives continue, accept, reject,
 * tempfail, discard, skip, connfail, shutdown, noreply or notsent; for
 * SMFIR_REPLYCODE tempfail (4xx) or reject (5xx).  mc_mod_name() gives
 * addheader, insheader, chgheader, addrcpt, addrcpt_par, delrcpt,
 * chgfrom, replbody or quarantine.
 */
void    mc_mods_free(struct mc_mods *);
const char *mc_reply_name(const struct mc_reply *);
const char *mc_mod_name(int code);
const char *mc_strerror(int result);

#endif
