#!/bin/bash
# tests/integration/negotiate.sh - the milter protocol steps greyrep asks
# for (src/negotiate.h), per configuration, behind a real Postfix.
#
# For each configuration (greylisting only; SPF only; every check, DKIM
# included) greyrep runs with -d, and one private Postfix instance on
# loopback hands it a message that is greylisted, then retried and
# delivered.  Each case checks the flags greyrep logged for the
# connection, that Postfix got every answer (no milter fallback), the
# X-Greylist header added at end of message, and what became of a forged
# Authentication-Results claiming greyrep's authserv-id: removed in every
# configuration (the header stage is always asked for, unanswered), since
# a filter behind greyrep may trust that id even when greyrep writes none.  The DNS checks point at
# 127.0.0.1:1, where nothing answers: on_error = accept lets the message
# through.  tests/integration/sendmail.sh runs the greylisting-only
# configuration behind Sendmail.
#
# Run as root:   bash tests/integration/negotiate.sh
#   GREYREP_BUILD=DIR   use DIR/src/greyrep and DIR/src/greyrepctl
set -u
T_NAME=negotiate
. "$(dirname "$0")/../lib.sh"

need_root "negotiate: environment"
need_cmd "negotiate: environment" postfix swaks perl
need_greyrep
t_root

DELAY=1
port=$(free_port "${PF_PORT_BASE:-2587}") || { fail "negotiate: port" "no free port"; t_exit; }
GR_SOCKET=unix:$ROOT/greyrep.sock
pf_setup "$ROOT/postfix" "$port" "$GR_SOCKET" tempfail || { fail "negotiate: postfix setup" "postfix check failed"; t_exit; }
pf_start || { fail "negotiate: postfix start" "see $PF_DIR/maillog"; t_exit; }

FORGED='Authentication-Results: mx.test; spf=pass smtp.mailfrom=forged@example.org'

# run_case NAME CHECKS(on|off) EXTRA WANT-FLAGS NOT-FLAGS FORGED(removed|kept)
run_case() {
    local name=$1 checks=$2 extra=$3 want=$4 nots=$5 forged=$6 f line w
    export GR_CHECKS=$checks GR_EXTRA=$extra GR_DELAY=${DELAY}s GR_STORE=$ROOT/db-$name
    unset GR_NO_CHECKS
    gr_conf "$ROOT/greyrep-$name.conf" || { fail "$name: config" "cannot write it"; return; }
    sed -i 's/^\[milter\]$/[milter]\nauthserv_id = mx.test/' "$GR_CONF"
    if ! gr_start "$GR_CONF" "$GR_SOCKET" "$ROOT/greyrep-$name.log" -d; then
        fail "$name: greyrep starts" "see the log"
        return
    fi
    log_mark "$PF_DIR/maillog"
    smtp "$name-1" --xclient-addr 198.51.100.7 --xclient-name '[UNAVAILABLE]' \
        --from "sender-$name@example.org" --to "u-$name@rig.test"
    if [ "$SMTP_RCPT" = 451 ]; then
        pass "$name: first sight greylisted (RCPT 451)"
    else
        fail "$name: first sight greylisted" "RCPT '$SMTP_RCPT'"; smtp_show
    fi
    sleep $((DELAY + 1))
    smtp "$name-2" --xclient-addr 198.51.100.7 --xclient-name '[UNAVAILABLE]' \
        --from "sender-$name@example.org" --to "u-$name@rig.test" --add-header "$FORGED"
    if [ "$SMTP_RCPT" = 250 ] && [ "$SMTP_DATA" = 250 ]; then
        pass "$name: the retry is accepted (RCPT 250, DATA 250)"
    else
        fail "$name: the retry is accepted" "RCPT '$SMTP_RCPT' DATA '$SMTP_DATA'"; smtp_show
    fi
    if log_since "$PF_DIR/maillog" | grep -qE 'warning: .*([Mm]ilter|milter unix:)'; then
        fail "$name: Postfix got every milter answer" "$(log_since "$PF_DIR/maillog" | grep -m1 -E 'warning: .*ilter')"
    else
        pass "$name: Postfix got every milter answer (no protocol error, no fallback)"
    fi
    # what was agreed, without the "(MTA offered ...)" part
    line=$(grep -m1 'negotiated protocol steps:' "$GR_LOG" | sed 's/ (MTA offered.*//')
    local bad=""
    for w in $want; do printf '%s\n' "$line" | grep -qw -- "$w" || bad="$bad missing $w"; done
    for w in $nots; do printf '%s\n' "$line" | grep -qw -- "$w" && bad="$bad unexpected $w"; done
    if [ -n "$line" ] && [ -z "$bad" ]; then
        pass "$name: -d names the negotiated steps: ${line#*steps: }"
    else
        fail "$name: negotiated steps" "${bad:-no log line}: $line"
    fi
    if grep -q 'milter protocol steps for new connections:' "$GR_LOG"; then
        pass "$name: -d names the steps for new connections at start"
    else
        fail "$name: -d names the steps for new connections at start" "no such line"
    fi
    if f=$(pf_delivered "$name-2"); then
        f=$(printf '%s\n' "$f" | head -1)
        if grep -qE '^X-Greylist: delayed [0-9]+ seconds by greyrep-' "$f"; then
            pass "$name: delivered with X-Greylist (end of message still negotiated)"
        else
            fail "$name: X-Greylist added" "$(grep -i '^X-Greylist' "$f")"
        fi
        if grep -q 'forged@example.org' "$f"; then
            [ "$forged" = kept ] && pass "$name: forged Authentication-Results left alone (no header stage)" ||
                fail "$name: forged Authentication-Results removed" "still there"
        else
            [ "$forged" = removed ] && pass "$name: forged Authentication-Results removed" ||
                fail "$name: forged Authentication-Results left alone" "it was removed although headers were not asked for"
        fi
    else
        fail "$name: delivered" "not delivered within 10 s"
    fi
    gr_stop || fail "$name: greyrep stops on SIGTERM" "${GR_EXIT:-}"
}

run_case grey off "" \
    "NR_HDR NOEOH NOBODY NODATA NOUNKNOWN NR_CONN NR_HELO NR_MAIL" "NOHDRS NR_RCPT NR_BODY" removed
run_case spf on $'[iprev]\nenabled = no\n[dkim]\nenabled = no' \
    "NR_HDR NOEOH NOBODY NODATA NOUNKNOWN NR_CONN NR_HELO NR_MAIL" "NOHDRS NR_RCPT NR_BODY" removed
run_case dkim on "" \
    "NR_HDR NR_EOH NR_BODY NODATA NOUNKNOWN NR_CONN NR_HELO NR_MAIL" "NOHDRS NOBODY NOEOH NR_RCPT" removed

t_exit
