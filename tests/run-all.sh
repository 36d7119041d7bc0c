#!/bin/bash
# tests/run-all.sh - greyrep's whole test suite, as CI runs it.
#
#   bash tests/run-all.sh            (as root, on Debian 12; no network but
#                                     Debian's archive is needed)
#
# 1. installs every package the build and the tests need (apt-get,
#    --no-install-recommends, with a policy-rc.d that keeps every packaged
#    daemon from starting),
# 2. autoreconf -fi,
# 2b. the Debian package, once (tests/package/deb.sh: dpkg-buildpackage,
#    apt-get install, greylist through Postfix, upgrade, purge), before the
#    builds so that the package, not the tests, creates the greyrep user,
# 3. for each of two builds - "plain" (default flags) and "asan"
#    (-fsanitize=address,undefined) - in its own build directory:
#    configure, make, make check (unit tests), every tests/integration/*.sh
#    (pointed at that build with GREYREP_BUILD), and for the sanitizer build
#    a check that no greyrep log holds a sanitizer report,
# 4. the demo (contrib/demo.sh) once, against the plain build,
# 5. prints every FAIL line again and ends with one line:
#       N passed, N failed[, N skipped]
#    Exit status 0 if and only if nothing failed.
#
# Environment:
#   GREYREP_NO_APT=1      do not install packages (they are already there)
#   GREYREP_BUILDS="plain asan"   which builds to run (default both)
#   GREYREP_BUILD_ROOT=DIR        where the build directories go
#                                 (default: SRC/build/ci)
#   GREYREP_SKIP_DEMO=1   do not run the demo
#   GREYREP_SKIP_PACKAGE=1  do not run the Debian package phase
#   GREYREP_EXTRA_TESTS="FILE..."  more test scripts to run like tests/integration/*.sh
#   MAKEFLAGS             passed on to make (default -jNPROC)
set -u
export LC_ALL=C
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD_ROOT=${GREYREP_BUILD_ROOT:-$SRC/build/ci}
BUILDS=${GREYREP_BUILDS:-plain asan}
NPROC=$(nproc 2>/dev/null || echo 2)
export MAKEFLAGS=${MAKEFLAGS:--j$NPROC}
START=$(date +%s)
RESULTS=$BUILD_ROOT/results.txt   # "PHASE<TAB>PASS|FAIL|SKIP<TAB>text"

mkdir -p "$BUILD_ROOT"
: >"$RESULTS"

say() { printf '\n===== [%s +%ss] %s\n' "$(date +%T)" $(( $(date +%s) - START )) "$*"; }
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$RESULTS"; }
# record_lines PHASE FILE: every PASS:/FAIL:/SKIP: line a test printed
record_lines() {
    grep -aE '^(PASS|FAIL|SKIP): ' "$2" | while IFS= read -r l; do
        record "$1" "${l%%:*}" "${l#*: }"
    done
}
count() { awk -F'\t' -v r="$1" '$2 == r' "$RESULTS" | wc -l | tr -d ' '; }
# run_logged FILE CMD...: run CMD (in a subshell), output to the console and
# to FILE; returns the status of CMD.  Test scripts must not leave a process
# holding this pipe open (lib.sh sends every daemon's output to a file).
run_logged() {
    local f=$1; shift
    { "$@"; } 2>&1 | tee "$f"
    return "${PIPESTATUS[0]}"
}

say "greyrep test suite: $SRC ($(uname -srm), $NPROC cpus, uid $(id -u), builds: $BUILDS)"

# ------------------------------------------------------------------ packages
PACKAGES="postfix swaks libio-socket-inet6-perl unbound bind9-dnsutils redis-server
 miltertest opendkim-tools python3-dkim python3-yaml
 libmilter-dev libspf2-dev libopendkim-dev liblmdb-dev lmdb-utils libc-ares-dev
 libhiredis-dev libcmocka-dev libpsl-dev publicsuffix
 autoconf automake libtool pkg-config make gcc clang libclang-rt-14-dev m4
 liblockfile1 libwrap0 iproute2 procps psmisc perl coreutils
 debhelper dpkg-dev adduser lintian python3"
# ops: tests/integration/ops.sh imports the files Debian's postgrey installs;
# xmllint checks the report's SVG
PACKAGES="$PACKAGES postgrey libxml2-utils"

install_packages() {
    local made_policy=0 rc=0 try
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\n# written by greyrep tests/run-all.sh: start no daemon during install\nexit 101\n' \
            >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections 2>/dev/null
    export DEBIAN_FRONTEND=noninteractive
    for try in 1 2 3; do
        apt-get update -q && break
        echo "apt-get update failed (try $try), retrying in 5 s"; sleep 5
    done
    for try in 1 2 3; do
        # shellcheck disable=SC2086
        apt-get install -y -q --no-install-recommends \
            -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $PACKAGES
        rc=$?
        [ $rc = 0 ] && break
        echo "apt-get install failed (try $try), retrying in 5 s"; sleep 5
    done
    [ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
    return $rc
}

if [ "${GREYREP_NO_APT:-0}" = 1 ]; then
    say "packages: skipped (GREYREP_NO_APT=1)"
elif [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    say "packages: not root or no apt-get: assuming they are installed"
else
    say "packages: apt-get install"
    if run_logged "$BUILD_ROOT/apt.log" install_packages; then
        record packages PASS "packages installed"
    else
        record packages FAIL "apt-get install failed (see $BUILD_ROOT/apt.log)"
    fi
fi

# ------------------------------------------------------------------ bootstrap
# A source tree configured in place cannot also host VPATH builds: build from
# a clean copy of it then.
TREE=$SRC
if [ -f "$SRC/config.status" ]; then
    say "the source tree is configured in place: building from a clean copy"
    TREE=$BUILD_ROOT/src
    rm -rf "$TREE"
    mkdir -p "$TREE"
    tar -C "$SRC" --exclude=./build --exclude=./.git -cf - . | tar -C "$TREE" -xf -
    (cd "$TREE" && make distclean >/dev/null 2>&1)
    rm -f "$TREE/config.status" "$TREE/config.log" "$TREE/Makefile" "$TREE/autoconf.h"
fi
say "bootstrap: autoreconf -fi"
if run_logged "$BUILD_ROOT/autoreconf.log" eval 'cd "$TREE" && autoreconf -fi'; then
    record bootstrap PASS "autoreconf -fi"
    BOOT_OK=1
else
    record bootstrap FAIL "autoreconf -fi failed"
    BOOT_OK=0
fi

# ------------------------------------------------------------------ make check results
# count_unit PHASE BUILDDIR: one result per test case.  A program run by the
# parallel harness gets its .trs results; a program that prints its own
# "PASS:/FAIL:" lines or cmocka's "[ RUN ]/[ OK ]" lines is counted case
# by case from its .log instead, plus one FAIL if it crashed after them.
count_unit() {
    local phase=$1 b=$2 trs log name res own p f s runs oks skips
    while IFS= read -r trs; do
        log=${trs%.trs}.log
        name=${trs#"$b"/}; name=${name%.trs}
        res=$(grep -c ':test-result:' "$trs")
        if [ "$res" -gt 1 ]; then     # TAP or another multi-result driver
            grep ':test-result:' "$trs" | while read -r _ r rest; do
                case $r in
                    PASS|XFAIL) record "$phase" PASS "$name: $rest" ;;
                    SKIP) record "$phase" SKIP "$name: $rest" ;;
                    *) record "$phase" FAIL "$name: $r $rest" ;;
                esac
            done
            continue
        fi
        r=$(sed -n 's/^:test-result: *\([A-Z]*\).*/\1/p' "$trs" | head -1)
        own=$(grep -acE '^(PASS|FAIL|SKIP): ' "$log" 2>/dev/null)
        runs=$(grep -acE '^\[ RUN +\] ' "$log" 2>/dev/null)
        if [ "${own:-0}" -gt 0 ]; then
            grep -aE '^(PASS|FAIL|SKIP): ' "$log" | while IFS= read -r l; do
                record "$phase" "${l%%:*}" "$name: ${l#*: }"
            done
            f=$(grep -acE '^FAIL: ' "$log")
        elif [ "${runs:-0}" -gt 0 ]; then
            oks=$(grep -acE '^\[ +OK +\] ' "$log")
            skips=$(grep -aE '^\[ +SKIPPED +\] ' "$log" | grep -v 'test(s)' | sort -u | wc -l)
            f=$((runs - oks - skips))
            [ $f -lt 0 ] && f=0
            for ((p = 0; p < oks; p++)); do record "$phase" PASS "$name: cmocka case $((p + 1))"; done
            for ((s = 0; s < skips; s++)); do record "$phase" SKIP "$name: cmocka case skipped"; done
            grep -aE '^\[ +FAILED +\] ' "$log" | grep -v 'test(s)' | sort -u | head -n "$f" |
                while IFS= read -r l; do record "$phase" FAIL "$name: $l"; done
            # failures cmocka did not name (a crash inside a test)
            local named
            named=$(grep -aE '^\[ +FAILED +\] ' "$log" | grep -v 'test(s)' | sort -u | head -n "$f" | wc -l)
            for ((p = named; p < f; p++)); do record "$phase" FAIL "$name: a case did not finish (crash?)"; done
        else
            f=0
            case $r in
                PASS|XFAIL) record "$phase" PASS "$name" ;;
                SKIP) record "$phase" SKIP "$name" ;;
                *) record "$phase" FAIL "$name: $r"; f=1 ;;
            esac
        fi
        case $r in
            PASS|XFAIL|SKIP) ;;
            *) [ "${f:-0}" -eq 0 ] && record "$phase" FAIL "$name: $r (exit status; see $log)" ;;
        esac
    done < <(find "$b" -name '*.trs' -newer "$b/.check-start" 2>/dev/null | sort)
}

# ------------------------------------------------------------------ one build
run_build() {
    local flavor=$1 cflags ldflags rc
    local b=$BUILD_ROOT/$flavor
    say "[$flavor] configure"
    rm -rf "$b"
    mkdir -p "$b/test-logs"
    case $flavor in
        asan)
            cflags="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer"
            ldflags="-fsanitize=address,undefined"
            export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
            export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
            ;;
        *)
            cflags=${CFLAGS:--O2 -g}; ldflags=${LDFLAGS:-}
            unset ASAN_OPTIONS UBSAN_OPTIONS
            ;;
    esac
    if ! run_logged "$b/configure.log" eval 'cd "$b" && "$TREE/configure" CFLAGS="$cflags" LDFLAGS="$ldflags"'; then
        record "$flavor" FAIL "configure failed (see $b/config.log)"
        tail -n 30 "$b/config.log" 2>/dev/null | sed 's/^/  | /'
        return 1
    fi
    say "[$flavor] make"
    if ! run_logged "$b/make.log" make -C "$b"; then
        record "$flavor" FAIL "make failed (see $b/make.log)"
        return 1
    fi
    record "$flavor" PASS "build"

    say "[$flavor] make check"
    touch "$b/.check-start"
    sleep 1
    run_logged "$b/check.log" timeout 1800 make -C "$b" check
    rc=$?
    if [ $rc != 0 ] && [ -f "$b/test-suite.log" ]; then
        say "[$flavor] test-suite.log (make check exit $rc)"
        tail -n 80 "$b/test-suite.log"
    fi
    count_unit "$flavor/unit" "$b"
    if [ $rc != 0 ] && ! awk -F'\t' -v p="$flavor/unit" '$1 == p && $2 == "FAIL"' "$RESULTS" | grep -q .; then
        record "$flavor/unit" FAIL "make check exited $rc (see $b/check.log)"
    fi

    local t name
    for t in "$TREE"/tests/integration/*.sh ${GREYREP_EXTRA_TESTS:-}; do
        [ -f "$t" ] || continue
        name=$(basename "$t" .sh)
        say "[$flavor] integration: $name"
        run_logged "$b/integration-$name.log" env GREYREP_BUILD="$b" GREYREP_SRC="$TREE" \
            GREYREP_LOGDIR="$b/test-logs" timeout 1200 bash "$t" </dev/null
        rc=$?
        record_lines "$flavor/$name" "$b/integration-$name.log"
        if [ $rc != 0 ] && ! grep -qaE '^FAIL: ' "$b/integration-$name.log"; then
            record "$flavor/$name" FAIL "$name exited $rc without a FAIL line"
        elif ! grep -qaE '^(PASS|FAIL|SKIP): ' "$b/integration-$name.log"; then
            record "$flavor/$name" FAIL "$name printed no result"
        fi
    done

    if [ "$flavor" = asan ]; then
        say "[$flavor] sanitizer reports in greyrep's logs"
        local hits
        hits=$(grep -rlaE 'runtime error|AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer' \
            "$b/test-logs" $(find "$b" -name '*.log' -path '*tests*' 2>/dev/null) 2>/dev/null | sort -u)
        if [ -z "$hits" ]; then
            if ls "$b"/test-logs/* >/dev/null 2>&1; then
                record "$flavor" PASS "no sanitizer report in $(ls "$b"/test-logs | wc -l) greyrep logs"
            else
                record "$flavor" FAIL "no greyrep logs were kept to check for sanitizer reports"
            fi
        else
            record "$flavor" FAIL "sanitizer reports in: $(echo $hits)"
            for f in $hits; do
                echo "--- $f"
                grep -aE -A12 'runtime error|ERROR: AddressSanitizer' "$f" | head -40
            done
        fi
    fi
    unset ASAN_OPTIONS UBSAN_OPTIONS
    return 0
}

# ------------------------------------------------------------------ package
# Once, not per build flavour: it builds its own .deb from a copy of TREE.
if [ "$BOOT_OK" = 1 ] && [ "${GREYREP_SKIP_PACKAGE:-0}" != 1 ] && [ -f "$TREE/tests/package/deb.sh" ]; then
    say "package: tests/package/deb.sh"
    run_logged "$BUILD_ROOT/package.log" env GREYREP_SRC="$TREE" timeout 1800 \
        bash "$TREE/tests/package/deb.sh" </dev/null
    rc=$?
    record_lines package "$BUILD_ROOT/package.log"
    if [ $rc != 0 ] && ! grep -qaE '^FAIL: ' "$BUILD_ROOT/package.log"; then
        record package FAIL "tests/package/deb.sh exited $rc without a FAIL line"
    fi
fi

if [ "$BOOT_OK" = 1 ]; then
    for flavor in $BUILDS; do
        run_build "$flavor"
    done
fi

# ------------------------------------------------------------------ demo
if [ "$BOOT_OK" = 1 ] && [ "${GREYREP_SKIP_DEMO:-0}" != 1 ] && [ -x "$BUILD_ROOT/plain/src/greyrep" ] &&
    [ -f "$TREE/contrib/demo.sh" ]; then
    say "demo: contrib/demo.sh against the plain build"
    run_logged "$BUILD_ROOT/demo.log" timeout 300 bash "$TREE/contrib/demo.sh" --no-install \
        --build-dir "$BUILD_ROOT/plain" </dev/null
    rc=$?
    if [ $rc = 0 ]; then
        record demo PASS "contrib/demo.sh ran to the end"
    else
        record demo FAIL "contrib/demo.sh exited $rc (see $BUILD_ROOT/demo.log)"
    fi
fi

# ------------------------------------------------------------------ summary
P=$(count PASS); F=$(count FAIL); S=$(count SKIP)
say "summary ($(( $(date +%s) - START )) s)"
awk -F'\t' '{ n[$1 "\t" $2]++; p[$1] = 1 } END { for (k in p) printf "  %-24s %4d passed %4d failed %4d skipped\n", k, n[k "\tPASS"], n[k "\tFAIL"], n[k "\tSKIP"] }' "$RESULTS" | sort
if [ "$F" != 0 ]; then
    echo "  failures:"
    awk -F'\t' '$2 == "FAIL" { printf "    [%s] %s\n", $1, $3 }' "$RESULTS"
fi
if [ "$P" = 0 ] && [ "$F" = 0 ]; then
    F=1
    echo "  no test ran at all"
fi
if [ "$S" != 0 ]; then
    echo "$P passed, $F failed, $S skipped"
else
    echo "$P passed, $F failed"
fi
[ "$F" = 0 ]
