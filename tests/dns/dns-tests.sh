#!/bin/sh
# NAME
#   dns-tests.sh - resolver.c and spf.c against a real unbound on loopback
# SYNOPSIS
#   tests/dns/dns-tests.sh          (from the build directory; make check runs it)
# DESCRIPTION
#   Starts unbound (tests/dns/unbound-start.sh) in a temporary directory on
#   port $GREYREP_DNS_PORT (default 5353) of 127.0.0.1 and ::1, runs
#   tests/unit/test_resolver and tests/unit/test_spf against it over IPv4
#   and, when the loopback has it, IPv6, then stops unbound by its pid.
#   Without unbound only their in-memory-zone parts run.
#   Exit 0 if all passed, 1 if not, 99 if unbound did not start.
set -u
srcdir=${srcdir:-.}
HERE=$srcdir/tests/dns
BIN=${BUILDDIR:-.}/tests/unit
PORT=${GREYREP_DNS_PORT:-5353}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/greyrep-dns.XXXXXX")
cleanup() {
    "$HERE/unbound-start.sh" -k "$TMP/dns"
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

SERVERS=
if command -v unbound >/dev/null 2>&1; then
    "$HERE/unbound-start.sh" "$TMP/dns" "$PORT" || exit 99
    SERVERS="127.0.0.1:$PORT"
    if grep -q ' lo$' /proc/net/if_inet6 2>/dev/null; then
        SERVERS="$SERVERS [::1]:$PORT"
    fi
else
    echo "SKIP: unbound not installed: network parts of the DNS tests"
fi
rc=0
# shellcheck disable=SC2086 # one argument per server
"$BIN/test_resolver" $SERVERS || rc=1
"$BIN/test_spf" $SERVERS || rc=1
exit $rc
