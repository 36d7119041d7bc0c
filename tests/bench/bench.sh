#!/bin/bash
# NAME
#   bench.sh - greyrep's benchmark: seven scenarios, each against a reference
# SYNOPSIS
#   bash tests/bench/bench.sh [--short] [--build DIR] [--json FILE]
#                             [--only 1,2,...] [--keep]
#   make bench                         (the full run, about 11 minutes)
#   make bench BENCH_ARGS=--short      (every scenario in a few seconds)
# DESCRIPTION
#   Runs greyrep (DIR/src/greyrep, default: the source tree) under load from
#   tests/bench/greyrep-loadgen and, for scenario 4, Postfix's smtp-source,
#   and measures each figure beside a reference measured in the same run,
#   alternating the two round by round so that a noisy machine hurts both:
#
#    1 greylisting only, empty store, unix and TCP sockets: greyrep vs
#      noop-milter, messages/s.  "tempfail path": every message a new
#      triplet (451 at RCPT) vs noop-milter -x (451 at every RCPT);
#      "pass path": delay = 0, every triplet written and passed, X-Greylist
#      added vs noop-milter adding a header.  Same milter conversation.
#    2 store size: RCPT latency with 1k, 1M and 10M triplets (prefilled by
#      greyrep-prefill; loadgen's "new" triplets are prefilled as pending, so
#      each RCPT updates a cold record of the big store).  Reference: 1k.
#    3 expiry sweep of 1M expired records (greyrepctl expire in parallel, and
#      the daemon's own sweeper) during load: max RCPT latency.  Reference:
#      the same load without a sweep.
#    4 Postfix on loopback, smtp-source -> smtpd -> discard:, with greyrep
#      (the client's triplet is known: full milter path, store update, no
#      tempfail) vs the same Postfix without a milter, messages/s; in the
#      same rounds Postfix with noop-milter (every stage, every reply), with
#      noop-milter -m (greyrep's minimal steps) and with Debian's postgrey
#      as a check_policy_service (its own instance on 127.0.0.1, a private
#      database, the triplet known, client auto-whitelisting off).
#    5 greyrep's anonymous resident memory (smaps_rollup "Anonymous") during
#      loads of 1, 100 and 1,000 connections (loadgen cannot hold idle
#      connections; each keeps running sessions), vs noop-milter; and with
#      10M triplets vs 1k (from scenario 2).
#    6 sender checks (iprev, SPF, DKIM, one DNSBL zone) against a local
#      unbound (tests/dns/unbound-start.sh plus zones that answer for
#      loadgen's client ranges and sender domains) vs checks off, msg/s.
#    7 [store] backend = redis (private redis-server on loopback, no
#      persistence) vs LMDB, messages/s.
#
#   Every configuration turns the DNS checks off ([spf], [iprev], [dkim]
#   enabled = no, no [dnsbl] zones, [dns] servers = 127.0.0.1:1) except
#   scenario 6, trusts no network (trusted_networks empty) and whitelists
#   loadgen's whitelist ranges 192.0.2.0/24 and 2001:db8::/32.  Started as
#   root, greyrep drops to user greyrep (created if missing).  Everything
#   listens on loopback or on unix sockets in a private temporary directory.
#
#   --short   tiny sizes and 1-2 s runs: checks that every tool and scenario
#             works and prints PASS:/FAIL: lines; no goals are judged.
#   --build   the build directory (default: the source tree)
#   --json    where the full run writes its results
#             (default DIR/tests/bench/bench-results.json)
#   --only    run only these scenarios (comma-separated numbers)
#   --keep    keep the temporary directory (logs, stores)
# DIAGNOSTICS
#   PASS:/FAIL:/SKIP: lines (a tool or step that did not work is a FAIL;
#   a missed goal is not), then in full mode the table of results and one
#   GOAL line per goal.  Exit 0 iff there was no FAIL.  Everything started
#   here is stopped by its pid on exit.
set -u
export LC_ALL=C

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$SRC
SHORT=0
KEEP=0
ONLY=
JSON=
while [ $# -gt 0 ]; do
    case $1 in
        --short) SHORT=1 ;;
        --build) BUILD=$2; shift ;;
        --json) JSON=$2; shift ;;
        --only) ONLY=,$2, ; shift ;;
        --keep) KEEP=1 ;;
        -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
BUILD=$(cd "$BUILD" && pwd) || exit 2
JSON=${JSON:-$BUILD/tests/bench/bench-results.json}
GREYREP=$BUILD/src/greyrep
GREYREPCTL=$BUILD/src/greyrepctl
LOADGEN=$BUILD/tests/bench/greyrep-loadgen
NOOP=$BUILD/tests/bench/noop-milter
MTCLIENT=$BUILD/tests/bench/mtclient
PREFILL=$BUILD/tests/bench/greyrep-prefill
export GREYREP_BUILD=$BUILD GREYREP GREYREPCTL
# shellcheck source=../lib.sh
. "$SRC/tests/lib.sh"     # pass/fail/skip, wait_for, tcp_open, pf_setup...

# ------------------------------------------------------------------ sizes

if [ $SHORT = 1 ]; then
    ROUNDS=1 DUR=1 LAT_DUR=1 S2_SIZES="1000 5000 20000" S2_NAMES="1k 5k 20k"
    S3_LIVE=10000 S3_EXPIRED=10000 S3_SWEEP=1s S3_DUR=3 S4_MSGS=100 S5_CONNS="1 10 50" S5_DUR=1
else
    ROUNDS=3 DUR=5 LAT_DUR=10 S2_SIZES="1000 1000000 10000000" S2_NAMES="1k 1M 10M"
    S3_LIVE=1000000 S3_EXPIRED=1000000 S3_SWEEP=2s S3_DUR=6 S4_MSGS=10000
    S5_CONNS="1 100 1000" S5_DUR=5
fi
LG_THREADS=2     # greyrep-prefill replays loadgen's streams: keep -T fixed
CONNS=20         # concurrent milter connections for the msg/s scenarios
LAT_CONNS=8      # ... for the latency scenarios (2, 3)

want() { [ -z "$ONLY" ] || [[ $ONLY == *,$1,* ]]; }

# ------------------------------------------------------------------ processes

T=$(mktemp -d "${TMPDIR:-/tmp}/greyrep-bench.XXXXXX") || exit 1
chmod 755 "$T"
# shellcheck disable=SC2034  # read by lib.sh's helpers
ROOT=$T              # lib.sh's helpers put their files under $ROOT
STARTED=()           # pids of every daemon started here
UNBOUND_DIR=
REDIS_PID_B=

# stop_pid PID [TIMEOUT]: SIGTERM, wait (libmilter takes up to ~5 s), SIGKILL
stop_pid() {
    local pid=$1 t=${2:-8}
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    wait_for "$t" pid_gone "$pid" || kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    forget "$pid"
}
# forget PID: no longer ours to stop
forget() {
    local a=() p
    for p in "${STARTED[@]}"; do [ "$p" != "$1" ] && a+=("$p"); done
    STARTED=("${a[@]}")
}
# stop_pids PID...: the same for several at once (one wait for all)
stop_pids() {
    local p a=()
    declare -A gone
    for p in "$@"; do kill -TERM "$p" 2>/dev/null; gone[$p]=1; done
    for p in "$@"; do
        wait_for 8 pid_gone "$p" || kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    for p in "${STARTED[@]}"; do [ -z "${gone[$p]:-}" ] && a+=("$p"); done
    STARTED=("${a[@]}")
}
cleanup() {
    local p
    [ ${#STARTED[@]} -gt 0 ] && stop_pids "${STARTED[@]}"
    pf_stop_all 2>/dev/null
    [ -n "$UNBOUND_DIR" ] && "$SRC/tests/dns/unbound-start.sh" -k "$UNBOUND_DIR" 2>/dev/null
    if [ $KEEP = 1 ]; then echo "  # kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# raise the open-file limit: 1,000 connections need more than 1,024 fds
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null

if [ "$(id -u)" = 0 ]; then
    GUSER=$(gr_user) || { fail "user greyrep" "cannot create it"; exit 1; }
else
    GUSER=$(id -un)
fi
printf '192.0.2.0/24\n2001:db8::/32\n' >"$T/wl_clients"
chmod 644 "$T/wl_clients"

for p in "$GREYREP" "$GREYREPCTL" "$LOADGEN" "$NOOP" "$PREFILL" "$MTCLIENT"; do
    if [ ! -x "$p" ]; then
        fail "binaries" "$p not built (make && make check, or make bench)"
        exit 1
    fi
done

# gconf NAME [key=value...]: write $T/NAME.conf.  Keys: sock (unix:$T/NAME.sock),
# backend (lmdb), path ($T/NAME.db), redis, delay (1h), sweep (1h),
# checks (off), dns (127.0.0.1:1), dnsbl (none), group (none)
gconf() {
    local name=$1 kv; shift
    local sock=unix:$T/$name.sock backend=lmdb path=$T/$name.db redis=127.0.0.1:6379
    local delay=1h sweep=1h checks=off dns=127.0.0.1:1 dnsbl='' group=''
    for kv in "$@"; do
        case ${kv%%=*} in
            sock|backend|path|redis|delay|sweep|checks|dns|dnsbl|group) local "$kv" ;;
            *) echo "gconf: unknown key $kv" >&2; return 1 ;;
        esac
    done
    local on=no
    [ "$checks" = on ] && on=yes
    cat >"$T/$name.conf" <<CONF
# greyrep benchmark configuration ($name), written by tests/bench/bench.sh
[milter]
socket = $sock
user = $GUSER
socket_group = $group
pidfile = $T/$name.pid
# nothing trusted: loadgen's clients and Postfix's 127.0.0.1 go the full way
trusted_networks =

[store]
backend = $backend
path = $path
sweep_interval = $sweep
redis = $redis
redis_prefix = bench:

[greylist]
delay = $delay

[whitelist]
# loadgen's "whitelist" class comes from these ranges
clients = $T/wl_clients
recipients =
senders =

[dns]
servers = $dns

[spf]
enabled = $on
[iprev]
enabled = $on
[dkim]
enabled = $on
[dnsbl]
zones = $dnsbl
CONF
    chmod 644 "$T/$name.conf"
}

declare -A GPID      # name -> pid of greyrep or noop-milter
declare -A GSOCK     # name -> socket spec
# sock_ready SPEC PID
sock_ready() {
    kill -0 "$2" 2>/dev/null || return 1
    case $1 in
        unix:*) [ -S "${1#unix:}" ] && unix_open "${1#unix:}" ;;
        inet:*) local p=${1#inet:}; tcp_open "${p#*@}" "${p%@*}" ;;
    esac
}
# gstart NAME: start greyrep -f -c $T/NAME.conf; wait until it listens
gstart() {
    local name=$1 spec
    spec=$(sed -n 's/^socket = //p' "$T/$name.conf")
    "$GREYREP" -f -c "$T/$name.conf" </dev/null >>"$T/$name.log" 2>&1 &
    GPID[$name]=$!
    GSOCK[$name]=$spec
    STARTED+=("$!")
    if ! wait_for 15 sock_ready "$spec" "${GPID[$name]}"; then
        fail "greyrep $name starts" "not listening on $spec"
        indent "$T/$name.log"
        return 1
    fi
}
# nstart NAME SPEC [ARGS]: start noop-milter
nstart() {
    local name=$1 spec=$2; shift 2
    "$NOOP" -p "$spec" "$@" </dev/null >>"$T/$name.log" 2>&1 &
    GPID[$name]=$!
    GSOCK[$name]=$spec
    STARTED+=("$!")
    if ! wait_for 15 sock_ready "$spec" "${GPID[$name]}"; then
        fail "noop-milter $name starts" "not listening on $spec"
        indent "$T/$name.log"
        return 1
    fi
}
# gstop NAME...: SIGTERM now; libmilter needs ~5 s to exit, so the pids
# are reaped later (reap) while the next runs go on
STOPPING=()
gstop() {
    local n
    for n in "$@"; do
        if [ -n "${GPID[$n]:-}" ]; then
            kill -TERM "${GPID[$n]}" 2>/dev/null
            STOPPING+=("${GPID[$n]}")
        fi
        unset "GPID[$n]"
    done
}
# reap: wait for everything gstop stopped (SIGKILL after 8 s)
reap() {
    [ ${#STOPPING[@]} -gt 0 ] && stop_pids "${STOPPING[@]}"
    STOPPING=()
}

# ------------------------------------------------------------------ loadgen

# lg NAME OUT ARGS...: greyrep-loadgen against NAME's socket, JSON into OUT;
# fails (and says so) unless it exits 0 with no error
lg() {
    local name=$1 out=$2; shift 2
    "$LOADGEN" -s "${GSOCK[$name]}" -T $LG_THREADS --json "$@" >"$out" 2>"$out.err"
    local rc=$?
    if [ $rc -ne 0 ] || ! grep -q '"errors":{"total":0,' "$out"; then
        fail "loadgen $name $*" "exit $rc"
        indent "$out.err" 5
        return 1
    fi
    return 0
}
# jnum FILE KEY: the first number after "KEY": in a JSON file
jnum() {
    grep -o "\"$2\":[-0-9.]*" "$1" 2>/dev/null | head -1 | cut -d: -f2
}
# median N...: the median of the numbers
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2];
        else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# ratio A B: A / B to two decimals
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "" }'; }
# anon_kb PID: anonymous resident memory in kB
anon_kb() {
    awk '/^Anonymous:/ { print $2; f = 1 } END { if (!f) exit 1 }' "/proc/$1/smaps_rollup" 2>/dev/null ||
        awk '/^RssAnon:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}
# nsock PID: sockets the process holds open
nsock() { find "/proc/$1/fd" -lname 'socket:*' 2>/dev/null | wc -l; }
# anon_sampler PID OUT SECONDS: the largest anon_kb seen, every 0.2 s, and
# the most sockets open at once; "KB SOCKETS" into OUT
anon_sampler() {
    local pid=$1 out=$2 n max=0 v i=0 fds maxfd=0
    n=$(awk -v s="$3" 'BEGIN { printf "%d", s * 5 + 10 }')
    while [ $i -lt "$n" ] && kill -0 "$pid" 2>/dev/null; do
        v=$(anon_kb "$pid")
        [ -n "$v" ] && [ "$v" -gt "$max" ] && max=$v
        fds=$(nsock "$pid")
        [ "$fds" -gt "$maxfd" ] && maxfd=$fds
        [ -f "$out.stop" ] && break
        sleep 0.2
        i=$((i + 1))
    done
    echo "$max $maxfd" >"$out"
}
# log_size FILE
log_size() { stat -c %s "$1" 2>/dev/null || echo 0; }

# ------------------------------------------------------------------ results

RESULTS=()   # JSON objects
TABLE=()     # "id|what|greyrep|reference|ratio|goal|status"
GOALS=()
# result ID WHAT UNIT G R REFNAME RATIO GOAL MET SAMPLES_G SAMPLES_R [EXTRA_JSON]
result() {
    local id=$1 what=$2 unit=$3 g=$4 r=$5 refname=$6 rt=$7 goal=$8 met=$9
    local sg=${10} sr=${11} extra=${12:-}
    local st=-
    [ -n "$goal" ] && st=$met
    TABLE+=("$id|$what ($unit)|$g|${r:--}${r:+ ($refname)}|${rt:--}|${goal:--}|$st")
    RESULTS+=("{\"id\":\"$id\",\"what\":\"$what\",\"unit\":\"$unit\",\"greyrep\":${g:-null},\"reference\":${r:-null},\"reference_name\":\"$refname\",\"ratio\":${rt:-null},\"goal\":\"$goal\",\"status\":\"$st\",\"samples\":{\"greyrep\":[${sg// /,}],\"reference\":[${sr// /,}]}${extra:+,$extra}}")
    [ -n "$goal" ] && GOALS+=("GOAL $met: $id: $what: greyrep $g $unit${r:+, $refname $r $unit, ratio $rt}; goal $goal")
}
# judge EXPR: "met" or "MISSED" (awk expression)
judge() { awk "BEGIN { exit !($1) }" && echo met || echo MISSED; }

note "temporary directory $T; $(nproc) CPUs; $([ $SHORT = 1 ] && echo short || echo full) mode"

# ------------------------------------------------------------------ scenario 1

# pair_runs OUTVAR_G OUTVAR_R GNAME RNAME ARGS...: ROUNDS alternating runs
pair_runs() {
    local -n _g=$1 _r=$2
    local gname=$3 rname=$4 i n first second; shift 4
    _g=() _r=()
    for i in $(seq 1 "$ROUNDS"); do
        if [ $((i % 2)) = 1 ]; then first=$rname second=$gname; else first=$gname second=$rname; fi
        for n in $first $second; do
            lg "$n" "$T/lg.$n.$i.json" "$@" || return 1
            if [ "$n" = "$gname" ]; then _g+=("$(jnum "$T/lg.$n.$i.json" msgs_per_s)")
            else _r+=("$(jnum "$T/lg.$n.$i.json" msgs_per_s)"); fi
        done
    done
}

scenario1() {
    local port1 port2 path sock gs rs gm rm rt
    port1=$(free_port 24300) port2=$(free_port $((port1 + 1)))
    gconf s1-temp-unix delay=1h
    gconf s1-pass-unix delay=0
    gconf s1-temp-tcp delay=1h sock="inet:$port1@127.0.0.1"
    gconf s1-pass-tcp delay=0 sock="inet:$port2@127.0.0.1"
    local p3 p4
    p3=$(free_port $((port2 + 1))) p4=$(free_port $((p3 + 1)))
    gstart s1-temp-unix && gstart s1-pass-unix && gstart s1-temp-tcp && gstart s1-pass-tcp &&
        nstart n1-temp-unix "unix:$T/n1-temp.sock" -x && nstart n1-pass-unix "unix:$T/n1-pass.sock" &&
        nstart n1-temp-tcp "inet:$p3@127.0.0.1" -x && nstart n1-pass-tcp "inet:$p4@127.0.0.1" ||
        { gstop s1-temp-unix s1-pass-unix s1-temp-tcp s1-pass-tcp n1-temp-unix n1-pass-unix n1-temp-tcp n1-pass-tcp; return; }
    pass "scenario 1: greyrep and noop-milter listen (unix, TCP)"
    for path in temp pass; do
        for sock in unix tcp; do
            if ! pair_runs gs rs "s1-$path-$sock" "n1-$path-$sock" -c $CONNS -d $DUR --mix 100:0:0; then
                continue
            fi
            gm=$(median "${gs[@]}") rm=$(median "${rs[@]}") rt=$(ratio "$gm" "$rm")
            local g_json="$T/lg.s1-$path-$sock.1.json" want_pass
            if [ $path = temp ]; then want_pass='"tempfail":[1-9]'; else want_pass='"pass":[1-9]'; fi
            if grep -q "\"new\":{[^}]*$want_pass" "$g_json"; then
                pass "scenario 1 $path path $sock: $gm vs $rm msg/s"
            else
                fail "scenario 1 $path path $sock" "greyrep did not answer as expected"
                indent "$g_json" 2
            fi
            local what refname
            if [ $path = temp ]; then what="1 greylisting, new triplets (451), $sock"; refname="noop-milter -x"
            else what="1 greylisting, triplets passed (delay 0), $sock"; refname=noop-milter; fi
            result "1-$path-$sock" "$what" msg/s "$gm" "$rm" "$refname" "$rt" "ratio >= 0.8" \
                "$(judge "$rt >= 0.8")" "${gs[*]}" "${rs[*]}"
        done
    done
    gstop s1-temp-unix s1-pass-unix s1-temp-tcp s1-pass-tcp n1-temp-unix n1-pass-unix n1-temp-tcp n1-pass-tcp
}

# ------------------------------------------------------------------ scenario 2 (+5 at 10M)

S2_ANON_BIG='' S2_ANON_SMALL='' S2_BIG_NAME='' S2_SMALL_NAME=''
scenario2() {
    local sizes names i r n out draws order
    read -r -a sizes <<<"$S2_SIZES"
    read -r -a names <<<"$S2_NAMES"
    # loadgen draws about 2.3 random numbers per message per thread;
    # enough hits for every round, each with its own seed
    draws=$([ $SHORT = 1 ] && echo 20000 || echo 150000)
    for i in 0 1 2; do
        n=s2-${names[$i]}
        gconf "$n" delay=1h
        out=$("$PREFILL" -c "$T/$n.conf" -n "${sizes[$i]}" --hit-draws $draws \
            --hit-threads $LG_THREADS --seed 1 --seeds "$ROUNDS" 2>&1)
        if [ $? -eq 0 ]; then pass "scenario 2: greyrep-prefill ${names[$i]}: $out"
        else fail "scenario 2: greyrep-prefill ${names[$i]}" "$out"; return; fi
        gstart "$n" || return
    done
    declare -A p99 p50 mx mps hitp
    for i in 0 1 2; do p99[$i]='' p50[$i]='' mx[$i]='' mps[$i]='' hitp[$i]=''; done
    for r in $(seq 1 "$ROUNDS"); do
        # rotate the order: each size goes first once
        order=$(( (r - 1) % 3 ))
        for k in 0 1 2; do
            i=$(( (order + k) % 3 ))
            n=s2-${names[$i]}
            local before after new_rcpts greylisted
            before=$(log_size "$T/$n.log")
            lg "$n" "$T/lg.$n.$r.json" -c $LAT_CONNS -d $LAT_DUR --seed "$r" || return
            after=$(log_size "$T/$n.log")
            out=$T/lg.$n.$r.json
            p99[$i]+=" $(jnum "$out" p99)"; p50[$i]+=" $(jnum "$out" p50)"
            mx[$i]+=" $(jnum "$out" max)"
            mps[$i]+=" $(jnum "$out" msgs_per_s)"
            # share of loadgen's new triplets that found a prefilled record
            new_rcpts=$(grep -o '"new":{"messages":[0-9]*' "$out" | grep -o '[0-9]*$')
            greylisted=$(tail -c +$((before + 1)) "$T/$n.log" | head -c $((after - before)) |
                grep -c 'greylisted: new triplet')
            hitp[$i]+=" $(awk -v n="$new_rcpts" -v g="$greylisted" 'BEGIN { if (n > 0) printf "%.0f", 100 * (n - g) / n; else print 0 }')"
        done
    done
    for i in 0 1 2; do
        note "scenario 2 ${names[$i]}: p50${p50[$i]} p99${p99[$i]} max${mx[$i]} msg/s${mps[$i]} hits%${hitp[$i]}"
    done
    local big=2 g r rt
    g=$(median ${p99[$big]}) r=$(median ${p99[0]}) rt=$(ratio "$g" "$r")
    if [ -n "$g" ] && [ -n "$r" ]; then pass "scenario 2: RCPT latency measured at every size"
    else fail "scenario 2" "no latency figures"; return; fi
    local hits_big
    hits_big=$(median ${hitp[$big]})
    if [ $SHORT = 1 ] || [ "${hits_big:-0}" -ge 90 ]; then
        pass "scenario 2: loadgen's new triplets hit the prefilled ${names[$big]} population (${hits_big}%)"
    else
        fail "scenario 2: loadgen's new triplets hit the prefilled ${names[$big]} population" "only ${hits_big}%"
    fi
    local extra="\"hit_percent\":{\"${names[0]}\":[${hitp[0]# }],\"${names[1]}\":[${hitp[1]# }],\"${names[2]}\":[${hitp[2]# }]}"
    extra=${extra// /,}
    result "2-p99-${names[$big]}" "2 RCPT latency p99, ${names[$big]} triplets" us "$g" "" "" "" \
        "p99 <= 1000 us" "$(judge "$g <= 1000")" "${p99[$big]# }" "" "$extra"
    result "2-p99-ratio" "2 RCPT latency p99, ${names[$big]} vs ${names[0]} triplets" us "$g" "$r" "${names[0]}" "$rt" \
        "ratio <= 1.5" "$(judge "$rt <= 1.5")" "${p99[$big]# }" "${p99[0]# }"
    g=$(median ${p99[1]}); rt=$(ratio "$g" "$r")
    result "2-p99-${names[1]}" "2 RCPT latency p99, ${names[1]} vs ${names[0]} triplets" us "$g" "$r" "${names[0]}" "$rt" \
        "" "" "${p99[1]# }" "${p99[0]# }"
    g=$(median ${p50[$big]}) r=$(median ${p50[0]}) rt=$(ratio "$g" "$r")
    result "2-p50-ratio" "2 RCPT latency p50, ${names[$big]} vs ${names[0]} triplets" us "$g" "$r" "${names[0]}" "$rt" \
        "" "" "${p50[$big]# }" "${p50[0]# }"
    g=$(median ${mx[$big]}) r=$(median ${mx[0]}) rt=$(ratio "$g" "$r")
    result "2-max-ratio" "2 RCPT latency max, ${names[$big]} vs ${names[0]} triplets" us "$g" "$r" "${names[0]}" "$rt" \
        "" "" "${mx[$big]# }" "${mx[0]# }"
    g=$(median ${mps[$big]}) r=$(median ${mps[0]}) rt=$(ratio "$g" "$r")
    result "2-msgs-ratio" "2 throughput at ${LAT_CONNS} connections, ${names[$big]} vs ${names[0]} triplets" msg/s \
        "$g" "$r" "${names[0]}" "$rt" "" "" "${mps[$big]# }" "${mps[0]# }"
    # scenario 5's last row: memory with the big store, after the load
    S2_ANON_BIG=$(anon_kb "${GPID[s2-${names[$big]}]}")
    S2_ANON_SMALL=$(anon_kb "${GPID[s2-${names[0]}]}")
    S2_BIG_NAME=${names[$big]} S2_SMALL_NAME=${names[0]}
    gstop "s2-${names[0]}" "s2-${names[1]}" "s2-${names[2]}"
    # the stores are big: free the disk now
    rm -rf "$T/s2-${names[0]}.db" "$T/s2-${names[1]}.db" "$T/s2-${names[2]}.db"
    : >"$T/s2-${names[2]}.log"; : >"$T/s2-${names[1]}.log"; : >"$T/s2-${names[0]}.log"
}

# ------------------------------------------------------------------ scenario 3

scenario3() {
    local r out ref_max=() sw_max=() dm_max=() sw_secs=() removed ref_p999=() sw_p999=() dm_p999=()
    local total=$((S3_LIVE + S3_EXPIRED)) draws a b
    draws=$([ $SHORT = 1 ] && echo 20000 || echo 100000)
    for r in $(seq 1 "$ROUNDS"); do
        # two stores with the same population: (a) for greyrepctl expire
        # beside the daemon, after a reference run; (b) for the daemon's own
        # sweeper, whose first sweep starts sweep_interval after start
        a=s3a-$r b=s3b-$r
        gconf "$a" delay=1h sweep=1h
        gconf "$b" delay=1h sweep=$S3_SWEEP
        for n in $a $b; do
            out=$("$PREFILL" -c "$T/$n.conf" -n $total -x $S3_EXPIRED --hit-draws $draws \
                --hit-threads $LG_THREADS --seed $((100 + 2 * r)) --seeds 2 2>&1) ||
                { fail "scenario 3: greyrep-prefill" "$out"; return; }
        done
        [ "$r" = 1 ] && pass "scenario 3: greyrep-prefill (twice): $out"

        gstart "$a" || return
        lg "$a" "$T/lg.s3-ref.$r.json" -c $LAT_CONNS -d $S3_DUR --seed $((100 + 2 * r)) || { gstop "$a"; return; }
        ref_max+=("$(jnum "$T/lg.s3-ref.$r.json" max)") ref_p999+=("$(jnum "$T/lg.s3-ref.$r.json" p999)")
        "$LOADGEN" -s "${GSOCK[$a]}" -T $LG_THREADS --json -c $LAT_CONNS -d $S3_DUR \
            --seed $((101 + 2 * r)) >"$T/lg.s3-sweep.$r.json" 2>"$T/lg.s3-sweep.$r.err" &
        local lgpid=$! t0 t1
        STARTED+=("$lgpid")
        sleep 1
        t0=$(date +%s.%N)
        removed=$("$GREYREPCTL" -c "$T/$a.conf" expire 2>&1 | tr '\t' ' ')
        local erc=$?
        t1=$(date +%s.%N)
        wait "$lgpid"
        local lrc=$?
        forget "$lgpid"
        sw_secs+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')")
        gstop "$a"
        if [ $erc -ne 0 ] || [ $lrc -ne 0 ] || ! grep -q '"errors":{"total":0,' "$T/lg.s3-sweep.$r.json"; then
            fail "scenario 3: greyrepctl expire during load" "expire exit $erc ($removed), loadgen exit $lrc"
            return
        fi
        [ "$r" = 1 ] && pass "scenario 3: greyrepctl expire during load: $removed in ${sw_secs[-1]} s"
        sw_max+=("$(jnum "$T/lg.s3-sweep.$r.json" max)") sw_p999+=("$(jnum "$T/lg.s3-sweep.$r.json" p999)")

        gstart "$b" || return
        lg "$b" "$T/lg.s3-daemon.$r.json" -c $LAT_CONNS -d $S3_DUR --seed $((100 + 2 * r)) || { gstop "$b"; return; }
        dm_max+=("$(jnum "$T/lg.s3-daemon.$r.json" max)") dm_p999+=("$(jnum "$T/lg.s3-daemon.$r.json" p999)")
        gstop "$b"
        reap    # the sweep's log line comes when it finishes or stops
        local swept
        swept=$(grep -o 'expired [0-9]* records' "$T/$b.log" | head -1)
        if [ "$r" = 1 ]; then
            if [ -n "$swept" ]; then pass "scenario 3: the daemon's sweeper ran during load ($swept)"
            else fail "scenario 3: the daemon's sweeper ran during load" "no 'expired N records' in the log"; fi
        fi
        reap
        rm -rf "$T/$a.db" "$T/$b.db"
    done
    local g rr rt
    rr=$(median "${ref_max[@]}")
    g=$(median "${sw_max[@]}") rt=$(ratio "$g" "$rr")
    result "3-ctl-max" "3 max RCPT latency, greyrepctl expire of $S3_EXPIRED records in parallel" us "$g" "$rr" "no sweep" "$rt" \
        "max <= 10000 us" "$(judge "$g <= 10000")" "${sw_max[*]}" "${ref_max[*]}" \
        "\"sweep_seconds\":[$(IFS=,; echo "${sw_secs[*]}")],\"p999\":[$(IFS=,; echo "${sw_p999[*]}")],\"p999_reference\":[$(IFS=,; echo "${ref_p999[*]}")]"
    g=$(median "${dm_max[@]}") rt=$(ratio "$g" "$rr")
    result "3-daemon-max" "3 max RCPT latency, daemon sweeper removing $S3_EXPIRED records" us "$g" "$rr" "no sweep" "$rt" \
        "max <= 10000 us" "$(judge "$g <= 10000")" "${dm_max[*]}" "${ref_max[*]}" \
        "\"p999\":[$(IFS=,; echo "${dm_p999[*]}")]"
    note "scenario 3: greyrepctl expire took ${sw_secs[*]} s; p99.9 with it ${sw_p999[*]} / daemon sweeper ${dm_p999[*]} / no sweep ${ref_p999[*]} us"
}

# ------------------------------------------------------------------ scenario 4

S4_SENDER=bench@source.example
S4_RCPT=sink@bench.invalid
# s4_send PORT OUTVAR: smtp-source S4_MSGS messages, 20 sessions in parallel
s4_send() {
    local port=$1 t0 t1 rc
    local -n _rate=$2
    t0=$(date +%s.%N)
    timeout 600 /usr/sbin/smtp-source -s 20 -m "$S4_MSGS" -l 2048 -f "$S4_SENDER" -t "$S4_RCPT" \
        "127.0.0.1:$port" >"$T/smtp-source.out" 2>&1
    rc=$?
    t1=$(date +%s.%N)
    _rate=$(awk -v a="$t0" -v b="$t1" -v n="$S4_MSGS" 'BEGIN { printf "%.1f", n / (b - a) }')
    if [ $rc -ne 0 ] || [ -s "$T/smtp-source.out" ]; then
        fail "scenario 4: smtp-source to port $port" "exit $rc"
        indent "$T/smtp-source.out" 5
        return 1
    fi
}
pf_sent() { grep -c 'status=sent' "$1/maillog" 2>/dev/null; }
pf_all_sent() { [ "$(pf_sent "$1")" -ge "$2" ]; }

# pg_query PORT: one policy request for the benchmark's triplet; prints
# postgrey's action line
pg_query() {
    local port=$1 line
    exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
    printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nclient_address=127.0.0.1\nclient_name=localhost\nsender=%s\nrecipient=%s\n\n' \
        "$S4_SENDER" "$S4_RCPT" >&3
    IFS= read -r -t 5 line <&3
    exec 3>&-
    printf '%s\n' "$line"
}
# pg_start: postgrey (Debian's) on 127.0.0.1:PORT with a private database
# and no whitelists; the benchmark's triplet is made known (greylisted
# once, passed after its 1 s delay).  Sets PG_PID, PG_PORT.
PG_PID=
pg_start() {
    PG_PORT=$(free_port 24625) || return 1
    mkdir -p "$T/pg.db" && chown postgrey "$T/pg.db" 2>/dev/null
    : >"$T/pg_wl" && chmod 644 "$T/pg_wl"
    # client auto-whitelisting off: every message takes the triplet path,
    # as greyrep's do here
    /usr/sbin/postgrey --inet="127.0.0.1:$PG_PORT" --dbdir="$T/pg.db" --delay=1 \
        --auto-whitelist-clients=0 --whitelist-clients="$T/pg_wl" \
        --whitelist-recipients="$T/pg_wl" </dev/null >>"$T/postgrey.log" 2>&1 &
    PG_PID=$!
    STARTED+=("$PG_PID")
    wait_for 15 tcp_open 127.0.0.1 "$PG_PORT" || return 1
    # loopback only: every socket postgrey listens on is 127.0.0.1's
    if ss -ltnpH 2>/dev/null | grep "pid=$PG_PID," | awk '{ print $4 }' | grep -qv '^127\.0\.0\.1:'; then
        echo "postgrey listens beyond 127.0.0.1" >&2; return 1
    fi
    case $(pg_query "$PG_PORT") in action=DEFER_IF_PERMIT*) ;; *) return 1 ;; esac
    sleep 2
    case $(pg_query "$PG_PORT") in action=PREPEND*|action=DUNNO*) ;; *) return 1 ;; esac
}

scenario4() {
    if [ "$(id -u)" != 0 ]; then skip "scenario 4" "needs root (a private Postfix instance)"; return; fi
    if [ ! -x /usr/sbin/smtp-source ] || ! command -v postfix >/dev/null; then
        skip "scenario 4" "Postfix or /usr/sbin/smtp-source not installed"; return
    fi
    local pm pp pn pq pg gs=() rs=() ns=() qs=() ps=() r rate known0 known1 kind have_pg=0
    gconf s4 delay=5m group=postfix
    # the client's triplet is known (passed): every RCPT reads the triplet
    # and client records and passes
    local now
    now=$(date +%s)
    printf '{"key":"t|127.0.0.0/24|%s|%s","expires":%d,"value":"01%016x%016x%08x"}\n' \
        "$S4_SENDER" "$S4_RCPT" $((now + 30 * 86400)) $((now - 86400)) $((now - 3600)) 3 >"$T/s4.dump"
    if ! "$GREYREPCTL" -c "$T/s4.conf" load "$T/s4.dump" >"$T/s4.ctl" 2>&1 ||
        ! "$GREYREPCTL" -c "$T/s4.conf" check --ip 127.0.0.1 --from "$S4_SENDER" --rcpt "$S4_RCPT" >>"$T/s4.ctl" 2>&1; then
        fail "scenario 4: known triplet preloaded with greyrepctl load" "check does not accept"
        indent "$T/s4.ctl"; return
    fi
    pass "scenario 4: known triplet preloaded with greyrepctl load (check: accept)"
    chown -R "$GUSER" "$T/s4.db" 2>/dev/null
    gstart s4 || return
    # noop-milter too, to tell the milter protocol's cost in Postfix from
    # greyrep's: with every stage and reply, and with greyrep's minimal steps
    nstart n4 "unix:$T/n4.sock" || { gstop s4; return; }
    nstart m4 "unix:$T/m4.sock" -m || { gstop s4 n4; return; }
    chgrp postfix "$T/n4.sock" "$T/m4.sock" && chmod 660 "$T/n4.sock" "$T/m4.sock"
    if [ -x /usr/sbin/postgrey ]; then
        if pg_start; then
            have_pg=1
            pass "scenario 4: postgrey on 127.0.0.1:$PG_PORT only, benchmark triplet known"
        else
            fail "scenario 4: postgrey starts on loopback and learns the triplet"
            indent "$T/postgrey.log" 5
        fi
    else
        skip "scenario 4: postgrey" "/usr/sbin/postgrey not installed"
    fi
    pm=$(free_port 24525) && pf_setup "$T/pf-milter" "$pm" "${GSOCK[s4]}" tempfail &&
        postconf -c "$T/pf-milter/etc" -e "in_flow_delay = 0s" && pf_start "$T/pf-milter" ||
        { fail "scenario 4: Postfix with greyrep starts"; gstop s4 n4 m4; return; }
    pp=$(free_port $((pm + 1))) && pf_setup "$T/pf-plain" "$pp" "" tempfail &&
        postconf -c "$T/pf-plain/etc" -e "in_flow_delay = 0s" && pf_start "$T/pf-plain" ||
        { fail "scenario 4: Postfix without milter starts"; gstop s4 n4 m4; pf_stop_all; return; }
    pn=$(free_port $((pp + 1))) && pf_setup "$T/pf-noop" "$pn" "${GSOCK[n4]}" tempfail &&
        postconf -c "$T/pf-noop/etc" -e "in_flow_delay = 0s" && pf_start "$T/pf-noop" ||
        { fail "scenario 4: Postfix with noop-milter starts"; gstop s4 n4 m4; pf_stop_all; return; }
    pq=$(free_port $((pn + 1))) && pf_setup "$T/pf-noopmin" "$pq" "${GSOCK[m4]}" tempfail &&
        postconf -c "$T/pf-noopmin/etc" -e "in_flow_delay = 0s" && pf_start "$T/pf-noopmin" ||
        { fail "scenario 4: Postfix with noop-milter -m starts"; gstop s4 n4 m4; pf_stop_all; return; }
    local kinds="plain milter noop noopmin"
    if [ $have_pg = 1 ]; then
        pg=$(free_port $((pq + 1))) && pf_setup "$T/pf-postgrey" "$pg" "" tempfail &&
            postconf -c "$T/pf-postgrey/etc" -e "in_flow_delay = 0s" \
                "smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:$PG_PORT" &&
            pf_start "$T/pf-postgrey" && kinds="$kinds postgrey" ||
            fail "scenario 4: Postfix with postgrey starts"
    fi
    pass "scenario 4: Postfix instances (port $pm greyrep, $pp no filter, $pn noop-milter, $pq noop-milter -m${pg:+, $pg postgrey})"
    # one warm-up batch each
    local S4_SAVE=$S4_MSGS k
    declare -A port=([plain]=$pp [milter]=$pm [noop]=$pn [noopmin]=$pq [postgrey]=${pg:-0})
    declare -A dir=([plain]=pf-plain [milter]=pf-milter [noop]=pf-noop [noopmin]=pf-noopmin [postgrey]=pf-postgrey)
    S4_MSGS=20
    for k in $kinds; do s4_send "${port[$k]}" rate; done
    S4_MSGS=$S4_SAVE
    known0=$(grep -c 'accept (known' "$T/s4.log")
    local pgpass0 pgpass1
    pgpass0=$(grep -c 'action=pass, reason=triplet found' "$T/postgrey.log" 2>/dev/null)
    local -a order
    read -r -a order <<<"$kinds"
    for r in $(seq 1 "$ROUNDS"); do
        # rotate which instance goes first
        local i n=${#order[@]}
        for i in $(seq 0 $((n - 1))); do
            kind=${order[$(( (i + r) % n ))]}
            s4_send "${port[$kind]}" rate || break 2
            case $kind in
                plain) rs+=("$rate") ;;
                milter) gs+=("$rate") ;;
                noop) ns+=("$rate") ;;
                noopmin) qs+=("$rate") ;;
                postgrey) ps+=("$rate") ;;
            esac
        done
    done
    known1=$(grep -c 'accept (known' "$T/s4.log")
    pgpass1=$(grep -c 'action=pass, reason=triplet found' "$T/postgrey.log" 2>/dev/null)
    local want=$((ROUNDS * S4_MSGS))
    if [ ${#gs[@]} -eq "$ROUNDS" ] && [ $((known1 - known0)) -eq $want ] &&
        ! grep -q 'milter-reject' "$T/pf-milter/maillog"; then
        pass "scenario 4: every message through greyrep was accepted as a known triplet ($want)"
    else
        fail "scenario 4: messages through greyrep" "$((known1 - known0)) known-triplet accepts, want $want"
        grep 'milter' "$T/pf-milter/maillog" | tail -3 | sed 's/^/  | /'
    fi
    if [ $have_pg = 1 ]; then
        if [ ${#ps[@]} -eq "$ROUNDS" ] && [ $((pgpass1 - pgpass0)) -eq $want ]; then
            pass "scenario 4: every message through postgrey passed as a known triplet ($want)"
        else
            fail "scenario 4: messages through postgrey" "$((pgpass1 - pgpass0)) 'triplet found' passes, want $want"
        fi
    fi
    local all_sent=1
    for k in $kinds; do
        wait_for 60 pf_all_sent "$T/${dir[$k]}" $((want + 20)) || all_sent=0
    done
    if [ $all_sent = 1 ]; then
        pass "scenario 4: all messages delivered to discard: by every instance ($kinds)"
    else
        local sent=""
        for k in $kinds; do sent="$sent $k=$(pf_sent "$T/${dir[$k]}")"; done
        fail "scenario 4: delivery to discard:" "sent:$sent"
    fi
    for k in $kinds; do pf_stop "$T/${dir[$k]}"; done
    gstop s4 n4 m4
    if [ -n "$PG_PID" ]; then
        stop_pid "$PG_PID"
        if pid_gone "$PG_PID" && ! tcp_open 127.0.0.1 "$PG_PORT"; then
            pass "scenario 4: postgrey stopped"
        else
            fail "scenario 4: postgrey stopped" "pid $PG_PID or port $PG_PORT still there"
        fi
        PG_PID=
    fi
    local g rr rt nn qq pgm
    g=$(median "${gs[@]}") rr=$(median "${rs[@]}") rt=$(ratio "$g" "$rr") nn=$(median "${ns[@]}")
    qq=$(median "${qs[@]}")
    result "4-postfix" "4 Postfix+smtp-source to discard:, known triplet" msg/s "$g" "$rr" "Postfix without milter" "$rt" \
        "ratio >= 0.9" "$(judge "$rt >= 0.9")" "${gs[*]}" "${rs[*]}"
    if [ ${#ps[@]} -gt 0 ]; then
        pgm=$(median "${ps[@]}")
        result "4-vs-postgrey" "4 the same, greyrep vs postgrey (policy service)" msg/s "$g" "$pgm" \
            "Postfix + postgrey" "$(ratio "$g" "$pgm")" "ratio >= 1.0" "$(judge "$(ratio "$g" "$pgm") >= 1.0")" \
            "${gs[*]}" "${ps[*]}"
        result "4-pg-plain" "4 (postgrey in Postfix vs no filter)" msg/s "$pgm" "$rr" "Postfix without milter" \
            "$(ratio "$pgm" "$rr")" "" "" "${ps[*]}" "${rs[*]}"
    fi
    result "4-vs-noopmin" "4 the same, greyrep vs noop-milter -m (minimal steps)" msg/s "$g" "$qq" \
        "Postfix + noop-milter -m" "$(ratio "$g" "$qq")" "ratio >= 0.95" "$(judge "$(ratio "$g" "$qq") >= 0.95")" \
        "${gs[*]}" "${qs[*]}"
    result "4-postfix-noop" "4 the same, greyrep vs noop-milter in Postfix" msg/s "$g" "$nn" "Postfix with noop-milter" \
        "$(ratio "$g" "$nn")" "" "" "${gs[*]}" "${ns[*]}"
    result "4-noop-plain" "4 (noop-milter in Postfix vs no milter)" msg/s "$nn" "$rr" "Postfix without milter" \
        "$(ratio "$nn" "$rr")" "" "" "${ns[*]}" "${rs[*]}"
    result "4-noopmin-plain" "4 (noop-milter -m in Postfix vs no milter)" msg/s "$qq" "$rr" "Postfix without milter" \
        "$(ratio "$qq" "$rr")" "" "" "${qs[*]}" "${rs[*]}"
}

# ------------------------------------------------------------------ scenario 5

# hold_conns NAME N OUTPIDS: N mtclient processes, each one session that
# stops after RCPT and sleeps: N connections open at once, each with its
# context in the milter; waits until the milter holds them all (60 s max)
hold_conns() {
    local name=$1 n=$2 i base
    local -n _pids=$3
    _pids=()
    mkdir -p "$T/hold"
    base=$(nsock "${GPID[$name]}")
    for i in $(seq 1 "$n"); do
        printf 'connect h%d.example.net 198.18.%d.%d 40000\nhelo h%d.example.net\nmail <s%d@d%d.example.net>\nrcpt <r%d@example.org>\nsleep 120000\nquit\n' \
            "$i" $((i / 250)) $((i % 250 + 1)) "$i" "$i" "$i" "$i" >"$T/hold/$i.mt"
        "$MTCLIENT" -s "${GSOCK[$name]}" -t 60 "$T/hold/$i.mt" >/dev/null 2>&1 &
        _pids+=("$!")
        STARTED+=("$!")
    done
    wait_for 60 held "${GPID[$name]}" $((base + n))
}
held() { [ "$(nsock "$1")" -ge "$2" ]; }

scenario5() {
    local c name g_kb r_kb spid gfd rfd hpids
    for c in $S5_CONNS; do
        # a fresh process for every level and kind, so that each figure is its own
        # (a) c connections held open, idle after RCPT
        for name in s5h-$c n5h-$c; do
            if [ "${name:0:1}" = s ]; then gconf "$name" delay=1h; gstart "$name" || return
            else nstart "$name" "unix:$T/$name.sock" || return; fi
            if hold_conns "$name" "$c" hpids; then
                sleep 1
                echo "$(anon_kb "${GPID[$name]}") $(nsock "${GPID[$name]}")" >"$T/anon.$name"
            else
                fail "scenario 5: $c connections held open to $name" "only $(nsock "${GPID[$name]}") sockets"
                echo "0 0" >"$T/anon.$name"
            fi
            stop_pids "${hpids[@]}"
            gstop "$name"
        done
        read -r g_kb gfd <"$T/anon.s5h-$c"
        read -r r_kb rfd <"$T/anon.n5h-$c"
        s5_result "5-held-$c" "5 anonymous memory, $c connections held open (idle after RCPT)" "$c"

        # (b) during a loadgen run with c connections
        for name in s5-$c n5-$c; do
            if [ "${name:0:1}" = s ]; then gconf "$name" delay=1h; gstart "$name" || return
            else nstart "$name" "unix:$T/$name.sock" || return; fi
            rm -f "$T/anon.$name" "$T/anon.$name.stop"
            anon_sampler "${GPID[$name]}" "$T/anon.$name" $((S5_DUR + 10)) &
            spid=$!
            STARTED+=("$spid")
            lg "$name" "$T/lg.$name.json" -c "$c" -d $S5_DUR -t 30
            local lrc=$?
            touch "$T/anon.$name.stop"
            wait "$spid"
            forget "$spid"
            gstop "$name"
            [ $lrc -eq 0 ] || return
        done
        read -r g_kb gfd <"$T/anon.s5-$c"
        read -r r_kb rfd <"$T/anon.n5-$c"
        s5_result "5-load-$c" "5 anonymous memory, loadgen with $c connections (peak)" "$c"
    done
    if [ -n "$S2_ANON_BIG" ]; then
        local b s
        b=$(awk -v k="$S2_ANON_BIG" 'BEGIN { printf "%.1f", k / 1024 }')
        s=$(awk -v k="$S2_ANON_SMALL" 'BEGIN { printf "%.1f", k / 1024 }')
        result "5-store-$S2_BIG_NAME" "5 anonymous memory with $S2_BIG_NAME triplets (after scenario 2)" MB "$b" "$s" \
            "$S2_SMALL_NAME triplets" "$(ratio "$S2_ANON_BIG" "$S2_ANON_SMALL")" "" "" "$b" "$s"
    fi
}
# s5_result ID WHAT CONNS: one memory row from g_kb/r_kb/gfd/rfd
s5_result() {
    local gmb rmb goal="" met=""
    gmb=$(awk -v k="$g_kb" 'BEGIN { printf "%.1f", k / 1024 }')
    rmb=$(awk -v k="$r_kb" 'BEGIN { printf "%.1f", k / 1024 }')
    if [ "${g_kb:-0}" -gt 0 ]; then
        pass "scenario 5: ${2#5 }: $gmb MB, $gfd sockets open (noop-milter $rmb MB, $rfd sockets)"
    else
        fail "scenario 5: ${2#5 }" "no sample"
    fi
    if [ "$3" = 1000 ]; then goal="<= 50 MB"; met=$(judge "$gmb <= 50"); fi
    result "$1" "$2" MB "$gmb" "$rmb" "noop-milter" "$(ratio "$g_kb" "$r_kb")" "$goal" "$met" "$gmb" "$rmb" \
        "\"sockets_open\":$gfd,\"sockets_open_reference\":$rfd"
}

# ------------------------------------------------------------------ scenario 6

scenario6() {
    if ! command -v unbound >/dev/null; then skip "scenario 6" "unbound not installed"; return; fi
    local port extra i gs rs gm rm rt
    # answers for loadgen's clients and senders: PTR for 198.18.0.0/15 and
    # 2001:2::/48 (to a name whose A/AAAA do not match: iprev fail, after
    # both lookups), SPF for every *.example.net sender and HELO name
    # (pass for loadgen's ranges), and an empty DNSBL zone (not listed)
    extra=$T/bench-zones.conf
    cat >"$extra" <<'EOF'
    local-zone: "18.198.in-addr.arpa." redirect
    local-data: "18.198.in-addr.arpa. 60 IN PTR mx.ptr.bench.test."
    local-zone: "19.198.in-addr.arpa." redirect
    local-data: "19.198.in-addr.arpa. 60 IN PTR mx.ptr.bench.test."
    local-zone: "0.0.0.0.2.0.0.0.1.0.0.2.ip6.arpa." redirect
    local-data: "0.0.0.0.2.0.0.0.1.0.0.2.ip6.arpa. 60 IN PTR mx.ptr.bench.test."
    local-zone: "ptr.bench.test." redirect
    local-data: "ptr.bench.test. 60 IN A 198.18.0.1"
    local-data: "ptr.bench.test. 60 IN AAAA 2001:2::1"
    local-zone: "example.net." redirect
    local-data: 'example.net. 60 IN TXT "v=spf1 ip4:198.18.0.0/15 ip6:2001:2::/48 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all"'
    local-data: "example.net. 60 IN A 198.18.0.1"
    local-zone: "dnsbl.bench.test." static
EOF
    UNBOUND_DIR=$T/unbound
    for i in 1 2 3 4 5; do
        port=$(( 25353 + RANDOM % 2000 ))
        if "$SRC/tests/dns/unbound-start.sh" "$UNBOUND_DIR" "$port" "$extra" >"$T/unbound-start.log" 2>&1; then
            break
        fi
        port=
    done
    if [ -z "$port" ]; then fail "scenario 6: unbound starts" "see below"; indent "$T/unbound-start.log"; UNBOUND_DIR=; return; fi
    if command -v dig >/dev/null; then
        local a b c
        a=$(dig +short -p "$port" @127.0.0.1 -x 198.18.7.9) b=$(dig +short -p "$port" @127.0.0.1 TXT d0a1b2.example.net)
        c=$(dig -p "$port" @127.0.0.1 9.7.18.198.dnsbl.bench.test A | grep -c NXDOMAIN)
        if [ "$a" = mx.ptr.bench.test. ] && [[ $b == *v=spf1* ]] && [ "$c" = 1 ]; then
            pass "scenario 6: unbound on 127.0.0.1:$port answers for loadgen's clients and senders"
        else
            fail "scenario 6: unbound answers for loadgen's clients" "PTR '$a' TXT '$b' DNSBL NXDOMAIN $c"
        fi
    fi
    gconf s6-dns delay=1h checks=on dns="127.0.0.1:$port" dnsbl=dnsbl.bench.test
    gconf s6-off delay=1h
    gstart s6-dns && gstart s6-off || { gstop s6-dns s6-off; return; }
    if pair_runs gs rs s6-dns s6-off -c $CONNS -d $DUR; then
        gm=$(median "${gs[@]}") rm=$(median "${rs[@]}") rt=$(ratio "$gm" "$rm")
        # SPF passed: triplets are keyed by the sender domain
        local spf_keys
        spf_keys=$("$GREYREPCTL" -c "$T/s6-dns.conf" greylist list 2>/dev/null | grep -c '^spf:')
        if [ "${spf_keys:-0}" -gt 0 ] && grep -q '"modifications":[1-9]' "$T/lg.s6-dns.1.json"; then
            pass "scenario 6: checks ran (SPF-keyed triplets: $spf_keys; Authentication-Results added)"
        else
            fail "scenario 6: checks ran" "SPF-keyed triplets: ${spf_keys:-0}"
            indent "$T/s6-dns.log" 5
        fi
        result "6-dns" "6 all DNS checks on, local unbound" msg/s "$gm" "$rm" "checks off" "$rt" \
            "ratio >= 0.5" "$(judge "$rt >= 0.5")" "${gs[*]}" "${rs[*]}"
    fi
    gstop s6-dns s6-off
    "$SRC/tests/dns/unbound-start.sh" -k "$UNBOUND_DIR"
    UNBOUND_DIR=
}

# ------------------------------------------------------------------ scenario 7

scenario7() {
    if ! command -v redis-server >/dev/null; then skip "scenario 7" "redis-server not installed"; return; fi
    local port i gs rs gm rm rt
    mkdir -p "$T/redis"
    chmod 700 "$T/redis"
    for i in 1 2 3 4 5; do
        port=$(free_port $(( 26379 + RANDOM % 2000 ))) || continue
        redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$T/redis" \
            --daemonize no --logfile "$T/redis/redis.log" --protected-mode yes </dev/null >/dev/null 2>&1 &
        REDIS_PID_B=$!
        STARTED+=("$REDIS_PID_B")
        if wait_for 10 redis_up "$port"; then break; fi
        stop_pid "$REDIS_PID_B"; REDIS_PID_B=
    done
    if [ -z "$REDIS_PID_B" ]; then fail "scenario 7: redis-server starts"; indent "$T/redis/redis.log"; return; fi
    pass "scenario 7: redis-server on 127.0.0.1:$port (no persistence)"
    gconf s7-redis delay=1h backend=redis redis="127.0.0.1:$port"
    gconf s7-lmdb delay=1h
    gstart s7-redis && gstart s7-lmdb || { gstop s7-redis s7-lmdb; stop_pid "$REDIS_PID_B"; return; }
    if pair_runs gs rs s7-redis s7-lmdb -c $CONNS -d $DUR; then
        gm=$(median "${gs[@]}") rm=$(median "${rs[@]}") rt=$(ratio "$gm" "$rm")
        local keys
        keys=$(redis-cli -h 127.0.0.1 -p "$port" dbsize 2>/dev/null)
        if [ "${keys:-0}" -gt 0 ] && ! grep -q 'on_error' "$T/s7-redis.log"; then
            pass "scenario 7: greyrep decided from Redis ($keys keys, no store error)"
        else
            fail "scenario 7: greyrep decided from Redis" "${keys:-0} keys; store errors in the log"
            indent "$T/s7-redis.log" 5
        fi
        result "7-redis" "7 backend redis vs lmdb" msg/s "$gm" "$rm" "LMDB" "$rt" "" "" "${gs[*]}" "${rs[*]}"
    fi
    gstop s7-redis s7-lmdb
    stop_pid "$REDIS_PID_B"
    REDIS_PID_B=
}
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ]; }

# ------------------------------------------------------------------ run

START=$(date +%s)
for sc in 1 2 3 4 5 6 7; do
    want $sc || continue
    t0=$(date +%s)
    scenario$sc
    reap
    note "scenario $sc took $(( $(date +%s) - t0 )) s"
done
ELAPSED=$(( $(date +%s) - START ))

machine() {
    local cpu disk
    cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    disk=$(df -P "$T" | awk 'NR == 2 { print $1 }')
    local dev=${disk#/dev/} rot
    dev=${dev%%[0-9]*}
    rot=$(cat "/sys/block/$dev/queue/rotational" 2>/dev/null)
    printf '%s CPUs (%s), %s MB RAM, kernel %s, %s on %s (%s, rotational=%s)' "$(nproc)" "$cpu" \
        "$(awk '/^MemTotal/ { printf "%d", $2 / 1024 }' /proc/meminfo)" "$(uname -r)" \
        "$(df -PT "$T" | awk 'NR == 2 { print $2 }')" "$disk" \
        "$(readlink -f "/sys/block/$dev/device/driver" 2>/dev/null | sed 's#.*/##')" "${rot:-?}"
}

if [ $SHORT = 0 ] && [ ${#TABLE[@]} -gt 0 ]; then
    echo
    echo "greyrep benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), ${ELAPSED} s"
    echo "machine: $(machine)"
    echo "rounds per figure: $ROUNDS (medians; greyrep and reference alternate)"
    printf '%s\n' "${TABLE[@]}" | awk -F'|' '
        BEGIN { printf "%-13s %-72s %10s %30s %6s %-16s %s\n", "id", "scenario (unit)", "greyrep", "reference", "ratio", "goal", "status" }
        { printf "%-13s %-72s %10s %30s %6s %-16s %s\n", $1, $2, $3, $4, $5, $6, $7 }'
    echo
    printf '%s\n' "${GOALS[@]}"
    {
        printf '{"date":"%s","elapsed_s":%d,"machine":"%s","rounds":%d,"results":[' \
            "$(date -u +%FT%TZ)" "$ELAPSED" "$(machine | sed 's/"/\\"/g')" "$ROUNDS"
        (IFS=,; printf '%s' "${RESULTS[*]}")
        printf ']}\n'
    } >"$JSON"
    echo "results written to $JSON"
fi
t_summary
[ "$T_FAIL" -eq 0 ]
