/*
 * metrics_http.c - the optional [metrics] listen endpoint; see metrics.h
 *
 * Deliberately small: one thread, one connection at a time, a request read
 * of at most METRICS_HTTP_REQUEST_MAX bytes within two seconds, GET
 * /metrics answered with this process's counters and anything else with
 * 404 or 405, then the connection is closed.  A scraper that sends too
 * much or too slowly gets 400 and is dropped; it can delay the next
 * scrape by two seconds at most, never a decision.  No TLS and no
 * authentication: bind it to loopback (the default when only a port is
 * given) or to an address only the monitoring host reaches.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "util.h"

#define METRICS_HTTP_REQUEST_MAX 4096

static int http_fd = -1;
static volatile int http_stopping;
static pthread_t http_tid;
static time_t http_started;

int metrics_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[64];
    const char *colon, *port_text;
    uint64_t port;

    memset(ss, 0, sizeof *ss);
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':' || (size_t)(close - s - 1) >= sizeof host)
            return -1;
        memcpy(host, s + 1, (size_t)(close - s - 1));
        host[close - s - 1] = '\0';
        port_text = close + 2;
    } else if ((colon = strrchr(s, ':')) != NULL) {
        if ((size_t)(colon - s) >= sizeof host || strchr(s, ':') != colon)
            return -1;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
        port_text = colon + 1;
    } else {
        util_strlcpy(host, "127.0.0.1", sizeof host);
        port_text = s;
    }
    if (util_parse_u64(port_text, 1, 65535, &port) < 0)
        return -1;
    if (s[0] == '[') {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
            return -1;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        *len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
            return -1;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        *len = sizeof *a;
    }
    return 0;
}

/* send_all - write the whole buffer, or give up on an error */
static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) {
            if (w < 0 && errno == EINTR)
                continue;
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

/* reply - one HTTP/1.0 answer, then the connection is closed */
static void reply(int fd, const char *status, const char *type, const char *body, size_t len)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     status, type, len);
    send_all(fd, head, (size_t)n);
    send_all(fd, body, len);
}

/* serve - read one request (bounded in size and time) and answer it */
static void serve(int fd)
{
    char req[METRICS_HTTP_REQUEST_MAX + 1];
    size_t got = 0;
    struct timeval tv = {2, 0};

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    while (got < METRICS_HTTP_REQUEST_MAX) {
        ssize_t r = recv(fd, req + got, METRICS_HTTP_REQUEST_MAX - got, 0);
        if (r <= 0)
            break;
        got += (size_t)r;
        req[got] = '\0';
        if (strstr(req, "\r\n\r\n") != NULL || strstr(req, "\n\n") != NULL)
            break;
    }
    req[got] = '\0';
    if (strstr(req, "\r\n\r\n") == NULL && strstr(req, "\n\n") == NULL) {
        static const char msg[] = "bad request\n";
        reply(fd, "400 Bad Request", "text/plain", msg, sizeof msg - 1);
        return;
    }
    if (strncmp(req, "GET ", 4) != 0 && strncmp(req, "HEAD ", 5) != 0) {
        static const char msg[] = "only GET\n";
        reply(fd, "405 Method Not Allowed", "text/plain", msg, sizeof msg - 1);
        return;
    }
    const char *path = strchr(req, ' ') + 1;
    if (strncmp(path, "/metrics ", 9) != 0 && strncmp(path, "/metrics?", 9) != 0) {
        static const char msg[] = "not found: try /metrics\n";
        reply(fd, "404 Not Found", "text/plain", msg, sizeof msg - 1);
        return;
    }
    {
        struct metrics_instance in;
        char *body = NULL;
        size_t len = 0;
        FILE *out;
        time_t now = util_now();

        memset(&in, 0, sizeof in);
        util_hostname(in.host, sizeof in.host);
        metrics_snapshot(&in.m);
        metrics_last_store(&in.m.store_records, &in.m.store_bytes);
        in.m.since = (uint64_t)http_started;
        in.m.updated = (uint64_t)now;
        if ((out = open_memstream(&body, &len)) == NULL) {
            static const char msg[] = "out of memory\n";
            reply(fd, "500 Internal Server Error", "text/plain", msg, sizeof msg - 1);
            return;
        }
        metrics_prometheus(out, &in, 1, now);
        fclose(out);
        if (strncmp(req, "HEAD ", 5) == 0)
            len = 0;
        reply(fd, "200 OK", "text/plain; version=0.0.4", body, len);
        free(body);
    }
}

/* http_thread - accept and serve until metrics_http_stop() */
static void *http_thread(void *arg)
{
    (void)arg;
    while (!http_stopping) {
        struct pollfd p = {http_fd, POLLIN, 0};
        int c;
        if (poll(&p, 1, 500) <= 0)
            continue;
        if ((c = accept(http_fd, NULL, NULL)) < 0)
            continue;
        serve(c);
        /* let the client read the answer: drain a little of what it still
         * sends (bounded, within the receive timeout), then close */
        shutdown(c, SHUT_WR);
        {
            char sink[1024];
            size_t drained = 0;
            ssize_t r;
            while (drained < 16384 && (r = recv(c, sink, sizeof sink, 0)) > 0)
                drained += (size_t)r;
        }
        close(c);
    }
    return NULL;
}

int metrics_http_start(const char *listen_on, time_t started, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int one = 1;

    if (listen_on == NULL || listen_on[0] == '\0')
        return 0;
    if (metrics_parse_listen(listen_on, &ss, &len) < 0) {
        snprintf(err, errlen, "[metrics] listen = %s: not PORT, IPv4:PORT or [IPv6]:PORT",
                 listen_on);
        return -1;
    }
    if ((http_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0
        || setsockopt(http_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0
        || bind(http_fd, (struct sockaddr *)&ss, len) < 0 || listen(http_fd, 8) < 0) {
        snprintf(err, errlen, "[metrics] listen = %s: %s", listen_on, strerror(errno));
        if (http_fd >= 0)
            close(http_fd);
        http_fd = -1;
        return -1;
    }
    http_started = started;
    if (pthread_create(&http_tid, NULL, http_thread, NULL) != 0) {
        snprintf(err, errlen, "[metrics] listen: cannot start a thread");
        close(http_fd);
        http_fd = -1;
        return -1;
    }
    log_info("metrics on http://%s/metrics", listen_on);
    return 0;
}

void metrics_http_stop(void)
{
    if (http_fd < 0)
        return;
    http_stopping = 1;
    pthread_join(http_tid, NULL);
    close(http_fd);
    http_fd = -1;
}
