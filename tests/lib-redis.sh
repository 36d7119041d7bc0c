# shellcheck shell=bash
# tests/lib-redis.sh - a private redis-server and greyrep instances that
# share it, for tests/integration/redis.sh (bash; source after tests/lib.sh).
#
#   redis_start DIR PORT [PASSWORD]   redis-server on 127.0.0.1:PORT, its
#                                     files in DIR, no persistence unless
#                                     asked (SAVE), pid REDIS_PID
#   redis_stop [SIGNAL]               stop it by its pid (default TERM)
#   rcli ARGS...                      redis-cli against it
#   rg_conf FILE NAME [KEY=VALUE...]  a greyrep.conf for instance NAME
#   rg_wrapper NAME HOSTNAME          a greyrep launcher that runs greyrep
#                                     in a UTS namespace of its own with
#                                     HOSTNAME (its X-Greylist header and
#                                     counters name that host)
#   rg_start NAME                     start instance NAME (lib.sh gr_start)
#
# Only processes started here are stopped, each by its pid.

REDIS_PID=
REDIS_DIR=
REDIS_PORT=
REDIS_PASS=

# redis_start DIR PORT [PASSWORD]: start redis-server in the foreground in
# the background; wait for PONG.  A dump.rdb in DIR is loaded (that is how
# a restart keeps its data: "rcli SAVE" first).
redis_start() {
    REDIS_DIR=$1 REDIS_PORT=$2 REDIS_PASS=${3:-}
    mkdir -p "$REDIS_DIR"
    local a=(--port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no
        --dir "$REDIS_DIR" --dbfilename dump.rdb --daemonize no
        --logfile "$REDIS_DIR/redis.log" --protected-mode yes)
    [ -n "$REDIS_PASS" ] && a+=(--requirepass "$REDIS_PASS")
    redis-server "${a[@]}" </dev/null >>"$REDIS_DIR/redis.out" 2>&1 &
    REDIS_PID=$!
    if ! wait_for 10 redis_ready; then
        echo "redis-server did not answer on 127.0.0.1:$REDIS_PORT" >&2
        tail -n 5 "$REDIS_DIR/redis.log" >&2
        return 1
    fi
}
redis_ready() {
    kill -0 "$REDIS_PID" 2>/dev/null && [ "$(rcli ping 2>/dev/null)" = PONG ]
}
rcli() {
    if [ -n "$REDIS_PASS" ]; then
        REDISCLI_AUTH=$REDIS_PASS redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"
    else
        redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"
    fi
}
# redis_stop [SIGNAL]: SIGTERM (or SIGNAL), wait until the process is gone
redis_stop() {
    [ -n "$REDIS_PID" ] || return 0
    kill -CONT "$REDIS_PID" 2>/dev/null
    kill -"${1:-TERM}" "$REDIS_PID" 2>/dev/null
    wait_for 10 pid_gone "$REDIS_PID" || kill -KILL "$REDIS_PID" 2>/dev/null
    { wait "$REDIS_PID"; } 2>/dev/null
    REDIS_PID=
}

# rg_conf FILE NAME [KEY=VALUE...]: a configuration for instance NAME:
# socket unix:$ROOT/NAME.sock, pidfile $ROOT/NAME.pid.  KEYs: backend
# (redis), path (LMDB), prefix, password, delay, timeout, on_error,
# auto_whitelist (default 1000: client records are kept, nobody reaches it).
# Redis: 127.0.0.1:$REDIS_PORT.
rg_conf() {
    local f=$1 name=$2 kv
    shift 2
    local backend=redis path=$ROOT/$name.db prefix=site1: password=$REDIS_PASS
    local delay=2s timeout=500ms on_error=accept auto_wl=1000
    for kv in "$@"; do
        case $kv in
            backend=*) backend=${kv#*=} ;;
            path=*) path=${kv#*=} ;;
            prefix=*) prefix=${kv#*=} ;;
            password=*) password=${kv#*=} ;;
            delay=*) delay=${kv#*=} ;;
            timeout=*) timeout=${kv#*=} ;;
            on_error=*) on_error=${kv#*=} ;;
            auto_whitelist=*) auto_wl=${kv#*=} ;;
            *) echo "rg_conf: unknown $kv" >&2; return 1 ;;
        esac
    done
    local user group=""
    if [ "$(id -u)" = 0 ]; then user=$(gr_user) || return 1; else user=$(id -un); fi
    getent group postfix >/dev/null && group=postfix
    for w in whitelist_clients whitelist_recipients whitelist_senders; do
        [ -e "$ROOT/$w" ] || : >"$ROOT/$w"
        chmod 644 "$ROOT/$w"
    done
    {
        cat <<CONF
# greyrep test configuration ($name) written by tests/lib-redis.sh
[milter]
socket = unix:$ROOT/$name.sock
user = $user
socket_group = $group
socket_mode = 0660
pidfile = $ROOT/$name.pid
on_error = $on_error
trusted_networks = 127.0.0.2/32

[store]
CONF
        if [ "$backend" = redis ]; then
            printf 'backend = redis\nredis = 127.0.0.1:%s\nredis_timeout = %s\nredis_prefix = %s\n' \
                "$REDIS_PORT" "$timeout" "$prefix"
            [ -n "$password" ] && printf 'redis_password = %s\n' "$password"
        else
            printf 'backend = lmdb\npath = %s\n' "$path"
        fi
        cat <<CONF

[greylist]
delay = $delay
retry_window = 1h
pass_lifetime = 1d
auto_whitelist = $auto_wl

[whitelist]
clients = $ROOT/whitelist_clients
recipients = $ROOT/whitelist_recipients
senders = $ROOT/whitelist_senders

[dns]
servers = 127.0.0.1:1
timeout = 1s
CONF
        gr_no_checks_extra
    } >"$f"
    chmod 644 "$f"
}

# rg_wrapper NAME HOSTNAME: $ROOT/bin/greyrep-NAME runs greyrep with its
# own host name (unshare --uts execs, so the pid is greyrep's)
rg_wrapper() {
    mkdir -p "$ROOT/bin"
    cat >"$ROOT/bin/greyrep-$1" <<EOF
#!/bin/sh
exec unshare --uts sh -c 'hostname "\$0" && exec "\$@"' "$2" "$GREYREP" "\$@"
EOF
    chmod 755 "$ROOT/bin/greyrep-$1"
}

declare -A RG_PID
# rg_start NAME: start instance NAME (config $ROOT/NAME.conf, log
# $ROOT/greyrep-NAME.log) through its wrapper, if any
rg_start() {
    local name=$1 bin=$GREYREP
    [ -x "$ROOT/bin/greyrep-$name" ] && bin=$ROOT/bin/greyrep-$name
    GREYREP=$bin gr_start "$ROOT/$name.conf" "unix:$ROOT/$name.sock" "$ROOT/greyrep-$name.log" || return 1
    RG_PID[$name]=$GR_PID
}
