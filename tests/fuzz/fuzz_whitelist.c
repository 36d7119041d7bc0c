/*
 * fuzz_whitelist - whitelist files and entry normalisation
 *
 * Input: a selector byte, then file contents.  The selector picks the
 * file kind (a clients file, or a sender / recipient / client-name list)
 * for wl_load_file(), which reads the input from a temporary file.  Then
 * each line is normalised on its own.  Invariants: normalising is
 * idempotent; a normalised entry is accepted by wl_add(); an ip entry's
 * own address matches it; a full sender or recipient address matches its
 * own envelope path.
 */
#include <unistd.h>

#include "envaddr.h"
#include "fuzz.h"
#include "log.h"
#include "whitelist.h"

static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_open("fuzz", 0, 0);
    snprintf(path, sizeof path, "/tmp/greyrep-fuzz-wl.%ld", (long)getpid());
    return 0;
}

/* quiet - a report callback that checks the FILE:LINE: form */
static void quiet(void *arg, const char *line)
{
    (void)arg;
    FUZZ_ASSERT(strncmp(line, path, strlen(path)) == 0 && line[strlen(path)] == ':');
}

/* check_entry - the invariants for one line */
static void check_entry(struct wl *wl, enum wl_type t, const char *value)
{
    char n1[WL_VALUE_MAX + 64], n2[WL_VALUE_MAX + 64], what[WL_VALUE_MAX + 64];
    const char *why = NULL;

    if (wl_normalise(t, value, n1, sizeof n1, &why) < 0) {
        FUZZ_ASSERT(why != NULL);
        return;
    }
    FUZZ_ASSERT(wl_normalise(t, n1, n2, sizeof n2, &why) == 0);
    FUZZ_ASSERT(strcmp(n1, n2) == 0);
    FUZZ_ASSERT(wl_add(wl, t, n1, 0, &why) == 0);
    if (t == WL_IP) {
        struct net_cidr c;
        FUZZ_ASSERT(net_parse_cidr(n1, &c) == 0);
        FUZZ_ASSERT(wl_match_client(wl, &c.addr, NULL, 1, what, sizeof what) == 1);
    } else if ((t == WL_SENDER || t == WL_RCPT) && n1[0] != '@') {
        const char *at = strrchr(n1, '@');
        char path_arg[sizeof n1 + 4];
        struct env_addr a;
        if (at == NULL || at[1] == '\0')
            return;
        snprintf(path_arg, sizeof path_arg, "<%s>", n1);
        env_parse(path_arg, &a);
        if (a.flags & (ENV_MALFORMED | ENV_OVERSIZED | ENV_QUOTED))
            return;
        if (t == WL_SENDER)
            FUZZ_ASSERT(wl_match_sender(wl, &a, 1, what, sizeof what) == 1);
        else
            FUZZ_ASSERT(wl_match_rcpt(wl, &a, 1, what, sizeof what) == 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum wl_type types[] = { WL_IP, WL_HOST, WL_SENDER, WL_RCPT };
    FILE *fp;
    struct wl *wl;
    enum wl_type t;
    int clients;

    if (size < 1)
        return 0;
    t = types[data[0] % 4];
    clients = (data[0] & 4) != 0;
    if ((fp = fopen(path, "wb")) == NULL)
        abort();
    fwrite(data + 1, 1, size - 1, fp);
    fclose(fp);
    wl = wl_new();
    wl_load_file(wl, clients, clients ? WL_IP : t, path, quiet, NULL);
    wl_free(wl);
    unlink(path);

    char *text = fuzz_cstr(data + 1, size - 1), *line = text, *next;
    wl = wl_new();
    for (; line != NULL; line = next) {
        next = fuzz_split(line, '\n');
        check_entry(wl, t, line);
    }
    wl_free(wl);
    free(text);
    return 0;
}
