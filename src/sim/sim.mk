# src/sim/sim.mk - greyrep-sim, the efficacy simulator (greyrep-sim(8));
# included from Makefile.am.
#
#   make           builds src/greyrep-sim (installed to $(bindir))
#   make sim       runs it on the shipped mix: sim.txt and sim.svg
#   make check     tests/unit/test_sim_models (retry schedules, cmocka),
#                  tests/unit/test_sim_run (a short seeded run and the
#                  goals), tests/unit/test_sim_facts (the facts it supplies
#                  equal greyrep's real iprev and SPF checks over the
#                  models' DNS); tests/integration/sim-daemon.sh: the same
#                  verdicts as a running greyrep
#
# sim_decide.c is the only file that calls greyrep's decision code.

bin_PROGRAMS = src/greyrep-sim
GR_SIM_SOURCES = src/sim/sim.h src/sim/sim_rng.c src/sim/sim_models.c \
	src/sim/sim_mix.c src/sim/sim_modes.c src/sim/sim_run.c src/sim/sim_run.h \
	src/sim/sim_decide.c src/sim/sim_decide.h \
	src/sim/sim_report.c src/sim/sim_report.h
src_greyrep_sim_SOURCES = src/sim/greyrep-sim.c $(GR_SIM_SOURCES)
src_greyrep_sim_CPPFLAGS = $(AM_CPPFLAGS) \
	-DSIM_DEFAULT_MIX='"$(pkgdatadir)/greyrep-sim.mix"'
src_greyrep_sim_LDADD = $(GR_LIBS) -lm

dist_pkgdata_DATA = etc/greyrep-sim.mix
dist_man_MANS += doc/greyrep-sim.8
EXTRA_DIST += doc/greyrep-sim.svg

.PHONY: sim
sim: src/greyrep-sim
	./src/greyrep-sim --mix $(srcdir)/etc/greyrep-sim.mix --seed 1 \
		--svg sim.svg | tee sim.txt
CLEANFILES += sim.txt sim.svg

if HAVE_CMOCKA
SIM_TESTS = tests/unit/test_sim_models tests/unit/test_sim_run tests/unit/test_sim_facts
check_PROGRAMS += $(SIM_TESTS)
TESTS += $(SIM_TESTS)
tests_unit_test_sim_models_SOURCES = tests/unit/test_sim_models.c $(GR_SIM_SOURCES)
tests_unit_test_sim_models_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_sim_models_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/unit
tests_unit_test_sim_models_LDADD = $(GR_LIBS) $(CMOCKA_LIBS) -lm -lpthread
tests_unit_test_sim_run_SOURCES = tests/unit/test_sim_run.c $(GR_SIM_SOURCES)
tests_unit_test_sim_run_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_sim_run_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/unit
tests_unit_test_sim_run_LDADD = $(GR_LIBS) $(CMOCKA_LIBS) -lm -lpthread
tests_unit_test_sim_facts_SOURCES = tests/unit/test_sim_facts.c $(GR_SIM_SOURCES)
tests_unit_test_sim_facts_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_sim_facts_LDADD = $(GR_LIBS) $(CMOCKA_LIBS) -lm -lpthread
endif
