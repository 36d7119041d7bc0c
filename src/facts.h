/*
 * NAME
 *   facts - what greyrep knows about one message's sender
 * SYNOPSIS
 *   #include "facts.h"
 * DESCRIPTION
 *   struct msg_facts is the one hand-over between the checks (checks.c
 *   fills it: the client address at connect, iprev, SPF and DNSBL by RCPT,
 *   DKIM at end of message) and the code that judges them (policy.c,
 *   reputation.c, decide.c), which therefore never include checks.h and can
 *   be driven from tables, greyrepctl check or the simulator with facts
 *   made up by the caller.
 *
 *   The result vocabularies of the checks live here too, so that a reader
 *   of the facts needs no check module's header.
 *
 *   A field group whose *_done is 0 was not checked (check off, trusted or
 *   authenticated client, or not reached yet) and gives no opinion.
 *   Strings are printable ASCII, NUL-terminated, lower case for domains.
 * THREADS
 *   Plain data.
 */
#ifndef GREYREP_FACTS_H
#define GREYREP_FACTS_H

#include "netaddr.h"

enum spf_result {
    SPF_NONE = 0,
    SPF_NEUTRAL,
    SPF_PASS,
    SPF_FAIL,
    SPF_SOFTFAIL,
    SPF_TEMPERROR,
    SPF_PERMERROR
};

enum iprev_result { IPREV_PASS = 0, IPREV_FAIL, IPREV_TEMPERROR, IPREV_PERMERROR };

enum dkimv_status {
    DKIMV_NONE = 0,
    DKIMV_PASS,
    DKIMV_FAIL,
    DKIMV_NEUTRAL,
    DKIMV_POLICY,
    DKIMV_TEMPERROR,
    DKIMV_PERMERROR
};

#define FACTS_NAME_MAX 256 /* a domain or host name buffer, with the NUL */
#define FACTS_DKIM_MAX 16  /* DKIM signatures kept per message */

struct msg_dkim {
    enum dkimv_status result;
    char domain[FACTS_NAME_MAX]; /* d=, lower case ("" if missing) */
};

struct msg_facts {
    /* the client, from the connect socket address (never from macros) */
    int client_ip;                      /* 0: not an IP connection */
    struct net_addr client;

    /* DNS checks, complete once the bounded wait at RCPT is over */
    int dns_failed;                     /* every lookup that ran failed temporarily */
    int spf_done;
    enum spf_result spf;
    int spf_helo;                       /* the HELO identity was checked (<> sender) */
    char spf_domain[FACTS_NAME_MAX];    /* the domain SPF checked */
    int iprev_done;
    enum iprev_result iprev;
    char iprev_host[FACTS_NAME_MAX];    /* verified name on pass, else "" */
    int generic;                        /* PTR name looks generic/dynamic */
    int dnsbl_done;
    int dnsbl_score;
    int dnsbl_tempfail;                 /* zones that failed temporarily */
    int dnsbl_zones;                    /* zones asked */
    char dnsbl_listed[256];             /* "zone=code,..." for logs */

    /* DKIM, known at end of message only */
    int dkim_done;
    int dkim_n;
    struct msg_dkim dkim[FACTS_DKIM_MAX];
};

#endif
