// SPDX-License-Identifier: MIT
/*
 * The global discovery list through libxicept.so: the library's constructors
 * run when it is loaded, and a program's own XI_CATALOG_REGISTER joins the
 * same list as the built-ins.
 */
#include <dlfcn.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <libgen.h>

#include <cmocka.h>

#include <xicept/catalog.h>
#include <xicept/registry.h>

static int local_new(const struct xi_factory *f, const void *config,
		     const struct xi_build_ctx *ctx, struct xi_interceptor **ret)
{
	*ret = xi_noop_new();
	return *ret ? 0 : -ENOMEM;
}

static const struct xi_factory local_factory = {
	.name = "shared-local",
	.new_interceptor = local_new,
};

XI_CATALOG_REGISTER(local_factory)

/* Guards against a build that quietly linked the static library instead. */
static void test_linked_against_shared_library(void **state)
{
	Dl_info info = { 0 };
	char path[4096];

	assert_int_not_equal(dladdr((void *)xi_catalog_new_from_global, &info), 0);
	assert_non_null(info.dli_fname);
	snprintf(path, sizeof(path), "%s", info.dli_fname);
	assert_int_equal(strncmp(basename(path), "libxicept.so", strlen("libxicept.so")), 0);
}

static void test_noop_through_shared_library(void **state)
{
	struct xi_catalog *cat = xi_catalog_new_from_global();
	struct xi_catalog_entry *e = NULL;
	struct xi_chain *chain = NULL;
	struct xi_err err = { 0 };
	char **names = NULL;
	size_t n = 0, found = 0;

	assert_non_null(cat);
	assert_int_equal(xi_catalog_lookup(cat, "noop", &e), 0);
	assert_string_equal(xi_catalog_entry_factory(e)->name, "noop");
	xi_catalog_entry_put(e);
	assert_int_equal(xi_catalog_names(cat, &names, &n), 0);
	for (size_t i = 0; i < n; i++)
		found += strcmp(names[i], "noop") == 0 || strcmp(names[i], "shared-local") == 0;
	assert_int_equal(found, 2);
	xi_strv_free(names, n);
	assert_int_equal(xi_catalog_build(cat, "noop ! shared-local", NULL, &chain, &err), 0);
	assert_int_equal(xi_chain_len(chain), 2);
	assert_int_equal(xi_chain_close(chain, NULL), 0);
	xi_catalog_free(cat);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linked_against_shared_library),
		cmocka_unit_test(test_noop_through_shared_library),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
