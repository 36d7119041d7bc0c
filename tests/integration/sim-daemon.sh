#!/bin/bash
# tests/integration/sim-daemon.sh - greyrep-sim and a running greyrep give
# the same verdict for the same input and time.
#
# A sequence of RCPTs (new triplets, early retries, passes, a retry from
# another address of the same /24 and of another /24, VERP senders whose
# numbers change, the null sender, auto-whitelisting) is sent to a real
# greyrep through the milter protocol (tests/bench/mtclient), in real time
# with [greylist] delay = 3s.  The second at which each RCPT was sent is
# written down, and the same lines are then replayed by
# "greyrep-sim --config SAME.conf --replay FILE" in virtual time.  Both go
# through decide_rcpt() over an LMDB store; the verdicts and reasons must
# be the same, line for line.  The DNS checks are off on both sides (no
# DNS server here): greyrep-sim's replay supplies no DNS facts.
#
#   GREYREP_BUILD=DIR   use DIR/src/greyrep, DIR/src/greyrep-sim and
#                       DIR/tests/bench/mtclient
#   KEEP=1              keep the temporary root
set -u
T_NAME=sim-daemon
. "$(dirname "$0")/../lib.sh"

need_greyrep
SIM=$GREYREP_BUILD/src/greyrep-sim
MTCLIENT=${MTCLIENT:-$GREYREP_BUILD/tests/bench/mtclient}
if [ ! -x "$MTCLIENT" ] && [ -f "$GREYREP_BUILD/Makefile" ]; then
    make -C "$GREYREP_BUILD" tests/bench/mtclient >/dev/null 2>&1
fi
for b in "$SIM" "$MTCLIENT"; do
    if [ ! -x "$b" ]; then
        fail "sim-daemon: binaries" "$b not built"
        t_exit
    fi
done
t_root

export GR_DELAY=3s GR_AUTO_WL=2 GR_RETRY_WINDOW=1h GR_PASS_LIFETIME=1d
gr_conf "$ROOT/greyrep.conf" || { fail "sim-daemon: config" "cannot write the config"; t_exit; }
if ! gr_start "$GR_CONF" "$GR_SOCKET" "$ROOT/greyrep.log"; then
    fail "sim-daemon: start" "greyrep did not start"
    t_exit
fi
SOCK=${GR_SOCKET}

# The sequence: OFFSET (seconds after the start, at the earliest) IP HELO
# SENDER RCPT.  Offsets leave a second or more either side of the delay.
cat >"$ROOT/plan" <<'PLAN'
0 192.0.2.10 mx.a.example alice@a.example user1@example.org
0 192.0.2.10 mx.a.example alice@a.example user2@example.org
1 192.0.2.10 mx.a.example alice@a.example user1@example.org
0 198.51.100.7 mx.b.example list-bounces+1001@b.example user1@example.org
0 198.51.100.7 mx.b.example <> user3@example.org
5 192.0.2.10 mx.a.example alice@a.example user1@example.org
5 192.0.2.77 mx2.a.example alice@a.example user2@example.org
5 203.0.113.5 mx3.a.example alice@a.example user1@example.org
5 198.51.100.7 mx.b.example list-bounces+2002@b.example user1@example.org
5 198.51.100.7 mx.b.example <> user3@example.org
6 192.0.2.10 mx.a.example alice@a.example user1@example.org
6 198.51.100.7 mx.b.example list-bounces+3003@b.example user4@example.org
PLAN

# send one RCPT; print the verdict as greyrep-sim does (accept|tempfail|reject)
send() {
    local ip=$1 helo=$2 from=$3 rcpt=$4 out
    [ "$from" = "<>" ] && from=""
    out=$(printf 'connect %s %s\nhelo %s\nmail <%s>\nrcpt <%s>\nabort\nquit\n' \
        "$helo" "$ip" "$helo" "$from" "$rcpt" | "$MTCLIENT" -s "$SOCK" - 2>&1) || {
        echo "error"; return; }
    case $(printf '%s\n' "$out" | grep '^rcpt:') in
        "rcpt: continue"*|"rcpt: accept"*) echo accept ;;
        "rcpt: tempfail"*) echo tempfail ;;
        "rcpt: reject"*) echo reject ;;
        *) echo "unknown: $out" ;;
    esac
}

start=$(date +%s)
: >"$ROOT/replay"
: >"$ROOT/daemon"
ambiguous=0
while read -r off ip helo from rcpt; do
    while [ $(( $(date +%s) - start )) -lt "$off" ]; do sleep 0.1; done
    t0=$(date +%s)
    v=$(send "$ip" "$helo" "$from" "$rcpt")
    t1=$(date +%s)
    # a call that straddled a second could have been decided in either
    [ "$t0" != "$t1" ] && ambiguous=$((ambiguous + 1))
    echo "$((t0 - start)) $ip $helo $from $rcpt" >>"$ROOT/replay"
    echo "$((t0 - start)) $v" >>"$ROOT/daemon"
done <"$ROOT/plan"

# the reasons, from greyrep's log, in the order of the RCPTs
grep -oE ': (accept|tempfail|reject) \([a-z-]+:' "$ROOT/greyrep.log" |
    sed -E 's/^: ([a-z]+) \(([a-z-]+):$/\1 \2/' >"$ROOT/daemon-reasons"
"$SIM" --config "$GR_CONF" --replay "$ROOT/replay" >"$ROOT/sim" 2>"$ROOT/sim.err"
check "sim-daemon: greyrep-sim replays" test -s "$ROOT/sim"

n=$(wc -l <"$ROOT/plan")
if [ "$(wc -l <"$ROOT/sim")" = "$n" ] && [ "$(wc -l <"$ROOT/daemon-reasons")" = "$n" ]; then
    pass "sim-daemon: $n verdicts from each side"
else
    fail "sim-daemon: $n verdicts from each side" \
        "sim $(wc -l <"$ROOT/sim"), daemon log $(wc -l <"$ROOT/daemon-reasons")"
fi
if diff <(cut -d' ' -f2 "$ROOT/sim") <(cut -d' ' -f2 "$ROOT/daemon") >"$ROOT/diff1"; then
    pass "sim-daemon: the same verdict for every RCPT"
else
    fail "sim-daemon: the same verdict for every RCPT" "$(tr '\n' ' ' <"$ROOT/diff1")"
fi
if diff <(cut -d' ' -f2,3 "$ROOT/sim") "$ROOT/daemon-reasons" >"$ROOT/diff2"; then
    pass "sim-daemon: the same reason for every RCPT"
else
    fail "sim-daemon: the same reason for every RCPT" "$(tr '\n' ' ' <"$ROOT/diff2")"
fi
# the plan is only a test if it went through every state
for r in greylisted too-early passed known; do
    check "sim-daemon: the sequence reaches '$r'" grep -q " $r\$" "$ROOT/sim"
done
[ "$ambiguous" -gt 0 ] && note "$ambiguous RCPT(s) straddled a second boundary"
gr_stop
t_exit
