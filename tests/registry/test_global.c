// SPDX-License-Identifier: MIT
/*
 * The global discovery list, seen from a program linked against libxicept.a
 * (as every unit test is): the built-ins' object files must be kept by the
 * anchors, and this program's own XI_CATALOG_REGISTER must be found too.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <xicept/catalog.h>
#include <xicept/registry.h>

#include "registry/builtin.h"

static int made;

static int local_new(const struct xi_factory *f, const void *config,
		     const struct xi_build_ctx *ctx, struct xi_interceptor **ret)
{
	made++;
	*ret = xi_noop_new();
	return *ret ? 0 : -ENOMEM;
}

static const struct xi_factory local_factory = {
	.name = "test-global",
	.description = "registered by the test program itself",
	.new_interceptor = local_new,
};

XI_CATALOG_REGISTER(local_factory)

static void test_noop_is_global(void **state)
{
	struct xi_catalog *cat = xi_catalog_new_from_global();
	struct xi_catalog_entry *e = NULL;
	struct xi_chain *chain = NULL;
	struct xi_err err = { 0 };

	assert_non_null(cat);
	assert_int_equal(xi_catalog_lookup(cat, "noop", &e), 0);
	assert_string_equal(xi_catalog_entry_factory(e)->name, "noop");
	xi_catalog_entry_put(e);
	assert_int_equal(xi_catalog_build(cat, "noop ! noop", NULL, &chain, &err), 0);
	assert_int_equal(xi_chain_len(chain), 2);
	assert_string_equal(xi_chain_factory(chain, 1)->name, "noop");
	assert_int_equal(xi_chain_close(chain, NULL), 0);
	xi_catalog_free(cat);
}

/* Every X(sym) of XI_BUILTINS, as "sym" with '-' for '_'. */
#define BUILTIN_NAME(sym) #sym,
static const char *const builtins[] = { XI_BUILTINS(BUILTIN_NAME) };
#undef BUILTIN_NAME

static void test_every_builtin_is_global(void **state)
{
	struct xi_catalog *cat = xi_catalog_new_from_global();
	struct xi_catalog_stats st;
	size_t n = sizeof(builtins) / sizeof(builtins[0]);

	assert_non_null(cat);
	for (size_t i = 0; i < n; i++) {
		struct xi_catalog_entry *e = NULL;
		char name[XI_NAME_MAX];

		assert_true(strlen(builtins[i]) < sizeof(name));
		strcpy(name, builtins[i]);
		for (char *c = name; *c; c++)
			*c = *c == '_' ? '-' : *c;
		assert_int_equal(xi_catalog_lookup(cat, name, &e), 0);
		xi_catalog_entry_put(e);
	}
	/* The built-ins, and this program's own entry. */
	xi_catalog_stats(cat, &st);
	assert_int_equal(st.size, n + 1);
	assert_int_equal(st.registrations, n + 1);
	xi_catalog_free(cat);
}

static void test_program_registration(void **state)
{
	struct xi_catalog *cat = xi_catalog_new_from_global();
	struct xi_chain *chain = NULL;

	assert_non_null(cat);
	made = 0;
	assert_int_equal(xi_catalog_build(cat, "test-global ! noop", NULL, &chain, NULL), 0);
	assert_int_equal(made, 1);
	assert_int_equal(xi_chain_close(chain, NULL), 0);
	xi_catalog_free(cat);
}

static void test_copies_are_independent(void **state)
{
	struct xi_catalog *a = xi_catalog_new_from_global();
	struct xi_catalog *b = xi_catalog_new_from_global();
	struct xi_catalog_entry *e = NULL;

	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(xi_catalog_unregister(a, "noop"), 0);
	assert_int_equal(xi_catalog_lookup(a, "noop", &e), -ENOENT);
	assert_int_equal(xi_catalog_lookup(b, "noop", &e), 0);
	xi_catalog_entry_put(e);
	xi_catalog_free(a);
	xi_catalog_free(b);
	/* The global list itself is untouched. */
	a = xi_catalog_new_from_global();
	assert_int_equal(xi_catalog_lookup(a, "noop", &e), 0);
	xi_catalog_entry_put(e);
	xi_catalog_free(a);
}

static void test_link_is_idempotent(void **state)
{
	struct xi_catalog *cat;
	struct xi_catalog_stats st1, st2;

	cat = xi_catalog_new_from_global();
	xi_catalog_stats(cat, &st1);
	xi_catalog_free(cat);
	xi_global_link(&xi__global_local_factory);
	xi_global_link(NULL);
	cat = xi_catalog_new_from_global();
	assert_non_null(cat);
	xi_catalog_stats(cat, &st2);
	assert_int_equal(st2.size, st1.size);
	xi_catalog_free(cat);
}

static void test_duplicate_global_name_fails(void **state)
{
	static const struct xi_factory dup = { .name = "noop", .new_interceptor = local_new };
	static struct xi_global_entry node = { &dup, NULL };
	int status;
	pid_t pid;

	/* In a child, so the rest of this program keeps a clean global list. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct xi_catalog *cat;

		xi_global_link(&node);
		errno = 0;
		cat = xi_catalog_new_from_global();
		_exit(cat == NULL && errno == EEXIST ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_noop_is_global),
		cmocka_unit_test(test_every_builtin_is_global),
		cmocka_unit_test(test_program_registration),
		cmocka_unit_test(test_copies_are_independent),
		cmocka_unit_test(test_link_is_idempotent),
		cmocka_unit_test(test_duplicate_global_name_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
