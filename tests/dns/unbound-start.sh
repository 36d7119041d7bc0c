#!/bin/sh
# NAME
#   unbound-start.sh - start the test DNS of unbound-zone.sh, or stop it
# SYNOPSIS
#   tests/dns/unbound-start.sh DIR PORT [EXTRA.conf]   # generate, start, wait
#   tests/dns/unbound-start.sh -k DIR                  # stop it (by its pid)
# DESCRIPTION
#   Starts "unbound -d" in the background with DIR/unbound.conf, logs to
#   DIR/unbound.log, records its pid in DIR/unbound.pid and returns once
#   the port is bound (at most 5 s); exit 1 if it did not come up, 77 if
#   unbound is not installed (automake's "skip").
set -eu
if [ "${1:-}" = -k ]; then
    D=$2
    if [ -f "$D/unbound.pid" ]; then
        pid=$(cat "$D/unbound.pid")
        kill "$pid" 2>/dev/null || true
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        rm -f "$D/unbound.pid"
    fi
    exit 0
fi
[ $# -ge 2 ] || { echo "usage: $0 DIR PORT [EXTRA.conf] | -k DIR" >&2; exit 2; }
command -v unbound >/dev/null 2>&1 || { echo "unbound not installed" >&2; exit 77; }
D=$1
PORT=$2
HERE=$(cd "$(dirname "$0")" && pwd)
"$HERE/unbound-zone.sh" "$D" "$PORT" ${3:+"$3"}
D=$(cd "$D" && pwd)
unbound -d -c "$D/unbound.conf" > "$D/unbound.log" 2>&1 &
echo $! > "$D/unbound.pid"
# ready when 127.0.0.1:PORT is bound (/proc/net/udp: address little-endian hex)
HEXPORT=$(printf '%04X' "$PORT")
i=0
while [ $i -lt 50 ]; do
    if grep -q " 0100007F:$HEXPORT " /proc/net/udp 2>/dev/null &&
       kill -0 "$(cat "$D/unbound.pid")" 2>/dev/null; then
        exit 0
    fi
    sleep 0.1
    i=$((i + 1))
done
echo "unbound did not start on port $PORT:" >&2
cat "$D/unbound.log" >&2
exit 1
