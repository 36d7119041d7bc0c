# tests/lib-checks.sh - helpers of tests/integration/checks.sh (greyrep's
# sender checks end to end): the test DNS data (unbound local-data with SPF,
# PTR/A, DKIM keys and block lists), the DKIM keys and signed messages, the
# greyrep configuration, and reading the delivered messages.
#
#   . "$(dirname "$0")/../lib.sh"
#   . "$(dirname "$0")/../lib-checks.sh"
#
# Everything is written under $ROOT (see t_root in lib.sh).

# ---------------------------------------------------------------- ports

# ck_port_free PORT: nothing is bound to PORT over UDP or TCP (any address)
ck_port_free() {
    local hex
    hex=$(printf '%04X' "$1")
    ! cat /proc/net/udp /proc/net/udp6 /proc/net/tcp /proc/net/tcp6 2>/dev/null |
        awk '{ print $2 }' | grep -qi ":$hex\$"
}
# ck_free_port START: the first port from START on (tries 200) free over
# UDP and TCP
ck_free_port() {
    local p=$1 i
    for i in $(seq 0 199); do
        if ck_port_free $((p + i)); then echo $((p + i)); return 0; fi
    done
    return 1
}

# ---------------------------------------------------------------- DKIM keys

# ck_txt_strings VALUE [N]: VALUE as zone-file character-strings of at
# most N bytes each (default 200), so that a record of more than N bytes is
# published as several strings ("..." "...")
ck_txt_strings() {
    local v=$1 n=${2:-200} out="" i
    for ((i = 0; i < ${#v}; i += n)); do
        out="$out${out:+ }\"${v:i:n}\""
    done
    printf '%s' "$out"
}

# ck_dkim_keys DIR: the DKIM keys, made now: DIR/rsa.key + DIR/rsa.dns
# (2048-bit RSA) and DIR/ed.key + DIR/ed.dns (ed25519) by python3-dkim's
# dknewkey, DIR/small.key + DIR/small.dns (768-bit RSA) by openssl; each
# .dns file holds the TXT record's value
ck_dkim_keys() {
    local d=$1 bits
    mkdir -p "$d"
    (cd "$d" && dknewkey rsa && dknewkey --ktype ed25519 ed) >/dev/null 2>&1 || return 1
    # 2048 bits, whatever dknewkey's default may become
    bits=$(openssl rsa -in "$d/rsa.key" -noout -text 2>/dev/null | sed -n 's/.*(\([0-9]*\) bit.*/\1/p' | head -1)
    if [ "$bits" != 2048 ]; then
        openssl genrsa -out "$d/rsa.key" 2048 >/dev/null 2>&1 || return 1
        printf 'v=DKIM1; k=rsa; h=sha256; p=%s' \
            "$(openssl rsa -in "$d/rsa.key" -pubout -outform DER 2>/dev/null | base64 -w0)" >"$d/rsa.dns"
    fi
    # a 768-bit key, shorter than min_key_bits = 1024: dkim=policy
    openssl genrsa -out "$d/small.key" 768 >/dev/null 2>&1 &&
        printf 'v=DKIM1; k=rsa; p=%s' \
            "$(openssl rsa -in "$d/small.key" -pubout -outform DER 2>/dev/null | base64 -w0)" >"$d/small.dns"
    [ -s "$d/rsa.key" ] && [ -s "$d/rsa.dns" ] && [ -s "$d/ed.key" ] && [ -s "$d/ed.dns" ] &&
        [ -s "$d/small.key" ] && [ -s "$d/small.dns" ]
}

# ck_dkim_sign SELECTOR DOMAIN KEY ALG IN OUT: sign IN with python3-dkim's
# dkimsign (relaxed/simple) into OUT
ck_dkim_sign() {
    local sel=$1 dom=$2 key=$3 alg=$4 in=$5 out=$6
    dkimsign --signalg "$alg" "$sel" "$dom" "$key" <"$in" >"$out" 2>"$out.err" &&
        grep -q '^DKIM-Signature:' "$out"
}

# ck_sig_b FILE: the first 8 characters of the b= tag of FILE's first
# DKIM-Signature (folding white space removed)
ck_sig_b() {
    awk '/^DKIM-Signature:/ { on = 1; s = $0; next }
         on && /^[ \t]/ { s = s $0; next }
         on { exit }
         END { print s }' "$1" | tr -d ' \t\r' | sed -n 's/.*[;:]b=\([^;]*\).*/\1/p' | cut -c1-8
}

# ---------------------------------------------------------------- DNS data

# The test world (all local-data of unbound; see tests/dns/unbound-zone.sh
# for the zones it already has, such as *.servfail.test and *.timeout.test):
#
#   SPF (zone chk.test)
#     spfok.chk.test     v=spf1 ip4:198.51.100.10 ip4:203.0.113.0/24 -all
#     strict.chk.test    v=spf1 ip4:192.0.2.200 -all        (fail)
#     soft.chk.test      v=spf1 ip4:192.0.2.200 ~all        (softfail)
#     neutral.chk.test   v=spf1 ?all                        (neutral)
#     nospf.chk.test     a TXT record that is not SPF        (none)
#     broken.chk.test    v=spf1 ip4:198.51.100.0/33 -all    (permerror)
#     helo.chk.test      v=spf1 ip4:198.51.100.0/24 -all    (the HELO name)
#     *.servfail.test                                       (temperror)
#   iprev
#     198.51.100.10  PTR mta1.spfok.chk.test   A 198.51.100.10   pass
#     203.0.113.10   PTR mta2.spfok.chk.test   A 203.0.113.10    pass (other /24)
#     198.51.100.11  PTR relay.good.chk.test   A 198.51.100.11   pass
#     198.51.100.12  PTR liar.chk.test         A 192.0.2.99      fail
#     198.51.100.13  no PTR (NXDOMAIN)                            permerror
#     198.51.100.20  PTR 198-51-100-20.dyn.chk.test (A back)     pass, generic
#     198.51.100.30  PTR listed.blk.chk.test (A back), in yourbl.test (weight 5)
#     198.51.100.31  PTR light.blk.chk.test (A back), in lightbl.test (weight 1)
#     198.51.100.32  yourbl.test answers 127.0.0.1 (not a listing)
#     198.51.100.33  yourbl.test answers 127.255.255.254 (an error code, not a listing)
#   DNS trouble
#     198.18.0.5     PTR and both block lists SERVFAIL
#     198.18.1.5     PTR and both block lists time out (dropped queries)
#   DKIM (domain dkim.chk.test)
#     rsa2048._domainkey   the 2048-bit RSA key, TXT in strings of <= 200 bytes
#     ed25519._domainkey   the ed25519 key, TXT in two strings
#     small768._domainkey  a 768-bit RSA key (under min_key_bits)
#     (no key for any other selector; keys of *.servfail.test SERVFAIL and
#     of *.timeout.test never answer)
#   IPv6
#     2001:db8::10   PTR mail.example.test, AAAA back (unbound-zone.sh);
#                    example.test's SPF passes 2001:db8::/32
#     2001:db8::30   no PTR; listed in yourbl.test (nibbles reversed)

# ck_zone_extra FILE KEYDIR: write the local-data above to FILE
ck_zone_extra() {
    local f=$1 k=$2 rsa ed small
    rsa=$(ck_txt_strings "$(tr -d '\n' <"$k/rsa.dns")" 200)
    ed=$(ck_txt_strings "$(tr -d '\n' <"$k/ed.dns")" 40)
    small=$(ck_txt_strings "$(tr -d '\n' <"$k/small.dns")" 200)
    cat >"$f" <<EXTRA
    # ---- written by tests/lib-checks.sh
    local-zone: "chk.test." static
    local-data: 'spfok.chk.test. 60 IN TXT "v=spf1 ip4:198.51.100.10 ip4:203.0.113.0/24 -all"'
    local-data: 'strict.chk.test. 60 IN TXT "v=spf1 ip4:192.0.2.200 -all"'
    local-data: 'soft.chk.test. 60 IN TXT "v=spf1 ip4:192.0.2.200 ~all"'
    local-data: 'neutral.chk.test. 60 IN TXT "v=spf1 ?all"'
    local-data: 'nospf.chk.test. 60 IN TXT "google-site-verification=abcdef"'
    local-data: 'broken.chk.test. 60 IN TXT "v=spf1 ip4:198.51.100.0/33 -all"'
    local-data: 'helo.chk.test. 60 IN TXT "v=spf1 ip4:198.51.100.0/24 -all"'
    local-data: "mta1.spfok.chk.test. 60 IN A 198.51.100.10"
    local-data: "mta2.spfok.chk.test. 60 IN A 203.0.113.10"
    local-data: "relay.good.chk.test. 60 IN A 198.51.100.11"
    local-data: "liar.chk.test. 60 IN A 192.0.2.99"
    local-data: "198-51-100-20.dyn.chk.test. 60 IN A 198.51.100.20"
    local-data: "listed.blk.chk.test. 60 IN A 198.51.100.30"
    local-data: "light.blk.chk.test. 60 IN A 198.51.100.31"
    local-data: 'rsa2048._domainkey.dkim.chk.test. 60 IN TXT $rsa'
    local-data: 'ed25519._domainkey.dkim.chk.test. 60 IN TXT $ed'
    local-data: 'small768._domainkey.dkim.chk.test. 60 IN TXT $small'

    local-data-ptr: "198.51.100.10 mta1.spfok.chk.test"
    local-data-ptr: "198.51.100.11 relay.good.chk.test"
    local-data-ptr: "198.51.100.12 liar.chk.test"
    local-data-ptr: "198.51.100.20 198-51-100-20.dyn.chk.test"
    local-data-ptr: "198.51.100.30 listed.blk.chk.test"
    local-data-ptr: "198.51.100.31 light.blk.chk.test"
    local-zone: "113.0.203.in-addr.arpa." static
    local-data-ptr: "203.0.113.10 mta2.spfok.chk.test"

    local-zone: "yourbl.test." static
    local-data: "30.100.51.198.yourbl.test. 60 IN A 127.0.0.2"
    local-data: '30.100.51.198.yourbl.test. 60 IN TXT "listed by the greyrep tests"'
    local-data: "0.3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.yourbl.test. 60 IN A 127.0.0.2"
    # answers that are not listings: 127.0.0.1 and 127.255.255.0/24
    local-data: "32.100.51.198.yourbl.test. 60 IN A 127.0.0.1"
    local-data: "33.100.51.198.yourbl.test. 60 IN A 127.255.255.254"
    local-zone: "lightbl.test." static
    local-data: "31.100.51.198.lightbl.test. 60 IN A 127.0.0.2"

    # 198.18.0.5: every lookup SERVFAILs (no local zone: the forwarder is
    # on the do-not-query list); 198.18.1.5: every lookup is dropped
    local-zone: "0.18.198.yourbl.test." transparent
    local-zone: "0.18.198.lightbl.test." transparent
    local-zone: "1.18.198.in-addr.arpa." deny
    local-zone: "1.18.198.yourbl.test." deny
    local-zone: "1.18.198.lightbl.test." deny
EXTRA
}

# ---------------------------------------------------------------- greyrep

# ck_conf FILE: write greyrep's configuration for the sender-check tests.
# Tunables (shell variables): CK_SOCKET (default unix:$ROOT/greyrep.sock),
# CK_PIDFILE ($ROOT/greyrep.pid), CK_STORE ($ROOT/db), CK_DNS (servers,
# required), CK_DNS_TIMEOUT (2s), CK_ON_ERROR (accept), CK_SPF_FAIL
# (greylist), CK_DNSBL_ACTION (tempfail), CK_DNSBL_ZONES
# ("yourbl.test=5 lightbl.test=1"), CK_DELAY (2s), CK_SUSPICIOUS (1h).
# Whitelist files $ROOT/wl_clients, wl_recipients, wl_senders are created
# empty when missing.
ck_conf() {
    local f=$1 user group=""
    local w
    for w in "$ROOT/wl_clients" "$ROOT/wl_recipients" "$ROOT/wl_senders"; do
        [ -e "$w" ] || : >"$w"
        chmod 644 "$w"
    done
    if [ "$(id -u)" = 0 ]; then
        user=$(gr_user) || { echo "cannot create the user greyrep" >&2; return 1; }
    else
        user=$(id -un)
    fi
    getent group postfix >/dev/null && group=postfix
    cat >"$f.new" <<CONF
# greyrep configuration of tests/integration/checks.sh (tests/lib-checks.sh)
[milter]
socket = ${CK_SOCKET:-unix:$ROOT/greyrep.sock}
user = $user
socket_group = $group
socket_mode = 0660
pidfile = ${CK_PIDFILE:-$ROOT/greyrep.pid}
on_error = ${CK_ON_ERROR:-accept}
# 127.0.0.1 (the XCLIENT-capable test client itself) is not trusted, so the
# XCLIENT addresses are judged
trusted_networks = 127.0.0.2/32
authserv_id = mx.test

[store]
backend = lmdb
path = ${CK_STORE:-$ROOT/db}

[greylist]
delay = ${CK_DELAY:-2s}
suspicious_delay = ${CK_SUSPICIOUS:-1h}
retry_window = 2h
pass_lifetime = 1d
auto_whitelist = 0

[whitelist]
clients = $ROOT/wl_clients
recipients = $ROOT/wl_recipients
senders = $ROOT/wl_senders

[dns]
servers = $CK_DNS
timeout = ${CK_DNS_TIMEOUT:-2s}

[spf]
enabled = yes
fail_action = ${CK_SPF_FAIL:-greylist}

[iprev]
enabled = yes
generic_names = yes

[dkim]
enabled = yes
min_key_bits = 1024

[dnsbl]
zones = ${CK_DNSBL_ZONES:-yourbl.test=5 lightbl.test=1}
threshold = 5
action = ${CK_DNSBL_ACTION:-tempfail}
CONF
    chmod 644 "$f.new"
    mv -f "$f.new" "$f"
}

# ---------------------------------------------------------------- SMTP

# ck_send ID ADDR NAME FROM TO [SWAKS-ARGS...]: one session through the
# Postfix instance with XCLIENT ADDR=ADDR NAME=NAME (see smtp in lib.sh).
# CK_SECS: the session's wall time in seconds.
ck_send() {
    local id=$1 addr=$2 name=$3 from=$4 to=$5 t0; shift 5
    [ -n "${PF_DIR:-}" ] && log_mark "$PF_DIR/maillog"
    t0=$(now)
    smtp "$id" --xclient-addr "$addr" --xclient-name "$name" --from "$from" --to "$to" "$@"
    CK_SECS=$(elapsed "$t0")
}
# ck_rcpt_reply [N]: the (last line of the) reply to the Nth RCPT of the
# last session (default 1), e.g. "451 4.7.1 Greylisted, please ..."
ck_rcpt_reply() {
    awk -v want="${1:-1}" '
        /^ *(->|~>) / { l = $0; sub(/^ *(->|~>) /, "", l); stage = toupper(substr(l, 1, 4)); next }
        /^ *(<-|<~|<\*\*|<~\*) / {
            l = $0; sub(/^ *(<-|<~|<\*\*|<~\*) +/, "", l)
            if (stage == "RCPT" && substr(l, 4, 1) != "-") { if (++n == want) { print l; exit } }
        }' "$SMTP_LOG"
}
# ck_secs TEXT: N of "... try again in N seconds", or nothing
ck_secs() {
    printf '%s\n' "$1" | sed -n 's/.*try again in \([0-9][0-9]*\) second.*/\1/p' | head -1
}
# ck_between N LO HI: LO <= N <= HI (integers; false when N is empty)
ck_between() {
    [ -n "$1" ] && [ "$1" -ge "$2" ] 2>/dev/null && [ "$1" -le "$3" ]
}
# ck_le A B: A <= B (decimal numbers)
ck_le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }

# ---------------------------------------------------------------- delivered mail

# ck_fields FILE NAME: every header field NAME of FILE, unfolded (folding
# white space becomes one space), one a line, as "Name: value"
ck_fields() {
    awk -v h="$2" '
        BEGIN { h = tolower(h) }
        /^\r?$/ { flush(); exit }
        /^[ \t]/ { if (cur != "") { l = $0; sub(/^[ \t]+/, " ", l); cur = cur l }; next }
        { flush(); if (tolower(substr($0, 1, length(h) + 1)) == h ":") cur = $0 }
        END { flush() }
        function flush() { if (cur != "") { gsub(/\r/, "", cur); print cur }; cur = "" }' "$1"
}
# ck_ar FILE: the Authentication-Results fields of FILE that carry greyrep's
# authserv-id mx.test, unfolded
ck_ar() {
    ck_fields "$1" Authentication-Results | grep -iE '^Authentication-Results: *mx\.test *;'
}

# ---------------------------------------------------------------- packages

# ck_install CMD=PACKAGE...: apt-get install the packages whose command is
# missing (root with apt-get only; no daemon is started by the install)
ck_install() {
    local want=() pair made=0
    for pair in "$@"; do
        command -v "${pair%%=*}" >/dev/null 2>&1 || [ -x "${pair%%=*}" ] || want+=("${pair#*=}")
    done
    [ ${#want[@]} -eq 0 ] && return 0
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        return 1
    fi
    note "installing ${want[*]}"
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\n# written by greyrep tests/lib-checks.sh: start no daemon during install\nexit 101\n' \
            >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made=1
    fi
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections 2>/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${want[@]}" >/dev/null 2>&1 ||
        { DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null 2>&1 &&
          DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${want[@]}" >/dev/null 2>&1; }
    local rc=$?
    [ $made = 1 ] && rm -f /usr/sbin/policy-rc.d
    return $rc
}

# ck_raw PORT TRANSCRIPT < COMMANDS: a scripted SMTP session with
# 127.0.0.1:PORT, for what swaks cannot do (several messages in one
# session).  Each COMMANDS line is sent and its reply read; "DATA @FILE"
# sends DATA, then FILE (dot-stuffed, CRLF) and the final dot; "ABORT
# @FILE" does the same without the final dot and drops the connection.  The
# transcript has swaks's "-> " / "<- " lines, and after each command sent
# and each reply a line "## UNIX-TIME" (see ck_raw_span).
ck_raw() {
    perl -MIO::Socket::INET -MTime::HiRes=time -e '
        my ($port, $out) = @ARGV;
        open(my $o, ">", $out) or die "$out: $!";
        sub stamp { printf $o "## %.3f\n", time }
        select((select($o), $| = 1)[0]);
        $SIG{ALRM} = sub { print $o "*** timeout\n"; exit 1 };
        alarm 60;
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $port)
            or do { print $o "*** connect: $!\n"; exit 1 };
        sub reply {
            my $r = "";
            while (defined(my $l = <$s>)) {
                $l =~ s/\r?\n$//;
                print $o "<- $l\n";
                $r = $l;
                last if $l =~ /^\d{3}(?: |$)/;
            }
            stamp();
            return $r;
        }
        reply();
        while (my $c = <STDIN>) {
            chomp $c;
            next if $c eq "";
            if ($c =~ /^(DATA|ABORT) \@(.*)/) {
                my ($how, $f) = ($1, $2);
                print $o "-> DATA\n";
                print $s "DATA\r\n";
                next unless reply() =~ /^354/;
                open(my $m, "<", $f) or die "$f: $!";
                while (my $l = <$m>) {
                    $l =~ s/\r?\n$//;
                    $l = ".$l" if $l =~ /^\./;
                    print $s "$l\r\n";
                }
                if ($how eq "ABORT") {
                    print $o "*** connection dropped before the final dot\n";
                    close($s);
                    exit 0;
                }
                print $s ".\r\n";
                print $o "-> .\n";
                stamp();
                reply();
                next;
            }
            print $o "-> $c\n";
            print $s "$c\r\n";
            stamp();
            reply();
        }' "$1" "$2"
}

# ck_raw_span FILE FROM TO: seconds from sending the first command that
# starts with FROM to the reply to the first command after it that starts
# with TO (in a ck_raw transcript), e.g. ck_raw_span F "MAIL" "RCPT"
ck_raw_span() {
    awk -v a="$2" -v b="$3" '
        /^-> / { c = substr($0, 4) }
        /^## / {
            if (t0 == "" && c != "" && index(c, a) == 1 && !sent) { t0 = $2; sent = 1; next }
            if (sent && index(c, b) == 1 && last == "reply") { printf "%.3f\n", $2 - t0; exit }
        }
        /^<- [0-9][0-9][0-9]( |$)/ { last = "reply"; next }
        /^-> / { last = "cmd" }' "$1"
}
