#!/bin/bash
# tests/integration/redis-deploy.sh - Redis as deployed: ACL user, Sentinel
# failover, TLS through stunnel.
#
# Every server is real and private (127.0.0.1, free ports, its own
# directory under the temporary root, no persistence); greyrep is driven
# with the milter client tests/bench/mtclient, as an MTA would, with
# on_error = tempfail so that each answer says what happened: "451 4.7.1"
# greylisted (the store worked), "451 4.3.0" on_error (the store failed),
# continue (a retry that passed).
#
# 1. ACL: the least-privilege ACL line of doc/multi-mx.md (read from the
#    document, so the two cannot drift apart) on a redis-server; greyrep
#    with redis_user greylists, passes and greyrepctl lists/stats/dumps;
#    the user cannot FLUSHALL nor touch other keys; a wrong password stops
#    greyrep at start; a password changed on the server at run time gives
#    on_error answers and one log line, and service resumes when it is
#    set back; a command the ACL takes away (EVALSHA) gives on_error and a
#    log line naming the ACL.
# 2. Sentinel: a primary, a replica and three Sentinels (quorum 2, with
#    passwords, a dead Sentinel address first in greyrep's list); greyrep
#    finds the primary; a triplet greylisted before "SENTINEL failover"
#    passes after it (replication checked with WAIT first); then the new
#    primary is killed (SIGKILL) and greyrep follows to the next one with
#    the state kept.  The time from failover to the first decision that
#    uses the store again is printed (# lines).
# 3. TLS: redis-server on its tls-port only, with a CA and a server
#    certificate made now by openssl; stunnel4 in client mode on a loopback
#    port (verifying the server certificate) lets greyrep work with
#    "redis = 127.0.0.1:STUNNELPORT"; plain TCP to the tls-port fails as it
#    should (on_error answers), and so does a tunnel that trusts another CA.
#
# Run:  GREYREP_BUILD=build bash tests/integration/redis-deploy.sh
#   KEEP=1   keep the temporary root for inspection
set -u
T_NAME=redis-deploy
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib-redis.sh"

need_cmd "redis-deploy: environment" redis-server redis-sentinel redis-cli openssl python3
need_greyrep
MTCLIENT=$(rg_bench_tool mtclient) || { fail "redis-deploy: tests/bench/mtclient" "not built in $GREYREP_BUILD"; t_exit; }
t_root
t_on_cleanup rn_stop_all
T_START=$(now)

ADMIN=adm-$$-$RANDOM            # requirepass of the default user (the test's own)
GRPW=grp-$$-$RANDOM             # greyrep's ACL password
SENTPW=sen-$$-$RANDOM           # the Sentinels' requirepass
MASTER=greyrep-test
: >"$ROOT/whitelist_clients"; : >"$ROOT/whitelist_recipients"; : >"$ROOT/whitelist_senders"

# cli PORT ARGS...: redis-cli as the admin
cli() { local p=$1; shift; REDISCLI_AUTH=$ADMIN redis-cli --no-auth-warning -h 127.0.0.1 -p "$p" "$@"; }
# scli PORT ARGS...: redis-cli to a Sentinel
scli() { local p=$1; shift; REDISCLI_AUTH=$SENTPW redis-cli --no-auth-warning -h 127.0.0.1 -p "$p" "$@"; }
GRCTL() { local c=$1; shift; "$GREYREPCTL" -c "$ROOT/$c.conf" "$@"; }

# decide NAME CLIENT FROM TO: one milter session through greyrep NAME; DEC
# becomes greylisted, error (on_error), pass, or "other: ..."
decide() {
    local f=$ROOT/decide-$1.mt out
    printf 'connect c.example %s\nhelo c.example\nmail <%s>\nrcpt <%s>\nabort\n' "$2" "$3" "$4" >"$f"
    out=$(timeout 20 "$MTCLIENT" -s "unix:$ROOT/$1.sock" "$f" 2>&1 </dev/null)
    case $(printf '%s\n' "$out" | grep '^rcpt: ') in
        'rcpt: tempfail 451 4.7.1'*) DEC=greylisted ;;
        'rcpt: tempfail 451 4.3.0'*) DEC=error ;;
        'rcpt: continue'*) DEC=pass ;;
        *) DEC="other: $(printf '%s' "$out" | tr '\n' ' ' | cut -c 1-200)" ;;
    esac
}
# expect NAME WANT: the last decide gave WANT
expect() {
    if [ "$DEC" = "$2" ]; then pass "$1 ($DEC)"; else fail "$1" "want $2, got $DEC"; fi
}
# until_store NAME SECONDS TAG [COMMAND...]: decide fresh triplets every
# 0.1 s until one uses the store (greylisted) and COMMAND (if any)
# succeeded before it; UNTIL_T: seconds it took, empty on timeout;
# UNTIL_ERRORS: on_error answers meanwhile.  The triplets differ in letters
# (greyrep folds digits in local parts: VERP, SRS)
until_store() {
    local t0 i=0 lim name=$1 secs=$2 tag=$3 w cond
    shift 3
    t0=$(now); UNTIL_T= UNTIL_ERRORS=0
    lim=$(awk -v s="$secs" 'BEGIN { printf "%d", s * 10 }')
    while [ "$i" -lt "$lim" ]; do
        cond=1
        [ $# -gt 0 ] && ! "$@" && cond=0
        w=$(printf '%s%s' "$tag" "$i" | tr '0-9' 'a-j')
        decide "$name" 198.51.100.77 "probe-$w@example.net" "p-$w@rig.test"
        if [ "$DEC" = greylisted ] && [ $cond = 1 ]; then UNTIL_T=$(elapsed "$t0"); return 0; fi
        [ "$DEC" = error ] && UNTIL_ERRORS=$((UNTIL_ERRORS + 1))
        i=$((i + 1))
        sleep 0.1
    done
    return 1
}
# log_count FILE REGEX: matching lines after the mark
log_count() { log_since "$1" | grep -cE -e "$2"; }

# switch_lag FROM TO: seconds from the first Sentinel's +switch-master FROM
# -> TO to greyrep's "the Sentinels name TO" (both logs' clocks are this host's)
switch_lag() {
    local a b
    a=$(grep -h "+switch-master $MASTER 127.0.0.1 $1 127.0.0.1 $2" "$ROOT"/s[123]/redis.log 2>/dev/null |
        awk '{ print $2, $3, $4, $5 }' | while read -r t; do date -d "$t" +%s.%N; done | sort -n | head -1)
    b=$(log_since "$SL" | grep -m1 "the Sentinels name 127.0.0.1:$2 as the primary" | cut -d' ' -f1)
    [ -n "$a" ] && [ -n "$b" ] && b=$(date -d "$b" +%s.%N) &&
        awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b - a }'
}
port_from() { free_port "$1" || { fail "redis-deploy: port" "no free port from $1"; t_exit; }; }

# ======================================================================
# 1. ACL user
# ======================================================================
pa=$(port_from 27400)
if rn_start acl "$pa" --requirepass "$ADMIN"; then
    pass "acl: redis-server $(redis-server --version | grep -oE 'v=[0-9.]+') on 127.0.0.1:$pa"
else
    fail "acl: redis-server starts" "see $ROOT/acl/redis.log"; t_exit
fi
ACL_LINE=$(grep -E '^ +ACL SETUSER greyrep on ' "$GREYREP_SRC/doc/multi-mx.md" | head -1)
read -r -a acl_words <<<"$ACL_LINE"
if [ "${#acl_words[@]}" -gt 5 ]; then
    acl_words=("${acl_words[@]/#>*/>$GRPW}")
    out=$(cli "$pa" "${acl_words[@]}" 2>&1)
    if [ "$out" = OK ]; then
        pass "acl: the ACL line of doc/multi-mx.md is accepted (${#acl_words[@]} words)"
    else
        fail "acl: the ACL line of doc/multi-mx.md is accepted" "$out"
    fi
else
    fail "acl: doc/multi-mx.md has an ACL SETUSER greyrep line" "not found"
fi
# as the greyrep user: nothing outside its keys and commands
gcli() { REDISCLI_AUTH=$GRPW redis-cli --no-auth-warning --user greyrep -h 127.0.0.1 -p "$pa" "$@"; }
o1=$(gcli FLUSHALL 2>&1); o2=$(gcli GET other:key 2>&1); o3=$(gcli CONFIG GET dir 2>&1); o4=$(gcli KEYS '*' 2>&1)
if printf '%s\n%s\n%s\n%s' "$o1" "$o2" "$o3" "$o4" | grep -c NOPERM | grep -qx 4; then
    pass "acl: user greyrep may not FLUSHALL, CONFIG, KEYS, nor read keys outside greyrep:*"
else
    fail "acl: user greyrep is least-privilege" "FLUSHALL: $o1 / GET: $o2 / CONFIG: $o3 / KEYS: $o4"
fi

REDIS_PORT=$pa
acl_store="redis_user = greyrep"
rg_conf "$ROOT/acl.conf" acl password="$GRPW" prefix=greyrep: delay=1s on_error=tempfail \
    store_extra="$acl_store"
rg_conf "$ROOT/aclbad.conf" aclbad password=not-the-password prefix=greyrep: on_error=tempfail \
    store_extra="$acl_store"
if "$GREYREP" -n -c "$ROOT/acl.conf" >"$ROOT/check.out" 2>&1; then
    pass "acl: greyrep -n accepts redis_user"
else
    fail "acl: greyrep -n accepts redis_user" "$(head -3 "$ROOT/check.out" | tr '\n' ' ')"
fi
timeout 15 "$GREYREP" -f -c "$ROOT/aclbad.conf" >"$ROOT/greyrep-aclbad.log" 2>&1 </dev/null
rc=$?
msg=$(grep -m1 'AUTH as user greyrep refused' "$ROOT/greyrep-aclbad.log")
if [ $rc = 1 ] && printf '%s' "$msg" | grep -q WRONGPASS; then
    pass "acl: a wrong password stops greyrep at start: $(printf '%s' "$msg" | sed 's/^.*redis /redis /' | cut -c 1-150)"
else
    fail "acl: a wrong password stops greyrep at start" "exit $rc: $(tail -2 "$ROOT/greyrep-aclbad.log" | tr '\n' ' ')"
fi

if rg_start acl; then pass "acl: greyrep starts as ACL user greyrep"; else fail "acl: greyrep starts" "see log"; t_exit; fi
AL=$ROOT/greyrep-acl.log
decide acl 192.0.2.10 a1@example.org u1@rig.test
expect "acl: first sight greylisted through the ACL user" greylisted
sleep 1.2
decide acl 192.0.2.10 a1@example.org u1@rig.test
expect "acl: retry after the delay passes" pass
n=$(cli "$pa" --scan --pattern 'greyrep:*' | wc -l)
if [ "$n" -ge 1 ] && [ "$(cli "$pa" --scan | grep -vc '^greyrep:')" = 0 ]; then
    pass "acl: $n keys written, all under greyrep:"
else
    fail "acl: keys under greyrep:" "$n under the prefix; others: $(cli "$pa" --scan | grep -v '^greyrep:' | head -3 | tr '\n' ' ')"
fi
l=$(GRCTL acl greylist list 2>&1); r1=$?
GRCTL acl stats >"$ROOT/acl-stats.out" 2>&1; r2=$?
GRCTL acl dump >"$ROOT/acl.dump" 2>&1; r3=$?
GRCTL acl whitelist add ip 203.0.113.9 >"$ROOT/acl-wl.out" 2>&1; r4=$?
if [ $r1 = 0 ] && printf "%s" "$l" | grep -q "u1@rig.test" && [ $r2 = 0 ] && [ $r3 = 0 ] &&
    [ -s "$ROOT/acl.dump" ] && [ $r4 = 0 ]; then
    pass "acl: greyrepctl greylist list, stats, dump, whitelist add work as user greyrep"
else
    fail "acl: greyrepctl as user greyrep" "list $r1 ($(printf '%s' "$l" | head -3 | tr '\n' '|')), stats $r2 ($(head -2 "$ROOT/acl-stats.out" | tr '\n' ' ')), dump $r3, whitelist add $r4 ($(head -1 "$ROOT/acl-wl.out"))"
fi

# the password changed on the server while greyrep runs
log_mark "$AL"
cli "$pa" ACL SETUSER greyrep resetpass ">changed-$GRPW" >/dev/null
cli "$pa" CLIENT KILL USER greyrep >/dev/null
errs=0
for i in 1 2 3 4 5; do
    decide acl 192.0.2.20 "wp$i@example.org" u2@rig.test
    [ "$DEC" = error ] && errs=$((errs + 1))
    sleep 0.3
done
nl=$(log_count "$AL" 'AUTH as user greyrep refused \(check redis_user and redis_password\): WRONGPASS')
if [ "$errs" = 5 ] && [ "$nl" = 1 ]; then
    pass "acl: password changed on the server: 5 of 5 answers on_error (451 4.3.0), one log line: $(log_since "$AL" | grep -m1 WRONGPASS | sed 's/^.*redis /redis /' | cut -c 1-160)"
else
    fail "acl: password changed on the server" "$errs of 5 on_error, $nl log lines"; indent "$AL" 5
fi
log_mark "$AL"
cli "$pa" ACL SETUSER greyrep resetpass ">$GRPW" >/dev/null
if until_store acl 5 pwback; then
    pass "acl: password set back: decisions use Redis again after $UNTIL_T s ($(log_since "$AL" | grep -m1 -o 'back after [0-9.]* s'))"
else
    fail "acl: password set back" "still $DEC after 5 s"; indent "$AL" 5
fi

# a command taken away by the ACL
log_mark "$AL"
cli "$pa" ACL SETUSER greyrep -evalsha >/dev/null
decide acl 192.0.2.30 np@example.org u3@rig.test
d1=$DEC
if [ "$d1" = error ] && log_wait_since "$AL" 'EVALSHA refused by the ACL of user greyrep .*NOPERM' 3; then
    pass "acl: EVALSHA taken away: on_error answer and a log line: $(log_since "$AL" | grep -m1 NOPERM | sed 's/^.*redis /redis /' | cut -c 1-160)"
else
    fail "acl: EVALSHA taken away" "answer $d1; log: $(log_since "$AL" | tail -2 | tr '\n' ' ')"
fi
cli "$pa" ACL SETUSER greyrep +evalsha >/dev/null
if until_store acl 3 evback; then
    pass "acl: EVALSHA given back: decisions use Redis again ($UNTIL_T s)"
else
    fail "acl: EVALSHA given back" "still $DEC"
fi
gr_stop "${RG_PID[acl]}" 15
rn_stop acl

# ======================================================================
# 2. Sentinel: primary, replica, three Sentinels
# ======================================================================
p1=$(port_from 27410); p2=$(port_from $((p1 + 1)))
s1=$(port_from $((p2 + 1))); s2=$(port_from $((s1 + 1))); s3=$(port_from $((s2 + 1)))
dead=$(port_from $((s3 + 1)))
auth=(--requirepass "$ADMIN" --masterauth "$ADMIN")
if rn_start n1 "$p1" "${auth[@]}" && rn_start n2 "$p2" "${auth[@]}" --replicaof 127.0.0.1 "$p1"; then
    pass "sentinel: primary 127.0.0.1:$p1 and replica 127.0.0.1:$p2"
else
    fail "sentinel: redis-servers start" "see $ROOT/n1, $ROOT/n2"; t_exit
fi
ok=1
for s in "s1 $s1" "s2 $s2" "s3 $s3"; do
    set -- $s
    rn_sentinel "$1" "$2" "$MASTER" "$p1" 2 "$ADMIN" "$SENTPW" || ok=0
done
# all three know the replica and each other
sent_ready() {
    local p
    for p in "$s1" "$s2" "$s3"; do
        scli "$p" SENTINEL ckquorum "$MASTER" 2>/dev/null | grep -q '^OK 3 usable' || return 1
        [ "$(scli "$p" SENTINEL replicas "$MASTER" 2>/dev/null | grep -cx "127.0.0.1:$p2")" = 1 ] || return 1
    done
}
if [ $ok = 1 ] && wait_for 20 sent_ready; then
    pass "sentinel: 3 Sentinels (quorum 2, requirepass) see the primary, the replica and each other"
else
    fail "sentinel: Sentinels ready" "$(scli "$s1" SENTINEL ckquorum "$MASTER" 2>&1)"; t_exit
fi

# A hostile "Sentinel": each connection gets the next bad answer to
# SENTINEL get-master-addr-by-name.  greyrepctl must skip it (and use the
# next Sentinel) or, alone, fail with the reason - never connect to garbage.
fk=$(port_from $((dead + 1)))
python3 - "$fk" >"$ROOT/fake-sentinel.out" 2>&1 </dev/null <<'PY' &
import socket, sys
bad = [
    b"*2\r\n$9\r\n127.0.0.1\r\n$1\r\n0\r\n",                 # port 0
    b"*2\r\n$8\r\nbad host\r\n$4\r\n6379\r\n",               # a blank in the host
    b"*2\r\n$9\r\n127.0.0.1\r\n$5\r\n65536\r\n",             # port out of range
    b"*2\r\n$9\r\n127.0.0.1\r\n$6\r\n6379xy\r\n",            # trailing garbage
    b"*3\r\n$9\r\n127.0.0.1\r\n$4\r\n6379\r\n$1\r\nx\r\n",   # three elements
    b":5\r\n",                                               # an integer
    b"*2\r\n*1\r\n$1\r\na\r\n$4\r\n6379\r\n",                # nested
    b"*2\r\n$300\r\n" + b"a" * 300 + b"\r\n$4\r\n6379\r\n",  # host too long
    b"*2\r\n$3\r\na\x00b\r\n$4\r\n6379\r\n",                 # a NUL in the host
    b"$100000\r\n" + b"x" * 100000 + b"\r\n",                # a big string
]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
n = 0
while True:
    c, _ = s.accept()
    try:
        c.settimeout(2)
        if c.recv(4096):
            c.sendall(bad[n % len(bad)])
            n += 1
        c.recv(4096)
    except OSError:
        pass
    c.close()
PY
RN_PID[fake]=$!
if wait_for 5 tcp_open 127.0.0.1 "$fk"; then
    ok=0 msgs=
    for i in 1 2 3 4 5 6 7 8 9 10; do
        rg_conf "$ROOT/fake.conf" fake redis= password="$ADMIN" timeout=300ms \
            store_extra="redis_sentinels = 127.0.0.1:$fk
redis_master_name = $MASTER"
        out=$(timeout 10 "$GREYREPCTL" -c "$ROOT/fake.conf" stats 2>&1 </dev/null); rc=$?
        if [ $rc != 0 ] && printf '%s' "$out" | grep -q "Sentinel 127.0.0.1:$fk: unexpected reply to SENTINEL get-master-addr-by-name"; then
            ok=$((ok + 1))
        else
            msgs="$msgs [$i: exit $rc: $(printf '%s' "$out" | head -2 | tr '\n' ' ' | cut -c 1-160)]"
        fi
    done
    rg_conf "$ROOT/fake2.conf" fake2 redis= password="$ADMIN" timeout=300ms \
        store_extra="redis_sentinels = 127.0.0.1:$fk, 127.0.0.1:$s1
redis_master_name = $MASTER
redis_sentinel_password = $SENTPW"
    out2=$(timeout 10 "$GREYREPCTL" -c "$ROOT/fake2.conf" stats 2>&1 </dev/null); rc2=$?
    if [ $ok = 10 ] && [ $rc2 = 0 ]; then
        pass "sentinel: 10 malformed Sentinel answers are refused with the reason, and a bad Sentinel before a good one is skipped"
    else
        fail "sentinel: malformed Sentinel answers" "$ok of 10 refused$msgs; with a good one after it: exit $rc2 $(printf '%s' "$out2" | head -2 | tr '\n' ' ')"
    fi
else
    fail "sentinel: fake Sentinel starts" "$(cat "$ROOT/fake-sentinel.out")"
fi
rn_stop fake

sent_store="redis_sentinels = 127.0.0.1:$dead, 127.0.0.1:$s1, [::1]:$s2, 127.0.0.1:$s3
redis_master_name = $MASTER
redis_sentinel_password = $SENTPW"
have_ipv6 || sent_store=${sent_store/\[::1\]/127.0.0.1}
REDIS_PORT=
rg_conf "$ROOT/sen.conf" sen redis= password="$ADMIN" delay=1s on_error=tempfail timeout=300ms \
    store_extra="$sent_store"
# what greyrep -n says about keys that do not go together (FILE:LINE)
rg_conf "$ROOT/senbad.conf" senbad redis=127.0.0.1:6379 password= \
    store_extra="redis_sentinels = 127.0.0.1:$s1
redis_user = someone"
if "$GREYREP" -n -c "$ROOT/sen.conf" >"$ROOT/check.out" 2>&1; then
    pass "sentinel: greyrep -n accepts redis_sentinels, redis_master_name, redis_sentinel_password"
else
    fail "sentinel: greyrep -n accepts the Sentinel keys" "$(head -3 "$ROOT/check.out" | tr '\n' ' ')"
fi
"$GREYREP" -n -c "$ROOT/senbad.conf" >"$ROOT/check.out" 2>&1; rc=$?
ls=$(grep -n '^redis_sentinels' "$ROOT/senbad.conf" | cut -d: -f1)
if [ $rc != 0 ] && grep -q "senbad.conf:$ls: redis_sentinels needs redis_master_name" "$ROOT/check.out" &&
    grep -q "senbad.conf:[0-9]*: set redis or redis_sentinels, not both" "$ROOT/check.out" &&
    grep -q "senbad.conf:$((ls + 1)): redis_user needs redis_password" "$ROOT/check.out"; then
    pass "sentinel: greyrep -n names the lines of keys that do not go together: $(tr '\n' ';' <"$ROOT/check.out" | sed "s|$ROOT/||g" | cut -c 1-200)"
else
    fail "sentinel: greyrep -n on keys that do not go together" "exit $rc: $(cat "$ROOT/check.out")"
fi

if rg_start sen; then pass "sentinel: greyrep starts with 4 Sentinels (the first one dead)"; else fail "sentinel: greyrep starts" "see log"; t_exit; fi
SL=$ROOT/greyrep-sen.log
# the line may come a moment after the socket answers (slow under ASan)
if wait_for_grep "the Sentinels name 127\.0\.0\.1:$p1 as the primary" "$SL" 10; then
    pass "sentinel: greyrep asked the Sentinels and found the primary 127.0.0.1:$p1"
else
    fail "sentinel: greyrep found the primary" "$(grep -i sentinel "$SL" | tail -2)"
fi
decide sen 192.0.2.40 before1@example.org f1@rig.test
expect "sentinel: first sight on the primary greylisted" greylisted
nk=$(cli "$p1" --scan --pattern 'site1:*' | wc -l)
[ "$nk" -ge 1 ] && pass "sentinel: greyrep wrote $nk keys on the primary" || fail "sentinel: keys on the primary" "none"
l=$(GRCTL sen greylist list 2>&1); rc=$?
if [ $rc = 0 ] && printf '%s' "$l" | grep -q 'f1@rig.test.*pending'; then
    pass "sentinel: greyrepctl finds the primary through the Sentinels too (greylist list)"
else
    fail "sentinel: greyrepctl with Sentinels" "exit $rc: $(printf '%s' "$l" | head -2 | tr '\n' ' ')"
fi

# wait_sync PORT: a write and WAIT on the same connection: the replica has
# everything written before (the replication stream is ordered)
wait_sync() {
    local i r
    for i in 1 2 3 4 5 6 7 8 9 10; do
        r=$(printf 'SET sync:%s x\nWAIT 1 1000\n' "$RANDOM" | cli "$1" 2>/dev/null | tail -1)
        [ "$r" = 1 ] && break
        sleep 0.5
    done
    echo "$r"
}
w=$(wait_sync "$p1")
[ "$w" = 1 ] && pass "sentinel: replica caught up before the failover (WAIT 1 -> $w)" || fail "sentinel: replica caught up" "WAIT said '$w'"

# ---- failover 1: SENTINEL failover (the old primary is demoted)
sleep 1.1      # the triplet's delay runs out meanwhile
log_mark "$SL"
t0=$(now)
fo=$(scli "$s2" SENTINEL failover "$MASTER" 2>&1)
if until_store sen 20 fo1 log_has_since "$SL" "the Sentinels name 127.0.0.1:$p2 as the primary"; then
    T_FO1=$(elapsed "$t0")
    newp=$(scli "$s1" SENTINEL get-master-addr-by-name "$MASTER" | tail -1)
    LAG1=$(switch_lag "$p1" "$p2")
    pass "sentinel: SENTINEL failover ($fo): greyrep decides through the new primary $T_FO1 s after it, ${LAG1:-?} s after the Sentinels switched ($UNTIL_ERRORS on_error answers meanwhile)"
else
    fail "sentinel: greyrep follows SENTINEL failover" "still $DEC after 20 s"; indent "$SL" 8
    newp=
fi
if [ "$newp" = "$p2" ] && log_has_since "$SL" "the Sentinels name 127.0.0.1:$p2 as the primary \\(was 127.0.0.1:$p1\\)"; then
    pass "sentinel: greyrep logged the new primary: $(log_since "$SL" | grep -m1 'Sentinels name' | sed 's/^.*redis /redis /')"
else
    fail "sentinel: greyrep logged the new primary" "Sentinels say $newp; log: $(log_since "$SL" | grep -i -m2 'redis' | tr '\n' ' ')"
fi
note "failover 1 log: $(log_since "$SL" | grep -E 'store calls fail|back after|Sentinels name' | sed 's/^.*redis /redis /' | tr '\n' '|' | cut -c 1-400)"
note "Sentinel s2: $(grep -E 'promoted-slave|failover-end |convert-to-slave' "$ROOT/s2/redis.log" | sed 's/^[0-9]*:X //' | tr '\n' '|' | cut -c 1-300)"
decide sen 192.0.2.40 before1@example.org f1@rig.test
expect "sentinel: the triplet greylisted before the failover passes after it (state kept)" pass

# ---- failover 2: the new primary dies (SIGKILL)
decide sen 192.0.2.41 before2@example.org f2@rig.test
expect "sentinel: a second triplet greylisted on the new primary" greylisted
w=$(wait_sync "$p2")
[ "$w" = 1 ] && pass "sentinel: replica caught up again (WAIT 1 -> $w)" || fail "sentinel: replica caught up again" "WAIT said '$w'"
nk=$(cli "$p2" --scan --pattern 'site1:*' | wc -l)
role=$(cli "$p1" ROLE 2>/dev/null | head -1)
if [ "$role" = slave ] && [ "$nk" -ge 2 ]; then
    pass "sentinel: the old primary is a replica of the new one now, the new one holds $nk keys"
else
    fail "sentinel: roles after the failover" "old primary role '$role', $nk keys on the new one"
fi
sleep 1.1
log_mark "$SL"
t0=$(now)
rn_stop n2 KILL
if until_store sen 40 fo2 log_has_since "$SL" "the Sentinels name 127.0.0.1:$p1 as the primary"; then
    T_FO2=$(elapsed "$t0")
    LAG2=$(switch_lag "$p2" "$p1")
    pass "sentinel: primary killed: greyrep decides through the next one $T_FO2 s after the kill, ${LAG2:-?} s after the Sentinels switched ($UNTIL_ERRORS on_error answers meanwhile; Sentinel's down-after is 1 s)"
else
    fail "sentinel: greyrep follows after the primary is killed" "still $DEC after 40 s"; indent "$SL" 8
fi
if log_has_since "$SL" "the Sentinels name 127.0.0.1:$p1 as the primary" &&
    [ "$(log_count "$SL" 'store calls fail until it is back')" = 1 ]; then
    pass "sentinel: one outage line, then the new primary logged: $(log_since "$SL" | grep -E 'store calls fail|Sentinels name|back after' | sed 's/^.*redis /redis /' | tr '\n' '|' | cut -c 1-300)"
else
    fail "sentinel: log of the second failover" "$(log_since "$SL" | grep -i redis | tail -4 | tr '\n' '|')"
fi
decide sen 192.0.2.41 before2@example.org f2@rig.test
expect "sentinel: the triplet greylisted before the kill passes after it" pass
gr_stop "${RG_PID[sen]}" 15
for n in s1 s2 s3 n1; do rn_stop "$n"; done

# ======================================================================
# 3. TLS through stunnel
# ======================================================================
if ! command -v stunnel4 >/dev/null && ! command -v stunnel >/dev/null; then
    skip "tls: stunnel" "stunnel4 not installed"
    t_exit
fi
C=$ROOT/certs
if tls_certs "$C" && tls_certs "$ROOT/othercerts"; then
    pass "tls: CA and server certificate for 127.0.0.1 made with openssl"
else
    fail "tls: certificates" "openssl failed"; t_exit
fi
pt=$(port_from 27430); ps=$(port_from $((pt + 1))); pw=$(port_from $((ps + 1)))
if rn_start tls 0 --tls-port "$pt" --tls-cert-file "$C/server.crt" --tls-key-file "$C/server.key" \
    --tls-ca-cert-file "$C/ca.crt" --tls-auth-clients no --requirepass "$ADMIN"; then
    pass "tls: redis-server on tls-port 127.0.0.1:$pt only"
else
    fail "tls: redis-server with TLS" "see $ROOT/tls/redis.log"; t_exit
fi
# stunnel_conf NAME ACCEPT CAFILE: contrib/stunnel-redis.conf with our ports and files
stunnel_conf() {
    sed -e "s|^;* *foreground *=.*|foreground = yes|" \
        -e "s|^pid *=.*|pid =|" \
        -e "s|^accept *=.*|accept = 127.0.0.1:$2|" \
        -e "s|^connect *=.*|connect = 127.0.0.1:$pt|" \
        -e "s|^CAfile *=.*|CAfile = $3|" \
        -e "s|^checkHost *=.*|checkIP = 127.0.0.1|" \
        -e "s|^setuid *=.*||" -e "s|^setgid *=.*||" \
        "$GREYREP_SRC/contrib/stunnel-redis.conf" >"$ROOT/$1.conf"
    printf 'syslog = no\n' | cat - "$ROOT/$1.conf" >"$ROOT/$1.conf.new" && mv "$ROOT/$1.conf.new" "$ROOT/$1.conf"
}
stunnel_conf stunnel "$ps" "$C/ca.crt"
stunnel_conf stunnel-wrongca "$pw" "$ROOT/othercerts/ca.crt"
if stunnel_start stunnel "$ROOT/stunnel.conf" && stunnel_start stunnel-wrongca "$ROOT/stunnel-wrongca.conf"; then
    pass "tls: stunnel (contrib/stunnel-redis.conf) on 127.0.0.1:$ps -> tls-port $pt"
else
    fail "tls: stunnel starts" "$(tail -3 "$ROOT/stunnel/redis.log" | tr '\n' ' ')"; t_exit
fi
out=$(cli "$pt" PING 2>&1)
if [ "$out" != PONG ]; then
    pass "tls: plain TCP to the tls-port gets no answer (redis-cli: $(printf '%s' "${out:-no reply}" | head -1 | cut -c 1-80))"
else
    fail "tls: plain TCP to the tls-port fails" "PONG"
fi
REDIS_PORT=
rg_conf "$ROOT/tls.conf" tls redis=127.0.0.1:"$ps" password="$ADMIN" delay=1s on_error=tempfail
rg_conf "$ROOT/plain.conf" plain redis=127.0.0.1:"$pt" password="$ADMIN" on_error=tempfail
rg_conf "$ROOT/wrongca.conf" wrongca redis=127.0.0.1:"$pw" password="$ADMIN" on_error=tempfail
if rg_start tls && rg_start plain && rg_start wrongca; then
    pass "tls: greyrep through the tunnel, plain to the tls-port, through a tunnel with another CA: all start"
else
    fail "tls: greyrep instances start" "see logs"; t_exit
fi
decide tls 192.0.2.50 t1@example.org t@rig.test
expect "tls: first sight greylisted through stunnel" greylisted
sleep 1.1
decide tls 192.0.2.50 t1@example.org t@rig.test
expect "tls: retry passes through stunnel" pass
n=$(REDISCLI_AUTH=$ADMIN redis-cli --no-auth-warning --tls --cacert "$C/ca.crt" -h 127.0.0.1 -p "$pt" --scan --pattern 'site1:*' 2>/dev/null | wc -l)
[ "$n" -ge 1 ] && pass "tls: $n keys on the TLS server (read with redis-cli --tls)" || fail "tls: keys on the TLS server" "none"
decide plain 192.0.2.51 t2@example.org t@rig.test
if [ "$DEC" = error ] && grep -q 'store calls fail until it is back' "$ROOT/greyrep-plain.log"; then
    pass "tls: plain TCP to the tls-port: on_error answer, logged: $(grep -m1 'store calls fail' "$ROOT/greyrep-plain.log" | sed 's/^.*redis /redis /' | cut -c 1-140)"
else
    fail "tls: plain TCP to the tls-port fails" "answer $DEC"; indent "$ROOT/greyrep-plain.log" 4
fi
decide wrongca 192.0.2.52 t3@example.org t@rig.test
if [ "$DEC" = error ] && grep -qiE 'certificate verify failed|CERT' "$ROOT/stunnel-wrongca/redis.log"; then
    pass "tls: a tunnel that does not trust the server's CA: on_error answer (stunnel: $(grep -m1 -iE 'certificate verify failed|CERT' "$ROOT/stunnel-wrongca/redis.log" | sed 's/^.*LOG[0-9]\[[0-9]*\]: //' | cut -c 1-100))"
else
    fail "tls: a tunnel with another CA fails" "answer $DEC"; indent "$ROOT/stunnel-wrongca/redis.log" 4
fi

note "failover 1 (SENTINEL failover) to first store decision: ${T_FO1:-?} s (greyrep switched ${LAG1:-?} s after the Sentinels); failover 2 (SIGKILL, down-after 1 s): ${T_FO2:-?} s (${LAG2:-?} s)"
note "whole script: $(elapsed "$T_START") s"
t_exit
