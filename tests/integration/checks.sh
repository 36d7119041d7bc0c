#!/bin/bash
# tests/integration/checks.sh - greyrep's sender checks (iprev, SPF, DNSBL,
# DKIM, Authentication-Results, DNS failures) end to end, on loopback.
#
# A local unbound (tests/dns/unbound-start.sh, on a free unusual port)
# serves the test world of tests/lib-checks.sh: SPF records with every
# result, PTR/A pairs that match or not, a generic host name, two block
# lists, a 2048-bit RSA and an ed25519 DKIM key (made at run time, published
# as split TXT strings), and names that SERVFAIL or never answer.  A private
# Postfix hands every session to greyrep; swaks plays the client and gives
# each case its client address with XCLIENT (libspf2 passes loopback
# clients, so the addresses are 198.51.100.x, 203.0.113.x and 198.18.x.x).
# The messages are signed by python3-dkim's dkimsign, an independent signer.
#
# A second greyrep, whose [dns] servers is a loopback port where nothing
# listens, sits behind a second smtpd port of the same Postfix.
#
# Run as root:   bash tests/integration/checks.sh
#   GREYREP_BUILD=DIR   use DIR/src/greyrep and DIR/src/greyrepctl
#   PF_PORT_BASE=N      first SMTP port to try (default 2547)
#   CK_DNS_PORT_BASE=N  first DNS port to try (default 25353)
#   KEEP=1              keep the temporary root for inspection
set -u
T_NAME=checks
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib-checks.sh"

need_root "checks: environment"
ck_install unbound=unbound swaks=swaks dkimsign=python3-dkim dknewkey=python3-dkim \
    postfix=postfix openssl=openssl perl=perl ||
    note "could not install every missing package"
need_cmd "checks: environment" postfix swaks perl unbound unbound-checkconf dkimsign dknewkey openssl
need_greyrep
t_root

DELAY=2                 # [greylist] delay
SUSP=3600               # [greylist] suspicious_delay
DNS_TIMEOUT=2           # [dns] timeout
WL=ar@rig.test          # a whitelisted recipient: its copy is delivered at once

# python with the dkim module (the system one; a pyenv shim may lack it)
PY=
for p in /usr/bin/python3 python3; do
    if "$p" -c 'import dkim' >/dev/null 2>&1; then PY=$p; break; fi
done

# ======================================================================
# Setup: keys, DNS, greyrep x 2, Postfix
# ======================================================================
if ck_dkim_keys "$ROOT/keys"; then
    pass "DKIM keys made at run time (RSA $(openssl rsa -in "$ROOT/keys/rsa.key" -noout -text 2>/dev/null |
        sed -n 's/.*(\([0-9]*\) bit.*/\1/p' | head -1) bits, ed25519)"
else
    fail "DKIM keys made at run time" "dknewkey failed"; t_exit
fi
ck_zone_extra "$ROOT/unbound-extra.conf" "$ROOT/keys"
DNS_PORT=$(ck_free_port "${CK_DNS_PORT_BASE:-25353}") || { fail "checks: DNS port" "no free port"; t_exit; }
t_on_cleanup "'$GREYREP_SRC/tests/dns/unbound-start.sh' -k '$ROOT/dns'"
if "$GREYREP_SRC/tests/dns/unbound-start.sh" "$ROOT/dns" "$DNS_PORT" "$ROOT/unbound-extra.conf" \
    >"$ROOT/unbound-start.out" 2>&1; then
    pass "unbound serves the test zones on 127.0.0.1:$DNS_PORT"
else
    fail "unbound serves the test zones on 127.0.0.1:$DNS_PORT" "$(head -5 "$ROOT/unbound-start.out" | tr '\n' ' ')"
    t_exit
fi
# a port where nothing listens, for the greyrep whose DNS is down
DEAD_PORT=$(ck_free_port $((DNS_PORT + 1))) || { fail "checks: dead DNS port" "no free port"; t_exit; }

# the independent signer: sign, and check that dkimpy itself verifies its
# signatures against the published keys (so a dkim=fail below is greyrep's)
cat >"$ROOT/msg.txt" <<'MSG'
From: Sender <sender@dkim.chk.test>
To: ar@rig.test
Subject: signed by the greyrep tests
Date: Sat, 28 Nov 2026 05:00:00 +0000
Message-ID: <signed.1@dkim.chk.test>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Hello,
this message is signed by python3-dkim.
.a line that starts with a dot
The end.
MSG
ck_dkim_sign rsa2048 dkim.chk.test "$ROOT/keys/rsa.key" rsa-sha256 "$ROOT/msg.txt" "$ROOT/rsa.eml" &&
    ck_dkim_sign ed25519 dkim.chk.test "$ROOT/keys/ed.key" ed25519-sha256 "$ROOT/msg.txt" "$ROOT/ed.eml" &&
    ck_dkim_sign ed25519 dkim.chk.test "$ROOT/keys/ed.key" ed25519-sha256 "$ROOT/rsa.eml" "$ROOT/both.eml"
rc=$?
# signatures whose key is missing, too short, SERVFAILs or never answers
for v in "nokey dkim.chk.test rsa" "small768 dkim.chk.test small" "rsa2048 dk.servfail.test rsa" \
    "rsa2048 dk.timeout.test rsa"; do
    set -- $v
    ck_dkim_sign "$1" "$2" "$ROOT/keys/$3.key" rsa-sha256 "$ROOT/msg.txt" "$ROOT/$1.$2.eml" || rc=1
done
# 17 copies of one signature: more than greyrep's 16
sig=$(awk '/^DKIM-Signature:/ { on = 1; print; next } on && /^[ \t]/ { print; next } { exit }' "$ROOT/rsa.eml")
{ for i in $(seq 1 17); do printf '%s\n' "$sig"; done; sed '/^DKIM-Signature:/,/^[^ \t]/{/^DKIM-Signature:/d;/^[ \t]/d}' "$ROOT/rsa.eml"; } \
    >"$ROOT/many.eml"
[ "$(grep -c '^DKIM-Signature:' "$ROOT/many.eml")" = 17 ] || rc=1
sed 's/this message is signed/this message was CHANGED/' "$ROOT/rsa.eml" >"$ROOT/rsa-body.eml"
sed 's/^Subject: signed by/Subject: forged by/' "$ROOT/ed.eml" >"$ROOT/ed-subject.eml"
if [ $rc = 0 ] && [ -n "$PY" ]; then
    v=$("$PY" - "$ROOT/keys/rsa.dns" "$ROOT/keys/ed.dns" "$ROOT/rsa.eml" "$ROOT/ed.eml" "$ROOT/rsa-body.eml" <<'PYEOF' 2>&1
import sys, dkim
keys = {b"rsa2048._domainkey.dkim.chk.test.": open(sys.argv[1], "rb").read().strip(),
        b"ed25519._domainkey.dkim.chk.test.": open(sys.argv[2], "rb").read().strip()}
def dnsfunc(name, timeout=5):
    return keys.get(name if name.endswith(b".") else name + b".")
print(" ".join("%s" % dkim.verify(open(f, "rb").read(), dnsfunc=dnsfunc) for f in sys.argv[3:]))
PYEOF
)
    if [ "$v" = "True True False" ]; then
        pass "test data: dkimpy verifies its RSA and ed25519 signatures, and not the changed body"
    else
        fail "test data: dkimpy verifies its own signatures" "got '$v'"
    fi
elif [ $rc = 0 ]; then
    note "no python3 with the dkim module to cross-check the signatures"
else
    fail "dkimsign signs the test messages" "$(head -3 "$ROOT"/*.eml.err 2>/dev/null | tr '\n' ' ')"
fi

# --- whitelist files ---
printf '# the copy for this recipient is delivered at once\n%s\n' "$WL" >"$ROOT/wl_recipients"
: >"$ROOT/wl_clients"
: >"$ROOT/wl_senders"

# --- greyrep #1: the real DNS ---
CK_DNS=127.0.0.1:$DNS_PORT
CONF=$ROOT/greyrep.conf
CK_DNS=$CK_DNS ck_conf "$CONF" || { fail "checks: config" "cannot write it"; t_exit; }
GR_CONF=$CONF
if "$GREYREP" -n -c "$CONF" >"$ROOT/check.out" 2>&1; then
    pass "greyrep -n accepts the sender-check configuration"
else
    fail "greyrep -n accepts the sender-check configuration" "$(head -3 "$ROOT/check.out" | tr '\n' ' ')"
    t_exit
fi
GLOG=$ROOT/greyrep.log
if gr_start "$CONF" "unix:$ROOT/greyrep.sock" "$GLOG"; then
    G1=$GR_PID
    pass "greyrep #1 starts (DNS 127.0.0.1:$DNS_PORT)"
else
    fail "greyrep #1 starts" "see $GLOG"; t_exit
fi
# --- greyrep #2: [dns] servers where nothing answers ---
CONF2=$ROOT/greyrep-down.conf
GLOG2=$ROOT/greyrep-down.log
conf2() {
    CK_DNS=127.0.0.1:$DEAD_PORT CK_SOCKET=unix:$ROOT/greyrep-down.sock \
        CK_PIDFILE=$ROOT/greyrep-down.pid CK_STORE=$ROOT/db-down ck_conf "$CONF2"
}
conf2
if gr_start "$CONF2" "unix:$ROOT/greyrep-down.sock" "$GLOG2"; then
    G2=$GR_PID
    pass "greyrep #2 starts (DNS 127.0.0.1:$DEAD_PORT, where nothing listens)"
else
    fail "greyrep #2 starts" "see $GLOG2"; G2=
fi
GR_PID=$G1
GR_LOG=$GLOG

# --- Postfix: port P1 -> greyrep #1, port P2 -> greyrep #2 ---
port=$(free_port "${PF_PORT_BASE:-2547}") || { fail "checks: SMTP port" "no free port"; t_exit; }
pf_setup "$ROOT/postfix" "$port" "unix:$ROOT/greyrep.sock" accept || { fail "checks: postfix setup" "postfix check failed"; t_exit; }
pf_start || { fail "checks: postfix start" "see $PF_DIR/maillog"; indent "$PF_DIR/maillog"; t_exit; }
PORT2=$(free_port $((PF_PORT + 1))) || { fail "checks: second SMTP port" "no free port"; t_exit; }
printf '127.0.0.1:%s inet n - n - - smtpd -o smtpd_milters=unix:%s\n' "$PORT2" "$ROOT/greyrep-down.sock" \
    >>"$PF_DIR/etc/master.cf"
postfix -c "$PF_DIR/etc" reload >>"$PF_DIR/maillog" 2>&1
if wait_for 10 tcp_open 127.0.0.1 "$PORT2"; then
    pass "postfix on 127.0.0.1:$PF_PORT (greyrep #1) and 127.0.0.1:$PORT2 (greyrep #2)"
else
    fail "postfix listens on 127.0.0.1:$PORT2" "see $PF_DIR/maillog"
fi

# ---------------------------------------------------------------- helpers

# send ID ADDR NAME FROM TO [SWAKS-ARGS]: a session, greyrep's log marked
T_SENT=
send() {
    log_mark "$GLOG"
    [ -n "${G2:-}" ] && log_mark "$GLOG2"
    ck_send "$@"
    T_SENT=$(now)
}
# postfix could not reach greyrep during the last session
milter_fallback() {
    sleep 0.05
    log_since "$PF_DIR/maillog" | grep -qE 'warning: .*([Mm]ilter service|milter unix:)'
}
# expect NAME WANT-RCPT [WANT-DATA]: the last session's RCPT codes (and
# final DATA code)
expect() {
    local name=$1 want=$2 wdata=${3:-}
    if milter_fallback; then
        fail "$name" "Postfix got no answer from greyrep: $(log_since "$PF_DIR/maillog" | grep -m1 -E 'warning: .*ilter' | sed 's/.*warning: //')"
        return 1
    fi
    if [ "$SMTP_RCPT" = "$want" ] && { [ -z "$wdata" ] || [ "$SMTP_DATA" = "$wdata" ]; }; then
        pass "$name (RCPT $SMTP_RCPT${SMTP_DATA:+, DATA $SMTP_DATA})"
        return 0
    fi
    fail "$name" "want RCPT '$want'${wdata:+ DATA $wdata}, got RCPT '$SMTP_RCPT' DATA '$SMTP_DATA' (swaks rc $SMTP_RC)"
    smtp_show
    log_since "$GLOG" | tail -3 | sed 's/^/  | greyrep: /'
    return 1
}
# expect_wait NAME LO HI [N]: the Nth RCPT reply (default 1) is "451 4.7.1
# Greylisted, please try again in S seconds" with LO <= S <= HI
expect_wait() {
    local name=$1 lo=$2 hi=$3 r s
    r=$(ck_rcpt_reply "${4:-1}")
    s=$(ck_secs "$r")
    if [ "${r:0:9}" = "451 4.7.1" ] && ck_between "$s" "$lo" "$hi"; then
        pass "$name ($s s)"
    else
        fail "$name" "want 451 4.7.1 ... try again in $lo..$hi seconds, got '$r'"
    fi
}
# expect_log NAME REGEX [LOG]: greyrep logged a line matching REGEX during
# the last session
expect_log() {
    local name=$1 re=$2 log=${3:-$GLOG}
    if wait_for 3 log_has_since "$log" "$re"; then
        pass "$name"
    else
        fail "$name" "no log line matching /$re/"
        log_since "$log" | tail -3 | sed 's/^/  | /'
    fi
}
# delivered ID: the first delivered file of ID (waits up to 10 s), or fail
delivered() {
    local f
    f=$(pf_delivered "$1" 10 | head -1)
    [ -n "$f" ] && printf '%s\n' "$f"
}
# expect_ar NAME ID FIXED-STRING...: the delivered copy of ID has exactly
# one Authentication-Results: mx.test field, holding every FIXED-STRING
AR=
expect_ar() {
    local name=$1 id=$2 f n s miss=""; shift 2
    AR=
    if ! f=$(delivered "$id"); then
        fail "$name" "no delivered message with X-Test-Id: $id"; return 1
    fi
    AR=$(ck_ar "$f")
    n=$(printf '%s' "$AR" | grep -c .)
    for s in "$@"; do
        printf '%s' "$AR" | grep -qF -- "$s" || miss="$miss '$s'"
    done
    if [ "$n" = 1 ] && [ -z "$miss" ]; then
        pass "$name"
        note "$AR"
    else
        fail "$name" "$n greyrep field(s); missing:${miss:- nothing}"
        ck_fields "$f" Authentication-Results | sed 's/^/  | /'
        return 1
    fi
}
# timed ID ADDR NAME FROM RCPT [PORT]: one session by ck_raw (no swaks
# start-up in the measure).  WAIT: seconds from sending MAIL FROM (where
# greyrep sets the DNS deadline) to the RCPT reply; SMTP_* as for smtp.
WAIT=
timed() {
    local id=$1 addr=$2 name=$3 from=$4 rcpt=$5 port=${6:-$PF_PORT}
    log_mark "$GLOG"
    [ -n "${G2:-}" ] && log_mark "$GLOG2"
    log_mark "$PF_DIR/maillog"
    mkdir -p "$ROOT/swaks"
    SMTP_LOG=$ROOT/swaks/raw.$id.txt
    printf 'EHLO client.example.org\nXCLIENT ADDR=%s NAME=%s\nEHLO client.example.org\nMAIL FROM:<%s>\nRCPT TO:<%s>\nQUIT\n' \
        "$addr" "$name" "$from" "$rcpt" | ck_raw "$port" "$SMTP_LOG"
    smtp_parse "$SMTP_LOG"
    WAIT=$(ck_raw_span "$SMTP_LOG" MAIL RCPT)
}
# within NAME LIMIT [FROM]: the last WAIT is at most LIMIT seconds
within() {
    local from=${3:-MAIL FROM}
    if [ -n "$WAIT" ] && ck_le "$WAIT" "$2"; then
        pass "$1: answer $WAIT s after $from (<= $2 s)"
    else
        fail "$1: answer within $2 s of $from" "${WAIT:-no reply} s"
    fi
}
threads() { sed -n 's/^Threads:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null; }
reload() {   # reload PID LOG: SIGUSR1 and wait for "configuration reloaded"
    log_mark "$2"
    kill -USR1 "$1"
    log_wait_since "$2" 'configuration reloaded' 5
}
reloaded() {  # reloaded WHAT: reload greyrep #1, one result line
    if reload "$G1" "$GLOG"; then
        pass "SIGUSR1: $1 loaded"
    else
        fail "SIGUSR1: $1 loaded" "no 'configuration reloaded' line"
    fi
}

# ======================================================================
# Phase A: first attempts (default config: fail_action greylist, DNSBL
# action tempfail, on_error accept)
# ======================================================================
GOOD=198.51.100.11     # iprev pass (relay.good.chk.test), not in any SPF pass list
send base $GOOD relay.good.chk.test base@nospf.chk.test rcpt-base@rig.test
expect "iprev pass + SPF none: a new triplet is greylisted" 451
expect_wait "iprev pass + SPF none: the normal delay" 1 $DELAY

# --- SPF pass + iprev pass, the pool's first address ---
# (the sender in another letter case than at the retry: the key is normalised)
send pool-first 198.51.100.10 mta1.spfok.chk.test Alice@SPFOK.Chk.Test pool@rig.test
expect "iprev pass + SPF pass: a new triplet is greylisted all the same" 451
expect_wait "iprev pass + SPF pass: the normal delay ($DELAY s), not suspicious" 1 $DELAY
if log_since "$GLOG" | grep -F 'to=<pool@rig.test>' | grep -q 'suspicious'; then
    fail "iprev pass + SPF pass: not logged as suspicious" "$(log_since "$GLOG" | grep -F 'to=<pool@rig.test>')"
else
    pass "iprev pass + SPF pass: not logged as suspicious"
fi

# --- SPF results, each with a greylisted recipient and the whitelisted one ---
# spf_case ID SENDER RESULT LO HI
spf_case() {
    local id=$1 sender=$2 result=$3 lo=$4 hi=$5
    send "$id" $GOOD relay.good.chk.test "$sender" "rcpt-$id@rig.test,$WL"
    expect "SPF $result: greylisted recipient 451, whitelisted one 250" "451 250" 250
    expect_wait "SPF $result: $( [ "$hi" -gt $DELAY ] && echo "suspicious_delay" || echo "normal delay")" "$lo" "$hi"
    expect_ar "SPF $result: Authentication-Results says spf=$result smtp.mailfrom=$sender" "$id" \
        "spf=$result smtp.mailfrom=$sender" "iprev=pass (relay.good.chk.test) policy.iprev=$GOOD"
}
spf_case spf-fail bob@strict.chk.test fail $((SUSP - 10)) $SUSP
T_SPF_FAIL=$T_SENT
expect_log "SPF fail: logged as suspicious (SPF fail)" 'to=<rcpt-spf-fail@rig.test>: tempfail \(greylisted: new triplet, [0-9]+ seconds to wait \(suspicious: SPF fail\)\)'
spf_case spf-softfail carol@soft.chk.test softfail 1 $DELAY
spf_case spf-neutral dan@neutral.chk.test neutral 1 $DELAY
spf_case spf-none erin@nospf.chk.test none 1 $DELAY
spf_case spf-permerror fred@broken.chk.test permerror 1 $DELAY
spf_case spf-temperror gina@tmp.servfail.test temperror 1 $DELAY
# one check failing temporarily while the others answer: no opinion, and
# not the 'every lookup failed' case
if log_since "$GLOG" | grep -F 'to=<rcpt-spf-temperror@rig.test>' | grep -q 'DNS lookups failed'; then
    fail "SPF temperror alone is not 'DNS lookups failed'" "$(log_since "$GLOG" | grep -F 'to=<rcpt-spf-temperror@rig.test>')"
else
    pass "SPF temperror alone is not 'DNS lookups failed'"
fi

# --- iprev ---
# iprev_case ID ADDR NAME WHY RESULT-IN-AR
iprev_case() {
    local id=$1 addr=$2 name=$3 why=$4 ar=$5
    send "$id" "$addr" "$name" "$id@nospf.chk.test" "rcpt-$id@rig.test,$WL"
    expect "$why: greylisted recipient 451, whitelisted one 250" "451 250" 250
    expect_wait "$why: suspicious_delay" $((SUSP - 10)) $SUSP
    expect_ar "$why: Authentication-Results says $ar" "$id" "$ar policy.iprev=$addr" "spf=none"
}
iprev_case iprev-fail 198.51.100.12 liar.chk.test "iprev fail (PTR name maps elsewhere)" "iprev=fail"
expect_log "iprev fail: logged as suspicious (iprev fail)" 'to=<rcpt-iprev-fail@rig.test>: .*suspicious: iprev fail'
iprev_case iprev-noptr 198.51.100.13 '[UNAVAILABLE]' "no PTR (iprev permerror)" "iprev=permerror"
expect_log "no PTR: logged as suspicious (no PTR)" 'to=<rcpt-iprev-noptr@rig.test>: .*suspicious: no PTR'
iprev_case iprev-generic 198.51.100.20 198-51-100-20.dyn.chk.test "generic name 198-51-100-20.dyn.chk.test (maps back)" \
    "iprev=pass (198-51-100-20.dyn.chk.test)"
expect_log "generic name: logged as suspicious (generic host name)" 'to=<rcpt-iprev-generic@rig.test>: .*suspicious: generic host name'

# --- DNSBL ---
send dnsbl-listed 198.51.100.30 listed.blk.chk.test hank@nospf.chk.test rcpt-dnsbl@rig.test
expect "DNSBL score 5 >= threshold 5, action tempfail: 451" 451
r=$(ck_rcpt_reply)
if printf '%s' "$r" | grep -qE '^451 4\.7\.1 .*[Bb]lock list'; then
    pass "DNSBL tempfail: the reply names the block lists ('$r')"
else
    fail "DNSBL tempfail: the reply names the block lists" "got '$r'"
fi
expect_log "DNSBL tempfail: logged with reason dnsbl and the listing" 'to=<rcpt-dnsbl@rig.test>: tempfail \(dnsbl: DNSBL score 5 >= 5 \(yourbl\.test=127\.0\.0\.2\)\)'
send dnsbl-light 198.51.100.31 light.blk.chk.test ivy@nospf.chk.test rcpt-light@rig.test
expect "DNSBL score 1 < threshold: greylisted" 451
expect_wait "DNSBL score 1 < threshold: suspicious_delay" $((SUSP - 10)) $SUSP
expect_log "DNSBL score 1: logged as suspicious with the listing" 'to=<rcpt-light@rig.test>: .*suspicious: DNSBL score 1 \(lightbl\.test=127\.0\.0\.2\)'

# --- the null sender: SPF of the HELO name ---
send null-helo $GOOD relay.good.chk.test '<>' "rcpt-null@rig.test,$WL" --helo helo.chk.test
expect "null sender <> with HELO helo.chk.test: 451 + whitelisted 250" "451 250" 250
expect_wait "null sender, HELO passes SPF: normal delay" 1 $DELAY
expect_ar "null sender: spf=pass smtp.helo=helo.chk.test in Authentication-Results" null-helo \
    "spf=pass smtp.helo=helo.chk.test" "iprev=pass (relay.good.chk.test)"
if [ -z "$AR" ] || printf '%s' "$AR" | grep -q 'smtp.mailfrom'; then
    fail "null sender: no smtp.mailfrom in Authentication-Results" "${AR:-no field}"
else
    pass "null sender: no smtp.mailfrom in Authentication-Results"
fi
ctl greylist list
if printf '%s\n' "$CTL_OUT" | grep -F 'rcpt-null@rig.test' | grep -qF '198.51.100.0/24'; then
    pass "null sender: a HELO pass does not key the triplet on the HELO domain"
else
    fail "null sender: a HELO pass does not key the triplet on the HELO domain" \
        "$(printf '%s\n' "$CTL_OUT" | grep -F 'rcpt-null@rig.test')"
fi

# --- DKIM (to the whitelisted recipient: delivered at once) ---
# dkim_case ID FILE WHY FIXED...
dkim_case() {
    local id=$1 file=$2 why=$3; shift 3
    send "$id" $GOOD relay.good.chk.test sender@dkim.chk.test "$WL" --data "@$file"
    expect "DKIM $why: accepted for the whitelisted recipient" 250 250
    expect_ar "DKIM $why: Authentication-Results" "$id" "$@"
}
B_RSA=$(ck_sig_b "$ROOT/rsa.eml")
B_ED=$(ck_sig_b "$ROOT/ed.eml")
if [ ${#B_RSA} != 8 ] || [ ${#B_ED} != 8 ]; then
    fail "test data: the b= tags of the signed messages" "read '$B_RSA' and '$B_ED'"
fi
dkim_case dkim-rsa "$ROOT/rsa.eml" "RSA 2048 signature (independent signer)" \
    "dkim=pass (2048-bit key) header.d=dkim.chk.test header.s=rsa2048 header.a=rsa-sha256 header.b=" "$B_RSA"
dkim_case dkim-ed "$ROOT/ed.eml" "ed25519 signature (independent signer)" \
    "dkim=pass" "header.d=dkim.chk.test header.s=ed25519 header.a=ed25519-sha256 header.b=" "$B_ED"
dkim_case dkim-both "$ROOT/both.eml" "two signatures (ed25519 over RSA)" \
    "header.s=rsa2048 header.a=rsa-sha256" "header.s=ed25519 header.a=ed25519-sha256"
if [ "$(printf '%s' "$AR" | grep -o 'dkim=pass' | wc -l)" = 2 ]; then
    pass "DKIM two signatures: two dkim=pass results"
else
    fail "DKIM two signatures: two dkim=pass results" "$AR"
fi
dkim_case dkim-rsa-body "$ROOT/rsa-body.eml" "RSA, body changed after signing" \
    "dkim=fail" "header.d=dkim.chk.test header.s=rsa2048 header.a=rsa-sha256"
if printf '%s' "$AR" | grep -q 'dkim=pass'; then fail "DKIM changed body: no dkim=pass" "$AR"; fi
dkim_case dkim-ed-subject "$ROOT/ed-subject.eml" "ed25519, Subject changed after signing" \
    "dkim=fail" "header.s=ed25519 header.a=ed25519-sha256"
dkim_case dkim-nokey "$ROOT/nokey.dkim.chk.test.eml" "no key published for the selector" \
    'dkim=permerror reason="' 'header.d=dkim.chk.test header.s=nokey'
dkim_case dkim-small "$ROOT/small768.dkim.chk.test.eml" "768-bit RSA key (min_key_bits 1024)" \
    "dkim=policy" "header.d=dkim.chk.test header.s=small768 header.a=rsa-sha256"
dkim_case dkim-servfail "$ROOT/rsa2048.dk.servfail.test.eml" "key lookup SERVFAILs" \
    "dkim=temperror" "header.d=dk.servfail.test header.s=rsa2048"
{ printf 'X-Test-Id: dkim-timeout\n'; cat "$ROOT/rsa2048.dk.timeout.test.eml"; } >"$ROOT/dkim-timeout.eml"
SMTP_LOG=$ROOT/swaks/raw.dkim-timeout.txt
printf 'EHLO client.example.org\nXCLIENT ADDR=%s NAME=relay.good.chk.test\nEHLO client.example.org\nMAIL FROM:<sender@dkim.chk.test>\nRCPT TO:<%s>\nDATA @%s\nQUIT\n' \
    $GOOD "$WL" "$ROOT/dkim-timeout.eml" | ck_raw "$PF_PORT" "$SMTP_LOG"
smtp_parse "$SMTP_LOG"
expect_ar "DKIM key lookup never answered: Authentication-Results" dkim-timeout \
    "dkim=temperror" "header.d=dk.timeout.test header.s=rsa2048"
WAIT=$(ck_raw_span "$SMTP_LOG" . .)
within "DKIM key lookup never answered" $((DNS_TIMEOUT + 1)) "the final dot"
send dkim-many $GOOD relay.good.chk.test sender@dkim.chk.test "$WL" --data "@$ROOT/many.eml"
expect "DKIM 17 signatures: accepted for the whitelisted recipient" 250 250
if f=$(delivered dkim-many); then
    AR=$(ck_ar "$f")
    np=$(printf '%s' "$AR" | grep -o 'dkim=permerror reason="too many signatures"' | wc -l)
    nd=$(printf '%s' "$AR" | grep -o 'dkim=[a-z]*' | wc -l)
    if [ "$np" -ge 16 ] && [ "$np" = "$nd" ]; then
        pass "DKIM more than 16 signatures: dkim=permerror (too many signatures) for each result ($np results for 17 signatures)"
    else
        fail "DKIM more than 16 signatures: permerror for each" "$np permerror of $nd dkim results"
        note "$AR"
    fi
else
    fail "DKIM 17 signatures: message delivered" "no file with X-Test-Id: dkim-many"
fi
send dkim-none $GOOD relay.good.chk.test sender@dkim.chk.test "$WL"
expect_ar "unsigned message: dkim=none" dkim-none "dkim=none" "iprev=pass (relay.good.chk.test)"

# --- whitelisted and authenticated sessions are never refused by the checks ---
send dnsbl-wl 198.51.100.30 listed.blk.chk.test uma@nospf.chk.test "$WL"
expect "DNSBL score 5, whitelisted recipient: accepted (whitelists come first)" 250 250
send auth 198.51.100.30 listed.blk.chk.test vic@strict.chk.test rcpt-auth@rig.test --xclient-login someone
expect "authenticated (XCLIENT LOGIN), DNSBL-listed, SPF fail: accepted" 250 250
expect_log "authenticated: logged as such" 'to=<rcpt-auth@rig.test>: accept \(authenticated: '
expect_ar "authenticated: Authentication-Results has iprev and dkim" auth \
    "iprev=pass (listed.blk.chk.test) policy.iprev=198.51.100.30" "dkim=none"
if [ -z "$AR" ] || printf '%s' "$AR" | grep -q 'spf='; then
    fail "authenticated: no SPF check (no spf= result)" "${AR:-no field}"
else
    pass "authenticated: no SPF check (no spf= result)"
fi

# --- a loopback client (XCLIENT ADDR=127.0.0.1): SPF none, whatever the record ---
send loopback-direct 127.0.0.1 localhost bob@strict.chk.test "rcpt-loopback@rig.test,$WL"
expect "loopback client 127.0.0.1 (not trusted here), SPF-failing sender: 451 + 250" "451 250" 250
expect_wait "loopback client: the normal delay (SPF none, not fail)" 1 $DELAY
expect_ar "loopback client: spf=none in Authentication-Results" loopback-direct \
    "spf=none smtp.mailfrom=bob@strict.chk.test" "policy.iprev=127.0.0.1"

# --- IPv6 clients (XCLIENT ADDR=IPV6:...) ---
V6_OK=0
send v6-pass IPV6:2001:db8::10 mail.example.test v6@example.test "rcpt-v6@rig.test,$WL"
if [ -z "$SMTP_RCPT" ] && grep -qiE '<\*\* *5[0-9][0-9] .*(XCLIENT|ADDR|address)' "$SMTP_LOG"; then
    skip "IPv6 clients" "Postfix refused an IPv6 XCLIENT address here"
else
    expect "IPv6 2001:db8::10: iprev pass + SPF pass: 451 + whitelisted 250" "451 250" 250 && V6_OK=1
    expect_wait "IPv6, iprev pass + SPF pass: normal delay" 1 $DELAY
    expect_ar "IPv6: Authentication-Results iprev=pass + spf=pass" v6-pass \
        "iprev=pass (mail.example.test) policy.iprev=" "2001:db8::10" "spf=pass smtp.mailfrom=v6@example.test"
    send v6-listed IPV6:2001:db8::30 '[UNAVAILABLE]' v6l@nospf.chk.test rcpt-v6l@rig.test
    r=$(ck_rcpt_reply)
    if printf '%s' "$r" | grep -qE '^451 4\.7\.1 .*[Bb]lock list'; then
        pass "IPv6 2001:db8::30 listed (nibbles reversed) in yourbl.test: '$r'"
    else
        fail "IPv6 2001:db8::30 listed (nibbles reversed) in yourbl.test: 451 block list" "got '$r'"
    fi
fi

# --- several messages in one session: per-message results ---
{ printf 'X-Test-Id: multi-1\n'; cat "$ROOT/rsa.eml"; } >"$ROOT/m1.eml"
{ printf 'X-Test-Id: multi-3\n'; cat "$ROOT/ed.eml"; } >"$ROOT/m3.eml"
cat >"$ROOT/m2.eml" <<'MSG'
Authentication-Results: mx.test; dkim=pass header.d=forged-multi.example
X-Test-Id: multi-2
From: bob@strict.chk.test
To: ar@rig.test
Subject: second message of the session

unsigned
MSG
log_mark "$GLOG"
log_mark "$PF_DIR/maillog"
SMTP_LOG=$ROOT/swaks/multi.txt
ck_raw "$PF_PORT" "$SMTP_LOG" <<CMDS
EHLO client.example.org
XCLIENT ADDR=198.51.100.10 NAME=mta1.spfok.chk.test
EHLO helo.chk.test
MAIL FROM:<alice@spfok.chk.test>
RCPT TO:<$WL>
DATA @$ROOT/m1.eml
MAIL FROM:<bob@strict.chk.test>
RCPT TO:<rcpt-multi@rig.test>
RCPT TO:<$WL>
DATA @$ROOT/m2.eml
RSET
MAIL FROM:<>
RCPT TO:<$WL>
DATA @$ROOT/m3.eml
QUIT
CMDS
codes=$(awk '/^-> RCPT/ { r = 1; next } r && /^<- [0-9][0-9][0-9] / { printf "%s%s", s, substr($0, 4, 3); s = " "; r = 0 }' "$SMTP_LOG")
if [ "$codes" = "250 451 250 250" ]; then
    pass "one session, three messages: RCPT replies 250 / 451 250 / 250"
else
    fail "one session, three messages: RCPT replies 250 / 451 250 / 250" "got '$codes'"
    sed 's/^/  | /' "$SMTP_LOG" | grep -v '^  | <- 250-'
fi
expect_wait "one session, second message (SPF fail): suspicious_delay" $((SUSP - 10)) $SUSP 2
expect_ar "one session, message 1: SPF pass + DKIM RSA pass" multi-1 \
    "iprev=pass (mta1.spfok.chk.test)" "spf=pass smtp.mailfrom=alice@spfok.chk.test" "dkim=pass (2048-bit key)"
expect_ar "one session, message 2: its own SPF fail, dkim=none, iprev kept" multi-2 \
    "iprev=pass (mta1.spfok.chk.test)" "spf=fail smtp.mailfrom=bob@strict.chk.test" "dkim=none"
if ! f=$(delivered multi-2); then
    fail "one session, message 2: its forged field is removed" "not delivered"
elif ck_fields "$f" Authentication-Results | grep -q 'forged-multi'; then
    fail "one session, message 2: its forged field is removed" "$(ck_fields "$f" Authentication-Results | grep forged-multi)"
else
    pass "one session, message 2: its forged field is removed"
fi
expect_ar "one session, message 3 (<>): SPF of the HELO, DKIM ed25519 only" multi-3 \
    "spf=pass smtp.helo=helo.chk.test" "dkim=pass (256-bit key) header.d=dkim.chk.test header.s=ed25519"
if [ -z "$AR" ] || printf '%s' "$AR" | grep -qE 'rsa2048|smtp\.mailfrom'; then
    fail "one session, message 3: nothing left over from the earlier messages" "${AR:-no field}"
else
    pass "one session, message 3: nothing left over from the earlier messages"
fi

# --- forged Authentication-Results ---
send forged $GOOD relay.good.chk.test erin@nospf.chk.test "$WL" \
    --add-header 'Authentication-Results: mx.test; spf=pass smtp.mailfrom=forged-one@spfok.chk.test' \
    --add-header 'Authentication-Results: MX.Test. (FORGED-TWO) ; dkim=pass header.d=forged-two.example' \
    --add-header 'Authentication-Results: other.example; spf=pass smtp.mailfrom=kept-one@example.org' \
    --add-header 'Authentication-Results: "mx.test"; spf=pass smtp.mailfrom=forged-three@spfok.chk.test' \
    --add-header 'Authentication-Results: (a comment) mx.test; spf=pass smtp.mailfrom=forged-four@spfok.chk.test' \
    --add-header 'authentication-results: mx.test; spf=pass smtp.mailfrom=forged-five@spfok.chk.test' \
    --add-header 'Authentication-Results: mx.test.evil.example; dkim=pass header.d=kept-two.example'
expect "forged Authentication-Results: accepted for the whitelisted recipient" 250 250
if f=$(delivered forged); then
    all=$(ck_fields "$f" Authentication-Results)
    ours=$(ck_ar "$f")
    if printf '%s' "$all" | grep -qiE 'forged-(one|two|three|four|five)'; then
        fail "forged Authentication-Results claiming mx.test are removed" "still there: $(printf '%s' "$all" | grep -iE 'forged-' | tr '\n' ' ')"
    else
        pass "forged Authentication-Results claiming mx.test (MX.Test., \"mx.test\", after a comment, lowercase field name) are removed"
    fi
    if [ "$(printf '%s\n' "$ours" | grep -c .)" = 1 ] && printf '%s' "$ours" | grep -qF "iprev=pass (relay.good.chk.test) policy.iprev=$GOOD"; then
        pass "forged: only greyrep's own mx.test field remains"
    else
        fail "forged: only greyrep's own mx.test field remains" "$ours"
    fi
    if printf '%s' "$all" | grep -qF 'kept-one@example.org' && printf '%s' "$all" | grep -qF 'kept-two.example'; then
        pass "forged: fields of other authserv-ids (other.example, mx.test.evil.example) are kept"
    else
        fail "forged: fields of other authserv-ids are kept" "$(printf '%s' "$all" | tr '\n' ' ')"
    fi
    expect_log "forged: greyrep logs the removal" 'removed 5 Authentication-Results claiming mx\.test'
else
    fail "forged Authentication-Results: message delivered" "no file with X-Test-Id: forged"
fi

# forged_file ID FILE: deliver FILE (to the whitelisted recipient) from $GOOD
forged_file() {
    log_mark "$GLOG"
    SMTP_LOG=$ROOT/swaks/raw.$1.txt
    printf 'EHLO client.example.org\nXCLIENT ADDR=%s NAME=relay.good.chk.test\nEHLO client.example.org\nMAIL FROM:<forger@nospf.chk.test>\nRCPT TO:<%s>\nDATA @%s\nQUIT\n' \
        $GOOD "$WL" "$2" | ck_raw "$PF_PORT" "$SMTP_LOG"
    smtp_parse "$SMTP_LOG"
}
# folded and versioned forms of the authserv-id
cat >"$ROOT/forged-forms.eml" <<'MSG'
X-Test-Id: forged-forms
From: forger@nospf.chk.test
Subject: forged fields, folded and versioned
Authentication-Results:
 mx.test;
	dkim=pass header.d=forged-folded.example
Authentication-Results: mx.test 1; spf=pass smtp.mailfrom=forged-versioned@example.org
Authentication-Results: other.example 1; spf=pass smtp.mailfrom=kept-three@example.org

body
MSG
forged_file forged-forms "$ROOT/forged-forms.eml"
if f=$(delivered forged-forms); then
    all=$(ck_fields "$f" Authentication-Results)
    if printf '%s' "$all" | grep -q 'forged-'; then
        fail "forged fields: a folded one and one with an authres-version are removed" "$(printf '%s' "$all" | grep forged- | tr '\n' ' ')"
    elif ! printf '%s' "$all" | grep -q 'kept-three@example.org'; then
        fail "forged fields: a folded one and one with an authres-version are removed" "the other.example field went too"
    else
        pass "forged fields: a folded one and one with an authres-version are removed (other.example kept)"
    fi
else
    fail "forged fields, folded and versioned: message delivered" "DATA '$SMTP_DATA'"
fi
# more forged fields than greyrep keeps track of (it remembers 64)
{ printf 'X-Test-Id: forged-70\nFrom: forger@nospf.chk.test\nSubject: seventy forged fields\n'
  for i in $(seq 1 70); do
      printf 'Authentication-Results: mx.test; spf=pass smtp.mailfrom=forged-%s@example.org\n' "$i"
  done
  printf '\nbody\n'; } >"$ROOT/forged-70.eml"
forged_file forged-70 "$ROOT/forged-70.eml"
if f=$(delivered forged-70); then
    left=$(ck_fields "$f" Authentication-Results | grep -c 'forged-')
    if [ "$left" = 0 ] && [ "$(ck_ar "$f" | grep -c .)" = 1 ]; then
        pass "70 forged fields claiming mx.test: all removed, only greyrep's own remains"
    else
        fail "70 forged fields claiming mx.test: all removed" \
            "$left forged fields delivered ($(ck_fields "$f" Authentication-Results | grep -o 'forged-[0-9]*' | head -3 | tr '\n' ' ')...)"
    fi
else
    fail "70 forged fields: message delivered" "DATA '$SMTP_DATA'"
fi

# --- DNS trouble, on_error = accept: greylisting decides as usual ---
timed dns-servfail 198.18.0.5 '[UNAVAILABLE]' jack@x.servfail.test rcpt-servfail@rig.test
T_SERVFAIL=$(now)
expect "SERVFAIL everywhere, on_error accept: greylisted as usual" 451
expect_wait "SERVFAIL everywhere: the normal delay" 1 $DELAY
expect_log "SERVFAIL everywhere: logged with the note 'DNS lookups failed, checks skipped'" \
    'to=<rcpt-servfail@rig.test>: tempfail \(greylisted: new triplet, [0-9]+ seconds to wait \(note: DNS lookups failed, checks skipped\)\)'
within "SERVFAIL everywhere" $((DNS_TIMEOUT + 1))
timed dns-timeout 198.18.1.5 '[UNAVAILABLE]' kate@x.timeout.test rcpt-timeout@rig.test
expect "blackholed (no answer at all), on_error accept: greylisted as usual" 451
expect_wait "blackholed: the normal delay" 1 $DELAY
expect_log "blackholed: logged with the note 'DNS lookups failed'" \
    'to=<rcpt-timeout@rig.test>: tempfail \(greylisted: .*note: DNS lookups failed'
within "blackholed ([dns] timeout $DNS_TIMEOUT s)" $((DNS_TIMEOUT + 1))
if [ -n "${G2:-}" ]; then
    timed dns-down $GOOD relay.good.chk.test lena@spfok.chk.test rcpt-down@rig.test "$PORT2"
    T_DOWN=$(now)
    expect "DNS server down (port $DEAD_PORT closed), on_error accept: greylisted as usual" 451
    expect_wait "DNS server down: the normal delay" 1 $DELAY
    expect_log "DNS server down: logged with the note 'DNS lookups failed'" \
        'to=<rcpt-down@rig.test>: tempfail \(greylisted: .*note: DNS lookups failed' "$GLOG2"
    within "DNS server down" $((DNS_TIMEOUT + 1))
fi

# ======================================================================
# Phase B: retries after the delay
# ======================================================================
last=$T_SERVFAIL
[ -n "${T_DOWN:-}" ] && last=$T_DOWN
w=$(awk -v t="$last" -v n="$(now)" -v d=$DELAY 'BEGIN { w = t + d + 1.2 - n; if (w < 0) w = 0; printf "%.1f", w }')
note "waiting ${w}s for the ${DELAY}s delay to pass"
sleep "$w"

send pool-retry 203.0.113.10 mta2.spfok.chk.test alice@spfok.chk.test pool@rig.test
expect "SPF pass: the retry from another /24 of the SPF-authorised pool (203.0.113.10), sender in lower case, passes" 250 250
expect_ar "SPF pass retry: Authentication-Results iprev=pass + spf=pass smtp.mailfrom" pool-retry \
    "iprev=pass (mta2.spfok.chk.test) policy.iprev=203.0.113.10" "spf=pass smtp.mailfrom=alice@spfok.chk.test" "dkim=none"
if printf '%s' "$AR" | grep -qE '^Authentication-Results: mx\.test;'; then
    pass "Authentication-Results starts with the authserv-id 'mx.test;'"
else
    fail "Authentication-Results starts with the authserv-id 'mx.test;'" "$AR"
fi
if f=$(delivered pool-retry) && header_xg=$(ck_fields "$f" X-Greylist) &&
    printf '%s' "$header_xg" | grep -qE '^X-Greylist: delayed [0-9]+ seconds by greyrep-'; then
    pass "SPF pass retry: X-Greylist says it was delayed"
else
    fail "SPF pass retry: X-Greylist says it was delayed" "${header_xg:-none}"
fi
ctl greylist list
if printf '%s\n' "$CTL_OUT" | grep -F 'pool@rig.test' | grep -F 'alice@spfok.chk.test' | grep -qF 'spf:spfok.chk.test'; then
    pass "greyrepctl greylist list: the triplet is keyed on spf:spfok.chk.test"
else
    fail "greyrepctl greylist list: the triplet is keyed on spf:spfok.chk.test" \
        "$(printf '%s\n' "$CTL_OUT" | grep -F 'pool@rig.test')"
fi
send pool-other 198.51.100.10 mta1.spfok.chk.test alice@spfok.chk.test pool@rig.test
expect "SPF pass: the pool's first address passes too, now" 250 250
send pool-forger $GOOD relay.good.chk.test alice@spfok.chk.test pool@rig.test
expect "SPF fail: a client outside the pool does not inherit the pass" 451
expect_wait "SPF fail (outside the pool): suspicious_delay" $((SUSP - 10)) $SUSP

if [ "$V6_OK" = 1 ]; then
    send v6-retry-v4 192.0.2.10 mail.example.test v6@example.test rcpt-v6@rig.test
    expect "SPF pass: a triplet started over IPv6 (2001:db8::10) passes on a retry over IPv4 (192.0.2.10)" 250 250
fi
send spf-fail-retry $GOOD relay.good.chk.test bob@strict.chk.test rcpt-spf-fail@rig.test
expect "SPF fail: a retry after the normal delay is still greylisted" 451
e=$(awk -v t="$T_SPF_FAIL" -v n="$(now)" 'BEGIN { printf "%d", n - t + 0.999 }')
expect_wait "SPF fail: the retry is told the time left of suspicious_delay ($e s after the first attempt)" \
    $((SUSP - e - 2)) $((SUSP - 1))
send softfail-retry $GOOD relay.good.chk.test carol@soft.chk.test rcpt-spf-softfail@rig.test
expect "SPF softfail: the retry after the normal delay passes" 250 250
send iprev-fail-retry 198.51.100.12 liar.chk.test iprev-fail@nospf.chk.test rcpt-iprev-fail@rig.test
expect "iprev fail: a retry after the normal delay is still greylisted" 451
send servfail-retry 198.18.0.5 '[UNAVAILABLE]' jack@x.servfail.test rcpt-servfail@rig.test
expect "SERVFAIL everywhere, on_error accept: the retry after the normal delay passes" 250 250
if [ -n "${G2:-}" ]; then
    smtp_port=$PF_PORT; PF_PORT=$PORT2
    send down-retry $GOOD relay.good.chk.test lena@spfok.chk.test rcpt-down@rig.test
    PF_PORT=$smtp_port
    expect "DNS server down, on_error accept: the retry after the normal delay passes" 250 250
fi

# ======================================================================
# Phase C: other actions, by SIGUSR1 reloads
# ======================================================================
CK_DNS=$CK_DNS CK_SPF_FAIL=tempfail ck_conf "$CONF"
reloaded "[spf] fail_action = tempfail"
send spf-tempfail $GOOD relay.good.chk.test mike@strict.chk.test rcpt-spf-tempfail@rig.test
expect "SPF fail, fail_action = tempfail: 451" 451
r=$(ck_rcpt_reply)
if printf '%s' "$r" | grep -qE '^451 4\.7\.1 .*SPF'; then
    pass "SPF fail, fail_action = tempfail: the reply mentions SPF ('$r')"
else
    fail "SPF fail, fail_action = tempfail: the reply mentions SPF" "got '$r'"
fi
expect_log "SPF fail, fail_action = tempfail: logged with reason spf-fail" 'to=<rcpt-spf-tempfail@rig.test>: tempfail \(spf-fail: SPF fail for strict\.chk\.test\)'

CK_DNS=$CK_DNS CK_SPF_FAIL=reject CK_DNSBL_ACTION=reject ck_conf "$CONF"
reloaded "fail_action = reject, [dnsbl] action = reject"
send spf-reject $GOOD relay.good.chk.test nora@strict.chk.test "rcpt-spf-reject@rig.test,$WL"
expect "SPF fail, fail_action = reject: 550, whitelisted recipient still 250" "550 250" 250
r=$(ck_rcpt_reply)
if [ "$r" = "550 5.7.1 Rejected: SPF does not allow this client" ]; then
    pass "SPF fail, fail_action = reject: '550 5.7.1 Rejected: SPF does not allow this client'"
else
    fail "SPF fail, fail_action = reject: 550 5.7.1 reply" "got '$r'"
fi
send dnsbl-reject 198.51.100.30 listed.blk.chk.test olga@nospf.chk.test rcpt-dnsbl-reject@rig.test
expect "DNSBL score 5, action = reject: 550" 550
r=$(ck_rcpt_reply)
if [ "$r" = "550 5.7.1 Rejected: client is listed in DNS block lists" ]; then
    pass "DNSBL reject: '550 5.7.1 Rejected: client is listed in DNS block lists'"
else
    fail "DNSBL reject: 550 5.7.1 reply" "got '$r'"
fi
send dnsbl-light-reject 198.51.100.31 light.blk.chk.test paul@nospf.chk.test rcpt-light-reject@rig.test
expect "DNSBL score 1 < threshold, action = reject: only greylisted" 451

CK_DNS=$CK_DNS CK_ON_ERROR=tempfail ck_conf "$CONF"
reloaded "on_error = tempfail"
timed servfail-tempfail 198.18.0.5 '[UNAVAILABLE]' quinn@x.servfail.test rcpt-servfail-tf@rig.test
expect "SERVFAIL everywhere, on_error = tempfail: 451" 451
r=$(ck_rcpt_reply)
if [ "${r:0:9}" = "451 4.3.0" ]; then pass "SERVFAIL everywhere, on_error = tempfail: 451 4.3.0 ('$r')"; else fail "SERVFAIL, on_error = tempfail: 451 4.3.0" "got '$r'"; fi
timed timeout-tempfail 198.18.1.5 '[UNAVAILABLE]' rose@x.timeout.test rcpt-timeout-tf@rig.test
r=$(ck_rcpt_reply)
if [ "${r:0:9}" = "451 4.3.0" ]; then pass "blackholed, on_error = tempfail: 451 4.3.0 ('$r')"; else fail "blackholed, on_error = tempfail: 451 4.3.0" "got '$r'"; fi
within "blackholed, on_error = tempfail" $((DNS_TIMEOUT + 1))
send servfail-passed-tf 198.18.0.5 '[UNAVAILABLE]' jack@x.servfail.test rcpt-servfail@rig.test
r=$(ck_rcpt_reply)
if [ "${r:0:9}" = "451 4.3.0" ]; then
    pass "SERVFAIL everywhere, on_error = tempfail: a passed triplet gets 451 4.3.0 too"
else
    fail "SERVFAIL everywhere, on_error = tempfail: a passed triplet gets 451 4.3.0 too" "got '$r'"
fi
send one-temperror-tf $GOOD relay.good.chk.test sam@y.servfail.test rcpt-one-temperror@rig.test
expect_wait "on_error = tempfail: one check in temperror (SPF) while iprev/DNSBL answer: just greylisted" 1 $DELAY
CK_DNS=$CK_DNS CK_DNS_TIMEOUT=500ms ck_conf "$CONF"
reloaded "[dns] timeout = 500ms"
timed timeout-500ms 198.18.1.5 '[UNAVAILABLE]' uwe@x.timeout.test rcpt-timeout-500@rig.test
expect "blackholed, [dns] timeout reloaded to 500ms: 451" 451
within "blackholed, [dns] timeout reloaded to 500ms" 1.5
CK_DNS=$CK_DNS CK_DNSBL_ZONES="yourbl.test=5 lightbl.test=5" ck_conf "$CONF"
reloaded "[dnsbl] zones = yourbl.test=5 lightbl.test=5"
send dnsbl-reloaded 198.51.100.31 light.blk.chk.test xena@nospf.chk.test rcpt-light-reloaded@rig.test
r=$(ck_rcpt_reply)
if printf '%s' "$r" | grep -qE '^451 4\.7\.1 .*[Bb]lock list'; then
    pass "after the reload, lightbl.test weighs 5: 198.51.100.31 is refused ('$r')"
else
    fail "after the reload, lightbl.test weighs 5: 198.51.100.31 is refused" "got '$r'"
fi
if [ -n "${G2:-}" ]; then
    CK_ON_ERROR=tempfail conf2
    reload "$G2" "$GLOG2" || fail "SIGUSR1 reload of greyrep #2" "no 'configuration reloaded' line"
    timed down-tempfail $GOOD relay.good.chk.test tom@spfok.chk.test rcpt-down-tf@rig.test "$PORT2"
    r=$(ck_rcpt_reply)
    if [ "${r:0:9}" = "451 4.3.0" ]; then
        pass "DNS server down, on_error = tempfail: 451 4.3.0"
    else
        fail "DNS server down, on_error = tempfail: 451 4.3.0" "got '$r'"
    fi
    within "DNS server down, on_error = tempfail" $((DNS_TIMEOUT + 1))
fi

# ======================================================================
# Phase D: a burst of 20 blackholed sessions: bounded time, threads freed
# ======================================================================
CK_DNS=$CK_DNS ck_conf "$CONF"
reload "$G1" "$GLOG" || fail "SIGUSR1 reload (defaults again)" "no 'configuration reloaded' line"
sleep 0.5
T_BEFORE=$(threads "$G1")
mkdir -p "$ROOT/burst"
t0=$(now)
pids=()
for i in $(seq 1 20); do
    printf 'EHLO client.example.org\nXCLIENT ADDR=198.18.1.5 NAME=[UNAVAILABLE]\nEHLO client.example.org\nMAIL FROM:<burst%s@x.timeout.test>\nRCPT TO:<burst%s@rig.test>\nQUIT\n' \
        "$i" "$i" | ck_raw "$PF_PORT" "$ROOT/burst/$i.txt" &
    pids+=($!)
done
# clients that vanish: mid-message with a DKIM key lookup pending (its key
# never answers), and while greyrep waits for the RCPT lookups
for i in 1 2 3; do
    printf 'EHLO client.example.org\nXCLIENT ADDR=%s NAME=relay.good.chk.test\nEHLO client.example.org\nMAIL FROM:<v%s@dkim.chk.test>\nRCPT TO:<%s>\nABORT @%s\n' \
        $GOOD "$i" "$WL" "$ROOT/rsa2048.dk.timeout.test.eml" | ck_raw "$PF_PORT" "$ROOT/burst/abort-$i.txt" &
    pids+=($!)
    ( exec 3<>"/dev/tcp/127.0.0.1/$PF_PORT" &&
      printf 'EHLO client.example.org\r\nXCLIENT ADDR=198.18.1.5 NAME=[UNAVAILABLE]\r\nEHLO client.example.org\r\nMAIL FROM:<w%s@x.timeout.test>\r\nRCPT TO:<vanish-%s@rig.test>\r\n' "$i" "$i" >&3 &&
      sleep 0.7 ) 2>/dev/null &
    pids+=($!)
done
PEAK=0
for i in 1 2 3 4 5; do
    sleep 0.1
    n=$(threads "$G1"); [ "${n:-0}" -gt "$PEAK" ] && PEAK=$n
done
# a reload while all of them wait on the DNS
log_mark "$GLOG"
kill -USR1 "$G1"
log_wait_since "$GLOG" 'configuration reloaded' 5 || fail "burst: SIGUSR1 during the burst" "no 'configuration reloaded' line"
# meanwhile: a client whose DNS answers is judged on real answers
send burst-probe $GOOD relay.good.chk.test probe@nospf.chk.test "$WL"
PROBE_SECS=$CK_SECS
for p in "${pids[@]}"; do wait "$p"; done
BURST_SECS=$(elapsed "$t0")
n451=0; maxs=0
for i in $(seq 1 20); do
    SMTP_LOG=$ROOT/burst/$i.txt
    [ "$(ck_rcpt_reply | cut -c1-3)" = 451 ] && n451=$((n451 + 1))
    s=$(ck_raw_span "$SMTP_LOG" MAIL RCPT)
    maxs=$(awk -v a="$maxs" -v b="${s:-99}" 'BEGIN { print (b > a) ? b : a }')
done
if kill -0 "$G1" 2>/dev/null; then
    pass "burst: greyrep survived 20 blackholed sessions, 6 vanishing clients (3 with a DKIM lookup pending) and a reload"
else
    fail "burst: greyrep survived the burst" "it exited"; indent "$GLOG"
fi
if [ "$n451" = 20 ]; then
    pass "burst: 20 parallel blackholed sessions all answered 451"
else
    fail "burst: 20 parallel blackholed sessions all answered 451" "$n451 of 20"
fi
if ck_le "$maxs" $((DNS_TIMEOUT + 1)); then
    pass "burst: every session had its verdict within $maxs s of MAIL FROM (<= [dns] timeout + 1 s; whole burst $BURST_SECS s)"
else
    fail "burst: every session's verdict within [dns] timeout + 1 s of MAIL FROM" "slowest $maxs s (whole burst $BURST_SECS s)"
fi
if f=$(delivered burst-probe) && ck_ar "$f" | grep -qF "iprev=pass (relay.good.chk.test)"; then
    pass "burst: a client with working DNS, meanwhile, got real answers (iprev=pass) in $PROBE_SECS s"
else
    fail "burst: a client with working DNS, meanwhile, got real answers" "$(ck_ar "${f:-/dev/null}") ($PROBE_SECS s)"
fi
settle() { [ "$(threads "$G1")" -le $((T_BEFORE + 2)) ]; }
if wait_for 15 settle; then
    pass "burst: greyrep's threads back to $(threads "$G1") (before: $T_BEFORE, during: $PEAK)"
else
    fail "burst: greyrep's threads back to normal" "before $T_BEFORE, during $PEAK, 15 s after: $(threads "$G1")"
fi
timed after-burst $GOOD relay.good.chk.test after@nospf.chk.test rcpt-after@rig.test
expect_wait "after the burst: a new session is greylisted as usual" 1 $DELAY
within "after the burst: a new session with working DNS is answered at once" 1

# ======================================================================
# Phase E: greyrepctl check
# ======================================================================
# ctl_check NAME CONF WANT-RC REGEX... : run check, want exit WANT-RC and
# every REGEX among the reason lines
ctl_check() {
    local name=$1 conf=$2 want=$3 re miss=""; shift 3
    local args=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=("$1"); shift; done
    shift
    CTL_OUT=$("$GREYREPCTL" -c "$conf" check "${args[@]}" 2>&1 </dev/null)
    CTL_RC=$?
    for re in "$@"; do
        printf '%s\n' "$CTL_OUT" | grep -qE -- "$re" || miss="$miss /$re/"
    done
    if [ "$CTL_RC" = "$want" ] && [ -z "$miss" ]; then
        pass "$name (exit $CTL_RC)"
    else
        fail "$name" "exit $CTL_RC (want $want), missing:${miss:- nothing}"
        printf '%s\n' "$CTL_OUT" | sed 's/^/  | /'
    fi
}
CK_DNS=$CK_DNS ck_conf "$CONF"
reload "$G1" "$GLOG" || true
CTLCONF_REJ=$ROOT/ctl-reject.conf
CK_DNS=$CK_DNS CK_SPF_FAIL=reject CK_DNSBL_ACTION=reject ck_conf "$CTLCONF_REJ"
ctl_check "greyrepctl check: SPF pass + iprev pass, new triplet: tempfail" "$CONF" 3 \
    --ip 198.51.100.10 --from zed@spfok.chk.test --rcpt new@rig.test -- \
    '^verdict	tempfail$' '^reason	iprev: pass \(mta1\.spfok\.chk\.test\)$' '^reason	spf: pass for spfok\.chk\.test$' \
    '^reason	dnsbl: score 0$' "^reason	triplet spf:spfok\.chk\.test zed@spfok\.chk\.test new@rig\.test: new triplet, $DELAY seconds to wait$"
ctl_check "greyrepctl check: the passed SPF-keyed triplet, from another pool address: accept" "$CONF" 0 \
    --ip 203.0.113.10 --from alice@spfok.chk.test --rcpt pool@rig.test -- \
    '^verdict	accept$' '^reason	spf: pass for spfok\.chk\.test$' '^reason	triplet spf:spfok\.chk\.test alice@spfok\.chk\.test pool@rig\.test: known triplet'
ctl_check "greyrepctl check: iprev fail + no SPF: suspicious" "$CONF" 3 \
    --ip 198.51.100.12 --from x@nospf.chk.test --rcpt new@rig.test -- \
    '^reason	iprev: fail$' '^reason	spf: none for nospf\.chk\.test$' "$SUSP seconds to wait \(suspicious: iprev fail\)"
ctl_check "greyrepctl check: generic name" "$CONF" 3 \
    --ip 198.51.100.20 --from x@nospf.chk.test --rcpt new@rig.test -- \
    '^reason	iprev: 198-51-100-20\.dyn\.chk\.test looks generic/dynamic$' 'suspicious: generic host name'
ctl_check "greyrepctl check: DNSBL at threshold, action tempfail" "$CONF" 3 \
    --ip 198.51.100.30 --from x@nospf.chk.test --rcpt new@rig.test -- \
    '^reason	dnsbl: score 5 \(yourbl\.test=127\.0\.0\.2\)$' '^reason	verdict: DNSBL score 5 >= 5'
ctl_check "greyrepctl check: a block list answering 127.0.0.1 does not list" "$CONF" 3 \
    --ip 198.51.100.32 --from x@nospf.chk.test --rcpt new@rig.test -- '^reason	dnsbl: score 0$'
ctl_check "greyrepctl check: a block list answering 127.255.255.254 does not list" "$CONF" 3 \
    --ip 198.51.100.33 --from x@nospf.chk.test --rcpt new@rig.test -- '^reason	dnsbl: score 0$'
ctl_check "greyrepctl check: DNSBL at threshold, action reject" "$CTLCONF_REJ" 4 \
    --ip 198.51.100.30 --from x@nospf.chk.test --rcpt new@rig.test -- \
    '^verdict	reject$' '^reason	dnsbl: score 5 \(yourbl\.test=127\.0\.0\.2\)$'
ctl_check "greyrepctl check: SPF fail, fail_action reject" "$CTLCONF_REJ" 4 \
    --ip $GOOD --from x@strict.chk.test --rcpt new@rig.test -- \
    '^verdict	reject$' '^reason	spf: fail for strict\.chk\.test$' '^reason	verdict: SPF fail for strict\.chk\.test$'
ctl_check "greyrepctl check: SPF fail, fail_action greylist: suspicious" "$CONF" 3 \
    --ip $GOOD --from x@strict.chk.test --rcpt new@rig.test -- \
    '^reason	spf: fail for strict\.chk\.test$' "$SUSP seconds to wait \(suspicious: SPF fail\)"
ctl_check "greyrepctl check: null sender, SPF on the HELO name" "$CONF" 3 \
    --ip $GOOD --from '<>' --helo helo.chk.test --rcpt new@rig.test -- \
    '^reason	spf: pass for helo\.chk\.test \(HELO identity\)$' '^reason	triplet 198\.51\.100\.0/24 <> new@rig\.test'
ctl_check "greyrepctl check: whitelisted recipient: accept" "$CONF" 0 \
    --ip 198.51.100.13 --from x@nospf.chk.test --rcpt "$WL" -- \
    '^verdict	accept$' '^reason	iprev: permerror$' '^reason	whitelist: '
t0=$(now)
ctl_check "greyrepctl check: blackholed DNS: note, normal delay" "$CONF" 3 \
    --ip 198.18.1.5 --from x@x.timeout.test --rcpt new@rig.test -- \
    '^reason	iprev: temperror$' '^reason	spf: temperror for x\.timeout\.test$' 'note: DNS lookups failed'
s=$(elapsed "$t0")
if ck_le "$s" $((DNS_TIMEOUT + 1)); then
    pass "greyrepctl check: blackholed DNS answered in $s s (<= [dns] timeout + 1 s)"
else
    fail "greyrepctl check: blackholed DNS within [dns] timeout + 1 s" "$s s"
fi
CTLCONF_TF=$ROOT/ctl-tempfail.conf
CK_DNS=$CK_DNS CK_ON_ERROR=tempfail ck_conf "$CTLCONF_TF"
ctl_check "greyrepctl check: SERVFAIL everywhere, on_error tempfail" "$CTLCONF_TF" 3 \
    --ip 198.18.0.5 --from x@x.servfail.test --rcpt new@rig.test -- \
    '^reason	verdict: every DNS lookup failed: on_error tempfail$'
CTL_OUT=$("$GREYREPCTL" -c "$CONF" check --json --ip 198.51.100.10 --from zed@spfok.chk.test --rcpt new@rig.test 2>&1)
CTL_RC=$?
if [ "$CTL_RC" = 3 ] && printf '%s' "$CTL_OUT" | grep -q '^{"verdict":"tempfail".*"iprev: pass (mta1.spfok.chk.test)".*"spf: pass for spfok.chk.test".*}$'; then
    pass "greyrepctl check --json: the reasons carry iprev and spf (exit 3)"
else
    fail "greyrepctl check --json" "exit $CTL_RC: $CTL_OUT"
fi
ctl greylist list
if printf '%s\n' "$CTL_OUT" | grep -qE 'zed@spfok|new@rig\.test'; then
    fail "greyrepctl check stays read-only" "$(printf '%s\n' "$CTL_OUT" | grep -E 'zed@spfok|new@rig\.test' | head -2)"
else
    pass "greyrepctl check stays read-only"
fi

# ======================================================================
# The end: no fallbacks, no crashes
# ======================================================================
if grep -qE 'warning: .*(Milter service|milter unix:)' "$PF_DIR/maillog"; then
    fail "postfix reached greyrep for every session" "$(grep -E 'warning: .*(Milter service|milter unix:)' "$PF_DIR/maillog" | head -2)"
else
    pass "postfix reached greyrep for every session (no milter warnings)"
fi
for p in "$G1" ${G2:+"$G2"}; do
    if kill -0 "$p" 2>/dev/null; then pass "greyrep pid $p still running"; else fail "greyrep pid $p still running" "it exited"; fi
done
for l in "$GLOG" "$GLOG2"; do
    [ -f "$l" ] || continue
    if grep -qE 'runtime error|AddressSanitizer|LeakSanitizer|panic:' "$l"; then
        fail "$(basename "$l"): no sanitizer report or panic" "$(grep -m1 -E 'runtime error|AddressSanitizer|LeakSanitizer|panic:' "$l")"
    else
        pass "$(basename "$l"): no sanitizer report or panic"
    fi
done

t_exit
