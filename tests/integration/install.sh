#!/bin/bash
# tests/integration/install.sh - "make install" and the paths it writes.
#
#   - make install DESTDIR=... twice with the admin's edits in between:
#     the edited greyrep.conf and whitelist are kept, the new default goes
#     beside them as FILE.dist, an unedited file is simply replaced;
#   - make uninstall removes the programs and the unchanged files, never
#     an edited one;
#   - the installed unit, man pages and sample configuration name the same
#     directories as the binary's compiled-in defaults, for the build
#     under test and for --prefix=/usr --sysconfdir=/etc --localstatedir=/var
#     (a second configure; only the generated files and config.c are built).
. "$(dirname "$0")/../lib.sh"
need_greyrep
[ -f "$GREYREP_BUILD/Makefile" ] || { skip "install" "$GREYREP_BUILD has no Makefile"; t_exit; }
t_root

# mkvar BUILD VAR: a make variable of a configured build, fully expanded
mkvar() { printf 'gr-print:\n\t@echo $(%s)\n' "$2" | make -s --no-print-directory -C "$1" -f Makefile -f - gr-print 2>/dev/null | tail -n 1; }

D=$ROOT/dest
B=$GREYREP_BUILD
SYSCONF=$(mkvar "$B" sysconfdir)
SBIN=$(mkvar "$B" sbindir)
E=$D$SYSCONF/greyrep
note "build $B: sbindir $SBIN, sysconfdir $SYSCONF"

if make -s -C "$B" install DESTDIR="$D" >"$ROOT/install1.log" 2>&1; then
    pass "make install DESTDIR (first)"
else
    fail "make install DESTDIR (first)" "see below"; indent "$ROOT/install1.log"
fi
for f in "$D$SBIN/greyrep" "$D$SBIN/greyrepctl" "$E/greyrep.conf" "$E/whitelist_clients" \
    "$E/whitelist_recipients" "$E/whitelist_senders"; do
    [ -e "$f" ] || fail "installed: ${f#$D}" "missing"
done
[ -f "$E/greyrep.conf" ] && pass "programs, greyrep.conf, whitelists and the store directory installed"
ls "$E"/*.dist >/dev/null 2>&1 && fail "no .dist on a fresh install" "$(ls "$E")" ||
    pass "no .dist file on a fresh install"

# the admin edits two files, leaves the others alone
echo "# admin: our backup MX" >>"$E/whitelist_clients"
echo "198.51.100.7" >>"$E/whitelist_clients"
sed -i 's/^#delay = 5m/delay = 90s/' "$E/greyrep.conf"
grep -q '^delay = 90s' "$E/greyrep.conf" || note "could not edit greyrep.conf"
cp "$E/greyrep.conf" "$ROOT/conf.edited"
cp "$E/whitelist_clients" "$ROOT/wlc.edited"

if make -s -C "$B" install DESTDIR="$D" >"$ROOT/install2.log" 2>&1; then
    pass "make install DESTDIR (again, over the edits)"
else
    fail "make install DESTDIR (again)" "see below"; indent "$ROOT/install2.log"
fi
cmp -s "$E/greyrep.conf" "$ROOT/conf.edited" && pass "edited greyrep.conf kept" ||
    fail "edited greyrep.conf kept" "$(diff "$ROOT/conf.edited" "$E/greyrep.conf" | head -3)"
cmp -s "$E/whitelist_clients" "$ROOT/wlc.edited" && pass "edited whitelist_clients kept" ||
    fail "edited whitelist_clients kept" "it was replaced"
cmp -s "$E/greyrep.conf.dist" "$B/gen/greyrep.conf" && pass "new default beside it: greyrep.conf.dist" ||
    fail "greyrep.conf.dist" "missing or not the shipped file"
cmp -s "$E/whitelist_clients.dist" "$GREYREP_SRC/etc/whitelist_clients" &&
    pass "new default beside it: whitelist_clients.dist" || fail "whitelist_clients.dist" "missing"
[ ! -e "$E/whitelist_senders.dist" ] && pass "an unedited file gets no .dist" ||
    fail "unedited file" "whitelist_senders.dist was written"
grep -q "kept your $E/greyrep.conf" "$ROOT/install2.log" && pass "make install says what it kept" ||
    fail "make install message" "no 'kept your' line"

if make -s -C "$B" uninstall DESTDIR="$D" >"$ROOT/uninstall.log" 2>&1; then
    pass "make uninstall DESTDIR"
else
    fail "make uninstall DESTDIR" "see below"; indent "$ROOT/uninstall.log"
fi
[ ! -e "$D$SBIN/greyrep" ] && [ ! -e "$E/whitelist_senders" ] && [ ! -e "$E/greyrep.conf.dist" ] &&
    pass "uninstall removes programs, unchanged files and .dist files" ||
    fail "uninstall removes" "left: $(find "$D" -type f | sed "s|$D||" | tr '\n' ' ')"
cmp -s "$E/greyrep.conf" "$ROOT/conf.edited" && cmp -s "$E/whitelist_clients" "$ROOT/wlc.edited" &&
    pass "uninstall keeps the admin's edited files" || fail "uninstall keeps edits" "an edited file is gone"
left=$(find "$D" -type f | sed "s|^$D||" | sort | tr '\n' ' ')
[ "$left" = "$SYSCONF/greyrep/greyrep.conf $SYSCONF/greyrep/whitelist_clients " ] &&
    pass "nothing else is left after uninstall" || fail "left after uninstall" "$left"

# paths_agree LABEL BUILD: unit, man pages, sample config and the binary's
# defaults name the same directories
paths_agree() {
    local label=$1 b=$2 sbin etc var run bad="" tag
    tag=$(basename "$b")
    sbin=$(mkvar "$b" sbindir); etc=$(mkvar "$b" sysconfdir)
    var=$(mkvar "$b" localstatedir); run=$(mkvar "$b" runstatedir)
    make -s -C "$b" gen/greyrep.service gen/greyrep.8 gen/greyrep.conf.5 gen/greyrepctl.8 \
        gen/greyrep.conf src/libgreyrep_a-config.o src/greyrep-greyrep.o >"$ROOT/gen-$tag.log" 2>&1 ||
        { fail "$label: generated files" "make failed"; indent "$ROOT/gen-$tag.log"; return; }
    local u=$b/gen/greyrep.service
    grep -qx "ExecStart=$sbin/greyrep -f -s" "$u" || bad="$bad unit-ExecStart"
    grep -qx "ExecReload=$sbin/greyrep -n" "$u" || bad="$bad unit-ExecReload"
    grep -qx "ReadWritePaths=$var/lib/greyrep $run/greyrep" "$u" || bad="$bad unit-ReadWritePaths"
    grep -q "^\.B $etc/greyrep/greyrep.conf\$" "$b/gen/greyrep.8" || bad="$bad greyrep.8-FILES-conf"
    grep -q "^\.B $var/lib/greyrep/data.mdb\$" "$b/gen/greyrep.8" || bad="$bad greyrep.8-FILES-store"
    grep -q "^\.B $run/greyrep/greyrep.sock\$" "$b/gen/greyrep.8" || bad="$bad greyrep.8-FILES-socket"
    grep -q "^\.B $etc/greyrep/greyrep.conf\$" "$b/gen/greyrepctl.8" || bad="$bad greyrepctl.8-FILES"
    grep -q "$etc/greyrep/whitelist_clients" "$b/gen/greyrep.conf.5" || bad="$bad greyrep.conf.5"
    grep -qx "#path = $var/lib/greyrep" "$b/gen/greyrep.conf" || bad="$bad conf-store-path"
    grep -qx "#socket = unix:$run/greyrep/greyrep.sock" "$b/gen/greyrep.conf" || bad="$bad conf-socket"
    local s
    grep -qaF "$etc/greyrep/greyrep.conf" "$b/src/greyrep-greyrep.o" || bad="$bad binary:default-file"
    for s in "$var/lib/greyrep" "unix:$run/greyrep/greyrep.sock" \
        "$etc/greyrep/whitelist_clients"; do
        grep -qaF "$s" "$b/src/libgreyrep_a-config.o" || bad="$bad binary:$s"
    done
    # no Debian path left behind in a build for other directories
    if [ "$etc" != /etc ] &&
        grep -lE '(^|[^a-z])/etc/greyrep|(^|[^a-z])/var/lib/greyrep' "$b"/gen/* >/dev/null; then
        bad="$bad leftover-debian-path:$(grep -lE '(^|[^a-z])/etc/greyrep' "$b"/gen/* | tr '\n' ,)"
    fi
    if [ -z "$bad" ]; then
        pass "$label: unit, man pages, sample config and binary agree ($sbin, $etc, $var, $run)"
    else
        fail "$label: paths agree" "mismatch:$bad"
    fi
}
paths_agree "build under test" "$B"

B2=$ROOT/b-usr
mkdir -p "$B2"
if (cd "$B2" && "$GREYREP_SRC/configure" --prefix=/usr --sysconfdir=/etc --localstatedir=/var \
    --without-redis >"$ROOT/configure-usr.log" 2>&1); then
    paths_agree "--prefix=/usr --sysconfdir=/etc --localstatedir=/var" "$B2"
    [ "$(mkvar "$B2" sysconfdir)" = /etc ] || fail "--prefix=/usr" "sysconfdir is $(mkvar "$B2" sysconfdir)"
else
    fail "configure --prefix=/usr" "see below"; indent "$ROOT/configure-usr.log"
fi

t_exit
