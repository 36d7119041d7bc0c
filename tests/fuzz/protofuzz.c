/*
 * NAME
 *   protofuzz - hostile milter-protocol traffic against a running milter
 * SYNOPSIS
 *   protofuzz -s SOCKET [-d SECONDS] [-n CONNECTIONS] [-S SEED] [-c CLIENTS]
 * DESCRIPTION
 *   Opens hostile connections one after the other, each one case picked at
 *   random: bytes without negotiation; a packet whose length field is 0,
 *   1, 0xffffffff, 0x7fffffff or off by a little from its data; unknown
 *   command bytes; valid commands out of order (RCPT before CONNECT, EOM
 *   before MAIL, BODY before DATA, a second OPTNEG, ...) with random
 *   arguments; huge macro packets (thousands of pairs, values of up to
 *   1 MB); a correct conversation with random data bytes changed or cut
 *   short.  Macro packets always hold an even number of strings: an odd
 *   one crashes libmilter itself (see even_macros()).  Each
 *   hostile connection reads whatever comes back for a short while, then
 *   closes.  Meanwhile CLIENTS threads (default 1) hold correct
 *   conversations (negotiate, connect from 192.0.2.X, helo, mail, a new
 *   rcpt each time, abort, quit) and count every one that does not get a
 *   defined answer (continue, tempfail, a 4xx reply code) in time.
 *
 *   Runs for SECONDS (default 20) or CONNECTIONS hostile connections,
 *   whichever comes first.  Prints one summary line
 *     protofuzz: hostile N (case counts) correct M failed F
 *   and exits 0 when every correct conversation got its answer and the
 *   milter still accepted connections at the end, else 1 (the first
 *   failures are printed on stderr).  Uses tests/bench/milter_client.c.
 */
#ifdef HAVE_CONFIG_H
#include "autoconf.h"
#endif

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../bench/milter_client.h"

#define PF_CASES 7
static const char *case_names[PF_CASES] = {
    "garbage", "badlen", "unknowncmd", "order", "macros", "mutated", "slowclose"
};

static const char *sock_spec;
static volatile int stopping;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long correct_ok, correct_failed, hostile_done[PF_CASES];
static int failures_shown;

/* now_s - monotonic seconds */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* rnd - a small xorshift generator, one state per thread */
static uint32_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)(*s >> 11);
}

/* fill - random bytes */
static void fill(uint64_t *s, unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)rnd(s);
}

/* put32 - big-endian */
static void put32(unsigned char *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

/* write_all - best effort: the milter may close at any moment */
static int write_all(int fd, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    double end = now_s() + 2;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            struct pollfd pf = { fd, POLLOUT, 0 };
            if (now_s() > end)
                return -1;
            poll(&pf, 1, 100);
            continue;
        }
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* drain - read what the milter sends for up to ms, or until it closes */
static void drain(int fd, int ms)
{
    unsigned char buf[4096];
    double end = now_s() + ms / 1000.0;
    while (now_s() < end) {
        struct pollfd pf = { fd, POLLIN, 0 };
        if (poll(&pf, 1, 20) <= 0)
            continue;
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            return;
    }
}

/*
 * even_macros - make an SMFIC_MACRO packet's data hold an even number of
 * NUL-terminated strings after its stage byte.  libmilter 8.17's
 * smfi_getsymval() walks the name/value list two at a time and reads past
 * its end when the count is odd (a crash in the milter's own thread, see
 * doc/SECURITY.md); no MTA sends that, so the fuzzer does not either.
 */
static size_t even_macros(unsigned char *d, size_t len, size_t cap)
{
    size_t nul = 0;
    if (len == 0 || cap < 4)
        return 0;
    if (len > cap - 3)
        len = cap - 3;
    if (len > 1 && d[len - 1] != 0)
        d[len++] = 0;
    for (size_t i = 1; i < len; i++)
        nul += d[i] == 0;
    if (nul % 2)
        d[len++] = 0;               /* one more, empty, string */
    return len;
}

/* packet - write one packet with a given (maybe wrong) length field */
static int packet(int fd, uint32_t lenfield, int cmd, const void *data, size_t len)
{
    unsigned char h[5];
    put32(h, lenfield);
    h[4] = (unsigned char)cmd;
    if (write_all(fd, h, 5) < 0)
        return -1;
    return len ? write_all(fd, data, len) : 0;
}

/* valid_packet - a packet with its right length */
static int valid_packet(int fd, int cmd, const void *data, size_t len)
{
    return packet(fd, (uint32_t)len + 1, cmd, data, len);
}

/* optneg - the bytes of an SMFIC_OPTNEG offer */
static void optneg_data(unsigned char d[12])
{
    put32(d, 6);
    put32(d + 4, SMFI_CURR_ACTS);
    put32(d + 8, SMFI_CURR_PROT);
}

/* conversation - a correct conversation as one byte stream (caller frees) */
static unsigned char *conversation(uint64_t *s, size_t *outlen)
{
    static const char connect_data[] = "client.example.org\0" "4\x9c\x40" "192.0.2.9";
    char rcpt[64];
    size_t cap = 4096, o = 0;
    unsigned char *b = malloc(cap), d[12];
#define ADD(cmd, p, n)                                   \
    do {                                                 \
        put32(b + o, (uint32_t)(n) + 1);                 \
        b[o + 4] = (cmd);                                \
        memcpy(b + o + 5, (p), (n));                     \
        o += 5 + (n);                                    \
    } while (0)
    if (b == NULL)
        abort();
    optneg_data(d);
    ADD(SMFIC_OPTNEG, d, 12);
    ADD(SMFIC_MACRO, "Cj\0mx.example.net\0_\0client [192.0.2.9]\0", 39);
    ADD(SMFIC_CONNECT, connect_data, sizeof connect_data);
    ADD(SMFIC_HELO, "client.example.org", 19);
    ADD(SMFIC_MACRO, "Mi\0ABC123\0{mail_addr}\0a@example.org\0", 36);
    ADD(SMFIC_MAIL, "<a@example.org>\0SIZE=100", 25);
    int n = snprintf(rcpt, sizeof rcpt, "<r%u@example.net>", rnd(s) % 1000);
    ADD(SMFIC_RCPT, rcpt, (size_t)n + 1);
    ADD(SMFIC_DATA, "", 0);
    ADD(SMFIC_HEADER, "From\0 a@example.org", 20);
    ADD(SMFIC_HEADER, "DKIM-Signature\0 v=1; a=rsa-sha256; d=example.org; s=x; h=from; bh=; b=", 70);
    ADD(SMFIC_EOH, "", 0);
    ADD(SMFIC_BODY, "hello\r\n", 7);
    ADD(SMFIC_BODYEOB, "", 0);
    ADD(SMFIC_QUIT, "", 0);
#undef ADD
    *outlen = o;
    return b;
}

/* mutable_byte - is stream[at] a data byte of a packet other than a macro
 * packet (so that a change keeps the framing and the macro lists even)? */
static int mutable_byte(const unsigned char *stream, size_t len, size_t at)
{
    size_t o = 0;
    while (o + 5 <= len) {
        size_t plen = (size_t)stream[o] << 24 | (size_t)stream[o + 1] << 16
                      | (size_t)stream[o + 2] << 8 | stream[o + 3];
        if (at < o + 5)
            return 0;
        if (at < o + 4 + plen)
            return stream[o + 4] != SMFIC_MACRO;
        o += 4 + plen;
    }
    return 0;
}

/* hostile - one hostile connection; returns the case it ran */
static int hostile(uint64_t *s)
{
    struct mc_conn c;
    int kind = (int)(rnd(s) % PF_CASES), fd;
    unsigned char d[12], *buf = NULL;
    size_t len;

    mc_init(&c, 2000);
    if (mc_connect(&c, sock_spec) != MC_OK) {
        mc_close(&c);
        return -1;
    }
    fd = c.fd;
    optneg_data(d);
    switch (kind) {
    case 0: /* garbage, no negotiation */
        len = rnd(s) % 4096;
        buf = malloc(len + 1);
        fill(s, buf, len);
        write_all(fd, buf, len);
        break;
    case 1: { /* a length field that lies */
        static const uint32_t lens[] = { 0, 1, 2, 0xffffffffu, 0x7fffffffu, 0x10000000u, 65536 };
        valid_packet(fd, SMFIC_OPTNEG, d, 12);
        len = rnd(s) % 512;
        buf = malloc(len + 1);
        fill(s, buf, len);
        uint32_t lf = rnd(s) % 2 ? lens[rnd(s) % 7] : (uint32_t)len + 1 + (rnd(s) % 9) - 4;
        int cmds[] = { SMFIC_CONNECT, SMFIC_HELO, SMFIC_MAIL, SMFIC_RCPT, SMFIC_DATA,
                       SMFIC_HEADER, SMFIC_BODY, SMFIC_OPTNEG };
        packet(fd, lf, cmds[rnd(s) % 8], buf, len);
        break;
    }
    case 2: { /* unknown command bytes */
        static const char known[] = "ABCDEHKLMNOQRTU";
        valid_packet(fd, SMFIC_OPTNEG, d, 12);
        for (int i = 0; i < 4; i++) {
            int cmd;
            do
                cmd = (int)(rnd(s) & 0xff);
            while (memchr(known, cmd, sizeof known - 1) != NULL);
            len = rnd(s) % 64;
            unsigned char tmp[64];
            fill(s, tmp, len);
            valid_packet(fd, cmd, tmp, len);
        }
        break;
    }
    case 3: { /* valid commands, random order, random arguments */
        static const int cmds[] = { SMFIC_CONNECT, SMFIC_HELO, SMFIC_MAIL, SMFIC_RCPT,
                                    SMFIC_DATA, SMFIC_HEADER, SMFIC_EOH, SMFIC_BODY,
                                    SMFIC_BODYEOB, SMFIC_ABORT, SMFIC_MACRO, SMFIC_OPTNEG,
                                    SMFIC_UNKNOWN, SMFIC_QUIT_NC };
        if (rnd(s) % 4)
            valid_packet(fd, SMFIC_OPTNEG, d, 12);
        for (int i = 0, n = 1 + (int)(rnd(s) % 12); i < n; i++) {
            unsigned char tmp[96];
            len = rnd(s) % sizeof tmp;
            fill(s, tmp, len);
            for (size_t k = 0; k < len; k++)
                if (rnd(s) % 3 == 0)
                    tmp[k] = (unsigned char)("<>@a.0\0:"[rnd(s) % 8]);
            int cmd = cmds[rnd(s) % 14];
            if (cmd == SMFIC_MACRO)
                len = even_macros(tmp, len, sizeof tmp);
            if (valid_packet(fd, cmd, tmp, len) < 0)
                break;
        }
        break;
    }
    case 4: { /* huge macros */
        valid_packet(fd, SMFIC_OPTNEG, d, 12);
        size_t vlen = rnd(s) % 2 ? 1u << 20 : rnd(s) % 70000;
        int pairs = (int)(rnd(s) % 3000);
        len = 1 + (size_t)pairs * 12 + vlen + 16;
        buf = malloc(len);
        size_t o = 0;
        buf[o++] = "CHMRTE"[rnd(s) % 6];
        for (int i = 0; i < pairs; i++) {
            o += (size_t)sprintf((char *)buf + o, "{m%d}", i % 1000) + 1;
            buf[o++] = 'v';
            buf[o++] = 0;
        }
        memcpy(buf + o, "{big}", 6);
        o += 6;
        memset(buf + o, 'x', vlen);
        o += vlen;
        buf[o++] = 0;
        valid_packet(fd, SMFIC_MACRO, buf, o);
        /* and a command to make the macros count */
        valid_packet(fd, SMFIC_CONNECT, "h\0" "4\0\x19" "192.0.2.1", 15);
        break;
    }
    case 5: { /* a correct conversation, mutated or cut */
        buf = conversation(s, &len);
        for (int i = 0, n = 1 + (int)(rnd(s) % 8); i < n; i++) {
            size_t at = rnd(s) % len;
            if (mutable_byte(buf, len, at))
                buf[at] = (unsigned char)rnd(s);
        }
        if (rnd(s) % 2)
            len = rnd(s) % len;
        write_all(fd, buf, len);
        break;
    }
    default: /* a correct start, then the client vanishes mid-packet */
        buf = conversation(s, &len);
        write_all(fd, buf, 40 + rnd(s) % 80);
        break;
    }
    free(buf);
    drain(fd, 30 + (int)(rnd(s) % 100));
    mc_close(&c);
    return kind;
}

/* defined - an answer a correct client may get: at RCPT, or none at a
 * step greyrep negotiated no reply for (connect, HELO, MAIL) */
static int defined(const struct mc_reply *r)
{
    return r->code == SMFIR_CONTINUE || r->code == SMFIR_TEMPFAIL || r->code == SMFIR_ACCEPT
           || r->code == MC_NOREPLY || (r->code == SMFIR_REPLYCODE && r->text[0] == '4');
}

/* correct_once - one correct conversation; NULL or why it failed */
static const char *correct_once(unsigned long n, char *why, size_t len)
{
    struct mc_conn c;
    struct mc_reply r;
    struct mc_str from = { "<good@example.org>", 18 };
    char rcpt[64], addr[32];
    int rc, rl, al;

    mc_init(&c, 10000);
    rl = snprintf(rcpt, sizeof rcpt, "<good%lu@example.net>", n);
    al = snprintf(addr, sizeof addr, "192.0.2.%lu", 1 + n % 200);
    if ((rc = mc_connect(&c, sock_spec)) != MC_OK || (rc = mc_negotiate(&c)) != MC_OK
        || (rc = mc_send_connect(&c, "good.example.org", 16, SMFIA_INET, 25000, addr,
                                 (size_t)al, &r)) != MC_OK
        || !defined(&r) || (rc = mc_send_helo(&c, "good.example.org", 16, &r)) != MC_OK
        || !defined(&r) || (rc = mc_send_mail(&c, &from, 1, &r)) != MC_OK || !defined(&r)
        || (rc = mc_send_rcpt(&c, rcpt, (size_t)rl, &r)) != MC_OK || !defined(&r)
        || (rc = mc_send_abort(&c)) != MC_OK || (rc = mc_send_quit(&c)) != MC_OK) {
        if (rc != MC_OK)
            snprintf(why, len, "%s", c.err);
        else
            snprintf(why, len, "reply '%c' %s", r.code > 1 ? r.code : '?', r.text);
        mc_close(&c);
        return why;
    }
    mc_close(&c);
    return NULL;
}

/* correct_loop - a correct client thread */
static void *correct_loop(void *arg)
{
    unsigned long id = (unsigned long)(uintptr_t)arg, n = id * 1000000;
    char why[300];

    while (!stopping) {
        const char *w = correct_once(n++, why, sizeof why);
        pthread_mutex_lock(&lock);
        if (w == NULL) {
            correct_ok++;
        } else {
            correct_failed++;
            if (failures_shown++ < 5)
                fprintf(stderr, "protofuzz: correct conversation %lu failed: %s\n", n, w);
        }
        pthread_mutex_unlock(&lock);
        usleep(20000);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    double secs = 20, end;
    unsigned long maxconn = 0, hostile_total = 0, connfail = 0;
    uint64_t seed = (uint64_t)time(NULL);
    int clients = 1, opt;
    pthread_t th[16];
    char why[300];

    while ((opt = getopt(argc, argv, "s:d:n:S:c:")) != -1) {
        switch (opt) {
        case 's': sock_spec = optarg; break;
        case 'd': secs = atof(optarg); break;
        case 'n': maxconn = strtoul(optarg, NULL, 10); break;
        case 'S': seed = strtoull(optarg, NULL, 10); break;
        case 'c': clients = atoi(optarg); break;
        default: goto usage;
        }
    }
    if (sock_spec == NULL || clients < 1 || clients > 16 || secs <= 0) {
usage:
        fprintf(stderr, "usage: protofuzz -s SOCKET [-d SECONDS] [-n CONNECTIONS] "
                        "[-S SEED] [-c CLIENTS]\n");
        return 2;
    }
    if (seed == 0)
        seed = 1;
    printf("protofuzz: seed %llu\n", (unsigned long long)seed);
    fflush(stdout);
    for (int i = 0; i < clients; i++)
        pthread_create(&th[i], NULL, correct_loop, (void *)(uintptr_t)(i + 1));
    end = now_s() + secs;
    while (now_s() < end && (maxconn == 0 || hostile_total < maxconn)) {
        int k = hostile(&seed);
        if (k < 0) {
            if (++connfail > 20)
                break;      /* the milter stopped accepting */
            usleep(100000);
            continue;
        }
        hostile_done[k]++;
        hostile_total++;
    }
    stopping = 1;
    for (int i = 0; i < clients; i++)
        pthread_join(th[i], NULL);
    /* the milter must still answer at the end */
    const char *last = correct_once(999999, why, sizeof why);
    if (last != NULL) {
        fprintf(stderr, "protofuzz: final correct conversation failed: %s\n", last);
        correct_failed++;
    } else {
        correct_ok++;
    }
    printf("protofuzz: hostile %lu (", hostile_total);
    for (int i = 0; i < PF_CASES; i++)
        printf("%s%s %lu", i ? ", " : "", case_names[i], hostile_done[i]);
    printf(") connect failures %lu correct %lu failed %lu\n", connfail, correct_ok,
           correct_failed);
    return correct_failed == 0 && connfail <= 20 && hostile_total > 0 ? 0 : 1;
}
