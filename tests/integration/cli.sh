#!/bin/bash
# tests/integration/cli.sh - the command lines of greyrep and greyrepctl:
# --help/-V, named usage errors with exit 2, greyrep -n on an
# administrator's mistakes (FILE:LINE and the value), and greyrepctl load
# (all or nothing), dump, del and greylist del on a real LMDB store.
# No MTA and no daemon: nothing is started.
#
#   GREYREP_BUILD=DIR   use DIR/src/greyrep and DIR/src/greyrepctl
set -u
T_NAME=cli
. "$(dirname "$0")/../lib.sh"

need_greyrep
t_root

# run WANT_RC NAME REGEX CMD...: exit status and output (stdout+stderr)
run() {
    local want=$1 name=$2 re=$3 out rc
    shift 3
    out=$("$@" 2>&1 </dev/null)
    rc=$?
    if [ "$rc" = "$want" ] && { [ -z "$re" ] || printf '%s' "$out" | grep -qE -- "$re"; }; then
        pass "$name (exit $rc)"
    else
        fail "$name" "exit $rc (want $want), output: $(printf '%s' "$out" | head -3 | tr '\n' ' ')"
    fi
}

# --- greyrep ---
run 0 "greyrep --help prints the options" '^usage: greyrep .*-n' "$GREYREP" --help
run 0 "greyrep -V" '^greyrep [0-9]' "$GREYREP" -V
run 0 "greyrep --version" '^greyrep [0-9]' "$GREYREP" --version
run 2 "greyrep -c without its argument names it" "requires an argument -- 'c'" "$GREYREP" -c
run 2 "greyrep with an extra argument names it" 'unexpected argument extra' "$GREYREP" -n extra

L='[whitelist]
clients =
recipients =
senders ='
printf '%s\n' "$L" >"$ROOT/ok.conf"
run 0 "greyrep -n: a valid file" 'configuration is valid' "$GREYREP" -n -c "$ROOT/ok.conf"
mkdir -p "$ROOT/conf.d"
run 1 "greyrep -n: a directory as the config" "conf.d:0: not a regular file \\(a directory\\)" \
    "$GREYREP" -n -c "$ROOT/conf.d"
printf '[milter]\nsocket = inet:99999@127.0.0.1\n%s\n' "$L" >"$ROOT/port.conf"
run 1 "greyrep -n: port 99999" 'port.conf:2: socket: .*port 99999 is not a number from 1 to 65535' \
    "$GREYREP" -n -c "$ROOT/port.conf"
run 1 "greyrep -p: port 99999" 'port 99999' "$GREYREP" -n -c "$ROOT/ok.conf" -p inet:99999@127.0.0.1
printf '[milter]\nuser = no-such-user-greyrep\nsocket_group = no-such-group-greyrep\n%s\n' "$L" >"$ROOT/user.conf"
run 1 "greyrep -n: a user that does not exist" 'user.conf:2: user: no such user no-such-user-greyrep' \
    "$GREYREP" -n -c "$ROOT/user.conf"
run 1 "greyrep -n: a group that does not exist" 'user.conf:3: socket_group: no such group no-such-group-greyrep' \
    "$GREYREP" -n -c "$ROOT/user.conf"
printf '[greylist]\ndelay = 1m\n[greylist]\ndelay = 2m\n%s\n' "$L" >"$ROOT/dup.conf"
run 1 "greyrep -n: a duplicated section" 'dup.conf:3: duplicate section \[greylist\] \(first at line 1\)' \
    "$GREYREP" -n -c "$ROOT/dup.conf"
run 1 "greyrep -n: a duplicated key" 'dup.conf:4: duplicate key delay in \[greylist\] \(first at line 2\)' \
    "$GREYREP" -n -c "$ROOT/dup.conf"
printf '[greylist]\nipv4_prefix = 33\n[milter]\ntrusted_networks = 10.0.0.0/8, 10.0.0.0/33\nauthserv_id = two words\n%s\n' "$L" >"$ROOT/val.conf"
run 1 "greyrep -n: a number out of range names it and the range" 'val.conf:2: ipv4_prefix: 33 is not a number from 0 to 32' \
    "$GREYREP" -n -c "$ROOT/val.conf"
run 1 "greyrep -n: a bad network names it" 'val.conf:4: trusted_networks: 10.0.0.0/33 is not an IP address' \
    "$GREYREP" -n -c "$ROOT/val.conf"
run 1 "greyrep -n: an authserv_id with a space" 'val.conf:5: authserv_id: two words' \
    "$GREYREP" -n -c "$ROOT/val.conf"

# --- greyrepctl ---
printf '[store]\npath = %s/db\n%s\n[spf]\nenabled = no\n[iprev]\nenabled = no\n[dkim]\nenabled = no\n[dns]\nservers = 127.0.0.1:1\n' \
    "$ROOT" "$L" >"$ROOT/ctl.conf"
C=("$GREYREPCTL" -c "$ROOT/ctl.conf")
run 0 "greyrepctl -V" '^greyrepctl [0-9]' "$GREYREPCTL" -V
run 0 "greyrepctl --help" '^usage: greyrepctl' "$GREYREPCTL" --help
run 0 "greyrepctl -c FILE --help" '^usage: greyrepctl' "${C[@]}" --help
run 2 "greyrepctl without a command names it" 'missing COMMAND' "${C[@]}"
run 2 "greyrepctl whitelist add ip: names VALUE" 'whitelist add: missing VALUE' "${C[@]}" whitelist add ip
run 2 "greyrepctl greylist del IP: names SENDER" 'greylist del: missing SENDER' "${C[@]}" greylist del 192.0.2.1
run 2 "greyrepctl load: names FILE" 'load: missing FILE' "${C[@]}" load
run 2 "greyrepctl check without --from names it" 'check: missing --from' "${C[@]}" check --ip 192.0.2.1 --rcpt a@b.example
run 2 "greyrepctl --ttl without a value" 'ttl: missing its value' "${C[@]}" whitelist add ip 192.0.2.1 --ttl

run 1 "whitelist add: a bad entry is named" 'invalid ip entry 300.1.2.3: ' "${C[@]}" whitelist add ip 300.1.2.3

# load: all or nothing, named line and value
now=$(date +%s)
trip=$(printf '01%016x%016x%08x' $((now - 100)) $((now - 50)) 1)
cat >"$ROOT/good.jsonl" <<J
{"key":"t|192.0.2.0/24|s@example.org|r@example.net","expires":0,"value":"$trip"}
{"key":"t|198.51.100.0/24|%E9t%E9@example.org|r@example.net","expires":0,"value":"$trip"}
J
{ head -1 "$ROOT/good.jsonl"; echo '{"key":"arbitrary","expires":0,"value":"01"}'; } >"$ROOT/bad1.jsonl"
{ head -1 "$ROOT/good.jsonl"; echo '{"key":"c|192.0.2.9","expires":0,"value":"01 00000"}'; } >"$ROOT/bad2.jsonl"
{ head -1 "$ROOT/good.jsonl"; echo '{"key":"w|ip|notanip","expires":0,"value":"01"}'; } >"$ROOT/bad3.jsonl"
run 1 "load: an unknown key on line 2 is named" 'bad1.jsonl:2: not a key greyrep knows .*: arbitrary' "${C[@]}" load "$ROOT/bad1.jsonl"
run 1 "load: hex with a space on line 2 is refused" 'bad2.jsonl:2: value is not hex: 01 00000' "${C[@]}" load "$ROOT/bad2.jsonl"
run 1 "load: a whitelist key that never matches is refused" 'bad3.jsonl:2: not a whitelist key.*w\|ip\|notanip' "${C[@]}" load "$ROOT/bad3.jsonl"
out=$("${C[@]}" dump 2>&1)
if [ -z "$out" ]; then pass "load: a bad line 2 left nothing of line 1"; else
    fail "load: a bad line 2 left nothing of line 1" "dump: $out"; fi
run 0 "load: a good file" 'loaded 2 records' "${C[@]}" load "$ROOT/good.jsonl"

# greylist del takes what greylist list prints
list=$("${C[@]}" greylist list)
if [ "$(printf '%s\n' "$list" | grep -c .)" = 2 ]; then pass "greylist list shows both triplets"; else
    fail "greylist list shows both triplets" "$list"; fi
while IFS=$'\t' read -r net sender rcpt _; do
    run 0 "greylist del $net $sender $rcpt (as listed)" '' "${C[@]}" greylist del "$net" "$sender" "$rcpt"
done <<<"$list"
left=$("${C[@]}" greylist list)
if [ -z "$left" ]; then pass "greylist list is empty after deleting what it printed"; else
    fail "greylist list is empty after deleting what it printed" "$left"; fi
run 1 "greylist del of an absent triplet" 'no greylist entry' "${C[@]}" greylist del 192.0.2.0/24 s@example.org r@example.net

# dump and del: every key, whatever it is
"${C[@]}" load "$ROOT/good.jsonl" 2>/dev/null
key=$("${C[@]}" dump | head -1 | sed 's/^{"key":"\([^"]*\)".*/\1/')
run 0 "del KEY as dump prints it" '' "${C[@]}" del "$key"
run 1 "del of a key that is gone" 'no record' "${C[@]}" del "$key"
n=$("${C[@]}" dump | grep -c .)
if [ "$n" = 1 ]; then pass "dump shows the one record left"; else fail "dump shows the one record left" "$n lines"; fi
# check: an admin entry that matches is the only whitelist line
"${C[@]}" whitelist add sender admin@example.org 2>/dev/null
out=$("${C[@]}" check --ip 192.0.2.7 --from admin@example.org --rcpt r@example.net 2>&1)
if printf '%s\n' "$out" | grep -q 'whitelist: sender admin@example.org' &&
    ! printf '%s\n' "$out" | grep -q 'no entry matches' &&
    [ "$(printf '%s\n' "$out" | grep -c 'whitelist:')" = 1 ]; then
    pass "check: the matching admin entry, and no 'no entry matches'"
else
    fail "check: the matching admin entry, and no 'no entry matches'" "$(printf '%s' "$out" | tr '\n' '|')"
fi
"${C[@]}" whitelist del sender admin@example.org 2>/dev/null

t_exit
