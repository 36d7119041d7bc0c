#!/bin/sh
# NAME
#   unbound-zone.sh - write an unbound.conf for greyrep's test DNS
# SYNOPSIS
#   tests/dns/unbound-zone.sh DIR PORT [EXTRA.conf]
# DESCRIPTION
#   Writes DIR/unbound.conf: unbound answering on 127.0.0.1 and ::1 (when
#   the loopback has IPv6) at PORT, never port 53, from local zones only.
#   Nothing is ever sent to the Internet: every name not in a local zone
#   goes to a forwarder that is on the do-not-query list, which gives an
#   immediate SERVFAIL.  EXTRA.conf, if given, is included in the server
#   clause (more local-data, e.g. DKIM keys of an integration test).
#   Start it with: unbound -d -c DIR/unbound.conf  (see unbound-start.sh).
#
#   Data (example.test is the domain of the tests):
#     example.test        TXT "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all", MX 10 mail
#     softfail.example.test / include.example.test   TXT SPF records
#     split.example.test  TXT of two strings "v=spf1 ip4:192.0.2.1 " "-all"
#     two.example.test    two TXT records
#     long.example.test   one TXT record of five 250-byte strings (> 512: TCP)
#     mail.example.test   A 192.0.2.10, 127.0.0.2; AAAA 2001:db8::10, ::1; no TXT (NODATA)
#     no-forward.example.test  PTR target without A/AAAA
#     PTR: 192.0.2.10, 127.0.0.2, 2001:db8::10, ::1 -> mail.example.test;
#          192.0.2.11, 127.0.0.3 -> no-forward.example.test;
#          192.0.2.12 -> two names (mail.example.test, no-forward.example.test)
#     nosuch.example.test, *.nxdomain.test       NXDOMAIN
#     *.refused.test                             REFUSED
#     *.servfail.test and any other name         SERVFAIL, at once
#     *.timeout.test                             no answer at all (dropped)
# GOTCHAS (see TESTING.md)
#   unbound has built-in zones for test., 127.in-addr.arpa., ::1 and the
#   RFC 6303 reverse zones: each is declared here so ours win.  Do not make
#   SERVFAIL by forwarding to a closed port: unbound retries for 30 s.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 DIR PORT [EXTRA.conf]" >&2; exit 2; }
D=$1
PORT=$2
EXTRA=${3:-}
case $PORT in *[!0-9]*|'') echo "$0: bad port $PORT" >&2; exit 2;; esac
mkdir -p "$D"
D=$(cd "$D" && pwd)

IFACES="    interface: 127.0.0.1@$PORT"
if grep -q ' lo$' /proc/net/if_inet6 2>/dev/null; then
    IFACES="$IFACES
    interface: ::1@$PORT"
fi
# five 250-byte strings: one 1250-byte record, too big for UDP without EDNS
S250=$(printf 'a%.0s' $(seq 1 250))
LONG="\"$S250\" \"$S250\" \"$S250\" \"$S250\" \"$S250\""

cat > "$D/unbound.conf" <<EOF
server:
$IFACES
    port: $PORT
    do-ip4: yes
    do-ip6: yes
    do-udp: yes
    do-tcp: yes
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "$D"
    pidfile: "$D/unbound.pid"
    use-syslog: no
    logfile: ""
    verbosity: 0
    access-control: 127.0.0.0/8 allow
    access-control: ::1/128 allow
    module-config: "iterator"
    do-not-query-localhost: no
    cache-max-ttl: 0
    cache-max-negative-ttl: 0
    infra-host-ttl: 1
    # the forwarder below is on this list: everything not local => SERVFAIL
    do-not-query-address: 127.0.0.9/32
    num-threads: 1
    outgoing-range: 64
    so-reuseport: no

    local-zone: "example.test." static
    local-data: 'example.test. 60 IN TXT "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all"'
    local-data: "example.test. 60 IN MX 10 mail.example.test."
    local-data: 'softfail.example.test. 60 IN TXT "v=spf1 ~all"'
    local-data: 'include.example.test. 60 IN TXT "v=spf1 include:example.test -all"'
    local-data: 'split.example.test. 60 IN TXT "v=spf1 ip4:192.0.2.1 " "-all"'
    local-data: 'two.example.test. 60 IN TXT "first"'
    local-data: 'two.example.test. 60 IN TXT "second"'
    local-data: 'long.example.test. 60 IN TXT $LONG'
    local-data: "mail.example.test. 60 IN A 192.0.2.10"
    local-data: "mail.example.test. 60 IN A 127.0.0.2"
    local-data: "mail.example.test. 60 IN AAAA 2001:db8::10"
    local-data: "mail.example.test. 60 IN AAAA ::1"
    local-data: "no-forward.example.test. 60 IN MX 10 mail.example.test."

    local-zone: "127.in-addr.arpa." static
    local-data-ptr: "127.0.0.1 localhost"
    local-data-ptr: "127.0.0.2 mail.example.test"
    local-data-ptr: "127.0.0.3 no-forward.example.test"
    local-zone: "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa." static
    local-data-ptr: "::1 mail.example.test"
    local-zone: "2.0.192.in-addr.arpa." static
    local-data-ptr: "192.0.2.10 mail.example.test"
    local-data-ptr: "192.0.2.11 no-forward.example.test"
    local-data: "12.2.0.192.in-addr.arpa. 60 IN PTR mail.example.test."
    local-data: "12.2.0.192.in-addr.arpa. 60 IN PTR no-forward.example.test."
    local-zone: "100.51.198.in-addr.arpa." static
    local-zone: "8.b.d.0.1.0.0.2.ip6.arpa." static
    local-data-ptr: "2001:db8::10 mail.example.test"

    local-zone: "nxdomain.test." always_nxdomain
    local-zone: "refused.test." always_refuse
    local-zone: "timeout.test." deny
    local-zone: "servfail.test." transparent
EOF
if [ -n "$EXTRA" ]; then
    echo "    include: \"$EXTRA\"" >> "$D/unbound.conf"
fi
cat >> "$D/unbound.conf" <<EOF

forward-zone:
    name: "."
    forward-addr: 127.0.0.9@53
EOF
unbound-checkconf "$D/unbound.conf" >/dev/null
