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
gr_conf "$ROOT/greyrep.conf" || { fail "protofuzz: config" "cannot write the test config"; t_exit; }
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
if gr_stop "$GR_PID" 20 && [ "$GR_EXIT" = 0 ]; then
    pass "protofuzz: greyrep stops cleanly on SIGTERM"
else
    fail "protofuzz: greyrep stops cleanly on SIGTERM" "exit ${GR_EXIT:-?}"
fi
t_exit
