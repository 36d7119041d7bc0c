# shellcheck shell=bash
# tests/lib-sendmail.sh - a private Sendmail 8.17 for greyrep's integration
# tests (bash; source it after tests/lib.sh).
#
# Debian's sendmail-bin Conflicts with postfix (mail-transport-agent), so it
# is never installed: the three .debs are fetched with "apt-get download"
# and unpacked with "dpkg -x" into a cache directory, and the binary is run
# with its own configuration under the test's temporary root.
#
# Sendmail sleeps 60 s at start when the host name has no dot, and resolves
# names through the system resolver before it has read its configuration:
# run it inside a private mount + UTS namespace with an FQDN host name and a
# private /etc/hosts and /etc/resolv.conf (sm_namespace_files), as
# tests/integration/sendmail.sh does for the whole test.  Its syslog lines
# reach SM_DIR/maillog through a small datagram sink bound over /dev/log in
# a private /dev of the daemon's own mount namespace.
#
#   sm_packages                 install liblockfile1 libwrap0 m4 iproute2
#                               if missing (needs the network)
#   sm_fetch CACHE              SM_TREE=CACHE/root holds usr/libexec/sendmail
#                               (downloads and unpacks once; needs the network)
#   sm_setup DIR PORT FRAGMENT  write DIR/{test.mc,test.cf,...}; FRAGMENT is
#                               an .mc file that is include()d unchanged
#   sm_start / sm_stop          the daemon (-bD, SMTP transcript DIR/traffic.log)
#   sm_delivered ID [T]         delivered file(s) with "X-Test-Id: ID"

SM_TREE=${SM_TREE:-}
SM_DIR=
SM_PORT=
SM_PID=
SM_SINK_PID=

# sm_packages: runtime libraries of the unpacked sendmail binary, m4 for
# the .cf, iproute2 for the namespace addresses
sm_packages() {
    local p missing=()
    for p in liblockfile1 libwrap0 m4 iproute2; do
        dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
        >/dev/null 2>&1 && return 0
    apt-get update -q >/dev/null 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
        >/dev/null 2>&1
}

# sm_fetch CACHE: download and unpack sendmail-bin, sendmail-base and
# sendmail-cf into CACHE/root unless already there.  Sets SM_TREE.
sm_fetch() {
    local cache=$1 tmp
    SM_TREE=$cache/root
    if [ -x "$SM_TREE/usr/libexec/sendmail/sendmail" ] &&
        [ -f "$SM_TREE/usr/share/sendmail/cf/m4/cf.m4" ]; then
        return 0
    fi
    mkdir -p "$cache" || return 1
    tmp=$(mktemp -d "$cache/fetch.XXXXXX") || return 1
    mkdir -p "$tmp/debs" "$tmp/root"
    chmod 777 "$tmp/debs"     # apt drops to user _apt for downloads
    if ! (cd "$tmp/debs" && apt-get download sendmail-bin sendmail-base sendmail-cf) \
        >"$tmp/download.log" 2>&1; then
        # a fresh machine may not have the package lists yet
        apt-get update -q >>"$tmp/download.log" 2>&1
        (cd "$tmp/debs" && apt-get download sendmail-bin sendmail-base sendmail-cf) \
            >>"$tmp/download.log" 2>&1
    fi
    local d n=0
    for d in "$tmp"/debs/*.deb; do
        [ -f "$d" ] || continue
        dpkg -x "$d" "$tmp/root" || { rm -rf "$tmp"; return 1; }
        n=$((n + 1))
    done
    if [ "$n" -ne 3 ] || [ ! -x "$tmp/root/usr/libexec/sendmail/sendmail" ]; then
        echo "sm_fetch: could not download/unpack the sendmail packages:" >&2
        tail -n 5 "$tmp/download.log" >&2
        rm -rf "$tmp"
        return 1
    fi
    # another run may have finished first: keep whichever tree is complete
    if [ ! -x "$cache/root/usr/libexec/sendmail/sendmail" ]; then
        rm -rf "$cache/root.old"
        [ -e "$cache/root" ] && mv "$cache/root" "$cache/root.old"
        mv "$tmp/root" "$cache/root"
        rm -rf "$cache/root.old"
    fi
    cp "$tmp"/debs/*.deb "$cache/" 2>/dev/null
    rm -rf "$tmp"
    [ -x "$SM_TREE/usr/libexec/sendmail/sendmail" ]
}

# sm_version: "8.17.1.9" or so
sm_version() {
    "$SM_TREE/usr/libexec/sendmail/sendmail" -d0.1 -bt </dev/null 2>/dev/null |
        sed -n 's/^Version \([0-9.]*\).*/\1/p' | head -1
}

# sm_namespace_files DIR FQDN: hosts, resolv.conf and host.conf for the
# private mount namespace.  Extra "ADDRESS NAME" lines for /etc/hosts may
# be given in SM_HOSTS_EXTRA (one a line).
sm_namespace_files() {
    local R=$1 fqdn=$2
    mkdir -p "$R"
    {
        printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n'
        printf '127.0.0.1\t%s %s\n::1\t%s %s\n' "$fqdn" "${fqdn%%.*}" "$fqdn" "${fqdn%%.*}"
        [ -n "${SM_HOSTS_EXTRA:-}" ] && printf '%s\n' "$SM_HOSTS_EXTRA"
    } >"$R/hosts"
    # nothing answers on 127.0.0.1:53 in the test's network namespace
    printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$R/resolv.conf"
    printf 'multi off\n' >"$R/host.conf"
    chmod 644 "$R/hosts" "$R/resolv.conf" "$R/host.conf"
}

# sm_setup DIR PORT FRAGMENT [FQDN]: a Sendmail configuration under DIR
# (absolute) listening on 127.0.0.1:PORT (and [::1]:PORT with IPv6),
# delivering every recipient in rig.test to DIR/maildir/new (one file per
# message).  FRAGMENT (the greyrep lines for sendmail.mc) is include()d as
# it is, before the MAILER lines.
sm_setup() {
    local R=$1 port=$2 fragment=$3 fqdn=${4:-mx.rig.test} v6
    local cfdir=$SM_TREE/usr/share/sendmail/cf
    case $R in /*) ;; *) echo "sm_setup: $R is not absolute" >&2; return 1;; esac
    mkdir -p "$R/etc" "$R/run" "$R/mqueue" "$R/maildir/new" "$R/maildir/tmp" "$R/maildir/cur"
    chmod 755 "$R" "$R/etc" "$R/run"
    chmod 700 "$R/mqueue"
    printf 'hosts\tfiles\naliases\tfiles\n' >"$R/etc/service.switch"
    printf 'postmaster: root\n' >"$R/etc/aliases"
    printf 'rig.test\n%s\n' "$fqdn" >"$R/etc/local-host-names"
    cp "$SM_TREE/etc/mail/helpfile" "$R/etc/helpfile" 2>/dev/null || : >"$R/etc/helpfile"
    : >"$R/run/sendmail.st"
    cat >"$R/deliver.sh" <<EOF
#!/bin/sh
# local mailer of the test Sendmail: one file per message and recipient
f="\$(date +%s.%N).\$\$.\$1"
cat >"$R/maildir/tmp/\$f" && mv "$R/maildir/tmp/\$f" "$R/maildir/new/\$f"
EOF
    chmod 755 "$R/deliver.sh"
    v6="DAEMON_OPTIONS(\`Family=inet6, Name=MTA-v6, Addr=::1, Port=$port')dnl"
    have_ipv6 || v6="dnl no IPv6 on this host"
    cat >"$R/test.mc" <<EOF
divert(-1)dnl
# greyrep integration test: Sendmail on loopback, delivering to a Maildir.
# Built by tests/lib-sendmail.sh (sm_setup); the greyrep lines are the
# shipped fragment, read unchanged near the end.
divert(0)dnl
VERSIONID(\`greyrep integration test')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`$fqdn')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`QUEUE_DIR', \`$R/mqueue')dnl
define(\`confPID_FILE', \`$R/run/sendmail.pid')dnl
define(\`STATUS_FILE', \`$R/run/sendmail.st')dnl
define(\`ALIAS_FILE', \`$R/etc/aliases')dnl
define(\`HELP_FILE', \`$R/etc/helpfile')dnl
define(\`confCW_FILE', \`$R/etc/local-host-names')dnl
define(\`confSERVICE_SWITCH_FILE', \`$R/etc/service.switch')dnl
define(\`confDEAD_LETTER_DROP', \`$R/run/dead.letter')dnl
define(\`confEBINDIR', \`$SM_TREE/usr/libexec/sendmail')dnl
define(\`confTO_IDENT', \`0s')dnl
define(\`confLOG_LEVEL', \`14')dnl
define(\`confMILTER_LOG_LEVEL', \`14')dnl
define(\`confQUEUE_LA', \`100')dnl
define(\`confREFUSE_LA', \`100')dnl
define(\`confMIN_FREE_BLOCKS', \`0')dnl
define(\`confDONT_BLAME_SENDMAIL', \`TrustStickyBit')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`use_cw_file')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`accept_unqualified_senders')dnl
define(\`LOCAL_MAILER_PATH', \`$R/deliver.sh')dnl
define(\`LOCAL_MAILER_ARGS', \`deliver.sh \$u')dnl
define(\`LOCAL_MAILER_FLAGS', \`SPn9')dnl
MODIFY_MAILER_FLAGS(\`LOCAL', \`-w')dnl
DAEMON_OPTIONS(\`Family=inet, Name=MTA-v4, Addr=127.0.0.1, Port=$port')dnl
$v6
dnl ---- the greyrep fragment, unchanged: $fragment
include(\`$fragment')dnl
dnl ---- end of the fragment
MAILER(\`local')dnl
MAILER(\`smtp')dnl
EOF
    if ! m4 -D_CF_DIR_="$cfdir/" "$cfdir/m4/cf.m4" "$R/test.mc" >"$R/test.cf" 2>"$R/m4.err" ||
        [ -s "$R/m4.err" ]; then
        echo "sm_setup: m4 failed:" >&2
        cat "$R/m4.err" >&2
        return 1
    fi
    SM_DIR=$R
    SM_PORT=$port
    # the alias database (else every message is queued: "alias database unavailable")
    "$SM_TREE/usr/libexec/sendmail/sendmail" -C "$R/test.cf" -bi >"$R/newaliases.out" 2>&1 ||
        { echo "sm_setup: sendmail -bi failed:" >&2; cat "$R/newaliases.out" >&2; return 1; }
}

# sm_sink_start: the syslog sink writing SM_DIR/maillog
sm_sink_start() {
    if [ -n "$SM_SINK_PID" ] && kill -0 "$SM_SINK_PID" 2>/dev/null; then return 0; fi
    rm -f "$SM_DIR/run/log.sock"
    : >>"$SM_DIR/maillog"
    python3 - "$SM_DIR/run/log.sock" "$SM_DIR/maillog" >"$SM_DIR/run/sink.out" 2>&1 </dev/null <<'PY' &
import os, socket, sys
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
with open(out, "a", buffering=1) as f:
    while True:
        data = s.recv(65536)
        f.write(data.decode("utf-8", "replace").rstrip("\n\0") + "\n")
PY
    SM_SINK_PID=$!
    wait_for 5 test -S "$SM_DIR/run/log.sock"
}
sm_sink_stop() {
    [ -n "$SM_SINK_PID" ] || return 0
    kill "$SM_SINK_PID" 2>/dev/null
    wait "$SM_SINK_PID" 2>/dev/null
    SM_SINK_PID=
}

# sm_start: run the daemon in the foreground (-bD) in the background, in a
# mount namespace of its own whose /dev is a tmpfs with the usual nodes and
# /dev/log bound to the sink.  Waits until 127.0.0.1:SM_PORT answers.
sm_start() {
    local R=$SM_DIR
    sm_sink_start || { echo "sm_start: the syslog sink did not start" >&2; return 1; }
    mkdir -p "$R/hostdev"
    : >"$R/traffic.log"
    unshare --mount sh -c '
        set -e
        R=$1; shift
        mount --rbind /dev "$R/hostdev"
        mount -t tmpfs -o mode=755 smdev /dev
        for n in null zero full random urandom tty; do
            touch /dev/$n; mount --bind "$R/hostdev/$n" /dev/$n
        done
        ln -s /proc/self/fd /dev/fd
        touch /dev/log; mount --bind "$R/run/log.sock" /dev/log
        exec "$@"' sh "$R" \
        "$SM_TREE/usr/libexec/sendmail/sendmail" -C "$R/test.cf" -bD -X "$R/traffic.log" \
        >>"$R/daemon.out" 2>&1 </dev/null &
    SM_PID=$!
    if ! wait_for 15 tcp_open 127.0.0.1 "$SM_PORT"; then
        echo "sm_start: sendmail did not open 127.0.0.1:$SM_PORT" >&2
        tail -n 5 "$R/daemon.out" "$R/maillog" >&2
        return 1
    fi
}
# sm_stop: SIGTERM the daemon (its pid), wait up to 10 s, then SIGKILL
sm_stop() {
    [ -n "$SM_PID" ] || return 0
    kill -TERM "$SM_PID" 2>/dev/null
    wait_for 10 pid_gone "$SM_PID" || kill -KILL "$SM_PID" 2>/dev/null
    wait "$SM_PID" 2>/dev/null
    SM_PID=
}

# sm_delivered ID [TIMEOUT]: the delivered files carrying "X-Test-Id: ID"
sm_grep_delivered() { grep -lsx "X-Test-Id: $1" "$SM_DIR"/maildir/new/* 2>/dev/null; }
sm_delivered() {
    wait_for "${2:-10}" sm_grep_delivered "$1" || return 1
    sm_grep_delivered "$1"
}

