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
# For tests/integration/redis-deploy.sh (several servers at once, by name):
#   rn_start NAME PORT [ARGS...]      redis-server NAME on 127.0.0.1:PORT (PORT
#                                     0: none, e.g. TLS only), files in
#                                     $ROOT/NAME, ready when its log says so
#   rn_sentinel NAME PORT MASTER MPORT QUORUM [AUTHPASS [SENTPASS]]
#                                     redis-sentinel NAME watching MASTER at
#                                     127.0.0.1:MPORT (1 s down-after)
#   rn_stop NAME [SIGNAL]             stop one of them (default TERM)
#   rn_stop_all                       stop every one still running
#   rn_pid NAME                       its pid
#   tls_certs DIR                     a CA and a server certificate for
#                                     127.0.0.1 made by openssl, in DIR
#   stunnel_start NAME CONF           stunnel4 in the foreground, by pid
#   rg_bench_tool NAME                path of tests/bench/NAME (built if need be)
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
# auto_whitelist (default 1000: client records are kept, nobody reaches it),
# redis (default 127.0.0.1:$REDIS_PORT; empty: no redis line), store_extra
# (raw lines added to [store]).
rg_conf() {
    local f=$1 name=$2 kv
    shift 2
    local backend=redis path=$ROOT/$name.db prefix=site1: password=$REDIS_PASS
    local delay=2s timeout=500ms on_error=accept auto_wl=1000
    local raddr=127.0.0.1:$REDIS_PORT store_extra=""
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
            redis=*) raddr=${kv#*=} ;;
            store_extra=*) store_extra=${kv#*=} ;;
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
            printf 'backend = redis\nredis_timeout = %s\nredis_prefix = %s\n' "$timeout" "$prefix"
            [ -n "$raddr" ] && printf 'redis = %s\n' "$raddr"
            [ -n "$password" ] && printf 'redis_password = %s\n' "$password"
            [ -n "$store_extra" ] && printf '%s\n' "$store_extra"
        else
            printf 'backend = lmdb\npath = %s\n' "$path"
        fi
        cat <<CONF

[greylist]
delay = $delay
retry_window = 1h
pass_lifetime = 1d
auto_whitelist = $auto_wl
# every use written: the race tests count passes exactly to find lost updates
read_mostly = no

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

# ---------------------------------------------------------------- several servers

declare -A RN_PID
# rn_start NAME PORT [ARGS...]: redis-server with its files in $ROOT/NAME
# (no persistence), bound to 127.0.0.1; waits for "Ready to accept" in its log
rn_start() {
    local name=$1 port=$2 d=$ROOT/$1
    shift 2
    mkdir -p "$d"
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$d" --daemonize no --logfile "$d/redis.log" --protected-mode yes \
        "$@" </dev/null >>"$d/redis.out" 2>&1 &
    RN_PID[$name]=$!
    if ! wait_for 10 rn_ready "$name" 'Ready to accept connections'; then
        echo "redis-server $name did not start" >&2
        tail -n 5 "$d/redis.log" "$d/redis.out" 2>/dev/null | sed 's/^/  | /' >&2
        return 1
    fi
}
rn_ready() {
    kill -0 "${RN_PID[$1]}" 2>/dev/null && grep -q "$2" "$ROOT/$1/redis.log" 2>/dev/null
}
rn_pid() { echo "${RN_PID[$1]:-}"; }
# rn_sentinel NAME PORT MASTER MPORT QUORUM [AUTHPASS [SENTPASS]]: a
# Sentinel (its config file is its own, Sentinel rewrites it), quick to
# declare a primary down (1 s) and to fail over again (failover-timeout 2 s)
rn_sentinel() {
    local name=$1 port=$2 master=$3 mport=$4 quorum=$5 auth=${6:-} spass=${7:-} d=$ROOT/$1
    mkdir -p "$d"
    {
        printf 'port %s\nbind 127.0.0.1\ndir %s\nlogfile %s/redis.log\ndaemonize no\n' "$port" "$d" "$d"
        printf 'sentinel monitor %s 127.0.0.1 %s %s\n' "$master" "$mport" "$quorum"
        printf 'sentinel down-after-milliseconds %s 1000\n' "$master"
        printf 'sentinel failover-timeout %s 2000\n' "$master"
        printf 'sentinel parallel-syncs %s 1\n' "$master"
        [ -n "$auth" ] && printf 'sentinel auth-pass %s %s\n' "$master" "$auth"
        [ -n "$spass" ] && printf 'requirepass %s\nsentinel sentinel-pass %s\n' "$spass" "$spass"
    } >"$d/sentinel.conf"
    redis-sentinel "$d/sentinel.conf" </dev/null >>"$d/redis.out" 2>&1 &
    RN_PID[$name]=$!
    if ! wait_for 10 rn_ready "$name" '+monitor master'; then
        echo "redis-sentinel $name did not start" >&2
        tail -n 5 "$d/redis.log" "$d/redis.out" 2>/dev/null | sed 's/^/  | /' >&2
        return 1
    fi
}
# rn_stop NAME [SIGNAL]: signal one server (SIGCONT first) and wait until it is gone
rn_stop() {
    local pid=${RN_PID[$1]:-}
    [ -n "$pid" ] || return 0
    kill -CONT "$pid" 2>/dev/null
    kill -"${2:-TERM}" "$pid" 2>/dev/null
    wait_for 10 pid_gone "$pid" || kill -KILL "$pid" 2>/dev/null
    { wait "$pid"; } 2>/dev/null
    unset "RN_PID[$1]"
}
rn_stop_all() {
    local n
    for n in "${!RN_PID[@]}"; do kill -TERM "${RN_PID[$n]}" 2>/dev/null; done
    for n in "${!RN_PID[@]}"; do rn_stop "$n"; done
}

# tls_certs DIR: ca.crt/ca.key, and server.crt/server.key for IP 127.0.0.1
# and localhost signed by it (EC P-256, 2 days), made now with openssl
tls_certs() {
    local d=$1
    mkdir -p "$d"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj '/CN=greyrep test CA' -keyout "$d/ca.key" -out "$d/ca.crt" >/dev/null 2>&1 &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -subj '/CN=127.0.0.1' -keyout "$d/server.key" -out "$d/server.csr" >/dev/null 2>&1 &&
    printf 'subjectAltName = IP:127.0.0.1, DNS:localhost\nextendedKeyUsage = serverAuth\n' >"$d/ext.cnf" &&
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
        -CAcreateserial -days 2 -extfile "$d/ext.cnf" -out "$d/server.crt" >/dev/null 2>&1 &&
    chmod 644 "$d"/*.crt "$d"/*.key
}

# stunnel_start NAME CONF: stunnel4 with CONF (which must say foreground =
# yes), by pid under RN_PID[NAME]; waits until its log says it is configured
stunnel_start() {
    local name=$1 conf=$2 bin
    bin=$(command -v stunnel4 || command -v stunnel) || return 1
    mkdir -p "$ROOT/$name"
    "$bin" "$conf" </dev/null >>"$ROOT/$name/redis.log" 2>&1 &
    RN_PID[$name]=$!
    if ! wait_for 10 rn_ready "$name" 'Configuration successful'; then
        echo "stunnel $name did not start" >&2
        tail -n 5 "$ROOT/$name/redis.log" | sed 's/^/  | /' >&2
        return 1
    fi
}

# rg_bench_tool NAME: tests/bench/NAME of the build (made if missing)
rg_bench_tool() {
    local t=$1 c
    for c in "$GREYREP_BUILD/tests/bench/$t" "$GREYREP_SRC/tests/bench/$t"; do
        [ -x "$c" ] && { echo "$c"; return 0; }
    done
    if [ -f "$GREYREP_BUILD/Makefile" ] && make -C "$GREYREP_BUILD" "tests/bench/$t" >/dev/null 2>&1; then
        echo "$GREYREP_BUILD/tests/bench/$t"; return 0
    fi
    return 1
}
