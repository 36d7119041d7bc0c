#!/bin/bash
# tests/integration/sendmail.sh - greyrep behind a real Sendmail 8.17.
#
# Sendmail conflicts with Postfix as a Debian package, so its .debs are
# downloaded ("apt-get download") and unpacked ("dpkg -x") into a cache
# directory (GREYREP_SENDMAIL_CACHE, default /var/cache/greyrep-tests/sendmail)
# and run from there; nothing is installed.  Its configuration is built from
# a test .mc that include()s the shipped fragment contrib/sendmail.mc
# unchanged: greyrep listens where the fragment's S= says.
#
# The whole test runs in a private network + mount + UTS namespace
# (unshare): its own loopback, where nothing else listens (so the
# fragment's port can be used as it is), which also carries documentation
# addresses (192.0.2.0/24, 2001:db8::/32) for clients that are not
# loopback - Sendmail has no XCLIENT; an FQDN host name and private
# /etc/hosts, /etc/resolv.conf and /etc/host.conf, so that Sendmail starts
# at once and resolves client names only from the test's hosts file.
# trusted_networks is 127.0.0.2/32, so loopback clients are greylisted too.
#
# Run as root:   bash tests/integration/sendmail.sh
#   GREYREP_BUILD=DIR          use DIR/src/greyrep and DIR/src/greyrepctl
#   GREYREP_SENDMAIL_CACHE=DIR where the unpacked Sendmail is kept
#   SM_FRAGMENT=FILE           the .mc fragment (default contrib/sendmail.mc)
#   KEEP=1                     keep the temporary root for inspection
set -u
T_NAME=sendmail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib-sendmail.sh"

FRAGMENT=${SM_FRAGMENT:-$GREYREP_SRC/contrib/sendmail.mc}
SM_CACHE=${GREYREP_SENDMAIL_CACHE:-/var/cache/greyrep-tests/sendmail}
FQDN=mx.rig.test
DELAY=2

# ======================================================================
# Outside the namespace: packages, the Sendmail tree (network needed)
# ======================================================================
if [ -z "${GREYREP_SM_INNER:-}" ]; then
    need_root "sendmail: environment"
    need_cmd "sendmail: environment" unshare swaks perl python3 apt-get dpkg
    need_greyrep
    s=$(now)
    if ! sm_packages; then
        fail "sendmail: packages" "apt-get install liblockfile1 libwrap0 m4 iproute2 failed"
        t_exit
    fi
    need_cmd "sendmail: environment" m4 ip
    if ! sm_fetch "$SM_CACHE"; then
        fail "sendmail: Sendmail 8.17 unpacked from Debian's packages" "apt-get download / dpkg -x failed (see above)"
        t_exit
    fi
    if [ ! -f "$FRAGMENT" ]; then
        fail "sendmail: fragment" "$FRAGMENT not found"
        t_exit
    fi
    if ! unshare --net --mount --uts true 2>"/tmp/greyrep-unshare.$$"; then
        fail "sendmail: private namespaces" "unshare --net --mount --uts: $(cat "/tmp/greyrep-unshare.$$") (needs CAP_SYS_ADMIN)"
        rm -f "/tmp/greyrep-unshare.$$"
        t_exit
    fi
    rm -f "/tmp/greyrep-unshare.$$"
    note "sendmail tree $SM_TREE ($(elapsed "$s") s)"
    export GREYREP_SM_INNER=1 SM_TREE GREYREP_BUILD GREYREP_SRC
    exec unshare --net --mount --uts --kill-child=TERM bash "$0" "$@"
fi

# ======================================================================
# Inside: loopback with documentation addresses, FQDN, private name files
# ======================================================================
t_root
ip link set lo up || { fail "sendmail: namespace loopback" "ip link set lo up failed"; t_exit; }
for a in 192.0.2.10 192.0.2.11 192.0.2.50 192.0.2.60 192.0.2.61; do
    ip addr add "$a/32" dev lo
done
NS6=0
if have_ipv6 && ip -6 addr add 2001:db8::10/128 dev lo nodad 2>/dev/null &&
    ip -6 addr add 2001:db8::11/128 dev lo nodad 2>/dev/null; then
    NS6=1
fi
note "namespace loopback: $(ip -br addr show lo | awk '{ $1 = $2 = ""; print }')"

# client names: 192.0.2.60 is mail.example.test both ways (Sendmail's
# {client_resolve} = OK); 192.0.2.61 claims forged.wl.example.test, which
# resolves to another address (FORGED; "multi off" in host.conf)
SM_HOSTS_EXTRA=$(printf '192.0.2.60\tmail.example.test\n192.0.2.99\tforged.wl.example.test\n192.0.2.61\tforged.wl.example.test')
sm_namespace_files "$ROOT/ns" "$FQDN"
mount --bind "$ROOT/ns/hosts" /etc/hosts &&
    mount --bind "$ROOT/ns/resolv.conf" /etc/resolv.conf &&
    { [ ! -e /etc/host.conf ] || mount --bind "$ROOT/ns/host.conf" /etc/host.conf; } &&
    hostname "$FQDN" ||
    { fail "sendmail: private /etc/hosts, resolv.conf and host name" "mount --bind / hostname failed"; t_exit; }

# ---------------------------------------------------------------- greyrep
# greyrep listens where the fragment's S= points
S_SPEC=$(grep -E '^INPUT_MAIL_FILTER\(' "$FRAGMENT" | grep -oE 'S=[^,'"'"']+' | head -1)
S_SPEC=${S_SPEC#S=}
case $S_SPEC in
    inet:*@*|inet6:*@*) FRAG_USED=$FRAGMENT ;;
    *)
        # a unix socket in a system directory: use a copy pointing at a port
        FRAG_USED=$ROOT/fragment.mc
        sed "s|S=$S_SPEC|S=inet:8894@127.0.0.1|" "$FRAGMENT" >"$FRAG_USED"
        note "the fragment's S=$S_SPEC replaced by S=inet:8894@127.0.0.1 in $FRAG_USED"
        S_SPEC=inet:8894@127.0.0.1 ;;
esac
if [ -z "$S_SPEC" ]; then
    fail "sendmail: the fragment has an INPUT_MAIL_FILTER line with S=" "none in $FRAGMENT"
    t_exit
fi

printf '# test clients\n192.0.2.50\nmail.example.test\n.wl.example.test\n' >"$ROOT/whitelist_clients"
printf 'postmaster@\nwhitelisted@rig.test\n' >"$ROOT/whitelist_recipients"
printf '# no senders\n' >"$ROOT/whitelist_senders"
export GR_DELAY=${DELAY}s GR_SOCKET=$S_SPEC GR_TRUSTED=127.0.0.2/32
# no DNS server here: greylisting alone is under test
GR_EXTRA=$(gr_no_checks_extra)
export GR_EXTRA
[ -n "$GR_EXTRA" ] && note "greyrep's DNS checks (SPF, iprev, DKIM) turned off in the test config"
gr_conf "$ROOT/greyrep.conf" || { fail "sendmail: greyrep config" "cannot write it"; t_exit; }
if gr_start "$GR_CONF" "$GR_SOCKET" "$ROOT/greyrep.log"; then
    pass "greyrep listens on $GR_SOCKET, the fragment's S="
else
    fail "greyrep starts on $GR_SOCKET" "see $ROOT/greyrep.log"; t_exit
fi

# ---------------------------------------------------------------- Sendmail
SMP=2526
if ! sm_setup "$ROOT/sendmail" "$SMP" "$FRAG_USED" "$FQDN" 2>"$ROOT/sm_setup.err"; then
    fail "sendmail.cf built from a test .mc including $(basename "$FRAGMENT")" "$(head -5 "$ROOT/sm_setup.err" | tr '\n' ' ')"
    t_exit
fi
xline=$(grep -E '^Xgreyrep,' "$SM_DIR/test.cf")
mline=$(grep -E '^O Milter\.macros\.connect=' "$SM_DIR/test.cf")
ifline=$(grep -E '^O InputMailFilters=' "$SM_DIR/test.cf")
if [ -n "$xline" ] && printf '%s' "$xline" | grep -q "S=$S_SPEC" &&
    printf '%s' "$xline" | grep -q 'F=T' && printf '%s' "$ifline" | grep -qw greyrep; then
    pass "sendmail.cf built with the shipped INPUT_MAIL_FILTER ($xline)"
else
    fail "sendmail.cf has the shipped INPUT_MAIL_FILTER line" "X line '$xline', $ifline"
fi
if printf '%s' "$mline" | grep -q '{client_resolve}'; then
    pass "sendmail.cf sends {client_resolve} at connect (fragment's confMILTER_MACROS_CONNECT)"
else
    fail "sendmail.cf sends {client_resolve} at connect" "got '$mline'"
fi
note "$(sm_version 2>/dev/null | sed 's/^/sendmail /')"

s=$(now)
if sm_start; then
    pass "sendmail starts and listens on 127.0.0.1:$SMP ($(elapsed "$s") s)"
else
    fail "sendmail starts" "see $SM_DIR/daemon.out, $SM_DIR/maillog"; indent "$SM_DIR/maillog"; t_exit
fi
t_on_cleanup sm_stop
t_on_cleanup sm_sink_stop
PF_PORT=$SMP          # lib.sh's smtp() talks to 127.0.0.1:$PF_PORT by default

# send ID CLIENT FROM TO [swaks args]: CLIENT 127.0.0.1, ::1, or a
# namespace address (the session comes from it)
send() {
    local id=$1 client=$2 from=$3 to=$4; shift 4
    local x=()
    case $client in
        127.0.0.1) ;;
        ::1) x=(--server ::1 --port "$SMP") ;;
        *:*) x=(--server ::1 --port "$SMP" --local-interface "$client") ;;
        *) x=(--server 127.0.0.1 --port "$SMP" --local-interface "$client") ;;
    esac
    smtp "$id" "${x[@]}" --from "$from" --to "$to" "$@"
}
expect_rcpt() {
    local name=$1 want=$2 wdata=${3:-}
    if [ "$SMTP_RCPT" = "$want" ] && { [ -z "$wdata" ] || [ "$SMTP_DATA" = "$wdata" ]; }; then
        pass "$name (RCPT $SMTP_RCPT${SMTP_DATA:+, DATA $SMTP_DATA})"
        return 0
    fi
    fail "$name" "want RCPT '$want'${wdata:+ DATA $wdata}, got MAIL '$SMTP_MAIL' RCPT '$SMTP_RCPT' DATA '$SMTP_DATA' (swaks rc $SMTP_RC)"
    smtp_show
    return 1
}
seconds_left() {
    printf '%s\n' "$1" | grep -oiE '[0-9]+ *(s\b|sec|second)' | grep -oE '^[0-9]+' | head -1
}
header_of() { awk -v h="$2" 'BEGIN { IGNORECASE = 1 } /^$/ { exit } tolower($0) ~ "^" tolower(h) ":" { print; exit }' "$1"; }
ensure_alive() {
    if ! gr_alive; then
        wait "$GR_PID" 2>/dev/null
        fail "greyrep survives $1" "it died (status $?); restarting it"
        indent "$GR_LOG" 5
        gr_start "$GR_CONF" "$GR_SOCKET" "$ROOT/greyrep.log" || t_exit
    fi
}

# ======================================================================
# Phase A: first sight
# ======================================================================
T0=$(now)
send first 127.0.0.1 first-sight@example.org u1@rig.test
if [ "$SMTP_RCPT" = 451 ] && printf '%s' "$SMTP_RCPT_TEXT" | grep -qE '^451 4\.7\.1 '; then
    left=$(seconds_left "$SMTP_RCPT_TEXT")
    if [ -n "$left" ] && [ "$left" -ge 1 ] && [ "$left" -le "$DELAY" ]; then
        pass "first sight (127.0.0.1): 451 4.7.1 naming the seconds left ($SMTP_RCPT_TEXT)"
    else
        fail "first sight: 451 4.7.1 naming the seconds left" "no 1..$DELAY seconds count in: $SMTP_RCPT_TEXT"
    fi
else
    fail "first sight (127.0.0.1): 451 4.7.1" "got MAIL '$SMTP_MAIL' RCPT '$SMTP_RCPT' text '$SMTP_RCPT_TEXT'"; smtp_show
fi
if wait_for_grep 'milter=greyrep, action=rcpt, reject=451 4\.7\.1' "$SM_DIR/maillog" 5; then
    pass "sendmail logged milter=greyrep, action=rcpt, reject=451 4.7.1"
else
    fail "sendmail logged the milter's 451" "not in $SM_DIR/maillog"; indent "$SM_DIR/maillog" 5
fi

send early 127.0.0.1 first-sight@example.org u1@rig.test
expect_rcpt "early retry is greylisted again" 451

if have_ipv6; then
    send v6-first ::1 v-six@example.org u2@rig.test
    expect_rcpt "IPv6 client ::1: first sight greylisted" 451
else
    skip "IPv6 client ::1" "no IPv6 in the namespace"
fi

send ns-first 192.0.2.10 netns@example.org u3@rig.test
expect_rcpt "non-loopback client 192.0.2.10 (network namespace): first sight greylisted" 451
if grep -qE 'client=192\.0\.2\.10 .*netns@example\.org' "$GR_LOG"; then
    pass "greyrep saw the client address 192.0.2.10 from Sendmail"
else
    fail "greyrep saw the client address 192.0.2.10" "no 'client=192.0.2.10' decision line in its log"; indent "$GR_LOG" 5
fi
if [ "$NS6" = 1 ]; then
    send ns6-first 2001:db8::10 netns-six@example.org u4@rig.test
    expect_rcpt "non-loopback IPv6 client 2001:db8::10: first sight greylisted" 451
else
    skip "non-loopback IPv6 client 2001:db8::10" "no IPv6 in the namespace"
fi

# ---------------------------------------------------------------- whitelists
send wl-client 192.0.2.50 wl-client@example.org u5@rig.test
expect_rcpt "whitelisted client 192.0.2.50 (file) passes at once" 250 250
if f=$(sm_delivered wl-client 10); then
    if header_of "$f" X-Greylist | grep -q delayed; then
        fail "whitelisted message is not marked as delayed" "$(header_of "$f" X-Greylist)"
    else
        pass "whitelisted message delivered, not marked as delayed"
    fi
else
    fail "whitelisted message delivered" "no file with X-Test-Id: wl-client in $SM_DIR/maildir/new"
fi
send wl-rcpt 127.0.0.1 wl-rcpt@example.org whitelisted@rig.test
expect_rcpt "whitelisted recipient (file) passes at once" 250 250
send wl-postmaster 127.0.0.1 wl-pm@example.org postmaster@rig.test
expect_rcpt "postmaster@ passes at once" 250 250
if sm_delivered wl-rcpt 10 >/dev/null; then
    pass "whitelisted recipient's message delivered"
else
    fail "whitelisted recipient's message delivered" "no file with X-Test-Id: wl-rcpt"
fi

# host name entries: only a name Sendmail confirmed ({client_resolve} OK)
send wl-host 192.0.2.60 wl-host@example.org u6@rig.test
expect_rcpt "whitelisted host name mail.example.test ({client_resolve} OK) passes at once" 250 250
send forged 192.0.2.61 forged@example.org u7@rig.test
if wait_for_grep 'forged\.wl\.example\.test \[192\.0\.2\.61\] \(may be forged\)' "$SM_DIR/maillog" 3 ||
    grep -q 'forged\.wl\.example\.test \[192\.0\.2\.61\] (may be forged)' "$SM_DIR/maillog"; then
    expect_rcpt "host name forged.wl.example.test not confirmed ({client_resolve} FORGED): greylisted" 451
else
    skip "host name with {client_resolve} FORGED" "Sendmail did not flag 192.0.2.61's name as forged here"
    grep '192\.0\.2\.61' "$SM_DIR/maillog" | tail -2 | sed 's/^/  | /'
fi

ctl greylist list
if [ "$CTL_RC" = 0 ] && printf '%s\n' "$CTL_OUT" | grep -F 'netns@example.org' | grep -q '192\.0\.2\.0/24'; then
    pass "greyrepctl greylist list: the namespace client's triplet under 192.0.2.0/24"
else
    fail "greyrepctl greylist list shows 192.0.2.0/24 netns@example.org" "exit $CTL_RC"
    printf '%s\n' "$CTL_OUT" | head -10 | sed 's/^/  | /'
fi
ensure_alive "phase A"

# ======================================================================
# Phase B: retries after the delay
# ======================================================================
wait_s=$(awk -v t0="$T0" -v n="$(now)" -v d="$DELAY" 'BEGIN { w = t0 + d + 1.2 - n; if (w < 0) w = 0; printf "%.1f", w }')
note "waiting ${wait_s}s for the ${DELAY}s delay to pass"
sleep "$wait_s"

send retry 127.0.0.1 first-sight@example.org u1@rig.test
expect_rcpt "retry after the delay is accepted" 250 250
if f=$(sm_delivered retry 10); then
    xg=$(header_of "$f" X-Greylist)
    if printf '%s' "$xg" | grep -qE "^X-Greylist: delayed [0-9]+ seconds by greyrep-[^ ]+ at $FQDN; "; then
        pass "delivered message carries X-Greylist ($xg)"
    else
        fail "delivered message carries X-Greylist: delayed N seconds by greyrep-V at $FQDN" "got '$xg'"
    fi
else
    fail "retried message delivered" "no file with X-Test-Id: retry"; indent "$SM_DIR/maillog" 5
fi
send known 127.0.0.1 first-sight@example.org u1@rig.test
expect_rcpt "a passed triplet passes again at once" 250 250
if f=$(sm_delivered known 10) && ! header_of "$f" X-Greylist | grep -q delayed; then
    pass "a known triplet's message is not marked as delayed"
else
    fail "a known triplet's message is not marked as delayed" "$(header_of "${f:-/dev/null}" X-Greylist)"
fi
if have_ipv6; then
    send v6-retry ::1 v-six@example.org u2@rig.test
    expect_rcpt "IPv6 client ::1: retry accepted" 250 250
fi
send ns-retry 192.0.2.11 netns@example.org u3@rig.test
expect_rcpt "namespace client: retry from 192.0.2.11 (same /24) accepted" 250 250
if f=$(sm_delivered ns-retry 10) && header_of "$f" X-Greylist | grep -q delayed; then
    pass "namespace client's retry delivered with X-Greylist"
else
    fail "namespace client's retry delivered with X-Greylist" "no such file or header"
fi
if [ "$NS6" = 1 ]; then
    send ns6-retry 2001:db8::11 netns-six@example.org u4@rig.test
    expect_rcpt "non-loopback IPv6: retry from 2001:db8::11 (same /64) accepted" 250 250
fi
ensure_alive "phase B"

# ======================================================================
# Phase C: greyrep down - Sendmail's F=T gives a temporary failure
# ======================================================================
s=$(now)
gr_stop "$GR_PID" 15
note "greyrep stopped ($(elapsed "$s") s, status $GR_EXIT)"
log_mark "$SM_DIR/maillog"
send down 127.0.0.1 first-sight@example.org u1@rig.test
codes="$SMTP_MAIL $SMTP_RCPT $SMTP_DATA"
if printf '%s' "$codes" | grep -qE '\b4[0-9][0-9]\b' && [ "$SMTP_DATA" != 250 ]; then
    pass "greyrep down: Sendmail answers with a temporary failure (MAIL '$SMTP_MAIL' RCPT '$SMTP_RCPT')"
else
    fail "greyrep down: a temporary failure (F=T)" "got MAIL '$SMTP_MAIL' RCPT '$SMTP_RCPT' DATA '$SMTP_DATA'"; smtp_show
fi
sleep 0.5
if sm_grep_delivered down >/dev/null; then
    fail "greyrep down: nothing accepted" "a copy was delivered"
else
    pass "greyrep down: nothing was accepted or delivered (the client keeps the message)"
fi
if log_since "$SM_DIR/maillog" | grep -qiE 'Milter \(greyrep\).*(error|refused|unavailable|cannot)'; then
    pass "sendmail logged that greyrep was unreachable"
    log_since "$SM_DIR/maillog" | grep -iE 'Milter \(greyrep\)' | head -2 | sed 's/^/  | /'
else
    fail "sendmail logged that greyrep was unreachable" "no 'Milter (greyrep): ... error' line"; log_since "$SM_DIR/maillog" | tail -5 | sed 's/^/  | /'
fi
# the client retries once greyrep is back: the same message goes through
gr_start "$GR_CONF" "$GR_SOCKET" "$ROOT/greyrep.log" || { fail "greyrep restarts" "see log"; t_exit; }
send down 127.0.0.1 first-sight@example.org u1@rig.test
expect_rcpt "greyrep back: the client's retry of the same message is accepted" 250 250
if [ "$(sm_delivered down 10 | wc -l)" = 1 ]; then
    pass "greyrep back: the message is delivered exactly once"
else
    fail "greyrep back: the message is delivered exactly once" "$(sm_grep_delivered down | wc -l) copies"
fi

# ======================================================================
# Phase D: greyrep hung (SIGSTOP): the fragment's T= limits, then F=T
# ======================================================================
kill -STOP "$GR_PID"
s=$(now)
send hung 127.0.0.1 first-sight@example.org u1@rig.test
took=$(elapsed "$s")
kill -CONT "$GR_PID"
codes="$SMTP_MAIL $SMTP_RCPT $SMTP_DATA"
if printf '%s' "$codes" | grep -qE '\b4[0-9][0-9]\b' && [ "$SMTP_DATA" != 250 ]; then
    pass "greyrep hung: temporary failure after the T= time limits (${took}s, MAIL '$SMTP_MAIL' RCPT '$SMTP_RCPT')"
else
    fail "greyrep hung: temporary failure" "got MAIL '$SMTP_MAIL' RCPT '$SMTP_RCPT' DATA '$SMTP_DATA' after ${took}s"; smtp_show
fi
sleep 0.5
send after-hung 127.0.0.1 first-sight@example.org u1@rig.test
expect_rcpt "greyrep resumed (SIGCONT): mail accepted again" 250 250
ensure_alive "SIGSTOP/SIGCONT"

# ======================================================================
# Phase E: the protocol steps per configuration (src/negotiate.h)
# ======================================================================
# With the sender checks on greyrep asks for the header (to remove forged
# Authentication-Results) and, for DKIM, the body; nothing here answers
# DNS, so the checks fail temporarily and on_error = accept lets mail in.
NEG_FORGED="Authentication-Results: $FQDN; spf=pass smtp.mailfrom=forged@example.org"
for neg in spf dkim; do
    gr_stop "$GR_PID" 15
    if [ $neg = spf ]; then
        GR_EXTRA=$'[iprev]\nenabled = no\n[dkim]\nenabled = no'
        neg_want="NR_HDR NOEOH NOBODY NR_CONN NR_HELO NR_MAIL"
    else
        GR_EXTRA=""
        neg_want="NR_HDR NR_EOH NR_BODY NR_CONN NR_HELO NR_MAIL"
    fi
    GR_CHECKS=on gr_conf "$ROOT/greyrep-$neg.conf" ||
        { fail "negotiate $neg: config" "cannot write it"; continue; }
    gr_start "$GR_CONF" "$GR_SOCKET" "$ROOT/greyrep-$neg.log" -d ||
        { fail "negotiate $neg: greyrep starts" "see $ROOT/greyrep-$neg.log"; continue; }
    send "neg-$neg" 127.0.0.1 "neg-$neg@example.org" whitelisted@rig.test --add-header "$NEG_FORGED"
    expect_rcpt "negotiate $neg: Sendmail delivers through greyrep with the checks on" 250 250
    neg_line=$(grep -m1 'negotiated protocol steps:' "$GR_LOG" | sed 's/ (MTA offered.*//')
    neg_bad=""
    for w in $neg_want; do printf '%s\n' "$neg_line" | grep -qw -- "$w" || neg_bad="$neg_bad $w"; done
    if [ -n "$neg_line" ] && [ -z "$neg_bad" ]; then
        pass "negotiate $neg: Sendmail agreed to ${neg_line#*steps: }"
    else
        fail "negotiate $neg: negotiated steps" "missing${neg_bad:- line}: $neg_line"
    fi
    if f=$(sm_delivered "neg-$neg" 10); then
        if grep -q 'forged@example.org' $f; then
            fail "negotiate $neg: forged Authentication-Results removed" "still there"
        else
            pass "negotiate $neg: forged Authentication-Results removed"
        fi
    else
        fail "negotiate $neg: delivered" "not within 10 s"
    fi
done
GR_EXTRA=$(gr_no_checks_extra)

if grep -qE 'runtime error|AddressSanitizer|LeakSanitizer|panic:' "$ROOT"/greyrep*.log; then
    fail "greyrep log has no sanitizer report or panic" "$(grep -m1 -E 'runtime error|AddressSanitizer|LeakSanitizer|panic:' "$ROOT"/greyrep*.log)"
else
    pass "greyrep log has no sanitizer report or panic"
fi
t_exit
