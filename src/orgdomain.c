/*
 * orgdomain.c - organisational domains through libpsl; see orgdomain.h
 */
#include "autoconf.h"

#include <libpsl.h>
#include <pthread.h>
#include <string.h>

#include "log.h"
#include "orgdomain.h"
#include "util.h"

static pthread_once_t org_once = PTHREAD_ONCE_INIT;
static const char *org_path;    /* set by org_init() before the once */
static const psl_ctx_t *org_psl;
static int org_builtin;

/* org_load - the once: the file, else the built-in list */
static void org_load(void)
{
    const char *path = org_path != NULL ? org_path : ORG_PSL_FILE;
    psl_ctx_t *ctx = psl_load_file(path);

    if (ctx != NULL) {
        org_psl = ctx;      /* kept for the life of the process */
        return;
    }
    org_psl = psl_builtin();
    org_builtin = 1;
    log_warn("public suffix list %s not readable: using libpsl's built-in list%s", path,
             org_psl == NULL ? " (none: every name is its own organisation)" : "");
}

int org_init(const char *path)
{
    org_path = path;
    pthread_once(&org_once, org_load);
    return org_builtin;
}

const char *org_source(void)
{
    pthread_once(&org_once, org_load);
    return org_builtin ? "builtin" : "file";
}

/* org_find - lower-cased copy of name in buf and its organisational
 * domain inside buf, or NULL */
static const char *org_find(const char *name, char *buf, size_t buflen)
{
    size_t n;

    if (name == NULL)
        return NULL;
    n = strnlen(name, buflen);
    if (n == 0 || n >= buflen)
        return NULL;
    memcpy(buf, name, n + 1);
    if (buf[n - 1] == '.')
        buf[--n] = '\0';
    if (n == 0 || !util_dns_name_ok(buf, n))
        return NULL;
    util_lower(buf);
    pthread_once(&org_once, org_load);
    if (org_psl == NULL) {
        /* no list at all: the last two labels, the old approximation */
        const char *p = strrchr(buf, '.');
        if (p == NULL)
            return NULL;
        while (p > buf && p[-1] != '.')
            p--;
        return p;
    }
    return psl_registrable_domain(org_psl, buf);
}

int org_domain(const char *name, char *out, size_t len)
{
    char buf[ORG_NAME_MAX];
    const char *d = org_find(name, buf, sizeof buf);

    if (d == NULL || strlen(d) >= len)
        return -1;
    memcpy(out, d, strlen(d) + 1);
    return 0;
}

int org_host_len(const char *name)
{
    char buf[ORG_NAME_MAX];
    const char *d = org_find(name, buf, sizeof buf);

    if (d == NULL)
        return -1;
    return d == buf ? 0 : (int)(d - buf - 1);
}
