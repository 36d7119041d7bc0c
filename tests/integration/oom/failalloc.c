/*
 * failalloc.c - LD_PRELOAD shim for tests/integration/oom.sh: while the
 * file $GR_FAIL_CALLOC_FILE exists, calloc(1, $GR_FAIL_CALLOC) returns
 * NULL, and while $GR_FAIL_REALLOC_FILE exists, realloc(NULL,
 * $GR_FAIL_REALLOC) does, so that greyrep's
 * out-of-memory paths in the milter callbacks run for real.  Everything
 * else goes to glibc.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);

/* size_env - the size named in an environment variable, 0 if none */
static size_t size_env(const char *name)
{
    const char *v = getenv(name);
    return v ? (size_t)strtoul(v, NULL, 10) : 0;
}

/* failing - is the trigger file named by variable there? */
static int failing(const char *variable)
{
    const char *f = getenv(variable);
    return f != NULL && access(f, F_OK) == 0;
}

void *calloc(size_t n, size_t size)
{
    size_t want = size_env("GR_FAIL_CALLOC");
    if (want != 0 && n == 1 && size == want && failing("GR_FAIL_CALLOC_FILE")) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
    size_t want = size_env("GR_FAIL_REALLOC");
    if (want != 0 && p == NULL && size == want && failing("GR_FAIL_REALLOC_FILE")) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_realloc(p, size);
}
