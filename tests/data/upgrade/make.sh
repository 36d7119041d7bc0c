#!/bin/bash
# tests/data/upgrade/make.sh - make the stores that tests/integration/upgrade.sh
# opens: an LMDB environment and a Redis RDB file written by an older
# greyrep, so that every later greyrep must keep reading them.
#
#   bash tests/data/upgrade/make.sh OLD_BUILD_DIR
#
# OLD_BUILD_DIR is a build of the older greyrep (src/greyrep, src/greyrepctl,
# tests/bench/mtclient).  The stores here were made from commit 5b8db0c
# (greyrep 0.1.0, the last release before reputation).  Lifetimes of ten
# years (one for pending triplets: retry_window allows no more) keep the
# records live whenever the test runs.  Writes lmdb/data.mdb,
# redis/dump.rdb and old-dump-BACKEND.jsonl (what the old greyrepctl dump printed)
# beside this script.  Needs redis-server; loopback only.
set -eu
OLD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d /tmp/greyrep-upgrade.XXXXXX)
chmod 755 "$W"    # greyrep drops to its user, which must reach the store
trap 'kill $(cat "$W"/*.pid 2>/dev/null) 2>/dev/null; sleep 0.5; rm -rf "$W"' EXIT

conf() {   # conf BACKEND
    cat <<CONF
[milter]
socket = unix:$W/sock
pidfile = $W/greyrep.pid
[store]
backend = $1
path = $W/db
redis = unix:$W/redis.sock
redis_prefix = greyrep:
[greylist]
delay = 1s
retry_window = 365d
pass_lifetime = 3650d
auto_whitelist = 1
[whitelist]
clients =
recipients =
senders =
[spf]
enabled = no
[iprev]
enabled = no
[dkim]
enabled = no
CONF
}

# one message: client, sender, recipient -> the RCPT answer
msg() {
    printf 'connect mx.old.example %s\nhelo mx.old.example\nmail %s\nrcpt %s\nquit\n' "$1" "$2" "$3" |
        "$OLD/tests/bench/mtclient" -s "unix:$W/sock" - | grep '^rcpt:' >>"$W/answers"
}

run() {   # run BACKEND: make the records through the old daemon and CLI
    conf "$1" >"$W/greyrep.conf"
    mkdir -p "$W/db"
    "$OLD/src/greyrep" -f -c "$W/greyrep.conf" >"$W/greyrep-$1.log" 2>&1 &
    for _ in $(seq 100); do grep -q ' ready on ' "$W/greyrep-$1.log" && break; sleep 0.1; done
    sleep 1     # "ready" is logged just before libmilter listens
    msg 192.0.2.10 '<alice@old.example>' '<bob@dest.example>'      # pending, then passed
    msg 192.0.2.11 '<carol@old.example>' '<dave@dest.example>'     # stays pending
    msg 2001:db8:1::25 '<news+123@old.example>' '<erin@dest.example>'
    sleep 1.5
    msg 192.0.2.10 '<alice@old.example>' '<bob@dest.example>'      # passes: client counted
    msg 2001:db8:1::25 '<news+456@old.example>' '<erin@dest.example>'
    "$OLD/src/greyrepctl" -c "$W/greyrep.conf" whitelist add ip 203.0.113.0/24 --comment "from 0.1.0"
    "$OLD/src/greyrepctl" -c "$W/greyrep.conf" whitelist add sender @friends.example --ttl 3650d
    sleep 11    # the daemon writes its counters every 10 s
    kill "$(cat "$W/greyrep.pid")"
    for _ in $(seq 100); do [ -e "$W/greyrep.pid" ] || break; kill -0 "$(cat "$W/greyrep.pid")" 2>/dev/null || break; sleep 0.1; done
    "$OLD/src/greyrepctl" -c "$W/greyrep.conf" dump | sort >"$W/dump-$1.jsonl"
    # three first sights, then two passes: anything else is a broken run
    [ "$(grep -c 'rcpt: tempfail 451 4.7.1 Greylisted' "$W/answers")" = 3 ] &&
        [ "$(grep -c 'rcpt: continue' "$W/answers")" = 2 ] ||
        { echo "unexpected answers from the old greyrep ($1):"; cat "$W/answers" "$W/greyrep-$1.log"; exit 1; }
    rm "$W/answers"
}

run lmdb
mkdir -p "$HERE/lmdb"
mdb_copy -c "$W/db" "$HERE/lmdb.tmp" 2>/dev/null || { mkdir -p "$HERE/lmdb.tmp"; mdb_copy -c "$W/db" "$HERE/lmdb.tmp"; }
mv "$HERE/lmdb.tmp/data.mdb" "$HERE/lmdb/data.mdb"
rm -rf "$HERE/lmdb.tmp"

redis-server --port 0 --unixsocket "$W/redis.sock" --dir "$W" --dbfilename dump.rdb \
    --unixsocketperm 777 --save '' --appendonly no --daemonize yes --pidfile "$W/redis.pid" >/dev/null
for _ in $(seq 50); do [ -S "$W/redis.sock" ] && break; sleep 0.1; done
run redis
redis-cli -s "$W/redis.sock" SAVE >/dev/null
mkdir -p "$HERE/redis"
cp "$W/dump.rdb" "$HERE/redis/dump.rdb"
cp "$W/dump-lmdb.jsonl" "$HERE/old-dump-lmdb.jsonl"
cp "$W/dump-redis.jsonl" "$HERE/old-dump-redis.jsonl"
echo "made $(wc -l <"$HERE/old-dump-lmdb.jsonl") records a backend: $HERE"
