# src/redis.mk - the Redis store backend and its test; included by Makefile.am.
# The test needs a real redis-server: tests/unit/redis-test.sh starts a
# private one on a free loopback port (skips, status 77, when not installed).
if WITH_REDIS
src_libgreyrep_a_SOURCES += src/store_redis.c src/redis_pool.c src/redis_pool.h \
	src/redis_sentinel.c src/redis_sentinel.h

check_PROGRAMS += tests/unit/test_store_redis
tests_unit_test_store_redis_SOURCES = tests/unit/test_store_redis.c \
	src/store_redis.c src/redis_pool.c src/redis_pool.h \
	src/redis_sentinel.c src/redis_sentinel.h \
	src/store.c src/store_impl.h src/store.h \
	src/store_lmdb.c src/util.c src/log.c
tests_unit_test_store_redis_CFLAGS = $(AM_CFLAGS) $(HIREDIS_CFLAGS) $(LMDB_CFLAGS)
tests_unit_test_store_redis_LDADD = $(HIREDIS_LIBS) $(LMDB_LIBS) -lpthread
TESTS += tests/unit/redis-test.sh
endif
EXTRA_DIST += tests/unit/redis-test.sh
