#!/bin/bash
# tests/integration/ops.sh - what an operator reads: stats with liveness,
# stats --prometheus, report (text and SVG), import of postgrey's files,
# and whitelist-file validation, with a real greyrep behind a real Postfix.
#
# A private Postfix instance on a free loopback port hands its sessions to
# greyrep; swaks sends mail from XCLIENT addresses: one greylisted and
# retried after the delay, one from a partial-IPv4 whitelist entry, one
# from a network that only the imported postgrey file whitelists.  Then the
# counters greyrep wrote must show exactly those decisions in every view,
# and a daemon that stopped writing must show as stale.
#
# Run as root:   bash tests/integration/ops.sh
#   GREYREP_BUILD=DIR   use DIR/src/greyrep and DIR/src/greyrepctl
#   KEEP=1              keep the temporary root for inspection
set -u
T_NAME=ops
. "$(dirname "$0")/../lib.sh"

need_root "ops: environment"
need_cmd "ops: environment" postfix swaks perl
need_greyrep
t_root

DELAY=3
export GR_DELAY=${DELAY}s
PG_CLIENTS=/etc/postgrey/whitelist_clients
PG_RCPTS=/etc/postgrey/whitelist_recipients

# --- whitelist files: the validation an admin needs from greyrep -n ---
printf '[metrics]\nlisten = 99999\n' >"$ROOT/bad-listen.conf"
"$GREYREP" -n -c "$ROOT/bad-listen.conf" >"$ROOT/bad-listen.out" 2>&1
rc=$?
[ "$rc" = 1 ] && grep -qF 'bad-listen.conf:2: listen: not PORT, IPv4:PORT or [IPv6]:PORT (port 1..65535) (got "99999")' "$ROOT/bad-listen.out" \
    && pass "greyrep -n refuses [metrics] listen = 99999 with FILE:LINE and the value" \
    || { fail "greyrep -n [metrics] listen = 99999" "exit $rc"; indent "$ROOT/bad-listen.out"; }

printf '# bad entries\n192.0.3\n300.1.2.3\n10.0.0.0/33\nmail..example.org\n/(/\nmx.example.org.\n' \
    >"$ROOT/bad_clients"
GR_WL_CLIENTS=$ROOT/bad_clients gr_conf "$ROOT/bad.conf" || { fail "ops: config" "cannot write"; t_exit; }
"$GREYREP" -n -c "$ROOT/bad.conf" >"$ROOT/bad.out" 2>&1
rc=$?
want_ok=1
for want in "bad_clients:3: 300.1.2.3: IPv4 octet over 255" \
            "bad_clients:4: 10.0.0.0/33: network prefix over /32" \
            "bad_clients:5: mail..example.org: empty label" \
            "bad_clients:6: /(/: not a valid POSIX extended regular expression"; do
    grep -qF -e "$want" "$ROOT/bad.out" || { want_ok=0; note "missing: $want"; }
done
if [ "$rc" = 1 ] && [ "$want_ok" = 1 ] && [ "$(grep -c 'bad_clients:' "$ROOT/bad.out")" = 4 ]; then
    pass "greyrep -n names FILE:LINE, the value and why for each bad whitelist entry (4 of 4)"
else
    fail "greyrep -n names each bad whitelist entry" "exit $rc"
    indent "$ROOT/bad.out"
fi
unset GR_CONF

printf '# test clients\n192.0.3\n/^mx[0-9]+\\.never\\.test$/\nrelay.example.org.\n' >"$ROOT/whitelist_clients"
printf 'postmaster@\n' >"$ROOT/whitelist_recipients"
printf '# no senders\n' >"$ROOT/whitelist_senders"
MPORT=$(free_port 9154) || { fail "ops: metrics port" "no free port"; t_exit; }
GR_EXTRA=$(printf '[metrics]\nlisten = 127.0.0.1:%s' "$MPORT")
export GR_EXTRA
# a short retry window and a sweep every second: an abandoned triplet
# expires, and is counted, while the test runs
export GR_RETRY_WINDOW=20s
gr_conf "$ROOT/greyrep.conf" || { fail "ops: config" "cannot write the test config"; t_exit; }
unset GR_EXTRA
sed -i -e '/^\[store\]/a sweep_interval = 1s' -e '/^\[greylist\]/a suspicious_delay = 5s' "$GR_CONF"
if "$GREYREP" -n -c "$GR_CONF" >"$ROOT/check.out" 2>&1; then
    pass "greyrep -n accepts a partial IPv4 network, a /RE/ host and a trailing dot"
else
    fail "greyrep -n accepts the test configuration" "$(head -3 "$ROOT/check.out" | tr '\n' ' ')"
fi
CTL() { "$GREYREPCTL" -c "$GR_CONF" "$@"; }

# admin entries go through the same parser as the files
CTL whitelist add ip 300.1.2.3 2>"$ROOT/add.err"
rc=$?
if [ "$rc" = 1 ] && grep -qF "invalid ip entry 300.1.2.3: IPv4 octet over 255" "$ROOT/add.err" \
   && CTL whitelist add host '/^mx[0-9]+\.admin\.test$/' && CTL whitelist add host Relay.Admin.Test. \
   && CTL whitelist list | grep -qP '^host\trelay\.admin\.test\t' \
   && CTL whitelist del host '/^mx[0-9]+\.admin\.test$/' && CTL whitelist del host relay.admin.test; then
    pass "whitelist add: 300.1.2.3 refused naming the value; /RE/ and a trailing-dot name accepted"
else
    fail "whitelist add through the file parser" "exit $rc: $(cat "$ROOT/add.err")"
fi

if ! gr_start "$GR_CONF" "$GR_SOCKET" "$ROOT/greyrep.log"; then
    fail "greyrep starts" "see $ROOT/greyrep.log"
    t_exit
fi
port=$(free_port "${PF_PORT_BASE:-2547}") || { fail "ops: port" "no free port"; t_exit; }
pf_setup "$ROOT/postfix" "$port" "$GR_SOCKET" accept || { fail "ops: postfix setup" "postfix check failed"; t_exit; }
pf_start || { fail "ops: postfix start" "see $PF_DIR/maillog"; indent "$PF_DIR/maillog"; t_exit; }
note "postfix on 127.0.0.1:$PF_PORT, greyrep socket $GR_SOCKET"

send() {
    local id=$1 client=$2 from=$3 to=$4
    log_mark "$PF_DIR/maillog"
    smtp "$id" --xclient-addr "$client" --xclient-name '[UNAVAILABLE]' --from "$from" --to "$to"
}
expect() {
    if [ "$SMTP_RCPT" = "$2" ]; then pass "$1 (RCPT $SMTP_RCPT)"; else
        fail "$1" "want RCPT $2, got '$SMTP_RCPT'"; smtp_show; fi
}

# --- import of the real postgrey files, while greyrep runs ---
if [ -r "$PG_CLIENTS" ] && [ -r "$PG_RCPTS" ]; then
    # what to expect, counted apart from greyrepctl: each host name line is
    # two entries (the name, and .name for the names below it)
    lines=$(cat "$PG_CLIENTS" "$PG_RCPTS" | sed 's/#.*//; s/^[[:space:]]*//; s/[[:space:]]*$//' | grep -vc '^$')
    names=$(sed 's/#.*//; s/^[[:space:]]*//; s/[[:space:]]*$//' "$PG_CLIENTS" | grep -v '^$' \
            | grep -v '^/' | grep -v ':' | grep -vcE '^[0-9./]+$')
    want=$((lines + names))
    CTL import postgrey "$PG_CLIENTS" "$PG_RCPTS" >"$ROOT/import.out" 2>"$ROOT/import.err"
    rc=$?
    got=$(CTL whitelist list | wc -l)
    if [ "$rc" = 0 ] && [ "$got" = "$want" ] && grep -q "$want entries imported, 0 lines skipped" "$ROOT/import.err"; then
        pass "import postgrey: every line of Debian's $PG_CLIENTS and $PG_RCPTS maps ($want entries from $lines lines)"
    else
        fail "import postgrey of Debian's files" "exit $rc, $got entries listed, want $want"
        indent "$ROOT/import.err"
    fi
    if CTL whitelist list | grep -qP '^ip\t195\.235\.39\.0/24\t.*postgrey whitelist_clients:[0-9]+$' \
       && CTL whitelist list | grep -qP '^host\t/\^mail\[0-9\]\+\\\.telekom\\\.de\$/\t' \
       && CTL whitelist list | grep -qP '^rcpt\tabuse@\t'; then
        pass "import postgrey: partial IP, Perl regex and local@ recipient mapped as documented"
    else
        fail "import postgrey: mapped entries" "see whitelist list"
        CTL whitelist list | grep -E '195.235|telekom|abuse' | sed 's/^/  | /'
    fi
    send imp1 195.235.39.20 a@sender.test user@rig.test
    expect "a client in the imported postgrey network 195.235.39 is not greylisted" 250
    log_has_since "$ROOT/greyrep.log" 'whitelisted.*195\.235\.39\.0/24' \
        && pass "greyrep names the imported entry that matched" \
        || fail "greyrep names the imported entry" "$(log_since "$ROOT/greyrep.log" | tail -2)"
else
    skip "import postgrey of Debian's files" "postgrey is not installed ($PG_CLIENTS)"
    send imp1 192.0.3.21 a@sender.test user@rig.test
fi

# all or nothing: a file with unmappable lines changes nothing
printf 'ok.example\n300.1.2.3\n/^a\\bc$/\n' >"$ROOT/bad_whitelist_clients"
before=$(CTL whitelist list | wc -l)
CTL import postgrey "$ROOT/bad_whitelist_clients" 2>"$ROOT/import-bad.err"
rc=$?
after=$(CTL whitelist list | wc -l)
if [ "$rc" = 1 ] && [ "$before" = "$after" ] \
   && grep -qF "bad_whitelist_clients:2: 300.1.2.3: IPv4 octet over 255" "$ROOT/import-bad.err" \
   && grep -qF "bad_whitelist_clients:3: /^a\\bc\$/: Perl escape" "$ROOT/import-bad.err"; then
    pass "import postgrey refuses a file with unmappable lines, names each FILE:LINE, writes nothing"
else
    fail "import postgrey all or nothing" "exit $rc, entries $before -> $after"
    indent "$ROOT/import-bad.err"
fi
CTL import postgrey --partial "$ROOT/bad_whitelist_clients" 2>/dev/null
after=$(CTL whitelist list | wc -l)
[ "$after" = $((before + 2)) ] && pass "import postgrey --partial writes the lines that map (2 entries)" \
    || fail "import postgrey --partial" "entries $before -> $after"

# --- mail: greylisted then passed, and a partial-IPv4 whitelist hit ---
send g1 198.51.100.7 news@bulk.test user@rig.test
expect "first sight of 198.51.100.7 is greylisted" 451
send w1 192.0.3.7 friend@partner.test user@rig.test
expect "192.0.3.7 is whitelisted by the partial entry 192.0.3" 250
send a1 203.0.113.9 once@spam.test user@rig.test
expect "first sight of 203.0.113.9 is greylisted (it never retries)" 451
sleep $((DELAY + 1))
send g2 198.51.100.7 news@bulk.test user@rig.test
expect "the retry after the delay passes" 250

# --- stats: wait for the next write (every 10 s) ---
host=$(CTL stats | sed -n 's/^host \(.*\) since\t.*/\1/p' | head -1)
counts_written() { CTL stats | grep -qP "^host \Q$host\E greylist_abandoned\t1$"; }
if [ -n "$host" ] && wait_for 45 counts_written; then
    pass "the abandoned triplet expired, was swept and counted, and greyrep wrote its counters (host $host)"
else
    fail "greyrep wrote its counters" "$(CTL stats | grep '^host' | head -5 | tr '\n' ' ')"
fi
CTL stats >"$ROOT/stats.out"
stat_is() { grep -qP "^host \Q$host\E $1\t$2$" "$ROOT/stats.out"; }
ok=1
for kv in "accepted 3" "tempfailed 2" "rejected 0" "errors 0" "greylist_passes 1" "state live" \
          "greylist_abandoned 1" "accept/whitelisted 2" "accept/passed 1" "tempfail/greylisted 2"; do
    stat_is "${kv% *}" "${kv#* }" || { ok=0; note "missing: host $host ${kv% *} ${kv#* }"; }
done
age=$(sed -n "s/^host .* age_seconds\t//p" "$ROOT/stats.out" | head -1)
if [ "$ok" = 1 ] && [ -n "$age" ] && [ "$age" -ge 0 ] && [ "$age" -le 30 ]; then
    pass "stats: 3 accepted (2 whitelisted, 1 passed), 2 greylisted, 1 abandoned, live, written ${age}s ago"
else
    fail "stats shows the decisions and liveness" "age '$age'"
    indent "$ROOT/stats.out" 30
fi
CTL stats --json | grep '"host"' >"$ROOT/stats.json"
if grep -q '"state":"live"' "$ROOT/stats.json" && grep -q '"accept/passed":1' "$ROOT/stats.json" \
   && grep -q '"greylist_passes":1' "$ROOT/stats.json"; then
    pass "stats --json carries the same counts and the state"
else
    fail "stats --json" "$(cat "$ROOT/stats.json")"
fi

# --- Prometheus ---
CTL stats --prometheus >"$ROOT/metrics.prom"
rc=$?
h=$(printf '%s' "$host" | sed 's/[.[\*^$/]/\\&/g')
pm() { grep -qE "^$1 $2\$" "$ROOT/metrics.prom"; }
if [ "$rc" = 0 ] \
   && pm "greyrep_decisions_total\\{host=\"$h\",verdict=\"tempfail\",reason=\"greylisted\"\\}" 2 \
   && pm "greyrep_decisions_total\\{host=\"$h\",verdict=\"accept\",reason=\"whitelisted\"\\}" 2 \
   && pm "greyrep_greylist_passes_total\\{host=\"$h\"\\}" 1 \
   && pm "greyrep_decision_latency_seconds_count\\{host=\"$h\"\\}" 5 \
   && pm "greyrep_decision_latency_seconds_bucket\\{host=\"$h\",le=\"\\+Inf\"\\}" 5 \
   && pm "greyrep_greylist_abandoned_total\\{host=\"$h\"\\}" 1 \
   && pm "greyrep_greylist_delay_seconds_bucket\\{host=\"$h\",le=\"300\"\\}" 1 \
   && pm "greyrep_stale\\{host=\"$h\"\\}" 0; then
    pass "stats --prometheus: decisions, passes, latency and delay histograms, not stale"
else
    fail "stats --prometheus" "exit $rc"
    grep -E 'greylisted|whitelisted"|passes_total\{|latency_seconds_count|stale\{' "$ROOT/metrics.prom" | sed 's/^/  | /'
fi
# every family has HELP and TYPE, and every other line is NAME{LABELS} NUMBER
bad=$(grep -v '^# \(HELP\|TYPE\) greyrep_[a-z_]* ' "$ROOT/metrics.prom" \
      | grep -cvE '^greyrep_[a-z_]+\{host="[^"]*"(,[a-z]+="[^"]*")*\} [0-9]+(\.[0-9]+)?$')
types=$(grep -c '^# TYPE ' "$ROOT/metrics.prom"); helps=$(grep -c '^# HELP ' "$ROOT/metrics.prom")
if [ "$bad" = 0 ] && [ "$types" = "$helps" ] && [ "$types" -ge 10 ]; then
    pass "stats --prometheus: $types families, each with HELP and TYPE; every sample line well-formed"
else
    fail "stats --prometheus format" "$bad malformed lines, $types TYPE, $helps HELP"
fi
if command -v promtool >/dev/null 2>&1; then
    promtool check metrics <"$ROOT/metrics.prom" >"$ROOT/promtool.out" 2>&1 \
        && pass "promtool check metrics accepts the output" \
        || { fail "promtool check metrics" "see below"; indent "$ROOT/promtool.out"; }
fi

# --- contrib/greyrep-metrics.service: its command, as systemd would run it ---
unit=$GREYREP_SRC/contrib/greyrep-metrics.service
if [ -f "$unit" ]; then
    mkdir -p "$ROOT/textfile"
    cmd=$(sed -n 's/^ExecStart=//p' "$unit" | sed 's/\$\$/$/g' \
          | sed "s#/var/lib/prometheus/node-exporter#$ROOT/textfile#g; s#/usr/sbin/greyrepctl#$GREYREPCTL -c $GR_CONF#")
    eval "$cmd" >"$ROOT/unit.out" 2>&1
    rc=$?
    if [ "$rc" = 0 ] && [ "$(ls -A "$ROOT/textfile")" = greyrep.prom ] \
       && [ "$(stat -c %a "$ROOT/textfile/greyrep.prom")" = 644 ] \
       && grep -qE "^greyrep_greylist_passes_total\\{host=\"$h\"\\} 1$" "$ROOT/textfile/greyrep.prom"; then
        pass "contrib/greyrep-metrics.service's command writes greyrep.prom (mode 644, no temporary file left)"
    else
        fail "contrib/greyrep-metrics.service's command" "exit $rc: $(ls -A "$ROOT/textfile" | tr '\n' ' ')"
        indent "$ROOT/unit.out"
    fi
fi

# --- the optional HTTP endpoint ([metrics] listen) ---
# http REQUEST-TEXT: send it to the endpoint, print the whole answer
http() {
    exec 5<>"/dev/tcp/127.0.0.1/$MPORT" || return 1
    printf '%b' "$1" >&5
    timeout 5 cat <&5
    exec 5<&-
}
http 'GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n' >"$ROOT/http.out" 2>&1
if head -1 "$ROOT/http.out" | grep -q '^HTTP/1.0 200 OK' \
   && grep -q '^Content-Type: text/plain; version=0.0.4' "$ROOT/http.out" \
   && grep -qE "^greyrep_decisions_total\\{host=\"$h\",verdict=\"tempfail\",reason=\"greylisted\"\\} 2$" "$ROOT/http.out" \
   && grep -qE "^greyrep_decision_latency_seconds_count\\{host=\"$h\"\\} 5$" "$ROOT/http.out"; then
    pass "[metrics] listen: GET /metrics answers 200 with this daemon's live counters"
else
    fail "[metrics] listen: GET /metrics" "$(head -3 "$ROOT/http.out" | tr '\r\n' '  ')"
fi
http 'GET / HTTP/1.0\r\n\r\n' | head -1 | grep -q ' 404 ' \
    && http 'POST /metrics HTTP/1.0\r\n\r\n' | head -1 | grep -q ' 405 ' \
    && http "GET /metrics HTTP/1.0\r\n$(head -c 5000 /dev/zero | tr '\0' a)" | head -1 | grep -q ' 400 ' \
    && pass "[metrics] listen: 404 for another path, 405 for POST, 400 for an endless header" \
    || fail "[metrics] listen: refusals" "see the endpoint's answers"
gr_answers "$GR_SOCKET" "$GR_PID" && pass "greyrep still answers milter connections after those requests" \
    || fail "greyrep after the HTTP requests" "not answering"

# --- report ---
CTL report --since 1d --svg "$ROOT/report.svg" >"$ROOT/report.txt" 2>"$ROOT/report.err"
rc=$?
if [ "$rc" = 0 ] && grep -qE '^  total +3 +2 +0 +1$' "$ROOT/report.txt" \
   && grep -qE '^  <= 5m +1 +100\.0%' "$ROOT/report.txt" \
   && grep -qE '^  passed +1 ' "$ROOT/report.txt" \
   && grep -qE '^ +[0-9]+  bulk\.test$' "$ROOT/report.txt"; then
    pass "report: 3 accepted, 2 tempfailed, 1 pass within 5 minutes, bulk.test among the senders"
else
    fail "report text" "exit $rc"
    indent "$ROOT/report.txt" 40
    indent "$ROOT/report.err"
fi
if [ -s "$ROOT/report.svg" ] && grep -q '<title>accepted 3</title>' "$ROOT/report.svg"; then
    if command -v xmllint >/dev/null 2>&1; then
        xmllint --noout "$ROOT/report.svg" 2>"$ROOT/xmllint.out" \
            && pass "report --svg writes a well-formed SVG with this hour's bar" \
            || { fail "report --svg well-formed" "xmllint"; indent "$ROOT/xmllint.out"; }
    else
        pass "report --svg writes the chart with this hour's bar (xmllint not installed)"
    fi
else
    fail "report --svg" "no chart or no bar for this hour"
fi
CTL report --since 5x >/dev/null 2>"$ROOT/since.err"
rc=$?
[ "$rc" = 2 ] && grep -q -- '--since 5x' "$ROOT/since.err" \
    && pass "report --since 5x is a usage error naming the value" \
    || fail "report --since 5x" "exit $rc: $(cat "$ROOT/since.err")"

# --- liveness: a daemon that stops writing turns stale ---
pf_stop
gr_stop "$GR_PID" 15
stopped=$(date +%s)
stale_now() { CTL stats | grep -qP "^host \Q$host\E state\tstale$"; }
if wait_for 45 stale_now; then
    pass "stats marks the stopped daemon stale after $(( $(date +%s) - stopped ))s (3 write intervals)"
else
    fail "stats marks a stopped daemon stale" "$(CTL stats | grep state)"
fi
CTL stats --prometheus | grep -qE "^greyrep_stale\\{host=\"$h\"\\} 1$" \
    && pass "stats --prometheus: greyrep_stale 1 for the stopped daemon" \
    || fail "stats --prometheus stale" "$(CTL stats --prometheus | grep '^greyrep_stale')"

# --- dump and load carry the counters (s| version 2, hourly m|) ---
CTL dump >"$ROOT/all.dump"
sed "s#^path = .*#path = $ROOT/db2#" "$GR_CONF" >"$ROOT/copy.conf"
# no mkdir: greyrepctl as root makes the store directory for [milter] user
if "$GREYREPCTL" -c "$ROOT/copy.conf" load "$ROOT/all.dump" 2>"$ROOT/load.err" \
   && grep -q '"key":"m|' "$ROOT/all.dump" \
   && diff <(CTL report --since 1d | sed 1d) \
           <("$GREYREPCTL" -c "$ROOT/copy.conf" report --since 1d | sed 1d) >"$ROOT/report.diff" \
   && diff <(CTL stats | grep '^host' | grep -v age_seconds) \
           <("$GREYREPCTL" -c "$ROOT/copy.conf" stats | grep '^host' | grep -v age_seconds) >/dev/null; then
    pass "dump | load into a new store keeps the counters: the same stats and report"
else
    fail "dump | load of the counters" "$(cat "$ROOT/load.err")"
    indent "$ROOT/report.diff"
fi

t_exit
