/*
 * NAME
 *   log - greyrep's logging: syslog (LOG_MAIL) and, with -f, stderr
 * DESCRIPTION
 *   Three severities, after Postfix: log_warn() for bad input or a failure
 *   at run time (the caller then answers with on_error), log_fatal() for a
 *   broken environment at start-up (exits 1), log_panic() for our own bug
 *   (aborts).  log_info() for decisions, log_debug() only when enabled.
 *   Every line about a message should name the client address and, where
 *   known, the queue id: see milter.c.
 * THREADS
 *   Safe from any thread.
 */
#ifndef GREYREP_LOG_H
#define GREYREP_LOG_H

#include <stdarg.h>

#if defined(__GNUC__)
#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define LOG_NORETURN __attribute__((noreturn))
#else
#define LOG_PRINTF(a, b)
#define LOG_NORETURN
#endif

/* log_open - start logging as ident; to_stderr also copies every line to stderr */
void log_open(const char *ident, int to_stderr, int use_syslog);
void log_set_debug(int on);
int log_debug_enabled(void);

void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_err(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_fatal(const char *fmt, ...) LOG_PRINTF(1, 2) LOG_NORETURN;
void log_panic(const char *fmt, ...) LOG_PRINTF(1, 2) LOG_NORETURN;

#endif
