#!/bin/sh
# NAME
#   smoke.sh - a few seconds' check of mtclient, greyrep-loadgen, noop-milter
# SYNOPSIS
#   tests/bench/smoke.sh        (from the top build directory; `make check`)
# DESCRIPTION
#   Starts noop-milter on a unix socket in a temporary directory, drives it
#   with mtclient (a whole message, hostile arguments, an oversized packet,
#   a reply that never comes) and with greyrep-loadgen for about 2 s over
#   10 connections, and checks what they print.  BENCH_BIN names the
#   directory of the programs (default tests/bench).
# DIAGNOSTICS
#   One "PASS: name" or "FAIL: name" line per check; exit 0 iff no FAIL.
#   Everything it started is stopped by pid on exit.

set -u
bin=${BENCH_BIN:-tests/bench}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/greyrep-smoke.XXXXXX") || exit 1
milter_pid=
fails=0

# cleanup - stop noop-milter (libmilter is slow on SIGTERM), remove tmp
cleanup() {
    if [ -n "$milter_pid" ] && kill -0 "$milter_pid" 2>/dev/null; then
        kill "$milter_pid" 2>/dev/null
        n=0
        while kill -0 "$milter_pid" 2>/dev/null && [ $n -lt 20 ]; do
            sleep 0.1; n=$((n + 1))
        done
        kill -9 "$milter_pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1"; fails=$((fails + 1)); }

for p in mtclient greyrep-loadgen noop-milter; do
    if [ ! -x "$bin/$p" ]; then
        echo "FAIL: $bin/$p not built (run make check)"
        exit 1
    fi
done

sock="unix:$tmp/noop.sock"
"$bin/noop-milter" -p "$sock" 2>"$tmp/noop.log" &
milter_pid=$!
n=0
while [ ! -S "$tmp/noop.sock" ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
if [ -S "$tmp/noop.sock" ]; then pass "noop-milter starts"; else
    fail "noop-milter starts"; cat "$tmp/noop.log"; exit 1; fi

# A whole message, with macros; the output must match exactly.
cat >"$tmp/msg.script" <<'EOF'
# one message
macro connect j mx.example.org
macro connect {daemon_name} smoke
connect mail.example.net 192.0.2.1 40000
helo mail.example.net
mail <alice@example.net> SIZE=100
rcpt <bob@example.org>
header Subject hello "  " world
header From Alice <alice@example.net>
eoh
body Hello\r\nworld\r\n
eom
quit
EOF
cat >"$tmp/msg.expected" <<'EOF'
negotiate: version 6 actions 0x00000011 protocol 0x00000300
connect: continue
helo: continue
mail: continue
rcpt: continue
header: continue
header: continue
eoh: continue
body: continue
eom: addheader X-Noop-Milter: passed
eom: continue
EOF
if "$bin/mtclient" -s "$sock" -t 5 "$tmp/msg.script" >"$tmp/msg.out" 2>"$tmp/msg.err" \
    && diff -u "$tmp/msg.expected" "$tmp/msg.out"; then
    pass "mtclient whole message"
else
    fail "mtclient whole message"; cat "$tmp/msg.err"
fi

# Hostile but legal: 8 KB addresses, NUL bytes, IPv6, long HELO, stdin.
printf '%s\n' 'connect [IPv6:2001:db8::1] 2001:db8::1 25' 'helo {h*4000}' \
    'mail <{s*8192}@example.net>' 'rcpt <{A*8192}@example.org>' \
    'rcpt <a\x00b@example.org> NOTIFY=NEVER' 'rcpt ""' 'abort' |
    "$bin/mtclient" -s "$sock" -t 5 - >"$tmp/hostile.out" 2>"$tmp/hostile.err"
rc=$?
if [ $rc -eq 0 ] && [ "$(grep -c '^rcpt: continue$' "$tmp/hostile.out")" -eq 3 ] \
    && grep -q '^connect: continue$' "$tmp/hostile.out"; then
    pass "mtclient 8 KB and NUL arguments"
else
    fail "mtclient 8 KB and NUL arguments (exit $rc)"; cat "$tmp/hostile.out" "$tmp/hostile.err"
fi

# A packet above libmilter's 64 KB limit: the milter drops us; exit 1.
printf '%s\n' 'connect h 192.0.2.2' 'mail <a@example.net>' 'rcpt <{A*70000}>' |
    "$bin/mtclient" -s "$sock" -t 5 - >"$tmp/big.out" 2>"$tmp/big.err"
rc=$?
if [ $rc -eq 1 ] && grep -q 'rcpt: connection \(closed\|reset\) by milter' "$tmp/big.err"; then
    pass "mtclient reports a dropped connection"
else
    fail "mtclient reports a dropped connection (exit $rc)"; cat "$tmp/big.out" "$tmp/big.err"
fi

# libmilter ignores a command out of order and never answers: time out.
printf '%s\n' 'connect h 192.0.2.3' 'body x' |
    "$bin/mtclient" -s "$sock" -t 1 - >"$tmp/to.out" 2>"$tmp/to.err"
rc=$?
if [ $rc -eq 1 ] && grep -q 'line 2: body: timeout' "$tmp/to.err"; then
    pass "mtclient times out"
else
    fail "mtclient times out (exit $rc)"; cat "$tmp/to.out" "$tmp/to.err"
fi

# A script error is caught before connecting: exit 2.
printf 'connect h 192.0.2.4\nfrobnicate\n' |
    "$bin/mtclient" -s "$sock" - >"$tmp/syn.out" 2>"$tmp/syn.err"
rc=$?
if [ $rc -eq 2 ] && grep -q 'line 2: unknown command' "$tmp/syn.err" \
    && [ ! -s "$tmp/syn.out" ]; then
    pass "mtclient script error"
else
    fail "mtclient script error (exit $rc)"; cat "$tmp/syn.err"
fi

# Still alive after all that?
if kill -0 "$milter_pid" 2>/dev/null \
    && "$bin/mtclient" -s "$sock" -t 5 "$tmp/msg.script" >/dev/null 2>&1; then
    pass "noop-milter survives"
else
    fail "noop-milter survives"
fi

# Load: 10 connections for 2 s, then a short JSON run.
"$bin/greyrep-loadgen" -s "$sock" -c 10 -d 2 -r 1-3 >"$tmp/load.out" 2>"$tmp/load.err"
rc=$?
msgs=$(sed -n 's/^messages *\([0-9]*\) .*/\1/p' "$tmp/load.out")
if [ $rc -eq 0 ] && [ "${msgs:-0}" -gt 100 ] \
    && grep -q '^errors  *0 ' "$tmp/load.out" \
    && grep -q '^rcpt latency us  p50 [0-9]' "$tmp/load.out" \
    && grep -q '^retry  *[1-9]' "$tmp/load.out"; then
    pass "greyrep-loadgen 10 connections, 2 s ($msgs messages)"
else
    fail "greyrep-loadgen 10 connections, 2 s (exit $rc)"; cat "$tmp/load.out" "$tmp/load.err"
fi
"$bin/greyrep-loadgen" -s "$sock" -c 4 -n 200 --json >"$tmp/json.out" 2>"$tmp/json.err"
rc=$?
if [ $rc -eq 0 ] && [ "$(wc -l <"$tmp/json.out")" -eq 1 ] \
    && grep -q '"messages":200,' "$tmp/json.out" \
    && grep -q '"errors":{"total":0,' "$tmp/json.out"; then
    pass "greyrep-loadgen --json -n 200"
else
    fail "greyrep-loadgen --json -n 200 (exit $rc)"; cat "$tmp/json.out" "$tmp/json.err"
fi

[ $fails -eq 0 ]
