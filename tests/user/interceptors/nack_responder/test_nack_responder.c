// SPDX-License-Identifier: MIT
/*
 * nack-responder through a chain from the catalog: what is written to a
 * local stream passes on unchanged and is kept (the last `size` packets);
 * a generic NACK makes it write again exactly the asked packets it holds,
 * as RFC 4588 RTX (RTX PT and SSRC, its own sequence numbers, the OSN, the
 * original payload, no padding) when the stream has an RTX SSRC, else byte
 * for byte; misses and malformed RTCP are not acted on.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <xicept/attributes.h>
#include <xicept/catalog.h>
#include <xicept/rtcp.h>
#include <xicept/rtp.h>
#include <xicept/stream.h>

#include "user/interceptors/nack_responder/nack_responder.h"

#define FIX_SINK_MAX 48
#include "user/fixtures.h"

#define SSRC     0x5678u
#define RTX_SSRC 0x5679u
#define PLAIN    0x7777u

struct rig {
	struct xi_catalog *cat;
	struct xi_chain *chain;
	struct xi_interceptor *ic, *nr;
	struct fix_sink wire;
	struct xi_writer rtx_stream, plain_stream;
	struct fix_source src;
	struct xi_reader rtcp_in;
};

static struct rig *rig_new(void)
{
	struct xi_stream_info a = { .ssrc = SSRC, .ssrc_rtx = RTX_SSRC, .payload_type = 96,
				    .payload_type_rtx = 97, .clock_rate = 90000 };
	struct xi_stream_info b = { .ssrc = PLAIN, .payload_type = 111, .clock_rate = 48000 };
	struct rig *r = calloc(1, sizeof(*r));
	struct xi_writer wire;
	struct xi_err err = { 0 };

	assert_non_null(r);
	r->cat = xi_catalog_new_from_global();
	assert_int_equal(xi_catalog_build(r->cat, "nack-responder size=8", NULL, &r->chain, &err), 0);
	r->ic = xi_chain_interceptor(r->chain);
	r->nr = xi_chain_element(r->chain, 0);
	wire = (struct xi_writer){ .write = fix_sink_write, .ctx = &r->wire };
	assert_int_equal(xi_interceptor_bind_local_stream(r->ic, &a, wire, &r->rtx_stream), 0);
	assert_int_equal(xi_interceptor_bind_local_stream(r->ic, &b, wire, &r->plain_stream), 0);
	assert_int_equal(xi_interceptor_bind_rtcp_reader(r->ic, fix_source_reader(&r->src),
							 &r->rtcp_in), 0);
	return r;
}

static void rig_free(struct rig *r)
{
	assert_int_equal(xi_chain_close(r->chain, NULL), 0);
	xi_catalog_free(r->cat);
	free(r);
}

/* Packet seq of ssrc: a one-byte extension (id 3), payload of 40 + seq % 7
 * bytes of seq, padding of 4 when pad. */
static size_t pkt_make(uint8_t *buf, uint32_t ssrc, uint16_t seq, bool pad)
{
	uint8_t ext_data[2] = { 0xaa, 0xbb };
	struct xi_rtp_ext_data ext = { .id = 3, .len = 2, .data = ext_data };
	struct xi_rtp_header h = { .payload_type = ssrc == SSRC ? 96 : 111, .seq = seq,
				   .timestamp = 1000u * seq, .ssrc = ssrc, .marker = seq & 1,
				   .ext_kind = XI_RTP_EXT_ONE_BYTE, .padding = pad };
	int n = xi_rtp_header_write(&h, &ext, 1, buf, 1500);
	size_t len, body = 40 + seq % 7;

	assert_int_equal(n, 20);
	memset(buf + n, (int)(seq & 0xff), body);
	len = (size_t)n + body;
	if (pad) {
		memset(buf + len, 0, 3);
		buf[len + 3] = 4;
		len += 4;
	}
	return len;
}

static void send_pkts(struct rig *r, struct xi_writer w, uint32_t ssrc, uint16_t from, int n)
{
	struct xi_attributes attrs = { 0 };
	uint8_t pkt[1500];

	for (int i = 0; i < n; i++) {
		size_t len = pkt_make(pkt, ssrc, (uint16_t)(from + i), i % 3 == 0);
		size_t k = r->wire.n;

		assert_int_equal(xi_writer_write(w, pkt, len, &attrs), (ssize_t)len);
		assert_int_equal(r->wire.n, k + 1);
		assert_memory_equal(r->wire.pkt[k], pkt, len);
	}
}

static void nack_in(struct rig *r, uint32_t media, const uint16_t *seqs, size_t n)
{
	struct xi_attributes attrs = { 0 };
	int len = xi_rtcp_nack_write(0xabcd, media, seqs, n, r->src.pkt, sizeof(r->src.pkt));

	assert_true(len > 0);
	r->src.len = (size_t)len;
	fix_read_through(&r->src, r->rtcp_in, &attrs);
}

static void test_rtx(void **state)
{
	/* in the order the NACK lists them: one PID, 65527, and its BLP */
	static const uint16_t asked[] = { 65527, 65533, 65535, 0, 2 };
	static const uint16_t *held = asked + 1;
	struct rig *r = rig_new();
	struct xi_nack_responder_counts n;
	struct xi_rtcp_compound c;
	uint16_t order[8];
	uint8_t orig[1500];

	send_pkts(r, r->rtx_stream, SSRC, 65520, 19);   /* 65520 .. 2: keeps 65531 .. 2 */
	r->wire.n = 0;
	nack_in(r, SSRC, asked, 5);
	assert_int_equal(xi_rtcp_compound_parse(r->src.pkt, r->src.len, &c), 0);
	assert_int_equal(xi_rtcp_nack_expand(&c.pkts[0], order, 8), 5);
	assert_memory_equal(order, asked, sizeof(asked));
	assert_int_equal(r->wire.n, 4);   /* 65527 is gone */
	for (size_t i = 0; i < 4; i++) {
		const uint8_t *p = r->wire.pkt[i];
		size_t olen = pkt_make(orig, SSRC, held[i], (uint16_t)(held[i] - 65520) % 3 == 0);
		size_t opad = orig[0] & 0x20 ? 4 : 0;

		assert_int_equal(r->wire.len[i], olen - opad + 2);
		assert_int_equal(p[0], orig[0] & ~0x20);              /* no padding */
		assert_int_equal(p[1], (orig[1] & 0x80) | 97);        /* marker kept, RTX PT */
		assert_int_equal(p[2] << 8 | p[3], i);                /* RTX sequence numbers */
		assert_memory_equal(p + 4, orig + 4, 4);              /* timestamp */
		assert_int_equal((uint32_t)p[8] << 24 | p[9] << 16 | p[10] << 8 | p[11], RTX_SSRC);
		assert_memory_equal(p + 12, orig + 12, 8);            /* the extension */
		assert_int_equal(p[20] << 8 | p[21], held[i]);        /* OSN */
		assert_memory_equal(p + 22, orig + 20, olen - opad - 20);
	}
	assert_int_equal(xi_nack_responder_counts(r->nr, SSRC, &n), 0);
	assert_int_equal(n.requested, 5);
	assert_int_equal(n.resent, 4);
	assert_int_equal(n.missed, 1);
	assert_int_equal(n.kept, 19);
	rig_free(r);
}

static void test_originals_and_misses(void **state)
{
	static const uint16_t asked[] = { 12, 13, 14, 15, 16, 4, 30 };
	struct rig *r = rig_new();
	struct xi_nack_responder_counts n;
	uint8_t orig[1500];

	send_pkts(r, r->plain_stream, PLAIN, 0, 20);   /* keeps 12 .. 19 */
	send_pkts(r, r->rtx_stream, SSRC, 12, 3);      /* other stream, same numbers */
	r->wire.n = 0;
	nack_in(r, PLAIN, asked, 7);
	assert_int_equal(r->wire.n, 5);
	for (size_t i = 0; i < 5; i++) {
		size_t olen = pkt_make(orig, PLAIN, asked[i], asked[i] % 3 == 0);

		assert_int_equal(r->wire.len[i], olen);
		assert_memory_equal(r->wire.pkt[i], orig, olen);
	}
	assert_int_equal(xi_nack_responder_counts(r->nr, PLAIN, &n), 0);
	assert_int_equal(n.requested, 7);
	assert_int_equal(n.resent, 5);
	assert_int_equal(n.missed, 2);
	/* a NACK for a stream that is not local, and the other stream untouched */
	r->wire.n = 0;
	nack_in(r, 0x4242, asked, 3);
	assert_int_equal(r->wire.n, 0);
	assert_int_equal(xi_nack_responder_counts(r->nr, SSRC, &n), 0);
	assert_int_equal(n.requested, 0);
	assert_int_equal(xi_nack_responder_counts(r->nr, 0x4242, &n), -ENOENT);
	rig_free(r);
}

static void test_malformed_not_acted_on(void **state)
{
	static const uint16_t asked[] = { 5 };
	struct rig *r = rig_new();
	struct xi_attributes attrs = { 0 };
	struct xi_nack_responder_counts n;
	int len;

	send_pkts(r, r->plain_stream, PLAIN, 0, 8);
	r->wire.n = 0;
	len = xi_rtcp_nack_write(0xabcd, PLAIN, asked, 1, r->src.pkt, sizeof(r->src.pkt));
	/* the FCI count overruns: the length says one word more than there is */
	r->src.pkt[3]++;
	r->src.len = (size_t)len;
	fix_read_through(&r->src, r->rtcp_in, &attrs);
	/* truncated: no FCI */
	r->src.pkt[3] = 2;
	r->src.len = 12;
	fix_read_through(&r->src, r->rtcp_in, NULL);
	/* an RTPFB FMT nothing knows, well formed */
	r->src.pkt[0] = 0x83;
	r->src.pkt[3] = 3;
	r->src.len = 16;
	fix_read_through(&r->src, r->rtcp_in, NULL);
	assert_int_equal(r->wire.n, 0);
	assert_int_equal(xi_nack_responder_counts(r->nr, PLAIN, &n), 0);
	assert_int_equal(n.requested, 0);
	rig_free(r);
}

static void test_config(void **state)
{
	struct xi_catalog *cat = xi_catalog_new_from_global();
	struct xi_chain *chain = NULL;
	struct xi_err err = { 0 };

	assert_int_equal(xi_catalog_build(cat, "nack-responder size=1000", NULL, &chain, &err),
			 -EINVAL);
	assert_int_equal(xi_catalog_build(cat, "nack-responder size=65536", NULL, &chain, &err),
			 -EINVAL);
	assert_int_equal(xi_catalog_build(cat, "nack-responder", NULL, &chain, &err), 0);
	assert_int_equal(xi_chain_close(chain, NULL), 0);
	xi_catalog_free(cat);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rtx),
		cmocka_unit_test(test_originals_and_misses),
		cmocka_unit_test(test_malformed_not_acted_on),
		cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
