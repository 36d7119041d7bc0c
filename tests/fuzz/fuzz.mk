# tests/fuzz/fuzz.mk - fuzz targets; included by Makefile.am.
#
# Each tests/fuzz/fuzz_NAME.c is a libFuzzer target.  `make check` builds
# every target with tests/fuzz/driver.c (a plain main(), the normal
# compiler) and tests/fuzz/replay.sh replays tests/fuzz/corpus/NAME/ (the
# committed seeds and every crash found since) through it.
# `make fuzz` builds the libFuzzer versions with clang into tests/fuzz/bin/
# (-fsanitize=fuzzer,address,undefined); run one with
#   tests/fuzz/bin/fuzz_NAME -max_total_time=600 WORKDIR $(srcdir)/tests/fuzz/corpus/NAME
# tests/fuzz/known/ holds inputs that trip defects not fixed yet; they are
# not replayed (see tests/fuzz/known/README).

FUZZ_TARGETS = envaddr netaddr record whitelist config ctlload dnsnames \
	dnsanswer authres dkim spf
FUZZ_CFLAGS_ALL = $(AM_CFLAGS) $(LMDB_CFLAGS) $(CARES_CFLAGS) $(OPENDKIM_CFLAGS) \
	$(HIREDIS_CFLAGS)
FUZZ_COMMON = tests/fuzz/driver.c tests/fuzz/fuzz.h

check_PROGRAMS += tests/fuzz/fuzz_envaddr tests/fuzz/fuzz_netaddr \
	tests/fuzz/fuzz_record tests/fuzz/fuzz_whitelist tests/fuzz/fuzz_config \
	tests/fuzz/fuzz_ctlload tests/fuzz/fuzz_dnsnames tests/fuzz/fuzz_dnsanswer \
	tests/fuzz/fuzz_authres tests/fuzz/fuzz_dkim tests/fuzz/fuzz_spf
TESTS += tests/fuzz/replay.sh
EXTRA_DIST += doc/SECURITY.md tests/fuzz/replay.sh tests/fuzz/corpus tests/fuzz/known \
	tests/fuzz/README

tests_fuzz_fuzz_envaddr_SOURCES = tests/fuzz/fuzz_envaddr.c $(FUZZ_COMMON)
tests_fuzz_fuzz_envaddr_CFLAGS = $(FUZZ_CFLAGS_ALL)
tests_fuzz_fuzz_envaddr_LDADD = $(GR_LIBS)
tests_fuzz_fuzz_netaddr_SOURCES = tests/fuzz/fuzz_netaddr.c $(FUZZ_COMMON)
tests_fuzz_fuzz_netaddr_CFLAGS = $(FUZZ_CFLAGS_ALL)
tests_fuzz_fuzz_netaddr_LDADD = $(GR_LIBS)
tests_fuzz_fuzz_record_SOURCES = tests/fuzz/fuzz_record.c $(FUZZ_COMMON)
tests_fuzz_fuzz_record_CFLAGS = $(FUZZ_CFLAGS_ALL)
tests_fuzz_fuzz_record_LDADD = $(GR_LIBS)
tests_fuzz_fuzz_whitelist_SOURCES = tests/fuzz/fuzz_whitelist.c $(FUZZ_COMMON)
tests_fuzz_fuzz_whitelist_CFLAGS = $(FUZZ_CFLAGS_ALL)
tests_fuzz_fuzz_whitelist_LDADD = $(GR_LIBS)
tests_fuzz_fuzz_config_SOURCES = tests/fuzz/fuzz_config.c $(FUZZ_COMMON)
tests_fuzz_fuzz_config_CFLAGS = $(FUZZ_CFLAGS_ALL)
tests_fuzz_fuzz_config_LDADD = $(GR_LIBS)
tests_fuzz_fuzz_ctlload_SOURCES = tests/fuzz/fuzz_ctlload.c src/ctl_json.c src/ctl_load.c \
	$(FUZZ_COMMON)
tests_fuzz_fuzz_ctlload_CFLAGS = $(FUZZ_CFLAGS_ALL)
tests_fuzz_fuzz_ctlload_LDADD = $(GR_LIBS)
tests_fuzz_fuzz_dnsnames_SOURCES = tests/fuzz/fuzz_dnsnames.c $(FUZZ_COMMON)
tests_fuzz_fuzz_dnsnames_CFLAGS = $(FUZZ_CFLAGS_ALL)
tests_fuzz_fuzz_dnsnames_LDADD = $(GR_LIBS)
tests_fuzz_fuzz_dnsanswer_SOURCES = tests/fuzz/fuzz_dnsanswer.c $(FUZZ_COMMON)
tests_fuzz_fuzz_dnsanswer_CFLAGS = $(FUZZ_CFLAGS_ALL)
tests_fuzz_fuzz_dnsanswer_LDADD = $(GR_LIBS)
tests_fuzz_fuzz_authres_SOURCES = tests/fuzz/fuzz_authres.c $(FUZZ_COMMON)
tests_fuzz_fuzz_authres_CFLAGS = $(FUZZ_CFLAGS_ALL)
tests_fuzz_fuzz_authres_LDADD = $(GR_LIBS)
tests_fuzz_fuzz_dkim_SOURCES = tests/fuzz/fuzz_dkim.c $(FUZZ_COMMON)
tests_fuzz_fuzz_dkim_CFLAGS = $(FUZZ_CFLAGS_ALL)
tests_fuzz_fuzz_dkim_LDADD = $(GR_LIBS)
tests_fuzz_fuzz_spf_SOURCES = tests/fuzz/fuzz_spf.c $(FUZZ_COMMON)
tests_fuzz_fuzz_spf_CFLAGS = $(FUZZ_CFLAGS_ALL)
tests_fuzz_fuzz_spf_LDADD = $(GR_LIBS)

# --- make fuzz: libFuzzer builds with clang -----------------------------
FUZZ_CC = clang
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_LIB_SRC = $(src_libgreyrep_a_SOURCES) src/ctl_json.c src/ctl_load.c
FUZZ_CPP = $(DEFS) -I. -I$(srcdir) $(AM_CPPFLAGS) $(CPPFLAGS) $(LMDB_CFLAGS) \
	$(CARES_CFLAGS) $(OPENDKIM_CFLAGS) $(HIREDIS_CFLAGS)
FUZZ_LIBS = $(LMDB_LIBS) $(HIREDIS_LIBS) $(CARES_LIBS) $(OPENDKIM_LIBS) \
	$(SPF2_LIBS) -lpthread

fuzz: autoconf.h
	@command -v $(FUZZ_CC) >/dev/null || { echo "make fuzz: $(FUZZ_CC) not found"; exit 1; }
	@$(MKDIR_P) tests/fuzz/bin/obj
	@set -e; objs=; for s in $(FUZZ_LIB_SRC); do \
	  case $$s in *.c) ;; *) continue ;; esac; \
	  o=tests/fuzz/bin/obj/`basename $$s .c`.o; objs="$$objs $$o"; \
	  if test ! -f $$o || test $(srcdir)/$$s -nt $$o; then \
	    echo "  FUZZCC $$s"; \
	    $(FUZZ_CC) -g -O1 -pthread $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(FUZZ_CPP) \
	      -c $(srcdir)/$$s -o $$o; fi; done; \
	for t in $(FUZZ_TARGETS); do \
	  echo "  FUZZLD tests/fuzz/bin/fuzz_$$t"; \
	  $(FUZZ_CC) -g -O1 -pthread $(FUZZ_SAN) -fsanitize=fuzzer $(FUZZ_CPP) \
	    -I$(srcdir)/tests/fuzz $(srcdir)/tests/fuzz/fuzz_$$t.c $$objs $(FUZZ_LIBS) \
	    -o tests/fuzz/bin/fuzz_$$t; done
.PHONY: fuzz

clean-local: clean-fuzz
clean-fuzz:
	-rm -rf tests/fuzz/bin
.PHONY: clean-fuzz

# protofuzz: hostile milter-protocol traffic (tests/integration/protofuzz.sh)
check_PROGRAMS += tests/fuzz/protofuzz
tests_fuzz_protofuzz_SOURCES = tests/fuzz/protofuzz.c \
	tests/bench/milter_client.c tests/bench/milter_client.h
tests_fuzz_protofuzz_CFLAGS = $(AM_CFLAGS) $(MILTER_CFLAGS)
tests_fuzz_protofuzz_LDADD = -lpthread
