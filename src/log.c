/*
 * log.c - syslog and stderr logging; see log.h
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <pthread.h>
#include <time.h>

#include "log.h"

static int log_stderr = 1;
static int log_syslog;
static int log_debug_on;
static const char *log_ident = "greyrep";
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void log_open(const char *ident, int to_stderr, int use_syslog)
{
    log_ident = ident;
    log_stderr = to_stderr;
    log_syslog = use_syslog;
    if (use_syslog)
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void log_set_debug(int on) { log_debug_on = on; }
int log_debug_enabled(void) { return log_debug_on; }

/* log_emit - one line to syslog and/or stderr; control bytes are made visible */
static void log_emit(int prio, const char *tag, const char *fmt, va_list ap)
{
    char buf[2048];
    vsnprintf(buf, sizeof buf, fmt, ap);
    /* A line may quote a hostile peer: keep it one printable line. */
    for (unsigned char *p = (unsigned char *)buf; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            *p = '?';
    if (log_syslog)
        syslog(prio, "%s%s", tag, buf);
    if (log_stderr) {
        struct timespec ts;
        struct tm tm;
        char when[32];
        clock_gettime(CLOCK_REALTIME, &ts);
        localtime_r(&ts.tv_sec, &tm);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
        pthread_mutex_lock(&log_lock);
        fprintf(stderr, "%s.%03ld %s: %s%s\n", when, ts.tv_nsec / 1000000,
                log_ident, tag, buf);
        pthread_mutex_unlock(&log_lock);
    }
}

#define LOG_BODY(prio, tag)                                                     \
    va_list ap;                                                                 \
    va_start(ap, fmt);                                                          \
    log_emit(prio, tag, fmt, ap);                                               \
    va_end(ap)

void log_debug(const char *fmt, ...)
{
    if (!log_debug_on)
        return;
    LOG_BODY(LOG_DEBUG, "debug: ");
}
void log_info(const char *fmt, ...) { LOG_BODY(LOG_INFO, ""); }
void log_warn(const char *fmt, ...) { LOG_BODY(LOG_WARNING, "warning: "); }
void log_err(const char *fmt, ...) { LOG_BODY(LOG_ERR, "error: "); }

void log_fatal(const char *fmt, ...)
{
    LOG_BODY(LOG_CRIT, "fatal: ");
    exit(1);
}

void log_panic(const char *fmt, ...)
{
    LOG_BODY(LOG_CRIT, "panic: ");
    abort();
}
