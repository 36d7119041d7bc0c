#!/bin/bash
# tests/integration/reputation.sh - reputation end to end: a real Postfix,
# a real unbound, python3-dkim signing, greyrep on LMDB and then on Redis.
#
# The DNS world is tests/lib-checks.sh's plus three sender domains of our
# own (each its own organisational domain: .test is not a public suffix,
# so org domains are the last two labels):
#   good-rep.test  SPF: 198.51.100.40/29 and 203.0.113.40/29; FCrDNS for
#                  198.51.100.41 mx1. and 203.0.113.41 mx2.good-rep.test
#   new-rep.test   SPF: 198.18.7.48/29; FCrDNS for 198.18.7.49
#   dk-rep.test    no SPF, no PTR: only its DKIM key (the RSA key of
#                  lib-checks.sh under rsa2048._domainkey)
# Each sender has a /24 of its own where it matters: a network with a good
# history vouches for its other addresses (that is the design), so the new
# domain must not share good-rep.test's network.
# Cases, each on both backends (the answers are compared at the end):
#   trust     a sender with a good history (five accepted messages after
#             one greylist pass) is trusted: a new triplet from it passes
#             at once, also from another address of its SPF pool; a new
#             domain with the same checks passing still waits
#   trap      a client that mails a greytrap is refused there, and then its
#             whole network is bad: another address of it is refused too
#   defer     with defer_dkim, a domain whose history is its DKIM
#             signatures: mail from a new address is accepted at RCPT and
#             decided at end of message, 250 with an aligned signature,
#             451 with a broken one
#   ratelimit a burst from a new domain: past its bucket "rate limited"
#
# Run as root:   GREYREP_BUILD=DIR bash tests/integration/reputation.sh
set -u
T_NAME=reputation
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib-checks.sh"
. "$(dirname "$0")/../lib-redis.sh"

need_root "reputation: environment"
need_cmd "reputation: environment" postfix swaks unbound dkimsign dknewkey openssl redis-server
need_greyrep
t_root

DELAY=2
# ---------------------------------------------------------------- DNS
ck_dkim_keys "$ROOT/keys" || { fail "reputation: DKIM keys" "dknewkey failed"; t_exit; }
ck_zone_extra "$ROOT/unbound-extra.conf" "$ROOT/keys"
rsa=$(ck_txt_strings "$(tr -d '\n' <"$ROOT/keys/rsa.dns")" 200)
cat >>"$ROOT/unbound-extra.conf" <<EOF
    # ---- written by tests/integration/reputation.sh
    local-zone: "good-rep.test." static
    local-data: 'good-rep.test. 60 IN TXT "v=spf1 ip4:198.51.100.40/29 ip4:203.0.113.40/29 -all"'
    local-data: "mx1.good-rep.test. 60 IN A 198.51.100.41"
    local-data: "mx2.good-rep.test. 60 IN A 203.0.113.41"
    local-data-ptr: "198.51.100.41 mx1.good-rep.test"
    local-data-ptr: "203.0.113.41 mx2.good-rep.test"
    local-zone: "new-rep.test." static
    local-data: 'new-rep.test. 60 IN TXT "v=spf1 ip4:198.18.7.48/29 -all"'
    local-data: "mx.new-rep.test. 60 IN A 198.18.7.49"
    local-zone: "7.18.198.in-addr.arpa." static
    local-data-ptr: "198.18.7.49 mx.new-rep.test"
    local-zone: "5.18.198.in-addr.arpa." static
    local-zone: "9.18.198.in-addr.arpa." static
    local-zone: "dk-rep.test." static
    local-data: 'rsa2048._domainkey.dk-rep.test. 60 IN TXT $rsa'
EOF
DNS_PORT=$(ck_free_port 26353) || { fail "reputation: DNS port" "no free port"; t_exit; }
t_on_cleanup "'$GREYREP_SRC/tests/dns/unbound-start.sh' -k '$ROOT/dns'"
if "$GREYREP_SRC/tests/dns/unbound-start.sh" "$ROOT/dns" "$DNS_PORT" "$ROOT/unbound-extra.conf" \
    >"$ROOT/unbound-start.out" 2>&1; then
    pass "unbound serves the reputation test zones"
else
    fail "unbound serves the reputation test zones" "$(head -3 "$ROOT/unbound-start.out" | tr '\n' ' ')"
    t_exit
fi

# ---------------------------------------------------------------- messages
# msg FROM ID: a message from FROM, signed by dk-rep.test if FROM is there
msg() {
    cat <<EOF
From: <$1>
To: <x@rig.test>
Subject: reputation test $2
Date: Fri, 04 Dec 2026 12:00:00 +0000
Message-ID: <$2@rep.test>
X-Test-Id: $2

This is message $2.
EOF
}
signed() {   # signed ID: a dk-rep.test message with a good signature
    msg "news@dk-rep.test" "$1" >"$ROOT/$1.txt"
    ck_dkim_sign rsa2048 dk-rep.test "$ROOT/keys/rsa.key" rsa-sha256 "$ROOT/$1.txt" "$ROOT/$1.eml"
}

# ---------------------------------------------------------------- greyrep
# conf BACKEND RATELIMIT: greyrep.conf on top of ck_conf's, with reputation
# thresholds a test can reach in seconds
conf() {
    local f=$ROOT/greyrep-$1-$2.conf
    CK_DNS=127.0.0.1:$DNS_PORT CK_DELAY=${DELAY}s CK_SUSPICIOUS=${DELAY}s \
        CK_STORE=$ROOT/db-$1-$2 ck_conf "$f" || return 1
    mkdir -p "$ROOT/db-$1-$2"
    chown "$(gr_user)" "$ROOT/db-$1-$2"
    sed -i "s|^backend = lmdb|backend = $1\nredis = 127.0.0.1:$REDIS_PORT\nredis_prefix = rep-$2:|" "$f"
    printf 'trap@rig.test\n@traps.example.test\n' >"$ROOT/greytraps"
    chmod 644 "$ROOT/greytraps"
    cat >>"$f" <<EOF

[reputation]
enabled = yes
min_messages = 5
min_age = 2s
defer_dkim = yes

[ratelimit]
enabled = $2
rate = 1
burst = 3

[greytrap]
recipients = $ROOT/greytraps
penalty = 1h
EOF
    echo "$f"
}

# one session: ANSWERS gets "CASE: RCPT-CODES / DATA-CODE" for the comparison
ANSWERS=
say() { printf '%s: %s / %s\n' "$1" "$SMTP_RCPT" "${SMTP_DATA:-}" >>"$ANSWERS"; }
# go CASE ADDR NAME FROM TO [SWAKS-ARGS]: send, record, keep the RCPT text
go() {
    local c=$1; shift
    ck_send "$c" "$@"
    say "$c"
    RTEXT=$(ck_rcpt_reply 1)
}
want() {   # want NAME CODE-LIST [DATA]: judge the last session
    local name=$1 codes=$2 data=${3:-}
    if [ "$SMTP_RCPT" = "$codes" ] && { [ -z "$data" ] || [ "$SMTP_DATA" = "$data" ]; }; then
        pass "$BK: $name"
    else
        fail "$BK: $name" "RCPT $SMTP_RCPT DATA ${SMTP_DATA:-none} ($RTEXT)"
        log_since "$GR_LOG" | tail -n 4 | sed 's/^/  | /'
    fi
}
# history FROM ADDR NAME TO N [SWAKS-ARGS]: greylisted once, then N accepted
history() {
    local from=$1 addr=$2 name=$3 to=$4 n=$5 i; shift 5
    log_mark "$GR_LOG"
    ck_send hist "$addr" "$name" "$from" "$to" "$@"
    sleep $((DELAY + 1))
    for i in $(seq 1 "$n"); do
        ck_send hist "$addr" "$name" "$from" "$to" "$@"
        [ "$SMTP_RCPT" = 250 ] || { echo "  | history $from #$i: $SMTP_RCPT $(ck_rcpt_reply 1)"; return 1; }
    done
}

run_backend() {     # run_backend BACKEND
    BK=$1
    ANSWERS=$ROOT/answers-$BK
    : >"$ANSWERS"
    local c
    c=$(conf "$BK" no) || { fail "$BK: configuration"; return; }
    if ! "$GREYREP" -n -c "$c" >"$ROOT/n.out" 2>&1; then
        fail "$BK: greyrep -n accepts the reputation configuration" "$(head -3 "$ROOT/n.out")"
        return
    fi
    GR_CONF=$c
    gr_start "$c" "unix:$ROOT/greyrep.sock" "$ROOT/greyrep-$BK.log" ||
        { fail "$BK: greyrep starts"; return; }

    # --- trust
    if history "a@good-rep.test" 198.51.100.41 mx1.good-rep.test u1@rig.test 5 -d "$ROOT/plain.eml"; then
        pass "$BK: a good history is built (one pass, five accepted messages)"
    else
        fail "$BK: a good history is built"
    fi
    sleep 2     # min_age
    log_mark "$GR_LOG"
    go trust-same 198.51.100.41 mx1.good-rep.test a@good-rep.test u2@rig.test -d "$ROOT/plain.eml"
    want "a new triplet from a trusted sender passes at once" 250
    if log_since "$GR_LOG" | grep -q 'trusted'; then
        pass "$BK: the decision log line names the trust level"
    else
        fail "$BK: the decision log line names the trust level" "$(log_since "$GR_LOG" | tail -1)"
    fi
    go trust-pool 203.0.113.41 mx2.good-rep.test b@good-rep.test u3@rig.test -d "$ROOT/plain.eml"
    want "another address of its SPF pool passes at once" 250
    go trust-new 198.18.7.49 mx.new-rep.test a@new-rep.test u2@rig.test -d "$ROOT/plain.eml"
    want "a new domain with the same checks passing waits" 451
    ctl check --ip 198.51.100.41 --from a@good-rep.test --rcpt u9@rig.test --helo mx1.good-rep.test
    if [ "$CTL_RC" = 0 ] && grep -q 'spf:good-rep.test' <<<"$CTL_OUT" && grep -qi 'trusted' <<<"$CTL_OUT"; then
        pass "$BK: greyrepctl check shows the identities and the trust level"
    else
        fail "$BK: greyrepctl check shows the identities and the trust level" "rc $CTL_RC: $(head -c 400 <<<"$CTL_OUT")"
    fi

    # --- trap
    go trap-hit 192.0.2.50 '[UNAVAILABLE]' spam@junk.example trap@rig.test -d "$ROOT/plain.eml"
    want "the greytrap recipient is refused" 451
    go trap-net 192.0.2.51 '[UNAVAILABLE]' other@junk2.example real@rig.test -d "$ROOT/plain.eml"
    want "another address of the trapped network is refused" 451
    case $RTEXT in
        451*) pass "$BK: the refusal says why ($RTEXT)" ;;
        *) fail "$BK: the refusal says why" "$RTEXT" ;;
    esac
    go trap-other 192.0.2.60 '[UNAVAILABLE]' other@junk2.example real@rig.test -d "$ROOT/plain.eml"
    sleep $((DELAY + 1))
    go trap-other 192.0.2.60 '[UNAVAILABLE]' other@junk2.example real@rig.test -d "$ROOT/plain.eml"
    want "the trapped network's neighbour in the same /24 stays refused on retry" 451
    ctl reputation show net:192.0.2.0/24 --json
    if [ "$CTL_RC" = 0 ] && python3 -c '
import json, sys, time
r = json.loads(sys.stdin.readline())
sys.exit(0 if r["trap_hits"] >= 1 and r["penalty_until"] > time.time() + 3000 else 1)' <<<"$CTL_OUT"; then
        pass "$BK: reputation show: the network has a trap hit and an hour of penalty"
    else
        fail "$BK: reputation show: the network has a trap hit and an hour of penalty" "rc $CTL_RC: $CTL_OUT"
    fi

    # --- defer: a domain known by its DKIM signatures only
    local i ok=1
    signed hist-dk || ok=0
    for i in 1 2 3 4 5 6; do
        ck_send "dk$i" 198.18.9.60 '[UNAVAILABLE]' news@dk-rep.test d$i@rig.test -d "$ROOT/hist-dk.eml"
        sleep $((DELAY + 1))
        ck_send "dk$i" 198.18.9.60 '[UNAVAILABLE]' news@dk-rep.test d$i@rig.test -d "$ROOT/hist-dk.eml"
        [ "$SMTP_RCPT" = 250 ] || ok=0
    done
    [ $ok = 1 ] && pass "$BK: dk-rep.test earns a DKIM history (six signed messages)" ||
        fail "$BK: dk-rep.test earns a DKIM history" "last RCPT $SMTP_RCPT"
    signed defer-good && sed 's/This is message/This message was CHANGED:/' "$ROOT/defer-good.eml" >"$ROOT/defer-bad.eml"
    go defer-good 198.18.5.70 '[UNAVAILABLE]' news@dk-rep.test e1@rig.test -d "$ROOT/defer-good.eml"
    want "a new address with an aligned DKIM pass: accepted at end of message" 250 250
    go defer-bad 198.18.5.71 '[UNAVAILABLE]' news@dk-rep.test e2@rig.test -d "$ROOT/defer-bad.eml"
    want "a new address with a broken signature: 451 at end of message" 250 451
    gr_stop

    # --- rate limit, in a store of its own
    c=$(conf "$BK" yes) || { fail "$BK: configuration"; return; }
    GR_CONF=$c
    gr_start "$c" "unix:$ROOT/greyrep.sock" "$ROOT/greyrep-$BK-rl.log" ||
        { fail "$BK: greyrep starts (rate limit)"; return; }
    local to="--to r1@rig.test,r2@rig.test,r3@rig.test,r4@rig.test,r5@rig.test"
    ck_send burst 198.18.7.49 mx.new-rep.test a@new-rep.test r1@rig.test $to -d "$ROOT/plain.eml"
    sleep $((DELAY + 1))
    go burst 198.18.7.49 mx.new-rep.test a@new-rep.test r1@rig.test $to -d "$ROOT/plain.eml"
    want "a burst from a new domain: three recipients, then rate limited" "250 250 250 451 451"
    if grep -qi 'rate' "$(ls -t "$ROOT"/swaks/*burst* | head -1)"; then
        pass "$BK: the reply says the sender is rate limited"
    else
        fail "$BK: the reply says the sender is rate limited"
    fi
    gr_stop
}

# ---------------------------------------------------------------- run
cat >"$ROOT/plain.eml" <<'EOF'
From: <sender@example.org>
To: <x@rig.test>
Subject: reputation test
Message-ID: <plain@rep.test>

Hello.
EOF
port=$(free_port 2647) || { fail "reputation: SMTP port" "no free port"; t_exit; }
pf_setup "$ROOT/postfix" "$port" "unix:$ROOT/greyrep.sock" accept || { fail "reputation: postfix setup"; t_exit; }
pf_start || { fail "reputation: postfix start"; t_exit; }
REDIS_PORT=$(free_port 26479)
t_on_cleanup redis_stop
redis_start "$ROOT/redis" "$REDIS_PORT" || { fail "reputation: redis-server starts"; t_exit; }

run_backend lmdb
run_backend redis
if [ -s "$ROOT/answers-lmdb" ] && cmp -s "$ROOT/answers-lmdb" "$ROOT/answers-redis"; then
    pass "LMDB and Redis give the same answers ($(wc -l <"$ROOT/answers-lmdb") sessions)"
else
    fail "LMDB and Redis give the same answers" "$(diff "$ROOT/answers-lmdb" "$ROOT/answers-redis" | head -5 | tr '\n' ' ')"
fi
redis_stop
t_exit
