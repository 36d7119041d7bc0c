#!/bin/bash
# tests/package/deb.sh - the Debian package, as an admin would use it.
#
#   1. dpkg-buildpackage -us -uc -b in a clean copy of the source tree;
#      lintian, if installed (its findings are shown; errors fail);
#   2. apt-get install ./greyrep_*.deb: user, directories, conffiles, unit,
#      tmpfiles, man pages;
#   3. greyrep started the way the unit starts it (systemctl if systemd is
#      PID 1; else the unit's ExecStart, as root, in the unit's runtime
#      directory, with a NOTIFY_SOCKET listener standing in for systemd);
#      a real Postfix on loopback, set up with the lines of the installed
#      examples/postfix-main.cf on top of an existing milter, greylists one
#      message (451, then 250 after the delay);
#   4. an upgrade to a repacked .deb with a bumped version whose
#      greyrep.conf and whitelist_recipients changed: the admin's edited
#      greyrep.conf stays (new one as .dpkg-dist), the unedited whitelist
#      is updated, the store and user survive, greyrep starts again;
#   5. apt-get purge: no file of the package, nothing under /etc/greyrep,
#      /var/lib/greyrep, /run/greyrep, and no greyrep user (when the
#      package created it).
# The package is purged at exit, also after a failure (trap).
#
# Run once, as root, on a machine where the package is not installed:
#   GREYREP_SRC=/path/to/tree bash tests/package/deb.sh
#   GREYREP_PKG_CHECK=1   also run the unit tests inside the package build
# tests/run-all.sh runs it in its "package" phase.
set -u
T_NAME=package
. "$(dirname "$0")/../lib.sh"

need_root "package: environment"
need_cmd "package: environment" dpkg-buildpackage dpkg-deb apt-get postfix swaks perl
PY=$(command -v python3) || { skip "package: environment" "python3 not found"; t_exit; }
if dpkg-query -W -f='${Status}' greyrep 2>/dev/null | grep -q 'installed\|config-files'; then
    skip "package" "a greyrep package is already installed here: not touching it"
    t_exit
fi
t_root

export DEBIAN_FRONTEND=noninteractive
APT=(apt-get -y -q -o DPkg::Lock::Timeout=120 -o Dpkg::Options::=--force-confold)
INSTALLED=0
purge_pkg() {
    [ "$INSTALLED" = 1 ] || return 0
    [ -n "${GR_PID:-}" ] && gr_stop "$GR_PID" 10
    "${APT[@]}" purge greyrep >>"$ROOT/apt-purge.log" 2>&1 || dpkg --purge greyrep >>"$ROOT/apt-purge.log" 2>&1
    INSTALLED=0
}
t_on_cleanup purge_pkg

# ------------------------------------------------------------------ 1. build
SRCCOPY=$ROOT/build/greyrep
mkdir -p "$SRCCOPY"
tar -C "$GREYREP_SRC" --exclude=./build --exclude='./build-*' --exclude=./.git -cf - . |
    tar -C "$SRCCOPY" -xf -
if [ -f "$SRCCOPY/Makefile" ]; then (cd "$SRCCOPY" && make distclean >/dev/null 2>&1); fi
VERSION=$(dpkg-parsechangelog -l "$SRCCOPY/debian/changelog" -S Version 2>/dev/null)
ARCH=$(dpkg --print-architecture)
# nocheck: the unit tests run in run-all.sh's own builds (twice); here they
# would only add time and the timing-sensitive Redis cases under load.
# GREYREP_PKG_CHECK=1 runs them in the package build too.
if [ "${GREYREP_PKG_CHECK:-0}" != 1 ]; then
    export DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:+$DEB_BUILD_OPTIONS }nocheck"
    export DEB_BUILD_PROFILES="${DEB_BUILD_PROFILES:+$DEB_BUILD_PROFILES }nocheck"
fi
if (cd "$SRCCOPY" && nice dpkg-buildpackage -us -uc -b) >"$ROOT/build.log" 2>&1; then
    pass "dpkg-buildpackage -us -uc -b from a clean tree${DEB_BUILD_OPTIONS:+ (DEB_BUILD_OPTIONS=$DEB_BUILD_OPTIONS)}"
else
    fail "dpkg-buildpackage -us -uc -b" "see below"; indent "$ROOT/build.log" 30
    t_exit
fi
DEB=$ROOT/build/greyrep_${VERSION}_${ARCH}.deb
[ -f "$DEB" ] || { fail "the .deb" "$DEB missing: $(ls "$ROOT/build")"; t_exit; }

if command -v lintian >/dev/null; then
    lintian --pedantic "$DEB" >"$ROOT/lintian.out" 2>&1
    sed 's/^/  | /' "$ROOT/lintian.out" | grep -v 'running with root privileges'
    if grep -q '^E: ' "$ROOT/lintian.out"; then
        fail "lintian: no error" "$(grep -c '^E: ' "$ROOT/lintian.out") errors"
    else
        pass "lintian: no error ($(grep -c '^W: ' "$ROOT/lintian.out") warnings)"
    fi
else
    skip "lintian" "not installed"
fi

# ------------------------------------------------------------------ 2. install
USER_EXISTED=0
getent passwd greyrep >/dev/null && USER_EXISTED=1
[ $USER_EXISTED = 1 ] && note "a user greyrep exists already (home $(getent passwd greyrep | cut -d: -f6))"
INSTALLED=1
if "${APT[@]}" install "$DEB" >"$ROOT/apt-install.log" 2>&1; then
    pass "apt-get install ./$(basename "$DEB")"
else
    fail "apt-get install" "see below"; indent "$ROOT/apt-install.log" 20
    t_exit
fi
dpkg -L greyrep | sort >"$ROOT/files.list"
for f in /usr/sbin/greyrep /usr/sbin/greyrepctl /usr/share/man/man8/greyrep.8.gz \
    /usr/share/man/man5/greyrep.conf.5.gz /usr/share/man/man8/greyrepctl.8.gz \
    /lib/systemd/system/greyrep.service /usr/lib/tmpfiles.d/greyrep.conf \
    /usr/share/doc/greyrep/copyright /usr/share/doc/greyrep/examples/postfix-main.cf; do
    [ -e "$f" ] || fail "installed: $f" "missing"
done
pass "programs, man pages, unit, tmpfiles.d and examples installed"
conffiles=$(dpkg-query -W -f='${Conffiles}\n' greyrep | awk 'NF { print $1 }' | sort | tr '\n' ' ')
[ "$conffiles" = "/etc/greyrep/greyrep.conf /etc/greyrep/whitelist_clients /etc/greyrep/whitelist_recipients /etc/greyrep/whitelist_senders " ] &&
    pass "greyrep.conf and the whitelists are conffiles" || fail "conffiles" "$conffiles"
uid=$(id -u greyrep 2>/dev/null)
if [ -n "$uid" ] && [ "$uid" -lt 1000 ]; then pass "system user greyrep (uid $uid)"; else
    fail "system user greyrep" "uid '$uid'"; fi
UIDNUM=$uid
st=$(stat -c '%U:%G %a' /var/lib/greyrep 2>&1)
[ "$st" = "greyrep:greyrep 750" ] && pass "/var/lib/greyrep belongs to greyrep, mode 750" ||
    fail "/var/lib/greyrep" "$st"
if command -v systemd-tmpfiles >/dev/null; then
    [ -d /run/greyrep ] && pass "tmpfiles.d made /run/greyrep" || fail "tmpfiles.d" "/run/greyrep missing"
else
    note "no systemd-tmpfiles here: /run/greyrep is made below as the unit's RuntimeDirectory would"
fi
/usr/sbin/greyrep -n >"$ROOT/n.out" 2>&1 && pass "greyrep -n accepts the shipped /etc/greyrep/greyrep.conf" ||
    { fail "greyrep -n on the shipped config" "see below"; indent "$ROOT/n.out"; }
if command -v systemd-analyze >/dev/null; then
    systemd-analyze verify /lib/systemd/system/greyrep.service >"$ROOT/verify.out" 2>&1
    if grep -v 'man greyrep' "$ROOT/verify.out" | grep -q .; then
        fail "systemd-analyze verify greyrep.service" "$(head -3 "$ROOT/verify.out" | tr '\n' ' ')"
    else
        pass "systemd-analyze verify greyrep.service"
    fi
fi

# ------------------------------------------------------------------ 3. run
# The admin's edits: Postfix's group on the socket, a short delay, and no
# DNS from this test machine.  These also make the conffile "edited".
CONF=/etc/greyrep/greyrep.conf
# set_key SECTION KEY VALUE: the admin's line right under [SECTION]
# (greyrep refuses a section given twice)
set_key() {
    grep -qx "\[$1\]" "$CONF" || { echo "[$1]" >>"$CONF"; }
    sed -i "/^\[$1\]\$/a $2 = $3" "$CONF"
}
set_key milter socket_group postfix
set_key greylist delay 3s
set_key dns servers 127.0.0.1:1
set_key dns timeout 1s
set_key spf enabled no
set_key iprev enabled no
set_key dkim enabled no
cp "$CONF" "$ROOT/conf.edited"
/usr/sbin/greyrep -n >"$ROOT/n2.out" 2>&1 || { fail "greyrep -n on the edited config" "see below"; indent "$ROOT/n2.out"; }

NOTIFY=$ROOT/notify.out
# notify_listener: a stand-in for systemd's notify socket
notify_listener() {
    rm -f "$NOTIFY" "$ROOT/notify.sock"
    "$PY" - "$ROOT/notify.sock" "$NOTIFY" <<'EOF' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o777)
s.settimeout(120)
open(sys.argv[2], "w").close()
while True:
    try:
        d = s.recv(4096).decode()
    except socket.timeout:
        break
    with open(sys.argv[2], "a") as f:
        f.write(d.replace("\n", "|") + "\n")
    if "STOPPING=1" in d:
        break
EOF
    NOTIFY_PID=$!
    t_on_cleanup "kill $NOTIFY_PID"
    wait_for 10 test -e "$NOTIFY"
}

SYSTEMD=0
[ "$(ps -p 1 -o comm= 2>/dev/null)" = systemd ] && [ -d /run/systemd/system ] && SYSTEMD=1
UNIT=/lib/systemd/system/greyrep.service
EXEC=$(sed -n 's/^ExecStart=//p' "$UNIT")
SOCK=/run/greyrep/greyrep.sock
# start_greyrep LABEL: as the unit does; waits for READY=1
start_greyrep() {
    if [ $SYSTEMD = 1 ]; then
        systemctl restart greyrep && systemctl is-active -q greyrep && return 0
        journalctl -u greyrep -n 20 --no-pager | sed 's/^/  | /'
        return 1
    fi
    # RuntimeDirectory=greyrep, RuntimeDirectoryMode=0755, UMask=0027, root
    mkdir -p -m 0755 /run/greyrep
    notify_listener
    echo "==== $(date '+%F %T') $1: $EXEC" >>"$ROOT/greyrep.log"
    # shellcheck disable=SC2086
    (umask 0027; cd /; NOTIFY_SOCKET=$ROOT/notify.sock exec $EXEC) </dev/null >>"$ROOT/greyrep.log" 2>&1 &
    GR_PID=$!
    GR_STARTED+=("$GR_PID")
    wait_for 15 grep -q '^READY=1' "$NOTIFY" || { indent "$ROOT/greyrep.log"; return 1; }
}
stop_greyrep() {
    if [ $SYSTEMD = 1 ]; then systemctl stop greyrep; return; fi
    gr_stop "$GR_PID" 20
    GR_PID=
}

if start_greyrep "first start"; then
    pass "greyrep started as the unit starts it ($EXEC), READY=1 received"
else
    fail "greyrep start" "no READY=1"; t_exit
fi
[ $SYSTEMD = 1 ] || note "PID 1 is $(ps -p 1 -o comm=): no systemd, ran the unit's ExecStart by hand"
ps -o user= -p "$GR_PID" 2>/dev/null | grep -qx greyrep && pass "greyrep runs as user greyrep" ||
    fail "greyrep user" "runs as $(ps -o user= -p "$GR_PID")"
[ "$(stat -c '%U:%G' "$SOCK" 2>/dev/null)" = greyrep:postfix ] && pass "socket greyrep:postfix" ||
    fail "socket owner" "$(stat -c '%U:%G %a' "$SOCK" 2>&1)"
if [ $SYSTEMD = 0 ]; then
    ! grep -vq '^====' "$ROOT/greyrep.log" && pass "-f -s: no log line on stderr (no second copy in the journal)" ||
        fail "-f -s: stderr" "$(grep -v '^====' "$ROOT/greyrep.log" | head -2 | tr '\n' ' ')"
fi

# A private Postfix with an "existing" milter (down, default_action=accept,
# like an OpenDKIM that is not running), then the documented lines.
EX=/usr/share/doc/greyrep/examples/postfix-main.cf
PFPORT=$(free_port 2600) || { fail "postfix port" "no free port"; t_exit; }
pf_setup "$ROOT/postfix" "$PFPORT" "{ inet:127.0.0.1:1, default_action=accept }" tempfail ||
    { fail "postfix setup" "pf_setup failed"; t_exit; }
grep '^greyrep_milter = ' "$EX" >>"$ROOT/postfix/etc/main.cf"
pc() { postconf -c "$ROOT/postfix/etc" "$@" 2>/dev/null; }
# step 2 of postfix-main.cf, run as documented
pc -h smtpd_milters | grep -q greyrep_milter ||
    pc -e "smtpd_milters = $(pc -h smtpd_milters) \$greyrep_milter"
pc -h smtpd_milters | grep -q greyrep_milter ||
    pc -e "smtpd_milters = $(pc -h smtpd_milters) \$greyrep_milter"
milters=$(pc -hx smtpd_milters)
case $milters in
    "{ inet:127.0.0.1:1, default_action=accept } { unix:/run/greyrep/greyrep.sock,"*)
        [ "$(pc -h smtpd_milters | grep -o greyrep_milter | wc -l)" = 1 ] &&
            pass "postfix-main.cf: greyrep appended after the existing milter, once" ||
            fail "postfix-main.cf: once" "$(pc -h smtpd_milters)" ;;
    *) fail "postfix-main.cf: appended" "smtpd_milters = $milters" ;;
esac
pf_start || { fail "postfix start" "see maillog"; indent "$ROOT/postfix/maillog"; t_exit; }

greylist_once() {
    local label=$1 ip=$2 tag=$3
    smtp "$tag-1" --xclient-addr "$ip" --from "pkg-$tag@example.org" --to "bob@rig.test"
    [ "$SMTP_RCPT" = 451 ] && pass "$label: a new triplet gets 451 at RCPT TO" ||
        { fail "$label: first attempt" "RCPT '$SMTP_RCPT'"; smtp_show; indent "$ROOT/postfix/maillog" 8; }
    sleep 4
    smtp "$tag-2" --xclient-addr "$ip" --from "pkg-$tag@example.org" --to "bob@rig.test"
    if [ "$SMTP_RCPT" = 250 ] && [ "$SMTP_DATA" = 250 ] && pf_delivered "$tag-2" 10 >/dev/null; then
        pass "$label: the retry after the delay is accepted and delivered"
    else
        fail "$label: retry" "RCPT '$SMTP_RCPT' DATA '$SMTP_DATA'"; smtp_show
    fi
}
greylist_once "first install" 192.0.2.77 first

/usr/sbin/greyrepctl greylist list >"$ROOT/list.out" 2>&1
grep -q 'pkg-first@example.org' "$ROOT/list.out" &&
    pass "greyrepctl (as root) lists the triplet" || { fail "greyrepctl greylist list" "see below"; indent "$ROOT/list.out"; }
owners=$(find /var/lib/greyrep -mindepth 1 -printf '%u\n' | sort -u | tr '\n' ' ')
[ "$owners" = "greyrep " ] && pass "store files belong to greyrep after greyrepctl as root" ||
    fail "store owners" "'$owners'"

stop_greyrep
if [ $SYSTEMD = 0 ]; then
    wait_for 10 grep -q '^STOPPING=1' "$NOTIFY" && pass "STOPPING=1 at stop" ||
        fail "STOPPING=1" "$(cat "$NOTIFY")"
fi

# ------------------------------------------------------------------ 4. upgrade
V2=${VERSION}+pkgtest1
RP=$ROOT/repack
dpkg-deb -R "$DEB" "$RP"
sed -i "s/^Version: .*/Version: $V2/" "$RP/DEBIAN/control"
echo "# a line the new version adds" >>"$RP/etc/greyrep/greyrep.conf"
echo "# a line the new version adds" >>"$RP/etc/greyrep/whitelist_recipients"
# (DEBIAN/md5sums lists no conffile: nothing else to update)
DEB2=$ROOT/greyrep_${V2}_${ARCH}.deb
dpkg-deb -b "$RP" "$DEB2" >"$ROOT/repack.log" 2>&1 || { fail "repack" "see below"; indent "$ROOT/repack.log"; }
cp "$RP/etc/greyrep/greyrep.conf" "$ROOT/conf.v2"
cp "$RP/etc/greyrep/whitelist_recipients" "$ROOT/wlr.v2"
if "${APT[@]}" install "$DEB2" >"$ROOT/apt-upgrade.log" 2>&1; then
    pass "upgrade to $V2 with apt-get install (--force-confold, as unattended upgrades do)"
else
    fail "upgrade" "see below"; indent "$ROOT/apt-upgrade.log" 20
fi
[ "$(dpkg-query -W -f='${Version}' greyrep)" = "$V2" ] && pass "version $V2 installed" ||
    fail "upgrade version" "$(dpkg-query -W -f='${Version}' greyrep)"
cmp -s "$CONF" "$ROOT/conf.edited" && pass "upgrade keeps the admin's edited greyrep.conf" ||
    fail "edited conffile kept" "$(diff "$ROOT/conf.edited" "$CONF" | head -3 | tr '\n' ' ')"
cmp -s "$CONF.dpkg-dist" "$ROOT/conf.v2" && pass "the new greyrep.conf waits beside it as greyrep.conf.dpkg-dist" ||
    fail "greyrep.conf.dpkg-dist" "$(ls /etc/greyrep)"
cmp -s /etc/greyrep/whitelist_recipients "$ROOT/wlr.v2" && pass "an unedited conffile is updated" ||
    fail "unedited conffile updated" "whitelist_recipients is not the new one"
[ "$(id -u greyrep 2>/dev/null)" = "$UIDNUM" ] && [ "$(stat -c %U /var/lib/greyrep/data.mdb 2>/dev/null)" = greyrep ] &&
    pass "user and store survive the upgrade" || fail "upgrade: user/store" "uid $(id -u greyrep 2>&1)"
if start_greyrep "after upgrade"; then
    /usr/sbin/greyrepctl greylist list >"$ROOT/list2.out" 2>&1
    grep -q 'pkg-first@example.org' "$ROOT/list2.out" && pass "after the upgrade greyrep runs on the old store (triplet still there)" ||
        fail "store after upgrade" "$(head -3 "$ROOT/list2.out")"
    greylist_once "after upgrade" 192.0.2.78 upgraded
    stop_greyrep
else
    fail "greyrep after upgrade" "did not start"
fi
pf_stop

# ------------------------------------------------------------------ 5. purge
dpkg -L greyrep | sort >"$ROOT/files2.list"
if "${APT[@]}" purge greyrep >"$ROOT/apt-purge.log" 2>&1; then
    INSTALLED=0
    pass "apt-get purge greyrep"
else
    fail "apt-get purge" "see below"; indent "$ROOT/apt-purge.log"
fi
dpkg-query -W -f='${Status}' greyrep 2>/dev/null | grep -q 'installed\|config-files' &&
    fail "purge: package gone" "$(dpkg-query -W -f='${Status}' greyrep)" || pass "purge: dpkg knows no greyrep"
left=""
while read -r f; do
    if [ -d "$f" ]; then continue; fi # shared directories (and /lib -> usr/lib) stay
    if [ -e "$f" ] || [ -L "$f" ]; then left="$left $f"; fi
done <"$ROOT/files2.list"
[ -z "$left" ] && pass "purge: every file the package installed is gone" || fail "purge: files left" "$left"
left=$(find /etc/greyrep /var/lib/greyrep /run/greyrep 2>/dev/null | tr '\n' ' ')
[ -z "$left" ] && pass "purge: nothing under /etc/greyrep, /var/lib/greyrep, /run/greyrep" ||
    fail "purge: left" "$left"
if [ $USER_EXISTED = 0 ]; then
    getent passwd greyrep >/dev/null && fail "purge: user removed" "greyrep still exists" ||
        pass "purge: the greyrep user and group are gone"
    getent group greyrep >/dev/null && fail "purge: group removed" "group greyrep still exists"
    owned=$(find /etc /var /run /usr /tmp -xdev -uid "$UIDNUM" 2>/dev/null | grep -v "^$ROOT" | head -5 | tr '\n' ' ')
    [ -z "$owned" ] && pass "purge: no file owned by the old uid $UIDNUM" || fail "purge: files of uid $UIDNUM" "$owned"
else
    getent passwd greyrep >/dev/null && pass "purge: a greyrep user the package did not create is kept" ||
        fail "purge: pre-existing user" "was removed"
    # The removal itself cannot be seen here without deleting a user other
    # tests use: run the package's postrm with getent/deluser/delgroup
    # stand-ins that only record what they are asked (everything it
    # removes is gone already).
    mkdir -p "$ROOT/stub"
    dpkg-deb -e "$DEB" "$ROOT/ctl"
    for home in /var/lib/greyrep /nonexistent; do
        cat >"$ROOT/stub/getent" <<STUB
#!/bin/sh
[ "\$1" = passwd ] && echo "greyrep:x:999:999::$home:/usr/sbin/nologin" && exit 0
[ "\$1" = group ] && echo "greyrep:x:999:" && exit 0
exit 2
STUB
        printf '#!/bin/sh\necho "$(basename "$0") $*" >>%s\n' "$ROOT/stub.calls" >"$ROOT/stub/deluser"
        cp "$ROOT/stub/deluser" "$ROOT/stub/delgroup"
        chmod 755 "$ROOT"/stub/*
        : >"$ROOT/stub.calls"
        PATH=$ROOT/stub:$PATH sh "$ROOT/ctl/postrm" purge >"$ROOT/postrm.out" 2>&1
        calls=$(tr '\n' ';' <"$ROOT/stub.calls")
        if [ $home = /var/lib/greyrep ]; then
            [ "$calls" = "deluser --system --quiet greyrep;delgroup --system --quiet --only-if-empty greyrep;" ] &&
                pass "postrm purge removes the user it made (home /var/lib/greyrep), then its group" ||
                fail "postrm purge: our user" "calls: '$calls' $(cat "$ROOT/postrm.out")"
        else
            [ -z "$calls" ] && pass "postrm purge keeps a greyrep user with another home" ||
                fail "postrm purge: other user" "calls: '$calls'"
        fi
    done
fi

t_exit
