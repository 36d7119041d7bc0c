# tests/unit/ops.mk - unit tests of the metrics and greyrepctl's operating
# verbs (stats --prometheus, report, import postgrey); included by
# Makefile.am.  Skipped when cmocka is not installed.
if HAVE_CMOCKA
CTL_OPS_SOURCES = src/ctl_ops.h src/ctl_stats.c src/ctl_import.c src/ctl_report.c \
	src/ctl_report.h src/ctl_svg.c src/ctl_json.c src/ctl_json.h

check_PROGRAMS += tests/unit/test_metrics tests/unit/test_ctl_ops
TESTS += tests/unit/test_metrics tests/unit/test_ctl_ops

tests_unit_test_metrics_SOURCES = tests/unit/test_metrics.c tests/unit/unit_util.h \
	$(CTL_OPS_SOURCES)
tests_unit_test_metrics_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_metrics_LDADD = $(UNIT_LDADD)

tests_unit_test_ctl_ops_SOURCES = tests/unit/test_ctl_ops.c tests/unit/unit_util.h \
	$(CTL_OPS_SOURCES)
tests_unit_test_ctl_ops_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_ctl_ops_LDADD = $(UNIT_LDADD)
endif
