/*
 * NAME
 *   mtclient - drive a milter from a script, as an MTA would
 * SYNOPSIS
 *   mtclient -s SOCKET [-t SECONDS] [-v] SCRIPT|-
 * DESCRIPTION
 *   Connects to SOCKET (unix:/path, inet:PORT@HOST, inet6:PORT@HOST),
 *   negotiates, runs SCRIPT one command a line and prints each reply of the
 *   milter on its own line as "STEP: REPLY".  The whole script is parsed
 *   before anything is sent.  Commands:
 *
 *     negotiate [ACTIONS [PROTOCOL [VERSION]]]  (else done before the first
 *                                  command with everything offered)
 *     connect HOSTNAME ADDR [PORT [FAMILY]]    FAMILY 4, 6, L or U; by
 *                                  default 6 if ADDR has ':', L if it
 *                                  starts with '/', U if it is "-", else 4
 *     macro STAGE NAME VALUE       STAGE connect|helo|mail|rcpt|data|eoh|eom
 *                                  or one byte; macros are sent together,
 *                                  one packet per stage, before the next
 *                                  other command
 *     helo ARG                     mail ARG...          rcpt ARG...
 *     data                         header NAME VALUE    eoh
 *     body TEXT                    eom                  abort
 *     unknown TEXT                 quit                 sleep MS
 *     raw CMD [DATA]               send one packet, wait for one reply
 *     rawnr CMD [DATA]             send one packet, no reply
 *
 *   Steps the milter negotiated away are not sent; steps it asked not to
 *   answer (SMFIP_NR_*) are not waited for.  raw and rawnr ignore the
 *   negotiation: CMD is the command byte, DATA the exact packet data.  A
 *   body longer than 65535 bytes goes in chunks, one reply line each.
 *   Without quit at the end, quit is sent anyway.  libmilter silently
 *   ignores a command out of protocol order, which shows as a timeout.
 *
 *   The last argument of macro, helo, header, body, unknown, raw and rawnr
 *   is the rest of the line.  Words are separated by blanks; "..." groups
 *   blanks into a word; escapes \n \r \t \0 \\ \" \{ \} \xHH and "\ " (a
 *   space); {TEXT*N} repeats TEXT N times (e.g. {A*8192}, {\x00*3}); any
 *   other brace is literal ({daemon_name}).  Trailing blanks are dropped.
 *   Arguments may hold NUL bytes and up to 64 MB.  Lines starting with #
 *   are comments.
 *
 *   Output, one line per reply: "STEP: continue", "STEP: accept",
 *   "STEP: reject", "STEP: tempfail", "STEP: discard", "STEP: skip",
 *   "STEP: connfail", "STEP: shutdown", "STEP: tempfail 451 4.7.1 text"
 *   or "STEP: reject 550 5.7.1 text" for SMFIR_REPLYCODE, "STEP: noreply"
 *   when the milter negotiated SMFIP_NR_* for the step, "STEP: notsent"
 *   when it negotiated the step away.  At eom each modification comes
 *   first: "eom: addheader NAME: VALUE", "eom: insheader INDEX NAME: VALUE",
 *   "eom: chgheader INDEX NAME: VALUE", "eom: addrcpt RCPT",
 *   "eom: addrcpt_par RCPT ARGS", "eom: delrcpt RCPT", "eom: chgfrom FROM
 *   [ARGS]", "eom: replbody LEN", "eom: quarantine REASON".  The first
 *   line is "negotiate: version V actions 0xA protocol 0xP", followed by
 *   "negotiate: macros STAGE LIST" per macro list the milter asked for.
 *   Bytes outside printable ASCII are shown as \xHH, a backslash as \\.
 * DIAGNOSTICS
 *   Exit 0 when the script ran and the milter answered everything;
 *   1 with a message on stderr on timeout, dropped connection or protocol
 *   error; 2 for a usage or script error.
 */
#ifdef HAVE_CONFIG_H
#include "autoconf.h"
#endif

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "milter_client.h"

#define MT_ARG_MAX (64 * 1024 * 1024)	/* largest argument after expansion */
#define MT_SCRIPT_MAX (16 * 1024 * 1024)	/* largest script */
#define MT_WORDS_MAX 64			/* words per line */

/* A growing byte buffer. */
struct mt_buf {
    char   *ptr;
    size_t  len;
    size_t  cap;
};

enum mt_kind {
    MT_NEGOTIATE, MT_CONNECT, MT_MACRO, MT_HELO, MT_MAIL, MT_RCPT, MT_DATA,
    MT_HEADER, MT_EOH, MT_BODY, MT_EOM, MT_ABORT, MT_UNKNOWN, MT_QUIT,
    MT_SLEEP, MT_RAW, MT_RAWNR,
};

/* Syntax of each command: fixed words, optional words, rest of line. */
static const struct mt_syntax {
    const char *name;
    enum mt_kind kind;
    int     min_words;
    int     max_words;		/* -1: any number */
    int     rest;		/* last argument is the rest of the line */
}       mt_syntax[] = {
    {"negotiate", MT_NEGOTIATE, 0, 3, 0},
    {"connect", MT_CONNECT, 2, 4, 0},
    {"macro", MT_MACRO, 2, 2, 1},
    {"helo", MT_HELO, 0, 0, 1},
    {"mail", MT_MAIL, 1, -1, 0},
    {"rcpt", MT_RCPT, 1, -1, 0},
    {"data", MT_DATA, 0, 0, 0},
    {"header", MT_HEADER, 1, 1, 1},
    {"eoh", MT_EOH, 0, 0, 0},
    {"body", MT_BODY, 0, 0, 1},
    {"eom", MT_EOM, 0, 0, 0},
    {"abort", MT_ABORT, 0, 0, 0},
    {"unknown", MT_UNKNOWN, 0, 0, 1},
    {"quit", MT_QUIT, 0, 0, 0},
    {"sleep", MT_SLEEP, 1, 1, 0},
    {"raw", MT_RAW, 1, 1, 1},
    {"rawnr", MT_RAWNR, 1, 1, 1},
};

/* One parsed script line. */
struct mt_cmd {
    const struct mt_syntax *syn;
    int     line;
    size_t  nargs;
    struct mc_str args[MT_WORDS_MAX + 1];
    unsigned long num[3];	/* negotiate offers, connect port, sleep ms */
    int     ch;			/* macro stage, connect family, raw command */
};

static const char *progname = "mtclient";
static int verbose;

/* mt_usage - print usage and exit 2 */
static void mt_usage(void)
{
    fprintf(stderr, "usage: %s -s SOCKET [-t SECONDS] [-v] SCRIPT|-\n",
	    progname);
    exit(2);
}

/* mt_die - print a message and exit with status */
static void mt_die(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

static void mt_die(int status, const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fprintf(stderr, "%s: ", progname);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(status);
}

/* mt_buf_add - append bytes to a buffer, bounded by MT_ARG_MAX */
static int mt_buf_add(struct mt_buf *b, const char *p, size_t n)
{
    size_t  cap;
    char   *np;

    if (n > MT_ARG_MAX - b->len)
	return -1;
    if (b->len + n + 1 > b->cap) {
	cap = b->cap ? b->cap : 64;
	while (cap < b->len + n + 1)
	    cap *= 2;
	if ((np = realloc(b->ptr, cap)) == 0)
	    mt_die(1, "out of memory");
	b->ptr = np;
	b->cap = cap;
    }
    memcpy(b->ptr + b->len, p, n);
    b->len += n;
    b->ptr[b->len] = 0;
    return 0;
}

/* mt_hexval - value of a hex digit, -1 if none */
static int mt_hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
	return ch - '0';
    if (ch >= 'a' && ch <= 'f')
	return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
	return ch - 'A' + 10;
    return -1;
}

/* mt_escape - decode one escape after a backslash; -1 if unknown */
static int mt_escape(const char **pp, const char *end, char *out)
{
    const char *p = *pp;
    int     hi;
    int     lo;

    if (p >= end)
	return -1;
    switch (*p) {
    case 'n':
	*out = '\n';
	break;
    case 'r':
	*out = '\r';
	break;
    case 't':
	*out = '\t';
	break;
    case '0':
	*out = 0;
	break;
    case '\\':
    case '"':
    case '{':
    case '}':
    case ' ':
	*out = *p;
	break;
    case 'x':
	if (end - p < 3 || (hi = mt_hexval(p[1])) < 0 || (lo = mt_hexval(p[2])) < 0)
	    return -1;
	*out = (char) (hi * 16 + lo);
	p += 2;
	break;
    default:
	return -1;
    }
    *pp = p + 1;
    return 0;
}

/*
 * mt_repeat - at '{', try the form {TEXT*N}; 1 and *pp moved past '}' if it
 * is one, 0 if the brace is literal, -1 on error (message in err).
 */
static int mt_repeat(const char **pp, const char *end, struct mt_buf *out,
		             char *err, size_t errlen)
{
    const char *open = *pp;
    const char *close = memchr(open, '}', (size_t) (end - open));
    const char *star;
    const char *d;
    const char *p;
    unsigned long count = 0;
    struct mt_buf unit = {0, 0, 0};
    unsigned long i;
    char    ch;

    if (close == 0)
	return 0;
    for (star = close - 1; star > open && *star >= '0' && *star <= '9'; star--)
	 /* void */ ;
    if (star == open || *star != '*' || star + 1 == close || close - star > 10)
	return 0;
    for (d = star + 1; d < close; d++)
	count = count * 10 + (unsigned long) (*d - '0');
    for (p = open + 1; p < star;) {
	if (*p == '\\') {
	    p++;
	    if (mt_escape(&p, star, &ch) != 0) {
		snprintf(err, errlen, "bad escape in {...*N}");
		free(unit.ptr);
		return -1;
	    }
	} else
	    ch = *p++;
	mt_buf_add(&unit, &ch, 1);
    }
    if (unit.len == 0 || count > MT_ARG_MAX / unit.len) {
	snprintf(err, errlen, "repetition {...*%lu} too large", count);
	free(unit.ptr);
	return -1;
    }
    for (i = 0; i < count; i++)
	if (mt_buf_add(out, unit.ptr, unit.len) != 0) {
	    snprintf(err, errlen, "argument longer than %d bytes", MT_ARG_MAX);
	    free(unit.ptr);
	    return -1;
	}
    free(unit.ptr);
    *pp = close + 1;
    return 1;
}

/*
 * mt_decode - decode one word (stop at an unquoted blank) or, with
 * rest set, everything up to end; 0 or -1 with a message in err.
 */
static int mt_decode(const char **pp, const char *end, int rest,
		             struct mt_buf *out, char *err, size_t errlen)
{
    const char *p = *pp;
    int     quoted = 0;
    char    ch;
    int     rc;

    mt_buf_add(out, "", 0);
    while (p < end) {
	if (!quoted && !rest && (*p == ' ' || *p == '\t'))
	    break;
	if (*p == '"') {
	    quoted = !quoted;
	    p++;
	    continue;
	}
	if (*p == '{') {
	    if ((rc = mt_repeat(&p, end, out, err, errlen)) < 0)
		return -1;
	    if (rc > 0)
		continue;
	}
	if (*p == '\\') {
	    p++;
	    if (mt_escape(&p, end, &ch) != 0) {
		snprintf(err, errlen, "unknown escape \\%c", p < end ? *p : ' ');
		return -1;
	    }
	} else
	    ch = *p++;
	if (mt_buf_add(out, &ch, 1) != 0) {
	    snprintf(err, errlen, "argument longer than %d bytes", MT_ARG_MAX);
	    return -1;
	}
    }
    if (quoted) {
	snprintf(err, errlen, "unterminated quote");
	return -1;
    }
    *pp = p;
    return 0;
}

/* mt_skip_blanks - move past blanks */
static const char *mt_skip_blanks(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
	p++;
    return p;
}

/* mt_parse_line - parse one non-empty line into cmd; 0 or -1 with err */
static int mt_parse_line(const char *p, const char *end, struct mt_cmd *cmd,
			         char *err, size_t errlen)
{
    const char *w = p;
    const struct mt_syntax *syn = 0;
    struct mt_buf arg;
    size_t  i;
    int     words = 0;

    while (p < end && *p != ' ' && *p != '\t')
	p++;
    for (i = 0; i < sizeof(mt_syntax) / sizeof(mt_syntax[0]); i++)
	if (strlen(mt_syntax[i].name) == (size_t) (p - w)
	    && memcmp(mt_syntax[i].name, w, (size_t) (p - w)) == 0)
	    syn = mt_syntax + i;
    if (syn == 0) {
	snprintf(err, errlen, "unknown command \"%.*s\"", (int) (p - w), w);
	return -1;
    }
    cmd->syn = syn;
    cmd->nargs = 0;
    for (;;) {
	p = mt_skip_blanks(p, end);
	if (syn->max_words >= 0 && words == syn->max_words)
	    break;
	if (p >= end || words >= MT_WORDS_MAX)
	    break;
	memset(&arg, 0, sizeof(arg));
	if (mt_decode(&p, end, 0, &arg, err, errlen) != 0)
	    return -1;
	cmd->args[cmd->nargs].ptr = arg.ptr;
	cmd->args[cmd->nargs++].len = arg.len;
	words++;
    }
    if (words < syn->min_words) {
	snprintf(err, errlen, "%s: expected at least %d argument%s",
		 syn->name, syn->min_words, syn->min_words == 1 ? "" : "s");
	return -1;
    }
    if (syn->rest) {
	memset(&arg, 0, sizeof(arg));
	if (mt_decode(&p, end, 1, &arg, err, errlen) != 0)
	    return -1;
	cmd->args[cmd->nargs].ptr = arg.ptr;
	cmd->args[cmd->nargs++].len = arg.len;
    } else if (p < end) {
	snprintf(err, errlen, "%s: too many arguments", syn->name);
	return -1;
    }
    return 0;
}

/* mt_number - parse an unsigned number (decimal or 0x hex) in [0, max] */
static int mt_number(const struct mc_str *s, unsigned long max,
		             unsigned long *out)
{
    char   *end;

    if (s->len == 0 || s->len > 20 || memchr(s->ptr, 0, s->len) || s->ptr[0] == '-')
	return -1;
    errno = 0;
    *out = strtoul(s->ptr, &end, 0);
    return errno || *end || *out > max ? -1 : 0;
}

/* mt_stage_char - the command byte for a macro stage name or one byte */
static int mt_stage_char(const struct mc_str *s)
{
    static const struct {
	const char *name;
	int     ch;
    }       stages[] = {
	{"connect", SMFIC_CONNECT}, {"helo", SMFIC_HELO}, {"mail", SMFIC_MAIL},
	{"rcpt", SMFIC_RCPT}, {"data", SMFIC_DATA}, {"eoh", SMFIC_EOH},
	{"eom", SMFIC_BODYEOB},
    };
    size_t  i;

    for (i = 0; i < sizeof(stages) / sizeof(stages[0]); i++)
	if (strlen(stages[i].name) == s->len && memcmp(stages[i].name, s->ptr, s->len) == 0)
	    return stages[i].ch;
    return s->len == 1 ? (unsigned char) s->ptr[0] : -1;
}

/* mt_family - the SMFIA_* family for connect: given, or guessed from ADDR */
static int mt_family(const struct mt_cmd *cmd)
{
    const struct mc_str *addr = &cmd->args[1];

    if (cmd->nargs >= 4) {
	if (cmd->args[3].len != 1)
	    return -1;
	return (unsigned char) cmd->args[3].ptr[0];
    }
    if (addr->len == 1 && addr->ptr[0] == '-')
	return SMFIA_UNKNOWN;
    if (addr->len > 0 && addr->ptr[0] == '/')
	return SMFIA_UNIX;
    if (memchr(addr->ptr, ':', addr->len))
	return SMFIA_INET6;
    return SMFIA_INET;
}

/* mt_check_args - check and convert the arguments of a parsed command */
static int mt_check_args(struct mt_cmd *cmd, char *err, size_t errlen)
{
    const char *name = cmd->syn->name;
    size_t  i;

    switch (cmd->syn->kind) {
    case MT_NEGOTIATE:
	for (i = 0; i < cmd->nargs; i++)
	    if (mt_number(&cmd->args[i], 0xffffffffUL, &cmd->num[i]) != 0) {
		snprintf(err, errlen, "negotiate: bad number");
		return -1;
	    }
	break;
    case MT_CONNECT:
	cmd->num[0] = 0;
	if (cmd->nargs >= 3 && mt_number(&cmd->args[2], 65535, &cmd->num[0]) != 0) {
	    snprintf(err, errlen, "connect: PORT must be 0..65535");
	    return -1;
	}
	if ((cmd->ch = mt_family(cmd)) < 0) {
	    snprintf(err, errlen, "connect: FAMILY must be one byte");
	    return -1;
	}
	break;
    case MT_MACRO:
	if ((cmd->ch = mt_stage_char(&cmd->args[0])) < 0) {
	    snprintf(err, errlen, "macro: STAGE must be connect, helo, mail, "
		     "rcpt, data, eoh, eom or one byte");
	    return -1;
	}
	break;
    case MT_SLEEP:
	if (mt_number(&cmd->args[0], 3600000, &cmd->num[0]) != 0) {
	    snprintf(err, errlen, "sleep: expected milliseconds, 0..3600000");
	    return -1;
	}
	break;
    case MT_RAW:
    case MT_RAWNR:
	if (cmd->args[0].len != 1) {
	    snprintf(err, errlen, "%s: CMD must be one byte", name);
	    return -1;
	}
	cmd->ch = (unsigned char) cmd->args[0].ptr[0];
	break;
    default:
	break;
    }
    return 0;
}

/* mt_read_script - read the whole script from a file or stdin */
static char *mt_read_script(const char *path, size_t *len)
{
    FILE   *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    struct mt_buf b = {0, 0, 0};
    char    chunk[65536];
    size_t  n;

    if (fp == 0)
	mt_die(2, "%s: %s", path, strerror(errno));
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
	if (b.len + n > MT_SCRIPT_MAX || mt_buf_add(&b, chunk, n) != 0)
	    mt_die(2, "%s: script larger than %d bytes", path, MT_SCRIPT_MAX);
    if (ferror(fp))
	mt_die(2, "%s: %s", path, strerror(errno));
    if (fp != stdin)
	fclose(fp);
    mt_buf_add(&b, "", 0);
    *len = b.len;
    return b.ptr;
}

/* mt_parse_script - parse all lines; exits 2 on the first error */
static struct mt_cmd *mt_parse_script(const char *path, size_t *ncmds)
{
    size_t  len;
    char   *text = mt_read_script(path, &len);
    const char *p = text;
    const char *end = text + len;
    const char *eol;
    const char *last;
    struct mt_cmd *cmds = 0;
    size_t  n = 0;
    size_t  cap = 0;
    int     line = 0;
    char    err[200];

    while (p < end) {
	line++;
	if ((eol = memchr(p, '\n', (size_t) (end - p))) == 0)
	    eol = end;
	last = eol;
	/* Trailing blanks and CR are dropped; write \x20 to keep a space. */
	while (last > p && (last[-1] == ' ' || last[-1] == '\t'
			    || last[-1] == '\r') && !(last - p >= 2 && last[-2] == '\\'))
	    last--;
	p = mt_skip_blanks(p, last);
	if (p < last && *p != '#') {
	    if (n == cap) {
		cap = cap ? 2 * cap : 64;
		if ((cmds = realloc(cmds, cap * sizeof(*cmds))) == 0)
		    mt_die(1, "out of memory");
	    }
	    if (mt_parse_line(p, last, cmds + n, err, sizeof(err)) != 0
		|| mt_check_args(cmds + n, err, sizeof(err)) != 0)
		mt_die(2, "%s: line %d: %s", path, line, err);
	    if (n > 0 && cmds[n - 1].syn->kind == MT_QUIT)
		mt_die(2, "%s: line %d: nothing may follow quit", path, line);
	    if (n > 0 && cmds[n].syn->kind == MT_NEGOTIATE)
		mt_die(2, "%s: line %d: negotiate must be the first command",
		       path, line);
	    cmds[n++].line = line;
	}
	p = eol + 1;
    }
    free(text);
    *ncmds = n;
    return cmds;
}

/* mt_print - print bytes with non-printable ones escaped */
static void mt_print(const char *s, size_t len)
{
    size_t  i;
    unsigned char ch;

    for (i = 0; i < len; i++) {
	ch = (unsigned char) s[i];
	if (ch == '\\')
	    fputs("\\\\", stdout);
	else if (ch < 0x20 || ch >= 0x7f)
	    printf("\\x%02x", ch);
	else
	    putchar(ch);
    }
}

/* mt_print_reply - print "step: reply [text]" */
static void mt_print_reply(const char *step, const struct mc_reply *r)
{
    printf("%s: %s", step, mc_reply_name(r));
    if (r->code == SMFIR_REPLYCODE) {
	putchar(' ');
	mt_print(r->text, r->text_len);
	if (r->truncated)
	    fputs("...", stdout);
    }
    putchar('\n');
}

/* mt_print_mods - print the modifications received at end of message */
static void mt_print_mods(const struct mc_mods *mods)
{
    const struct mc_mod *m;
    size_t  i;

    for (i = 0; i < mods->count; i++) {
	m = mods->items + i;
	printf("eom: %s ", mc_mod_name(m->code));
	if (m->code == SMFIR_INSHEADER || m->code == SMFIR_CHGHEADER)
	    printf("%lu ", (unsigned long) m->index);
	if (m->code == SMFIR_REPLBODY) {
	    printf("%zu\n", m->value_len);
	    continue;
	}
	if (m->name)
	    mt_print(m->name, strlen(m->name));
	if (m->value) {
	    fputs(m->code == SMFIR_ADDHEADER || m->code == SMFIR_INSHEADER
		  || m->code == SMFIR_CHGHEADER ? ": " : " ", stdout);
	    mt_print(m->value, m->value_len);
	}
	putchar('\n');
    }
}

/* Script run state. */
struct mt_run {
    struct mc_conn conn;
    struct mt_cmd *macros[256];	/* pending macro commands, script order */
    size_t  nmacros;
    int     quit;		/* quit was sent */
};

/* mt_check - exit 1 with the step name and the milter_client message */
static void mt_check(struct mt_run *run, const struct mt_cmd *cmd, int rc)
{
    if (rc != MC_OK)
	mt_die(1, "line %d: %s: %s", cmd->line, cmd->syn->name, run->conn.err);
}

/* mt_print_negotiation - show what the milter negotiated */
static void mt_print_negotiation(const struct mc_conn *c)
{
    static const char *stage[MC_NSTAGES] = {
	"connect", "helo", "mail", "rcpt", "data", "eom", "eoh"
    };
    int     i;

    printf("negotiate: version %lu actions 0x%08lx protocol 0x%08lx\n",
	   (unsigned long) c->version, (unsigned long) c->actions,
	   (unsigned long) c->protocol);
    for (i = 0; i < MC_NSTAGES; i++)
	if (c->symlist[i]) {
	    printf("negotiate: macros %s ", stage[i]);
	    mt_print(c->symlist[i], strlen(c->symlist[i]));
	    putchar('\n');
	}
}

/* mt_flush_macros - send pending macros, one packet per stage */
static void mt_flush_macros(struct mt_run *run)
{
    struct mc_str pairs[2 * 256];
    int     done[256];
    size_t  i;
    size_t  j;
    size_t  n;
    int     stage;

    memset(done, 0, sizeof(done));
    for (i = 0; i < run->nmacros; i++) {
	stage = run->macros[i]->ch;
	if (done[stage])
	    continue;
	done[stage] = 1;
	for (n = 0, j = i; j < run->nmacros; j++)
	    if (run->macros[j]->ch == stage) {
		pairs[n++] = run->macros[j]->args[1];
		pairs[n++] = run->macros[j]->args[2];
	    }
	mt_check(run, run->macros[i],
		 mc_send_macros(&run->conn, stage, pairs, n));
    }
    run->nmacros = 0;
}

/* mt_negotiate - negotiate with offers from a negotiate command, if any */
static void mt_negotiate(struct mt_run *run, const struct mt_cmd *cmd)
{
    uint32_t *offer[3];
    size_t  i;

    offer[0] = &run->conn.offer_actions;
    offer[1] = &run->conn.offer_protocol;
    offer[2] = &run->conn.offer_version;
    for (i = 0; cmd && i < cmd->nargs; i++)
	*offer[i] = (uint32_t) cmd->num[i];
    if (mc_negotiate(&run->conn) != MC_OK)
	mt_die(1, "negotiate: %s", run->conn.err);
    mt_print_negotiation(&run->conn);
}

/* mt_run_cmd - execute one command and print the replies */
static void mt_run_cmd(struct mt_run *run, struct mt_cmd *cmd)
{
    struct mc_conn *c = &run->conn;
    struct mc_reply r;
    struct mc_mods mods = {0, 0, 0};
    const char *name = cmd->syn->name;
    int     rc;

    if (cmd->syn->kind == MT_NEGOTIATE) {
	mt_negotiate(run, cmd);
	return;
    }
    if (!c->negotiated)
	mt_negotiate(run, 0);
    if (cmd->syn->kind == MT_MACRO) {
	if (run->nmacros == sizeof(run->macros) / sizeof(run->macros[0]))
	    mt_flush_macros(run);
	run->macros[run->nmacros++] = cmd;
	return;
    }
    if (cmd->syn->kind == MT_SLEEP) {
	{
	    struct timespec ts;

	    fflush(stdout);
	    ts.tv_sec = (time_t) (cmd->num[0] / 1000);
	    ts.tv_nsec = (long) (cmd->num[0] % 1000) * 1000000L;
	    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		 /* void */ ;
	}
	return;
    }
    mt_flush_macros(run);
    if (verbose)
	fprintf(stderr, "> line %d: %s\n", cmd->line, name);
    switch (cmd->syn->kind) {
    case MT_CONNECT:
	rc = mc_send_connect(c, cmd->args[0].ptr, cmd->args[0].len, cmd->ch,
			     (unsigned) cmd->num[0], cmd->args[1].ptr,
			     cmd->args[1].len, &r);
	break;
    case MT_HELO:
	rc = mc_send_helo(c, cmd->args[0].ptr, cmd->args[0].len, &r);
	break;
    case MT_MAIL:
	rc = mc_send_mail(c, cmd->args, cmd->nargs, &r);
	break;
    case MT_RCPT:
	rc = mc_send_rcpt_args(c, cmd->args, cmd->nargs, &r);
	break;
    case MT_DATA:
	rc = mc_send_data(c, &r);
	break;
    case MT_HEADER:
	rc = mc_send_header(c, cmd->args[0].ptr, cmd->args[0].len,
			    cmd->args[1].ptr, cmd->args[1].len, &r);
	break;
    case MT_EOH:
	rc = mc_send_eoh(c, &r);
	break;
    case MT_BODY:
	/* One line per chunk: a long body is sent as an MTA would. */
	{
	    size_t  off = 0;
	    size_t  n;

	    do {
		n = cmd->args[0].len - off;
		if (n > MILTER_CHUNK_SIZE)
		    n = MILTER_CHUNK_SIZE;
		rc = mc_send_body(c, cmd->args[0].ptr + off, n, &r);
		mt_check(run, cmd, rc);
		mt_print_reply(name, &r);
		off += n;
	    } while (off < cmd->args[0].len);
	    return;
	}
    case MT_EOM:
	rc = mc_send_eom(c, &r, &mods);
	if (rc == MC_OK)
	    mt_print_mods(&mods);
	mc_mods_free(&mods);
	break;
    case MT_ABORT:
	mt_check(run, cmd, mc_send_abort(c));
	return;
    case MT_UNKNOWN:
	rc = mc_send_unknown(c, cmd->args[0].ptr, cmd->args[0].len, &r);
	break;
    case MT_QUIT:
	mt_check(run, cmd, mc_send_quit(c));
	mt_check(run, cmd, mc_finish(c, 2000));
	run->quit = 1;
	return;
    case MT_RAW:
    case MT_RAWNR:
	rc = mc_send_raw(c, cmd->ch,
			 cmd->args[1].ptr, cmd->args[1].len,
			 cmd->syn->kind == MT_RAW, &r);
	mt_check(run, cmd, rc);
	if (cmd->syn->kind == MT_RAW)
	    mt_print_reply(name, &r);
	return;
    default:
	mt_die(2, "line %d: %s: not implemented", cmd->line, name);
    }
    mt_check(run, cmd, rc);
    mt_print_reply(name, &r);
}

/* main - parse options and script, run it */
int     main(int argc, char **argv)
{
    const char *spec = 0;
    double  timeout = 10;
    struct mt_cmd *cmds;
    size_t  ncmds;
    size_t  i;
    char   *end;
    int     ch;
    static struct mt_run run;

    if ((progname = strrchr(argv[0], '/')) != 0)
	progname++;
    else
	progname = argv[0];
    while ((ch = getopt(argc, argv, "s:t:v")) != -1) {
	switch (ch) {
	case 's':
	    spec = optarg;
	    break;
	case 't':
	    timeout = strtod(optarg, &end);
	    if (*end || !(timeout >= 0.001 && timeout <= 3600))
		mt_die(2, "-t: expected seconds, 0.001..3600");
	    break;
	case 'v':
	    verbose = 1;
	    break;
	default:
	    mt_usage();
	}
    }
    if (spec == 0 || optind != argc - 1)
	mt_usage();
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, 0, _IOLBF, 0);
    cmds = mt_parse_script(argv[optind], &ncmds);
    mc_init(&run.conn, (int) (timeout * 1000));
    if (mc_connect(&run.conn, spec) != MC_OK)
	mt_die(1, "%s: %s", spec, run.conn.err);
    for (i = 0; i < ncmds; i++)
	mt_run_cmd(&run, cmds + i);
    if (!run.quit) {
	if (!run.conn.negotiated)
	    mt_negotiate(&run, 0);
	if (run.nmacros)
	    mt_flush_macros(&run);
	if (mc_send_quit(&run.conn) != MC_OK || mc_finish(&run.conn, 2000) != MC_OK)
	    mt_die(1, "quit: %s", run.conn.err);
    }
    mc_close(&run.conn);
    for (i = 0; i < ncmds; i++) {
	size_t  j;

	for (j = 0; j < cmds[i].nargs; j++)
	    free((void *) cmds[i].args[j].ptr);
    }
    free(cmds);
    return 0;
}
