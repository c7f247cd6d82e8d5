// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <xicept/registry.h>

#include "registry/mock.h"

static int setup(void **state)
{
	mock_reset();
	return 0;
}

/* A chain of grow-mocks tagged by the letters of tags ("abc"). */
static struct xi_chain *chain_of_tags(const char *tags)
{
	struct xi_interceptor *ics[XI_CHAIN_MAX];
	struct xi_chain *chain = NULL;
	size_t i, n = strlen(tags);

	for (i = 0; i < n; i++) {
		struct mock_cfg cfg = { .grow = 1 };

		cfg.tag[0] = tags[i];
		ics[i] = mock_ic_new(&cfg);
		assert_non_null(ics[i]);
	}
	assert_int_equal(xi_chain_new(ics, n, &chain), 0);
	return chain;
}

static struct mock_cfg *cfg_at(struct xi_chain *chain, size_t i)
{
	return &mock_of(xi_chain_element(chain, i))->cfg;
}

static void close_ok(struct xi_chain *chain)
{
	struct xi_err err;

	assert_int_equal(xi_chain_close(chain, &err), 0);
	assert_int_equal(err.code, 0);
	assert_string_equal(err.msg, "");
}

static void test_remote_reads_inspect_0_to_n(void **state)
{
	struct xi_chain *chain = chain_of_tags("abc");
	struct mock_wire wire = { 0 };
	struct xi_reader r;
	uint8_t buf[64];

	assert_int_equal(xi_chain_bind_remote_stream_from(chain, 0, NULL,
							  mock_wire_reader(&wire, "pkt"), &r), 0);
	assert_string_equal(mock_log_str(), "bind-remote:a bind-remote:b bind-remote:c");
	mock_reset();
	assert_int_equal(xi_reader_read(r, buf, sizeof(buf), NULL), 6);
	assert_memory_equal(buf, "pktabc", 6);
	assert_int_equal(wire.reads, 1);
	assert_string_equal(mock_log_str(), "read:a read:b read:c");
	close_ok(chain);
}

static void test_local_writes_run_n_to_0(void **state)
{
	struct xi_chain *chain = chain_of_tags("abc");
	struct mock_wire wire = { 0 };
	struct xi_writer w;

	assert_int_equal(xi_chain_bind_local_stream_from(chain, 0, NULL,
							 mock_wire_writer(&wire), &w), 0);
	assert_string_equal(mock_log_str(), "bind-local:a bind-local:b bind-local:c");
	mock_reset();
	assert_int_equal(xi_writer_write(w, (const uint8_t *)"pkt", 3, NULL), 6);
	assert_int_equal(wire.writes, 1);
	assert_int_equal(wire.tx_len, 6);
	assert_memory_equal(wire.tx, "pktcba", 6);
	assert_string_equal(mock_log_str(), "write:c write:b write:a");
	close_ok(chain);
}

static void test_rtcp_orders_match_streams(void **state)
{
	struct xi_chain *chain = chain_of_tags("ab");
	struct mock_wire wire = { 0 };
	struct xi_reader r;
	struct xi_writer w;
	uint8_t buf[64];

	assert_int_equal(xi_chain_bind_rtcp_reader_from(chain, 0,
							mock_wire_reader(&wire, "r"), &r), 0);
	assert_int_equal(xi_chain_bind_rtcp_writer_from(chain, 0,
							mock_wire_writer(&wire), &w), 0);
	assert_string_equal(mock_log_str(), "bind-rtcp-reader:a bind-rtcp-reader:b "
			    "bind-rtcp-writer:a bind-rtcp-writer:b");
	mock_reset();
	assert_int_equal(xi_reader_read(r, buf, sizeof(buf), NULL), 3);
	assert_memory_equal(buf, "rab", 3);
	assert_int_equal(xi_writer_write(w, (const uint8_t *)"w", 1, NULL), 3);
	assert_memory_equal(wire.tx, "wba", 3);
	assert_string_equal(mock_log_str(), "read:a read:b write:b write:a");
	close_ok(chain);
}

static void test_dropped_read_stops_inspection(void **state)
{
	struct xi_chain *chain = chain_of_tags("abc");
	struct mock_wire wire = { 0 };
	struct xi_reader r;
	uint8_t buf[64];

	cfg_at(chain, 1)->drop = 1;
	assert_int_equal(xi_chain_bind_remote_stream_from(chain, 0, NULL,
							  mock_wire_reader(&wire, "pkt"), &r), 0);
	mock_reset();
	assert_int_equal(xi_reader_read(r, buf, sizeof(buf), NULL), 0);
	assert_string_equal(mock_log_str(), "read:a read:b");
	assert_int_equal(mock_counts.read_calls, 2);
	close_ok(chain);
}

static void test_dropped_write_never_reaches_wire(void **state)
{
	struct xi_chain *chain = chain_of_tags("abc");
	struct mock_wire wire = { 0 };
	struct xi_writer w;

	cfg_at(chain, 1)->drop = 1;
	assert_int_equal(xi_chain_bind_local_stream_from(chain, 0, NULL,
							 mock_wire_writer(&wire), &w), 0);
	mock_reset();
	assert_int_equal(xi_writer_write(w, (const uint8_t *)"pkt", 3, NULL), 0);
	assert_string_equal(mock_log_str(), "write:c write:b");
	assert_int_equal(wire.writes, 0);
	close_ok(chain);
}

static void test_read_error_passes_unchanged(void **state)
{
	struct xi_chain *chain = chain_of_tags("ab");
	struct mock_wire wire = { .rx_rc = -EAGAIN };
	struct xi_reader r;
	uint8_t buf[64];

	assert_int_equal(xi_chain_bind_remote_stream_from(chain, 0, NULL,
							  mock_wire_reader(&wire, "x"), &r), 0);
	mock_reset();
	assert_int_equal(xi_reader_read(r, buf, sizeof(buf), NULL), -EAGAIN);
	assert_int_equal(mock_counts.read_calls, 0);
	assert_int_equal(wire.reads, 1);
	close_ok(chain);
}

static void test_length_change_propagates(void **state)
{
	struct xi_chain *chain = chain_of_tags("abc");
	struct mock_wire wire = { 0 };
	struct xi_reader r;
	uint8_t buf[64];

	/* Only b changes the length; c must see and return b's length. */
	cfg_at(chain, 0)->grow = 0;
	cfg_at(chain, 2)->grow = 0;
	assert_int_equal(xi_chain_bind_remote_stream_from(chain, 0, NULL,
							  mock_wire_reader(&wire, "12345"), &r), 0);
	assert_int_equal(xi_reader_read(r, buf, sizeof(buf), NULL), 6);
	assert_memory_equal(buf, "12345b", 6);
	close_ok(chain);
}

static void test_unbind_reaches_every_element(void **state)
{
	struct xi_chain *chain = chain_of_tags("abc");

	/* Trouble in b (its binds fail) must not hide c from unbind. */
	cfg_at(chain, 1)->fail_bind = -EIO;
	xi_chain_unbind_remote_stream_from(chain, 0, NULL);
	xi_chain_unbind_local_stream_from(chain, 0, NULL);
	assert_string_equal(mock_log_str(), "unbind-remote:a unbind-remote:b unbind-remote:c "
			    "unbind-local:a unbind-local:b unbind-local:c");
	assert_int_equal(mock_counts.unbind_calls, 6);
	close_ok(chain);
}

static void test_bind_failure_unbinds_earlier(void **state)
{
	struct xi_chain *chain = chain_of_tags("abcd");
	struct mock_wire wire = { 0 };
	struct xi_reader r = { NULL, &wire };
	struct xi_writer w = { NULL, &wire };

	cfg_at(chain, 2)->fail_bind = -ENOSPC;
	assert_int_equal(xi_chain_bind_remote_stream_from(chain, 0, NULL,
							  mock_wire_reader(&wire, "x"), &r), -ENOSPC);
	assert_null(r.read);
	assert_ptr_equal(r.ctx, &wire);
	assert_string_equal(mock_log_str(), "bind-remote:a bind-remote:b bind-remote:c "
			    "unbind-remote:b unbind-remote:a");
	mock_reset();
	assert_int_equal(xi_chain_bind_local_stream_from(chain, 0, NULL,
							 mock_wire_writer(&wire), &w), -ENOSPC);
	assert_null(w.write);
	assert_string_equal(mock_log_str(), "bind-local:a bind-local:b bind-local:c "
			    "unbind-local:b unbind-local:a");
	close_ok(chain);
}

static void test_bind_failure_first_unbinds_none(void **state)
{
	struct xi_chain *chain = chain_of_tags("ab");
	struct mock_wire wire = { 0 };
	struct xi_reader r = { 0 };

	cfg_at(chain, 0)->fail_bind = -EPERM;
	assert_int_equal(xi_chain_bind_remote_stream_from(chain, 0, NULL,
							  mock_wire_reader(&wire, "x"), &r), -EPERM);
	assert_string_equal(mock_log_str(), "bind-remote:a");
	assert_int_equal(mock_counts.unbind_calls, 0);
	close_ok(chain);
}

static void test_rtcp_bind_failure_returns_error(void **state)
{
	struct xi_chain *chain = chain_of_tags("ab");
	struct mock_wire wire = { 0 };
	struct xi_reader r = { 0 };
	struct xi_writer w = { 0 };

	cfg_at(chain, 1)->fail_bind = -EINVAL;
	assert_int_equal(xi_chain_bind_rtcp_reader_from(chain, 0,
							mock_wire_reader(&wire, "x"), &r), -EINVAL);
	assert_int_equal(xi_chain_bind_rtcp_writer_from(chain, 0,
							mock_wire_writer(&wire), &w), -EINVAL);
	assert_null(r.read);
	assert_null(w.write);
	assert_string_equal(mock_log_str(), "bind-rtcp-reader:a bind-rtcp-reader:b "
			    "bind-rtcp-writer:a bind-rtcp-writer:b");
	close_ok(chain);
}

static void test_from_binds_only_the_suffix(void **state)
{
	struct xi_chain *chain = chain_of_tags("abc");
	struct mock_wire wire = { 0 };
	struct xi_reader r;
	struct xi_writer w;
	uint8_t buf[64];

	assert_int_equal(xi_chain_bind_remote_stream_from(chain, 1, NULL,
							  mock_wire_reader(&wire, "p"), &r), 0);
	assert_int_equal(xi_chain_bind_local_stream_from(chain, 2, NULL,
							 mock_wire_writer(&wire), &w), 0);
	assert_string_equal(mock_log_str(), "bind-remote:b bind-remote:c bind-local:c");
	assert_int_equal(xi_reader_read(r, buf, sizeof(buf), NULL), 3);
	assert_memory_equal(buf, "pbc", 3);
	assert_int_equal(xi_writer_write(w, (const uint8_t *)"q", 1, NULL), 2);
	assert_memory_equal(wire.tx, "qc", 2);
	mock_reset();
	xi_chain_unbind_remote_stream_from(chain, 1, NULL);
	xi_chain_unbind_local_stream_from(chain, 2, NULL);
	assert_string_equal(mock_log_str(), "unbind-remote:b unbind-remote:c unbind-local:c");
	close_ok(chain);
}

static void test_from_end_passes_through(void **state)
{
	struct xi_chain *chain = chain_of_tags("ab");
	struct mock_wire wire = { 0 };
	struct xi_reader next = mock_wire_reader(&wire, "p"), r = { 0 };
	struct xi_writer w = { 0 };

	assert_int_equal(xi_chain_bind_remote_stream_from(chain, 2, NULL, next, &r), 0);
	assert_ptr_equal(r.read, mock_wire_read);
	assert_ptr_equal(r.ctx, &wire);
	assert_int_equal(xi_chain_bind_rtcp_writer_from(chain, 2, mock_wire_writer(&wire), &w), 0);
	assert_ptr_equal(w.write, mock_wire_write);
	assert_int_equal(mock_counts.bind_calls, 0);
	/* Past the end is a caller's mistake, not an empty suffix. */
	assert_int_equal(xi_chain_bind_remote_stream_from(chain, 3, NULL, next, &r), -EINVAL);
	assert_int_equal(xi_chain_bind_rtcp_reader_from(chain, 3, next, &r), -EINVAL);
	xi_chain_unbind_remote_stream_from(chain, 3, NULL);
	assert_int_equal(mock_counts.unbind_calls, 0);
	close_ok(chain);
}

static void test_poll_polls_all_returns_first_error(void **state)
{
	struct xi_chain *chain = chain_of_tags("abc");

	cfg_at(chain, 1)->fail_poll = -ETIMEDOUT;
	cfg_at(chain, 2)->fail_poll = -EIO;
	assert_int_equal(xi_chain_poll(chain, 12345), -ETIMEDOUT);
	assert_string_equal(mock_log_str(), "poll:a poll:b poll:c");
	assert_int_equal(mock_counts.last_now_ns, 12345);
	cfg_at(chain, 1)->fail_poll = 0;
	cfg_at(chain, 2)->fail_poll = 0;
	assert_int_equal(xi_chain_poll(chain, 1), 0);
	assert_int_equal(mock_counts.poll_calls, 6);
	assert_int_equal(xi_chain_poll(NULL, 1), -EINVAL);
	close_ok(chain);
}

static void test_close_names_every_failure(void **state)
{
	struct xi_chain *chain = chain_of_tags("abc");
	struct xi_err err;

	cfg_at(chain, 0)->fail_close = -EIO;
	cfg_at(chain, 2)->fail_close = -EBUSY;
	assert_int_equal(xi_chain_close(chain, &err), -EIO);
	assert_int_equal(err.code, -EIO);
	assert_string_equal(err.msg, "2 of 3 interceptors failed to close: "
			    "a[0]: Input/output error; c[2]: Device or resource busy");
	assert_string_equal(mock_log_str(), "close:a close:b close:c");
	assert_int_equal(mock_counts.close_calls, 3);
}

static void test_close_unnamed_element(void **state)
{
	struct xi_chain *chain = chain_of_tags("ab");
	struct xi_err err;

	xi_chain_element(chain, 1)->name = NULL;
	cfg_at(chain, 1)->fail_close = -ENODEV;
	assert_int_equal(xi_chain_close(chain, &err), -ENODEV);
	assert_string_equal(err.msg, "1 of 2 interceptors failed to close: "
			    "interceptor[1]: No such device");
	assert_int_equal(mock_counts.close_calls, 2);
}

static void test_close_without_err_and_null(void **state)
{
	struct xi_chain *chain = chain_of_tags("ab");
	struct xi_err err = { .code = -EIO, .msg = "stale" };

	cfg_at(chain, 1)->fail_close = -EIO;
	assert_int_equal(xi_chain_close(chain, NULL), -EIO);
	assert_int_equal(mock_counts.close_calls, 2);
	assert_int_equal(xi_chain_close(NULL, &err), 0);
	assert_int_equal(err.code, 0);
	assert_string_equal(err.msg, "");
}

static void test_new_rejects_bad_arguments(void **state)
{
	struct xi_interceptor *ics[2] = { mock_ic_tagged("a"), NULL };
	struct xi_chain *chain = NULL;

	assert_int_equal(xi_chain_new(ics, 2, &chain), -EINVAL);
	assert_null(chain);
	assert_int_equal(xi_chain_new(NULL, 1, &chain), -EINVAL);
	assert_int_equal(xi_chain_new(ics, 1, NULL), -EINVAL);
	/* A failed new takes no ownership. */
	assert_int_equal(mock_counts.close_calls, 0);
	assert_int_equal(xi_interceptor_close(ics[0]), 0);
}

static void test_accessors(void **state)
{
	struct xi_chain *chain = chain_of_tags("ab");

	assert_int_equal(xi_chain_len(chain), 2);
	assert_int_equal(xi_chain_len(NULL), 0);
	assert_string_equal(xi_chain_element(chain, 1)->name, "b");
	assert_null(xi_chain_element(chain, 2));
	assert_null(xi_chain_element(NULL, 0));
	assert_null(xi_chain_factory(chain, 0));
	assert_null(xi_chain_config(chain, 0));
	assert_null(xi_chain_factory(chain, 5));
	assert_int_equal(xi_chain_xdp_prefix(chain), 0);
	assert_int_equal(xi_chain_xdp_prefix(NULL), 0);
	assert_null(xi_chain_interceptor(NULL));
	close_ok(chain);
}

static void test_empty_chain_is_noop(void **state)
{
	struct xi_chain *chain = NULL;
	struct mock_wire wire = { 0 };
	struct xi_reader r = { 0 };
	struct xi_writer w = { 0 };
	uint8_t buf[16];

	assert_int_equal(xi_chain_new(NULL, 0, &chain), 0);
	assert_int_equal(xi_chain_len(chain), 0);
	assert_int_equal(xi_chain_bind_remote_stream_from(chain, 0, NULL,
							  mock_wire_reader(&wire, "abc"), &r), 0);
	assert_int_equal(xi_chain_bind_local_stream_from(chain, 0, NULL,
							 mock_wire_writer(&wire), &w), 0);
	assert_int_equal(xi_reader_read(r, buf, sizeof(buf), NULL), 3);
	assert_memory_equal(buf, "abc", 3);
	assert_int_equal(xi_writer_write(w, (const uint8_t *)"de", 2, NULL), 2);
	assert_memory_equal(wire.tx, "de", 2);
	assert_int_equal(xi_chain_poll(chain, 1), 0);
	close_ok(chain);
}

static void test_chain_as_interceptor_nests(void **state)
{
	struct xi_chain *inner = chain_of_tags("ab"), *outer = NULL;
	struct xi_interceptor *ics[3];
	struct mock_wire wire = { 0 };
	struct xi_reader r;
	struct xi_writer w;
	uint8_t buf[64];
	struct xi_err err;

	ics[0] = mock_ic_tagged("x");
	mock_of(ics[0])->cfg.grow = 1;
	ics[1] = xi_chain_interceptor(inner);
	ics[2] = mock_ic_tagged("y");
	mock_of(ics[2])->cfg.grow = 1;
	assert_int_equal(xi_chain_new(ics, 3, &outer), 0);
	assert_int_equal(xi_chain_bind_remote_stream_from(outer, 0, NULL,
							  mock_wire_reader(&wire, "p"), &r), 0);
	assert_int_equal(xi_chain_bind_local_stream_from(outer, 0, NULL,
							 mock_wire_writer(&wire), &w), 0);
	assert_int_equal(xi_reader_read(r, buf, sizeof(buf), NULL), 5);
	assert_memory_equal(buf, "pxaby", 5);
	assert_int_equal(xi_writer_write(w, (const uint8_t *)"q", 1, NULL), 5);
	assert_memory_equal(wire.tx, "qybax", 5);
	assert_int_equal(xi_interceptor_poll(ics[1], 9), 0);
	assert_int_equal(mock_counts.poll_calls, 2);
	mock_reset();
	xi_interceptor_unbind_remote_stream(ics[1], NULL);
	assert_string_equal(mock_log_str(), "unbind-remote:a unbind-remote:b");
	mock_reset();
	mock_of(xi_chain_element(inner, 1))->cfg.fail_close = -EIO;
	/* The inner chain reports its own failure as one element's failure. */
	assert_int_equal(xi_chain_close(outer, &err), -EIO);
	assert_string_equal(err.msg, "1 of 3 interceptors failed to close: "
			    "chain[1]: Input/output error");
	assert_string_equal(mock_log_str(), "close:x close:a close:b close:y");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_remote_reads_inspect_0_to_n, setup),
		cmocka_unit_test_setup(test_local_writes_run_n_to_0, setup),
		cmocka_unit_test_setup(test_rtcp_orders_match_streams, setup),
		cmocka_unit_test_setup(test_dropped_read_stops_inspection, setup),
		cmocka_unit_test_setup(test_dropped_write_never_reaches_wire, setup),
		cmocka_unit_test_setup(test_read_error_passes_unchanged, setup),
		cmocka_unit_test_setup(test_length_change_propagates, setup),
		cmocka_unit_test_setup(test_unbind_reaches_every_element, setup),
		cmocka_unit_test_setup(test_bind_failure_unbinds_earlier, setup),
		cmocka_unit_test_setup(test_bind_failure_first_unbinds_none, setup),
		cmocka_unit_test_setup(test_rtcp_bind_failure_returns_error, setup),
		cmocka_unit_test_setup(test_from_binds_only_the_suffix, setup),
		cmocka_unit_test_setup(test_from_end_passes_through, setup),
		cmocka_unit_test_setup(test_poll_polls_all_returns_first_error, setup),
		cmocka_unit_test_setup(test_close_names_every_failure, setup),
		cmocka_unit_test_setup(test_close_unnamed_element, setup),
		cmocka_unit_test_setup(test_close_without_err_and_null, setup),
		cmocka_unit_test_setup(test_new_rejects_bad_arguments, setup),
		cmocka_unit_test_setup(test_accessors, setup),
		cmocka_unit_test_setup(test_empty_chain_is_noop, setup),
		cmocka_unit_test_setup(test_chain_as_interceptor_nests, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
