// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <xicept/catalog.h>
#include <xicept/registry.h>

#include "registry/mock.h"

static int setup(void **state)
{
	mock_reset();
	return 0;
}

static void add_tagged(struct xi_chain_builder *b, const struct xi_factory *f,
		       const char *tag)
{
	struct mock_cfg cfg = mock_cfg_tagged(tag);

	assert_int_equal(xi_chain_builder_add(b, f, &cfg), 0);
}

static void close_ok(struct xi_chain *chain)
{
	struct xi_err err;

	assert_int_equal(xi_chain_close(chain, &err), 0);
	assert_int_equal(err.code, 0);
}

static void test_kind_names(void **state)
{
	assert_string_equal(xi_kind_name(XI_KIND_USERSPACE), "userspace");
	assert_string_equal(xi_kind_name(XI_KIND_XDP), "xdp");
	assert_string_equal(xi_kind_name((enum xi_kind)7), "unknown");
}

static void test_add_rejects_bad_arguments(void **state)
{
	struct xi_factory f = mock_factory("alpha", XI_KIND_USERSPACE);
	struct xi_factory no_new = f, no_name = f;
	struct xi_chain_builder *b = xi_chain_builder_new();

	no_new.new_interceptor = NULL;
	no_name.name = NULL;
	assert_non_null(b);
	assert_int_equal(xi_chain_builder_add(NULL, &f, NULL), -EINVAL);
	assert_int_equal(xi_chain_builder_add(b, NULL, NULL), -EINVAL);
	assert_int_equal(xi_chain_builder_add(b, &no_new, NULL), -EINVAL);
	assert_int_equal(xi_chain_builder_add(b, &no_name, NULL), -EINVAL);
	assert_int_equal(xi_chain_builder_add_entry(b, NULL, NULL), -EINVAL);
	assert_int_equal(xi_chain_builder_len(b), 0);
	assert_int_equal(xi_chain_builder_len(NULL), 0);
	xi_chain_builder_free(b);
	xi_chain_builder_free(NULL);
}

static void test_add_stops_at_chain_max(void **state)
{
	struct xi_factory f = mock_factory("alpha", XI_KIND_USERSPACE);
	struct xi_chain_builder *b = xi_chain_builder_new();
	int i;

	for (i = 0; i < XI_CHAIN_MAX; i++)
		add_tagged(b, &f, "a");
	assert_int_equal(xi_chain_builder_add(b, &f, NULL), -E2BIG);
	assert_int_equal(xi_chain_builder_len(b), XI_CHAIN_MAX);
	xi_chain_builder_free(b);
}

static void test_build_in_order_with_names(void **state)
{
	struct xi_factory fa = mock_factory("alpha", XI_KIND_USERSPACE);
	struct xi_factory fb = mock_factory("beta", XI_KIND_USERSPACE);
	struct xi_chain_builder *b = xi_chain_builder_new();
	struct xi_build_ctx ctx = { .conn_id = 42, .user = &ctx };
	struct xi_chain *chain = NULL;
	struct xi_err err;

	add_tagged(b, &fa, "a");
	add_tagged(b, &fb, "b");
	add_tagged(b, &fa, "c");
	assert_int_equal(xi_chain_builder_len(b), 3);
	assert_int_equal(xi_chain_builder_build(b, &ctx, &chain, &err), 0);
	assert_int_equal(err.code, 0);
	assert_string_equal(mock_log_str(), "new:a new:b new:c");
	assert_int_equal(mock_counts.last_conn_id, 42);
	assert_ptr_equal(mock_counts.last_user, &ctx);
	assert_int_equal(xi_chain_len(chain), 3);
	assert_string_equal(xi_chain_element(chain, 0)->name, "alpha");
	assert_string_equal(xi_chain_element(chain, 1)->name, "beta");
	assert_string_equal(xi_chain_element(chain, 2)->name, "alpha");
	assert_ptr_equal(xi_chain_factory(chain, 1), &fb);
	assert_string_equal(mock_of(xi_chain_element(chain, 2))->cfg.tag, "c");
	mock_reset();
	close_ok(chain);
	assert_string_equal(mock_log_str(), "close:a close:b close:c");
	xi_chain_builder_free(b);
}

static void test_each_build_is_independent(void **state)
{
	struct xi_factory f = mock_factory("alpha", XI_KIND_USERSPACE);
	struct xi_chain_builder *b = xi_chain_builder_new();
	struct xi_chain *c1 = NULL, *c2 = NULL;

	add_tagged(b, &f, "a");
	assert_int_equal(xi_chain_builder_build(b, NULL, &c1, NULL), 0);
	assert_int_equal(xi_chain_builder_build(b, NULL, &c2, NULL), 0);
	assert_int_equal(mock_counts.new_calls, 2);
	assert_int_equal(mock_counts.last_conn_id, 0);
	assert_ptr_not_equal(xi_chain_element(c1, 0), xi_chain_element(c2, 0));
	assert_ptr_not_equal(xi_chain_config(c1, 0), xi_chain_config(c2, 0));
	close_ok(c1);
	close_ok(c2);
	assert_int_equal(mock_counts.close_calls, 2);
	xi_chain_builder_free(b);
}

static void test_config_is_copied(void **state)
{
	struct xi_factory f = mock_factory("alpha", XI_KIND_USERSPACE);
	struct xi_chain_builder *b = xi_chain_builder_new();
	struct mock_cfg cfg = mock_cfg_tagged("a");
	struct xi_chain *chain = NULL;
	const struct mock_cfg *seen;

	cfg.grow = 1;
	assert_int_equal(xi_chain_builder_add(b, &f, &cfg), 0);
	strcpy(cfg.tag, "zz");   /* too late: the builder has its copy */
	cfg.grow = 0;
	assert_int_equal(xi_chain_builder_build(b, NULL, &chain, NULL), 0);
	xi_chain_builder_free(b);   /* the chain keeps its own copy */
	seen = xi_chain_config(chain, 0);
	assert_non_null(seen);
	assert_ptr_not_equal(seen, &cfg);
	assert_string_equal(seen->tag, "a");
	assert_int_equal(seen->grow, 1);
	/* The factory was handed the chain's copy, the one that stays alive. */
	assert_ptr_equal(mock_of(xi_chain_element(chain, 0))->config_seen, seen);
	close_ok(chain);
}

static void test_null_config_means_defaults(void **state)
{
	static const struct xi_config_key keys[] = {
		{ .name = "tag", .type = XI_CFG_STRING,
		  .offset = offsetof(struct mock_cfg, tag),
		  .size = sizeof(((struct mock_cfg *)0)->tag), .def = "dflt",
		  .help = "log name" },
		{ 0 },
	};
	struct xi_factory f = mock_factory("alpha", XI_KIND_USERSPACE);
	struct xi_chain_builder *b = xi_chain_builder_new();
	struct xi_chain *chain = NULL;
	const struct mock_cfg *seen;

	f.keys = keys;
	assert_int_equal(xi_chain_builder_add(b, &f, NULL), 0);
	assert_int_equal(xi_chain_builder_build(b, NULL, &chain, NULL), 0);
	seen = xi_chain_config(chain, 0);
	assert_string_equal(seen->tag, "dflt");
	assert_int_equal(seen->grow, 0);
	assert_string_equal(mock_log_str(), "new:dflt");
	close_ok(chain);
	xi_chain_builder_free(b);
}

static void test_bad_defaults_refuse_add(void **state)
{
	static const struct xi_config_key keys[] = {
		{ .name = "tag", .type = XI_CFG_STRING,
		  .offset = offsetof(struct mock_cfg, tag), .size = 8,
		  .def = "much-too-long" },
		{ 0 },
	};
	struct xi_factory f = mock_factory("alpha", XI_KIND_USERSPACE);
	struct xi_chain_builder *b = xi_chain_builder_new();

	f.keys = keys;
	assert_true(xi_chain_builder_add(b, &f, NULL) < 0);
	assert_int_equal(xi_chain_builder_len(b), 0);
	xi_chain_builder_free(b);
}

static void test_zero_size_config_is_null(void **state)
{
	struct xi_factory f = mock_factory("alpha", XI_KIND_USERSPACE);
	struct xi_chain_builder *b = xi_chain_builder_new();
	struct xi_chain *chain = NULL;

	f.config_size = 0;
	assert_int_equal(xi_chain_builder_add(b, &f, NULL), 0);
	assert_int_equal(xi_chain_builder_build(b, NULL, &chain, NULL), 0);
	assert_null(xi_chain_config(chain, 0));
	assert_null(mock_of(xi_chain_element(chain, 0))->config_seen);
	close_ok(chain);
	xi_chain_builder_free(b);
}

static void test_empty_builder_builds_passthrough(void **state)
{
	struct xi_chain_builder *b = xi_chain_builder_new();
	struct xi_chain *chain = NULL;
	struct mock_wire wire = { 0 };
	struct xi_interceptor *ic;
	struct xi_reader r = { 0 };
	struct xi_writer w = { 0 };
	uint8_t buf[16];

	assert_int_equal(xi_chain_builder_build(b, NULL, &chain, NULL), 0);
	assert_int_equal(xi_chain_len(chain), 0);
	assert_int_equal(xi_chain_xdp_prefix(chain), 0);
	ic = xi_chain_interceptor(chain);
	assert_int_equal(xi_interceptor_bind_remote_stream(ic, NULL,
							   mock_wire_reader(&wire, "rtp"), &r), 0);
	assert_ptr_equal(r.read, mock_wire_read);
	assert_int_equal(xi_interceptor_bind_rtcp_writer(ic, mock_wire_writer(&wire), &w), 0);
	assert_ptr_equal(w.write, mock_wire_write);
	assert_int_equal(xi_reader_read(r, buf, sizeof(buf), NULL), 3);
	assert_memory_equal(buf, "rtp", 3);
	assert_int_equal(xi_writer_write(w, (const uint8_t *)"rtcp", 4, NULL), 4);
	assert_memory_equal(wire.tx, "rtcp", 4);
	assert_int_equal(xi_interceptor_poll(ic, 5), 0);
	/* Closing through the interceptor view closes the chain. */
	assert_int_equal(xi_interceptor_close(ic), 0);
	xi_chain_builder_free(b);
}

static void test_build_failure_closes_made(void **state)
{
	struct xi_factory fa = mock_factory("alpha", XI_KIND_USERSPACE);
	struct xi_factory fb = mock_factory("beta", XI_KIND_USERSPACE);
	struct xi_factory fg = mock_factory("gamma", XI_KIND_USERSPACE);
	struct xi_chain_builder *b = xi_chain_builder_new();
	struct mock_cfg bad = mock_cfg_tagged("c");
	struct xi_chain *chain = NULL;
	struct xi_err err;

	add_tagged(b, &fa, "a");
	add_tagged(b, &fb, "b");
	bad.fail_new = -EPERM;
	assert_int_equal(xi_chain_builder_add(b, &fg, &bad), 0);
	add_tagged(b, &fa, "d");
	assert_int_equal(xi_chain_builder_build(b, NULL, &chain, &err), -EPERM);
	assert_null(chain);
	assert_int_equal(err.code, -EPERM);
	assert_string_equal(err.msg, "build: gamma[2]: Operation not permitted");
	assert_int_equal(mock_counts.new_calls, 3);
	assert_int_equal(mock_counts.close_calls, 2);
	assert_string_equal(mock_log_str(), "new:a new:b new-fail:c close:b close:a");
	xi_chain_builder_free(b);
}

static void test_build_failure_first_closes_none(void **state)
{
	struct xi_factory fa = mock_factory("alpha", XI_KIND_USERSPACE);
	struct xi_chain_builder *b = xi_chain_builder_new();
	struct mock_cfg bad = mock_cfg_tagged("a");
	struct xi_chain *chain = NULL;
	struct xi_err err;

	bad.fail_new = -ENOMEM;
	assert_int_equal(xi_chain_builder_add(b, &fa, &bad), 0);
	add_tagged(b, &fa, "b");
	assert_int_equal(xi_chain_builder_build(b, NULL, &chain, &err), -ENOMEM);
	assert_string_equal(err.msg, "build: alpha[0]: Cannot allocate memory");
	assert_int_equal(mock_counts.new_calls, 1);
	assert_int_equal(mock_counts.close_calls, 0);
	assert_null(chain);
	assert_int_equal(xi_chain_builder_build(NULL, NULL, &chain, &err), -EINVAL);
	assert_int_equal(xi_chain_builder_build(b, NULL, NULL, NULL), -EINVAL);
	xi_chain_builder_free(b);
}

static int lying_new(const struct xi_factory *f, const void *config,
		     const struct xi_build_ctx *ctx, struct xi_interceptor **ret)
{
	return 0;   /* success without an interceptor */
}

static void test_factory_without_result_fails(void **state)
{
	struct xi_factory fa = mock_factory("alpha", XI_KIND_USERSPACE);
	struct xi_factory liar = mock_factory("liar", XI_KIND_USERSPACE);
	struct xi_chain_builder *b = xi_chain_builder_new();
	struct xi_chain *chain = NULL;
	struct xi_err err;

	liar.new_interceptor = lying_new;
	add_tagged(b, &fa, "a");
	assert_int_equal(xi_chain_builder_add(b, &liar, NULL), 0);
	assert_int_equal(xi_chain_builder_build(b, NULL, &chain, &err), -EINVAL);
	assert_string_equal(err.msg, "build: liar[1]: Invalid argument");
	assert_string_equal(mock_log_str(), "new:a close:a");
	xi_chain_builder_free(b);
}

static void test_xdp_prefix(void **state)
{
	struct xi_factory fx = mock_factory("x", XI_KIND_XDP);
	struct xi_factory fu = mock_factory("u", XI_KIND_USERSPACE);
	struct xi_chain_builder *b = xi_chain_builder_new();
	struct xi_chain *chain = NULL;

	add_tagged(b, &fx, "x1");
	add_tagged(b, &fx, "x2");
	add_tagged(b, &fu, "u1");
	add_tagged(b, &fx, "x3");
	assert_int_equal(xi_chain_builder_build(b, NULL, &chain, NULL), 0);
	assert_int_equal(xi_chain_xdp_prefix(chain), 2);
	close_ok(chain);
	xi_chain_builder_free(b);
}

static void test_entry_outlives_builder_and_catalog(void **state)
{
	struct xi_factory f = mock_factory("alpha", XI_KIND_XDP);
	struct xi_catalog *cat = xi_catalog_new();
	struct xi_chain_builder *b = xi_chain_builder_new();
	struct mock_cfg cfg = mock_cfg_tagged("a");
	struct xi_catalog_entry *entry = NULL;
	struct xi_chain *chain = NULL;

	assert_int_equal(xi_catalog_register(cat, &f), 0);
	assert_int_equal(xi_catalog_lookup(cat, "alpha", &entry), 0);
	assert_int_equal(xi_chain_builder_add_entry(b, entry, &cfg), 0);
	xi_catalog_entry_put(entry);   /* the builder holds its own */
	assert_int_equal(xi_chain_builder_build(b, NULL, &chain, NULL), 0);
	assert_ptr_equal(xi_chain_factory(chain, 0), xi_catalog_entry_factory(entry));
	assert_int_equal(xi_chain_xdp_prefix(chain), 1);
	xi_chain_builder_free(b);
	assert_int_equal(xi_catalog_unregister(cat, "alpha"), 0);
	xi_catalog_free(cat);
	/* Only the chain's element holds the entry now. */
	assert_int_equal(mock_counts.release_calls, 0);
	assert_string_equal(xi_chain_element(chain, 0)->name, "alpha");
	close_ok(chain);
	assert_int_equal(mock_counts.release_calls, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_kind_names, setup),
		cmocka_unit_test_setup(test_add_rejects_bad_arguments, setup),
		cmocka_unit_test_setup(test_add_stops_at_chain_max, setup),
		cmocka_unit_test_setup(test_build_in_order_with_names, setup),
		cmocka_unit_test_setup(test_each_build_is_independent, setup),
		cmocka_unit_test_setup(test_config_is_copied, setup),
		cmocka_unit_test_setup(test_null_config_means_defaults, setup),
		cmocka_unit_test_setup(test_bad_defaults_refuse_add, setup),
		cmocka_unit_test_setup(test_zero_size_config_is_null, setup),
		cmocka_unit_test_setup(test_empty_builder_builds_passthrough, setup),
		cmocka_unit_test_setup(test_build_failure_closes_made, setup),
		cmocka_unit_test_setup(test_build_failure_first_closes_none, setup),
		cmocka_unit_test_setup(test_factory_without_result_fails, setup),
		cmocka_unit_test_setup(test_xdp_prefix, setup),
		cmocka_unit_test_setup(test_entry_outlives_builder_and_catalog, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
