/*
 * NAME
 *   sim - greyrep-sim's shared types: the PRNG, senders, messages, results
 * DESCRIPTION
 *   greyrep-sim replays synthetic mail in virtual time through greyrep's
 *   own decision code (decide_rcpt() over the real LMDB store, see
 *   sim_decide.h).  The pieces:
 *     sim_rng.c     xoshiro256** seeded by splitmix64: the same --seed
 *                   gives the same traffic on every machine;
 *     sim_models.c  the sender models: when a sender retries, from which
 *                   address, and what DNS says about it;
 *     sim_mix.c     the traffic-mix file;
 *     sim_run.c     the event loop of one mode (one greyrep configuration);
 *     sim_report.c  the table, --json and the SVG chart.
 *   Randomness that shapes the traffic is drawn from streams keyed by the
 *   message and the attempt, never by what a mode answered, so every mode
 *   sees exactly the same senders, messages and retry times.
 * THREADS
 *   Single-threaded; modes run in separate processes (fork).
 */
#ifndef GREYREP_SIM_H
#define GREYREP_SIM_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* --- PRNG ------------------------------------------------------------- */
struct sim_rng {
    uint64_t s[4];
};
/* sim_rng_seed - a stream from a seed and up to three stream keys */
void sim_rng_seed(struct sim_rng *r, uint64_t seed, uint64_t k1, uint64_t k2, uint64_t k3);
uint64_t sim_rng_next(struct sim_rng *r);
/* sim_rng_below - uniform in [0, n), n > 0 */
uint64_t sim_rng_below(struct sim_rng *r, uint64_t n);
/* sim_rng_unit - uniform in [0, 1) */
double sim_rng_unit(struct sim_rng *r);
uint64_t sim_splitmix64(uint64_t *x);

/* --- sender models ---------------------------------------------------- */
enum sim_model {
    M_POSTFIX,
    M_EXIM,
    M_SENDMAIL,
    M_EXCHANGE,
    M_GMAIL,
    M_O365,
    M_BULK,
    M_SELF_PTR,
    M_SELF_NOPTR,
    M_BOT_NORETRY,
    M_BOT_EARLY,
    M_BOT_RETRY,
    M_SNOWSHOE,
    M_TRAP,
    M_BACKSCATTER,
    M_NMODELS
};

/* What DNS says about one client address and sender, as the resolver
 * would answer (the sender model's zone). */
enum sim_ptr { PTR_NONE, PTR_MISMATCH, PTR_MATCH };
struct sim_dns {
    enum sim_ptr ptr;
    char ptr_name[128];      /* the PTR target ("" for PTR_NONE) */
    int spf;                 /* enum spf_result */
    int dkim_pass;           /* an aligned DKIM signature verifies */
    int dnsbl_listed;        /* listed on the configured block lists */
};

struct sim_model_info {
    const char *name;        /* as in the mix file */
    int legit;               /* wanted mail: stopping it is a loss */
    unsigned retry_nominal;  /* one retry interval of this MTA, s (0: n/a) */
};
extern const struct sim_model_info sim_models[M_NMODELS];
/* sim_model_by_name - the model of a mix-file name, or -1 */
int sim_model_by_name(const char *name);

/* One sender (an MTA, a pool, a bot herd member, a campaign). */
struct sim_sender {
    enum sim_model model;
    uint32_t id;             /* index among all senders */
    uint32_t local_id;       /* index among the senders of its class */
    uint32_t cls;            /* mix line (class) index */
    uint32_t phase;          /* queue-runner phase, s */
    unsigned ncorr;          /* recipients it corresponds with (legit) */
};

/* One message and its delivery state. */
#define SIM_MAX_RCPTS 8
struct sim_msg {
    uint32_t sender;         /* index into the sender table */
    uint32_t id;
    time_t first;            /* first attempt */
    time_t next;             /* next attempt */
    uint16_t attempt;        /* attempts made */
    uint8_t nrcpt;
    uint8_t pending;         /* bit mask of recipients not yet accepted */
    uint16_t rcpt[SIM_MAX_RCPTS];
    time_t done;             /* all recipients accepted at (0: not yet) */
    uint8_t stopped;         /* the sender gave up or was refused for good */
    uint8_t good_history;    /* sender had an established good history */
    uint8_t new_sender;      /* sender's first message in the run */
    uint8_t proper_seen;     /* a retry after the mode's delay happened */
    uint8_t proper_ok;       /* ... and it delivered everything */
    uint8_t trap;            /* a recipient is a trap address */
};

/* sim_model_next - when the sender makes attempt number `attempt` (1 is
 * the first retry) of a message first tried at `first` whose previous
 * attempt was at `last`; -1 if it gives up.  Pure given rng. */
time_t sim_model_next(const struct sim_sender *s, time_t first, time_t last,
                      unsigned attempt, struct sim_rng *rng);
/* sim_model_client - the client address (IPv4, host order) of an attempt */
uint32_t sim_model_client(const struct sim_sender *s, uint32_t msg, unsigned attempt,
                          struct sim_rng *rng);
/* sim_model_sender - the MAIL FROM of a message ("" for <>) */
void sim_model_sender(const struct sim_sender *s, uint32_t msg, time_t first,
                      unsigned rcpt, char *buf, size_t len);
/* sim_model_dns - what DNS says about this client and sender */
void sim_model_dns(const struct sim_sender *s, uint32_t client, time_t first,
                   struct sim_dns *out);
/* sim_model_helo - the HELO name */
void sim_model_helo(const struct sim_sender *s, uint32_t client, char *buf, size_t len);

/* --- traffic mix ------------------------------------------------------ */
#define SIM_MAX_CLASSES 32
struct sim_class {
    char label[32];          /* name shown in the output */
    enum sim_model model;
    unsigned senders;
    double weight;           /* share of messages: senders * per-sender rate */
    unsigned max_rcpts;
};
struct sim_mix {
    struct sim_class c[SIM_MAX_CLASSES];
    unsigned n;
};
/* sim_mix_load - read a mix file; -1 with "FILE:LINE: message" in err */
int sim_mix_load(const char *file, struct sim_mix *mix, char *err, size_t errlen);

/* --- results ---------------------------------------------------------- */
#define SIM_CDF_BINS 64      /* delay bins of the chart, log-spaced */
struct sim_class_result {
    uint64_t sent, delivered, stopped, delayed;
    double delay_sum;        /* of delivered messages, s */
    uint32_t p95, max;       /* added delay of delivered messages, s */
    uint64_t good, good_delayed;           /* established good history */
    uint64_t fresh, fresh_delivered;       /* first message of a new sender */
    double fresh_delay_sum;
    double fresh_retry_sum;                /* when its MTA would first retry */
    uint64_t proper, proper_ok;            /* had a retry after the delay */
    uint64_t trap_msgs;
    uint64_t cdf[SIM_CDF_BINS];            /* delivered with delay <= bin edge */
};
struct sim_mode_result {
    char name[32];
    char note[160];
    unsigned delay;          /* the mode's [greylist] delay */
    int selective_missing;   /* selective mode asked for, not in this build */
    double wall;             /* seconds this mode took */
    double cpu;              /* CPU seconds of its process */
    struct sim_class_result cls[SIM_MAX_CLASSES];
};
/* sim_cdf_edge - the upper edge of a chart bin, s */
double sim_cdf_edge(unsigned bin);

#endif
