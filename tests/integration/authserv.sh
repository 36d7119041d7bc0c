#!/bin/bash
# tests/integration/authserv.sh - an authserv_id with '@' (issue 10: it was
# written bare, so forged Authentication-Results fields with it survived).
#
# greyrep runs with authserv_id = greyrep@mx.test; a message from an
# untrusted client carries forged fields that claim that id (quoted, in
# another case, after a comment, and bare as greyrep once wrote it) beside
# fields of other hosts.  At end of message greyrep must delete exactly the
# forged ones (mtclient shows "eom: chgheader INDEX Authentication-Results: "
# with an empty value for a deletion).  Driven through tests/bench/mtclient
# (whose scripts write a literal quote as \").
#
#   GREYREP_BUILD=DIR   use DIR/src/greyrep and DIR/tests/bench/mtclient
set -u
T_NAME=authserv
. "$(dirname "$0")/../lib.sh"

need_greyrep
MTCLIENT=${MTCLIENT:-$GREYREP_BUILD/tests/bench/mtclient}
[ -x "$MTCLIENT" ] || make -C "$GREYREP_BUILD" tests/bench/mtclient >/dev/null 2>&1
if [ ! -x "$MTCLIENT" ]; then
    fail "authserv: mtclient" "tests/bench/mtclient not built in $GREYREP_BUILD"
    t_exit
fi
t_root
printf 'postmaster@\n' >"$ROOT/whitelist_recipients"
gr_conf "$ROOT/greyrep.conf" || { fail "authserv: config" "cannot write it"; t_exit; }
sed -i 's/^trusted_networks = .*/&\nauthserv_id = greyrep@mx.test/' "$GR_CONF"
if "$GREYREP" -n -c "$GR_CONF" >/dev/null 2>&1; then
    pass "greyrep -n accepts authserv_id = greyrep@mx.test"
else
    fail "greyrep -n accepts authserv_id = greyrep@mx.test" "$("$GREYREP" -n -c "$GR_CONF" 2>&1 | head -2)"
fi
printf '[milter]\nauthserv_id = greyrep @mx.test\n[whitelist]\nclients =\nrecipients =\nsenders =\n' >"$ROOT/bad.conf"
if out=$("$GREYREP" -n -c "$ROOT/bad.conf" 2>&1); then
    fail "greyrep -n refuses an authserv_id with a space" "accepted"
elif printf '%s' "$out" | grep -q 'bad.conf:2: authserv_id'; then
    pass "greyrep -n refuses an authserv_id with a space, at its line"
else
    fail "greyrep -n refuses an authserv_id with a space, at its line" "$out"
fi
if ! gr_start "$GR_CONF" "$GR_SOCKET" "$ROOT/greyrep.log"; then
    fail "authserv: greyrep starts" "see $ROOT/greyrep.log"
    t_exit
fi
cat >"$ROOT/forged.mt" <<'MT'
connect client.example.org 192.0.2.10 40000
helo client.example.org
mail <s@example.org>
rcpt <postmaster@rig.test>
data
header Authentication-Results \"greyrep@mx.test\"; spf=pass smtp.mailfrom=forged-1@example.org
header Authentication-Results other.example; spf=pass smtp.mailfrom=kept-1@example.org
header Authentication-Results (comment) \"GreyRep@MX.test\"; dkim=pass header.d=forged-2.example
header Authentication-Results greyrep@mx.test; spf=pass smtp.mailfrom=forged-3@example.org
header Authentication-Results \"greyrep@mx.test.evil\"; spf=pass smtp.mailfrom=kept-2@example.org
eoh
body hello\r\n
eom
quit
MT
out=$(timeout 30 "$MTCLIENT" -s "$GR_SOCKET" "$ROOT/forged.mt" 2>&1 </dev/null)
dels=$(printf '%s\n' "$out" | grep -E '^eom: chgheader [0-9]+ Authentication-Results: ?$' | awk '{print $3}' | sort -n | tr '\n' ' ')
# indices count every Authentication-Results field: the forged are 1, 3, 4
if [ "$dels" = "1 3 4 " ]; then
    pass "the three forged fields (Authentication-Results 1, 3 and 4 of 5) are deleted, the others kept"
else
    fail "the forged fields claiming greyrep@mx.test are deleted" "deletions at '$dels'; output: $(printf '%s' "$out" | grep '^eom' | tr '\n' '|')"
fi
log_wait_since "$GR_LOG" 'removed 3 Authentication-Results claiming greyrep@mx.test' 3 &&
    pass "logged: removed 3 Authentication-Results claiming greyrep@mx.test" ||
    fail "logged: removed 3 Authentication-Results claiming greyrep@mx.test" "$(grep -m1 removed "$GR_LOG")"
gr_stop "$GR_PID" 15 || fail "authserv: greyrep stops" "exit ${GR_EXIT:-?}"
t_exit
