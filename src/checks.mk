# checks.mk - resolver (c-ares), SPF (libspf2 + RFC 7208 syntax) and their
# tests; included from Makefile.am.
#
# make check runs:
#   tests/unit/test_spf_syntax  table of records, pure
#   tests/dns/spf-suite.sh      RFC 7208 suite through spf.c over an in-memory
#                               zone (needs python3-yaml, else skipped)
#   tests/dns/dns-tests.sh      test_resolver + test_spf against unbound on
#                               127.0.0.1/::1 port $GREYREP_DNS_PORT (5353)

src_libgreyrep_a_SOURCES += \
	src/resolver.c src/resolver_zone.c src/resolver.h src/resolver_impl.h \
	src/spf.c src/spf.h \
	src/spf_syntax.c src/spf_syntax.h \
	src/spf_macro.c src/spf_macro.h

check_PROGRAMS += tests/unit/test_spf_syntax tests/unit/test_resolver \
	tests/unit/test_spf tests/unit/test_spf_suite

tests_unit_test_spf_syntax_SOURCES = tests/unit/test_spf_syntax.c \
	src/spf_syntax.c src/spf_syntax.h

tests_unit_test_resolver_SOURCES = tests/unit/test_resolver.c \
	src/resolver.c src/resolver_zone.c src/resolver.h src/resolver_impl.h \
	src/log.c src/log.h
tests_unit_test_resolver_CFLAGS = $(AM_CFLAGS) $(CARES_CFLAGS)
tests_unit_test_resolver_LDADD = $(CARES_LIBS) -lpthread

GR_SPF_TEST_SOURCES = src/spf.c src/spf.h src/spf_syntax.c src/spf_syntax.h \
	src/spf_macro.c src/spf_macro.h \
	src/resolver.c src/resolver_zone.c src/resolver.h src/resolver_impl.h \
	src/log.c src/log.h

tests_unit_test_spf_SOURCES = tests/unit/test_spf.c $(GR_SPF_TEST_SOURCES)
tests_unit_test_spf_CFLAGS = $(AM_CFLAGS) $(CARES_CFLAGS)
tests_unit_test_spf_LDADD = $(CARES_LIBS) $(SPF2_LIBS) -lpthread

tests_unit_test_spf_suite_SOURCES = tests/unit/test_spf_suite.c $(GR_SPF_TEST_SOURCES)
tests_unit_test_spf_suite_CFLAGS = $(AM_CFLAGS) $(CARES_CFLAGS)
tests_unit_test_spf_suite_LDADD = $(CARES_LIBS) $(SPF2_LIBS) -lpthread

TESTS += tests/unit/test_spf_syntax tests/dns/spf-suite.sh tests/dns/dns-tests.sh

# tests/data is distributed as a whole by Makefile.am
EXTRA_DIST += tests/dns/unbound-zone.sh tests/dns/unbound-start.sh \
	tests/dns/dns-tests.sh tests/dns/spf-suite.sh tests/dns/spf-suite-convert.py
