# Milter-protocol client side: mtclient (scripted MTA for hostile-input
# tests), greyrep-loadgen (benchmark) and noop-milter (baseline milter).
# Built by `make check`; none of them links src/libgreyrep.a.

check_PROGRAMS += tests/bench/mtclient tests/bench/greyrep-loadgen \
	tests/bench/noop-milter

tests_bench_mtclient_SOURCES = tests/bench/mtclient.c \
	tests/bench/milter_client.c tests/bench/milter_client.h
tests_bench_mtclient_CFLAGS = $(AM_CFLAGS) $(MILTER_CFLAGS)

tests_bench_greyrep_loadgen_SOURCES = tests/bench/loadgen.c \
	tests/bench/milter_client.c tests/bench/milter_client.h
tests_bench_greyrep_loadgen_CFLAGS = $(AM_CFLAGS) $(MILTER_CFLAGS)

tests_bench_noop_milter_SOURCES = tests/bench/noop-milter.c
tests_bench_noop_milter_CFLAGS = $(AM_CFLAGS) $(MILTER_CFLAGS)
tests_bench_noop_milter_LDADD = $(MILTER_LIBS)

TESTS += tests/bench/smoke.sh
EXTRA_DIST += tests/bench/smoke.sh
