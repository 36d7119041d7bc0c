#!/bin/bash
# tests/integration/ctl-owner.sh - greyrepctl run as root never leaves a
# store greyrep cannot open: it creates the store directory and files as
# the [milter] user (greyrep then starts on them as that user), takes root
# back for the rest of the command, refuses a store that user may not write
# with a message that says how to fix it, and refuses an unknown user.
. "$(dirname "$0")/../lib.sh"
need_root "ctl-owner"
need_greyrep
t_root

GR_STORE=$ROOT/var/lib/greyrep
mkdir -p "$ROOT/var/lib"
gr_conf "$ROOT/greyrep.conf"
USER_=$(gr_user)
ctl stats
if [ "$CTL_RC" = 0 ]; then pass "stats as root on a missing store"; else
    fail "stats as root on a missing store" "exit $CTL_RC: $CTL_OUT"; fi
owners=$(stat -c '%U' "$GR_STORE" "$GR_STORE"/data.mdb "$GR_STORE"/lock.mdb 2>&1 | sort -u | tr '\n' ' ')
[ "$owners" = "$USER_ " ] && pass "the new store directory and files belong to $USER_" ||
    fail "store owner" "owners: $owners"

# greyrepctl opened the store as greyrep and took root back: it still
# reads a file only root may read (load, which opens it after the store)
mkdir -m 0700 "$ROOT/rootonly"
"$GREYREPCTL" -c "$GR_CONF" whitelist add ip 192.0.2.0/24 --comment owner-test >/dev/null 2>&1
"$GREYREPCTL" -c "$GR_CONF" dump >"$ROOT/rootonly/dump" 2>/dev/null </dev/null
chmod 600 "$ROOT/rootonly/dump"
ctl load "$ROOT/rootonly/dump"
[ "$CTL_RC" = 0 ] && grep -q '192.0.2.0/24' "$ROOT/rootonly/dump" &&
    pass "the rest of the command runs as root again (load from a root-only directory)" ||
    fail "root again after opening the store" "exit $CTL_RC: $CTL_OUT"

# greyrep, started as root, drops to greyrep and opens that store
if gr_start "$GR_CONF" "$GR_SOCKET" "$ROOT/greyrep.log"; then
    pass "greyrep starts on the store greyrepctl created"
    ctl stats
    [ "$CTL_RC" = 0 ] && pass "greyrepctl as root beside the running greyrep" ||
        fail "greyrepctl beside greyrep" "exit $CTL_RC: $CTL_OUT"
    gr_stop
else
    fail "greyrep starts on the store greyrepctl created" "$(tail -3 "$ROOT/greyrep.log")"
fi
! grep -q 'Permission denied' "$ROOT/greyrep.log" && pass "no Permission denied in greyrep's log" ||
    fail "greyrep log" "$(grep 'Permission denied' "$ROOT/greyrep.log" | head -2)"

# a store left owned by root (by an older greyrepctl): refused, with the fix
GR_STORE=$ROOT/rootstore
mkdir -m 0755 "$GR_STORE"
gr_conf "$ROOT/root.conf"
sed 's/^user = .*/user =/' "$ROOT/root.conf" >"$ROOT/root-as-root.conf"
"$GREYREPCTL" -c "$ROOT/root-as-root.conf" stats >/dev/null 2>&1
[ "$(stat -c %U "$GR_STORE/data.mdb" 2>/dev/null)" = root ] || note "could not make a root-owned store"
ctl stats
if [ "$CTL_RC" = 1 ] && printf '%s' "$CTL_OUT" | grep -q "chown -R $USER_: $GR_STORE"; then
    pass "a root-owned store is refused with the chown command that fixes it"
else
    fail "root-owned store refused" "exit $CTL_RC: $CTL_OUT"
fi
chown -R "$USER_": "$GR_STORE"
ctl stats
[ "$CTL_RC" = 0 ] && pass "after the suggested chown the store opens" ||
    fail "after chown" "exit $CTL_RC: $CTL_OUT"

# an unknown user: refused, nothing created
GR_STORE=$ROOT/nouser
gr_conf "$ROOT/nouser.conf"
sed -i 's/^user = .*/user = greyrep-no-such-user/' "$ROOT/nouser.conf"
GR_CONF=$ROOT/nouser.conf
ctl stats
if [ "$CTL_RC" = 1 ] && printf '%s' "$CTL_OUT" | grep -qE 'greyrep-no-such-user does not exist|no such user greyrep-no-such-user' &&
    [ ! -e "$GR_STORE" ]; then
    pass "an unknown [milter] user is refused and no store is created"
else
    fail "unknown user" "exit $CTL_RC, exists: $(ls -d "$GR_STORE" 2>&1): $CTL_OUT"
fi

t_exit
