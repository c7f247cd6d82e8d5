// SPDX-License-Identifier: MIT
/*
 * The plugin loader against a real plugin (one_plugin.c, built here into a
 * fresh directory beside this program, which only root may write): what a
 * load leaves in the catalog's counters, the duplicate check, the init's
 * time.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <xicept/catalog.h>
#include <xicept/interceptor.h>
#include <xicept/plugin.h>

static char plugin[PATH_MAX];   /* the plugin's real path */

/* What the plugin calls must be in this program for it to export (-rdynamic):
 * a static link takes only the archive members something here refers to. */
__attribute__((used)) static void *const plugin_needs[] = { (void *)xi_noop_new };

static int build_plugin(void **state)
{
	char dir[PATH_MAX], cmd[3 * PATH_MAX];
	ssize_t n;

	/* The loader takes only root's files: as anyone else there is nothing to test. */
	if (geteuid() != 0)
		return 0;
	n = readlink("/proc/self/exe", dir, sizeof(dir) - 32);
	if (n <= 0)
		return -1;
	dir[n] = '\0';
	strcpy(strrchr(dir, '/'), "/plugin.XXXXXX");
	if (!mkdtemp(dir) || !realpath(dir, plugin))
		return -1;
	strcat(plugin, "/one.so");
	snprintf(cmd, sizeof(cmd), "cc -shared -fPIC -O1 -Wall -Werror -Iinclude -o %s "
		 "tests/user/plugin/one_plugin.c", plugin);
	return system(cmd) ? -1 : 0;
}

static int remove_plugin(void **state)
{
	if (plugin[0]) {
		unlink(plugin);
		*strrchr(plugin, '/') = '\0';
		rmdir(plugin);
	}
	return 0;
}

static void expect_no_lookups(struct xi_catalog *cat)
{
	struct xi_catalog_stats st;
	uint64_t *counts;
	char **names;
	size_t n;

	xi_catalog_stats(cat, &st);
	assert_int_equal(st.lookups, 0);
	assert_int_equal(st.misses, 0);
	assert_int_equal(xi_catalog_misses_for(cat, "unit-plugin@1.0"), 0);
	assert_int_equal(xi_catalog_miss_list(cat, &names, &counts, &n), 0);
	assert_int_equal(n, 0);
	xi_strv_free(names, n);
	free(counts);
}

/* The loader checks each NAME@VERSION against the catalog before it moves a
 * plugin's entries in; that check is not a lookup a user made, and must not
 * show as a miss on /metrics (an alert on misses would fire for a healthy
 * daemon). */
static void test_load_counts_no_miss(void **state)
{
	struct xi_catalog *cat = xi_catalog_new();
	struct xi_catalog_entry **v;
	struct xi_catalog_stats st;
	struct xi_err err = { 0 };
	size_t n;

	if (!plugin[0])
		skip();
	assert_int_equal(xi_plugin_load(cat, plugin, &err), 0);
	expect_no_lookups(cat);
	xi_catalog_stats(cat, &st);
	assert_int_equal(st.size, 1);
	assert_int_equal(st.registrations, 1);
	assert_int_equal(xi_catalog_entries(cat, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(xi_catalog_entry_factory(v[0])->name, "unit-plugin");
	assert_string_equal(xi_catalog_entry_origin(v[0]), plugin);
	assert_int_equal(xi_catalog_entry_origin_kind(v[0]), XI_ORIGIN_PLUGIN);
	xi_catalog_entries_free(v, n);
	xi_catalog_free(cat);
}

static void test_duplicate_refused(void **state)
{
	struct xi_catalog *cat = xi_catalog_new();
	struct xi_catalog_stats st;
	struct xi_err err = { 0 };
	char want[PATH_MAX + 64];

	if (!plugin[0])
		skip();
	assert_int_equal(xi_plugin_load(cat, plugin, &err), 0);
	assert_int_equal(xi_plugin_load(cat, plugin, &err), -EEXIST);
	snprintf(want, sizeof(want), "duplicate interceptor 'unit-plugin@1.0' (already from %s)",
		 plugin);
	assert_string_equal(err.msg, want);
	expect_no_lookups(cat);
	xi_catalog_stats(cat, &st);
	assert_int_equal(st.size, 1);
	assert_int_equal(st.registrations, 1);
	xi_catalog_free(cat);
}

/* Each plugin kept is listed once, by its real path, with how long its
 * init took (a load again, as by the tests above, times it again); one
 * refused (the duplicate) adds nothing. */
static void test_init_time(void **state)
{
	const char *path = NULL;
	uint64_t ns = 0;

	if (!plugin[0])
		skip();
	assert_int_equal(xi_plugin_loaded_at(0, &path, &ns), 0);
	assert_string_equal(path, plugin);
	assert_true(ns > 0 && ns < 10ull * 1000 * 1000 * 1000);
	assert_int_equal(xi_plugin_loaded_at(1, &path, &ns), -ENOENT);
	assert_int_equal(xi_plugin_loaded_at(0, NULL, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_counts_no_miss),
		cmocka_unit_test(test_duplicate_refused),
		cmocka_unit_test(test_init_time),
	};

	return cmocka_run_group_tests(tests, build_plugin, remove_plugin);
}
