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

/* Written out, not derived from XI_BUILTINS: a built-in the generated list
 * leaves out must make this fail, not shrink the list it checks. */
static const char *const builtins[] = {
	"header-stats", "nack-generator", "nack-responder", "noop", "packet-dump", "receiver-report",
	"sender-report", "ssrc-filter", "twcc", "twcc-sequencer",
};

static void test_every_builtin_is_global(void **state)
{
	struct xi_catalog *cat = xi_catalog_new_from_global();
	size_t n = sizeof(builtins) / sizeof(builtins[0]), i = 0;
	char **names = NULL;
	size_t n_names = 0;

	assert_non_null(cat);
	assert_int_equal(xi_catalog_names(cat, &names, &n_names), 0);
	/* Exactly the built-ins, and this program's own entry, in sorted order. */
	assert_int_equal(n_names, n + 1);
	for (size_t j = 0; j < n_names; j++) {
		if (strcmp(names[j], "test-global") == 0)
			continue;
		assert_true(i < n);
		assert_string_equal(names[j], builtins[i++]);
	}
	assert_int_equal(i, n);
	xi_strv_free(names, n_names);
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

/* What XI_CATALOG_REGISTER's destructor does when a shared object goes. */
static void test_unlink(void **state)
{
	static const struct xi_factory extra = { .name = "test-extra",
						 .new_interceptor = local_new };
	static struct xi_global_entry node = { &extra, NULL };
	struct xi_catalog_entry *e = NULL;
	struct xi_catalog_stats st;
	struct xi_catalog *cat;

	xi_global_link(&node);
	cat = xi_catalog_new_from_global();
	assert_int_equal(xi_catalog_lookup(cat, "test-extra", &e), 0);
	xi_catalog_entry_put(e);
	xi_catalog_free(cat);
	xi_global_unlink(&node);
	xi_global_unlink(&node);
	xi_global_unlink(NULL);
	cat = xi_catalog_new_from_global();
	assert_non_null(cat);
	assert_int_equal(xi_catalog_lookup(cat, "test-extra", &e), -ENOENT);
	assert_int_equal(xi_catalog_lookup(cat, "test-global", &e), 0);
	xi_catalog_entry_put(e);
	xi_catalog_stats(cat, &st);
	assert_int_equal(st.size, sizeof(builtins) / sizeof(builtins[0]) + 1);
	xi_catalog_free(cat);
}

/* In a child, so the rest of this program keeps a clean global list. */
static void expect_in_child(int (*child)(void))
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static const struct xi_factory dup_factory = { .name = "noop", .new_interceptor = local_new };
static struct xi_global_entry dup_node = { &dup_factory, NULL };

static int duplicate_errno(void)
{
	struct xi_catalog *cat;

	xi_global_link(&dup_node);
	errno = 0;
	cat = xi_catalog_new_from_global();
	return cat == NULL && errno == EEXIST ? 0 : 1;
}

static void test_duplicate_global_name_fails(void **state)
{
	expect_in_child(duplicate_errno);
}

static int duplicate_named(void)
{
	struct xi_catalog *cat = (struct xi_catalog *)0x1;
	struct xi_err err = { 0 };

	xi_global_link(&dup_node);
	if (xi_catalog_new_from_global_err(&cat, &err) != -EEXIST)
		return 1;
	if (cat != (struct xi_catalog *)0x1 || err.code != -EEXIST)
		return 2;
	if (strcmp(err.msg, "global list: interceptor 'noop' is registered twice") != 0)
		return 3;
	return 0;
}

static void test_duplicate_global_name_is_named(void **state)
{
	expect_in_child(duplicate_named);
}

static int malformed_named(void)
{
	static const struct xi_factory bad = { .name = "Bad", .new_interceptor = local_new };
	static struct xi_global_entry node = { &bad, NULL };
	struct xi_err err = { 0 };
	struct xi_catalog *cat = NULL;

	xi_global_link(&node);
	if (xi_catalog_new_from_global_err(&cat, &err) != -EINVAL || cat)
		return 1;
	if (strcmp(err.msg, "interceptor name 'Bad' is not [a-z][a-z0-9-]* shorter than 32") != 0)
		return 2;
	return 0;
}

static void test_malformed_global_factory_is_named(void **state)
{
	expect_in_child(malformed_named);
}

static void test_new_from_global_err(void **state)
{
	struct xi_catalog *cat = NULL;
	struct xi_err err = { .code = -1, .msg = "stale" };

	assert_int_equal(xi_catalog_new_from_global_err(&cat, &err), 0);
	assert_non_null(cat);
	assert_int_equal(err.code, 0);
	assert_string_equal(err.msg, "");
	xi_catalog_free(cat);
	assert_int_equal(xi_catalog_new_from_global_err(NULL, &err), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_noop_is_global),
		cmocka_unit_test(test_every_builtin_is_global),
		cmocka_unit_test(test_program_registration),
		cmocka_unit_test(test_copies_are_independent),
		cmocka_unit_test(test_link_is_idempotent),
		cmocka_unit_test(test_unlink),
		cmocka_unit_test(test_duplicate_global_name_fails),
		cmocka_unit_test(test_duplicate_global_name_is_named),
		cmocka_unit_test(test_malformed_global_factory_is_named),
		cmocka_unit_test(test_new_from_global_err),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
