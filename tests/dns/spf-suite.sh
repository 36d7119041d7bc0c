#!/bin/sh
# NAME
#   spf-suite.sh - the openspf RFC 7208 test suite through greyrep's spf.c
# SYNOPSIS
#   tests/dns/spf-suite.sh [-v]     (from the build directory; make check runs it)
# DESCRIPTION
#   Flattens tests/data/spf/rfc7208-tests.yml with spf-suite-convert.py
#   (python3 + python3-yaml) and runs tests/unit/test_spf_suite on it with
#   the known-failure list tests/data/spf/rfc7208-xfail.txt.  Exit 77
#   (skip) without python3-yaml.
set -u
srcdir=${srcdir:-.}
BIN=${BUILDDIR:-.}/tests/unit
python3 -c 'import yaml' 2>/dev/null || {
    echo "SKIP: python3-yaml not installed"
    exit 77
}
TMP=$(mktemp "${TMPDIR:-/tmp}/greyrep-spf-suite.XXXXXX")
trap 'rm -f "$TMP"' EXIT
python3 "$srcdir/tests/dns/spf-suite-convert.py" "$srcdir/tests/data/spf/rfc7208-tests.yml" > "$TMP" || exit 99
"$BIN/test_spf_suite" "$@" -x "$srcdir/tests/data/spf/rfc7208-xfail.txt" "$TMP"
