#!/bin/bash
# tests/fuzz/replay.sh - replay every fuzz corpus through its plain driver
# (run by `make check` from the build directory).  Prints one PASS:/FAIL:
# line per target.  tests/fuzz/known/ is not replayed: those inputs trip
# defects that are not fixed yet.
srcdir=${srcdir:-.}
build=${GREYREP_BUILD:-.}
rc=0
for corpus in "$srcdir"/tests/fuzz/corpus/*/; do
    t=$(basename "$corpus")
    drv=$build/tests/fuzz/fuzz_$t
    if [ ! -x "$drv" ]; then
        echo "FAIL: fuzz replay $t: no driver $drv"
        rc=1
        continue
    fi
    n=$(find "$corpus" -maxdepth 1 -type f | wc -l)
    if out=$("$drv" "$corpus" 2>&1); then
        echo "PASS: fuzz replay $t ($n inputs)"
    else
        echo "FAIL: fuzz replay $t"
        echo "$out" | tail -20
        rc=1
    fi
done
exit $rc
