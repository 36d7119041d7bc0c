#!/bin/bash
# tests/integration/postfix.sh - greyrep behind a real Postfix, on loopback.
#
# A private Postfix instance (own config, queue and Maildir under a temporary
# root; 127.0.0.1 and [::1] on a free port from 2527) hands every SMTP
# session to greyrep over a unix socket.  swaks plays the client; XCLIENT
# gives each case its own client address, so loopback clients are
# greylisted like any other (trusted_networks = 127.0.0.2/32 only).
#
# Run as root:   bash tests/integration/postfix.sh
#   GREYREP_BUILD=DIR   use DIR/src/greyrep and DIR/src/greyrepctl
#   PF_PORT_BASE=N      first port to try (default 2527)
#   KEEP=1              keep the temporary root for inspection
set -u
T_NAME=postfix
. "$(dirname "$0")/../lib.sh"

need_root "postfix: environment"
need_cmd "postfix: environment" postfix swaks perl
need_greyrep
t_root

DELAY=3
export GR_DELAY=${DELAY}s

# --- whitelist files (the recipients file starts as the shipped sample) ---
printf '# test clients\n192.0.2.50\n2001:db8:50::/48\n' >"$ROOT/whitelist_clients"
if [ -f "$GREYREP_SRC/etc/whitelist_recipients" ]; then
    cp "$GREYREP_SRC/etc/whitelist_recipients" "$ROOT/whitelist_recipients"
else
    printf 'postmaster@\n' >"$ROOT/whitelist_recipients"
fi
printf 'whitelisted@rig.test\n' >>"$ROOT/whitelist_recipients"
printf '# no senders\n' >"$ROOT/whitelist_senders"
gr_conf "$ROOT/greyrep.conf" || { fail "postfix: config" "cannot write the test config"; t_exit; }

# --- greyrep ---
if "$GREYREP" -n -c "$GR_CONF" >"$ROOT/check.out" 2>&1; then
    pass "greyrep -n accepts the test configuration"
else
    fail "greyrep -n accepts the test configuration" "exit $?: $(head -3 "$ROOT/check.out" | tr '\n' ' ')"
fi
s=$(now)
if gr_start "$GR_CONF" "$GR_SOCKET" "$ROOT/greyrep.log"; then
    pass "greyrep starts and listens on $GR_SOCKET ($(elapsed "$s") s)"
else
    fail "greyrep starts" "see $ROOT/greyrep.log"
    t_exit
fi
SOCK=${GR_SOCKET#unix:}
perm=$(stat -c '%a %G' "$SOCK" 2>/dev/null)
if [ "$perm" = "660 postfix" ]; then
    pass "socket mode 0660, group postfix"
else
    fail "socket mode 0660, group postfix" "got '$perm'"
fi
if [ "$(cat "$ROOT/greyrep.pid" 2>/dev/null)" = "$GR_PID" ]; then
    pass "pidfile holds the daemon's pid"
else
    fail "pidfile holds the daemon's pid" "pidfile: '$(cat "$ROOT/greyrep.pid" 2>/dev/null)', pid $GR_PID"
fi
run_user=$(ps -o user= -p "$GR_PID" 2>/dev/null | tr -d ' ')
if [ "$run_user" = greyrep ]; then
    pass "greyrep dropped privileges to user greyrep"
else
    fail "greyrep dropped privileges to user greyrep" "runs as '$run_user'"
fi

# --- Postfix ---
port=$(free_port "${PF_PORT_BASE:-2527}") || { fail "postfix: port" "no free port"; t_exit; }
pf_setup "$ROOT/postfix" "$port" "$GR_SOCKET" accept || { fail "postfix: setup" "postfix check failed"; t_exit; }
pf_start || { fail "postfix: start" "see $PF_DIR/maillog"; indent "$PF_DIR/maillog"; t_exit; }
note "postfix on 127.0.0.1:$PF_PORT$(have_ipv6 && echo " and [::1]:$PF_PORT"), greyrep socket $GR_SOCKET"

# send ID CLIENT FROM TO [more swaks args]: CLIENT is an IPv4 address,
# IPV6:addr for XCLIENT, or "direct4"/"direct6" for a plain loopback session
send() {
    local id=$1 client=$2 from=$3 to=$4; shift 4
    local x=()
    case $client in
        direct4) ;;
        direct6) x=(--server ::1 --port "$PF_PORT") ;;
        *) x=(--xclient-addr "$client" --xclient-name '[UNAVAILABLE]') ;;
    esac
    log_mark "$PF_DIR/maillog"
    smtp "$id" "${x[@]}" --from "$from" --to "$to" "$@"
}
# milter_fallback: Postfix could not get an answer from greyrep during the
# last transaction (and so applied milter_default_action = accept)
MILTER_DOWN_EXPECTED=0
milter_fallback() {
    [ "$MILTER_DOWN_EXPECTED" = 1 ] && return 1
    sleep 0.1
    log_since "$PF_DIR/maillog" | grep -qE 'warning: .*([Mm]ilter service|milter unix:)'
}
# expect_rcpt NAME WANT-CODES [WANT-DATA]: check the last transaction
expect_rcpt() {
    local name=$1 want=$2 wdata=${3:-}
    if milter_fallback; then
        fail "$name" "Postfix got no answer from greyrep (milter_default_action applied): $(log_since "$PF_DIR/maillog" | grep -m1 -E 'warning: .*ilter' | sed 's/.*warning: //')"
        return 1
    fi
    if [ "$SMTP_RCPT" = "$want" ] && { [ -z "$wdata" ] || [ "$SMTP_DATA" = "$wdata" ]; }; then
        pass "$name (RCPT $SMTP_RCPT${SMTP_DATA:+, DATA $SMTP_DATA})"
        return 0
    fi
    fail "$name" "want RCPT '$want'${wdata:+ DATA $wdata}, got RCPT '$SMTP_RCPT' DATA '$SMTP_DATA' (swaks rc $SMTP_RC)"
    smtp_show
    return 1
}
seconds_left() {  # the number in the reply text that says how long to wait
    printf '%s\n' "$1" | grep -oiE '[0-9]+ *(s\b|sec|second)' | grep -oE '^[0-9]+' | head -1
}
# header_of FILE NAME: the first header line NAME: (unfolded)
header_of() { awk -v h="$2" 'BEGIN { IGNORECASE = 1 } /^$/ { exit } tolower($0) ~ "^" tolower(h) ":" { print; exit }' "$1"; }

# ensure_alive WHEN: if greyrep died, say so and start it again so that the
# remaining cases test something
ensure_alive() {
    if ! gr_alive; then
        wait "$GR_PID" 2>/dev/null
        fail "greyrep survives $1" "it died (status $?); restarting it"
        indent "$GR_LOG" 5
        gr_start "$GR_CONF" "$GR_SOCKET" "$ROOT/greyrep.log" || t_exit
    fi
}

# ======================================================================
# Phase A: first sight of every triplet that is retried after the delay
# ======================================================================
T0=$(now)
send first 192.0.2.10 first-sight@example.org u1@rig.test
if [ "$SMTP_RCPT" = 451 ] && printf '%s' "$SMTP_RCPT_TEXT" | grep -qE '^451 4\.7\.1 '; then
    left=$(seconds_left "$SMTP_RCPT_TEXT")
    if [ -n "$left" ] && [ "$left" -ge 1 ] && [ "$left" -le "$DELAY" ]; then
        pass "first sight: 451 4.7.1 naming the seconds left ($SMTP_RCPT_TEXT)"
    else
        fail "first sight: 451 4.7.1 naming the seconds left" "no 1..$DELAY seconds count in: $SMTP_RCPT_TEXT"
    fi
else
    fail "first sight: 451 4.7.1" "got RCPT '$SMTP_RCPT' text '$SMTP_RCPT_TEXT'"; smtp_show
fi
if grep -q "milter-reject: RCPT from .*192\.0\.2\.10.*451 4\.7\.1" "$PF_DIR/maillog"; then
    pass "postfix logged the milter-reject for 192.0.2.10"
else
    fail "postfix logged the milter-reject for 192.0.2.10" "not in maillog"; indent "$PF_DIR/maillog" 5
fi

send early 192.0.2.10 first-sight@example.org u1@rig.test
expect_rcpt "early retry is greylisted again" 451

# (checked at once: the triplet is pending only for DELAY seconds)
ctl check --ip 192.0.2.10 --from first-sight@example.org --rcpt u1@rig.test
if [ "$CTL_RC" = 3 ]; then
    pass "greyrepctl check: pending triplet would tempfail (exit 3)"
else
    fail "greyrepctl check: pending triplet would tempfail" "exit $CTL_RC after $(elapsed "$T0") s: $CTL_OUT"
fi

send v6-xclient IPV6:2001:db8::5 v-six@example.org u6@rig.test
expect_rcpt "IPv6 client (XCLIENT 2001:db8::5): first sight greylisted" 451
if have_ipv6; then
    send v6-direct direct6 direct-six@example.org u7@rig.test
    expect_rcpt "IPv6 direct connection from ::1: first sight greylisted" 451
else
    skip "IPv6 direct connection from ::1" "no IPv6 loopback on this host"
fi

send null-first 192.0.2.30 '<>' u3@rig.test
if grep -q 'MAIL FROM:<>' "$SMTP_LOG"; then :; else note "swaks did not send MAIL FROM:<>"; fi
expect_rcpt "null sender <>: first sight greylisted" 451

send partial-first 192.0.2.20 partial@example.org p1@rig.test
expect_rcpt "partial: first recipient greylisted on first sight" 451

send prefix-first 192.0.2.40 prefix@example.org u4@rig.test
expect_rcpt "prefix: first sight from 192.0.2.40" 451

# VERP / bounce senders carry a new number on every attempt
send verp-first 192.0.2.25 'bounce-1234-user=example.net@example.org' u2@rig.test
expect_rcpt "VERP sender bounce-1234-...: first sight greylisted" 451
ensure_alive "a sender with digits"

# --- whitelists: pass at once ---
send wl-client 192.0.2.50 wl-client@example.org u5@rig.test
expect_rcpt "whitelisted client 192.0.2.50 (file) passes at once" 250 250
send wl-client6 IPV6:2001:db8:50::9 wl-client@example.org u5@rig.test
expect_rcpt "whitelisted IPv6 network 2001:db8:50::/48 (file) passes at once" 250 250
send wl-rcpt 192.0.2.60 wl-rcpt@example.org whitelisted@rig.test
expect_rcpt "whitelisted recipient passes at once" 250 250
send wl-postmaster 192.0.2.61 wl-pm@example.org postmaster@rig.test
expect_rcpt "postmaster@ passes at once" 250 250
if f=$(pf_delivered wl-client 5); then
    if header_of "$f" X-Greylist | grep -q 'delayed'; then
        fail "whitelisted message carries no 'delayed' X-Greylist header" "$(header_of "$f" X-Greylist)"
    else
        pass "whitelisted message delivered without a 'delayed' X-Greylist header"
    fi
else
    fail "whitelisted message delivered" "no file with X-Test-Id: wl-client in $PF_DIR/vmail/inbox/new"
fi

# --- greyrepctl whitelist add, seen by the running daemon ---
send ctl-before 192.0.2.77 ctl-before@example.org u8@rig.test
expect_rcpt "192.0.2.77 is greylisted before greyrepctl whitelist add" 451
ctl whitelist add ip 192.0.2.77
if [ "$CTL_RC" = 0 ]; then
    pass "greyrepctl whitelist add ip 192.0.2.77 (exit 0)"
else
    fail "greyrepctl whitelist add ip 192.0.2.77" "exit $CTL_RC: $CTL_OUT"
fi
send ctl-after 192.0.2.77 ctl-after@example.org u9@rig.test
expect_rcpt "greyrepctl whitelist add takes effect without restart" 250 250
ctl whitelist list
if [ "$CTL_RC" = 0 ] && printf '%s\n' "$CTL_OUT" | grep -q '192\.0\.2\.77'; then
    pass "greyrepctl whitelist list shows 192.0.2.77"
else
    fail "greyrepctl whitelist list shows 192.0.2.77" "exit $CTL_RC: $CTL_OUT"
fi

# --- greyrepctl greylist list / check on a pending triplet ---
ctl greylist list
line=$(printf '%s\n' "$CTL_OUT" | grep -F 'first-sight@example.org' | grep -F 'u1@rig.test' | head -1)
if [ "$CTL_RC" = 0 ] && [ -n "$line" ] && printf '%s' "$line" | grep -qE '192\.0\.2\.(10|0)'; then
    pass "greyrepctl greylist list shows the pending triplet"
    note "$line"
else
    fail "greyrepctl greylist list shows the pending triplet" "exit $CTL_RC, no line with 192.0.2.10/first-sight@example.org/u1@rig.test"
    printf '%s\n' "$CTL_OUT" | head -20 | sed 's/^/  | /'
fi
ctl greylist list --json
if [ "$CTL_RC" = 0 ] && printf '%s\n' "$CTL_OUT" | grep -F 'first-sight@example.org' | grep -q '^{.*}$'; then
    pass "greyrepctl greylist list --json: one JSON object a line"
else
    fail "greyrepctl greylist list --json" "exit $CTL_RC: $(printf '%s' "$CTL_OUT" | head -3)"
fi
ctl check --ip 203.0.113.99 --from never-seen@example.org --rcpt nobody@rig.test
if [ "$CTL_RC" = 3 ]; then
    pass "greyrepctl check: unknown triplet would tempfail (exit 3)"
else
    fail "greyrepctl check: unknown triplet would tempfail" "exit $CTL_RC: $CTL_OUT"
fi
ctl check --ip 192.0.2.50 --from x@example.org --rcpt y@rig.test
if [ "$CTL_RC" = 0 ]; then
    pass "greyrepctl check: whitelisted client would accept (exit 0)"
else
    fail "greyrepctl check: whitelisted client would accept" "exit $CTL_RC: $CTL_OUT"
fi
# check is read-only: the unknown triplet must still be unknown
ctl greylist list
if printf '%s\n' "$CTL_OUT" | grep -q 'never-seen@example.org'; then
    fail "greyrepctl check is read-only" "the checked triplet was stored"
else
    pass "greyrepctl check is read-only (nothing stored)"
fi

# ======================================================================
# Phase B: retries after the delay
# ======================================================================
wait_s=$(awk -v t0="$T0" -v n="$(now)" -v d="$DELAY" 'BEGIN { w = t0 + d + 1.2 - n; if (w < 0) w = 0; printf "%.1f", w }')
note "waiting ${wait_s}s for the ${DELAY}s delay to pass"
sleep "$wait_s"

send retry 192.0.2.10 first-sight@example.org u1@rig.test
expect_rcpt "retry after the delay is accepted" 250 250
if f=$(pf_delivered retry 10); then
    xg=$(header_of "$f" X-Greylist)
    if printf '%s' "$xg" | grep -qE '^X-Greylist: delayed [0-9]+ seconds by greyrep-'; then
        pass "delivered message carries X-Greylist ($xg)"
    else
        fail "delivered message carries X-Greylist: delayed N seconds by greyrep-" "got '$xg'"
    fi
else
    fail "retried message delivered" "no file with X-Test-Id: retry"; indent "$PF_DIR/maillog" 5
fi

send known 192.0.2.10 first-sight@example.org u1@rig.test
expect_rcpt "a passed triplet passes again at once" 250 250
if f=$(pf_delivered known 10) && ! header_of "$f" X-Greylist | grep -q delayed; then
    pass "a message of a known triplet is not marked as delayed"
else
    fail "a message of a known triplet is not marked as delayed" "$(header_of "${f:-/dev/null}" X-Greylist)"
fi

send v6-retry IPV6:2001:db8::5 v-six@example.org u6@rig.test
expect_rcpt "IPv6 client (XCLIENT): retry after the delay accepted" 250 250
send v6-group IPV6:2001:db8::6 v-six@example.org u6@rig.test
expect_rcpt "IPv6 client: another address in the same /64 shares the pass" 250 250
if have_ipv6; then
    send v6-direct-retry direct6 direct-six@example.org u7@rig.test
    expect_rcpt "IPv6 direct connection from ::1: retry accepted" 250 250
fi

send null-retry 192.0.2.30 '<>' u3@rig.test
expect_rcpt "null sender <>: retry after the delay accepted" 250 250
if pf_delivered null-retry 10 >/dev/null; then
    pass "null sender message delivered"
else
    fail "null sender message delivered" "no file with X-Test-Id: null-retry"
fi

send verp-retry 192.0.2.25 'bounce-5678-user=example.net@example.org' u2@rig.test
expect_rcpt "VERP sender: the retry with another number counts as the same triplet" 250 250
ensure_alive "a sender with digits"

send prefix-retry 192.0.2.41 prefix@example.org u4@rig.test
expect_rcpt "retry from another address of the same /24 (192.0.2.41) accepted" 250 250

# partial acceptance: p1 passed, p2 is new
send partial-pass 192.0.2.20 partial@example.org p1@rig.test
expect_rcpt "partial: first recipient passes after the delay" 250 250
send partial 192.0.2.20 partial@example.org p1@rig.test,p2@rig.test
expect_rcpt "partial: two recipients, passed one 250, new one 451" "250 451" 250
if pf_delivered partial 10 >/dev/null && pf_delivered_to partial p1@rig.test; then
    if pf_delivered_to partial p2@rig.test; then
        fail "partial: message delivered to the passed recipient only" "p2@rig.test got a copy"
    else
        pass "partial: message delivered to the passed recipient only"
    fi
else
    fail "partial: message delivered to the passed recipient only" "no copy for p1@rig.test"
fi

ctl check --ip 192.0.2.10 --from first-sight@example.org --rcpt u1@rig.test
if [ "$CTL_RC" = 0 ]; then
    pass "greyrepctl check: passed triplet would accept (exit 0)"
else
    fail "greyrepctl check: passed triplet would accept" "exit $CTL_RC: $CTL_OUT"
fi

# ======================================================================
# Phase C: reload on SIGUSR1
# ======================================================================
cp "$GR_CONF" "$ROOT/greyrep.conf.good"
printf '[milter\nthis is = = not a config\n[nosuchsection]\nfoo = bar\n' >"$GR_CONF"
if "$GREYREP" -n -c "$GR_CONF" >"$ROOT/check.out" 2>&1; then
    fail "greyrep -n rejects a broken config" "exit 0"
elif grep -qE "^$GR_CONF:[0-9]+: " "$ROOT/check.out"; then
    pass "greyrep -n rejects a broken config with FILE:LINE: messages (exit $(
        "$GREYREP" -n -c "$GR_CONF" >/dev/null 2>&1; echo $?))"
else
    fail "greyrep -n rejects a broken config with FILE:LINE: messages" "$(head -2 "$ROOT/check.out" | tr '\n' ' ')"
fi
log_mark "$GR_LOG"
kill -USR1 "$GR_PID"
sleep 1
if gr_alive; then
    pass "SIGUSR1 with a broken config: greyrep keeps running"
else
    fail "SIGUSR1 with a broken config: greyrep keeps running" "it exited"; indent "$GR_LOG"
fi
if log_wait_since "$GR_LOG" "$(basename "$GR_CONF")" 3 &&
    log_since "$GR_LOG" | grep -iE 'warning:|error:' | grep -qiE 'reload|keep|config|greyrep\.conf'; then
    pass "SIGUSR1 with a broken config: the log says why"
    log_since "$GR_LOG" | grep -iE 'warning:|error:' | head -3 | sed 's/^/  | /'
else
    fail "SIGUSR1 with a broken config: the log says why" "no warning/error naming the config after the signal"
    log_since "$GR_LOG" | head -10 | sed 's/^/  | /'
fi
send broken-new 192.0.2.90 broken-new@example.org u10@rig.test
expect_rcpt "after a failed reload: a new triplet is still greylisted" 451
send broken-wl 192.0.2.50 broken-wl@example.org u10@rig.test
expect_rcpt "after a failed reload: the old whitelist still applies" 250 250

cp "$ROOT/greyrep.conf.good" "$GR_CONF"
printf '192.0.2.88\n' >>"$GR_WL_CLIENTS"
log_mark "$GR_LOG"
kill -USR1 "$GR_PID"
sleep 1
send reload-wl 192.0.2.88 reload-wl@example.org u11@rig.test
expect_rcpt "SIGUSR1 with a good config: a new whitelist entry takes effect" 250 250
if gr_alive; then pass "greyrep alive after the good reload"; else fail "greyrep alive after the good reload" "it exited"; fi

# --- auto_whitelist, turned on by a reload ---
GR_AUTO_WL=1 gr_conf "$GR_CONF"
log_mark "$GR_LOG"
kill -USR1 "$GR_PID"
if log_wait_since "$GR_LOG" 'reload' 3; then :; else sleep 1; fi
T1=$(now)
send auto-first 198.51.100.7 auto-first@example.org u20@rig.test
expect_rcpt "auto_whitelist = 1: first sight of a new client greylisted" 451
sleep "$(awk -v t0="$T1" -v n="$(now)" -v d="$DELAY" 'BEGIN { w = t0 + d + 1.2 - n; if (w < 0) w = 0; printf "%.1f", w }')"
send auto-pass 198.51.100.7 auto-first@example.org u20@rig.test
expect_rcpt "auto_whitelist = 1: the retry passes" 250 250
send auto-next 198.51.100.7 auto-other@example.org u21@rig.test
expect_rcpt "auto_whitelist = 1: after one pass the client's new triplets pass at once" 250 250
send auto-neighbour 198.51.100.200 auto-other@example.org u22@rig.test
if [ "$SMTP_RCPT" = 451 ] || [ "$SMTP_RCPT" = 250 ]; then
    note "auto_whitelist: a neighbour in 198.51.100.0/24 got $SMTP_RCPT (grouping by prefix is the daemon's choice)"
fi
GR_AUTO_WL=0 gr_conf "$GR_CONF"
kill -USR1 "$GR_PID"
sleep 1
ensure_alive "the auto_whitelist reloads"

# ======================================================================
# Phase D: kill -9, restart: state survives
# ======================================================================
gr_kill9 "$GR_PID"
sleep 0.2
if gr_start "$GR_CONF" "$GR_SOCKET" "$ROOT/greyrep.log"; then
    pass "greyrep restarts after kill -9 (stale socket and pidfile)"
else
    fail "greyrep restarts after kill -9" "see log"; t_exit
fi
send after-kill 192.0.2.10 first-sight@example.org u1@rig.test
expect_rcpt "after kill -9 and restart: a passed triplet still passes" 250 250
send after-kill-new 192.0.2.91 after-kill-new@example.org u12@rig.test
expect_rcpt "after kill -9 and restart: a new triplet is greylisted" 451
ctl greylist list
if printf '%s\n' "$CTL_OUT" | grep -F 'partial@example.org' | grep -qF 'p2@rig.test'; then
    pass "after kill -9 and restart: greylist list still shows older triplets"
else
    fail "after kill -9 and restart: greylist list still shows older triplets" "no partial@example.org/p2@rig.test"
fi

# Postfix must never have fallen back to milter_default_action so far
if grep -qE 'warning: .*(Milter service|milter unix:)' "$PF_DIR/maillog"; then
    fail "postfix reached greyrep for every message so far" "$(grep -E 'warning: .*(Milter service|milter unix:)' "$PF_DIR/maillog" | head -2)"
else
    pass "postfix reached greyrep for every message so far (no milter warnings)"
fi

# ======================================================================
# Phase E: greyrep stopped: Postfix applies milter_default_action = accept
# ======================================================================
s=$(now)
if gr_stop "$GR_PID" 15; then
    if [ "$GR_EXIT" = 0 ]; then
        pass "SIGTERM: greyrep exits with status 0 ($(elapsed "$s") s)"
    else
        fail "SIGTERM: greyrep exits with status 0" "wait status $GR_EXIT$([ "$GR_EXIT" = 143 ] && echo ' (killed by the SIGTERM itself, no clean shutdown)')"
    fi
else
    fail "SIGTERM: greyrep exits with status 0" "$GR_EXIT (SIGKILL needed after 15 s if 137)"
fi
MILTER_DOWN_EXPECTED=1
send milter-down 192.0.2.92 milter-down@example.org u13@rig.test
expect_rcpt "greyrep stopped: postfix accepts (milter_default_action = accept)" 250 250
if pf_delivered milter-down 10 >/dev/null; then
    pass "greyrep stopped: the message is delivered, not lost"
else
    fail "greyrep stopped: the message is delivered" "no file with X-Test-Id: milter-down"
fi
if grep -qE 'warning: connect to Milter service' "$PF_DIR/maillog"; then
    pass "postfix logged that the milter was unreachable"
else
    fail "postfix logged that the milter was unreachable" "no 'connect to Milter service' warning"
fi

# greyrep's own log must be free of sanitizer reports and crashes
if grep -qE 'runtime error|AddressSanitizer|LeakSanitizer|panic:' "$GR_LOG"; then
    fail "greyrep log has no sanitizer report or panic" "$(grep -m1 -E 'runtime error|AddressSanitizer|LeakSanitizer|panic:' "$GR_LOG")"
else
    pass "greyrep log has no sanitizer report or panic"
fi

t_exit
