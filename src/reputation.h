/*
 * NAME
 *   reputation - identities, decayed counters, trust levels, rate limits
 * SYNOPSIS
 *   #include "reputation.h"
 *
 *   rep_identities(&cfg->rep, &cfg->grey, facts, sender, REP_AT_RCPT, &ids);
 *   for each ids.id[i]: read ids.id[i].key in the decision's store_update,
 *       rep_rec_decode() into recs[i] (absent or undecodable: rep_rec_new())
 *   rep_assess(&cfg->rep, facts, &ids, recs, found, auto_listed, now, &a);
 *   ... the verdict follows a.level / a.rate_limited ...
 *   n = rep_plan_rcpt(&ids, &outcome, lessons, REP_MAX_LESSONS);
 *   rep_apply(&cfg->rep, &ids, recs, lessons, n, now);   then encode, write
 * DESCRIPTION
 *   Pure: no store, no I/O, no clock (every function takes now).
 *
 *   Identities of one message (enum rep_kind, key "r|KIND|VALUE"):
 *     ip    the client address                         network evidence
 *     net   the client network (the greylist prefixes) network evidence
 *     ptr   organisational domain of the verified PTR name (iprev pass and
 *           not generic: a generic name's domain is its access provider's,
 *           shared by every customer, so it gets no identity at all)
 *                                                      authenticated
 *     spf   organisational domain of the SPF-pass identity  authenticated
 *     dkim  organisational domain of each DKIM-pass d= (end of message)
 *                                                      authenticated
 *     from  organisational domain of the envelope sender, unauthenticated:
 *           weak evidence, never enough for trust, no trap or SPF-fail
 *           blame (anyone can forge it); none for the null sender <>
 *   At RCPT the identity list also carries the sender's DKIM candidate
 *   ("dkim" of the sender's organisational domain, flagged candidate): read
 *   only, it is the domain whose aligned signature the deferred decision
 *   would wait for.
 *
 *   A record (struct rep_rec) holds counters that decay exponentially with
 *   [reputation] half_life, applied on read up to now (rep_decay); the
 *   token bucket of the rate limit; the recipient rate estimate; first and
 *   last seen; the end of a greytrap penalty.  Encoded as version byte 1,
 *   then big-endian fields (counters as IEEE-754 binary32); see
 *   rep_rec_encode() for the layout.  rep_rec_decode() returns -1 for a
 *   wrong length, an unknown version (a newer greyrep's record is treated
 *   as absent; the caller logs it) or a counter that is negative, infinite
 *   or NaN.
 *
 *   Scores run from 0 (bad) through 50 (no evidence) to 100 (good):
 *       score = 50 + 50 * (good - bad) / (good + bad + REP_PRIOR)
 *   good = the larger of greylist passes and accepted messages (a message
 *   that passed greylisting is both); bad = abandonments + SPF
 *   fails + DKIM fails + 10 * trap hits (for "from", abandonments only).
 *   The message score is the mean of its identities' scores, weighted by
 *   kind (dkim, spf 3; ptr, ip 2; net 1; from 0.5) times confidence
 *   min(1, (good + bad) / REP_PRIOR), so an identity without history
 *   counts for nothing.  Trust levels, first rule that applies:
 *     bad        an ip/net identity under a greytrap penalty      "greytrap"
 *                message score <= bad_score, and so without from
 *                (a forged sender domain alone never makes mail bad)
 *                                                              "bad-history"
 *     suspicious message score <= suspicious_score            "poor-history"
 *     trusted    an established identity (not from: good >= min_messages,
 *                at least one greylist pass, first seen >= min_age ago,
 *                last seen at most trust_lifetime ago, own score >=
 *                trust_score) and message score >=
 *                trust_score                                       "history"
 *                the client is auto-whitelisted ([greylist] auto_whitelist,
 *                the client record, as before)              "auto-whitelist"
 *                [greylist] selective: verified non-generic rDNS and SPF
 *                pass (aligned DKIM pass at end of message)      "selective"
 *     defer      defer_dkim and only the sender's DKIM candidate is
 *                established (decide at end of message)         "dkim-defer"
 *     neutral    everything else                        "new" or "neutral"
 *   With [reputation] enabled = no only the greytrap, auto-whitelist and
 *   selective rules remain, so the old behaviour is one switch away.
 *
 *   Rate limit, one token bucket per identity except "from" (forgeable:
 *   a forger must not be able to empty a real sender's bucket):
 *     cost       one token per recipient greyrep accepts, from every
 *                bucket of the message; a refused recipient costs nothing
 *     capacity   burst tokens; for an established identity
 *                max(burst, refill * 1 hour)
 *     refill     rate tokens an hour; for an established identity
 *                max(rate, multiple * its usual rate), the usual rate being
 *                its decayed recipient count as a long-run rate
 *                (recipients * ln 2 / half_life)
 *     state      tokens and the time they were counted; a new bucket is full
 *   A recipient is rate limited when one bucket holds less than one token;
 *   the bucket of a low-history ip or net is not consulted (but is
 *   charged) when the message carries an established authenticated
 *   domain: a big sender's new outbound address rides on its domain's
 *   history.
 *
 *   What to learn (after the verdict, once): rep_plan_rcpt() for one
 *   recipient's outcome (and the accepted message, at its first recipient
 *   taken by greylisting or reputation: a message taken only for
 *   whitelisted recipients teaches nothing, anyone can mail postmaster@),
 *   rep_plan_eom() for the DKIM results and the DKIM domains' share of
 *   the message, rep_plan_expire() for an abandoned pending triplet.
 *   Each returns lessons (identity, event); rep_apply() applies them.
 * THREADS
 *   Pure functions (org_domain() loads its list once, thread-safely).
 */
#ifndef GREYREP_REPUTATION_H
#define GREYREP_REPUTATION_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "envaddr.h"
#include "facts.h"
#include "orgdomain.h"

enum rep_kind { REP_IP, REP_NET, REP_PTR, REP_SPF, REP_DKIM, REP_FROM, REP_NKINDS };

/* ip net ptr spf from and up to 7 DKIM domains: one store update holds
 * them with room to spare (STORE_MAX_KEYS); further DKIM domains of one
 * message are not identities */
#define REP_MAX_IDS 12
#define REP_RCPT_IDS 6                    /* at RCPT: five and the candidate */
#define REP_KEY_MAX 256                   /* "r|KIND|" + escaped value */
#define REP_PRIOR 5.0                     /* evidence that counts as full */
#define REP_REC_VERSION 1
#define REP_REC_MAX 96                    /* encoded record size bound */
#define REP_MAX_LESSONS (REP_MAX_IDS * 4)

enum rep_stage { REP_AT_RCPT, REP_AT_EOM };

struct rep_id {
    enum rep_kind kind;
    int candidate;                /* the sender's DKIM candidate at RCPT */
    char value[ORG_NAME_MAX];     /* address, CIDR or domain */
    char key[REP_KEY_MAX];        /* store key */
};

struct rep_ids {
    int n;
    struct rep_id id[REP_MAX_IDS];
    char sender_org[ORG_NAME_MAX]; /* "" for <> or no org domain */
};

struct rep_rec {
    uint64_t first_seen, last_seen;   /* first_seen: the record's creation,
                                       * at the first event that counts (the
                                       * decision creates none for a sender
                                       * that was only greylisted) */
    uint64_t decayed_at;          /* counters are decayed up to this time */
    uint64_t bucket_at;           /* tokens were counted at this time */
    uint64_t penalty_until;       /* greytrap penalty ends (0 = none) */
    float accepted;               /* messages accepted (end of message) */
    float passes;                 /* greylist passes (proper retries) */
    float abandoned;              /* pending triplets that expired */
    float spf_pass, spf_fail;
    float dkim_pass, dkim_fail;
    float trap_hits;
    float rcpts;                  /* accepted recipients */
    float rate;                   /* recipients/hour, weighted over 1 hour */
    float tokens;                 /* rate-limit bucket level */
};

enum rep_level { REP_TRUSTED, REP_NEUTRAL, REP_DEFER, REP_SUSPICIOUS, REP_BAD };

struct rep_assessment {
    enum rep_level level;
    double score;                 /* message score 0..100 (50 = no evidence) */
    double strong_score;          /* the same without the from identity */
    const char *rule;             /* stable rule name (see above) */
    int decider;                  /* identity index that decided, or -1 */
    int rate_limited;             /* a bucket is empty */
    int rate_id;                  /* its identity index, or -1 */
    double id_score[REP_MAX_IDS]; /* each identity's score */
    int established[REP_MAX_IDS];
};

enum rep_event {
    REP_EV_RCPT,        /* one accepted recipient: rcpts, rate, one token */
    REP_EV_PASS,        /* a triplet passed after a proper retry */
    REP_EV_MESSAGE,     /* an accepted message: at its first recipient that
                         * greylisting or reputation accepted; for its DKIM
                         * domains at end of message */
    REP_EV_SPF_PASS,
    REP_EV_SPF_FAIL,
    REP_EV_DKIM_PASS,
    REP_EV_DKIM_FAIL,
    REP_EV_ABANDONED,   /* a pending triplet expired without a retry */
    REP_EV_TRAP,        /* mailed a greytrap: a hit and the penalty */
    REP_EV_SEEN         /* only first/last seen */
};

struct rep_lesson {
    int id;             /* index into rep_ids */
    enum rep_event event;
};

/* One recipient's outcome at RCPT, for rep_plan_rcpt(). */
struct rep_rcpt_outcome {
    int accepted;       /* the recipient was accepted */
    int grey_passed;    /* its triplet passed after a proper retry */
    int trap;           /* the recipient is a greytrap */
    int first_rcpt;     /* first recipient of the message (an SPF fail is
                         * learnt once) */
    int message;        /* the first recipient that greylisting or reputation
                         * accepted: the message and its SPF pass count now */
};

/* rep_kind_name - "ip", "net", "ptr", "spf", "dkim", "from" */
const char *rep_kind_name(enum rep_kind k);
/* rep_level_name - "trusted", "neutral", "defer", "suspicious", "bad" */
const char *rep_level_name(enum rep_level l);
/* rep_event_name - stable event name for logs */
const char *rep_event_name(enum rep_event e);

/* rep_key_ok - is key an identity key as rep_make_key() writes them
 * ("r|KIND|VALUE", VALUE printable, no '|')? */
int rep_key_ok(const char *key);
/* rep_make_key - the store key of one identity; -1 if value is unusable */
int rep_make_key(enum rep_kind k, const char *value, char *key, size_t len);
/* rep_parse_identity - "ip:ADDR", "net:CIDR", "ptr:DOMAIN", ... (greyrepctl):
 * canonical value (a domain is reduced to its organisational domain) and
 * key; -1 with *why when invalid */
int rep_parse_identity(const struct cfg_greylist *g, const char *text, struct rep_id *out,
                       const char **why);

/* rep_identities - the identities of a message at stage; sender may be
 * NULL (no MAIL FROM yet).  Returns ids->n. */
int rep_identities(const struct cfg_greylist *g, const struct msg_facts *f,
                   const struct env_addr *sender, enum rep_stage stage, struct rep_ids *ids);

/* rep_rec_new - an empty record first seen at now (full bucket) */
void rep_rec_new(const struct cfg_rep *c, struct rep_rec *r, time_t now);
size_t rep_rec_encode(const struct rep_rec *r, unsigned char *buf);
int rep_rec_decode(const unsigned char *buf, size_t len, struct rep_rec *r);
/* rep_rec_expires - when the record may be forgotten: 4 half-lives after
 * last seen, or the end of a penalty if later */
time_t rep_rec_expires(const struct cfg_rep *c, const struct rep_rec *r);

/* rep_decay - decay the counters from decayed_at up to now (a clock that
 * went backwards decays nothing) */
void rep_decay(const struct cfg_rep *c, struct rep_rec *r, time_t now);
/* rep_good / rep_bad / rep_score - evidence and score (0..100) of one
 * identity's (decayed) record */
double rep_good(const struct rep_rec *r);
double rep_bad(enum rep_kind k, const struct rep_rec *r);
double rep_score(enum rep_kind k, const struct rep_rec *r);
/* rep_established - enough history to be trusted or to get the higher
 * rate limit (never for from) */
int rep_established(const struct cfg_rep *c, enum rep_kind k, const struct rep_rec *r,
                    time_t now);
/* rep_usual_rate - long-run recipients per hour */
double rep_usual_rate(const struct cfg_rep *c, const struct rep_rec *r);

/* rep_bucket - refill the bucket up to now with this identity's capacity
 * and refill rate; returns the tokens available */
double rep_bucket(const struct cfg_rep *c, enum rep_kind k, struct rep_rec *r, time_t now,
                  int established);

/* rep_assess - trust level and rate limit of a message from its
 * identities' records (decayed to now by the caller or by rep_decay).
 * found[i] says whether recs[i] came from the store; auto_listed is the
 * client auto-whitelist's answer. */
void rep_assess(const struct cfg_rep *c, const struct msg_facts *f, const struct rep_ids *ids,
                struct rep_rec *recs, const int *found, int auto_listed, time_t now,
                struct rep_assessment *a);

/* rep_plan_rcpt / rep_plan_eom / rep_plan_expire - what to learn; each
 * returns the number of lessons written (at most max) */
int rep_plan_rcpt(const struct rep_ids *ids, const struct msg_facts *f,
                  const struct rep_rcpt_outcome *o, struct rep_lesson *out, int max);
/* at end of message, over the EOM identities of an accepted message;
 * grey_passed: the message passed greylisting at RCPT (its DKIM domains
 * get their share of the pass); nothing when it carried no signature */
int rep_plan_eom(const struct rep_ids *ids, const struct msg_facts *f, int grey_passed,
                 struct rep_lesson *out, int max);
/* for the identities rebuilt from an expired pending triplet */
int rep_plan_expire(const struct rep_ids *ids, struct rep_lesson *out, int max);
/* rep_apply - apply lessons to the records (decayed to now first) */
void rep_apply(const struct cfg_rep *c, const struct rep_ids *ids, struct rep_rec *recs,
               const struct rep_lesson *l, int n, time_t now);
/* rep_learn - one event on one record */
void rep_learn(const struct cfg_rep *c, enum rep_kind k, struct rep_rec *r, enum rep_event e,
               time_t now);

/* rep_dkim_aligned - end of message: is there a DKIM pass whose d=
 * organisational domain is the sender's (ids->sender_org)? */
int rep_dkim_aligned(const struct rep_ids *ids, const struct msg_facts *f);

/* rep_format - one line of an identity's counters for logs and greyrepctl */
void rep_format(const struct rep_id *id, const struct rep_rec *r, double score,
                char *buf, size_t len);

#endif
