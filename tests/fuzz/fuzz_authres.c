/*
 * fuzz_authres - Authentication-Results: building and recognising
 *
 * Input: "ID\nRESULT\nIP\nHOST\nMAILFROM\nHELO\nDKIM-D\nHEADER", where
 * every part comes from the network or the admin.  The value built from
 * them must be well formed: printable ASCII, lines folded only as "\n\t",
 * never empty and never starting with ';'.  It must claim its own
 * authserv-id (so that a forged copy is recognised and removed): checked
 * for ids of printable ASCII with a letter or digit, without '@', up to
 * 200 bytes; with
 * GREYREP_FUZZ_STRICT=1 for every printable id (the '@' case is a known
 * defect).  The last part is any received header value, which
 * authres_claims_authserv() must judge without fault.
 */
#include <ctype.h>

#include "authres.h"
#include "dkim.h"
#include "fuzz.h"
#include "log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_open("fuzz", 0, 0);
    return 0;
}

/* printable - every byte printable ASCII, and some letter or digit */
static int printable(const char *s)
{
    int alnum = 0;
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return 0;
        alnum |= isalnum((unsigned char)*s) != 0;
    }
    return alnum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *part[8] = { NULL };
    char buf[AUTHRES_MAX];
    struct authres ar;
    struct dkimv_result r;

    part[0] = fuzz_cstr(data, size);
    for (int i = 1; i < 8; i++)
        part[i] = fuzz_split(part[i - 1], '\n');
    for (int i = 1; i < 8; i++)
        if (part[i] == NULL)
            part[i] = "";

    authres_begin(&ar, buf, sizeof buf, part[0]);
    authres_iprev(&ar, part[1], part[2], part[3]);
    authres_spf(&ar, part[1], part[4], part[5]);
    memset(&r, 0, sizeof r);
    r.result = (enum dkimv_status)(size % 4);
    snprintf(r.domain, sizeof r.domain, "%s", part[6]);
    snprintf(r.selector, sizeof r.selector, "%s", part[3]);
    snprintf(r.algorithm, sizeof r.algorithm, "%s", part[1]);
    snprintf(r.b, sizeof r.b, "%s", part[5]);
    r.reason = "fuzz";
    authres_dkim(&ar, &r, 1);
    authres_method(&ar, "dnsbl", part[1], part[3], "policy.zone", part[6]);
    authres_end(&ar);

    size_t len = strlen(buf);
    FUZZ_ASSERT(len < sizeof buf);
    FUZZ_ASSERT(len > 0);
    FUZZ_ASSERT(buf[0] != ';');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c == '\n') {
            FUZZ_ASSERT(buf[i + 1] == '\t');
            i++;
        } else
            FUZZ_ASSERT(c >= 0x20 && c <= 0x7e);
    }
    if (printable(part[0]) && strlen(part[0]) <= 200)
        FUZZ_ASSERT(authres_claims_authserv(buf, part[0]) == 1);

    /* a received header value, against our id and against "localhost" */
    authres_claims_authserv(part[7], part[0]);
    authres_claims_authserv(part[7], "localhost");
    free(part[0]);
    return 0;
}
