/*
 * ctl_owner.c - open the store as [milter] user; see ctl_owner.h
 */
#include "autoconf.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl_owner.h"

#define CTL_MAX_GROUPS 256

/* become - effective ids (and groups) of pw; 0 or -1 */
static int become(const struct passwd *pw)
{
    gid_t groups[CTL_MAX_GROUPS];
    int n = CTL_MAX_GROUPS;

    if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
        n = 0; /* more than we keep: the primary group alone */
    if (setgroups(n > 0 ? (size_t)n : 1, n > 0 ? groups : &pw->pw_gid) != 0)
        return -1;
    if (setegid(pw->pw_gid) != 0 || seteuid(pw->pw_uid) != 0)
        return -1;
    return 0;
}

struct store *ctl_store_open(const struct cfg *cfg, char *err, size_t errlen)
{
    const char *path = cfg->store.path;
    gid_t saved[CTL_MAX_GROUPS];
    int nsaved;
    struct passwd *pw;
    struct store *st;
    struct stat sb;

    if (geteuid() != 0 || cfg->store.backend != BACKEND_LMDB || cfg->user[0] == '\0')
        return store_open(&cfg->store, err, errlen);
    if ((pw = getpwnam(cfg->user)) == NULL) {
        snprintf(err, errlen,
                 "the [milter] user %s does not exist, and greyrep will run as it: create it "
                 "(adduser --system --group %s) or change \"user\" in the configuration",
                 cfg->user, cfg->user);
        return NULL;
    }
    /* the parent directory is usually root's: make the store directory here */
    if (stat(path, &sb) != 0) {
        if (errno != ENOENT || mkdir(path, 0750) != 0 || chown(path, pw->pw_uid, pw->pw_gid) != 0) {
            snprintf(err, errlen, "cannot create %s for user %s: %s", path, cfg->user,
                     strerror(errno));
            return NULL;
        }
    }
    if ((nsaved = getgroups(CTL_MAX_GROUPS, saved)) < 0)
        nsaved = 0;
    if (become(pw) != 0) {
        snprintf(err, errlen, "cannot take on user %s to open the store: %s", cfg->user,
                 strerror(errno));
        return NULL;
    }
    st = store_open(&cfg->store, err, errlen);
    if (seteuid(0) != 0 || setegid(0) != 0 || setgroups((size_t)nsaved, saved) != 0) {
        /* cannot happen with a saved uid of 0; never go on half-dropped */
        if (st != NULL)
            store_close(st);
        snprintf(err, errlen, "cannot take back root after opening the store: %s",
                 strerror(errno));
        return NULL;
    }
    if (st == NULL) {
        size_t used = strlen(err);
        snprintf(err + used, used < errlen ? errlen - used : 0,
                 "; greyrepctl opens the store as the [milter] user %s, as greyrep does: "
                 "if %s may not write to %s, give it the store with: chown -R %s: %s",
                 cfg->user, cfg->user, path, cfg->user, path);
    }
    return st;
}
