// SPDX-License-Identifier: MIT
/* Versions, origins, use counts and the frozen catalog's error; the miss
 * list and the chain-build histogram that /metrics shows. */
#include <errno.h>
#include <math.h>
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
#include <xicept/registry.h>

/* Which version made an interceptor: priv holds "major.minor". */
static const char *last_made;

static int made_new(const struct xi_factory *f, const void *config,
		    const struct xi_build_ctx *ctx, struct xi_interceptor **ret)
{
	last_made = f->priv;
	*ret = xi_noop_new();
	return *ret ? 0 : -ENOMEM;
}

#define VFACTORY(nm, maj, min) \
	{ .name = (nm), .new_interceptor = made_new, .priv = #maj "." #min, \
	  .version_major = (maj), .version_minor = (min) }

static const struct xi_factory v1_0 = VFACTORY("vtest", 1, 0);
static const struct xi_factory v1_2 = VFACTORY("vtest", 1, 2);
static const struct xi_factory v2_0 = VFACTORY("vtest", 2, 0);
static const struct xi_factory v0_9 = VFACTORY("vtest", 0, 9);
static const struct xi_factory other = { .name = "other", .new_interceptor = made_new,
					 .priv = "1.0" };

static struct xi_catalog *three_versions(void)
{
	struct xi_catalog *cat = xi_catalog_new();

	assert_non_null(cat);
	/* Registered out of order: the highest wins however they came. */
	assert_int_equal(xi_catalog_register(cat, &v1_2), 0);
	assert_int_equal(xi_catalog_register(cat, &v2_0), 0);
	assert_int_equal(xi_catalog_register(cat, &v1_0), 0);
	return cat;
}

static const char *looked_up(struct xi_catalog *cat, const char *name)
{
	struct xi_catalog_entry *e = NULL;
	const char *v;

	if (xi_catalog_lookup(cat, name, &e))
		return NULL;
	v = xi_catalog_entry_factory(e)->priv;
	xi_catalog_entry_put(e);
	return v;
}

static void test_bare_name_is_highest(void **state)
{
	struct xi_catalog *cat = three_versions();
	char id[XI_ID_MAX];

	assert_string_equal(looked_up(cat, "vtest"), "2.0");
	assert_string_equal(looked_up(cat, "vtest@1.2"), "1.2");
	assert_string_equal(looked_up(cat, "vtest@1.0"), "1.0");
	assert_null(looked_up(cat, "vtest@1.1"));
	/* 0.9 sorts below 1.0: the bare name stays at 2.0. */
	assert_int_equal(xi_catalog_register(cat, &v0_9), 0);
	assert_string_equal(looked_up(cat, "vtest"), "2.0");
	/* The exact version again: -EEXIST. */
	assert_int_equal(xi_catalog_register(cat, &v1_2), -EEXIST);
	/* Unset versions read as 1.0, so "other" is other@1.0. */
	assert_int_equal(xi_catalog_register(cat, &other), 0);
	assert_int_equal(xi_factory_id(&other, id, sizeof(id)), 0);
	assert_string_equal(id, "other@1.0");
	assert_string_equal(looked_up(cat, "other@1.0"), "1.0");
	/* Unregistering the highest makes the next one the bare name's. */
	assert_int_equal(xi_catalog_unregister(cat, "vtest@2.0"), 0);
	assert_string_equal(looked_up(cat, "vtest"), "1.2");
	assert_int_equal(xi_catalog_unregister(cat, "vtest"), 0);   /* 1.2 */
	assert_string_equal(looked_up(cat, "vtest"), "1.0");
	xi_catalog_free(cat);
}

static void test_chain_text_versions(void **state)
{
	struct xi_catalog *cat = three_versions();
	struct xi_chain *ch = NULL;
	struct xi_err err = { 0 };
	char buf[256];

	assert_int_equal(xi_catalog_build(cat, "vtest", NULL, &ch, &err), 0);
	assert_string_equal(last_made, "2.0");
	xi_chain_close(ch, NULL);
	assert_int_equal(xi_catalog_build(cat, "vtest@1.2", NULL, &ch, &err), 0);
	assert_string_equal(last_made, "1.2");
	xi_chain_close(ch, NULL);
	assert_int_equal(xi_catalog_build(cat, "vtest@9.9", NULL, &ch, &err), -ENOENT);
	assert_string_equal(err.msg, "unknown version 'vtest@9.9' (the highest is 'vtest@2.0')");
	assert_int_equal(xi_catalog_resolve(cat, "vtest ! vtest@1.0", buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "vtest@2.0 ! vtest@1.0");
	xi_catalog_free(cat);
}

static void test_origins(void **state)
{
	struct xi_catalog *cat = xi_catalog_new();
	struct xi_catalog_entry *e = NULL;
	char exe[4096];
	ssize_t n;

	assert_non_null(cat);
	assert_int_equal(xi_catalog_register(cat, &v1_0), 0);
	assert_int_equal(xi_catalog_register_origin(cat, &v2_0, XI_ORIGIN_PLUGIN,
						    "/usr/lib/xicept/plugins/v.so"), 0);
	assert_int_equal(xi_catalog_lookup(cat, "vtest@2.0", &e), 0);
	assert_int_equal(xi_catalog_entry_origin_kind(e), XI_ORIGIN_PLUGIN);
	assert_string_equal(xi_catalog_entry_origin(e), "/usr/lib/xicept/plugins/v.so");
	assert_string_equal(xi_origin_kind_name(XI_ORIGIN_PLUGIN), "plugin");
	xi_catalog_entry_put(e);
	/* Registered by this program through the API: its path. */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	assert_int_equal(xi_catalog_lookup(cat, "vtest@1.0", &e), 0);
	assert_int_equal(xi_catalog_entry_origin_kind(e), XI_ORIGIN_PROGRAM);
	assert_string_equal(xi_catalog_entry_origin(e), exe);
	xi_catalog_entry_put(e);
	xi_catalog_free(cat);

	/* The built-ins: file:line of their XI_CATALOG_REGISTER. */
	cat = xi_catalog_new_from_global();
	assert_non_null(cat);
	assert_int_equal(xi_catalog_lookup(cat, "noop", &e), 0);
	assert_int_equal(xi_catalog_entry_origin_kind(e), XI_ORIGIN_BUILTIN);
	assert_non_null(strstr(xi_catalog_entry_origin(e), "user/interceptors/noop/noop.c:"));
	xi_catalog_entry_put(e);
	xi_catalog_free(cat);
}

static uint64_t uses_of(struct xi_catalog *cat, const char *name)
{
	struct xi_catalog_entry *e = NULL;
	uint64_t n;

	assert_int_equal(xi_catalog_lookup(cat, name, &e), 0);
	n = xi_catalog_entry_uses(e);
	xi_catalog_entry_put(e);
	return n;
}

static void test_uses_and_replacement(void **state)
{
	static const struct xi_factory v1_2b = VFACTORY("vtest", 1, 2);
	struct xi_catalog *cat = xi_catalog_new();
	struct xi_chain *a = NULL, *b = NULL, *c = NULL;

	assert_non_null(cat);
	assert_int_equal(xi_catalog_register(cat, &v1_0), 0);
	assert_int_equal(uses_of(cat, "vtest"), 0);
	assert_int_equal(xi_catalog_build(cat, "vtest", NULL, &a, NULL), 0);
	assert_int_equal(xi_catalog_build(cat, "vtest ! vtest", NULL, &b, NULL), 0);
	/* Each element counts: a chain naming the entry twice holds two uses. */
	assert_int_equal(uses_of(cat, "vtest@1.0"), 3);
	/* A newer version while chains use 1.0: they keep it, new chains get 1.2. */
	assert_int_equal(xi_catalog_register(cat, &v1_2), 0);
	assert_int_equal(xi_catalog_build(cat, "vtest", NULL, &c, NULL), 0);
	assert_string_equal(last_made, "1.2");
	assert_int_equal(uses_of(cat, "vtest@1.0"), 3);
	assert_int_equal(uses_of(cat, "vtest@1.2"), 1);
	/* replace swaps the 1.2 entry; the chain built from it keeps its own. */
	assert_int_equal(xi_catalog_replace(cat, &v1_2b), 0);
	assert_int_equal(uses_of(cat, "vtest@1.2"), 0);
	xi_chain_close(a, NULL);
	assert_int_equal(uses_of(cat, "vtest@1.0"), 2);
	xi_chain_close(b, NULL);
	xi_chain_close(c, NULL);
	assert_int_equal(uses_of(cat, "vtest@1.0"), 0);
	xi_catalog_free(cat);
}

static void test_frozen_message(void **state)
{
	struct xi_catalog *cat = xi_catalog_new();
	struct xi_err err = { 0 };

	assert_non_null(cat);
	assert_int_equal(xi_catalog_register(cat, &v1_0), 0);
	assert_false(xi_catalog_frozen(cat));
	xi_catalog_freeze(cat);
	assert_true(xi_catalog_frozen(cat));
	assert_int_equal(xi_catalog_register_err(cat, &v2_0, &err), -EBUSY);
	assert_int_equal(err.code, -EBUSY);
	assert_non_null(strstr(err.msg, "cannot register 'vtest@2.0': the catalog is frozen"));
	assert_null(strchr(err.msg, '\n'));
	assert_int_equal(xi_catalog_register(cat, &v2_0), -EBUSY);
	assert_int_equal(xi_catalog_replace(cat, &v1_0), -EBUSY);
	assert_int_equal(xi_catalog_unregister(cat, "vtest"), -EBUSY);
	/* Nothing was half-applied. */
	assert_string_equal(looked_up(cat, "vtest"), "1.0");
	xi_catalog_free(cat);
}

static void test_miss_list(void **state)
{
	struct xi_catalog *cat = three_versions();
	char **names = NULL;
	uint64_t *counts = NULL;
	size_t n = 99;

	assert_int_equal(xi_catalog_miss_list(cat, &names, &counts, &n), 0);
	assert_int_equal(n, 0);
	xi_strv_free(names, n);
	free(counts);
	assert_null(looked_up(cat, "nope"));
	assert_null(looked_up(cat, "nope"));
	assert_null(looked_up(cat, "vtest@3.0"));
	assert_non_null(looked_up(cat, "vtest"));
	assert_int_equal(xi_catalog_miss_list(cat, &names, &counts, &n), 0);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(names[i], "nope"))
			assert_int_equal(counts[i], 2);
		else {
			assert_string_equal(names[i], "vtest@3.0");
			assert_int_equal(counts[i], 1);
		}
	}
	xi_strv_free(names, n);
	free(counts);
	assert_int_equal(xi_catalog_miss_list(NULL, &names, &counts, &n), -EINVAL);
	xi_catalog_free(cat);
}

static void test_build_histogram(void **state)
{
	struct xi_catalog *cat = three_versions();
	struct xi_catalog_stats st;
	uint64_t b[XI_BUILD_BUCKETS], sum = 0;
	struct xi_chain *ch = NULL;

	assert_true(xi_catalog_build_bucket_le(0) == 0.0001);
	for (size_t i = 1; i < XI_BUILD_BUCKETS - 1; i++)
		assert_true(xi_catalog_build_bucket_le(i) > xi_catalog_build_bucket_le(i - 1));
	assert_true(xi_catalog_build_bucket_le(XI_BUILD_BUCKETS - 2) == 0.25);
	assert_true(isinf(xi_catalog_build_bucket_le(XI_BUILD_BUCKETS - 1)));
	for (int i = 0; i < 5; i++) {
		assert_int_equal(xi_catalog_build(cat, "vtest", NULL, &ch, NULL), 0);
		xi_chain_close(ch, NULL);
	}
	/* Failures are counted apart, not in the histogram. */
	assert_int_equal(xi_catalog_build(cat, "nope", NULL, &ch, NULL), -ENOENT);
	xi_catalog_build_histogram(cat, b);
	for (size_t i = 0; i < XI_BUILD_BUCKETS; i++)
		sum += b[i];
	xi_catalog_stats(cat, &st);
	assert_int_equal(sum, 5);
	assert_int_equal(st.builds, 5);
	assert_int_equal(st.build_failures, 1);
	xi_catalog_free(cat);
}

/* Registrations are timed as builds are: one count per successful register
 * (and register_origin, as plugins and the global list use), none for one
 * refused, nor for replace or unregister. */
static void test_register_histogram(void **state)
{
	struct xi_catalog *cat = three_versions();
	struct xi_factory other = v1_0;
	struct xi_catalog_stats st;
	uint64_t b[XI_BUILD_BUCKETS], sum = 0;

	other.name = "vother";
	assert_int_equal(xi_catalog_register_origin(cat, &other, XI_ORIGIN_PLUGIN, "/p.so"), 0);
	assert_int_equal(xi_catalog_register(cat, &v1_0), -EEXIST);
	assert_int_equal(xi_catalog_replace(cat, &v2_0), 0);
	assert_int_equal(xi_catalog_unregister(cat, "vtest@1.2"), 0);
	xi_catalog_register_histogram(cat, b);
	for (size_t i = 0; i < XI_BUILD_BUCKETS; i++)
		sum += b[i];
	xi_catalog_stats(cat, &st);
	assert_int_equal(sum, 4);
	assert_int_equal(st.registrations, 4);
	assert_true(st.register_ns_total > 0);
	/* Apart from the builds': none was made. */
	xi_catalog_build_histogram(cat, b);
	for (size_t i = 0; i < XI_BUILD_BUCKETS; i++)
		assert_int_equal(b[i], 0);
	xi_catalog_register_histogram(NULL, b);
	assert_int_equal(b[0], 0);
	xi_catalog_free(cat);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bare_name_is_highest),
		cmocka_unit_test(test_chain_text_versions),
		cmocka_unit_test(test_origins),
		cmocka_unit_test(test_uses_and_replacement),
		cmocka_unit_test(test_frozen_message),
		cmocka_unit_test(test_miss_list),
		cmocka_unit_test(test_build_histogram),
		cmocka_unit_test(test_register_histogram),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
