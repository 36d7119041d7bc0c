/*
 * negotiate.c - the milter protocol steps greyrep asks for; see negotiate.h
 */
#include "autoconf.h"

#include <stdio.h>

#include "config.h"
#include "negotiate.h"

unsigned long neg_steps(const struct cfg *cfg, unsigned long offered)
{
    unsigned long want = NEG_NR_CONN | NEG_NR_HELO | NEG_NR_MAIL | NEG_NODATA | NEG_NOUNKNOWN;

    /* headers always, answered by nobody: a forged Authentication-Results
     * that claims our authserv-id is removed whatever the checks, since a
     * filter behind us may trust that id (OpenDKIM or a delivery agent
     * sharing the host name) */
    (void)cfg;
    want |= NEG_NR_HDR;
    if (cfg->dkim_enabled)
        want |= NEG_NR_EOH | NEG_NR_BODY;
    else
        want |= NEG_NOEOH | NEG_NOBODY;
    return want & offered;
}

static const struct {
    unsigned long bit;
    const char *name;
} neg_names[] = {
    {0x00000001UL, "NOCONNECT"}, {NEG_NOHELO, "NOHELO"},     {0x00000004UL, "NOMAIL"},
    {0x00000008UL, "NORCPT"},    {NEG_NOBODY, "NOBODY"},     {NEG_NOHDRS, "NOHDRS"},
    {NEG_NOEOH, "NOEOH"},        {NEG_NR_HDR, "NR_HDR"},     {NEG_NOUNKNOWN, "NOUNKNOWN"},
    {NEG_NODATA, "NODATA"},      {0x00000400UL, "SKIP"},     {0x00000800UL, "RCPT_REJ"},
    {NEG_NR_CONN, "NR_CONN"},    {NEG_NR_HELO, "NR_HELO"},   {NEG_NR_MAIL, "NR_MAIL"},
    {NEG_NR_RCPT, "NR_RCPT"},    {NEG_NR_DATA, "NR_DATA"},   {NEG_NR_UNKN, "NR_UNKN"},
    {NEG_NR_EOH, "NR_EOH"},      {NEG_NR_BODY, "NR_BODY"},   {0x00100000UL, "HDR_LEADSPC"},
};

char *neg_format(unsigned long flags, char *buf, size_t len)
{
    size_t o = 0;
    if (len == 0)
        return buf;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof neg_names / sizeof neg_names[0]; i++) {
        if ((flags & neg_names[i].bit) == 0 || o >= len)
            continue;
        int n = snprintf(buf + o, len - o, "%s%s", o ? " " : "", neg_names[i].name);
        if (n > 0)
            o += (size_t)n;
    }
    if (o < len)
        snprintf(buf + o, len - o, "%s(0x%lx)", o ? " " : "", flags);
    return buf;
}
