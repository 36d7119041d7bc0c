/*
 * NAME
 *   fuzz.h - what every fuzz target shares
 * DESCRIPTION
 *   A target defines LLVMFuzzerTestOneInput() and LLVMFuzzerInitialize()
 *   (its one-time set-up).  It is linked either
 *   with libFuzzer (`make fuzz`, clang) or with driver.c, a plain main()
 *   that replays the files and directories named on its command line
 *   (`make check`).  FUZZ_ASSERT() checks an invariant in both builds: a
 *   violation prints the condition and aborts, which both count as a crash.
 */
#ifndef GREYREP_FUZZ_H
#define GREYREP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(c)                                                          \
    do {                                                                        \
        if (!(c)) {                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #c); \
            abort();                                                            \
        }                                                                       \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* fuzz_cstr - a malloc'ed NUL-terminated copy of data (cut at its first NUL) */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* fuzz_split - cut s in place at the first sep; returns the rest or NULL */
static inline char *fuzz_split(char *s, char sep)
{
    char *p = s ? strchr(s, sep) : NULL;
    if (p == NULL)
        return NULL;
    *p = '\0';
    return p + 1;
}

/* fuzz_strict - GREYREP_FUZZ_STRICT=1 also checks the invariants that
 * known, not yet fixed defects break (see tests/fuzz/known/README) */
static inline int fuzz_strict(void)
{
    const char *s = getenv("GREYREP_FUZZ_STRICT");
    return s != NULL && s[0] == '1';
}

#endif
