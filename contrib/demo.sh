#!/bin/bash
# contrib/demo.sh - see greyrep greylist a message, in about a minute.
#
#   sudo bash contrib/demo.sh [--keep] [--no-install] [--build-dir DIR] [--port N]
#
# On Debian 12, as root: installs what the demo needs, builds greyrep,
# starts greyrep and a private Postfix on 127.0.0.1:2525 (its own
# configuration, queue and mailbox in a temporary directory; the system's
# mail setup is not touched), sends a message twice with swaks and shows
# what happens.  Everything it starts is stopped again at the end, and the
# temporary directory removed, unless --keep is given.
#
#   --keep          leave greyrep and Postfix running to play with
#   --no-install    do not run apt-get (the packages are already there)
#   --build-dir DIR use the greyrep already built in DIR
#   --port N        Postfix port (default 2525, or the next free one)
set -u
KEEP_RUNNING=0
INSTALL=1
BUILD_DIR=
PORT=2525
while [ $# -gt 0 ]; do
    case $1 in
        --keep) KEEP_RUNNING=1 ;;
        --no-install) INSTALL=0 ;;
        --build-dir) BUILD_DIR=$2; shift ;;
        --port) PORT=$2; shift ;;
        -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "demo.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
    esac
    shift
done

SRC=$(cd "$(dirname "$0")/.." && pwd)
DELAY=10
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
[ -t 1 ] || step() { printf '\n==> %s\n' "$*"; }
show() { sed 's/^/    /'; }
die() { printf '\ndemo.sh: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run me as root (sudo bash $0): the demo starts a private Postfix instance"

# ---------------------------------------------------------------- 1. packages
if [ $INSTALL = 1 ]; then
    NEED="postfix swaks perl gcc make autoconf automake libtool pkg-config
          libmilter-dev liblmdb-dev libc-ares-dev libopendkim-dev libspf2-dev libhiredis-dev"
    missing=$(for p in $NEED; do dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || echo "$p"; done)
    if [ -n "$missing" ]; then
        step "Installing what the demo needs: $(echo $missing)"
        made_policy=0
        if [ ! -e /usr/sbin/policy-rc.d ]; then
            # keep the packaged daemons (a system Postfix) from starting
            printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d
            made_policy=1
        fi
        # "No configuration": the package installs no system mail setup
        dpkg-query -W postfix >/dev/null 2>&1 ||
            echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
        { DEBIAN_FRONTEND=noninteractive apt-get update -q &&
          DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing; } \
            >/tmp/greyrep-demo-apt.log 2>&1
        rc=$?
        [ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
        [ $rc = 0 ] || { tail -n 20 /tmp/greyrep-demo-apt.log; die "apt-get failed (log: /tmp/greyrep-demo-apt.log)"; }
        echo "    done"
    else
        step "The packages the demo needs are already installed"
    fi
fi

# ---------------------------------------------------------------- 2. build
if [ -n "$BUILD_DIR" ]; then
    BUILD_DIR=$(cd "$BUILD_DIR" && pwd) || die "no such build directory"
    step "Using the greyrep built in $BUILD_DIR"
elif [ -f "$SRC/config.status" ]; then
    BUILD_DIR=$SRC
    step "Building greyrep (make, in the already configured source tree)"
    make -C "$SRC" >/tmp/greyrep-demo-build.log 2>&1 ||
        { tail -n 30 /tmp/greyrep-demo-build.log; die "build failed (log: /tmp/greyrep-demo-build.log)"; }
    echo "    done"
else
    BUILD_DIR=$SRC/build/demo
    step "Building greyrep in $BUILD_DIR (autoreconf, configure, make; about a minute)"
    {
        { [ -x "$SRC/configure" ] || (cd "$SRC" && autoreconf -fi); } &&
        mkdir -p "$BUILD_DIR" &&
        { [ -f "$BUILD_DIR/Makefile" ] || (cd "$BUILD_DIR" && "$SRC/configure"); } &&
        make -C "$BUILD_DIR" -j"$(nproc)" src/greyrep src/greyrepctl
    } >/tmp/greyrep-demo-build.log 2>&1 ||
        { tail -n 30 /tmp/greyrep-demo-build.log; die "build failed (log: /tmp/greyrep-demo-build.log)"; }
    echo "    done"
fi
export GREYREP_BUILD=$BUILD_DIR
[ -x "$BUILD_DIR/src/greyrep" ] && [ -x "$BUILD_DIR/src/greyrepctl" ] ||
    die "$BUILD_DIR/src/greyrep or greyrepctl is missing"

# The helpers of the test suite start and stop Postfix and greyrep for us.
T_NAME=demo
. "$SRC/tests/lib.sh"
note() { :; }
t_root
D=$ROOT
[ $KEEP_RUNNING = 1 ] && KEEP=1

# ---------------------------------------------------------------- 3. greyrep
cp "$SRC/etc/whitelist_clients" "$SRC/etc/whitelist_recipients" "$SRC/etc/whitelist_senders" "$D/" 2>/dev/null
user=$(gr_user) || die "cannot create the system user greyrep"
cat >"$D/greyrep.conf" <<EOF
# greyrep demo configuration (see greyrep.conf(5) and etc/greyrep.conf)
[milter]
socket = unix:$D/greyrep.sock
user = $user
socket_group = postfix
pidfile = $D/greyrep.pid

[store]
path = $D/db

[greylist]
delay = ${DELAY}s

[whitelist]
clients = $D/whitelist_clients
recipients = $D/whitelist_recipients
senders = $D/whitelist_senders

# The demo shows greylisting alone: no DNS lookups (SPF, reverse DNS, DKIM)
# leave this machine; nothing answers on this address.
[dns]
servers = 127.0.0.1:1
EOF
gr_no_checks_extra >>"$D/greyrep.conf"
chmod 644 "$D"/greyrep.conf "$D"/whitelist_*
GR_CONF=$D/greyrep.conf
step "Starting greyrep with a $DELAY-second greylisting delay and its LMDB store in $D/db"
echo "    $BUILD_DIR/src/greyrep -f -c $GR_CONF      (log: $D/greyrep.log)"
gr_start "$GR_CONF" "unix:$D/greyrep.sock" "$D/greyrep.log" || die "greyrep did not start (log above)"

# ---------------------------------------------------------------- 4. Postfix
PORT=$(free_port "$PORT") || die "no free port from $PORT on"
step "Starting a private Postfix on 127.0.0.1:$PORT that asks greyrep about every message"
echo "    smtpd_milters = unix:$D/greyrep.sock   (config: $D/postfix/etc/main.cf)"
pf_setup "$D/postfix" "$PORT" "unix:$D/greyrep.sock" tempfail || die "postfix setup failed"
pf_start || die "postfix did not start (log: $D/postfix/maillog)"

# ---------------------------------------------------------------- 5. first try
# The client pretends (Postfix XCLIENT) to be 192.0.2.10, an address from
# outside: greyrep trusts loopback clients by default.
CLIENT=192.0.2.10
FROM=alice@example.org
TO=bob@example.test
try() {
    smtp demo --xclient-addr "$CLIENT" --xclient-name mail.example.org \
        --from "$FROM" --to "$TO" --header "Subject: greyrep demo"
    grep -E '^ *(-> (MAIL|RCPT|DATA)|<(-|\*\*) +(250 2\.[01]\.[0-9]|354|451|250 2\.0\.0 Ok))' "$SMTP_LOG" | show
}
step "Sending a message from a client greyrep has never seen ($CLIENT, $FROM -> $TO)"
try
[ "$SMTP_RCPT" = 451 ] || die "expected a 451 reply at RCPT TO, got '$SMTP_RCPT'"
echo "    -> greyrep answered 451 4.7.1: a real mail server queues the message and retries later."

# ---------------------------------------------------------------- 6. retry
step "Waiting $DELAY seconds, as the sending server would before it retries"
for i in $(seq "$DELAY" -1 1); do printf '\r    %2d s ' "$i"; sleep 1; done
printf '\r    done \n'
sleep 1
step "Retrying the same message: the delay is over, so greyrep lets it through"
try
[ "$SMTP_RCPT" = 250 ] && [ "$SMTP_DATA" = 250 ] || die "expected 250 for RCPT and DATA, got '$SMTP_RCPT' / '$SMTP_DATA'"

# ---------------------------------------------------------------- 7. results
step "The delivered message (in $D/postfix/vmail/inbox/new/) carries greyrep's header"
f=$(pf_delivered demo 10) || die "the message was not delivered (log: $D/postfix/maillog)"
f=$(echo "$f" | head -1)
grep -E '^(X-Greylist|Subject|From|To):' "$f" | show

step "What greyrep remembers: greyrepctl -c $GR_CONF greylist list"
"$GREYREPCTL" -c "$GR_CONF" greylist list 2>&1 | show

step "greyrep's log of the two attempts"
grep -vE '^====' "$D/greyrep.log" | tail -n 8 | show

# ---------------------------------------------------------------- 8. end
if [ $KEEP_RUNNING = 1 ]; then
    PF_STARTED=()
    GR_STARTED=()
    step "Left running (--keep)"
    cat <<EOF | show
Postfix:  127.0.0.1:$PORT   try: swaks --server 127.0.0.1 --port $PORT --xclient-addr 192.0.2.20 --to someone@example.test
greyrep:  pid $GR_PID, config $GR_CONF, log $D/greyrep.log
inspect:  $GREYREPCTL -c $GR_CONF greylist list
stop:     postfix -c $D/postfix/etc stop; kill $GR_PID; rm -rf $D
EOF
else
    step "Stopping greyrep and Postfix, removing $D"
    t_cleanup
    echo "    done"
fi
echo
echo "Demo finished: greyrep delayed a new sender with 451 4.7.1 and accepted its retry."
exit 0
