#!/bin/sh
# NAME
#   redis-test.sh - run test_store_redis against a private redis-server
# SYNOPSIS
#   tests/unit/redis-test.sh                 (from the build directory)
#   tests/unit/redis-test.sh ctl stop|start|pause|resume
# DESCRIPTION
#   Starts redis-server on a free loopback port in a temporary directory
#   (no persistence; also on ::1 if it can, and on a unix socket), runs the
#   test program with REDIS_URL and REDIS_SOCKET pointing at it and
#   REDIS_CTL set to "this script ctl", and stops the server and
#   removes the directory afterwards, whatever happened.
#
#   The ctl form is what the test program calls to cause outages: stop
#   (SIGTERM, returns when the process is gone), start (same port, returns
#   when it answers PING), pause and resume (SIGSTOP / SIGCONT: a hung
#   server).  It finds the server through REDIS_TEST_DIR and REDIS_TEST_PORT.
#
#   TEST_STORE_REDIS overrides the test program's path (default
#   ./tests/unit/test_store_redis, else the one beside this script).
#   Exits 77 (skipped) when redis-server or redis-cli is not installed.
set -u

self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")

# alive PID - true while the process exists and is not a zombie
alive() {
    [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# start_server DIR PORT - start redis-server; 0 when it answers PING
start_server() {
    rm -f "$1/redis.pid"
    redis-server --port "$2" --bind '127.0.0.1 -::1' --save '' --appendonly no \
        --unixsocket "$1/redis.sock" --unixsocketperm 700 \
        --daemonize yes --pidfile "$1/redis.pid" --dir "$1" \
        --logfile "$1/redis.log" >/dev/null 2>&1 || return 1
    i=0
    while [ $i -lt 100 ]; do
        # Ours answers only once it has written its pid file.
        if [ -s "$1/redis.pid" ] && alive "$(cat "$1/redis.pid")" &&
            [ "$(redis-cli -h 127.0.0.1 -p "$2" ping 2>/dev/null)" = PONG ]; then
            return 0
        fi
        if grep -q -e 'in use' -e 'Could not create' "$1/redis.log" 2>/dev/null; then
            return 1
        fi
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}

# stop_server DIR - SIGTERM (after SIGCONT) and wait until it is gone
stop_server() {
    [ -s "$1/redis.pid" ] || return 0
    pid=$(cat "$1/redis.pid")
    kill -CONT "$pid" 2>/dev/null
    kill -TERM "$pid" 2>/dev/null
    i=0
    while alive "$pid" && [ $i -lt 100 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    if alive "$pid"; then
        kill -KILL "$pid" 2>/dev/null
        sleep 0.1
    fi
    rm -f "$1/redis.pid"
}

if [ "${1:-}" = ctl ]; then
    dir=${REDIS_TEST_DIR:?} port=${REDIS_TEST_PORT:?}
    case "${2:-}" in
    stop) stop_server "$dir" ;;
    start) start_server "$dir" "$port" ;;
    pause) kill -STOP "$(cat "$dir/redis.pid")" ;;
    resume) kill -CONT "$(cat "$dir/redis.pid")" ;;
    *) echo "usage: $0 ctl stop|start|pause|resume" >&2; exit 2 ;;
    esac
    exit $?
fi

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    echo "SKIP: store_redis (redis-server or redis-cli not installed)"
    exit 77
fi
prog=${TEST_STORE_REDIS:-./tests/unit/test_store_redis}
[ -x "$prog" ] || prog=$(dirname "$self")/test_store_redis
if [ ! -x "$prog" ]; then
    echo "redis-test.sh: test program not found: $prog" >&2
    exit 99
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/greyrep-redis.XXXXXX") || exit 99
trap 'stop_server "$dir"; rm -rf "$dir"' EXIT
trap 'exit 1' HUP INT TERM

# A free port: try a few pseudo-random ones; a taken port makes redis exit.
port=
try=0
while [ $try -lt 20 ]; do
    p=$((20000 + ($$ * 31 + try * 7919 + $(date +%N | sed 's/^0*//;s/^$/0/') % 1000) % 40000))
    if [ "$(redis-cli -h 127.0.0.1 -p "$p" ping 2>/dev/null)" != PONG ] &&
        start_server "$dir" "$p"; then
        port=$p
        break
    fi
    stop_server "$dir"
    rm -f "$dir/redis.log"
    try=$((try + 1))
done
if [ -z "$port" ]; then
    echo "redis-test.sh: could not start redis-server" >&2
    cat "$dir/redis.log" >&2 2>/dev/null
    exit 99
fi

REDIS_URL=127.0.0.1:$port REDIS_SOCKET=$dir/redis.sock REDIS_TEST_DIR=$dir REDIS_TEST_PORT=$port \
    REDIS_CTL="sh $self ctl" "$prog"
