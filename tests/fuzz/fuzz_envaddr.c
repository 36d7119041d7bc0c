/*
 * fuzz_envaddr - envelope paths, sender normalisation and triplet keys
 *
 * Input: "MAIL-ARG\nRCPT-ARG[\nSPF-DOMAIN]" (a missing part is "").
 * Invariants:
 *  - env_parse() gives NUL-terminated parts within their limits;
 *  - the triplet key is printable ASCII of at most 511 bytes (LMDB);
 *  - a retry's key equals the first attempt's: the same sender with other
 *    VERP digits in its local part, or wrapped in BATV with another tag,
 *    gets the same key, also when the key part is cut and gets its #HASH
 *    suffix.  Not when env_parse() itself cut a part (over 256 bytes):
 *    then the hash of the raw argument must join to keep keys unique, and
 *    retries with other digits differ by design (greyrep(8)); strict mode
 *    (GREYREP_FUZZ_STRICT=1) checks that case too.
 */
#include <ctype.h>
#include <netinet/in.h>

#include "config.h"
#include "decide.h"
#include "envaddr.h"
#include "fuzz.h"
#include "greylist.h"
#include "log.h"
#include "store.h"

static struct cfg *cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_open("fuzz", 0, 0);
    cfg = cfg_defaults();
    return 0;
}

/* check_parse - the parser's own bounds */
static void check_parse(const struct env_addr *a)
{
    FUZZ_ASSERT(strlen(a->local) <= ENV_LOCAL_MAX);
    FUZZ_ASSERT(strlen(a->domain) <= ENV_DOMAIN_MAX);
    FUZZ_ASSERT(!(a->flags & ENV_MALFORMED) || a->why != NULL);
    for (const char *p = a->domain; *p; p++)
        FUZZ_ASSERT(!isupper((unsigned char)*p));
}

/* key_of - parse both paths and build the key */
static unsigned key_of(const char *from, const char *to, const char *spf, char *key)
{
    struct env_addr s, r;
    struct net_addr client = { .family = AF_INET, .a = { 192, 0, 2, 77 } };

    env_parse(from, &s);
    env_parse(to, &r);
    check_parse(&s);
    check_parse(&r);
    decide_triplet_key(cfg, &client, spf && *spf ? spf : NULL, &s, &r, key, STORE_MAX_KEY);
    FUZZ_ASSERT(strlen(key) <= 511);
    for (const char *p = key; *p; p++)
        FUZZ_ASSERT(*p > 0x20 && *p < 0x7f);
    return s.flags;
}

/* same_keys - the retry invariant, with both keys shown when it breaks */
static void same_keys(const char *k1, const char *k2)
{
    if (strcmp(k1, k2) != 0)
        fprintf(stderr, "first: %s\nretry: %s\n", k1, k2);
    FUZZ_ASSERT(strcmp(k1, k2) == 0);
}

/* local_span - where the local part of a simple "<local@domain>" is */
static int local_span(const char *arg, size_t *start, size_t *end)
{
    const char *at = strrchr(arg, '@');
    if (arg[0] != '<' || at == NULL || strchr(arg, '"') || strchr(arg, '\\'))
        return 0;
    *start = 1;
    *end = (size_t)(at - arg);
    return *end > 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *from = fuzz_cstr(data, size), *to = fuzz_split(from, '\n');
    char *spf = fuzz_split(to, '\n');
    char key1[STORE_MAX_KEY], key2[STORE_MAX_KEY];
    unsigned f1, f2;
    size_t ls, le;

    f1 = key_of(from, to, spf, key1);
    /* the same again: a pure function */
    key_of(from, to, spf, key2);
    FUZZ_ASSERT(strcmp(key1, key2) == 0);

    /* (a local part that starts with '=' cannot be told from a BATV tag,
     * and a source route "<@a,@b:local@d>" is not a plain local part) */
    if (local_span(from, &ls, &le) && from[1] != '=' && strchr(from, ':') == NULL
        && strncasecmp(from + 1, "srs", 3) != 0
        && strncasecmp(from + 1, "prvs=", 5) != 0 && strncasecmp(from + 1, "btv1=", 5) != 0
        && strncasecmp(from + 1, "msprvs1=", 8) != 0) {
        /* VERP: every digit run of the local part replaced by other digits */
        size_t n = strlen(from), o = 0;
        char *retry = malloc(5 * n + 40);
        FUZZ_ASSERT(retry != NULL);
        for (size_t i = 0; i < n;) {
            if (i >= ls && i < le && isdigit((unsigned char)from[i])) {
                while (i < le && isdigit((unsigned char)from[i]))
                    i++;
                memcpy(retry + o, "90817", 5);
                o += 5;
            } else {
                retry[o++] = from[i++];
            }
        }
        retry[o] = '\0';
        f2 = key_of(retry, to, spf, key2);
        if (!((f1 | f2) & ENV_OVERSIZED) || fuzz_strict())
            same_keys(key1, key2);
        /* BATV: prvs=TAG=local@domain, two tags */
        snprintf(retry, 5 * n + 40, "<prvs=0123abcd=%s", from + 1);
        f1 = key_of(retry, to, spf, key1);
        snprintf(retry, 5 * n + 40, "<prvs=7777eeee=%s", from + 1);
        f2 = key_of(retry, to, spf, key2);
        if (!((f1 | f2) & ENV_OVERSIZED) || fuzz_strict())
            same_keys(key1, key2);
        free(retry);
    }
    free(from);
    return 0;
}
