#!/bin/bash
# tests/integration/hostile.sh - malformed and odd input straight through
# the milter protocol (no MTA in between, so nothing is cleaned up first).
#
# Uses tests/bench/mtclient, a scripted milter-protocol client:
#   mtclient -s SOCKET SCRIPT     (one command a line; see tests/bench)
# For every case: greyrep gives a defined answer (tempfail for a greylisted
# triplet, or continue), is still alive and answers a normal message
# afterwards, and - for input that is really malformed - logs a "warning:".
#
#   GREYREP_BUILD=DIR   use DIR/src/greyrep and DIR/tests/bench/mtclient
#   MTCLIENT=PATH       use this mtclient
#   KEEP=1              keep the temporary root
set -u
T_NAME=hostile
. "$(dirname "$0")/../lib.sh"

need_greyrep
need_cmd "hostile: environment" perl
MTCLIENT=${MTCLIENT:-}
if [ -z "$MTCLIENT" ]; then
    for c in "$GREYREP_BUILD/tests/bench/mtclient" "$GREYREP_SRC/tests/bench/mtclient"; do
        [ -x "$c" ] && { MTCLIENT=$c; break; }
    done
fi
if [ -z "$MTCLIENT" ] && [ -f "$GREYREP_BUILD/Makefile" ]; then
    make -C "$GREYREP_BUILD" tests/bench/mtclient >/dev/null 2>&1 &&
        MTCLIENT=$GREYREP_BUILD/tests/bench/mtclient
fi
if [ -z "$MTCLIENT" ] || [ ! -x "$MTCLIENT" ]; then
    fail "hostile: mtclient" "tests/bench/mtclient not built (looked in $GREYREP_BUILD and $GREYREP_SRC)"
    t_exit
fi
t_root

export GR_DELAY=5m
printf '192.0.2.50\n' >"$ROOT/whitelist_clients"
printf 'postmaster@\n' >"$ROOT/whitelist_recipients"
gr_conf "$ROOT/greyrep.conf" || { fail "hostile: config" "cannot write the test config"; t_exit; }
if ! gr_start "$GR_CONF" "$GR_SOCKET" "$ROOT/greyrep.log"; then
    fail "hostile: greyrep starts" "see $ROOT/greyrep.log"
    t_exit
fi
note "greyrep pid $GR_PID on $GR_SOCKET, mtclient $MTCLIENT"

N=0
# mt FILE: run mtclient on a script file; MT_RC, MT_OUT
mt() {
    MT_OUT=$(timeout 30 "$MTCLIENT" -s "$GR_SOCKET" "$1" 2>&1 </dev/null)
    MT_RC=$?
}
# reply STAGE: the reply line mtclient printed for STAGE (the last one)
reply() { printf '%s\n' "$MT_OUT" | grep -E "^$1: " | tail -1; }
is_tempfail() { printf '%s' "$1" | grep -qE '^[a-z]+: (tempfail|replycode)?.*\b4[0-9][0-9]\b|^[a-z]+: tempfail'; }
is_defined() { printf '%s' "$1" | grep -qE '^[a-z]+: (continue|accept|tempfail|replycode|reject|discard)\b'; }

# normal_ok: greyrep alive and greylists a fresh, well-formed triplet
normal_ok() {
    N=$((N + 1))
    cat >"$ROOT/normal.mt" <<EOF
connect client.example.org 192.0.2.200 40000
helo client.example.org
mail <normal@example.org>
rcpt <normal-$N@rig.test>
abort
quit
EOF
    gr_alive || { WHY="greyrep is not running"; return 1; }
    mt "$ROOT/normal.mt"
    local r; r=$(reply rcpt)
    if [ "$MT_RC" = 0 ] && is_tempfail "$r"; then return 0; fi
    WHY="normal message: rc $MT_RC, rcpt reply '$r'"
    return 1
}

# hcase NAME STAGE WANT WARN SCRIPT-TEXT
#   STAGE: the stage whose reply is judged (connect, helo, mail, rcpt, eom)
#   WANT : tempfail | continue | defined (continue/tempfail/accept)
#          closed-ok: as defined, or libmilter itself closing the
#          connection at connect (it does for an address it cannot parse,
#          before greyrep is called; Postfix then applies its default action).
#          greyrep negotiates no reply at connect (NR_CONN), so the client
#          may only see the close at the next step it waits on.
#   WARN : yes (a "warning:" must be logged) | no (not required) |
#          re:REGEX (a line matching REGEX must be logged)
hcase() {
    local name=$1 stage=$2 want=$3 warn=$4 text=$5 f r ok=1 why=""
    N=$((N + 1))
    f=$ROOT/case-$N.mt
    printf '%s\n' "$text" >"$f"
    log_mark "$GR_LOG"
    mt "$f"
    r=$(reply "$stage")
    if [ "$want" = closed-ok ] && [ "$MT_RC" = 1 ] &&
        printf '%s\n' "$MT_OUT" | grep -qE '(connect|helo|mail|rcpt): connection (closed|reset) by milter'; then
        r="connection closed by libmilter at connect"; want=closed
    elif [ "$MT_RC" != 0 ]; then
        ok=0; why="mtclient exit $MT_RC"
    fi
    case $want in
        tempfail) is_tempfail "$r" || { ok=0; why="$why; $stage reply '$r', want tempfail"; } ;;
        continue) printf '%s' "$r" | grep -qE "^$stage: continue" || { ok=0; why="$why; $stage reply '$r', want continue"; } ;;
        defined|closed-ok) { is_defined "$r" && ! printf '%s' "$r" | grep -qE ': (reject|discard)'; } ||
            { ok=0; why="$why; $stage reply '$r', want continue or tempfail"; } ;;
    esac
    if [ $ok = 1 ]; then
        pass "$name: defined answer ($r)"
    else
        fail "$name: defined answer" "${why#; }"
        printf '%s\n' "$MT_OUT" | tail -n 8 | sed 's/^/  | /'
    fi
    if normal_ok; then
        pass "$name: greyrep still answers a normal message"
    else
        fail "$name: greyrep still answers a normal message" "$WHY"
        indent "$GR_LOG" 10
        if ! gr_alive; then
            # keep going with the other cases: restart it
            gr_start "$GR_CONF" "$GR_SOCKET" "$ROOT/greyrep.log" || { fail "hostile: restart greyrep" "failed"; t_exit; }
        fi
    fi
    if [ "$warn" != no ]; then
        local re='warning:'
        case $warn in re:*) re=${warn#re:} ;; esac
        # the line may come from the case or from its close
        if log_wait_since "$GR_LOG" "$re" 2; then
            pass "$name: logged it ($(log_since "$GR_LOG" | grep -m1 -E "$re" | sed 's/^[^ ]* //' | cut -c1-120))"
        else
            fail "$name: logged it" "no line matching /$re/ in greyrep's log"
            log_since "$GR_LOG" | tail -n 5 | sed 's/^/  | /'
        fi
    fi
}

PRE='connect client.example.org 192.0.2.10 40000
helo client.example.org'
big='{A*8192}'

hcase "8 KB sender" rcpt tempfail yes "$PRE
mail <$big@example.org>
rcpt <u1@rig.test>
abort
quit"
hcase "8 KB recipient" rcpt tempfail yes "$PRE
mail <s@example.org>
rcpt <$big@rig.test>
abort
quit"
hcase "8 KB recipient domain" rcpt tempfail yes "$PRE
mail <s@example.org>
rcpt <u@{d*8192}.rig.test>
abort
quit"
hcase "NUL byte inside the sender" rcpt defined yes "$PRE
mail <se\\x00nder@example.org>
rcpt <u2@rig.test>
abort
quit"
hcase "NUL byte inside the recipient" rcpt defined yes "$PRE
mail <s@example.org>
rcpt <u\\x00ser@rig.test>
abort
quit"
hcase "control bytes (\\n) inside the recipient" rcpt defined yes "$PRE
mail <s@example.org>
rcpt <us\\ner@rig.test>
abort
quit"
hcase "unbalanced sender <a@b" rcpt defined yes "$PRE
mail <a@example.org
rcpt <u3@rig.test>
abort
quit"
hcase "unbalanced recipient a@b>" rcpt defined yes "$PRE
mail <s@example.org>
rcpt u4@rig.test>
abort
quit"
hcase "recipient <<>>" rcpt defined yes "$PRE
mail <s@example.org>
rcpt <<>>
abort
quit"
hcase "sender <<>>" rcpt defined yes "$PRE
mail <<>>
rcpt <u5@rig.test>
abort
quit"
hcase "empty recipient <>" rcpt defined yes "$PRE
mail <s@example.org>
rcpt <>
abort
quit"
hcase "empty HELO" rcpt tempfail yes "connect client.example.org 192.0.2.11 40000
helo
mail <s@example.org>
rcpt <u6@rig.test>
abort
quit"
hcase "8 KB HELO" rcpt tempfail yes "connect client.example.org 192.0.2.12 40000
helo {h*8192}
mail <s@example.org>
rcpt <u7@rig.test>
abort
quit"
hcase "IPv6 literal recipient <user@[IPv6:2001:db8::1]>" rcpt tempfail no "$PRE
mail <s@example.org>
rcpt <user@[IPv6:2001:db8::1]>
abort
quit"
hcase "quoted local part \"a b\"@example.com" rcpt tempfail no "$PRE
mail \"<\\\"a b\\\"@example.com>\"
rcpt \"<\\\"c d\\\"@rig.test>\"
abort
quit"
hcase "8-bit bytes in sender and recipient" rcpt tempfail no "$PRE
mail <j$(printf '\303\244')ger@example.org>
rcpt <m$(printf '\374')ller@rig.test>
abort
quit"
hcase "null sender <>" rcpt tempfail no "$PRE
mail <>
rcpt <u8@rig.test>
abort
quit"
hcase "ESMTP parameters after the sender" rcpt tempfail no "$PRE
mail <s@example.org> SIZE=1000 BODY=8BITMIME
rcpt <u9@rig.test> NOTIFY=NEVER
abort
quit"
hcase "connect with an unknown address family" rcpt defined 're:warning:|not an IP connection' "connect weird.example.org -
helo weird.example.org
mail <s@example.org>
rcpt <u10@rig.test>
abort
quit"
# two printable bytes, then escapes: the log rendering of the address
# (4 bytes an escape) reaches the end of its buffer exactly mid-escape;
# protofuzz found that greyrep then wrote past the buffer (stack smashing)
hcase "a malformed sender whose log rendering fills its buffer" rcpt defined no "$PRE
mail <a{\x01*60}@x.example>
rcpt <u19@rig.test>
abort
quit"
hcase "connect with an unparsable IPv4 address" rcpt closed-ok no "connect weird.example.org not-an-address 25
helo weird.example.org
mail <s@example.org>
rcpt <u11@rig.test>
abort
quit"
hcase "a full message after odd recipients" eom defined no "$PRE
mail <s@example.org>
rcpt <postmaster@rig.test>
rcpt <{B*2000}@rig.test>
header Subject {S*4000}
header X-Empty
eoh
body hello\\n
eom
quit"
hcase "connect from an IPv4-mapped IPv6 address" rcpt tempfail no "connect mapped.example.org ::ffff:192.0.2.13 40000
helo mapped.example.org
mail <s@example.org>
rcpt <u12@rig.test>
abort
quit"
hcase "connect from the unspecified address ::" rcpt defined no "connect zero.example.org :: 40000
helo zero.example.org
mail <s@example.org>
rcpt <u13@rig.test>
abort
quit"
hcase "digits in the sender (VERP-style bounce-1234@)" rcpt tempfail no "$PRE
mail <bounce-1234-user=example.net@example.org>
rcpt <u17@rig.test>
abort
quit"
hcase "abort, then a second transaction" rcpt tempfail no "$PRE
mail <s@example.org>
rcpt <u14@rig.test>
abort
mail <t@example.org>
rcpt <u15@rig.test>
abort
quit"
hcase "disconnect without quit" rcpt tempfail no "$PRE
mail <s@example.org>
rcpt <u16@rig.test>"

# --- raw bytes on the milter socket (not the milter protocol at all) ---
SOCK=${GR_SOCKET#unix:}
raw() {  # raw NAME PERL-EXPR-FOR-BYTES
    perl -MIO::Socket::UNIX -e '
        my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => $ARGV[0]) or exit 1;
        $SIG{PIPE} = "IGNORE";
        print $s eval $ARGV[1]; $s->flush; sleep 1; close $s; exit 0' "$SOCK" "$2"
    if normal_ok; then pass "raw: $1: greyrep still answers"; else fail "raw: $1: greyrep still answers" "$WHY"; fi
}
raw "garbage bytes" '"GET / HTTP/1.0\r\n\r\n" x 50'
raw "a 4 GB packet length" 'pack("N", 0xffffffff) . "O" . ("x" x 100)'
raw "a packet cut short" 'pack("N", 1000) . "O" . ("x" x 10)'
raw "a zero-length packet" 'pack("N", 0) x 10'

# --- many concurrent sessions ---
pids=()
for i in $(seq 1 20); do
    # letters only: the concurrency is under test here, not the sender
    printf '%s\nmail <conc-%s@example.org>\nrcpt <c@rig.test>\nabort\nquit\n' "$PRE" \
        "$(printf "\\$(printf %03o $((96 + i)))")" >"$ROOT/conc-$i.mt"
    timeout 30 "$MTCLIENT" -s "$GR_SOCKET" "$ROOT/conc-$i.mt" >"$ROOT/conc-$i.out" 2>&1 &
    pids+=($!)
done
wait "${pids[@]}"   # not a bare wait: greyrep is a child of this shell too
bad=0
WHY=""
for i in $(seq 1 20); do is_tempfail "$(grep '^rcpt: ' "$ROOT/conc-$i.out" | tail -1)" || bad=$((bad + 1)); done
if [ $bad = 0 ] && normal_ok; then
    pass "20 concurrent sessions all answered"
else
    fail "20 concurrent sessions all answered" "$bad without a tempfail answer${WHY:+; $WHY}"
fi

if grep -qE 'runtime error|AddressSanitizer|LeakSanitizer|panic:' "$GR_LOG"; then
    fail "greyrep log has no sanitizer report or panic" "$(grep -m1 -E 'runtime error|AddressSanitizer|LeakSanitizer|panic:' "$GR_LOG")"
else
    pass "greyrep log has no sanitizer report or panic"
fi
s=$(now)
if gr_stop "$GR_PID" 15 && [ "$GR_EXIT" = 0 ]; then
    pass "greyrep exits cleanly on SIGTERM after the hostile input ($(elapsed "$s") s)"
else
    fail "greyrep exits cleanly on SIGTERM after the hostile input" "exit status ${GR_EXIT:-?}"
fi
t_exit
