// SPDX-License-Identifier: MIT
/*
 * RTCP compound parser and every accessor. A parsed compound must tile the
 * input exactly, the accessors must not fail on what the parser accepted,
 * and the writers must reproduce what they are fed from a parse.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xicept/attributes.h>
#include <xicept/rtcp.h>

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static void check_tiling(const struct xi_rtcp_compound *c, const uint8_t *buf, size_t len)
{
	size_t at = 0;

	CHECK(c->n >= 1 && c->n <= XI_RTCP_MAX_PACKETS);
	for (size_t i = 0; i < c->n; i++) {
		const struct xi_rtcp_packet *p = &c->pkts[i];

		CHECK(p->offset == at && p->data == buf + at);
		CHECK(p->length >= 4 && p->length % 4 == 0);
		CHECK(p->padding == (p->padding_len > 0));
		CHECK(p->padding_len <= p->length - 4);
		CHECK(!p->padding || i == c->n - 1);
		CHECK(p->type == buf[at + 1] && p->count == (buf[at] & 0x1f));
		at += p->length;
	}
	CHECK(at == len);
}

static void check_reports(const struct xi_rtcp_packet *p)
{
	struct xi_rtcp_report_block rb, back;
	struct xi_rtcp_report_block blocks[XI_RTCP_MAX_COUNT];
	struct xi_rtcp_compound c;
	uint8_t out[8 + 24 * XI_RTCP_MAX_COUNT + 20];
	size_t n = p->kind == XI_RTCP_KIND_SR ? p->sr.report_count : p->rr.report_count;
	int w;

	for (size_t i = 0; i < n; i++) {
		CHECK(xi_rtcp_report_block(p, i, &blocks[i]) == 0);
		CHECK(blocks[i].cumulative_lost >= -0x800000 && blocks[i].cumulative_lost <= 0x7fffff);
	}
	CHECK(xi_rtcp_report_block(p, n, &rb) == -ERANGE);
	if (p->kind == XI_RTCP_KIND_SR)
		w = xi_rtcp_sr_write(&p->sr, blocks, n, out, sizeof(out));
	else
		w = xi_rtcp_rr_write(p->rr.ssrc, blocks, n, out, sizeof(out));
	CHECK(w > 0);
	CHECK(xi_rtcp_compound_parse(out, (size_t)w, &c) == 0 && c.n == 1);
	CHECK(c.pkts[0].kind == p->kind);
	if (p->kind == XI_RTCP_KIND_SR) {
		CHECK(c.pkts[0].sr.ssrc == p->sr.ssrc && c.pkts[0].sr.ntp == p->sr.ntp);
		CHECK(c.pkts[0].sr.rtp_ts == p->sr.rtp_ts);
		CHECK(c.pkts[0].sr.packet_count == p->sr.packet_count);
		CHECK(c.pkts[0].sr.octet_count == p->sr.octet_count);
	} else {
		CHECK(c.pkts[0].rr.ssrc == p->rr.ssrc);
	}
	for (size_t i = 0; i < n; i++) {
		CHECK(xi_rtcp_report_block(&c.pkts[0], i, &back) == 0);
		CHECK(back.ssrc == blocks[i].ssrc && back.fraction_lost == blocks[i].fraction_lost);
		CHECK(back.cumulative_lost == blocks[i].cumulative_lost);
		CHECK(back.ext_highest_seq == blocks[i].ext_highest_seq);
		CHECK(back.jitter == blocks[i].jitter && back.lsr == blocks[i].lsr);
		CHECK(back.dlsr == blocks[i].dlsr);
	}
}

static void check_sdes(const struct xi_rtcp_packet *p)
{
	struct xi_rtcp_sdes_iter it;
	struct xi_rtcp_sdes_item item;
	uint32_t ssrc;
	size_t chunks = 0;
	int r;

	CHECK(xi_rtcp_sdes_iter_init(&it, p) == 0);
	while ((r = xi_rtcp_sdes_iter_next_chunk(&it, &ssrc)) == 1) {
		chunks++;
		while ((r = xi_rtcp_sdes_iter_next_item(&it, &item)) == 1) {
			CHECK(item.type != 0);
			CHECK(item.text >= p->data + 8);
			CHECK(item.text + item.len <= p->data + p->length - p->padding_len);
		}
		CHECK(r == 0);
	}
	CHECK(r == 0 && chunks == p->sdes.chunk_count);
}

static void check_bye(const struct xi_rtcp_packet *p)
{
	const char *reason;
	size_t rlen;
	uint32_t ssrc;

	for (size_t i = 0; i < p->bye.ssrc_count; i++)
		CHECK(xi_rtcp_bye_ssrc(p, i, &ssrc) == 0);
	CHECK(xi_rtcp_bye_ssrc(p, p->bye.ssrc_count, &ssrc) == -ERANGE);
	if (xi_rtcp_bye_reason(p, &reason, &rlen) == 0) {
		CHECK((const uint8_t *)reason > p->data);
		CHECK((const uint8_t *)reason + rlen <= p->data + p->length - p->padding_len);
	} else {
		CHECK(!p->bye.has_reason);
	}
}

/* Expands, writes the expansion as a new NACK and expands that: same set. */
static void check_nack(const struct xi_rtcp_packet *p)
{
	static uint8_t seen[65536], again[65536];
	size_t cap = 17 * (size_t)p->fb.entry_count;
	uint16_t *seqs = malloc(cap * sizeof(*seqs)), *seqs2 = malloc(cap * sizeof(*seqs));
	uint8_t *out = malloc(12 + 4 * cap);
	struct xi_rtcp_compound c;
	int n, n2, w;

	CHECK(seqs && seqs2 && out);
	n = xi_rtcp_nack_expand(p, seqs, cap);
	CHECK(n >= (int)p->fb.entry_count && (size_t)n <= cap);
	CHECK(xi_rtcp_nack_expand(p, seqs, (size_t)n - 1) == -ENOSPC);
	w = xi_rtcp_nack_write(1, 2, seqs, (size_t)n, out, 12 + 4 * cap);
	if (w == -EINVAL) {   /* more pairs than a length field can count */
		CHECK(12 + 4 * (size_t)n > 4 * 65536);
		goto out;
	}
	CHECK(w >= 16 && (size_t)w <= 12 + 4 * (size_t)n);
	CHECK(xi_rtcp_compound_parse(out, (size_t)w, &c) == 0);
	CHECK(c.pkts[0].kind == XI_RTCP_KIND_NACK);
	n2 = xi_rtcp_nack_expand(&c.pkts[0], seqs2, cap);
	CHECK(n2 > 0);
	memset(seen, 0, sizeof(seen));
	memset(again, 0, sizeof(again));
	for (int i = 0; i < n; i++)
		seen[seqs[i]] = 1;
	for (int i = 0; i < n2; i++)
		again[seqs2[i]] = 1;
	CHECK(!memcmp(seen, again, sizeof(seen)));
out:
	free(seqs);
	free(seqs2);
	free(out);
}

static void check_fir(const struct xi_rtcp_packet *p)
{
	struct xi_rtcp_fir_entry fe;

	CHECK(p->fb.entry_count >= 1);
	for (size_t i = 0; i < p->fb.entry_count; i++)
		CHECK(xi_rtcp_fir_entry(p, i, &fe) == 0);
	CHECK(xi_rtcp_fir_entry(p, p->fb.entry_count, &fe) == -ERANGE);
}

static void check_pli(const struct xi_rtcp_packet *p)
{
	struct xi_rtcp_compound c;
	uint8_t out[12];

	CHECK(xi_rtcp_pli_write(p->fb.sender_ssrc, p->fb.media_ssrc, out, sizeof(out)) == 12);
	CHECK(!memcmp(out + 4, p->data + 4, 8));
	CHECK(xi_rtcp_compound_parse(out, sizeof(out), &c) == 0);
	CHECK(c.pkts[0].kind == XI_RTCP_KIND_PLI);
}

static void check_twcc(const struct xi_rtcp_packet *p)
{
	size_t n = p->twcc.status_count;
	uint8_t *status = malloc(n ? n : 1);
	int32_t *delta = malloc((n ? n : 1) * sizeof(*delta));

	CHECK(status && delta);
	CHECK(p->twcc.ref_time >= -0x800000 && p->twcc.ref_time <= 0x7fffff);
	CHECK(xi_rtcp_twcc_decode(p, status, delta, n) == (int)n);
	for (size_t i = 0; i < n; i++) {
		CHECK(status[i] <= XI_TWCC_LARGE_DELTA);
		if (status[i] == XI_TWCC_NOT_RECEIVED)
			CHECK(delta[i] == 0);
		if (status[i] == XI_TWCC_SMALL_DELTA)
			CHECK(delta[i] >= 0 && delta[i] <= 255 * XI_TWCC_DELTA_US);
	}
	if (n)
		CHECK(xi_rtcp_twcc_decode(p, status, delta, n - 1) == -ENOSPC);
	free(status);
	free(delta);
}

static void check_packet(const struct xi_rtcp_packet *p)
{
	uint32_t ssrc;
	int r = xi_rtcp_sender_ssrc(p, &ssrc);

	CHECK(r == 0 || r == -ENOENT);
	r = xi_rtcp_media_ssrc(p, &ssrc);
	CHECK(r == 0 || r == -ENOENT);
	switch (p->kind) {
	case XI_RTCP_KIND_SR:
	case XI_RTCP_KIND_RR:
		check_reports(p);
		break;
	case XI_RTCP_KIND_SDES:
		check_sdes(p);
		break;
	case XI_RTCP_KIND_BYE:
		check_bye(p);
		break;
	case XI_RTCP_KIND_NACK:
		check_nack(p);
		break;
	case XI_RTCP_KIND_PLI:
		check_pli(p);
		break;
	case XI_RTCP_KIND_FIR:
		check_fir(p);
		break;
	case XI_RTCP_KIND_TWCC:
		check_twcc(p);
		break;
	case XI_RTCP_KIND_OTHER:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct xi_rtcp_compound c;
	static struct xi_attributes attrs;
	const struct xi_rtcp_compound *cached;
	uint8_t *buf = malloc(size ? size : 1);
	int err;

	CHECK(buf);
	memcpy(buf, data, size);
	err = xi_rtcp_compound_parse(buf, size, &c);
	if (err) {
		CHECK(err == -EBADMSG || err == -EPROTONOSUPPORT || err == -E2BIG);
		free(buf);
		return 0;
	}
	check_tiling(&c, buf, size);
	for (size_t i = 0; i < c.n; i++)
		check_packet(&c.pkts[i]);
	xi_attributes_reset(&attrs);
	CHECK(xi_attributes_rtcp(&attrs, buf, size, &cached) == 0 && cached->n == c.n);
	free(buf);
	return 0;
}
