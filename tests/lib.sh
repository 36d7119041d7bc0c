# tests/lib.sh - shared helpers for greyrep's integration tests (bash).
#
#   . "$(dirname "$0")/../lib.sh"
#
# Every test prints one line per case, "PASS: NAME" or "FAIL: NAME - why"
# (or "SKIP: NAME - why"); detail lines are indented so that counters that
# look for those words at the start of a line never see them twice.
#
# Environment:
#   GREYREP_BUILD   build directory holding src/greyrep and src/greyrepctl
#                   (default: the source tree itself if it was built in-tree)
#   GREYREP_LOGDIR  if set, greyrep's logs are copied there at cleanup (the
#                   sanitizer check of tests/run-all.sh reads them)
#   KEEP=1          keep the temporary root (its path is printed)
#   TEST_VERBOSE=1  print every swaks transcript
#
# Only processes started here are ever stopped, each by its pid; the
# Postfix instance is stopped with "postfix -c DIR stop" and then, if need
# be, through the pid of its own master process.

T_PASS=0
T_FAIL=0
T_SKIP=0
T_NAME=${T_NAME:-$(basename "$0" .sh)}

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GREYREP_SRC=${GREYREP_SRC:-$(cd "$TESTS_DIR/.." && pwd)}
if [ -z "${GREYREP_BUILD:-}" ]; then
    GREYREP_BUILD=$GREYREP_SRC
fi
GREYREP_BUILD=$(cd "$GREYREP_BUILD" 2>/dev/null && pwd || echo "$GREYREP_BUILD")
GREYREP=${GREYREP:-$GREYREP_BUILD/src/greyrep}
GREYREPCTL=${GREYREPCTL:-$GREYREP_BUILD/src/greyrepctl}

# ---------------------------------------------------------------- results

pass() { T_PASS=$((T_PASS + 1)); echo "PASS: $1"; }
fail() { T_FAIL=$((T_FAIL + 1)); echo "FAIL: $1 - ${2:-failed}"; }
skip() { T_SKIP=$((T_SKIP + 1)); echo "SKIP: $1 - ${2:-skipped}"; }
note() { echo "  # $*"; }
# indent FILE [N]: show the last N lines of FILE as detail lines
indent() {
    [ -f "$1" ] || return 0
    tail -n "${2:-15}" "$1" | sed 's/^/  | /'
}
# check NAME CONDITION-COMMAND...: pass if the command succeeds
check() {
    local name=$1; shift
    if "$@"; then pass "$name"; else fail "$name" "command failed: $*"; fi
}
t_summary() {
    echo "  # $T_NAME: $T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
}
t_exit() {
    t_summary
    [ "$T_FAIL" -eq 0 ]
    exit $?
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# ---------------------------------------------------------------- temp root + cleanup

ROOT=
T_CLEANUP_HOOKS=()
# t_root: make the temporary root ($ROOT, mode 0755 so that the postfix and
# greyrep users can reach what lies under it) and install the cleanup trap
t_root() {
    ROOT=$(mktemp -d "${TMPDIR:-/tmp}/greyrep-${T_NAME}.XXXXXX") || exit 99
    chmod 755 "$ROOT"
    trap t_cleanup EXIT
    trap 't_cleanup; exit 130' INT
    trap 't_cleanup; exit 143' TERM
    note "temporary root $ROOT"
}
t_on_cleanup() { T_CLEANUP_HOOKS+=("$*"); }
T_CLEANED=
t_cleanup() {
    [ -n "$T_CLEANED" ] && return 0
    T_CLEANED=1
    local h
    for h in "${T_CLEANUP_HOOKS[@]}"; do eval "$h" >/dev/null 2>&1 || true; done
    gr_stop_all 2>/dev/null
    pf_stop_all 2>/dev/null
    if [ -n "${GREYREP_LOGDIR:-}" ] && [ -n "$ROOT" ] && [ -d "$ROOT" ]; then
        mkdir -p "$GREYREP_LOGDIR"
        local f
        for f in "$ROOT"/greyrep*.log; do
            [ -f "$f" ] && cp "$f" "$GREYREP_LOGDIR/$T_NAME.$(basename "$f")"
        done
    fi
    if [ -n "$ROOT" ] && [ -d "$ROOT" ]; then
        if [ "${KEEP:-0}" = 1 ]; then
            note "kept $ROOT"
        else
            rm -rf "$ROOT"
        fi
    fi
}

# need_root NAME: skip the whole script (exit 0 with one SKIP line) unless root
need_root() {
    if [ "$(id -u)" != 0 ]; then
        skip "$1" "needs root (Postfix instance, privilege drop)"
        t_exit
    fi
}
# need_cmd NAME CMD...: skip the whole script if a command is missing
need_cmd() {
    local name=$1 c; shift
    for c in "$@"; do
        if ! command -v "$c" >/dev/null 2>&1 && [ ! -x "$c" ]; then
            skip "$name" "$c not found"
            t_exit
        fi
    done
}
need_greyrep() {
    if [ ! -x "$GREYREP" ] || [ ! -x "$GREYREPCTL" ]; then
        fail "$T_NAME: binaries" "$GREYREP or $GREYREPCTL missing (set GREYREP_BUILD to a build directory)"
        t_exit
    fi
}

# ---------------------------------------------------------------- waiting

# wait_for TIMEOUT_S COMMAND...: poll every 0.1 s until COMMAND succeeds
wait_for() {
    local t=$1 i=0 n; shift
    n=$(awk -v t="$t" 'BEGIN { printf "%d", t * 10 }')
    while ! "$@" >/dev/null 2>&1; do
        i=$((i + 1))
        [ "$i" -ge "$n" ] && return 1
        sleep 0.1
    done
    return 0
}
wait_for_file() { wait_for "${2:-10}" test -e "$1"; }
# wait_for_grep REGEX FILE [TIMEOUT]
wait_for_grep() { wait_for "${3:-10}" grep -qE -e "$1" "$2"; }
tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
unix_open() {
    perl -MIO::Socket::UNIX -e 'IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => $ARGV[0]) or exit 1' "$1" 2>/dev/null
}
# port_free PORT: nothing listens on 127.0.0.1:PORT nor [::1]:PORT
port_free() {
    ! tcp_open 127.0.0.1 "$1" && ! tcp_open ::1 "$1"
}
# free_port START: first free port from START on (tries 50)
free_port() {
    local p=$1 i
    for i in $(seq 0 49); do
        if port_free $((p + i)); then echo $((p + i)); return 0; fi
    done
    return 1
}
have_ipv6() {
    [ -e /proc/net/if_inet6 ] && grep -q '^0\{31\}1 ' /proc/net/if_inet6
}

# ---------------------------------------------------------------- Postfix

# pf_setup DIR PORT MILTER [DEFAULT_ACTION]: write a private Postfix instance
# under DIR (absolute): config DIR/etc, queue DIR/spool, log DIR/maillog,
# every recipient in rig.test / example.test delivered by virtual(8) into
# the Maildir DIR/vmail/inbox/ (Delivered-To: says for whom).  Listens on
# 127.0.0.1:PORT and, when the host has IPv6, [::1]:PORT.  XCLIENT allowed
# from loopback.  MILTER is the smtpd_milters value (e.g. unix:/x/greyrep.sock).
pf_setup() {
    local R=$1 port=$2 milter=$3 action=${4:-tempfail} protos=all v6listen
    case $R in /*) ;; *) echo "pf_setup: $R is not absolute" >&2; return 1;; esac
    mkdir -p "$R/etc" "$R/spool" "$R/data" "$R/vmail"
    chown root:root "$R" "$R/etc" "$R/spool"
    chmod 755 "$R" "$R/etc" "$R/spool"
    chown postfix:postfix "$R/data"
    chown 65534:65534 "$R/vmail"
    : > "$R/maillog"
    v6listen="[::1]:$port      inet  n       -      n      -      -       smtpd"
    if ! have_ipv6; then protos=ipv4; v6listen="# no IPv6 on this host"; fi
    cat > "$R/etc/main.cf" <<MAIN
compatibility_level = 3.6
syslog_name = postfix-greyrep-test-$port
queue_directory = $R/spool
data_directory = $R/data
maillog_file = $R/maillog
maillog_file_prefixes = $R
myhostname = mx.rig.test
mydomain = rig.test
myorigin = rig.test
mydestination =
inet_interfaces = loopback-only
inet_protocols = $protos
mynetworks = 127.0.0.0/8 [::1]/128
smtpd_authorized_xclient_hosts = 127.0.0.0/8 [::1]/128
alias_maps =
alias_database =
biff = no
smtputf8_enable = no
smtpd_banner = \$myhostname ESMTP greyrep-test
virtual_mailbox_domains = rig.test example.test
virtual_mailbox_base = $R/vmail
virtual_mailbox_maps = static:inbox/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_minimum_uid = 100
default_transport = discard:
relay_transport = discard:
smtpd_milters = $milter
non_smtpd_milters =
milter_protocol = 6
milter_default_action = $action
milter_connect_timeout = 5s
milter_command_timeout = 10s
milter_content_timeout = 30s
MAIN
    cat > "$R/etc/master.cf" <<MASTER
# service           type  private unpriv chroot wakeup maxproc command
127.0.0.1:$port     inet  n       -      n      -      -       smtpd
$v6listen
pickup              unix  n       -      n      60     1       pickup
cleanup             unix  n       -      n      -      0       cleanup
qmgr                unix  n       -      n      300    1       qmgr
tlsmgr              unix  -       -      n      1000?  1       tlsmgr
rewrite             unix  -       -      n      -      -       trivial-rewrite
bounce              unix  -       -      n      -      0       bounce
defer               unix  -       -      n      -      0       bounce
trace               unix  -       -      n      -      0       bounce
verify              unix  -       -      n      -      1       verify
flush               unix  n       -      n      1000?  0       flush
proxymap            unix  -       -      n      -      -       proxymap
smtp                unix  -       -      n      -      -       smtp
showq               unix  n       -      n      -      -       showq
error               unix  -       -      n      -      -       error
retry               unix  -       -      n      -      -       error
discard             unix  -       -      n      -      -       discard
local               unix  -       n      n      -      -       local
virtual             unix  -       n      n      -      -       virtual
lmtp                unix  -       -      n      -      -       lmtp
anvil               unix  -       -      n      -      1       anvil
scache              unix  -       -      n      -      1       scache
postlog             unix-dgram n  -      n      -      1       postlogd
MASTER
    postfix -c "$R/etc" check >>"$R/maillog" 2>&1 || { echo "postfix check failed:" >&2; tail "$R/maillog" >&2; return 1; }
    PF_DIR=$R
    PF_PORT=$port
}

PF_STARTED=()
# pf_start [DIR]: start the instance, wait until its port answers
pf_start() {
    local R=${1:-$PF_DIR} port
    port=$(sed -n 's/^127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$R/etc/master.cf")
    postfix -c "$R/etc" start >>"$R/maillog" 2>&1 || { echo "postfix start failed:" >&2; tail "$R/maillog" >&2; return 1; }
    PF_STARTED+=("$R")
    wait_for 10 tcp_open 127.0.0.1 "$port" || { echo "postfix did not open port $port" >&2; tail "$R/maillog" >&2; return 1; }
}
# pf_stop [DIR]
pf_stop() {
    local R=${1:-$PF_DIR} pid
    [ -f "$R/etc/main.cf" ] || return 0
    postfix -c "$R/etc" stop >>"$R/maillog" 2>&1
    pid=$(head -1 "$R/spool/pid/master.pid" 2>/dev/null | tr -dc 0-9)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q master "/proc/$pid/comm" 2>/dev/null; then
        wait_for 5 pid_gone "$pid" || kill -9 "$pid" 2>/dev/null
    fi
    local a=() d
    for d in "${PF_STARTED[@]}"; do [ "$d" != "$R" ] && a+=("$d"); done
    PF_STARTED=("${a[@]}")
}
pid_gone() { ! kill -0 "$1" 2>/dev/null; }
pf_stop_all() {
    local d
    for d in "${PF_STARTED[@]}"; do pf_stop "$d"; done
}
# pf_delivered ID [TIMEOUT]: the delivered files carrying "X-Test-Id: ID",
# waiting up to TIMEOUT s (default 10) for the first one
pf_delivered() {
    local id=$1 t=${2:-10}
    wait_for "$t" pf_grep_delivered "$id" || return 1
    pf_grep_delivered "$id"
}
pf_grep_delivered() {
    grep -lsx "X-Test-Id: $1" "$PF_DIR"/vmail/inbox/new/* 2>/dev/null
}
# pf_delivered_to ID ADDR: a delivered copy of ID went to ADDR
pf_delivered_to() {
    local f
    for f in $(pf_grep_delivered "$1"); do
        grep -qix "Delivered-To: $2" "$f" && return 0
    done
    return 1
}

# ---------------------------------------------------------------- swaks

SMTP_N=0
# smtp ID SWAKS-ARGS...: one SMTP transaction against the Postfix instance
# (127.0.0.1:$PF_PORT unless --server/--port are given), with the header
# "X-Test-Id: ID".  Sets:
#   SMTP_RC       swaks's exit status
#   SMTP_MAIL     code of the MAIL FROM reply
#   SMTP_RCPT     codes of the RCPT TO replies, space-separated, in order
#   SMTP_RCPT1    first RCPT code;  SMTP_RCPT_TEXT: text of the first RCPT reply
#   SMTP_DATA     final code of the DATA stage (the reply after the ".",
#                 or the reply to DATA itself if that was not 354); empty
#                 when no DATA was sent
#   SMTP_LOG      the transcript file
smtp() {
    local id=$1; shift
    SMTP_N=$((SMTP_N + 1))
    SMTP_LOG=$ROOT/swaks/$SMTP_N.$id.txt
    mkdir -p "$ROOT/swaks"
    local server=(--server 127.0.0.1 --port "$PF_PORT") a
    for a in "$@"; do case $a in --server|-s) server=();; esac; done
    swaks "${server[@]}" --timeout 30 --helo client.example.org \
        --add-header "X-Test-Id: $id" "$@" >"$SMTP_LOG" 2>&1 </dev/null
    SMTP_RC=$?
    smtp_parse "$SMTP_LOG"
    if [ "${TEST_VERBOSE:-0}" = 1 ]; then sed 's/^/  | /' "$SMTP_LOG"; fi
}
# smtp_parse FILE: fill the SMTP_* variables from a swaks transcript
smtp_parse() {
    local out
    out=$(awk '
        function emit(stage, code, text) { print stage "\t" code "\t" text }
        /^ *(->|~>) / {
            line = $0; sub(/^ *(->|~>) /, "", line)
            if (indata) { if (line == ".") stage = "DATAEND"; next }
            split(line, w, /[ :]/); stage = toupper(w[1]); next
        }
        /^ *(<-|<~|<\*\*|<~\*) / {
            line = $0; sub(/^ *(<-|<~|<\*\*|<~\*) +/, "", line)
            code = substr(line, 1, 3); sep = substr(line, 4, 1)
            if (code !~ /^[0-9][0-9][0-9]$/ || sep == "-") next
            emit(stage, code, line)
            if (stage == "DATA" && code == "354") indata = 1
            if (stage == "DATAEND") indata = 0
        }' "$1")
    SMTP_MAIL=$(printf '%s\n' "$out" | awk -F'\t' '$1 == "MAIL" { c = $2 } END { print c }')
    SMTP_RCPT=$(printf '%s\n' "$out" | awk -F'\t' '$1 == "RCPT" { printf "%s%s", s, $2; s = " " }')
    SMTP_RCPT1=${SMTP_RCPT%% *}
    SMTP_RCPT_TEXT=$(printf '%s\n' "$out" | awk -F'\t' '$1 == "RCPT" { print $3; exit }')
    SMTP_DATA=$(printf '%s\n' "$out" | awk -F'\t' '
        $1 == "DATA" && $2 != "354" { c = $2 } $1 == "DATAEND" { c = $2 } END { print c }')
    SMTP_DATA_TEXT=$(printf '%s\n' "$out" | awk -F'\t' '
        $1 == "DATA" && $2 != "354" { c = $3 } $1 == "DATAEND" { c = $3 } END { print c }')
}
# smtp_show: the replies of the last transaction, as detail lines
smtp_show() {
    grep -E '^ *(<-|<\*\*|->|\*\*\*)' "$SMTP_LOG" | grep -vE '^ *-> ([A-Z][-A-Za-z]*: |$|\.$|This is a test)' | tail -n 12 | sed 's/^/  | /'
}

# ---------------------------------------------------------------- greyrep

# gr_user: the user greyrep drops to when started as root (created if missing)
gr_user() {
    if ! getent passwd greyrep >/dev/null; then
        useradd -r -M -d /nonexistent -s /usr/sbin/nologin greyrep >/dev/null 2>&1 ||
            adduser --system --no-create-home --group greyrep >/dev/null 2>&1
    fi
    getent passwd greyrep >/dev/null && echo greyrep
}

GR_PID=
GR_LOG=
GR_STARTED=()
# gr_start CONF SOCKET-SPEC [LOG] [EXTRA-ARGS...]: start "greyrep -f -c CONF"
# in the background (stderr appended to LOG, default $ROOT/greyrep.log) and
# wait until SOCKET-SPEC (unix:PATH or inet:PORT@HOST) accepts connections.
# Sets GR_PID.  Returns 1 (with the log shown) if greyrep exits or never listens.
gr_start() {
    local conf=$1 spec=$2 log=${3:-$ROOT/greyrep.log}
    shift 3 2>/dev/null || shift $#
    GR_LOG=$log
    echo "==== $(date '+%F %T') start: $GREYREP -f -c $conf $*" >>"$log"
    "$GREYREP" -f -c "$conf" "$@" </dev/null >>"$log" 2>&1 &
    GR_PID=$!
    GR_STARTED+=("$GR_PID")
    if ! wait_for 15 gr_answers "$spec" "$GR_PID"; then
        echo "greyrep did not start listening on $spec (pid $GR_PID):" >&2
        tail -n 20 "$log" | sed 's/^/  | /' >&2
        return 1
    fi
    return 0
}
# gr_answers SPEC PID: PID alive and SPEC accepts a connection
gr_answers() {
    kill -0 "$2" 2>/dev/null || return 2
    case $1 in
        unix:*|local:*) unix_open "${1#*:}" ;;
        inet:*@*|inet6:*@*)
            local p=${1#*:}; p=${p%@*}; local h=${1#*@}
            tcp_open "$h" "$p" ;;
        inet:*:*) local hp=${1#inet:}; tcp_open "${hp%:*}" "${hp##*:}" ;;
        *) return 1 ;;
    esac
}
gr_alive() { [ -n "${1:-$GR_PID}" ] && kill -0 "${1:-$GR_PID}" 2>/dev/null; }
# gr_stop [PID] [TIMEOUT]: SIGTERM, wait (libmilter may take ~5 s), then
# SIGKILL.  Returns 0 if it exited on SIGTERM.  GR_EXIT: its exit status.
gr_stop() {
    local pid=${1:-$GR_PID} t=${2:-15} rc=0
    [ -n "$pid" ] || return 0
    if ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid" 2>/dev/null
        GR_EXIT="not running (status $?)"
        gr_forget "$pid"
        return 1
    fi
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null
        if ! wait_for "$t" pid_gone "$pid"; then
            echo "greyrep pid $pid ignored SIGTERM for ${t}s: SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null
            rc=1
        fi
    fi
    wait "$pid" 2>/dev/null
    GR_EXIT=$?
    gr_forget "$pid"
    return $rc
}
# gr_kill9 [PID]
gr_kill9() {
    local pid=${1:-$GR_PID}
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    gr_forget "$pid"
}
gr_forget() {
    local a=() p
    for p in "${GR_STARTED[@]}"; do [ "$p" != "$1" ] && a+=("$p"); done
    GR_STARTED=("${a[@]}")
}
gr_stop_all() {
    local p
    for p in "${GR_STARTED[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${GR_STARTED[@]}"; do gr_stop "$p" 10; done
}
# log_mark FILE: remember FILE's current size; log_since FILE prints what
# was written after the mark
declare -A T_MARKS
log_mark() { T_MARKS[$1]=$(stat -c %s "$1" 2>/dev/null || echo 0); }
log_since() { tail -c +$(( ${T_MARKS[$1]:-0} + 1 )) "$1" 2>/dev/null; }
# log_wait_since FILE REGEX [TIMEOUT]: wait until a line matching REGEX
# appears after the mark
log_has_since() { log_since "$1" | grep -qE -e "$2"; }
log_wait_since() { wait_for "${3:-5}" log_has_since "$1" "$2"; }

# ctl ARGS...: run greyrepctl -c $GR_CONF ARGS; sets CTL_RC, CTL_OUT (stdout+stderr)
ctl() {
    CTL_OUT=$("$GREYREPCTL" -c "$GR_CONF" "$@" 2>&1 </dev/null)
    CTL_RC=$?
}

# gr_no_checks_extra: greyrep.conf lines that turn off greyrep's DNS-based
# sender checks (SPF, iprev, DKIM): these tests have no DNS server
# (tests/integration/checks.sh tests the checks against a real unbound).
gr_no_checks_extra() {
    printf '[spf]\nenabled = no\n[iprev]\nenabled = no\n[dkim]\nenabled = no\n'
}

# gr_conf FILE: write a greyrep test configuration.  Tunables (environment or
# shell variables): GR_SOCKET (default unix:$ROOT/greyrep.sock), GR_DELAY (2s),
# GR_RETRY_WINDOW (1h), GR_PASS_LIFETIME (1d), GR_AUTO_WL (0),
# GR_TRUSTED (127.0.0.2/32), GR_ON_ERROR (accept), GR_STORE ($ROOT/db),
# GR_WL_CLIENTS / GR_WL_RECIPIENTS / GR_WL_SENDERS (files under $ROOT,
# created empty if missing), GR_DNS (127.0.0.1:1: nothing answers),
# GR_CHECKS (off: the DNS-based sender checks are turned off, when the
# build has them; on: left at their defaults), GR_EXTRA (raw lines appended
# at the end, after [dns]).
# Sets GR_CONF and GR_SOCKET.
gr_conf() {
    local f=$1 user=""
    GR_CONF=$f
    GR_SOCKET=${GR_SOCKET:-unix:$ROOT/greyrep.sock}
    : "${GR_WL_CLIENTS:=$ROOT/whitelist_clients}"
    : "${GR_WL_RECIPIENTS:=$ROOT/whitelist_recipients}"
    : "${GR_WL_SENDERS:=$ROOT/whitelist_senders}"
    local w
    for w in "$GR_WL_CLIENTS" "$GR_WL_RECIPIENTS" "$GR_WL_SENDERS"; do
        [ -e "$w" ] || : >"$w"
        chmod 644 "$w"
    done
    if [ "$(id -u)" = 0 ]; then
        user=$(gr_user) || { echo "cannot create the user greyrep" >&2; return 1; }
    else
        user=$(id -un)
    fi
    local group=""
    getent group postfix >/dev/null && group=postfix
    cat >"$f" <<CONF
# greyrep test configuration written by tests/lib.sh
[milter]
socket = $GR_SOCKET
user = $user
socket_group = $group
socket_mode = 0660
pidfile = $ROOT/greyrep.pid
on_error = ${GR_ON_ERROR:-accept}
trusted_networks = ${GR_TRUSTED:-127.0.0.2/32}

[store]
backend = lmdb
path = ${GR_STORE:-$ROOT/db}

[greylist]
delay = ${GR_DELAY:-2s}
retry_window = ${GR_RETRY_WINDOW:-1h}
pass_lifetime = ${GR_PASS_LIFETIME:-1d}
auto_whitelist = ${GR_AUTO_WL:-0}

[whitelist]
clients = $GR_WL_CLIENTS
recipients = $GR_WL_RECIPIENTS
senders = $GR_WL_SENDERS

[dns]
# loopback only: nothing in the tests may query an outside resolver
servers = ${GR_DNS:-127.0.0.1:1}
timeout = ${GR_DNS_TIMEOUT:-1s}
${GR_EXTRA:-}
CONF
    if [ "${GR_CHECKS:-off}" = off ] && ! printf '%s' "${GR_EXTRA:-}" | grep -q '^\[spf\]'; then
        [ -n "${GR_NO_CHECKS+set}" ] || GR_NO_CHECKS=$(gr_no_checks_extra)
        printf '# no DNS server in the tests: greylisting alone is under test\n%s\n' "$GR_NO_CHECKS" >>"$f"
    fi
    chmod 644 "$f"
}
