/*
 * fuzz_config - greyrep.conf
 *
 * Input: a configuration file, written to a temporary file and given to
 * cfg_load().  Invariants: every problem is reported as "FILE:LINE: ..."
 * (or "FILE: ..."), a load that reports nothing returns a configuration
 * and a load that reports something returns none; a loaded configuration
 * keeps its values within their documented ranges.
 */
#include <unistd.h>

#include "config.h"
#include "fuzz.h"
#include "log.h"

static char path[64];
static int reports;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_open("fuzz", 0, 0);
    snprintf(path, sizeof path, "/tmp/greyrep-fuzz-conf.%ld", (long)getpid());
    return 0;
}

/* report - count problems; each names a file */
static void report(void *arg, const char *line)
{
    (void)arg;
    FUZZ_ASSERT(strchr(line, ':') != NULL);
    FUZZ_ASSERT(strchr(line, '\n') == NULL);
    reports++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *fp = fopen(path, "wb");
    struct cfg *cfg;

    if (fp == NULL)
        abort();
    fwrite(data, 1, size, fp);
    fclose(fp);
    reports = 0;
    cfg = cfg_load(path, report, NULL);
    FUZZ_ASSERT((cfg == NULL) == (reports > 0));
    if (cfg != NULL) {
        FUZZ_ASSERT(cfg->grey.ipv4_prefix <= 32 && cfg->grey.ipv6_prefix <= 128);
        FUZZ_ASSERT(cfg->store.path[0] != '\0' || cfg->store.backend == BACKEND_REDIS);
        cfg_free(cfg);
    }
    unlink(path);
    return 0;
}
