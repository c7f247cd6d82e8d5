/* SPDX-License-Identifier: MIT */
/*
 * Fixtures shared by the tests of the stateful interceptors (nack-generator,
 * receiver-report, packet-dump): a packet source a chain reads from, the RTP
 * packet builder, and an RTCP sink that keeps what an interceptor writes.
 *
 * Include after <cmocka.h>. A test that uses the sink defines FIX_SINK_MAX,
 * the most packets one test may write, before including this.
 */
#ifndef XICEPT_TESTS_USER_FIXTURES_H
#define XICEPT_TESTS_USER_FIXTURES_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <xicept/attributes.h>
#include <xicept/interceptor.h>
#include <xicept/rtp.h>

/* The packet the next read returns, whatever the reader is. */
struct fix_source {
	uint8_t pkt[2048];
	size_t len;
};

static inline ssize_t fix_source_read(void *ctx, uint8_t *buf, size_t cap,
				      struct xi_attributes *attrs)
{
	struct fix_source *s = ctx;

	if (s->len > cap)
		return -ENOSPC;
	memcpy(buf, s->pkt, s->len);
	return (ssize_t)s->len;
}

static inline struct xi_reader fix_source_reader(struct fix_source *s)
{
	return (struct xi_reader){ .read = fix_source_read, .ctx = s };
}

/* Makes the source an RTP packet, payload type 96, with payload_len bytes of
 * fill after the 12-byte header. */
static inline void fix_rtp_make(struct fix_source *s, uint32_t ssrc, uint16_t seq, uint32_t ts,
				size_t payload_len, uint8_t fill)
{
	struct xi_rtp_header h = { .payload_type = 96, .seq = seq, .timestamp = ts,
				   .ssrc = ssrc };

	assert_int_equal(xi_rtp_header_write(&h, NULL, 0, s->pkt, sizeof(s->pkt)), 12);
	assert_true(payload_len <= sizeof(s->pkt) - 12);
	memset(s->pkt + 12, fill, payload_len);
	s->len = 12 + payload_len;
}

/* Reads the source packet through rd and checks it passed unchanged. */
static inline void fix_read_through(const struct fix_source *s, struct xi_reader rd,
				    struct xi_attributes *attrs)
{
	uint8_t buf[sizeof(s->pkt)];

	assert_int_equal(xi_reader_read(rd, buf, sizeof(buf), attrs), (ssize_t)s->len);
	assert_memory_equal(buf, s->pkt, s->len);
}

#ifdef FIX_SINK_MAX
/* What the interceptor wrote to its RTCP writer, in order. */
struct fix_sink {
	size_t n;
	size_t len[FIX_SINK_MAX];
	uint8_t pkt[FIX_SINK_MAX][1500];
};

static inline ssize_t fix_sink_write(void *ctx, const uint8_t *pkt, size_t len,
				     struct xi_attributes *attrs)
{
	struct fix_sink *s = ctx;

	assert_non_null(attrs);
	assert_true(s->n < FIX_SINK_MAX);
	assert_true(len <= sizeof(s->pkt[0]));
	memcpy(s->pkt[s->n], pkt, len);
	s->len[s->n++] = len;
	return (ssize_t)len;
}

static inline void fix_sink_bind(struct fix_sink *s, struct xi_interceptor *ic)
{
	struct xi_writer w = { .write = fix_sink_write, .ctx = s }, ret;

	assert_int_equal(xi_interceptor_bind_rtcp_writer(ic, w, &ret), 0);
}
#endif

#endif
