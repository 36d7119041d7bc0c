#!/bin/bash
# tests/integration/protofuzz.sh - a short, bounded milter-protocol fuzz run
# against a running greyrep (the ASan build when run-all.sh runs the asan
# build: it points GREYREP_BUILD there).
#
# tests/fuzz/protofuzz sends random and mutated packets (wrong lengths,
# 0 and 0xffffffff, unknown and out-of-order commands, huge macros, cut
# conversations) on one connection after another, while two correct
# clients keep holding conversations.  Cases:
#   - every correct conversation got a defined answer in time;
#   - greyrep is alive after the run and still answers;
#   - its log holds no sanitizer report and no panic;
#   - through a real Postfix, a 70 KB header field (over libmilter's
#     64 KB packet limit) beside a forged Authentication-Results: the
#     message is delivered and the forged field removed;
#   - it stops cleanly on SIGTERM (exit 0).
#
#   PROTOFUZZ_SECONDS=N   length of the run (default 25)
#   PROTOFUZZ_SEED=N      replay a run (the seed is printed)
set -u
T_NAME=protofuzz
. "$(dirname "$0")/../lib.sh"

need_greyrep
PF=
for c in "$GREYREP_BUILD/tests/fuzz/protofuzz" "$GREYREP_SRC/tests/fuzz/protofuzz"; do
    [ -x "$c" ] && { PF=$c; break; }
done
if [ -z "$PF" ] && [ -f "$GREYREP_BUILD/Makefile" ]; then
    make -C "$GREYREP_BUILD" tests/fuzz/protofuzz >/dev/null 2>&1 && PF=$GREYREP_BUILD/tests/fuzz/protofuzz
fi
if [ -z "$PF" ]; then
    fail "protofuzz: client" "tests/fuzz/protofuzz not built"
    t_exit
fi
t_root
export GR_DELAY=5m
printf '127.0.0.1\n' >"$ROOT/whitelist_clients"   # the Postfix case below
gr_conf "$ROOT/greyrep.conf" || { fail "protofuzz: config" "cannot write the test config"; t_exit; }
sed -i '/^trusted_networks/a authserv_id = mx.rig.test' "$GR_CONF"
if ! gr_start "$GR_CONF" "$GR_SOCKET" "$ROOT/greyrep.log"; then
    fail "protofuzz: greyrep starts" "see $ROOT/greyrep.log"
    t_exit
fi
note "greyrep pid $GR_PID on $GR_SOCKET"

secs=${PROTOFUZZ_SECONDS:-25}
seed=${PROTOFUZZ_SEED:-$(( $(date +%s) % 1000000 + 1 ))}
timeout $((secs + 60)) "$PF" -s "$GR_SOCKET" -d "$secs" -S "$seed" -c 2 >"$ROOT/protofuzz.out" 2>&1
rc=$?
indent "$ROOT/protofuzz.out" 8
summary=$(grep '^protofuzz: hostile' "$ROOT/protofuzz.out")
if [ $rc = 0 ]; then
    pass "protofuzz: correct clients answered during ${secs}s of hostile traffic (seed $seed; ${summary#protofuzz: })"
else
    fail "protofuzz: correct clients answered during hostile traffic" "exit $rc, seed $seed: ${summary:-no summary}"
fi
if gr_alive; then
    pass "protofuzz: greyrep alive after the run"
else
    fail "protofuzz: greyrep alive after the run" "it exited"
    indent "$GR_LOG" 20
fi
if grep -qaE 'runtime error|AddressSanitizer|panic:|fatal:' "$GR_LOG"; then
    fail "protofuzz: no sanitizer report or panic in greyrep's log" "see below"
    grep -aE -A8 'runtime error|AddressSanitizer|panic:|fatal:' "$GR_LOG" | head -30 | sed 's/^/  | /'
else
    pass "protofuzz: no sanitizer report or panic in greyrep's log"
fi
# A header field over libmilter's 64 KB packet limit, through a real
# Postfix, beside a forged Authentication-Results: Postfix must keep the
# packet under the limit (else libmilter drops the connection and Postfix
# applies milter_default_action, delivering the forged field untouched).
if [ "$(id -u)" != 0 ] || ! command -v postfix >/dev/null || ! command -v swaks >/dev/null; then
    skip "protofuzz: 70 KB header through Postfix" "needs root, postfix and swaks"
else
    PF_PORT=$(free_port 2660)
    pf_setup "$ROOT/pf" "$PF_PORT" "$GR_SOCKET" accept && pf_start "$ROOT/pf"
    big=$(head -c 70000 /dev/zero | tr '\0' 'A')
    smtp bighdr --from a@example.org --to user@rig.test \
        --add-header "Authentication-Results: mx.rig.test; spf=pass smtp.mailfrom=forged@example.org" \
        --add-header "X-Big: $big"
    f=$(pf_delivered bighdr 15 | head -1)
    if [ "$SMTP_DATA" = 250 ] && [ -n "$f" ] &&
        ! grep -q '^Authentication-Results: mx.rig.test; spf=pass smtp.mailfrom=forged' "$f" &&
        grep -q 'removed 1 Authentication-Results claiming mx.rig.test' "$GR_LOG"; then
        pass "protofuzz: 70 KB header through Postfix: delivered, the forged Authentication-Results removed"
    else
        fail "protofuzz: 70 KB header through Postfix" "DATA ${SMTP_DATA:-?}, delivered '${f:-}'"
        grep -E 'milter' "$ROOT/pf/maillog" 2>/dev/null | tail -3 | sed 's/^/  | /'
    fi
    pf_stop "$ROOT/pf"
fi
if gr_stop "$GR_PID" 20 && [ "$GR_EXIT" = 0 ]; then
    pass "protofuzz: greyrep stops cleanly on SIGTERM"
else
    fail "protofuzz: greyrep stops cleanly on SIGTERM" "exit ${GR_EXIT:-?}"
fi
t_exit
