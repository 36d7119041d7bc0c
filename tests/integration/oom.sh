#!/bin/bash
# tests/integration/oom.sh - out of memory in a milter callback answers
# per on_error (issue 10: it was always tempfail).
#
# An LD_PRELOAD shim (tests/integration/oom/failalloc.c, built here) makes
# the connection context's calloc, and the realloc that notes forged
# Authentication-Results fields, return NULL while a trigger file exists.
# The size of struct conn comes from the binary's debug information (gdb);
# without gdb, a C compiler, or in a sanitizer build (its allocator cannot
# be replaced) the test is skipped.
#
#   GREYREP_BUILD=DIR   use DIR/src/greyrep and DIR/tests/bench/mtclient
set -u
T_NAME=oom
. "$(dirname "$0")/../lib.sh"

need_greyrep
MTCLIENT=${MTCLIENT:-$GREYREP_BUILD/tests/bench/mtclient}
[ -x "$MTCLIENT" ] || make -C "$GREYREP_BUILD" tests/bench/mtclient >/dev/null 2>&1
if [ ! -x "$MTCLIENT" ]; then
    fail "oom: mtclient" "tests/bench/mtclient not built in $GREYREP_BUILD"
    t_exit
fi
if ! command -v gdb >/dev/null || ! command -v cc >/dev/null; then
    skip "oom: out of memory answers per on_error" "needs gdb and cc"
    t_exit
fi
if ldd "$GREYREP" 2>/dev/null | grep -qE 'libasan|libtsan|libubsan'; then
    skip "oom: out of memory answers per on_error" "sanitizer build"
    t_exit
fi
t_root
size=$(gdb -batch -ex 'print sizeof(struct conn)' "$GREYREP" 2>/dev/null | sed -n 's/^\$1 = //p')
case $size in ''|*[!0-9]*)
    skip "oom: out of memory answers per on_error" "no debug information for struct conn"
    t_exit ;;
esac
SHIM=$ROOT/failalloc.so
if ! cc -shared -fPIC -O1 -o "$SHIM" "$GREYREP_SRC/tests/integration/oom/failalloc.c" 2>"$ROOT/cc.log"; then
    fail "oom: build the shim" "$(head -3 "$ROOT/cc.log")"
    t_exit
fi
export GR_DELAY=5m GR_FAIL_CALLOC=$size
export GR_FAIL_CALLOC_FILE=$ROOT/fail-calloc GR_FAIL_REALLOC_FILE=$ROOT/fail-realloc
# the first growth of the forged-field index array: 8 ints
export GR_FAIL_REALLOC=$((8 * 4))

mt() {
    MT_OUT=$(timeout 30 "$MTCLIENT" -s "$GR_SOCKET" "$1" 2>&1 </dev/null)
    MT_RC=$?
}
reply() { printf '%s\n' "$MT_OUT" | grep -E "^$1: " | tail -1; }
check() {  # check NAME STAGE REGEX LOGREGEX
    local r; r=$(reply "$2")
    if printf '%s' "$r" | grep -qE "$3"; then pass "$1 ($r)"; else
        fail "$1" "rc $MT_RC, $2 reply '$r', want /$3/"; fi
    if log_wait_since "$GR_LOG" "$4" 2; then pass "$1: logged"; else
        fail "$1: logged" "no line matching /$4/"; fi
}

cat >"$ROOT/connect.mt" <<MT
connect client.example.org 192.0.2.10 40000
helo client.example.org
mail <s@example.org>
rcpt <u@rig.test>
abort
quit
MT
cat >"$ROOT/header.mt" <<MT
connect client.example.org 192.0.2.11 40000
helo client.example.org
mail <s@example.org>
rcpt <postmaster@rig.test>
data
header Authentication-Results mx.test; spf=pass smtp.mailfrom=forged@example.org
eoh
eom
quit
MT
printf 'postmaster@\n' >"$ROOT/whitelist_recipients"
for on_error in accept tempfail; do
    export GR_ON_ERROR=$on_error
    rm -rf "$ROOT/db" "$GR_FAIL_CALLOC_FILE" "$GR_FAIL_REALLOC_FILE"
    gr_conf "$ROOT/greyrep-$on_error.conf" || { fail "oom: config" "cannot write it"; t_exit; }
    sed -i 's/^trusted_networks = .*/&\nauthserv_id = mx.test/' "$GR_CONF"
    if ! LD_PRELOAD=$SHIM gr_start "$GR_CONF" "$GR_SOCKET" "$ROOT/greyrep-$on_error.log"; then
        fail "oom: greyrep starts under the shim (on_error $on_error)" "see $ROOT/greyrep-$on_error.log"
        t_exit
    fi
    want=$([ $on_error = accept ] && echo accept || echo tempfail)
    : >"$GR_FAIL_CALLOC_FILE"
    log_mark "$GR_LOG"
    mt "$ROOT/connect.mt"
    check "on_error $on_error: out of memory at connect answers $want" connect "^connect: $want" \
        "out of memory at connect: on_error $on_error"
    rm -f "$GR_FAIL_CALLOC_FILE"
    : >"$GR_FAIL_REALLOC_FILE"
    log_mark "$GR_LOG"
    mt "$ROOT/header.mt"
    # greyrep answers no header (NR_HDR, greyrep(8) "MTA setup"): the
    # on_error answer for the message comes at its end
    want=$([ $on_error = accept ] && echo continue || echo tempfail)
    check "on_error $on_error: out of memory noting a forged field answers $want at end of message" eom \
        "^eom: .*$want" "out of memory noting a forged Authentication-Results: on_error $on_error"
    rm -f "$GR_FAIL_REALLOC_FILE"
    mt "$ROOT/connect.mt"
    if printf '%s' "$(reply rcpt)" | grep -qE 'tempfail|451'; then
        pass "on_error $on_error: memory back, greylisting as before"
    else
        fail "on_error $on_error: memory back, greylisting as before" "rcpt reply '$(reply rcpt)'"
    fi
    gr_stop "$GR_PID" 15 || fail "oom: greyrep stops (on_error $on_error)" "exit ${GR_EXIT:-?}"
done
t_exit
