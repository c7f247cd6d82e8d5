// SPDX-License-Identifier: MIT
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <xicept/rtcp.h>

/* SR, one report block (RFC 3550 6.4.1). */
static const uint8_t pkt_sr[] = {
	0x81, 200, 0x00, 0x0c,
	0x90, 0x2f, 0x9e, 0x2e,                         /* sender SSRC */
	0xda, 0x8b, 0xd1, 0xfc, 0xdd, 0xdd, 0xdd, 0xdd, /* NTP */
	0x00, 0x00, 0x12, 0x34,                         /* RTP ts */
	0x00, 0x00, 0x00, 0x10,                         /* packets */
	0x00, 0x00, 0x01, 0x00,                         /* octets */
	0xbc, 0x5e, 0x9a, 0x40,                         /* report: SSRC */
	0x20, 0xff, 0xff, 0xfe,                         /* fraction, lost -2 */
	0x00, 0x01, 0x00, 0x46,                         /* ext highest seq */
	0x00, 0x00, 0x02, 0x73,                         /* jitter */
	0x09, 0xf3, 0x64, 0x32,                         /* LSR */
	0x00, 0x00, 0x01, 0x50,                         /* DLSR */
};

/* RR, two blocks with the extreme 24-bit cumulative losses. */
static const uint8_t pkt_rr[] = {
	0x82, 201, 0x00, 0x0d,
	0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x0a, 0x01, 0x7f, 0xff, 0xff, 0x00, 0x00, 0x00, 0x0b,
	0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x0d, 0x00, 0x00, 0x00, 0x0e,
	0x00, 0x00, 0x00, 0x14, 0xff, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x15,
	0x00, 0x00, 0x00, 0x16, 0x00, 0x00, 0x00, 0x17, 0x00, 0x00, 0x00, 0x18,
};

/* SDES: a chunk with CNAME "abcd" and NAME "x", then a chunk with no items. */
static const uint8_t pkt_sdes[] = {
	0x82, 202, 0x00, 0x06,
	0x11, 0x11, 0x11, 0x11,
	0x01, 0x04, 'a', 'b', 'c', 'd', 0x02, 0x01, 'x', 0x00, 0x00, 0x00,
	0x22, 0x22, 0x22, 0x22,
	0x00, 0x00, 0x00, 0x00,
};

/* BYE: two SSRCs and the reason "bye". */
static const uint8_t pkt_bye[] = {
	0x82, 203, 0x00, 0x03,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
	0x03, 'b', 'y', 'e',
};

/* Generic NACK: PID 100, BLP 0x8005 (101, 103, 116). */
static const uint8_t pkt_nack[] = {
	0x81, 205, 0x00, 0x03,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
	0x00, 0x64, 0x80, 0x05,
};

static const uint8_t pkt_pli[] = {
	0x81, 206, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
};

/* FIR (RFC 5104 4.3.1): one entry, SSRC 0x33333333, seq nr 7. */
static const uint8_t pkt_fir[] = {
	0x84, 206, 0x00, 0x04,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x33, 0x33, 0x33, 0x33, 0x07, 0x00, 0x00, 0x00,
};

/*
 * TWCC: base 5, 10 statuses, reference time -2, fb count 3.
 * Chunks: run of 3 small deltas (0x2003); 2-bit vector L N S N S N N (0xe110).
 * Deltas: 4, 0, 255 ticks, large -10 ticks, 16, 1; one byte of zero fill.
 */
static const uint8_t pkt_twcc[] = {
	0x8f, 205, 0x00, 0x07,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
	0x00, 0x05, 0x00, 0x0a, 0xff, 0xff, 0xfe, 0x03,
	0x20, 0x03, 0xe1, 0x10,
	0x04, 0x00, 0xff, 0xff, 0xf6, 0x10, 0x01, 0x00,
};

/* TWCC: 16 statuses: 1-bit vector 1011 0000 0000 01 (0xac01), run of 2 not received. */
static const uint8_t pkt_twcc_1bit[] = {
	0x8f, 205, 0x00, 0x06,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
	0xff, 0xff, 0x00, 0x10, 0x00, 0x00, 0x01, 0x00,
	0xac, 0x01, 0x00, 0x02,
	0x01, 0x02, 0x03, 0x04,
};

/* PLI with 4 bytes of padding (P bit, count 4). */
static const uint8_t pkt_pli_padded[] = {
	0xa1, 206, 0x00, 0x03,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x04,
};

/* APP: kept as OTHER. */
static const uint8_t pkt_app[] = {
	0x80, 204, 0x00, 0x02,
	0x44, 0x44, 0x44, 0x44, 'A', 'B', 'C', 'D',
};

static void parse_one(const uint8_t *buf, size_t len, struct xi_rtcp_compound *c)
{
	assert_int_equal(xi_rtcp_compound_parse(buf, len, c), 0);
	assert_int_equal(c->n, 1);
	assert_ptr_equal(c->pkts[0].data, buf);
	assert_int_equal(c->pkts[0].offset, 0);
	assert_int_equal(c->pkts[0].length, len);
}

static void test_sr(void **state)
{
	struct xi_rtcp_compound c;
	struct xi_rtcp_report_block rb;
	const struct xi_rtcp_packet *p = &c.pkts[0];
	uint32_t ssrc;

	parse_one(pkt_sr, sizeof(pkt_sr), &c);
	assert_int_equal(p->type, XI_RTCP_SR);
	assert_int_equal(p->kind, XI_RTCP_KIND_SR);
	assert_int_equal(p->count, 1);
	assert_false(p->padding);
	assert_int_equal(p->sr.ssrc, 0x902f9e2e);
	assert_int_equal(p->sr.ntp, 0xda8bd1fcddddddddull);
	assert_int_equal(p->sr.rtp_ts, 0x1234);
	assert_int_equal(p->sr.packet_count, 16);
	assert_int_equal(p->sr.octet_count, 256);
	assert_int_equal(p->sr.report_count, 1);
	assert_int_equal(xi_rtcp_report_block(p, 0, &rb), 0);
	assert_int_equal(rb.ssrc, 0xbc5e9a40);
	assert_int_equal(rb.fraction_lost, 0x20);
	assert_int_equal(rb.cumulative_lost, -2);
	assert_int_equal(rb.ext_highest_seq, 0x10046);
	assert_int_equal(rb.jitter, 0x273);
	assert_int_equal(rb.lsr, 0x09f36432);
	assert_int_equal(rb.dlsr, 0x150);
	assert_int_equal(xi_rtcp_report_block(p, 1, &rb), -ERANGE);
	assert_int_equal(xi_rtcp_sender_ssrc(p, &ssrc), 0);
	assert_int_equal(ssrc, 0x902f9e2e);
	assert_int_equal(xi_rtcp_media_ssrc(p, &ssrc), -ENOENT);
}

static void test_rr(void **state)
{
	struct xi_rtcp_compound c;
	struct xi_rtcp_report_block rb;
	const struct xi_rtcp_packet *p = &c.pkts[0];
	uint32_t ssrc;

	parse_one(pkt_rr, sizeof(pkt_rr), &c);
	assert_int_equal(p->kind, XI_RTCP_KIND_RR);
	assert_int_equal(p->rr.ssrc, 1);
	assert_int_equal(p->rr.report_count, 2);
	assert_int_equal(xi_rtcp_report_block(p, 0, &rb), 0);
	assert_int_equal(rb.ssrc, 0x0a);
	assert_int_equal(rb.fraction_lost, 1);
	assert_int_equal(rb.cumulative_lost, 0x7fffff);
	assert_int_equal(rb.ext_highest_seq, 0x0b);
	assert_int_equal(rb.jitter, 0x0c);
	assert_int_equal(rb.lsr, 0x0d);
	assert_int_equal(rb.dlsr, 0x0e);
	assert_int_equal(xi_rtcp_report_block(p, 1, &rb), 0);
	assert_int_equal(rb.ssrc, 0x14);
	assert_int_equal(rb.fraction_lost, 0xff);
	assert_int_equal(rb.cumulative_lost, -0x800000);
	assert_int_equal(rb.dlsr, 0x18);
	assert_int_equal(xi_rtcp_report_block(p, 2, &rb), -ERANGE);
	assert_int_equal(xi_rtcp_sender_ssrc(p, &ssrc), 0);
	assert_int_equal(ssrc, 1);
}

static void test_sdes(void **state)
{
	struct xi_rtcp_compound c;
	struct xi_rtcp_sdes_iter it;
	struct xi_rtcp_sdes_item item;
	const struct xi_rtcp_packet *p = &c.pkts[0];
	uint32_t ssrc;

	parse_one(pkt_sdes, sizeof(pkt_sdes), &c);
	assert_int_equal(p->kind, XI_RTCP_KIND_SDES);
	assert_int_equal(p->sdes.chunk_count, 2);
	assert_int_equal(xi_rtcp_sender_ssrc(p, &ssrc), -ENOENT);

	assert_int_equal(xi_rtcp_sdes_iter_init(&it, p), 0);
	assert_int_equal(xi_rtcp_sdes_iter_next_chunk(&it, &ssrc), 1);
	assert_int_equal(ssrc, 0x11111111);
	assert_int_equal(xi_rtcp_sdes_iter_next_item(&it, &item), 1);
	assert_int_equal(item.type, 1);
	assert_int_equal(item.len, 4);
	assert_memory_equal(item.text, "abcd", 4);
	assert_int_equal(xi_rtcp_sdes_iter_next_item(&it, &item), 1);
	assert_int_equal(item.type, 2);
	assert_int_equal(item.len, 1);
	assert_memory_equal(item.text, "x", 1);
	assert_int_equal(xi_rtcp_sdes_iter_next_item(&it, &item), 0);
	assert_int_equal(xi_rtcp_sdes_iter_next_item(&it, &item), 0);
	assert_int_equal(xi_rtcp_sdes_iter_next_chunk(&it, &ssrc), 1);
	assert_int_equal(ssrc, 0x22222222);
	assert_int_equal(xi_rtcp_sdes_iter_next_item(&it, &item), 0);
	assert_int_equal(xi_rtcp_sdes_iter_next_chunk(&it, &ssrc), 0);

	/* Chunks can be walked without reading their items. */
	assert_int_equal(xi_rtcp_sdes_iter_init(&it, p), 0);
	assert_int_equal(xi_rtcp_sdes_iter_next_chunk(&it, &ssrc), 1);
	assert_int_equal(xi_rtcp_sdes_iter_next_chunk(&it, &ssrc), 1);
	assert_int_equal(ssrc, 0x22222222);
	assert_int_equal(xi_rtcp_sdes_iter_next_chunk(&it, &ssrc), 0);
}

static void test_bye(void **state)
{
	struct xi_rtcp_compound c;
	const struct xi_rtcp_packet *p = &c.pkts[0];
	const char *reason;
	size_t rlen;
	uint32_t ssrc;
	static const uint8_t bare[] = { 0x81, 203, 0x00, 0x01, 0x00, 0x00, 0x00, 0x09 };

	parse_one(pkt_bye, sizeof(pkt_bye), &c);
	assert_int_equal(p->kind, XI_RTCP_KIND_BYE);
	assert_int_equal(p->bye.ssrc_count, 2);
	assert_int_equal(xi_rtcp_bye_ssrc(p, 0, &ssrc), 0);
	assert_int_equal(ssrc, 1);
	assert_int_equal(xi_rtcp_bye_ssrc(p, 1, &ssrc), 0);
	assert_int_equal(ssrc, 2);
	assert_int_equal(xi_rtcp_bye_ssrc(p, 2, &ssrc), -ERANGE);
	assert_int_equal(xi_rtcp_bye_reason(p, &reason, &rlen), 0);
	assert_int_equal(rlen, 3);
	assert_memory_equal(reason, "bye", 3);
	assert_int_equal(xi_rtcp_sender_ssrc(p, &ssrc), -ENOENT);

	parse_one(bare, sizeof(bare), &c);
	assert_int_equal(p->bye.ssrc_count, 1);
	assert_int_equal(xi_rtcp_bye_reason(p, &reason, &rlen), -ENOENT);
	assert_int_equal(xi_rtcp_bye_ssrc(p, 0, &ssrc), 0);
	assert_int_equal(ssrc, 9);
}

static void test_nack(void **state)
{
	struct xi_rtcp_compound c;
	const struct xi_rtcp_packet *p = &c.pkts[0];
	uint16_t seqs[17], pid, blp;
	uint32_t ssrc;

	parse_one(pkt_nack, sizeof(pkt_nack), &c);
	assert_int_equal(p->kind, XI_RTCP_KIND_NACK);
	assert_int_equal(p->fb.sender_ssrc, 1);
	assert_int_equal(p->fb.media_ssrc, 2);
	assert_int_equal(p->fb.entry_count, 1);
	assert_int_equal(xi_rtcp_nack_pair(p, 0, &pid, &blp), 0);
	assert_int_equal(pid, 100);
	assert_int_equal(blp, 0x8005);
	assert_int_equal(xi_rtcp_nack_pair(p, 1, &pid, &blp), -ERANGE);
	assert_int_equal(xi_rtcp_nack_expand(p, seqs, 17), 4);
	assert_int_equal(seqs[0], 100);
	assert_int_equal(seqs[1], 101);
	assert_int_equal(seqs[2], 103);
	assert_int_equal(seqs[3], 116);
	assert_int_equal(xi_rtcp_nack_expand(p, seqs, 3), -ENOSPC);
	assert_int_equal(xi_rtcp_nack_expand(p, seqs, 0), -ENOSPC);
	assert_int_equal(xi_rtcp_sender_ssrc(p, &ssrc), 0);
	assert_int_equal(ssrc, 1);
	assert_int_equal(xi_rtcp_media_ssrc(p, &ssrc), 0);
	assert_int_equal(ssrc, 2);
}

static void test_pli_fir(void **state)
{
	struct xi_rtcp_compound c;
	const struct xi_rtcp_packet *p = &c.pkts[0];
	struct xi_rtcp_fir_entry fe;

	parse_one(pkt_pli, sizeof(pkt_pli), &c);
	assert_int_equal(p->type, XI_RTCP_PSFB);
	assert_int_equal(p->count, XI_RTCP_FMT_PLI);
	assert_int_equal(p->kind, XI_RTCP_KIND_PLI);
	assert_int_equal(p->fb.sender_ssrc, 1);
	assert_int_equal(p->fb.media_ssrc, 2);
	assert_int_equal(p->fb.entry_count, 0);
	assert_int_equal(xi_rtcp_fir_entry(p, 0, &fe), -EINVAL);

	parse_one(pkt_fir, sizeof(pkt_fir), &c);
	assert_int_equal(p->kind, XI_RTCP_KIND_FIR);
	assert_int_equal(p->fb.sender_ssrc, 1);
	assert_int_equal(p->fb.media_ssrc, 0);
	assert_int_equal(p->fb.entry_count, 1);
	assert_int_equal(xi_rtcp_fir_entry(p, 0, &fe), 0);
	assert_int_equal(fe.ssrc, 0x33333333);
	assert_int_equal(fe.seq_nr, 7);
	assert_int_equal(xi_rtcp_fir_entry(p, 1, &fe), -ERANGE);
}

static void test_twcc(void **state)
{
	static const uint8_t want_status[10] = { 1, 1, 1, 2, 0, 1, 0, 1, 0, 0 };
	static const int32_t want_delta[10] = { 1000, 0, 63750, -2500, 0, 4000, 0, 250, 0, 0 };
	struct xi_rtcp_compound c;
	const struct xi_rtcp_packet *p = &c.pkts[0];
	uint8_t status[16];
	int32_t delta[16];

	parse_one(pkt_twcc, sizeof(pkt_twcc), &c);
	assert_int_equal(p->kind, XI_RTCP_KIND_TWCC);
	assert_int_equal(p->twcc.sender_ssrc, 1);
	assert_int_equal(p->twcc.media_ssrc, 2);
	assert_int_equal(p->twcc.base_seq, 5);
	assert_int_equal(p->twcc.status_count, 10);
	assert_int_equal(p->twcc.ref_time, -2);
	assert_int_equal(p->twcc.fb_pkt_count, 3);
	assert_int_equal(xi_rtcp_twcc_decode(p, status, delta, 16), 10);
	assert_memory_equal(status, want_status, 10);
	assert_memory_equal(delta, want_delta, sizeof(want_delta));
	assert_int_equal(xi_rtcp_twcc_decode(p, status, delta, 9), -ENOSPC);
	assert_int_equal(xi_rtcp_twcc_decode(p, NULL, delta, 16), -EINVAL);
}

static void test_twcc_1bit(void **state)
{
	static const uint8_t want_status[16] = { 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0 };
	static const int32_t want_delta[16] = { 250, 0, 500, 750, 0, 0, 0, 0, 0, 0, 0, 0, 0,
						1000, 0, 0 };
	struct xi_rtcp_compound c;
	const struct xi_rtcp_packet *p = &c.pkts[0];
	uint8_t status[16];
	int32_t delta[16];

	parse_one(pkt_twcc_1bit, sizeof(pkt_twcc_1bit), &c);
	assert_int_equal(p->twcc.base_seq, 0xffff);
	assert_int_equal(p->twcc.status_count, 16);
	assert_int_equal(p->twcc.ref_time, 1);
	assert_int_equal(p->twcc.fb_pkt_count, 0);
	assert_int_equal(xi_rtcp_twcc_decode(p, status, delta, 16), 16);
	assert_memory_equal(status, want_status, 16);
	assert_memory_equal(delta, want_delta, sizeof(want_delta));
}

static void expect_one(const uint8_t *buf, size_t len, int want)
{
	struct xi_rtcp_compound c;

	assert_int_equal(xi_rtcp_compound_parse(buf, len, &c), want);
}

static void test_twcc_malformed(void **state)
{
	uint8_t b[64];

	/* Symbol 3 in a run that counts. */
	memcpy(b, pkt_twcc, sizeof(pkt_twcc));
	b[20] = 0x60;
	expect_one(b, sizeof(pkt_twcc), -EBADMSG);
	/* ... and in the 2-bit vector. */
	memcpy(b, pkt_twcc, sizeof(pkt_twcc));
	b[22] = 0xf1;
	expect_one(b, sizeof(pkt_twcc), -EBADMSG);
	/* Symbol 3 past the status count is ignored. */
	memcpy(b, pkt_twcc, sizeof(pkt_twcc));
	b[15] = 9;   /* drop status 9; its symbol (bits 1..0) may be anything */
	b[23] = 0x13;
	expect_one(b, sizeof(pkt_twcc), 0);
	/* More statuses than chunks. */
	memcpy(b, pkt_twcc, sizeof(pkt_twcc));
	b[15] = 200;
	expect_one(b, sizeof(pkt_twcc), -EBADMSG);
	/* More deltas than bytes: every status received large. */
	memcpy(b, pkt_twcc, sizeof(pkt_twcc));
	b[20] = 0x40;
	b[21] = 0x0a;
	expect_one(b, sizeof(pkt_twcc), -EBADMSG);
	/* Shorter than the fixed part. */
	memcpy(b, pkt_twcc, 16);
	b[3] = 3;
	expect_one(b, 16, -EBADMSG);
}

static void test_padding(void **state)
{
	struct xi_rtcp_compound c;
	const struct xi_rtcp_packet *p = &c.pkts[0];
	uint8_t b[64];

	parse_one(pkt_pli_padded, sizeof(pkt_pli_padded), &c);
	assert_true(p->padding);
	assert_int_equal(p->padding_len, 4);
	assert_int_equal(p->kind, XI_RTCP_KIND_PLI);

	/* Count 0, and a count covering the header. */
	memcpy(b, pkt_pli_padded, sizeof(pkt_pli_padded));
	b[15] = 0;
	expect_one(b, sizeof(pkt_pli_padded), -EBADMSG);
	b[15] = 13;
	expect_one(b, sizeof(pkt_pli_padded), -EBADMSG);
	/* Padding that eats into the PLI's fields. */
	b[15] = 8;
	expect_one(b, sizeof(pkt_pli_padded), -EBADMSG);

	/* A padded packet that is not the last. */
	memcpy(b, pkt_pli_padded, sizeof(pkt_pli_padded));
	memcpy(b + sizeof(pkt_pli_padded), pkt_pli, sizeof(pkt_pli));
	expect_one(b, sizeof(pkt_pli_padded) + sizeof(pkt_pli), -EBADMSG);
	/* Padded last: fine. */
	memcpy(b, pkt_pli, sizeof(pkt_pli));
	memcpy(b + sizeof(pkt_pli), pkt_pli_padded, sizeof(pkt_pli_padded));
	assert_int_equal(xi_rtcp_compound_parse(b, sizeof(pkt_pli) + sizeof(pkt_pli_padded),
						&c), 0);
	assert_int_equal(c.n, 2);
	assert_false(c.pkts[0].padding);
	assert_true(c.pkts[1].padding);
}

static void test_other(void **state)
{
	struct xi_rtcp_compound c;
	const struct xi_rtcp_packet *p = &c.pkts[0];
	struct xi_rtcp_report_block rb;
	uint32_t ssrc;
	uint8_t b[16];
	static const uint8_t hdr_only[] = { 0x80, 207, 0x00, 0x00 };

	parse_one(pkt_app, sizeof(pkt_app), &c);
	assert_int_equal(p->type, XI_RTCP_APP);
	assert_int_equal(p->kind, XI_RTCP_KIND_OTHER);
	assert_int_equal(xi_rtcp_sender_ssrc(p, &ssrc), 0);
	assert_int_equal(ssrc, 0x44444444);
	assert_int_equal(xi_rtcp_report_block(p, 0, &rb), -EINVAL);

	/* An RTPFB of another FMT (TMMBR, 3) is OTHER with both SSRCs. */
	memcpy(b, pkt_pli, sizeof(pkt_pli));
	b[0] = 0x83;
	b[1] = 205;
	parse_one(b, sizeof(pkt_pli), &c);
	assert_int_equal(p->kind, XI_RTCP_KIND_OTHER);
	assert_int_equal(p->count, 3);
	assert_int_equal(xi_rtcp_media_ssrc(p, &ssrc), 0);
	assert_int_equal(ssrc, 2);

	/* An XR of header only has no SSRC to give. */
	parse_one(hdr_only, sizeof(hdr_only), &c);
	assert_int_equal(p->kind, XI_RTCP_KIND_OTHER);
	assert_int_equal(xi_rtcp_sender_ssrc(p, &ssrc), -ENOENT);
}

static size_t append(uint8_t *buf, size_t at, const uint8_t *pkt, size_t len)
{
	memcpy(buf + at, pkt, len);
	return at + len;
}

static void test_compound(void **state)
{
	uint8_t b[512];
	size_t len = 0, bounds[5];
	struct xi_rtcp_compound c;

	len = append(b, len, pkt_rr, sizeof(pkt_rr));
	bounds[0] = len;
	len = append(b, len, pkt_sdes, sizeof(pkt_sdes));
	bounds[1] = len;
	len = append(b, len, pkt_nack, sizeof(pkt_nack));
	bounds[2] = len;
	len = append(b, len, pkt_twcc, sizeof(pkt_twcc));
	bounds[3] = len;
	len = append(b, len, pkt_bye, sizeof(pkt_bye));
	bounds[4] = len;

	assert_int_equal(xi_rtcp_compound_parse(b, len, &c), 0);
	assert_int_equal(c.n, 5);
	assert_int_equal(c.pkts[0].kind, XI_RTCP_KIND_RR);
	assert_int_equal(c.pkts[1].kind, XI_RTCP_KIND_SDES);
	assert_int_equal(c.pkts[2].kind, XI_RTCP_KIND_NACK);
	assert_int_equal(c.pkts[3].kind, XI_RTCP_KIND_TWCC);
	assert_int_equal(c.pkts[4].kind, XI_RTCP_KIND_BYE);
	assert_int_equal(c.pkts[2].offset, bounds[1]);
	assert_ptr_equal(c.pkts[2].data, b + bounds[1]);
	assert_int_equal(c.pkts[4].length, sizeof(pkt_bye));

	/* Prefixes: packet boundaries parse to fewer packets, the rest fail. */
	for (size_t n = 0; n < len; n++) {
		int want = -EBADMSG;
		size_t k;

		for (k = 0; k < 5; k++) {
			if (bounds[k] == n) {
				want = 0;
				break;
			}
		}
		assert_int_equal(xi_rtcp_compound_parse(b, n, &c), want);
		if (!want)
			assert_int_equal(c.n, k + 1);
	}

	/* A bad version in a later packet. */
	b[bounds[1]] = 0x41;
	assert_int_equal(xi_rtcp_compound_parse(b, len, &c), -EPROTONOSUPPORT);
}

static void test_max_packets(void **state)
{
	uint8_t b[33 * sizeof(pkt_pli)];
	struct xi_rtcp_compound c;

	for (size_t i = 0; i < 33; i++)
		memcpy(b + i * sizeof(pkt_pli), pkt_pli, sizeof(pkt_pli));
	assert_int_equal(xi_rtcp_compound_parse(b, 32 * sizeof(pkt_pli), &c), 0);
	assert_int_equal(c.n, 32);
	assert_int_equal(c.pkts[31].offset, 31 * sizeof(pkt_pli));
	assert_int_equal(xi_rtcp_compound_parse(b, sizeof(b), &c), -E2BIG);
}

/* Every prefix of a single packet fails cleanly. */
static void truncation_check(const uint8_t *pkt, size_t len)
{
	struct xi_rtcp_compound c;

	assert_int_equal(xi_rtcp_compound_parse(pkt, len, &c), 0);
	for (size_t n = 0; n < len; n++)
		assert_int_equal(xi_rtcp_compound_parse(pkt, n, &c), -EBADMSG);
}

static void test_truncation(void **state)
{
	truncation_check(pkt_sr, sizeof(pkt_sr));
	truncation_check(pkt_rr, sizeof(pkt_rr));
	truncation_check(pkt_sdes, sizeof(pkt_sdes));
	truncation_check(pkt_bye, sizeof(pkt_bye));
	truncation_check(pkt_nack, sizeof(pkt_nack));
	truncation_check(pkt_pli, sizeof(pkt_pli));
	truncation_check(pkt_fir, sizeof(pkt_fir));
	truncation_check(pkt_twcc, sizeof(pkt_twcc));
	truncation_check(pkt_twcc_1bit, sizeof(pkt_twcc_1bit));
	truncation_check(pkt_pli_padded, sizeof(pkt_pli_padded));
	truncation_check(pkt_app, sizeof(pkt_app));
}

/* Shrinks the length field by words: each packet then lacks what its counts need. */
static void shortened_check(const uint8_t *pkt, size_t len, size_t min_ok)
{
	uint8_t b[128];

	for (size_t words = 0; words * 4 + 4 < len; words++) {
		memcpy(b, pkt, len);
		b[2] = 0;
		b[3] = (uint8_t)words;
		b[0] &= ~0x20;
		expect_one(b, words * 4 + 4, words * 4 + 4 >= min_ok ? 0 : -EBADMSG);
	}
}

static void test_counts_fit(void **state)
{
	uint8_t b[64];

	shortened_check(pkt_sr, sizeof(pkt_sr), sizeof(pkt_sr));
	shortened_check(pkt_rr, sizeof(pkt_rr), sizeof(pkt_rr));
	shortened_check(pkt_sdes, sizeof(pkt_sdes), sizeof(pkt_sdes));
	shortened_check(pkt_bye, sizeof(pkt_bye), 12);   /* no reason: still a BYE */
	shortened_check(pkt_nack, sizeof(pkt_nack), sizeof(pkt_nack));
	shortened_check(pkt_pli_padded, sizeof(pkt_pli_padded), 12);
	shortened_check(pkt_fir, sizeof(pkt_fir), sizeof(pkt_fir));
	shortened_check(pkt_twcc, sizeof(pkt_twcc), sizeof(pkt_twcc));

	/* Counts larger than the packet. */
	memcpy(b, pkt_sr, sizeof(pkt_sr));
	b[0] = 0x82;
	expect_one(b, sizeof(pkt_sr), -EBADMSG);
	memcpy(b, pkt_sdes, sizeof(pkt_sdes));
	b[0] = 0x83;
	expect_one(b, sizeof(pkt_sdes), -EBADMSG);
	memcpy(b, pkt_bye, sizeof(pkt_bye));
	b[0] = 0x84;
	expect_one(b, sizeof(pkt_bye), -EBADMSG);
	/* BYE reason longer than the packet. */
	memcpy(b, pkt_bye, sizeof(pkt_bye));
	b[12] = 4;
	expect_one(b, sizeof(pkt_bye), -EBADMSG);
	/* SDES item running past the packet, and a chunk without its null. */
	memcpy(b, pkt_sdes, sizeof(pkt_sdes));
	b[9] = 30;
	expect_one(b, sizeof(pkt_sdes), -EBADMSG);
	memcpy(b, pkt_sdes, sizeof(pkt_sdes));
	b[24] = 0x01;
	b[25] = 0x02;
	expect_one(b, sizeof(pkt_sdes), -EBADMSG);
}

static void test_bad_args(void **state)
{
	struct xi_rtcp_compound c;
	struct xi_rtcp_sdes_iter it;
	uint32_t ssrc;

	assert_int_equal(xi_rtcp_compound_parse(NULL, 4, &c), -EINVAL);
	assert_int_equal(xi_rtcp_compound_parse(pkt_pli, sizeof(pkt_pli), NULL), -EINVAL);
	assert_int_equal(xi_rtcp_sender_ssrc(NULL, &ssrc), -EINVAL);
	parse_one(pkt_pli, sizeof(pkt_pli), &c);
	assert_int_equal(xi_rtcp_sender_ssrc(&c.pkts[0], NULL), -EINVAL);
	assert_int_equal(xi_rtcp_sdes_iter_init(&it, &c.pkts[0]), -EINVAL);
	assert_int_equal(xi_rtcp_nack_expand(&c.pkts[0], (uint16_t[1]){ 0 }, 1), -EINVAL);
	assert_int_equal(xi_rtcp_twcc_decode(&c.pkts[0], NULL, NULL, 0), -EINVAL);
	assert_int_equal(xi_rtcp_bye_ssrc(&c.pkts[0], 0, &ssrc), -EINVAL);
	/* Version 1 and 0 in the first packet. */
	expect_one((const uint8_t *)"\x41\xc9\x00\x00", 4, -EPROTONOSUPPORT);
	expect_one((const uint8_t *)"\x01\xc9\x00\x00", 4, -EPROTONOSUPPORT);
}

/* ---- writers ---- */

static void spaces_check(int (*write)(uint8_t *, size_t), int len)
{
	uint8_t b[256];

	for (int cap = 0; cap < len; cap++)
		assert_int_equal(write(b, (size_t)cap), -ENOSPC);
}

static struct xi_rtcp_compound parsed;

static void parse_written(const uint8_t *b, int len)
{
	assert_true(len > 0);
	assert_int_equal(xi_rtcp_compound_parse(b, (size_t)len, &parsed), 0);
	assert_int_equal(parsed.n, 1);
}

static const struct xi_rtcp_report_block rr_blocks[] = {
	{ 0x0a, 1, 0x7fffff, 0x0b, 0x0c, 0x0d, 0x0e },
	{ 0x14, 0xff, -0x800000, 0x15, 0x16, 0x17, 0x18 },
};

static int write_rr(uint8_t *b, size_t cap)
{
	return xi_rtcp_rr_write(1, rr_blocks, 2, b, cap);
}

static void test_write_rr(void **state)
{
	uint8_t b[256];
	struct xi_rtcp_report_block rb, clamp[2] = {
		{ .cumulative_lost = 0x1000000 }, { .cumulative_lost = -9000000 },
	};

	assert_int_equal(write_rr(b, sizeof(b)), sizeof(pkt_rr));
	assert_memory_equal(b, pkt_rr, sizeof(pkt_rr));
	spaces_check(write_rr, sizeof(pkt_rr));

	assert_int_equal(xi_rtcp_rr_write(5, clamp, 2, b, sizeof(b)), 56);
	parse_written(b, 56);
	assert_int_equal(xi_rtcp_report_block(&parsed.pkts[0], 0, &rb), 0);
	assert_int_equal(rb.cumulative_lost, 0x7fffff);
	assert_int_equal(xi_rtcp_report_block(&parsed.pkts[0], 1, &rb), 0);
	assert_int_equal(rb.cumulative_lost, -0x800000);

	assert_int_equal(xi_rtcp_rr_write(5, NULL, 0, b, sizeof(b)), 8);
	assert_memory_equal(b, "\x80\xc9\x00\x01\x00\x00\x00\x05", 8);
	assert_int_equal(xi_rtcp_rr_write(5, clamp, 32, b, sizeof(b)), -EINVAL);
	assert_int_equal(xi_rtcp_rr_write(5, NULL, 1, b, sizeof(b)), -EINVAL);
	assert_int_equal(xi_rtcp_rr_write(5, NULL, 0, NULL, 8), -EINVAL);
}

static int write_sr(uint8_t *b, size_t cap)
{
	static const struct xi_rtcp_sr sr = {
		.ssrc = 0x902f9e2e, .ntp = 0xda8bd1fcddddddddull, .rtp_ts = 0x1234,
		.packet_count = 16, .octet_count = 256, .report_count = 9,
	};
	static const struct xi_rtcp_report_block rb = {
		0xbc5e9a40, 0x20, -2, 0x10046, 0x273, 0x09f36432, 0x150,
	};

	return xi_rtcp_sr_write(&sr, &rb, 1, b, cap);
}

static void test_write_sr(void **state)
{
	uint8_t b[256];

	assert_int_equal(write_sr(b, sizeof(b)), sizeof(pkt_sr));
	assert_memory_equal(b, pkt_sr, sizeof(pkt_sr));
	spaces_check(write_sr, sizeof(pkt_sr));
	assert_int_equal(xi_rtcp_sr_write(NULL, NULL, 0, b, sizeof(b)), -EINVAL);
}

static int write_pli(uint8_t *b, size_t cap)
{
	return xi_rtcp_pli_write(1, 2, b, cap);
}

static void test_write_pli(void **state)
{
	uint8_t b[64];

	assert_int_equal(write_pli(b, sizeof(b)), sizeof(pkt_pli));
	assert_memory_equal(b, pkt_pli, sizeof(pkt_pli));
	spaces_check(write_pli, sizeof(pkt_pli));
	assert_int_equal(xi_rtcp_pli_write(1, 2, NULL, 64), -EINVAL);
}

static int write_nack(uint8_t *b, size_t cap)
{
	static const uint16_t seqs[] = { 100, 101, 103, 116 };

	return xi_rtcp_nack_write(1, 2, seqs, 4, b, cap);
}

/* Writes seqs, parses the NACK back and expects its pairs and its expansion. */
static void nack_check(const uint16_t *seqs, size_t n, const uint16_t *pairs, size_t n_pairs,
		       const uint16_t *expanded, size_t n_expanded)
{
	uint8_t b[256];
	uint16_t out[64], pid, blp;
	int len = xi_rtcp_nack_write(7, 8, seqs, n, b, sizeof(b));

	assert_int_equal(len, 12 + 4 * (int)n_pairs);
	parse_written(b, len);
	assert_int_equal(parsed.pkts[0].fb.entry_count, n_pairs);
	for (size_t i = 0; i < n_pairs; i++) {
		assert_int_equal(xi_rtcp_nack_pair(&parsed.pkts[0], i, &pid, &blp), 0);
		assert_int_equal(pid, pairs[2 * i]);
		assert_int_equal(blp, pairs[2 * i + 1]);
	}
	assert_int_equal(xi_rtcp_nack_expand(&parsed.pkts[0], out, 64), (int)n_expanded);
	assert_memory_equal(out, expanded, n_expanded * sizeof(uint16_t));
}

static void test_write_nack(void **state)
{
	uint8_t b[64];

	assert_int_equal(write_nack(b, sizeof(b)), sizeof(pkt_nack));
	assert_memory_equal(b, pkt_nack, sizeof(pkt_nack));
	spaces_check(write_nack, sizeof(pkt_nack));

	/* Wraparound: 65534, 65535, 0, 1 share a pair. */
	nack_check((const uint16_t[]){ 65534, 65535, 0, 1, 20, 40 }, 6,
		   (const uint16_t[]){ 65534, 0x0007, 20, 0, 40, 0 }, 3,
		   (const uint16_t[]){ 65534, 65535, 0, 1, 20, 40 }, 6);
	/* Exactly 16 after the PID still fits; 17 starts a pair. */
	nack_check((const uint16_t[]){ 10, 26, 27 }, 3,
		   (const uint16_t[]){ 10, 0x8000, 27, 0 }, 2,
		   (const uint16_t[]){ 10, 26, 27 }, 3);
	/* Duplicates are dropped; an unsorted list still covers everything. */
	nack_check((const uint16_t[]){ 5, 5, 6, 6 }, 4,
		   (const uint16_t[]){ 5, 0x0001 }, 1,
		   (const uint16_t[]){ 5, 6 }, 2);
	nack_check((const uint16_t[]){ 10, 5 }, 2,
		   (const uint16_t[]){ 10, 0, 5, 0 }, 2,
		   (const uint16_t[]){ 10, 5 }, 2);
	/* 17 consecutive numbers fill one pair. */
	nack_check((const uint16_t[]){ 65530, 65531, 65532, 65533, 65534, 65535, 0, 1, 2, 3,
				       4, 5, 6, 7, 8, 9, 10 }, 17,
		   (const uint16_t[]){ 65530, 0xffff }, 1,
		   (const uint16_t[]){ 65530, 65531, 65532, 65533, 65534, 65535, 0, 1, 2, 3,
				       4, 5, 6, 7, 8, 9, 10 }, 17);

	assert_int_equal(xi_rtcp_nack_write(1, 2, (const uint16_t[]){ 1 }, 0, b, 64), -EINVAL);
	assert_int_equal(xi_rtcp_nack_write(1, 2, NULL, 1, b, 64), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sr),
		cmocka_unit_test(test_rr),
		cmocka_unit_test(test_sdes),
		cmocka_unit_test(test_bye),
		cmocka_unit_test(test_nack),
		cmocka_unit_test(test_pli_fir),
		cmocka_unit_test(test_twcc),
		cmocka_unit_test(test_twcc_1bit),
		cmocka_unit_test(test_twcc_malformed),
		cmocka_unit_test(test_padding),
		cmocka_unit_test(test_other),
		cmocka_unit_test(test_compound),
		cmocka_unit_test(test_max_packets),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_counts_fit),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_write_rr),
		cmocka_unit_test(test_write_sr),
		cmocka_unit_test(test_write_pli),
		cmocka_unit_test(test_write_nack),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
