# tests/unit/unit.mk - cmocka unit tests of the core modules; included by
# Makefile.am.  One program per module (tests/unit/test_<module>.c); each
# prints cmocka's default "[ RUN ] / [ OK ] / [ FAILED ]" line per case,
# which tests/run-all.sh counts.  Skipped (with a configure warning) when
# cmocka is not installed.
if HAVE_CMOCKA
UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(LMDB_CFLAGS)
UNIT_LDADD = $(GR_LIBS) $(CMOCKA_LIBS) -lpthread

check_PROGRAMS += tests/unit/test_netaddr tests/unit/test_envaddr \
	tests/unit/test_greylist tests/unit/test_record tests/unit/test_config \
	tests/unit/test_whitelist tests/unit/test_store_lmdb tests/unit/test_decide \
	tests/unit/test_policy
TESTS += tests/unit/test_netaddr tests/unit/test_envaddr \
	tests/unit/test_greylist tests/unit/test_record tests/unit/test_config \
	tests/unit/test_whitelist tests/unit/test_store_lmdb tests/unit/test_decide \
	tests/unit/test_policy

tests_unit_test_netaddr_SOURCES = tests/unit/test_netaddr.c
tests_unit_test_netaddr_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_netaddr_LDADD = $(UNIT_LDADD)

tests_unit_test_envaddr_SOURCES = tests/unit/test_envaddr.c
tests_unit_test_envaddr_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_envaddr_LDADD = $(UNIT_LDADD)

tests_unit_test_greylist_SOURCES = tests/unit/test_greylist.c tests/unit/unit_util.h
tests_unit_test_greylist_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_greylist_LDADD = $(UNIT_LDADD)

tests_unit_test_record_SOURCES = tests/unit/test_record.c
tests_unit_test_record_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_record_LDADD = $(UNIT_LDADD)

tests_unit_test_config_SOURCES = tests/unit/test_config.c tests/unit/unit_util.h
tests_unit_test_config_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_config_LDADD = $(UNIT_LDADD)

tests_unit_test_whitelist_SOURCES = tests/unit/test_whitelist.c tests/unit/unit_util.h
tests_unit_test_whitelist_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_whitelist_LDADD = $(UNIT_LDADD)

tests_unit_test_store_lmdb_SOURCES = tests/unit/test_store_lmdb.c tests/unit/unit_util.h
tests_unit_test_store_lmdb_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_store_lmdb_LDADD = $(UNIT_LDADD)

tests_unit_test_decide_SOURCES = tests/unit/test_decide.c tests/unit/unit_util.h
tests_unit_test_decide_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_decide_LDADD = $(UNIT_LDADD)

tests_unit_test_policy_SOURCES = tests/unit/test_policy.c
tests_unit_test_policy_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_policy_LDADD = $(UNIT_LDADD)

# greyrepctl dump/load/del (issue 10: load all or nothing, any key removable)
check_PROGRAMS += tests/unit/test_ctl_load
TESTS += tests/unit/test_ctl_load
tests_unit_test_ctl_load_SOURCES = tests/unit/test_ctl_load.c tests/unit/unit_util.h \
	src/ctl_load.c src/ctl_load.h src/ctl_json.c src/ctl_json.h
tests_unit_test_ctl_load_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_ctl_load_LDADD = $(UNIT_LDADD)
endif
