/*
 * NAME
 *   unit_util - scratch directories, files and crash isolation for the
 *   unit tests
 * DESCRIPTION
 *   unit_tmpdir() makes a fresh private directory under $TMPDIR (or /tmp);
 *   unit_rmtree() removes it with everything in it.  unit_write() writes a
 *   whole file.  Failures to set up abort the test program: a test that
 *   cannot set up its scratch space must not report anything as passed.
 *
 *   unit_isolated() runs a function in a child process, so that a crash in
 *   the code under test fails one test case instead of killing the whole
 *   program (and every case after it).  The function must not use cmocka's
 *   assertions (they would longjmp into the child's copy of the runner);
 *   it prints what went wrong to stderr and returns nonzero.
 */
#ifndef GREYREP_UNIT_UTIL_H
#define GREYREP_UNIT_UTIL_H

#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* unit_tmpdir - a new empty directory; the path goes into buf */
static inline const char *unit_tmpdir(char *buf, size_t len)
{
    const char *base = getenv("TMPDIR");

    if (base == NULL || *base == '\0')
        base = "/tmp";
    if ((size_t)snprintf(buf, len, "%s/greyrep-unit.XXXXXX", base) >= len
        || mkdtemp(buf) == NULL) {
        perror("mkdtemp");
        abort();
    }
    return buf;
}

/* unit_rm_one - nftw callback: remove one entry, depth first */
static inline int unit_rm_one(const char *path, const struct stat *sb, int flag,
                              struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 ? 0 : -1;
}

/* unit_rmtree - remove a scratch directory and everything in it */
static inline void unit_rmtree(const char *path)
{
    if (path != NULL && path[0] != '\0')
        nftw(path, unit_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* unit_write - write text to dir/name; the path goes into out */
static inline const char *unit_write(const char *dir, const char *name, const char *text,
                                     char *out, size_t len)
{
    FILE *fp;

    if ((size_t)snprintf(out, len, "%s/%s", dir, name) >= len
        || (fp = fopen(out, "w")) == NULL || fputs(text, fp) < 0 || fclose(fp) != 0) {
        perror(out);
        abort();
    }
    return out;
}

/* unit_isolated - run fn(arg) in a child; NULL if it returned 0, else why not */
static inline const char *unit_isolated(int (*fn)(void *), void *arg, char *why, size_t len)
{
    pid_t pid;
    int status;

    fflush(NULL);
    if ((pid = fork()) < 0) {
        perror("fork");
        abort();
    }
    if (pid == 0) {
        int rc = fn(arg);
        fflush(NULL);
        _exit(rc == 0 ? 0 : 1);
    }
    while (waitpid(pid, &status, 0) < 0)
        ;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return NULL;
    if (WIFSIGNALED(status))
        snprintf(why, len, "crashed with signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(why, len, "failed (exit status %d)", WEXITSTATUS(status));
    return why;
}

#endif
