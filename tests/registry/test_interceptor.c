// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <xicept/catalog.h>
#include <xicept/interceptor.h>
#include <xicept/registry.h>

#include "registry/mock.h"

static int setup(void **state)
{
	mock_reset();
	return 0;
}

static ssize_t other_read(void *ctx, uint8_t *buf, size_t cap, struct xi_attributes *a)
{
	return -EIO;
}

static ssize_t other_write(void *ctx, const uint8_t *pkt, size_t len,
			   struct xi_attributes *a)
{
	return -EIO;
}

/* Every bind of ic must hand back exactly the reader or writer it was given. */
static void assert_binds_pass_through(struct xi_interceptor *ic)
{
	struct mock_wire wire = { 0 };
	struct xi_reader next_r = { mock_wire_read, &wire };
	struct xi_writer next_w = { mock_wire_write, &wire };
	struct xi_reader r = { other_read, NULL };
	struct xi_writer w = { other_write, NULL };

	assert_int_equal(xi_interceptor_bind_rtcp_reader(ic, next_r, &r), 0);
	assert_ptr_equal(r.read, mock_wire_read);
	assert_ptr_equal(r.ctx, &wire);
	r = (struct xi_reader){ other_read, NULL };
	assert_int_equal(xi_interceptor_bind_remote_stream(ic, NULL, next_r, &r), 0);
	assert_ptr_equal(r.read, mock_wire_read);
	assert_ptr_equal(r.ctx, &wire);
	assert_int_equal(xi_interceptor_bind_rtcp_writer(ic, next_w, &w), 0);
	assert_ptr_equal(w.write, mock_wire_write);
	assert_ptr_equal(w.ctx, &wire);
	w = (struct xi_writer){ other_write, NULL };
	assert_int_equal(xi_interceptor_bind_local_stream(ic, NULL, next_w, &w), 0);
	assert_ptr_equal(w.write, mock_wire_write);
	assert_ptr_equal(w.ctx, &wire);
	xi_interceptor_unbind_local_stream(ic, NULL);
	xi_interceptor_unbind_remote_stream(ic, NULL);
	assert_int_equal(xi_interceptor_poll(ic, 1), 0);
}

static void test_noop_new(void **state)
{
	struct xi_interceptor *ic = xi_noop_new();

	assert_non_null(ic);
	assert_ptr_equal(ic->ops, &xi_noop_ops);
	assert_string_equal(ic->name, "noop");
	assert_binds_pass_through(ic);
	/* valgrind proves close freed it. */
	assert_int_equal(xi_interceptor_close(ic), 0);
}

static void test_null_ops_behave_as_noop(void **state)
{
	struct xi_interceptor bare = { 0 };

	assert_binds_pass_through(&bare);
	/* No close op and not a no-op: nothing to free, bare lives on the stack. */
	assert_int_equal(xi_interceptor_close(&bare), 0);
}

static void test_null_members_behave_as_noop(void **state)
{
	static const struct xi_interceptor_ops only_poll = { .poll = mock_poll };
	struct xi_interceptor *ic = mock_ic_tagged("p");

	ic->ops = &only_poll;
	assert_binds_pass_through(ic);
	assert_string_equal(mock_log_str(), "poll:p");
	ic->ops = &mock_ops;
	assert_int_equal(xi_interceptor_close(ic), 0);
}

static void test_dispatch_rejects_null(void **state)
{
	struct xi_interceptor bare = { 0 };
	struct mock_wire wire = { 0 };
	struct xi_reader r = { mock_wire_read, &wire };
	struct xi_writer w = { mock_wire_write, &wire };

	assert_int_equal(xi_interceptor_bind_rtcp_reader(NULL, r, &r), -EINVAL);
	assert_int_equal(xi_interceptor_bind_rtcp_writer(NULL, w, &w), -EINVAL);
	assert_int_equal(xi_interceptor_bind_local_stream(NULL, NULL, w, &w), -EINVAL);
	assert_int_equal(xi_interceptor_bind_remote_stream(NULL, NULL, r, &r), -EINVAL);
	assert_int_equal(xi_interceptor_bind_rtcp_reader(&bare, r, NULL), -EINVAL);
	assert_int_equal(xi_interceptor_bind_rtcp_writer(&bare, w, NULL), -EINVAL);
	assert_int_equal(xi_interceptor_bind_local_stream(&bare, NULL, w, NULL), -EINVAL);
	assert_int_equal(xi_interceptor_bind_remote_stream(&bare, NULL, r, NULL), -EINVAL);
	assert_int_equal(xi_noop_bind_rtcp_reader(&bare, r, NULL), -EINVAL);
	assert_int_equal(xi_noop_bind_rtcp_writer(&bare, w, NULL), -EINVAL);
	assert_int_equal(xi_noop_bind_local_stream(&bare, NULL, w, NULL), -EINVAL);
	assert_int_equal(xi_noop_bind_remote_stream(&bare, NULL, r, NULL), -EINVAL);
	xi_interceptor_unbind_local_stream(NULL, NULL);
	xi_interceptor_unbind_remote_stream(NULL, NULL);
	assert_int_equal(xi_interceptor_poll(NULL, 1), 0);
	assert_int_equal(xi_interceptor_close(NULL), 0);
}

static void test_dispatch_reaches_ops(void **state)
{
	struct mock_cfg cfg = mock_cfg_tagged("m");
	struct xi_interceptor *ic;
	struct mock_wire wire = { 0 };
	struct xi_reader r = { 0 };

	cfg.fail_poll = -EAGAIN;
	cfg.fail_close = -EIO;
	ic = mock_ic_new(&cfg);
	assert_int_equal(xi_interceptor_bind_remote_stream(ic, NULL,
							   mock_wire_reader(&wire, "x"), &r), 0);
	assert_ptr_equal(r.read, mock_read_remote);
	assert_ptr_equal(r.ctx, mock_of(ic));
	xi_interceptor_unbind_remote_stream(ic, NULL);
	assert_int_equal(xi_interceptor_poll(ic, 77), -EAGAIN);
	assert_int_equal(mock_counts.last_now_ns, 77);
	/* close reports the op's error; the mock still freed itself. */
	assert_int_equal(xi_interceptor_close(ic), -EIO);
	assert_string_equal(mock_log_str(), "bind-remote:m unbind-remote:m poll:m close:m");
}

static void test_noop_catalog_entry(void **state)
{
	struct xi_catalog *cat = xi_catalog_new_from_global();
	struct xi_catalog_entry *entry = NULL;
	const struct xi_factory *f;
	struct xi_interceptor *ic = NULL;

	assert_non_null(cat);
	assert_int_equal(xi_catalog_lookup(cat, "noop", &entry), 0);
	f = xi_catalog_entry_factory(entry);
	assert_string_equal(f->name, "noop");
	assert_string_equal(f->description, "passes every packet unchanged");
	assert_int_equal(f->kind, XI_KIND_XDP);
	assert_string_equal(f->stage->prog, "xi_noop");
	assert_null(f->keys);
	assert_int_equal(f->config_size, 0);
	assert_int_equal(f->new_interceptor(f, NULL, NULL, &ic), 0);
	assert_ptr_equal(ic->ops, &xi_noop_ops);
	assert_binds_pass_through(ic);
	assert_int_equal(xi_interceptor_close(ic), 0);
	xi_catalog_entry_put(entry);
	xi_catalog_free(cat);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_noop_new, setup),
		cmocka_unit_test_setup(test_null_ops_behave_as_noop, setup),
		cmocka_unit_test_setup(test_null_members_behave_as_noop, setup),
		cmocka_unit_test_setup(test_dispatch_rejects_null, setup),
		cmocka_unit_test_setup(test_dispatch_reaches_ops, setup),
		cmocka_unit_test_setup(test_noop_catalog_entry, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
