#!/bin/bash
# tests/integration/service.sh - how the systemd unit runs greyrep, without
# systemd: the sd_notify datagrams (READY=1 once the milter socket answers,
# STOPPING=1 at SIGTERM) read by a small listener on a unix datagram socket,
# for a path and for an abstract name; a bad NOTIFY_SOCKET is a warning,
# not a failure; -s keeps log lines off stderr (the journal reads stderr and
# syslog: each line must reach it once), without -s they are on stderr.
. "$(dirname "$0")/../lib.sh"
need_greyrep
PY=$(command -v python3) || { skip "service" "python3 not found"; t_exit; }
t_root

# listen NAME OUT: a datagram listener on NAME (a path or @abstract) that
# writes each datagram to OUT as one line ("|" for newlines) until STOPPING=1
listen() {
    "$PY" - "$1" "$2" <<'EOF' &
import socket, sys, time
name, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + name[1:] if name.startswith("@") else name)
import os
if not name.startswith("@"):
    os.chmod(name, 0o777)  # as systemd's: greyrep writes after it changed user
s.settimeout(60)
with open(out + ".tmp", "w") as f:
    f.write("listening\n")
os.rename(out + ".tmp", out)
while True:
    try:
        data = s.recv(4096).decode()
    except socket.timeout:
        break
    with open(out, "a") as f:
        f.write(data.replace("\n", "|") + "\n")
    if "STOPPING=1" in data:
        break
EOF
    LISTENER=$!
    t_on_cleanup "kill $LISTENER"
    wait_for 10 test -s "$2"
}

gr_conf "$ROOT/greyrep.conf"
SOCK=${GR_SOCKET#unix:}

# notify_case LABEL NAME: greyrep -f -s under NOTIFY_SOCKET=NAME
notify_case() {
    local label=$1 name=$2 out=$ROOT/notify-$1.out log=$ROOT/greyrep-$1.log
    rm -f "$out"
    listen "$name" "$out" || { fail "notify $label: listener" "did not start"; return; }
    NOTIFY_SOCKET=$name gr_start "$GR_CONF" "$GR_SOCKET" "$log" -s ||
        { fail "notify $label: start" "greyrep did not start"; return; }
    if wait_for 10 grep -q '^READY=1' "$out"; then
        pass "notify $label: READY=1 once the milter socket answers"
    else
        fail "notify $label: READY=1" "no READY=1 datagram: $(tr '\n' ' ' <"$out")"
    fi
    [ "$(grep -c 'READY=1' "$out")" = 1 ] && pass "notify $label: READY=1 sent once" ||
        fail "notify $label: READY=1 once" "$(grep -c 'READY=1' "$out") READY datagrams"
    gr_stop
    if wait_for 10 grep -q '^STOPPING=1' "$out"; then
        pass "notify $label: STOPPING=1 at SIGTERM"
    else
        fail "notify $label: STOPPING=1" "not received: $(tr '\n' ' ' <"$out")"
    fi
    [ "$GR_EXIT" = 0 ] && pass "notify $label: clean exit" || fail "notify $label: exit" "status $GR_EXIT"
    wait "$LISTENER" 2>/dev/null
}
notify_case path "$ROOT/notify.sock"
notify_case abstract "@greyrep-test-notify-$$"

# -s: nothing on stderr, where the unit's journal would read a second copy
LOG_S=$ROOT/greyrep-s.log
gr_start "$GR_CONF" "$GR_SOCKET" "$LOG_S" -s || fail "-s: start" "greyrep did not start"
gr_stop
if grep -vq '^====' "$LOG_S"; then
    fail "-s: no log line on stderr" "stderr has: $(grep -v '^====' "$LOG_S" | head -3 | tr '\n' ' ')"
else
    pass "-s: no log line on stderr"
fi
LOG_F=$ROOT/greyrep-f.log
gr_start "$GR_CONF" "$GR_SOCKET" "$LOG_F" || fail "-f: start" "greyrep did not start"
gr_stop
grep -q 'ready on' "$LOG_F" && pass "-f without -s: log lines on stderr (INTERFACE.md)" ||
    fail "-f without -s: log lines on stderr" "no 'ready on' line in $LOG_F"

# -s does not hide a start-up error: a bad configuration still says why
printf '[milter]\nno_such_key = 1\n' >"$ROOT/bad.conf"
"$GREYREP" -f -s -c "$ROOT/bad.conf" >"$ROOT/bad.out" 2>&1 </dev/null
rc=$?
if [ $rc = 1 ] && grep -q 'bad.conf:2' "$ROOT/bad.out"; then
    pass "-s: a bad configuration is still reported on stderr with FILE:LINE"
else
    fail "-s: bad configuration on stderr" "exit $rc, stderr: $(head -2 "$ROOT/bad.out" | tr '\n' ' ')"
fi

# a NOTIFY_SOCKET nobody listens on: greyrep runs anyway and says so
LOG_N=$ROOT/greyrep-nolistener.log
NOTIFY_SOCKET=$ROOT/nobody.sock gr_start "$GR_CONF" "$GR_SOCKET" "$LOG_N" ||
    fail "notify without listener: start" "greyrep did not start"
gr_alive && pass "notify without listener: greyrep serves anyway" ||
    fail "notify without listener" "greyrep exited"
gr_stop
grep -q 'cannot notify systemd' "$LOG_N" && pass "notify without listener: a warning names NOTIFY_SOCKET" ||
    fail "notify without listener: warning" "no warning in $LOG_N"

t_exit
