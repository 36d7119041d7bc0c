/*
 * config.c - greyrep.conf; see config.h
 *
 * The keys are one table: section, name, kind, where the value goes, and
 * its bounds.  Parsing, defaults and error messages all come from it, so a
 * new key is one line here plus its documentation.
 */
#include "autoconf.h"

#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "dnsbl.h"
#include "log.h"
#include "metrics.h"
#include "util.h"
#include "whitelist.h"
#ifdef HAVE_REDIS
#include "redis_sentinel.h"
#endif

enum cfg_kind { K_STR, K_DURATION, K_DURATION_MS, K_UINT, K_SIZE, K_MODE, K_ON_ERROR,
                K_BACKEND, K_NETS, K_SOCKET, K_BOOL, K_ACTION, K_BL_ACTION, K_DNSBL, K_SERVERS,
                K_SENTINELS, K_AUTHSERV, K_LISTEN };

struct cfg_key {
    const char *section;
    const char *name;
    enum cfg_kind kind;
    size_t offset;
    size_t size;          /* K_STR: buffer size */
    uint64_t min, max;    /* K_UINT, K_DURATION (seconds), K_SIZE */
    const char *def;      /* default, as text */
};

#define OFF(field) offsetof(struct cfg, field), sizeof(((struct cfg *)0)->field)

static const struct cfg_key cfg_keys[] = {
    {"milter", "socket", K_SOCKET, OFF(socket), 0, 0, "unix:" RUNSTATEDIR "/greyrep/greyrep.sock"},
    {"milter", "user", K_STR, OFF(user), 0, 0, "greyrep"},
    {"milter", "socket_group", K_STR, OFF(socket_group), 0, 0, ""},
    {"milter", "socket_mode", K_MODE, OFF(socket_mode), 0, 0777, "0660"},
    {"milter", "pidfile", K_STR, OFF(pidfile), 0, 0, RUNSTATEDIR "/greyrep/greyrep.pid"},
    {"milter", "on_error", K_ON_ERROR, OFF(on_error), 0, 0, "accept"},
    {"milter", "authserv_id", K_AUTHSERV, OFF(authserv_id), 0, 0, ""},
    {"milter", "trusted_networks", K_NETS, OFF(trusted), 0, 0, "127.0.0.0/8, ::1/128"},
    {"store", "backend", K_BACKEND, OFF(store.backend), 0, 0, "lmdb"},
    {"store", "path", K_STR, OFF(store.path), 0, 0, LOCALSTATEDIR "/lib/greyrep"},
    {"store", "map_size", K_SIZE, OFF(store.map_size), 1 << 20, 1ULL << 40, "64M"},
    {"store", "sync_interval", K_DURATION, OFF(store.sync_interval), 0, 3600, "1s"},
    {"store", "sweep_interval", K_DURATION, OFF(store.sweep_interval), 1, 86400, "1m"},
    {"store", "redis", K_STR, OFF(store.redis), 0, 0, "127.0.0.1:6379"},
    {"store", "redis_password", K_STR, OFF(store.redis_password), 0, 0, ""},
    {"store", "redis_db", K_UINT, OFF(store.redis_db), 0, 1000, "0"},
    {"store", "redis_timeout", K_DURATION_MS, OFF(store.redis_timeout_ms), 1, 60000, "500ms"},
    {"store", "redis_prefix", K_STR, OFF(store.redis_prefix), 0, 0, "greyrep:"},
    {"store", "redis_user", K_STR, OFF(store.redis_user), 0, 0, ""},
    {"store", "redis_sentinels", K_SENTINELS, OFF(store.redis_sentinels), 0, 0, ""},
    {"store", "redis_master_name", K_STR, OFF(store.redis_master_name), 0, 0, ""},
    {"store", "redis_sentinel_password", K_STR, OFF(store.redis_sentinel_password), 0, 0, ""},
    {"greylist", "delay", K_DURATION, OFF(grey.delay), 0, 30 * 86400, "5m"},
    {"greylist", "retry_window", K_DURATION, OFF(grey.retry_window), 1, 365 * 86400, "2d"},
    {"greylist", "pass_lifetime", K_DURATION, OFF(grey.pass_lifetime), 1, 3650 * 86400U, "35d"},
    {"greylist", "ipv4_prefix", K_UINT, OFF(grey.ipv4_prefix), 0, 32, "24"},
    {"greylist", "ipv6_prefix", K_UINT, OFF(grey.ipv6_prefix), 0, 128, "64"},
    {"greylist", "auto_whitelist", K_UINT, OFF(grey.auto_whitelist), 0, 1000000, "5"},
    {"greylist", "read_mostly", K_BOOL, OFF(grey.read_mostly), 0, 0, "yes"},
    {"greylist", "suspicious_delay", K_DURATION, OFF(grey.suspicious_delay), 0, 30 * 86400, "30m"},
    {"whitelist", "clients", K_STR, OFF(wl_clients), 0, 0, SYSCONFDIR "/greyrep/whitelist_clients"},
    {"whitelist", "recipients", K_STR, OFF(wl_recipients), 0, 0, SYSCONFDIR "/greyrep/whitelist_recipients"},
    {"whitelist", "senders", K_STR, OFF(wl_senders), 0, 0, SYSCONFDIR "/greyrep/whitelist_senders"},
    {"dns", "servers", K_SERVERS, OFF(dns_servers), 0, 0, ""},
    {"dns", "timeout", K_DURATION_MS, OFF(dns_timeout_ms), 100, 600000, "3s"},
    {"spf", "enabled", K_BOOL, OFF(spf_enabled), 0, 0, "yes"},
    {"spf", "fail_action", K_ACTION, OFF(spf_fail_action), 0, 0, "greylist"},
    {"iprev", "enabled", K_BOOL, OFF(iprev_enabled), 0, 0, "yes"},
    {"iprev", "generic_names", K_BOOL, OFF(iprev_generic), 0, 0, "yes"},
    {"dkim", "enabled", K_BOOL, OFF(dkim_enabled), 0, 0, "yes"},
    {"dkim", "min_key_bits", K_UINT, OFF(dkim_min_key_bits), 512, 16384, "1024"},
    {"dkim", "allow_sha1", K_BOOL, OFF(dkim_allow_sha1), 0, 0, "no"},
    {"dnsbl", "zones", K_DNSBL, OFF(dnsbl_zones), 0, 0, ""},
    {"dnsbl", "threshold", K_UINT, OFF(dnsbl_threshold), 1, 100000, "5"},
    {"dnsbl", "action", K_BL_ACTION, OFF(dnsbl_action), 0, 0, "tempfail"},
    /* reputation (reputation.h explains each) */
    {"greylist", "selective", K_BOOL, OFF(rep.selective), 0, 0, "no"},
    {"reputation", "enabled", K_BOOL, OFF(rep.enabled), 0, 0, "yes"},
    {"reputation", "half_life", K_DURATION, OFF(rep.half_life), 3600, 3650 * 86400U, "30d"},
    {"reputation", "min_messages", K_UINT, OFF(rep.min_messages), 1, 1000000, "5"},
    {"reputation", "min_age", K_DURATION, OFF(rep.min_age), 0, 365 * 86400, "2d"},
    {"reputation", "trust_lifetime", K_DURATION, OFF(rep.trust_lifetime), 3600, 3650 * 86400U, "35d"},
    {"reputation", "trust_score", K_UINT, OFF(rep.trust_score), 1, 100, "75"},
    {"reputation", "suspicious_score", K_UINT, OFF(rep.suspicious_score), 0, 99, "35"},
    {"reputation", "bad_score", K_UINT, OFF(rep.bad_score), 0, 99, "20"},
    {"reputation", "bad_action", K_BL_ACTION, OFF(rep.bad_action), 0, 0, "tempfail"},
    {"reputation", "defer_dkim", K_BOOL, OFF(rep.defer_dkim), 0, 0, "no"},
    {"ratelimit", "enabled", K_BOOL, OFF(rep.rl_enabled), 0, 0, "no"},
    {"ratelimit", "rate", K_UINT, OFF(rep.rl_rate), 1, 1000000, "100"},
    {"ratelimit", "burst", K_UINT, OFF(rep.rl_burst), 1, 1000000, "50"},
    {"ratelimit", "multiple", K_UINT, OFF(rep.rl_multiple), 1, 1000, "3"},
    {"greytrap", "recipients", K_STR, OFF(rep.trap_file), 0, 0, SYSCONFDIR "/greyrep/greytraps"},
    {"greytrap", "penalty", K_DURATION, OFF(rep.trap_penalty), 60, 365 * 86400, "1d"},
    /* ops: the optional metrics endpoint, off unless set */
    {"metrics", "listen", K_LISTEN, OFF(metrics_listen), 0, 0, ""},
};
#define NKEYS (sizeof cfg_keys / sizeof cfg_keys[0])

/* cfg_set_uint - store v in a field of 1, 2, 4 or 8 bytes */
static void cfg_set_uint(void *field, size_t size, uint64_t v)
{
    switch (size) {
    case 8: *(uint64_t *)field = v; break;
    case 4: *(uint32_t *)field = (uint32_t)v; break;
    case 2: *(uint16_t *)field = (uint16_t)v; break;
    default: log_panic("cfg_set_uint: field size %zu", size);
    }
}

/* Messages that name the bad value: built in a buffer of the loading
 * thread (only one thread loads a configuration at a time). */
static char cfg_why[1200];

/* cfg_whyf - a message with the bad value in it */
static const char *cfg_whyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *cfg_whyf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cfg_why, sizeof cfg_why, fmt, ap);
    va_end(ap);
    return cfg_why;
}

/* cfg_check_socket - unix:PATH / local:PATH, or inet[6]:PORT[@HOST] with
 * PORT 1-65535 (libmilter reads a bad port as 0, a random port) */
static const char *cfg_check_socket(const char *value)
{
    const char *rest;
    char port[16];
    uint64_t v;

    if (strncmp(value, "unix:", 5) == 0 || strncmp(value, "local:", 6) == 0) {
        rest = strchr(value, ':') + 1;
        if (*rest == '\0')
            return cfg_whyf("%s: no socket path", value);
        return NULL;
    }
    if (strncmp(value, "inet:", 5) == 0)
        rest = value + 5;
    else if (strncmp(value, "inet6:", 6) == 0)
        rest = value + 6;
    else
        return cfg_whyf("%s: must start with unix:, inet: or inet6:", value);
    size_t n = strcspn(rest, "@");
    if (n == 0 || n >= sizeof port)
        return cfg_whyf("%s: no port number (1 to 65535)", value);
    memcpy(port, rest, n);
    port[n] = '\0';
    if (util_parse_u64(port, 1, 65535, &v) < 0)
        return cfg_whyf("%s: port %s is not a number from 1 to 65535", value, port);
    if (rest[n] == '@' && rest[n + 1] == '\0')
        return cfg_whyf("%s: no host after @", value);
    return NULL;
}

const char *cfg_socket_problem(const char *value)
{
    return cfg_check_socket(value);
}

/* cfg_check_authserv - an authserv-id: 1-255 printable ASCII bytes, no
 * white space; authres.c writes it as a token or a quoted-string */
static const char *cfg_check_authserv(const char *value)
{
    size_t n = strlen(value);
    if (n >= 256)
        return cfg_whyf("longer than 255 characters");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c <= 0x20 || c >= 0x7f)
            return cfg_whyf("%s: only printable ASCII without spaces is allowed", value);
    }
    return NULL;
}

/* cfg_parse_nets - "a/b, c/d" into a fresh array */
static const char *cfg_parse_nets(const char *value, struct net_cidr **out, size_t *n)
{
    char buf[2048], *save = NULL, *tok;
    struct net_cidr *nets = NULL;
    size_t count = 0;

    if (strlen(value) >= sizeof buf)
        return "list too long";
    util_strlcpy(buf, value, sizeof buf);
    for (tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
        struct net_cidr c;
        if (net_parse_cidr(tok, &c) < 0) {
            free(nets);
            return cfg_whyf("%s is not an IP address or CIDR network", tok);
        }
        nets = realloc(nets, (count + 1) * sizeof *nets);
        if (nets == NULL)
            log_fatal("out of memory");
        nets[count++] = c;
    }
    free(*out);
    *out = nets;
    *n = count;
    return NULL;
}

/* cfg_valid_servers - "ip, ip:port, [v6]:port, v6" as c-ares takes them */
static int cfg_valid_servers(const char *value)
{
    char buf[512], *save = NULL, *tok;
    util_strlcpy(buf, value, sizeof buf);
    for (tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
        struct net_addr a;
        char *colon = strrchr(tok, ':');
        uint64_t port;
        if (net_parse(tok, &a) == 0 && (tok[0] != '[' || a.family == AF_INET6))
            continue;                              /* an address alone */
        if (colon == NULL || util_parse_u64(colon + 1, 1, 65535, &port) < 0)
            return 0;
        *colon = '\0';
        if (tok[0] == '[' ? (net_parse(tok, &a) < 0 || a.family != AF_INET6)
                          : (net_parse(tok, &a) < 0 || a.family != AF_INET))
            return 0;
    }
    return 1;
}

/* cfg_set - parse value into the field of key k; NULL or why it is bad */
static const char *cfg_set(struct cfg *cfg, const struct cfg_key *k, const char *value)
{
    void *field = (char *)cfg + k->offset;
    uint64_t v;

    switch (k->kind) {
    case K_AUTHSERV:
        if (*value != '\0' && cfg_check_authserv(value) != NULL)
            return cfg_why;
        /* fall through */
    case K_SOCKET:
        if (k->kind == K_SOCKET && cfg_check_socket(value) != NULL)
            return cfg_why;
        /* fall through */
    case K_STR:
        if (strlen(value) >= k->size)
            return "value too long";
        memcpy(field, value, strlen(value) + 1);
        return NULL;
    case K_UINT:
        if (util_parse_u64(value, k->min, k->max, &v) < 0)
            return cfg_whyf("%s is not a number from %llu to %llu", value,
                            (unsigned long long)k->min, (unsigned long long)k->max);
        cfg_set_uint(field, k->size, v);
        return NULL;
    case K_DURATION:
        if (util_parse_duration_ms(value, &v) < 0 || v % 1000 != 0)
            return "not a duration (like 300, 5m, 2d)";
        if (v / 1000 < k->min || v / 1000 > k->max)
            return cfg_whyf("%s is out of range (%llus to %llus)", value,
                            (unsigned long long)k->min, (unsigned long long)k->max);
        cfg_set_uint(field, k->size, v / 1000);
        return NULL;
    case K_DURATION_MS:
        if (util_parse_duration_ms(value, &v) < 0)
            return "not a duration (like 500ms, 3s)";
        if (v < k->min || v > k->max)
            return cfg_whyf("%s is out of range (%llums to %llums)", value,
                            (unsigned long long)k->min, (unsigned long long)k->max);
        cfg_set_uint(field, k->size, v);
        return NULL;
    case K_SIZE: {
        if (cfg_parse_size(value, &v) < 0)
            return "not a size (like 64M, 1G)";
        if (v < k->min || v > k->max)
            return cfg_whyf("%s is out of range (%llu to %llu bytes)", value,
                            (unsigned long long)k->min, (unsigned long long)k->max);
        cfg_set_uint(field, k->size, v);
        return NULL;
    }
    case K_MODE: {
        char *end;
        errno = 0;
        unsigned long m = strtoul(value, &end, 8);
        if (*value < '0' || *value > '7' || *end != '\0' || errno || m > k->max)
            return "not an octal file mode";
        *(mode_t *)field = (mode_t)m;
        return NULL;
    }
    case K_ON_ERROR:
        if (strcmp(value, "accept") == 0)
            cfg->on_error = ON_ERROR_ACCEPT;
        else if (strcmp(value, "tempfail") == 0)
            cfg->on_error = ON_ERROR_TEMPFAIL;
        else
            return "must be accept or tempfail";
        return NULL;
    case K_BACKEND:
        if (strcmp(value, "lmdb") == 0)
            cfg->store.backend = BACKEND_LMDB;
        else if (strcmp(value, "redis") == 0) {
#ifdef HAVE_REDIS
            cfg->store.backend = BACKEND_REDIS;
#else
            return "this greyrep was built without Redis support";
#endif
        } else
            return "must be lmdb or redis";
        return NULL;
    case K_NETS:
        return cfg_parse_nets(value, &cfg->trusted, &cfg->ntrusted);
    case K_BOOL:
        if (strcmp(value, "yes") == 0)
            *(int *)field = 1;
        else if (strcmp(value, "no") == 0)
            *(int *)field = 0;
        else
            return "must be yes or no";
        return NULL;
    case K_ACTION:
    case K_BL_ACTION:
        for (int a = k->kind == K_ACTION ? ACT_NONE : ACT_TEMPFAIL; a <= ACT_REJECT; a++)
            if (strcmp(value, cfg_action_name((enum cfg_action)a)) == 0) {
                *(enum cfg_action *)field = (enum cfg_action)a;
                return NULL;
            }
        return k->kind == K_ACTION ? "must be none, greylist, tempfail or reject"
                                   : "must be tempfail or reject";
    case K_SERVERS:
        if (strlen(value) >= k->size)
            return "value too long";
        if (!cfg_valid_servers(value))
            return "not a list of IP[:PORT] or [IPv6]:PORT";
        memcpy(field, value, strlen(value) + 1);
        return NULL;
    case K_SENTINELS: {
#ifdef HAVE_REDIS
        static char err[512];   /* only the loading thread parses */
        static struct redis_sentinels sent;
        if (strlen(value) < k->size && value[0] &&
            redis_sentinels_parse(&sent, value, "-", "", err, sizeof err) < 0)
            return strncmp(err, "redis_sentinels: ", 17) == 0 ? err + 17 : err;
#endif
        if (strlen(value) >= k->size)
            return "value too long";
        memcpy(field, value, strlen(value) + 1);
        return NULL;
    }
    case K_LISTEN: {
        struct sockaddr_storage ss;
        socklen_t len;
        if (strlen(value) >= k->size)
            return "value too long";
        if (value[0] != '\0' && metrics_parse_listen(value, &ss, &len) < 0)
            return "not PORT, IPv4:PORT or [IPv6]:PORT (port 1..65535)";
        memcpy(field, value, strlen(value) + 1);
        return NULL;
    }
    case K_DNSBL: {
        static char err[256];   /* only the loading thread parses */
        if (strlen(value) >= k->size)
            return "value too long";
        if (dnsbl_list_parse(cfg->dnsbl, value, err, sizeof err) < 0)
            return err;
        memcpy(field, value, strlen(value) + 1);
        return NULL;
    }
    }
    return "internal error";
}

const char *cfg_action_name(enum cfg_action a)
{
    static const char *names[] = {"none", "greylist", "tempfail", "reject"};
    return names[a];
}

int cfg_trusted(const struct cfg *cfg, const struct net_addr *client)
{
    for (size_t i = 0; i < cfg->ntrusted; i++)
        if (net_cidr_match(&cfg->trusted[i], client))
            return 1;
    return 0;
}

int cfg_checks_enabled(const struct cfg *cfg)
{
    return cfg->spf_enabled || cfg->iprev_enabled || cfg->dkim_enabled || cfg->dnsbl->n > 0;
}

int cfg_parse_duration(const char *s, unsigned *out)
{
    uint64_t ms;
    if (util_parse_duration_ms(s, &ms) < 0 || ms % 1000 != 0 || ms / 1000 > UINT32_MAX)
        return -1;
    *out = (unsigned)(ms / 1000);
    return 0;
}

int cfg_parse_size(const char *s, uint64_t *out)
{
    char num[32];
    size_t n = strspn(s, "0123456789");
    uint64_t v, mult = 1;

    if (n == 0 || n >= sizeof num)
        return -1;
    memcpy(num, s, n);
    num[n] = '\0';
    if (util_parse_u64(num, 0, 1ULL << 40, &v) < 0)
        return -1;
    if (strcmp(s + n, "K") == 0 || strcmp(s + n, "k") == 0)
        mult = 1ULL << 10;
    else if (strcmp(s + n, "M") == 0)
        mult = 1ULL << 20;
    else if (strcmp(s + n, "G") == 0)
        mult = 1ULL << 30;
    else if (s[n] != '\0')
        return -1;
    if (v > UINT64_MAX / mult)
        return -1;
    *out = v * mult;
    return 0;
}

struct cfg *cfg_defaults(void)
{
    struct cfg *cfg = calloc(1, sizeof *cfg);
    if (cfg == NULL || (cfg->dnsbl = calloc(1, sizeof *cfg->dnsbl)) == NULL)
        log_fatal("out of memory");
    for (size_t i = 0; i < NKEYS; i++)
        if (cfg_set(cfg, &cfg_keys[i], cfg_keys[i].def) != NULL)
            log_panic("bad default for %s.%s", cfg_keys[i].section, cfg_keys[i].name);
    cfg->refs = 1;
    cfg->wl = wl_new();
    cfg->greytraps = wl_new();
    return cfg;
}

void cfg_free(struct cfg *cfg)
{
    if (cfg == NULL)
        return;
    free(cfg->trusted);
    free(cfg->dnsbl);
    wl_free(cfg->wl);
    wl_free(cfg->greytraps);
    free(cfg);
}

/* cfg_log_report - the default report: to the log */
static void cfg_log_report(void *arg, const char *line)
{
    (void)arg;
    log_err("%s", line);
}

struct cfg_state {
    cfg_report_fn report;
    void *arg;
    int bad;
};

/* cfg_problem - report one FILE:LINE: problem */
static void cfg_problem(struct cfg_state *st, const char *file, unsigned line,
                        const char *fmt, const char *a, const char *b)
{
    char msg[PATH_MAX + 1024], text[1024];
    snprintf(text, sizeof text, fmt, a, b);
    snprintf(msg, sizeof msg, "%s:%u: %s", file, line, text);
    st->report(st->arg, msg);
    st->bad = 1;
}

/* cfg_wl_report - whitelist file problems count against the config */
static void cfg_wl_report(void *arg, const char *line)
{
    struct cfg_state *st = arg;
    st->report(st->arg, line);
    st->bad = 1;
}

/* cfg_refuse_writable - a file any local user may rewrite is refused: it
 * decides what greyrep lets through (fd -1: stat the path) */
static void cfg_refuse_writable(struct cfg_state *st, const char *path, int fd)
{
    struct stat sb;
    char mode[8];

    if ((fd >= 0 ? fstat(fd, &sb) : stat(path, &sb)) != 0 || !(sb.st_mode & S_IWOTH))
        return;
    snprintf(mode, sizeof mode, "%04o", (unsigned)(sb.st_mode & 07777));
    cfg_problem(st, path, 0, "refusing a world-writable file (mode %s): any local user "
                "could change it; chmod o-w %s", mode, path);
}

/* Where the [store] keys that depend on each other were set (0: not set). */
struct cfg_store_lines {
    unsigned redis, user, sentinels, master, sentinel_password;
};

/* cfg_store_line - remember the line of a [store] key that cfg_check_store looks at */
static void cfg_store_line(struct cfg_store_lines *sl, const char *key, unsigned lineno)
{
    if (strcmp(key, "redis") == 0) sl->redis = lineno;
    else if (strcmp(key, "redis_user") == 0) sl->user = lineno;
    else if (strcmp(key, "redis_sentinels") == 0) sl->sentinels = lineno;
    else if (strcmp(key, "redis_master_name") == 0) sl->master = lineno;
    else if (strcmp(key, "redis_sentinel_password") == 0) sl->sentinel_password = lineno;
}

/* cfg_check_store - the Redis keys that only make sense together */
static void cfg_check_store(const struct cfg_store *c, const struct cfg_store_lines *sl,
                            const char *file, struct cfg_state *st)
{
    int sentinels = c->redis_sentinels[0] != 0;

    if (sentinels && c->redis_master_name[0] == 0)
        cfg_problem(st, file, sl->sentinels, "redis_sentinels needs redis_master_name%s%s", "", "");
    /* a bad redis_sentinels line was reported already: no echo of it here */
    if (!sentinels && !sl->sentinels && c->redis_master_name[0] && sl->master)
        cfg_problem(st, file, sl->master, "redis_master_name needs redis_sentinels%s%s", "", "");
    if (!sentinels && !sl->sentinels && c->redis_sentinel_password[0] && sl->sentinel_password)
        cfg_problem(st, file, sl->sentinel_password,
                    "redis_sentinel_password needs redis_sentinels%s%s", "", "");
    if (sentinels && sl->redis)
        cfg_problem(st, file, sl->redis > sl->sentinels ? sl->redis : sl->sentinels,
                    "set redis or redis_sentinels, not both (with Sentinels the "
                    "primary's address comes from them)%s%s", "", "");
    if (c->redis_user[0] && c->redis_password[0] == 0 && sl->user)
        cfg_problem(st, file, sl->user, "redis_user needs redis_password%s%s", "", "");
}

/* cfg_load_lists - the whitelist files; a default path may be absent */
static void cfg_load_lists(struct cfg *cfg, const int explicit[3], struct cfg_state *st)
{
    const char *paths[3] = {cfg->wl_clients, cfg->wl_recipients, cfg->wl_senders};
    const enum wl_type types[3] = {WL_IP, WL_RCPT, WL_SENDER};

    for (int i = 0; i < 3; i++) {
        if (paths[i][0] == '\0')
            continue;
        if (!explicit[i] && access(paths[i], F_OK) != 0)
            continue;
        cfg_refuse_writable(st, paths[i], -1);
        wl_load_file(cfg->wl, i == 0, types[i], paths[i], cfg_wl_report, st);
    }
}

/* cfg_check_rep - the reputation keys together, and the greytrap file
 * (rcpt entries; the default path may be absent) */
static void cfg_check_rep(struct cfg *cfg, int explicit_traps, const char *file,
                          unsigned lineno, struct cfg_state *st)
{
    const struct cfg_rep *r = &cfg->rep;
    if (!(r->bad_score < r->suspicious_score && r->suspicious_score < r->trust_score))
        cfg_problem(st, file, lineno,
                    "[reputation] needs bad_score < suspicious_score < trust_score%s%s", "", "");
    if (r->trap_file[0] != '\0' && (explicit_traps || access(r->trap_file, F_OK) == 0))
        wl_load_file(cfg->greytraps, 0, WL_RCPT, r->trap_file, cfg_wl_report, st);
}

struct cfg *cfg_load(const char *file, cfg_report_fn report, void *arg)
{
    struct cfg_state st = {report ? report : cfg_log_report, arg, 0};
    char line[4096], section[64] = "";
    unsigned lineno = 0;
    int explicit_lists[3] = {0, 0, 0}, explicit_traps = 0;
    struct cfg_store_lines store_lines = {0, 0, 0, 0, 0};
    struct cfg *cfg;
    FILE *fp;

    fp = fopen(file, "r");
    if (fp == NULL) {
        cfg_problem(&st, file, 0, "cannot open: %s%s", strerror(errno), "");
        return NULL;
    }
    struct stat sb;
    if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        cfg_problem(&st, file, 0, "not a regular file%s%s",
                    S_ISDIR(sb.st_mode) ? " (a directory)" : "", "");
        fclose(fp);
        return NULL;
    }
    cfg_refuse_writable(&st, file, fileno(fp));
    unsigned key_line[NKEYS];       /* where each key was set, 0 = not yet */
    char seen_sections[32][64];
    unsigned section_line[32], nseen = 0;
    memset(key_line, 0, sizeof key_line);
    cfg = cfg_defaults();
    util_strlcpy(cfg->file, file, sizeof cfg->file);
    while (fgets(line, sizeof line, fp) != NULL) {
        char *p, *eq, *key, *value;
        const struct cfg_key *k = NULL;
        const char *why;

        lineno++;
        if (strchr(line, '\n') == NULL && !feof(fp)) {
            int c;
            cfg_problem(&st, file, lineno, "line too long%s%s", "", "");
            while ((c = fgetc(fp)) != EOF && c != '\n')
                ;
            continue;
        }
        if ((p = strchr(line, '#')) != NULL)
            *p = '\0';
        p = util_trim(line);
        if (*p == '\0')
            continue;
        if (*p == '[') {
            char *end = strchr(p, ']');
            int known = 0;
            if (end == NULL || end[1] != '\0' || (size_t)(end - p - 1) >= sizeof section) {
                cfg_problem(&st, file, lineno, "malformed section header%s%s", "", "");
                section[0] = '\0';
                continue;
            }
            *end = '\0';
            util_strlcpy(section, util_trim(p + 1), sizeof section);
            for (size_t i = 0; i < NKEYS; i++)
                known |= strcmp(cfg_keys[i].section, section) == 0;
            if (!known) {
                cfg_problem(&st, file, lineno, "unknown section [%s]%s", section, "");
                section[0] = '\0';
                continue;
            }
            for (unsigned i = 0; i < nseen; i++)
                if (strcmp(seen_sections[i], section) == 0) {
                    char first[32];
                    snprintf(first, sizeof first, "%u", section_line[i]);
                    cfg_problem(&st, file, lineno, "duplicate section [%s] (first at line %s)",
                                section, first);
                }
            if (nseen < 32) {
                util_strlcpy(seen_sections[nseen], section, sizeof seen_sections[nseen]);
                section_line[nseen++] = lineno;
            }
            continue;
        }
        if ((eq = strchr(p, '=')) == NULL) {
            cfg_problem(&st, file, lineno, "expected key = value%s%s", "", "");
            continue;
        }
        *eq = '\0';
        key = util_trim(p);
        value = util_trim(eq + 1);
        if (section[0] == '\0') {
            cfg_problem(&st, file, lineno, "key %s outside a known section%s", key, "");
            continue;
        }
        for (size_t i = 0; i < NKEYS; i++)
            if (strcmp(cfg_keys[i].section, section) == 0 && strcmp(cfg_keys[i].name, key) == 0)
                k = &cfg_keys[i];
        if (k == NULL) {
            cfg_problem(&st, file, lineno, "unknown key %s in [%s]", key, section);
            continue;
        }
        if (key_line[k - cfg_keys] != 0) {
            char first[128];
            snprintf(first, sizeof first, "%s] (first at line %u)", section,
                     key_line[k - cfg_keys]);
            cfg_problem(&st, file, lineno, "duplicate key %s in [%s", key, first);
            continue;
        }
        if (strcmp(section, "store") == 0)
            cfg_store_line(&store_lines, key, lineno);
        if ((why = cfg_set(cfg, k, value)) != NULL) {
            /* every message names the bad value */
            char named[1400];
            if (*value != '\0' && strstr(why, value) == NULL && strstr(key, "password") == NULL)
                snprintf(named, sizeof named, "%s (got \"%.200s\")", why, value);
            else
                snprintf(named, sizeof named, "%s", why);
            cfg_problem(&st, file, lineno, "%s: %s", key, named);
            continue;
        }
        key_line[k - cfg_keys] = lineno;    /* a bad value was reported already */
        /* only names given in the file: the default user may be absent on
         * a host that runs greyrep as an ordinary user */
        if (strcmp(section, "milter") == 0 && strcmp(key, "user") == 0 && *value != '\0'
            && getpwnam(value) == NULL)
            cfg_problem(&st, file, lineno, "user: no such user %s%s", value, "");
        if (strcmp(section, "milter") == 0 && strcmp(key, "socket_group") == 0
            && *value != '\0' && getgrnam(value) == NULL)
            cfg_problem(&st, file, lineno, "socket_group: no such group %s%s", value, "");
        explicit_traps |= strcmp(section, "greytrap") == 0 && strcmp(key, "recipients") == 0;
        if (strcmp(section, "whitelist") == 0)
            explicit_lists[strcmp(key, "clients") == 0 ? 0 : strcmp(key, "recipients") == 0 ? 1 : 2] = 1;
    }
    fclose(fp);
    if (cfg->grey.delay > cfg->grey.retry_window)
        cfg_problem(&st, file, lineno, "[greylist] delay is longer than retry_window%s%s", "", "");
    if (cfg->grey.suspicious_delay > cfg->grey.retry_window)
        cfg_problem(&st, file, lineno,
                    "[greylist] suspicious_delay is longer than retry_window%s%s", "", "");
    cfg_check_store(&cfg->store, &store_lines, file, &st);
    cfg_load_lists(cfg, explicit_lists, &st);
    cfg_check_rep(cfg, explicit_traps, file, lineno, &st);
    if (cfg->authserv_id[0] == '\0')
        util_hostname(cfg->authserv_id, sizeof cfg->authserv_id);
    if (st.bad) {
        cfg_free(cfg);
        return NULL;
    }
    return cfg;
}

/* The current configuration and its reference counts. */
static pthread_mutex_t cfg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cfg *cfg_now;

void cfg_install(struct cfg *cfg)
{
    struct cfg *old;
    pthread_mutex_lock(&cfg_lock);
    old = cfg_now;
    cfg_now = cfg;
    pthread_mutex_unlock(&cfg_lock);
    if (old != NULL)
        cfg_release(old);
}

struct cfg *cfg_current(void)
{
    struct cfg *cfg;
    pthread_mutex_lock(&cfg_lock);
    cfg = cfg_now;
    if (cfg != NULL)
        cfg->refs++;
    pthread_mutex_unlock(&cfg_lock);
    return cfg;
}

void cfg_release(struct cfg *cfg)
{
    int last;
    if (cfg == NULL)
        return;
    pthread_mutex_lock(&cfg_lock);
    last = --cfg->refs == 0;
    pthread_mutex_unlock(&cfg_lock);
    if (last)
        cfg_free(cfg);
}
