#!/bin/bash
# tests/integration/upgrade.sh - a store written by an older greyrep opens
# under this one, on both backends, and the daemon goes on from it.
#
# tests/data/upgrade/ holds an LMDB environment (lmdb/data.mdb) and a Redis
# RDB file (redis/dump.rdb) that greyrep 0.1.0 (commit 5b8db0c, before
# reputation) wrote through its own daemon and greyrepctl, and what its
# greyrepctl dump printed (old-dump-BACKEND.jsonl); tests/data/upgrade/make.sh made
# them.  For each backend this greyrep must:
#   - dump every old record with its value and expiry unchanged;
#   - list the old triplets and admin whitelist entries (they decode);
#   - decide from them: a passed triplet passes at once, a pending one
#     passes on its retry, the admin entries vouch, a new triplet waits;
#   - read its own records back after writing over the old ones.
#
#   GREYREP_BUILD=DIR bash tests/integration/upgrade.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib-redis.sh"

need_root "upgrade"
need_greyrep
need_cmd "upgrade" python3 redis-server
MTCLIENT=${MTCLIENT:-$GREYREP_BUILD/tests/bench/mtclient}
need_cmd "upgrade" "$MTCLIENT"
DATA=$GREYREP_SRC/tests/data/upgrade
t_root
USER_=$(gr_user)

# conf BACKEND: a configuration over the copied store; retry_window as long
# as the old store's, so its pending triplet is still within its window
conf() {
    cat <<EOF
[milter]
socket = unix:$ROOT/sock
pidfile = $ROOT/greyrep.pid
[store]
backend = $1
path = $ROOT/db
redis = 127.0.0.1:${REDIS_PORT:-6379}
redis_prefix = greyrep:
[greylist]
delay = 1s
retry_window = 365d
pass_lifetime = 3650d
[whitelist]
clients =
recipients =
senders =
EOF
    gr_no_checks_extra
}

# answer CLIENT SENDER RCPT: the RCPT answer of one message
answer() {
    printf 'connect mx.test %s\nhelo mx.test\nmail %s\nrcpt %s\nquit\n' "$1" "$2" "$3" |
        "$MTCLIENT" -s "unix:$ROOT/sock" - 2>&1 | sed -n 's/^rcpt: //p'
}

# same_records FILE BACKEND: every record of the old dump is in FILE with the same
# value and expiry (new fields in the JSON are allowed)
same_records() {
    python3 - "$DATA/old-dump-$2.jsonl" "$1" <<'EOF'
import json, sys
old = {r["key"]: r for r in map(json.loads, open(sys.argv[1]))}
new = {r["key"]: r for r in map(json.loads, open(sys.argv[2]))}
bad = [k for k, r in old.items()
       if k not in new or new[k]["value"] != r["value"] or new[k]["expires"] != r["expires"]]
for k in bad:
    print("  | differs or missing:", k, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
}

run_backend() {
    local b=$1 out
    GR_CONF=$ROOT/greyrep-$b.conf
    conf "$b" >"$GR_CONF"

    ctl dump
    printf '%s\n' "$CTL_OUT" >"$ROOT/dump-$b.jsonl"
    if [ "$CTL_RC" = 0 ] && same_records "$ROOT/dump-$b.jsonl" "$b"; then
        pass "$b: the old records dump unchanged ($(wc -l <"$DATA/old-dump-$b.jsonl") records)"
    else
        fail "$b: the old records dump unchanged" "rc $CTL_RC"
    fi
    ctl greylist list
    out=$CTL_OUT
    if [ "$CTL_RC" = 0 ] && grep -q 'alice@old.example' <<<"$out" &&
        grep -q 'carol@old.example' <<<"$out" && grep -q '2001:db8:1::/64' <<<"$out"; then
        pass "$b: the old triplets decode and list"
    else
        fail "$b: the old triplets decode and list" "$out"
    fi
    ctl whitelist list
    if [ "$CTL_RC" = 0 ] && grep -q '203.0.113.0/24' <<<"$CTL_OUT" &&
        grep -q 'from 0.1.0' <<<"$CTL_OUT" && grep -q '@friends.example' <<<"$CTL_OUT"; then
        pass "$b: the old admin whitelist entries decode and list"
    else
        fail "$b: the old admin whitelist entries decode and list" "$CTL_OUT"
    fi

    if ! gr_start "$GR_CONF" "unix:$ROOT/sock" "$ROOT/greyrep-$b.log"; then
        fail "$b: greyrep starts on the old store"
        return
    fi
    pass "$b: greyrep starts on the old store"
    out=$(answer 192.0.2.10 '<alice@old.example>' '<bob@dest.example>')
    [ "$out" = continue ] && pass "$b: an old passed triplet passes at once" ||
        fail "$b: an old passed triplet passes at once" "$out"
    out=$(answer 192.0.2.11 '<carol@old.example>' '<dave@dest.example>')
    [ "$out" = continue ] && pass "$b: an old pending triplet passes on its retry" ||
        fail "$b: an old pending triplet passes on its retry" "$out"
    out=$(answer 2001:db8:1::99 '<news+789@old.example>' '<erin@dest.example>')
    [ "$out" = continue ] && pass "$b: an old IPv6 triplet (VERP sender, /64) passes" ||
        fail "$b: an old IPv6 triplet (VERP sender, /64) passes" "$out"
    out=$(answer 203.0.113.5 '<x@anywhere.example>' '<y@dest.example>')
    [ "$out" = continue ] && pass "$b: an old admin ip entry vouches" ||
        fail "$b: an old admin ip entry vouches" "$out"
    out=$(answer 198.51.100.3 '<pal@friends.example>' '<y@dest.example>')
    [ "$out" = continue ] && pass "$b: an old admin sender entry vouches" ||
        fail "$b: an old admin sender entry vouches" "$out"
    out=$(answer 198.51.100.4 '<new@new.example>' '<y@dest.example>')
    case $out in
        "tempfail 451 4.7.1 "*) pass "$b: a new triplet is greylisted" ;;
        *) fail "$b: a new triplet is greylisted" "$out" ;;
    esac
    gr_stop
    ctl greylist list
    if [ "$CTL_RC" = 0 ] && grep -q 'new@new.example' <<<"$CTL_OUT" &&
        grep -q 'carol@old.example' <<<"$CTL_OUT"; then
        pass "$b: old and new records read back together"
    else
        fail "$b: old and new records read back together" "$CTL_OUT"
    fi
    ctl stats
    [ "$CTL_RC" = 0 ] && pass "$b: stats reads the old counters" ||
        fail "$b: stats reads the old counters" "$CTL_OUT"
}

# LMDB: a copy of the old environment, owned by the user greyrep runs as
mkdir -p "$ROOT/db"
cp "$DATA/lmdb/data.mdb" "$ROOT/db/data.mdb"
[ -n "$USER_" ] && chown -R "$USER_" "$ROOT/db"
run_backend lmdb

# Redis: a private redis-server that loads the old RDB file
REDIS_PORT=$(free_port 26379)
mkdir -p "$ROOT/redis"
cp "$DATA/redis/dump.rdb" "$ROOT/redis/dump.rdb"
t_on_cleanup redis_stop
if redis_start "$ROOT/redis" "$REDIS_PORT"; then
    run_backend redis
else
    fail "redis: redis-server loads the old RDB file"
fi
redis_stop
t_exit
