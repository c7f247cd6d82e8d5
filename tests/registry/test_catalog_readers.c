// SPDX-License-Identifier: MIT
/*
 * Readers never block (docs/architecture.md): lookups, hit or miss, the miss
 * counts, names and suggestions take no mutex. This program defines its own
 * pthread_mutex_lock, which a static link prefers to libc's, and counts the
 * calls made while the test thread is reading.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <xicept/catalog.h>
#include <xicept/registry.h>

static __thread bool watching;
static __thread int locks_taken;

int pthread_mutex_lock(pthread_mutex_t *m)
{
	static int (*real)(pthread_mutex_t *);

	if (!real)
		real = (int (*)(pthread_mutex_t *))dlsym(RTLD_NEXT, "pthread_mutex_lock");
	if (watching)
		locks_taken++;
	return real(m);
}

static int reader_new(const struct xi_factory *f, const void *config,
		      const struct xi_build_ctx *ctx, struct xi_interceptor **ret)
{
	*ret = xi_noop_new();
	return *ret ? 0 : -ENOMEM;
}

static const struct xi_factory alpha = { .name = "alpha", .new_interceptor = reader_new };

static struct xi_catalog *catalog_with_alpha(void)
{
	struct xi_catalog *cat = xi_catalog_new();
	struct xi_catalog_entry *e = NULL;

	assert_non_null(cat);
	assert_int_equal(xi_catalog_register(cat, &alpha), 0);
	/* liburcu-bp registers a thread on its first read, under a mutex. */
	assert_int_equal(xi_catalog_lookup(cat, "alpha", &e), 0);
	xi_catalog_entry_put(e);
	return cat;
}

static void test_lookups_take_no_lock(void **state)
{
	struct xi_catalog *cat = catalog_with_alpha();
	struct xi_catalog_entry *e = NULL;
	struct xi_catalog_stats st;
	char near[XI_NAME_MAX];
	char **names = NULL;
	size_t n = 0;

	watching = true;
	locks_taken = 0;
	assert_int_equal(xi_catalog_lookup(cat, "alpha", &e), 0);
	assert_int_equal(xi_catalog_lookup(cat, "alpah", &e), -ENOENT);
	assert_int_equal(xi_catalog_lookup(cat, "alpah", &e), -ENOENT);
	assert_int_equal(xi_catalog_lookup(cat, "beta", &e), -ENOENT);
	assert_int_equal(xi_catalog_misses_for(cat, "alpah"), 2);
	assert_int_equal(xi_catalog_misses_for(cat, "beta"), 1);
	assert_int_equal(xi_catalog_suggest(cat, "alpah", near, sizeof(near)), 0);
	assert_int_equal(xi_catalog_names(cat, &names, &n), 0);
	xi_catalog_stats(cat, &st);
	watching = false;

	assert_int_equal(locks_taken, 0);
	assert_string_equal(near, "alpha");
	assert_int_equal(n, 1);
	assert_int_equal(st.lookups, 5);
	assert_int_equal(st.misses, 3);
	xi_strv_free(names, n);
	xi_catalog_entry_put(e);
	xi_catalog_free(cat);
}

/* The miss table is bounded: past 256 distinct names, misses still count in
 * stats.misses but are not tracked by name. */
static void test_miss_table_bound(void **state)
{
	struct xi_catalog *cat = catalog_with_alpha();
	struct xi_catalog_entry *e = NULL;
	struct xi_catalog_stats st;
	char name[160];
	uint64_t tracked = 0;

	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "miss-%d", i);
		assert_int_equal(xi_catalog_lookup(cat, name, &e), -ENOENT);
	}
	memset(name, 'x', 150);
	name[150] = '\0';
	assert_int_equal(xi_catalog_lookup(cat, name, &e), -ENOENT);   /* too long to track */
	assert_int_equal(xi_catalog_misses_for(cat, name), 0);
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "miss-%d", i);
		tracked += xi_catalog_misses_for(cat, name);
	}
	assert_int_equal(tracked, 256);
	assert_int_equal(xi_catalog_misses_for(cat, "miss-0"), 1);
	xi_catalog_stats(cat, &st);
	assert_int_equal(st.misses, 301);
	xi_catalog_free(cat);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookups_take_no_lock),
		cmocka_unit_test(test_miss_table_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
