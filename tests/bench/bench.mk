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

# greyrep-prefill: bulk-fills an LMDB store with triplets (keys and values
# from src/libgreyrep.a) for tests/bench/bench.sh.  `make bench` runs the
# whole benchmark (about 11 minutes, needs root: Postfix, unbound, Redis);
# `make bench BENCH_ARGS=--short` checks every scenario in seconds.
check_PROGRAMS += tests/bench/greyrep-prefill
tests_bench_greyrep_prefill_SOURCES = tests/bench/prefill.c
tests_bench_greyrep_prefill_CFLAGS = $(AM_CFLAGS) $(LMDB_CFLAGS)
tests_bench_greyrep_prefill_LDADD = $(GR_LIBS)

EXTRA_DIST += tests/bench/bench.sh
CLEANFILES += tests/bench/bench-results.json
BENCH_ARGS =
bench: src/greyrep$(EXEEXT) src/greyrepctl$(EXEEXT) \
		tests/bench/greyrep-loadgen$(EXEEXT) tests/bench/noop-milter$(EXEEXT) \
		tests/bench/mtclient$(EXEEXT) \
		tests/bench/greyrep-prefill$(EXEEXT)
	bash $(srcdir)/tests/bench/bench.sh --build "$(abs_top_builddir)" $(BENCH_ARGS)
.PHONY: bench
