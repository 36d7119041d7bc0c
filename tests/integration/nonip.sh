#!/bin/bash
# tests/integration/nonip.sh - connections that are not over IP (milter
# family "unknown" or "unix"), and out-of-range answers per on_error.
#
# greyrep treats a non-IP connection as local only when the MTA names the
# client "localhost" (Postfix's smtpd for a non-Internet socket, Sendmail's
# local submissions); any other non-IP client gets the on_error answer.
# Driven through tests/bench/mtclient (a scripted milter-protocol client),
# against greyrep with on_error = accept and then on_error = tempfail.
#
#   GREYREP_BUILD=DIR   use DIR/src/greyrep and DIR/tests/bench/mtclient
#   KEEP=1              keep the temporary root
set -u
T_NAME=nonip
. "$(dirname "$0")/../lib.sh"

need_greyrep
MTCLIENT=${MTCLIENT:-$GREYREP_BUILD/tests/bench/mtclient}
if [ ! -x "$MTCLIENT" ] && [ -f "$GREYREP_BUILD/Makefile" ]; then
    make -C "$GREYREP_BUILD" tests/bench/mtclient >/dev/null 2>&1
fi
if [ ! -x "$MTCLIENT" ]; then
    fail "nonip: mtclient" "tests/bench/mtclient not built in $GREYREP_BUILD"
    t_exit
fi
t_root
export GR_DELAY=5m

# session HOST ADDR FAMILY RCPT: one message; MT_OUT, MT_RC
session() {
    printf 'connect %s %s 0 %s\nhelo %s\nmail <s@example.org>\nrcpt <%s@rig.test>\nabort\nquit\n' \
        "$1" "$2" "$3" "$1" "$4" >"$ROOT/s.mt"
    MT_OUT=$(timeout 30 "$MTCLIENT" -s "$GR_SOCKET" "$ROOT/s.mt" 2>&1 </dev/null)
    MT_RC=$?
}
reply() { printf '%s\n' "$MT_OUT" | grep -E "^$1: " | tail -1; }

# expect NAME STAGE REGEX LOGREGEX: the reply of STAGE matches, the log too
expect() {
    local r; r=$(reply "$2")
    if [ "$MT_RC" = 0 ] && printf '%s' "$r" | grep -qE "$3"; then
        pass "$1 ($r)"
    else
        fail "$1" "rc $MT_RC, $2 reply '$r', want /$3/; $(printf '%s' "$MT_OUT" | tr '\n' ' ' | cut -c1-200)"
    fi
    if [ -n "${4:-}" ]; then
        if log_wait_since "$GR_LOG" "$4" 2; then
            pass "$1: logged ($(log_since "$GR_LOG" | grep -m1 -E "$4" | sed 's/^[^ ]* //' | cut -c1-110))"
        else
            fail "$1: logged" "no line matching /$4/"
        fi
    fi
}

n=0
for on_error in accept tempfail; do
    export GR_ON_ERROR=$on_error
    rm -rf "$ROOT/db"
    gr_conf "$ROOT/greyrep-$on_error.conf" || { fail "nonip: config" "cannot write it"; t_exit; }
    if ! gr_start "$GR_CONF" "$GR_SOCKET" "$ROOT/greyrep-$on_error.log"; then
        fail "nonip: greyrep starts (on_error $on_error)" "see $ROOT/greyrep-$on_error.log"
        t_exit
    fi
    for fam in U L; do
        addr=-; [ $fam = L ] && addr=/run/some.sock
        n=$((n + 1)); log_mark "$GR_LOG"
        session localhost "$addr" $fam "local$n"
        expect "on_error $on_error, family $fam, host localhost: local, not greylisted" \
            rcpt '^rcpt: continue' 'local by the MTA'
        n=$((n + 1)); log_mark "$GR_LOG"
        session LocalHost "$addr" $fam "local$n"
        expect "on_error $on_error, family $fam, host LocalHost: local" rcpt '^rcpt: continue'
        n=$((n + 1)); log_mark "$GR_LOG"
        session evil.example.org "$addr" $fam "far$n"
        # greyrep negotiates no reply at connect (NR_CONN, greyrep(8) "MTA
        # setup"): the on_error answer comes at every RCPT instead
        if [ $on_error = accept ]; then
            expect "on_error accept, family $fam, host evil.example.org: accepted, not greylisted" \
                rcpt '^rcpt: continue' 'not an IP connection and not localhost: on_error accept'
        else
            expect "on_error tempfail, family $fam, host evil.example.org: tempfail" \
                rcpt '^rcpt: tempfail 451 4.3.0' 'not an IP connection and not localhost: on_error tempfail'
        fi
        n=$((n + 1)); log_mark "$GR_LOG"
        session unknown "$addr" $fam "far$n"
        expect "on_error $on_error, family $fam, host unknown: not local" rcpt \
            "^rcpt: $([ $on_error = accept ] && echo continue || echo 'tempfail 451 4.3.0')"
    done
    # an IP client is still greylisted
    n=$((n + 1))
    session client.example.org 192.0.2.10 4 "ip$n"
    expect "on_error $on_error: an IP client is greylisted as before" rcpt 'tempfail|451'
    gr_stop "$GR_PID" 15 || fail "nonip: greyrep stops (on_error $on_error)" "exit ${GR_EXIT:-?}"
done
t_exit
