# checks2.mk - DKIM, iprev, DNS block lists and Authentication-Results.
# Included from Makefile.am (after src_libgreyrep_a_SOURCES is first set).
# The unit tests build their own module objects against the in-memory fake
# resolver (tests/unit/fake_resolver.c), so they neither need the network
# nor link src/libgreyrep.a; test_checks2_zone runs the same modules over
# the real src/resolver.c with its in-memory zone (real DNS packets).

src_libgreyrep_a_SOURCES += \
	src/dkim.c src/dkim.h \
	src/iprev.c src/iprev.h \
	src/dnsbl.c src/dnsbl.h \
	src/authres.c src/authres.h

CHECKS2_TESTS = \
	tests/unit/test_dkim \
	tests/unit/test_iprev \
	tests/unit/test_dnsbl \
	tests/unit/test_authres \
	tests/unit/test_checks2_zone
check_PROGRAMS += $(CHECKS2_TESTS)
TESTS += $(CHECKS2_TESTS)

CHECKS2_FAKE = tests/unit/fake_resolver.c tests/unit/fake_resolver.h
CHECKS2_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/unit

tests_unit_test_dkim_SOURCES = tests/unit/test_dkim.c \
	src/dkim.c src/dkim.h src/log.c src/log.h $(CHECKS2_FAKE)
tests_unit_test_dkim_CPPFLAGS = $(CHECKS2_CPPFLAGS)
tests_unit_test_dkim_CFLAGS = $(AM_CFLAGS) $(OPENDKIM_CFLAGS)
tests_unit_test_dkim_LDADD = $(OPENDKIM_LIBS)

tests_unit_test_iprev_SOURCES = tests/unit/test_iprev.c \
	src/iprev.c src/iprev.h src/log.c src/log.h src/util.c src/util.h $(CHECKS2_FAKE) \
	src/orgdomain.c src/orgdomain.h
tests_unit_test_iprev_CPPFLAGS = $(CHECKS2_CPPFLAGS)
tests_unit_test_iprev_LDADD = $(LIBPSL_LIBS) -lpthread

tests_unit_test_dnsbl_SOURCES = tests/unit/test_dnsbl.c \
	src/dnsbl.c src/dnsbl.h src/util.c src/util.h $(CHECKS2_FAKE)
tests_unit_test_dnsbl_CPPFLAGS = $(CHECKS2_CPPFLAGS)

# authres uses dkim.c only for dkimv_status_name()
tests_unit_test_authres_SOURCES = tests/unit/test_authres.c \
	src/authres.c src/authres.h src/dkim.c src/dkim.h src/log.c src/log.h \
	src/util.c src/util.h $(CHECKS2_FAKE)
tests_unit_test_authres_CPPFLAGS = $(CHECKS2_CPPFLAGS)
tests_unit_test_authres_CFLAGS = $(AM_CFLAGS) $(OPENDKIM_CFLAGS)
tests_unit_test_authres_LDADD = $(OPENDKIM_LIBS)

tests_unit_test_checks2_zone_SOURCES = tests/unit/test_checks2_zone.c \
	src/dkim.c src/dkim.h src/iprev.c src/iprev.h src/dnsbl.c src/dnsbl.h \
	src/resolver.c src/resolver_zone.c src/resolver.h src/resolver_impl.h \
	src/log.c src/log.h src/util.c src/util.h src/orgdomain.c src/orgdomain.h
tests_unit_test_checks2_zone_CFLAGS = $(AM_CFLAGS) $(OPENDKIM_CFLAGS) $(CARES_CFLAGS)
tests_unit_test_checks2_zone_LDADD = $(OPENDKIM_LIBS) $(CARES_LIBS) $(LIBPSL_LIBS)

EXTRA_DIST += \
	tests/data/dkim/README \
	tests/data/dkim/LICENSE.dkimpy \
	tests/data/dkim/rfc6376.signed.msg \
	tests/data/dkim/rfc8463.keys \
	tests/data/dkim/ed25519test2.msg \
	tests/data/dkim/exim.keys \
	tests/data/dkim/small768.signed.msg \
	tests/data/dkim/small768.keys \
	tests/data/dkim/small768.private
