#!/bin/bash
# tests/integration/crash.sh - kill -9 during group commits loses no
# acknowledged decision.
#
# greyrep (LMDB, sync_interval 1 s, greylisting only) takes load from
# greyrep-loadgen: 32 connections, every message a new triplet, each one
# a write that queues for a group commit.  loadgen writes every RCPT that
# got an answer into an acknowledged-decisions log (--ack-log) as soon as
# it reads the answer.  greyrep is killed with SIGKILL in the middle of the
# load, restarted on the same store, and every acknowledged triplet must be
# there (greyrepctl greylist list --json), as pending.  A first run,
# stopped cleanly with -d, shows that the decisions really were grouped
# (greyrep logs "N decisions written in M group commits" at close).
#
# Run as root or not:   bash tests/integration/crash.sh
#   GREYREP_BUILD=DIR   use DIR/src/greyrep, DIR/src/greyrepctl and
#                       DIR/tests/bench/greyrep-loadgen
set -u
T_NAME=crash
. "$(dirname "$0")/../lib.sh"

need_cmd "crash: environment" python3
need_greyrep
LOADGEN=$GREYREP_BUILD/tests/bench/greyrep-loadgen
if [ ! -x "$LOADGEN" ]; then
    skip "crash: environment" "$LOADGEN not built (make check builds it)"
    t_exit
fi
t_root

export GR_DELAY=1h GR_CHECKS=off GR_TRUSTED=127.0.0.2/32
gr_conf "$ROOT/greyrep.conf" || { fail "crash: config" "cannot write it"; t_exit; }

# --- 1: grouped commits, seen in the daemon's own count ---
if ! gr_start "$GR_CONF" "$GR_SOCKET" "$ROOT/greyrep.log" -d; then
    fail "crash: greyrep starts" "see the log"; t_exit
fi
"$LOADGEN" -s "$GR_SOCKET" -c 32 -T 2 -d 2 --mix 100:0:0 --json >"$ROOT/lg1.json" 2>"$ROOT/lg1.err"
gr_stop
line=$(grep -o '[0-9]* decisions written in [0-9]* group commits' "$ROOT/greyrep.log" | tail -1)
dec=${line%% *}
com=$(printf '%s\n' "$line" | awk '{ print $5 }')
if [ -n "$line" ] && [ "$com" -gt 0 ] && [ "$com" -lt "$dec" ]; then
    pass "crash: under load decisions were grouped ($line)"
else
    fail "crash: decisions grouped under load" "${line:-no count logged}"
fi

# --- 2: kill -9 in the middle of the load ---
rm -rf "$ROOT/db"
gr_start "$GR_CONF" "$GR_SOCKET" "$ROOT/greyrep.log" || { fail "crash: greyrep starts" "see the log"; t_exit; }
"$LOADGEN" -s "$GR_SOCKET" -c 32 -T 2 -d 6 --mix 100:0:0 --ack-log "$ROOT/acked.log" \
    --json >"$ROOT/lg2.json" 2>"$ROOT/lg2.err" &
lg=$!
# acked: the new triplets whose RCPT was answered (pass or tempfail), as
# "ADDR SENDER RCPT", from loadgen's "OUTCOME CLASS ADDR SENDER RCPT" lines
acked() { awk '$2 == "new" && ($1 == "pass" || $1 == "tempfail") { print $3, $4, $5 }' "$ROOT/acked.log"; }
sleep 2.5
acked_before=$(acked | wc -l)
gr_kill9 "$GR_PID"
wait "$lg" 2>/dev/null
acked >"$ROOT/acked"
n=$(wc -l <"$ROOT/acked")
if [ "$acked_before" -gt 500 ]; then
    pass "crash: greyrep killed with SIGKILL after $acked_before acknowledged decisions ($n in all)"
else
    fail "crash: load before the kill" "only $acked_before acknowledged decisions"
    indent "$ROOT/lg2.err" 5
fi
if gr_start "$GR_CONF" "$GR_SOCKET" "$ROOT/greyrep.log"; then
    pass "crash: greyrep restarts on the same store"
else
    fail "crash: greyrep restarts on the same store" "see the log"; t_exit
fi
ctl greylist list --json
printf '%s\n' "$CTL_OUT" >"$ROOT/list.json"
missing=$(python3 - "$ROOT/acked" "$ROOT/list.json" <<'PY'
import ipaddress, json, re, sys
have = set()
for line in open(sys.argv[2]):
    line = line.strip()
    if line.startswith("{"):
        o = json.loads(line)
        if o.get("state") == "pending":
            have.add((o["network"], o["sender"], o["recipient"]))
miss = 0
for line in open(sys.argv[1]):
    addr, sender, rcpt = line.split()
    prefix = 24 if ":" not in addr else 64
    net = str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False))
    # greyrep(8) "Sender normalisation": each run of digits in the local
    # part becomes '#' (loadgen's senders have no tags, BATV or SRS)
    local, domain = sender.strip("<>").lower().split("@")
    t = (net, re.sub(r"[0-9]+", "#", local) + "@" + domain, rcpt.strip("<>").lower())
    if t not in have:
        miss += 1
        if miss <= 3:
            print("missing:", t, file=sys.stderr)
print(miss)
PY
)
if [ "$CTL_RC" = 0 ] && [ "$missing" = 0 ] && [ "$n" -gt 0 ]; then
    pass "crash: every one of the $n acknowledged decisions is in the store after kill -9"
else
    fail "crash: acknowledged decisions survive kill -9" "greylist list rc $CTL_RC; $missing of $n missing"
fi
gr_stop
t_exit
