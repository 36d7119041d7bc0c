#!/bin/bash
# tests/integration/redis.sh - two MX hosts sharing one Redis.
#
# A private redis-server (127.0.0.1, a free port from 26379, its own
# directory, no persistence, requirepass) holds the state of two greyrep
# instances, each behind its own private Postfix instance (lib.sh's
# pf_setup, two ports and roots).  Each greyrep runs in a UTS namespace of
# its own with the host name mx1.rig.test / mx2.rig.test, as two hosts
# would, so X-Greylist headers and the per-host counters say which one
# decided.  A third greyrep with the LMDB backend supplies a store for the
# dump/load cases.
#
# Cases: greylisted on MX1, retry on MX2 after the delay; exact counts after
# concurrent load on the same triplets through both instances (scripted
# milter sessions with tests/bench/mtclient, and tests/bench/greyrep-loadgen
# with the same seed on both); Redis killed mid-run (on_error accept, the
# outage logged once), restarted (shared state resumes, reconnect within
# about a second); greyrepctl dump/load LMDB -> Redis -> LMDB and
# Redis -> LMDB reproduce every record; per-host counters.
#
# Run as root:   bash tests/integration/redis.sh
#   GREYREP_BUILD=DIR   use DIR/src/greyrep, DIR/src/greyrepctl and
#                       DIR/tests/bench/{mtclient,greyrep-loadgen}
#   KEEP=1              keep the temporary root for inspection
set -u
T_NAME=redis
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib-redis.sh"

need_root "redis: environment"
need_cmd "redis: environment" redis-server redis-cli postfix swaks perl python3 unshare
need_greyrep

# the milter-protocol clients of tests/bench (built by make check)
bench_tool() {
    local t=$1 c
    for c in "$GREYREP_BUILD/tests/bench/$t" "$GREYREP_SRC/tests/bench/$t"; do
        [ -x "$c" ] && { echo "$c"; return 0; }
    done
    if [ -f "$GREYREP_BUILD/Makefile" ] && make -C "$GREYREP_BUILD" "tests/bench/$t" >/dev/null 2>&1; then
        echo "$GREYREP_BUILD/tests/bench/$t"; return 0
    fi
    return 1
}
MTCLIENT=$(bench_tool mtclient) || { fail "redis: tests/bench/mtclient" "not built in $GREYREP_BUILD"; t_exit; }
LOADGEN=$(bench_tool greyrep-loadgen) || LOADGEN=
t_root
t_on_cleanup redis_stop TERM

DELAY=2
PASS_WORD=rig-$$-$RANDOM
GRCTL() { local c=$1; shift; "$GREYREPCTL" -c "$ROOT/$c.conf" "$@"; }
# py: python3 with the script on stdin and the arguments after it
py() { python3 - "$@"; }

# ---------------------------------------------------------------- Redis
rport=$(free_port 26379) || { fail "redis: port" "no free port from 26379"; t_exit; }
s=$(now)
if redis_start "$ROOT/redis" "$rport" "$PASS_WORD"; then
    pass "redis-server $(redis-server --version | grep -oE 'v=[0-9.]+') on 127.0.0.1:$rport, no persistence, requirepass ($(elapsed "$s") s)"
else
    fail "redis-server starts" "see $ROOT/redis/redis.log"; t_exit
fi
if [ "$(redis-cli -h 127.0.0.1 -p "$rport" set probe 1 2>&1)" != OK ]; then
    pass "redis refuses commands without the password"
else
    fail "redis refuses commands without the password" "SET worked without AUTH"
fi

# ---------------------------------------------------------------- greyrep x 3
printf '# test clients\n192.0.2.50\n' >"$ROOT/whitelist_clients"
printf 'postmaster@\n' >"$ROOT/whitelist_recipients"
printf '# none\n' >"$ROOT/whitelist_senders"
rg_conf "$ROOT/gr1.conf" gr1 || { fail "redis: config" "rg_conf failed"; t_exit; }
rg_conf "$ROOT/gr2.conf" gr2
rg_conf "$ROOT/lm.conf" lm backend=lmdb delay=1s
rg_conf "$ROOT/badpw.conf" badpw password=wrong-password
if "$GREYREP" -n -c "$ROOT/gr1.conf" >"$ROOT/check.out" 2>&1; then
    pass "greyrep -n accepts [store] backend = redis, redis_password, redis_prefix, redis_timeout"
else
    fail "greyrep -n accepts the redis configuration" "$(head -3 "$ROOT/check.out" | tr '\n' ' ')"
fi

# a wrong password stops greyrep at start (greyrep.conf(5))
timeout 15 "$GREYREP" -f -c "$ROOT/badpw.conf" >"$ROOT/greyrep-badpw.log" 2>&1 </dev/null
rc=$?
if [ $rc = 1 ] && grep -qiE 'auth|password|WRONGPASS|NOAUTH' "$ROOT/greyrep-badpw.log"; then
    pass "a wrong redis_password stops greyrep at start (exit 1: $(grep -iE 'auth|password' "$ROOT/greyrep-badpw.log" | head -1 | cut -c 1-120))"
else
    fail "a wrong redis_password stops greyrep at start" "exit $rc$([ $rc = 124 ] && echo ' (still running after 15 s)'): $(tail -2 "$ROOT/greyrep-badpw.log" | tr '\n' ' ')"
fi

rg_wrapper gr1 mx1.rig.test
rg_wrapper gr2 mx2.rig.test
rg_wrapper lm mx3.rig.test
for n in gr1 gr2 lm; do
    if rg_start "$n"; then
        pass "greyrep $n ($(sed -n 's/^backend = //p' "$ROOT/$n.conf")) listens on unix:$ROOT/$n.sock"
    else
        fail "greyrep $n starts" "see $ROOT/greyrep-$n.log"; t_exit
    fi
done

# ---------------------------------------------------------------- Postfix x 2
p1=$(free_port 2541) || { fail "redis: port" "no free port"; t_exit; }
pf_setup "$ROOT/pf1" "$p1" "unix:$ROOT/gr1.sock" tempfail || { fail "redis: postfix 1 setup" "postfix check failed"; t_exit; }
pf_start "$ROOT/pf1" || { fail "redis: postfix 1 start" "see $ROOT/pf1/maillog"; t_exit; }
p2=$(free_port $((p1 + 1))) || { fail "redis: port" "no free port"; t_exit; }
pf_setup "$ROOT/pf2" "$p2" "unix:$ROOT/gr2.sock" tempfail || { fail "redis: postfix 2 setup" "postfix check failed"; t_exit; }
pf_start "$ROOT/pf2" || { fail "redis: postfix 2 start" "see $ROOT/pf2/maillog"; t_exit; }
note "MX1: postfix 127.0.0.1:$p1 -> greyrep gr1 (mx1.rig.test); MX2: postfix 127.0.0.1:$p2 -> gr2 (mx2.rig.test); redis 127.0.0.1:$rport"

# mx N: make lib.sh's smtp()/pf_delivered() use Postfix instance N
mx() { PF_DIR=$ROOT/pf$1; PF_PORT=$(eval echo "\$p$1"); }
# send MX ID CLIENT FROM TO: one message through MX (1 or 2), client by XCLIENT
send() {
    local m=$1 id=$2 client=$3 from=$4 to=$5; shift 5
    mx "$m"
    smtp "$id" --xclient-addr "$client" --xclient-name '[UNAVAILABLE]' --from "$from" --to "$to" "$@"
}
# expect_rcpt NAME WANT [WANT-DATA]: a 451 must be greyrep's "Greylisted"
# (Postfix's milter_default_action here is tempfail, so that a greyrep that
# is not answering shows up as "451 4.7.1 Service unavailable")
expect_rcpt() {
    local name=$1 want=$2 wdata=${3:-}
    if [ "$SMTP_RCPT" = "$want" ] && { [ -z "$wdata" ] || [ "$SMTP_DATA" = "$wdata" ]; } &&
        { [ "$want" != 451 ] || printf '%s' "$SMTP_RCPT_TEXT" | grep -q 'Greylisted'; }; then
        pass "$name (RCPT $SMTP_RCPT${SMTP_DATA:+, DATA $SMTP_DATA})"
        return 0
    fi
    fail "$name" "want RCPT '$want'${wdata:+ DATA $wdata}, got RCPT '$SMTP_RCPT' DATA '$SMTP_DATA' (swaks rc $SMTP_RC) $SMTP_RCPT_TEXT"
    smtp_show
    return 1
}
# alive WHEN: both shared-store instances still run (else FAIL, restart)
alive() {
    local n
    for n in gr1 gr2; do
        if ! gr_alive "${RG_PID[$n]}"; then
            wait "${RG_PID[$n]}" 2>/dev/null
            fail "greyrep $n survives $1" "it died (status $?); restarting it"
            indent "$ROOT/greyrep-$n.log" 5
            gr_forget "${RG_PID[$n]}"
            rg_start "$n" || t_exit
        fi
    done
}
header_of() { awk -v h="$2" 'BEGIN { IGNORECASE = 1 } /^$/ { exit } tolower($0) ~ "^" tolower(h) ":" { print; exit }' "$1"; }
# mt SOCKNAME SCRIPT: run mtclient; MT_OUT, MT_RC
mt() {
    MT_OUT=$(timeout 60 "$MTCLIENT" -s "unix:$ROOT/$1.sock" "$2" 2>&1 </dev/null)
    MT_RC=$?
}
# triplet_json CONF SENDER RCPT: the greylist list --json line of a triplet
triplet_json() {
    GRCTL "$1" greylist list --json 2>/dev/null | grep -F "\"sender\":\"$2\"" | grep -F "\"recipient\":\"$3\"" | head -1
}
# json_field NAME: field NAME of the JSON object on stdin
json_field() {
    python3 -c 'import json, sys
line = sys.stdin.read().strip()
print(json.loads(line).get(sys.argv[1], "") if line else "")' "$1"
}

# ======================================================================
# Phase A: first sight on MX1, early retry on MX2 (one shared state)
# ======================================================================
T0=$(now)
send 1 first 192.0.2.10 shared@example.org u1@rig.test
if [ "$SMTP_RCPT" = 451 ] && printf '%s' "$SMTP_RCPT_TEXT" | grep -qE '^451 4\.7\.1 Greylisted'; then
    pass "MX1: first sight greylisted ($SMTP_RCPT_TEXT)"
else
    fail "MX1: first sight greylisted" "got RCPT '$SMTP_RCPT' '$SMTP_RCPT_TEXT'"; smtp_show
fi
send 2 early 192.0.2.10 shared@example.org u1@rig.test
expect_rcpt "MX2: early retry of the triplet MX1 saw is greylisted too" 451
send 2 outage-old 192.0.2.20 passed-before@example.org u2@rig.test
expect_rcpt "MX2: first sight of a second triplet" 451

# R1, step 1: K triplets seen once (pending) through gr1
K=20; P=16; R=10; M=$((P * R)); NADDR=$((P / 4))
{
    echo "connect pre.example 198.51.100.9"
    echo "helo pre.example"
    for k in $(seq 1 $K); do
        printf 'mail <race-%d@example.net>\nrcpt <r%d@race1.test>\nabort\n' "$k" "$k"
    done
} >"$ROOT/race-pre.mt"
mt gr1 "$ROOT/race-pre.mt"
n=$(printf '%s\n' "$MT_OUT" | grep -c '^rcpt: tempfail 451 4\.7\.1')
if [ "$MT_RC" = 0 ] && [ "$n" = "$K" ]; then
    pass "race: $K triplets seen once (all greylisted)"
else
    fail "race: $K triplets seen once" "mtclient exit $MT_RC, $n of $K tempfailed"
fi

# LMDB instance: records to dump later (passed ones after its 1 s delay)
{
    echo "connect lm.example 203.0.113.7"
    echo "helo lm.example"
    for k in 1 2 3 4 5 6; do printf 'mail <lm-%d@example.com>\nrcpt <l%d@rig.test>\nabort\n' "$k" "$k"; done
    echo "mail <>"; echo "rcpt <bounces@rig.test>"; echo "abort"
} >"$ROOT/lm-1.mt"
printf 'connect lm6.example 2001:db8:77::5\nhelo lm6.example\nmail <SRS0=HHH=TT=example.com=user@fwd.example.net>\nrcpt <v6@rig.test>\nabort\n' >"$ROOT/lm-2.mt"
mt lm "$ROOT/lm-1.mt"; mt lm "$ROOT/lm-2.mt"
GRCTL lm whitelist add ip 198.51.100.0/24 --comment "partner network" >/dev/null 2>&1
GRCTL lm whitelist add sender @lists.example.org --ttl 30d >/dev/null 2>&1
GRCTL lm whitelist add rcpt abuse@ >/dev/null 2>&1
GRCTL lm whitelist add host .mail.example.net --ttl 2h --comment 'with "quotes" and \ backslash' >/dev/null 2>&1

alive "phase A"
# ======================================================================
# Phase B: after the delay, the retry lands on MX2
# ======================================================================
wait_s=$(awk -v t0="$T0" -v n="$(now)" -v d="$DELAY" 'BEGIN { w = t0 + d + 1.2 - n; if (w < 0) w = 0; printf "%.1f", w }')
note "waiting ${wait_s}s for the ${DELAY}s delay to pass"
sleep "$wait_s"

send 2 retry 192.0.2.10 shared@example.org u1@rig.test
expect_rcpt "MX2: retry after the delay is accepted (triplet first seen by MX1)" 250 250
if f=$(pf_delivered retry 10); then
    xg=$(header_of "$f" X-Greylist)
    if printf '%s' "$xg" | grep -qE '^X-Greylist: delayed [0-9]+ seconds by greyrep-[^ ]+ at mx2\.rig\.test; '; then
        pass "MX2 delivered it with X-Greylist from mx2 ($xg)"
    else
        fail "MX2 delivered it with X-Greylist: delayed N seconds by greyrep-V at mx2.rig.test" "got '$xg'"
    fi
else
    fail "MX2 delivered the retried message" "no file with X-Test-Id: retry in $PF_DIR/vmail/inbox/new"
fi
send 1 again 192.0.2.10 shared@example.org u1@rig.test
expect_rcpt "MX1: the triplet MX2 passed passes at once" 250 250
if f=$(pf_delivered again 10) && ! header_of "$f" X-Greylist | grep -q delayed; then
    pass "MX1: that message is not marked as delayed"
else
    fail "MX1: that message is not marked as delayed" "$(header_of "${f:-/dev/null}" X-Greylist)"
fi
send 1 outage-old-retry 192.0.2.20 passed-before@example.org u2@rig.test
expect_rcpt "MX1: retry of the triplet MX2 saw first is accepted" 250 250
j=$(triplet_json gr2 shared@example.org u1@rig.test)
if [ "$(printf '%s' "$j" | json_field state)" = passed ] && [ "$(printf '%s' "$j" | json_field passes)" = 2 ]; then
    pass "greyrepctl greylist list --json (either host): passed, passes 2"
else
    fail "greyrepctl greylist list --json: passed, passes 2" "got '$j'"
fi
mt lm "$ROOT/lm-1.mt"      # LMDB: these pass now
GRCTL lm whitelist del rcpt abuse@ >/dev/null 2>&1

alive "phase B"
# ======================================================================
# Race 1: P concurrent milter sessions, half on each host, hit each of the
# K triplets R times: every triplet exactly M = P*R times in all
# ======================================================================
for p in $(seq 0 $((P - 1))); do
    {
        echo "connect race$p.example 198.51.100.$((10 + p / 4))"
        echo "helo race$p.example"
        for r in $(seq 1 $R); do
            for k in $(seq 1 $K | shuf --random-source=<(yes "$p$r")); do
                printf 'mail <race-%d@example.net>\nrcpt <r%d@race1.test>\neom\n' "$k" "$k"
            done
        done
    } >"$ROOT/race-$p.mt"
done
for n in gr1 gr2; do log_mark "$ROOT/greyrep-$n.log"; done
s=$(now)
pids=()
for p in $(seq 0 $((P - 1))); do
    sock=gr$((p % 2 + 1))
    timeout 120 "$MTCLIENT" -s "unix:$ROOT/$sock.sock" "$ROOT/race-$p.mt" >"$ROOT/race-$p.out" 2>&1 </dev/null &
    pids+=($!)
done
bad=0
for pid in "${pids[@]}"; do wait "$pid" || bad=$((bad + 1)); done
took=$(elapsed "$s")
cont=$(cat "$ROOT"/race-*.out | grep -c '^rcpt: continue$')
other=$(cat "$ROOT"/race-*.out | grep '^rcpt: ' | grep -vc '^rcpt: continue$')
hdrs=$(cat "$ROOT"/race-*.out | grep -c '^eom: addheader X-Greylist: delayed')
if [ "$bad" = 0 ] && [ "$cont" = $((K * M)) ] && [ "$other" = 0 ]; then
    pass "race: $P sessions (2 hosts) x $R rounds x $K triplets = $((K * M)) RCPTs, all accepted (${took}s)"
else
    fail "race: all $((K * M)) RCPTs accepted" "$bad mtclient failures, $cont accepted, $other other replies"
    cat "$ROOT"/race-*.out | grep '^rcpt: ' | grep -v '^rcpt: continue$' | sort | uniq -c | head -5 | sed 's/^/  | /'
fi
if [ "$hdrs" = "$K" ]; then
    pass "race: exactly $K messages got X-Greylist 'delayed' (one pass per triplet, on either host)"
else
    fail "race: exactly $K 'delayed' headers (one pass transition per triplet)" "got $hdrs"
fi
GRCTL gr1 greylist list --json >"$ROOT/race-list.json" 2>"$ROOT/race-list.err"
res=$(py "$K" "$M" "$ROOT/race-list.json" <<'PY'
import json, sys
K, M, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
got = {}
for line in open(path):
    o = json.loads(line)
    if o["recipient"].endswith("@race1.test"):
        got[o["recipient"]] = (o["state"], o["passes"], o["network"])
bad = [f"{r}={v}" for r, v in sorted(got.items()) if v[0] != "passed" or v[1] != M]
total = sum(v[1] for v in got.values())
print(f"{len(got)} {total} {' '.join(bad[:5])}")
PY
)
read -r ntrip total badlist <<<"$res"
if [ "$ntrip" = "$K" ] && [ "$total" = $((K * M)) ] && [ -z "$badlist" ]; then
    pass "race: greylist list --json: $K triplets, each passed with passes = $M exactly (sum $total)"
else
    fail "race: every triplet passes = $M, sum $((K * M))" "$ntrip triplets, sum $total; off: $badlist"
fi
passed_l=0; known_l=0; err_l=0
for n in gr1 gr2; do
    passed_l=$((passed_l + $(log_since "$ROOT/greyrep-$n.log" | grep -c 'to=<r[0-9]*@race1\.test>: accept (passed:')))
    known_l=$((known_l + $(log_since "$ROOT/greyrep-$n.log" | grep -c 'to=<r[0-9]*@race1\.test>: accept (known:')))
    err_l=$((err_l + $(log_since "$ROOT/greyrep-$n.log" | grep -cE 'still conflicting|\(error:')))
done
if [ "$passed_l" = "$K" ] && [ "$known_l" = $((K * (M - 1))) ] && [ "$err_l" = 0 ]; then
    pass "race: the two logs hold $K 'passed' and $((K * (M - 1))) 'known' decisions, no store error"
else
    fail "race: $K passed / $((K * (M - 1))) known decisions in the logs, no error" "passed $passed_l, known $known_l, errors/conflicts $err_l"
fi
GRCTL gr1 dump >"$ROOT/race-dump.json" 2>/dev/null
cl=$(py "$ROOT/race-dump.json" <<'PY'
import json, sys
n = bad = 0
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o["key"].startswith("c|198.51.100."):
        n += 1
        bad += o.get("passes") != 1
print(n, bad)
PY
)
if [ "$cl" = "$NADDR 0" ]; then
    pass "race: each of the $NADDR client addresses (each used on both hosts) has one client record, passes = 1"
else
    fail "race: $NADDR client records with passes = 1" "records, wrong: $cl"
fi

alive "race 1"
# ======================================================================
# Race 2: greyrep-loadgen on both hosts at once, same seed (same triplets)
# ======================================================================
if [ -z "$LOADGEN" ]; then
    skip "race (loadgen): passes sum to the accepted retries" "tests/bench/greyrep-loadgen not built"
else
    lg=(-c 8 -T 1 -d 7 --mix 60:40:0 --retry-after 3 --domain race2.test --users 50 --seed 4242 --json)
    s=$(now)
    "$LOADGEN" -s "unix:$ROOT/gr1.sock" "${lg[@]}" >"$ROOT/lg1.json" 2>"$ROOT/lg1.err" &
    l1=$!
    "$LOADGEN" -s "unix:$ROOT/gr2.sock" "${lg[@]}" >"$ROOT/lg2.json" 2>"$ROOT/lg2.err" &
    l2=$!
    wait $l1; r1=$?
    wait $l2; r2=$?
    GRCTL gr1 greylist list --json >"$ROOT/race2-list.json" 2>/dev/null
    res=$(py "$ROOT/lg1.json" "$ROOT/lg2.json" "$ROOT/race2-list.json" <<'PY'
import json, sys
lg = [json.load(open(p)) for p in sys.argv[1:3]]
sent = sum(x["rcpt"]["sent"] for x in lg)
passes_reported = sum(x["classes"][c]["pass"] for x in lg for c in ("new", "retry"))
temp = sum(x["classes"][c]["tempfail"] for x in lg for c in ("new", "retry"))
errors = sum(x["errors"]["total"] for x in lg)
trip = [json.loads(l) for l in open(sys.argv[3])]
trip = [t for t in trip if t["recipient"].endswith("@race2.test")]
stored = sum(t["passes"] for t in trip)
passed = sum(1 for t in trip if t["state"] == "passed")
print(sent, passes_reported, temp, errors, len(trip), passed, stored)
PY
    )
    read -r sent preported temp lgerr ntrip npassed stored <<<"$res"
    note "loadgen x2 ($(elapsed "$s") s): $sent RCPTs, $preported accepted, $temp greylisted; store: $ntrip triplets, $npassed passed"
    if [ "$r1" = 0 ] && [ "$r2" = 0 ] && [ "${lgerr:-1}" = 0 ] && [ "${sent:-0}" -gt 0 ]; then
        pass "race (loadgen): two load generators, $sent RCPTs, no error"
    else
        fail "race (loadgen): no error" "exit $r1/$r2, errors ${lgerr:-?}: $(head -c 300 "$ROOT/lg1.err" "$ROOT/lg2.err" | tr '\n' ' ')"
    fi
    if [ -n "${stored:-}" ] && [ "$stored" = "$preported" ] && [ "$preported" -gt 0 ]; then
        pass "race (loadgen): the passes of the stored triplets sum to the $preported accepted RCPTs exactly"
    else
        fail "race (loadgen): stored passes sum = accepted RCPTs" "stored ${stored:-?}, accepted ${preported:-?}"
    fi
fi

# every key greyrep wrote carries the configured prefix
nokeys=$(rcli --scan 2>/dev/null | grep -vc '^site1:')
nkeys=$(rcli dbsize 2>/dev/null)
if [ "$nokeys" = 0 ] && [ "${nkeys:-0}" -gt 0 ]; then
    pass "all $nkeys keys in Redis start with redis_prefix 'site1:'"
else
    fail "all keys start with redis_prefix 'site1:'" "$nokeys of $nkeys do not: $(rcli --scan | grep -v '^site1:' | head -3 | tr '\n' ' ')"
fi

alive "race 2"
# ======================================================================
# Outage: Redis killed while both hosts take mail, then restarted
# ======================================================================
rcli save >/dev/null    # the snapshot the restarted server comes back with
for n in gr1 gr2; do log_mark "$ROOT/greyrep-$n.log"; done
lgpid=
if [ -n "$LOADGEN" ]; then
    "$LOADGEN" -s "unix:$ROOT/gr1.sock" -c 4 -T 1 -d 4 --mix 100:0:0 --domain outage.test --seed 7 --json \
        >"$ROOT/lg-outage.json" 2>"$ROOT/lg-outage.err" &
    lgpid=$!
fi
sleep 1
{ kill -KILL "$REDIS_PID"; wait "$REDIS_PID"; } 2>/dev/null
REDIS_PID=
T_DOWN=$(now)
note "redis-server killed (SIGKILL) while load was running"
send 1 down1 192.0.2.30 during-outage@example.org u3@rig.test
expect_rcpt "Redis down: MX1 accepts a new triplet (on_error = accept)" 250 250
send 2 down2 192.0.2.31 during-outage@example.org u3@rig.test
expect_rcpt "Redis down: MX2 accepts a new triplet (on_error = accept)" 250 250
if f=$(pf_delivered down2 10) && ! header_of "$f" X-Greylist | grep -q delayed; then
    pass "Redis down: the message is delivered, not marked as delayed"
else
    fail "Redis down: the message is delivered" "no file with X-Test-Id: down2 (or marked delayed)"
fi
for i in 1 2 3; do send 1 down-more-$i 192.0.2.3$((i + 1)) more@example.org u3@rig.test; done
expect_rcpt "Redis down: mail keeps flowing (several messages)" 250 250
if [ -n "$lgpid" ]; then
    wait "$lgpid"; lrc=$?
    res=$(py "$ROOT/lg-outage.json" <<'PY'
import json, sys
x = json.load(open(sys.argv[1]))
print(x["rcpt"]["sent"], x["rcpt"]["continue"] + x["rcpt"]["accept"], x["rcpt"]["replycode_4xx"] + x["rcpt"]["tempfail"], x["errors"]["total"])
PY
    )
    read -r osent oacc otemp oerr <<<"$res"
    if [ "$lrc" = 0 ] && [ "${oerr:-1}" = 0 ] && [ "${osent:-0}" -gt 0 ]; then
        pass "Redis killed mid-run: greyrep answered all $osent RCPTs of a running load ($otemp greylisted before, $oacc accepted after), no error"
    else
        fail "Redis killed mid-run: greyrep answered every RCPT" "loadgen exit $lrc, sent ${osent:-?}, errors ${oerr:-?}: $(head -c 300 "$ROOT/lg-outage.err")"
    fi
fi
for n in gr1 gr2; do
    down=$(log_since "$ROOT/greyrep-$n.log" | grep -c 'store calls fail until it is back')
    other=$(log_since "$ROOT/greyrep-$n.log" | grep -E 'redis 127\.0\.0\.1' | grep -vc 'store calls fail until it is back')
    if [ "$down" = 1 ] && [ "$other" = 0 ]; then
        pass "$n logged the outage once: $(log_since "$ROOT/greyrep-$n.log" | grep -m1 'store calls fail' | sed 's/^[^ ]* //')"
    else
        fail "$n logged the outage once" "$down outage lines, $other other redis lines"
        log_since "$ROOT/greyrep-$n.log" | grep -E 'redis' | head -5 | sed 's/^/  | /'
    fi
    if log_since "$ROOT/greyrep-$n.log" | grep -qE 'accept \(error: store failure.*: on_error accept\)'; then
        pass "$n: decisions during the outage: $(log_since "$ROOT/greyrep-$n.log" | grep -m1 -oE 'accept \(error: store failure.*: on_error accept\)')"
    else
        fail "$n: decisions during the outage say 'store failure ...: on_error accept'" "no such line"
    fi
done
if gr_alive "${RG_PID[gr1]}" && gr_alive "${RG_PID[gr2]}"; then
    pass "both greyrep instances survive the outage"
else
    fail "both greyrep instances survive the outage" "one died"
fi

# restart from the snapshot, on the same port; how soon is Redis used again?
printf 'connect probe.example 192.0.2.40\nhelo probe.example\nmail <probe@example.org>\nrcpt <probe@rig.test>\nabort\n' >"$ROOT/probe1.mt"
printf 'connect probe.example 192.0.2.41\nhelo probe.example\nmail <probe@example.org>\nrcpt <probe2@rig.test>\nabort\n' >"$ROOT/probe2.mt"
# keep both instances busy while Redis is down, as an MX would be
for i in 1 2 3 4 5 6; do mt gr1 "$ROOT/probe1.mt"; mt gr2 "$ROOT/probe2.mt"; sleep 0.2; done
if redis_start "$ROOT/redis" "$rport" "$PASS_WORD"; then
    T_UP=$(now)
    pass "redis-server restarted on the same port from its snapshot (down $(awk -v a="$T_DOWN" -v b="$T_UP" 'BEGIN { printf "%.1f", b - a }') s)"
else
    fail "redis-server restarts" "see $ROOT/redis/redis.log"; t_exit
fi
for pair in "gr1 probe1" "gr2 probe2"; do
    set -- $pair
    back=
    for i in $(seq 1 40); do
        mt "$1" "$ROOT/$2.mt"
        if printf '%s\n' "$MT_OUT" | grep -q '^rcpt: tempfail 451 4\.7\.1'; then back=$(elapsed "$T_UP"); break; fi
        sleep 0.05
    done
    if [ -n "$back" ] && awk -v b="$back" 'BEGIN { exit !(b <= 1.8) }'; then
        pass "$1 greylists again ${back}s after Redis answers (reconnect with backoff, about 1 s)"
    else
        fail "$1 uses Redis again within about 1 s" "${back:-not within 2 s}"
    fi
done
for n in gr1 gr2; do
    if log_wait_since "$ROOT/greyrep-$n.log" 'redis .*back after' 3; then
        pass "$n logged the end of the outage: $(log_since "$ROOT/greyrep-$n.log" | grep -m1 'back after' | sed 's/^[^ ]* //')"
    else
        fail "$n logged the end of the outage" "no 'back after' line"
    fi
done
send 2 after-old 192.0.2.20 passed-before@example.org u2@rig.test
expect_rcpt "Redis back: MX2 accepts a triplet passed before the outage" 250 250
send 1 after-old1 192.0.2.10 shared@example.org u1@rig.test
expect_rcpt "Redis back: MX1 accepts a triplet passed before the outage" 250 250
send 2 after-new 192.0.2.30 during-outage@example.org u3@rig.test
expect_rcpt "Redis back: a triplet accepted only by on_error during the outage is greylisted" 451
send 1 after-new2 192.0.2.60 brand-new@example.org u9@rig.test
expect_rcpt "Redis back: a new triplet is greylisted" 451
res=$(GRCTL gr2 greylist list --json 2>/dev/null | grep -c '@race1\.test"')
if [ "$res" = "$K" ]; then
    pass "Redis back: the race triplets are all there ($K)"
else
    fail "Redis back: the race triplets are all there" "$res of $K"
fi


# ----------------------------------------------------------------------
# Redis hung (SIGSTOP), as a primary that stops answering during a failover
# ----------------------------------------------------------------------
for n in gr1 gr2; do log_mark "$ROOT/greyrep-$n.log"; done
printf 'connect hung.example 192.0.2.70\nhelo hung.example\nmail <hung@example.org>\nrcpt <hung@rig.test>\nabort\n' >"$ROOT/hung.mt"
kill -STOP "$REDIS_PID"
s=$(now); mt gr1 "$ROOT/hung.mt"; t1=$(elapsed "$s"); r1=$(printf '%s\n' "$MT_OUT" | grep '^rcpt:')
# then 8 sessions at once: they must not queue behind a server that hangs
s=$(now)
pids=()
for i in $(seq 1 8); do
    timeout 30 "$MTCLIENT" -s "unix:$ROOT/gr1.sock" "$ROOT/hung.mt" >"$ROOT/hung-$i.out" 2>&1 </dev/null &
    pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
t2=$(elapsed "$s")
n2=$(cat "$ROOT"/hung-*.out | grep -c '^rcpt: continue$')
send 2 hung-smtp 192.0.2.71 hung@example.org hung2@rig.test
hung_rcpt=$SMTP_RCPT hung_data=$SMTP_DATA
kill -CONT "$REDIS_PID"
T_UP=$(now)
if [ "$r1" = "rcpt: continue" ] && awk -v t="$t1" 'BEGIN { exit !(t <= 1.6) }'; then
    pass "Redis hung: the first decision waits about redis_timeout (500ms), then on_error accept (${t1}s)"
else
    fail "Redis hung: on_error accept after about redis_timeout" "'$r1' after ${t1}s"
fi
if [ "$n2" = 8 ] && awk -v t="$t2" 'BEGIN { exit !(t <= 1.6) }'; then
    pass "Redis hung: 8 concurrent sessions all answered (on_error accept) in ${t2}s, not one redis_timeout each"
else
    fail "Redis hung: concurrent sessions fail fast" "$n2 of 8 accepted, ${t2}s"
fi
if [ "$hung_rcpt" = 250 ] && [ "$hung_data" = 250 ]; then
    pass "Redis hung: MX2 accepts mail (on_error = accept)"
else
    fail "Redis hung: MX2 accepts mail" "RCPT '$hung_rcpt' DATA '$hung_data'"
fi
down=$(log_since "$ROOT/greyrep-gr1.log" | grep -c 'store calls fail until it is back')
if [ "$down" = 1 ]; then
    pass "Redis hung: gr1 logged it once: $(log_since "$ROOT/greyrep-gr1.log" | grep -m1 'store calls fail' | sed 's/^[^ ]* //')"
else
    fail "Redis hung: gr1 logged it once" "$down lines"
fi
printf 'connect hung.example 192.0.2.72\nhelo hung.example\nmail <hung-after@example.org>\nrcpt <hung@rig.test>\nabort\n' >"$ROOT/hung-after.mt"
back=
for i in $(seq 1 40); do
    mt gr1 "$ROOT/hung-after.mt"
    if printf '%s\n' "$MT_OUT" | grep -q '^rcpt: tempfail 451 4\.7\.1'; then back=$(elapsed "$T_UP"); break; fi
    sleep 0.05
done
if [ -n "$back" ] && awk -v b="$back" 'BEGIN { exit !(b <= 1.8) }'; then
    pass "Redis answering again (SIGCONT): gr1 greylists again after ${back}s"
else
    fail "Redis answering again: gr1 greylists within about 1 s" "${back:-not within 2 s}"
fi

alive "the outages"
# ======================================================================
# dump / load: LMDB -> Redis -> LMDB, and the shared Redis -> LMDB -> Redis
# ======================================================================
rg_conf "$ROOT/copyr.conf" copyr prefix=copy1:
rg_conf "$ROOT/copyl.conf" copyl backend=lmdb path="$ROOT/copyl.db"
rg_conf "$ROOT/copy2l.conf" copy2l backend=lmdb path="$ROOT/copy2l.db"
rg_conf "$ROOT/copy2r.conf" copy2r prefix=copy2:
# dumpcmp NAME A B: A and B hold the same lines, in any order.  (A dump
# from Redis may list a key twice if Redis rehashes during the SCAN, a
# documented limitation: duplicates are dropped and counted in a note.)
dumpcmp() {
    local d
    for d in "$2" "$3"; do
        [ "$(sort "$d" | uniq -d | wc -l)" = 0 ] || note "$(basename "$d") lists $(sort "$d" | uniq -d | wc -l) records twice (SCAN during a rehash)"
    done
    if [ -s "$2" ] && diff <(sort -u "$2") <(sort -u "$3") >"$ROOT/diff.out"; then
        pass "$1 ($(wc -l <"$2") records identical)"
    else
        local only
        only=$(grep -E '^[<>] ' "$ROOT/diff.out" | grep -vc '"key":"v|whitelist"')
        fail "$1" "$(wc -l <"$2") vs $(wc -l <"$3") lines$([ "$only" = 0 ] && echo ', only the v|whitelist stamp differs'); first differences:"
        head -6 "$ROOT/diff.out" | cut -c 1-200 | sed 's/^/  | /'
    fi
}
GRCTL lm dump >"$ROOT/d-lm.json" 2>"$ROOT/d.err"
types=$(py "$ROOT/d-lm.json" <<'PY'
import json, sys
seen = {}
for l in open(sys.argv[1]):
    o = json.loads(l)
    t = o.get("type") or o["key"].split("|")[0]
    if t == "triplet":
        t = "passed" if o["passes"] else "pending"
    seen[t] = seen.get(t, 0) + 1
print(" ".join(f"{k}={v}" for k, v in sorted(seen.items())))
PY
)
note "LMDB store to copy: $types"
if printf '%s' "$types" | grep -q 'passed=' && printf '%s' "$types" | grep -q 'pending=' &&
    printf '%s' "$types" | grep -q 'whitelist=' && printf '%s' "$types" | grep -q 'client='; then
    pass "LMDB store holds pending and passed triplets, clients and whitelist entries"
else
    fail "LMDB store holds every kind of record" "$types"
fi
GRCTL copyr load "$ROOT/d-lm.json" >"$ROOT/load1.out" 2>&1 || fail "greyrepctl load (LMDB dump into Redis)" "$(cat "$ROOT/load1.out")"
GRCTL copyr dump >"$ROOT/d-r.json" 2>>"$ROOT/d.err"
dumpcmp "dump of LMDB loaded into Redis dumps the same" "$ROOT/d-lm.json" "$ROOT/d-r.json"
GRCTL copyl load "$ROOT/d-r.json" >"$ROOT/load2.out" 2>&1 || fail "greyrepctl load (Redis dump into LMDB)" "$(cat "$ROOT/load2.out")"
GRCTL copyl dump >"$ROOT/d-l.json" 2>>"$ROOT/d.err"
dumpcmp "and back into a new LMDB store: the same again" "$ROOT/d-lm.json" "$ROOT/d-l.json"
# the shared store, with thousands of records, the other way round
GRCTL gr1 dump >"$ROOT/d-site1.json" 2>>"$ROOT/d.err"
GRCTL copy2l load "$ROOT/d-site1.json" >"$ROOT/load3.out" 2>&1 || fail "greyrepctl load (shared Redis into LMDB)" "$(cat "$ROOT/load3.out")"
GRCTL copy2l dump >"$ROOT/d-site1-l.json" 2>>"$ROOT/d.err"
dumpcmp "the shared Redis store dumped and loaded into LMDB dumps the same" "$ROOT/d-site1.json" "$ROOT/d-site1-l.json"
GRCTL copy2r load "$ROOT/d-site1-l.json" >"$ROOT/load4.out" 2>&1 || fail "greyrepctl load (LMDB into Redis)" "$(cat "$ROOT/load4.out")"
GRCTL copy2r dump >"$ROOT/d-site1-r.json" 2>>"$ROOT/d.err"
dumpcmp "and back into Redis under another prefix: the same again" "$ROOT/d-site1.json" "$ROOT/d-site1-r.json"
if GRCTL copy2r check --ip 192.0.2.10 --from shared@example.org --rcpt u1@rig.test >/dev/null 2>&1; then
    pass "the copy decides like the original (greyrepctl check: a passed triplet would accept)"
else
    fail "the copy decides like the original" "greyrepctl check says tempfail for a passed triplet"
fi
[ -s "$ROOT/d.err" ] && { note "greyrepctl dump said:"; head -3 "$ROOT/d.err" | sed 's/^/  | /'; }

# ======================================================================
# per-host counters (written about every 10 s) match each host's decisions
# ======================================================================
# counts LOG: "accepted tempfailed errors" from greyrep's decision lines
counts() {
    awk '/ greyrep: client=.* to=.*: accept \(/ { a++ } / greyrep: client=.* to=.*: tempfail \(/ { t++ }
         / greyrep: client=.* to=.*: (accept|tempfail) \(error:/ { e++ }
         END { printf "%d %d %d\n", a, t, e }' "$1"
}
stats_of() {  # stats_of HOST: "accepted tempfailed errors" from greyrepctl stats --json
    GRCTL gr1 stats --json >"$ROOT/stats.json" 2>/dev/null
    py "$1" "$ROOT/stats.json" <<'PY'
import json, sys
for l in open(sys.argv[2]):
    o = json.loads(l)
    if o.get("host") == sys.argv[1]:
        print(o["accepted"], o["tempfailed"], o["errors"])
PY
}
counters_match() {
    [ "$(stats_of mx1.rig.test)" = "$(counts "$ROOT/greyrep-gr1.log")" ] &&
        [ "$(stats_of mx2.rig.test)" = "$(counts "$ROOT/greyrep-gr2.log")" ]
}
if wait_for 15 counters_match; then
    pass "greyrepctl stats: per-host counters of mx1 ($(stats_of mx1.rig.test)) and mx2 ($(stats_of mx2.rig.test)) match their decisions"
else
    fail "greyrepctl stats: per-host counters match the decisions" "mx1 stats '$(stats_of mx1.rig.test)' log '$(counts "$ROOT/greyrep-gr1.log")'; mx2 stats '$(stats_of mx2.rig.test)' log '$(counts "$ROOT/greyrep-gr2.log")'"
fi

for n in gr1 gr2 lm; do
    if grep -qE 'runtime error|AddressSanitizer|LeakSanitizer|panic:' "$ROOT/greyrep-$n.log"; then
        fail "$n: no sanitizer report or panic in its log" "$(grep -m1 -E 'runtime error|AddressSanitizer|LeakSanitizer|panic:' "$ROOT/greyrep-$n.log")"
    else
        pass "$n: no sanitizer report or panic in its log"
    fi
done
t_exit
