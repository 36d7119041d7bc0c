/*
 * NAME
 *   config - greyrep.conf: parse, validate, reference-count, reload
 * DESCRIPTION
 *   cfg_load() reads an INI file into a new struct cfg and loads the
 *   whitelist files it names.  Every problem is reported as "FILE:LINE:
 *   message" through the report callback, and all problems are reported,
 *   not just the first.  An unknown section or key is an error.
 *
 *   The daemon holds the current configuration in one global reference
 *   (cfg_current / cfg_swap).  A connection takes a reference at connect
 *   and drops it at close, so a reload on SIGUSR1 never changes the rules
 *   under a message that is being decided.
 * THREADS
 *   cfg_current(), cfg_swap() and cfg_release() are thread-safe; a struct
 *   cfg is read-only once loaded.
 */
#ifndef GREYREP_CONFIG_H
#define GREYREP_CONFIG_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "netaddr.h"

#define CFG_DEFAULT_FILE SYSCONFDIR "/greyrep/greyrep.conf"

enum cfg_on_error { ON_ERROR_ACCEPT, ON_ERROR_TEMPFAIL };
enum cfg_backend { BACKEND_LMDB, BACKEND_REDIS };

struct cfg_store {
    enum cfg_backend backend;
    char path[PATH_MAX];          /* LMDB environment directory */
    uint64_t map_size;            /* initial LMDB map size; grows when full */
    unsigned sync_interval;       /* s between fsyncs; 0 = at every commit */
    unsigned sweep_interval;      /* s between expiry sweeps */
    char redis[256];              /* host:port, [v6]:port or unix:/path */
    char redis_password[128];
    int redis_db;
    unsigned redis_timeout_ms;
    char redis_prefix[64];
    /* Redis deployments: ACL user, Sentinel (see redis_sentinel.h) */
    char redis_user[128];         /* empty: AUTH password alone */
    char redis_sentinels[512];    /* host:port, ...; empty: redis is fixed */
    char redis_master_name[128];
    char redis_sentinel_password[128];
};

struct cfg_greylist {
    unsigned delay;               /* seconds */
    unsigned retry_window;
    unsigned pass_lifetime;
    unsigned ipv4_prefix;
    unsigned ipv6_prefix;
    unsigned auto_whitelist;      /* passes before a client is whitelisted; 0 = off */
    unsigned suspicious_delay;    /* delay for senders the checks find suspicious */
    int read_mostly;              /* known records rewritten at most every
                                   * pass_lifetime / GREY_REFRESH_DIV */
};

/* What a check's bad result does to the verdict. */
enum cfg_action { ACT_NONE, ACT_GREYLIST, ACT_TEMPFAIL, ACT_REJECT };

/* [reputation], [ratelimit], [greytrap] and [greylist] selective; the
 * meaning of each is in reputation.h */
struct cfg_rep {
    int enabled;
    unsigned half_life;           /* s: counters halve in this time */
    unsigned min_messages;        /* good history before trust */
    unsigned min_age;             /* s from first sight before trust */
    unsigned trust_lifetime;      /* s of silence after which trust is lost */
    unsigned trust_score;         /* 0..100 */
    unsigned suspicious_score;
    unsigned bad_score;
    enum cfg_action bad_action;   /* tempfail | reject */
    int defer_dkim;               /* accept at RCPT, decide at end of message */
    int selective;                /* [greylist] selective */
    int rl_enabled;               /* [ratelimit] enabled */
    unsigned rl_rate;             /* tokens (recipients) an hour, new identity */
    unsigned rl_burst;            /* bucket capacity, new identity */
    unsigned rl_multiple;         /* established: this many times its usual rate */
    char trap_file[PATH_MAX];     /* [greytrap] recipients */
    unsigned trap_penalty;        /* s a client that mailed a trap stays bad */
};

struct wl;
struct dnsbl_list;

struct cfg {
    char file[PATH_MAX];
    /* [milter] */
    char socket[PATH_MAX + 16];
    char user[64];
    char socket_group[64];
    mode_t socket_mode;
    char pidfile[PATH_MAX];
    enum cfg_on_error on_error;
    char authserv_id[256];
    struct net_cidr *trusted;     /* trusted_networks */
    size_t ntrusted;
    /* [store] */
    struct cfg_store store;
    /* [greylist] */
    struct cfg_greylist grey;
    /* [whitelist] */
    char wl_clients[PATH_MAX];
    char wl_recipients[PATH_MAX];
    char wl_senders[PATH_MAX];
    struct wl *wl;                /* the static lists, loaded from the files */
    /* [dns] */
    char dns_servers[512];
    unsigned dns_timeout_ms;
    /* [spf] */
    int spf_enabled;
    enum cfg_action spf_fail_action;  /* none | greylist | tempfail | reject */
    /* [iprev] */
    int iprev_enabled;
    int iprev_generic;                /* flag generic/dynamic host names */
    /* [dkim] */
    int dkim_enabled;
    unsigned dkim_min_key_bits;
    int dkim_allow_sha1;        /* rsa-sha1 may pass (RFC 8301: no) */
    /* [dnsbl] */
    char dnsbl_zones[2048];
    struct dnsbl_list *dnsbl;         /* parsed zones; n == 0 when none */
    unsigned dnsbl_threshold;         /* score at or over: dnsbl_action */
    enum cfg_action dnsbl_action;     /* tempfail | reject */
    /* [reputation] [ratelimit] [greytrap] */
    struct cfg_rep rep;
    struct wl *greytraps;             /* the trap recipients (rcpt entries) */
    /* [metrics] */
    char metrics_listen[80];          /* "" = no HTTP endpoint */

    int refs;                     /* guarded by the config lock */
};

/* cfg_trusted - is this client in trusted_networks? */
int cfg_trusted(const struct cfg *cfg, const struct net_addr *client);
/* cfg_checks_enabled - does any DNS-based check run? */
int cfg_checks_enabled(const struct cfg *cfg);
/* cfg_action_name - "none", "greylist", "tempfail", "reject" */
const char *cfg_action_name(enum cfg_action a);

/* cfg_report_fn - one problem, already formatted as "FILE:LINE: message" */
typedef void (*cfg_report_fn)(void *arg, const char *line);

/* cfg_load - read file (and its whitelist files); NULL if any problem was
 * reported.  report may be NULL (problems then go to log_err). */
struct cfg *cfg_load(const char *file, cfg_report_fn report, void *arg);
/* cfg_defaults - a configuration with every default, no file */
struct cfg *cfg_defaults(void);
void cfg_free(struct cfg *cfg);

/* cfg_install - make cfg the current one (the old one is released) */
void cfg_install(struct cfg *cfg);
/* cfg_current - a new reference to the current configuration */
struct cfg *cfg_current(void);
/* cfg_release - drop a reference taken with cfg_current() */
void cfg_release(struct cfg *cfg);

/* Value parsers, shared with greyrepctl; 0 on success, -1 on a bad value. */
int cfg_parse_duration(const char *s, unsigned *out);
int cfg_parse_size(const char *s, uint64_t *out);
/* cfg_socket_problem - NULL if a [milter] socket value (or -p) is valid,
 * else why not, naming the value (static text of the calling thread's
 * last check: one loader at a time) */
const char *cfg_socket_problem(const char *value);

#endif
