// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>

#include <xicept/rtcp.h>

#include "user/lib/bytes.h"

#define SR_FIXED_LEN    28   /* header, sender SSRC, sender info */
#define RR_FIXED_LEN    8
#define FB_FIXED_LEN    12   /* header, sender SSRC, media SSRC */
#define TWCC_FIXED_LEN  20
#define REPORT_LEN      24
#define FIR_ENTRY_LEN   8
#define NACK_PAIR_LEN   4
#define NACK_BLP_BITS   16
#define MAX_LENGTH_WORDS 0xffffu

static uint32_t get_be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static void put_be24(uint8_t *p, uint32_t v)
{
	p[0] = (v >> 16) & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = v & 0xff;
}

static int32_t sign_extend24(uint32_t v)
{
	return (v & 0x800000) ? (int32_t)v - 0x1000000 : (int32_t)v;
}

/* Bytes of a parsed packet that carry content: its padding excluded. */
static size_t body_len(const struct xi_rtcp_packet *p)
{
	return p->length - p->padding_len;
}

/* ---- transport-wide CC ---- */

struct twcc_walk {
	uint16_t count;
	size_t covered;
	size_t n_small;
	size_t n_large;
	uint8_t *status;   /* NULL when only validating */
};

static int twcc_add(struct twcc_walk *w, unsigned int sym, size_t run)
{
	size_t take = w->count - w->covered;

	if (run < take)
		take = run;
	if (!take)
		return 0;
	if (sym > XI_TWCC_LARGE_DELTA)
		return -EBADMSG;
	if (w->status)
		memset(w->status + w->covered, (int)sym, take);
	w->covered += take;
	if (sym == XI_TWCC_SMALL_DELTA)
		w->n_small += take;
	else if (sym == XI_TWCC_LARGE_DELTA)
		w->n_large += take;
	return 0;
}

static int twcc_chunk(struct twcc_walk *w, uint16_t c)
{
	int err = 0;

	if (!(c & 0x8000))
		return twcc_add(w, (c >> 13) & 3, c & 0x1fff);
	if (!(c & 0x4000)) {
		for (int k = 13; k >= 0 && !err; k--)
			err = twcc_add(w, (c >> k) & 1, 1);
		return err;
	}
	for (int k = 12; k >= 0 && !err; k -= 2)
		err = twcc_add(w, (c >> k) & 3, 1);
	return err;
}

static int twcc_deltas(const uint8_t *d, size_t pos, size_t end, const struct twcc_walk *w,
		       int32_t *delta_us)
{
	if ((end - pos) < w->n_small + 2 * w->n_large)
		return -EBADMSG;
	if (!delta_us)
		return 0;
	for (size_t i = 0; i < w->count; i++) {
		if (w->status[i] == XI_TWCC_SMALL_DELTA) {
			delta_us[i] = d[pos++] * XI_TWCC_DELTA_US;
		} else if (w->status[i] == XI_TWCC_LARGE_DELTA) {
			delta_us[i] = (int16_t)xi_get_be16(d + pos) * XI_TWCC_DELTA_US;
			pos += 2;
		} else {
			delta_us[i] = 0;
		}
	}
	return 0;
}

/* Validates (status NULL) or decodes the chunks and deltas of a TWCC packet. */
static int twcc_walk(const struct xi_rtcp_packet *p, uint8_t *status, int32_t *delta_us)
{
	struct twcc_walk w = { .count = p->twcc.status_count, .status = status };
	size_t pos = TWCC_FIXED_LEN, end = body_len(p);

	while (w.covered < w.count) {
		int err;

		if (end - pos < 2)
			return -EBADMSG;
		err = twcc_chunk(&w, xi_get_be16(p->data + pos));
		if (err)
			return err;
		pos += 2;
	}
	return twcc_deltas(p->data, pos, end, &w, delta_us);
}

/* ---- per-kind parsing ---- */

static int parse_sr(struct xi_rtcp_packet *p)
{
	const uint8_t *d = p->data;

	if (body_len(p) < SR_FIXED_LEN + (size_t)p->count * REPORT_LEN)
		return -EBADMSG;
	p->kind = XI_RTCP_KIND_SR;
	p->sr.ssrc = xi_get_be32(d + 4);
	p->sr.ntp = (uint64_t)xi_get_be32(d + 8) << 32 | xi_get_be32(d + 12);
	p->sr.rtp_ts = xi_get_be32(d + 16);
	p->sr.packet_count = xi_get_be32(d + 20);
	p->sr.octet_count = xi_get_be32(d + 24);
	p->sr.report_count = p->count;
	return 0;
}

static int parse_rr(struct xi_rtcp_packet *p)
{
	if (body_len(p) < RR_FIXED_LEN + (size_t)p->count * REPORT_LEN)
		return -EBADMSG;
	p->kind = XI_RTCP_KIND_RR;
	p->rr.ssrc = xi_get_be32(p->data + 4);
	p->rr.report_count = p->count;
	return 0;
}

static int parse_sdes(struct xi_rtcp_packet *p)
{
	struct xi_rtcp_sdes_iter it;
	struct xi_rtcp_sdes_item item;
	uint32_t ssrc;
	int r;

	p->kind = XI_RTCP_KIND_SDES;
	p->sdes.chunk_count = p->count;
	xi_rtcp_sdes_iter_init(&it, p);
	while ((r = xi_rtcp_sdes_iter_next_chunk(&it, &ssrc)) > 0) {
		while ((r = xi_rtcp_sdes_iter_next_item(&it, &item)) > 0)
			;
		if (r < 0)
			return r;
	}
	return r;
}

static int parse_bye(struct xi_rtcp_packet *p)
{
	size_t at = XI_RTCP_HEADER_LEN + 4 * (size_t)p->count, end = body_len(p);

	if (end < at)
		return -EBADMSG;
	p->kind = XI_RTCP_KIND_BYE;
	p->bye.ssrc_count = p->count;
	if (end == at)
		return 0;
	if (end - at - 1 < p->data[at])
		return -EBADMSG;
	p->bye.reason_len = p->data[at];
	p->bye.has_reason = p->bye.reason_len > 0;
	p->bye.reason_offset = (uint32_t)(at + 1);
	return 0;
}

static int parse_fb(struct xi_rtcp_packet *p, enum xi_rtcp_kind kind, size_t entry_len)
{
	size_t end = body_len(p);

	if (end < FB_FIXED_LEN)
		return -EBADMSG;
	p->kind = kind;
	p->fb.sender_ssrc = xi_get_be32(p->data + 4);
	p->fb.media_ssrc = xi_get_be32(p->data + 8);
	if (!entry_len)
		return 0;
	p->fb.entry_count = (uint32_t)((end - FB_FIXED_LEN) / entry_len);
	/* RFC 4585 6.2.1 and RFC 5104 4.3.1.1: at least one FCI entry. */
	return p->fb.entry_count ? 0 : -EBADMSG;
}

static int parse_twcc(struct xi_rtcp_packet *p)
{
	const uint8_t *d = p->data;

	if (body_len(p) < TWCC_FIXED_LEN)
		return -EBADMSG;
	p->kind = XI_RTCP_KIND_TWCC;
	p->twcc.sender_ssrc = xi_get_be32(d + 4);
	p->twcc.media_ssrc = xi_get_be32(d + 8);
	p->twcc.base_seq = xi_get_be16(d + 12);
	p->twcc.status_count = xi_get_be16(d + 14);
	p->twcc.ref_time = sign_extend24(get_be24(d + 16));
	p->twcc.fb_pkt_count = d[19];
	return twcc_walk(p, NULL, NULL);
}

static int parse_kind(struct xi_rtcp_packet *p)
{
	switch (p->type) {
	case XI_RTCP_SR:
		return parse_sr(p);
	case XI_RTCP_RR:
		return parse_rr(p);
	case XI_RTCP_SDES:
		return parse_sdes(p);
	case XI_RTCP_BYE:
		return parse_bye(p);
	case XI_RTCP_RTPFB:
		if (p->count == XI_RTCP_FMT_NACK)
			return parse_fb(p, XI_RTCP_KIND_NACK, NACK_PAIR_LEN);
		if (p->count == XI_RTCP_FMT_TWCC)
			return parse_twcc(p);
		return 0;
	case XI_RTCP_PSFB:
		if (p->count == XI_RTCP_FMT_PLI)
			return parse_fb(p, XI_RTCP_KIND_PLI, 0);
		if (p->count == XI_RTCP_FMT_FIR)
			return parse_fb(p, XI_RTCP_KIND_FIR, FIR_ENTRY_LEN);
		return 0;
	default:
		return 0;
	}
}

/* One packet's common header at buf[at..len); its length is checked here. */
static int parse_header(const uint8_t *buf, size_t len, size_t at, struct xi_rtcp_packet *p)
{
	size_t plen;

	if (len - at < XI_RTCP_HEADER_LEN)
		return -EBADMSG;
	if (buf[at] >> 6 != 2)
		return -EPROTONOSUPPORT;
	plen = ((size_t)xi_get_be16(buf + at + 2) + 1) * 4;
	if (plen > len - at)
		return -EBADMSG;
	memset(p, 0, sizeof(*p));
	p->data = buf + at;
	p->offset = (uint32_t)at;
	p->length = (uint32_t)plen;
	p->padding = buf[at] & 0x20;
	p->count = buf[at] & 0x1f;
	p->type = buf[at + 1];
	if (!p->padding)
		return 0;
	/* RFC 3550 6.4.1: only the last packet of a compound may be padded. */
	if (at + plen != len)
		return -EBADMSG;
	p->padding_len = p->data[plen - 1];
	if (p->padding_len == 0 || p->padding_len > plen - XI_RTCP_HEADER_LEN)
		return -EBADMSG;
	return 0;
}

int xi_rtcp_compound_parse(const uint8_t *buf, size_t len, struct xi_rtcp_compound *ret)
{
	size_t at = 0;

	if (!buf || !ret)
		return -EINVAL;
	if (len == 0)
		return -EBADMSG;
	ret->n = 0;
	while (at < len) {
		struct xi_rtcp_packet *p;
		int err;

		if (ret->n == XI_RTCP_MAX_PACKETS)
			return -E2BIG;
		p = &ret->pkts[ret->n];
		err = parse_header(buf, len, at, p);
		if (!err)
			err = parse_kind(p);
		if (err)
			return err;
		ret->n++;
		at += p->length;
	}
	return 0;
}

/* ---- accessors ---- */

static bool has_sender_ssrc(uint8_t type)
{
	switch (type) {
	case XI_RTCP_SR:
	case XI_RTCP_RR:
	case XI_RTCP_APP:
	case XI_RTCP_RTPFB:
	case XI_RTCP_PSFB:
	case XI_RTCP_XR:
		return true;
	default:
		return false;
	}
}

int xi_rtcp_sender_ssrc(const struct xi_rtcp_packet *p, uint32_t *ret)
{
	if (!p || !ret)
		return -EINVAL;
	if (!has_sender_ssrc(p->type) || body_len(p) < 8)
		return -ENOENT;
	*ret = xi_get_be32(p->data + 4);
	return 0;
}

int xi_rtcp_media_ssrc(const struct xi_rtcp_packet *p, uint32_t *ret)
{
	if (!p || !ret)
		return -EINVAL;
	if ((p->type != XI_RTCP_RTPFB && p->type != XI_RTCP_PSFB) ||
	    body_len(p) < FB_FIXED_LEN)
		return -ENOENT;
	*ret = xi_get_be32(p->data + 8);
	return 0;
}

int xi_rtcp_report_block(const struct xi_rtcp_packet *p, size_t i,
			 struct xi_rtcp_report_block *ret)
{
	const uint8_t *b;

	if (!p || !ret)
		return -EINVAL;
	if (p->kind == XI_RTCP_KIND_SR && i < p->sr.report_count)
		b = p->data + SR_FIXED_LEN + i * REPORT_LEN;
	else if (p->kind == XI_RTCP_KIND_RR && i < p->rr.report_count)
		b = p->data + RR_FIXED_LEN + i * REPORT_LEN;
	else if (p->kind == XI_RTCP_KIND_SR || p->kind == XI_RTCP_KIND_RR)
		return -ERANGE;
	else
		return -EINVAL;
	ret->ssrc = xi_get_be32(b);
	ret->fraction_lost = b[4];
	ret->cumulative_lost = sign_extend24(get_be24(b + 5));
	ret->ext_highest_seq = xi_get_be32(b + 8);
	ret->jitter = xi_get_be32(b + 12);
	ret->lsr = xi_get_be32(b + 16);
	ret->dlsr = xi_get_be32(b + 20);
	return 0;
}

int xi_rtcp_bye_ssrc(const struct xi_rtcp_packet *p, size_t i, uint32_t *ret)
{
	if (!p || !ret || p->kind != XI_RTCP_KIND_BYE)
		return -EINVAL;
	if (i >= p->bye.ssrc_count)
		return -ERANGE;
	*ret = xi_get_be32(p->data + XI_RTCP_HEADER_LEN + 4 * i);
	return 0;
}

int xi_rtcp_bye_reason(const struct xi_rtcp_packet *p, const char **ret, size_t *ret_len)
{
	if (!p || !ret || !ret_len || p->kind != XI_RTCP_KIND_BYE)
		return -EINVAL;
	if (!p->bye.has_reason)
		return -ENOENT;
	*ret = (const char *)p->data + p->bye.reason_offset;
	*ret_len = p->bye.reason_len;
	return 0;
}

int xi_rtcp_nack_pair(const struct xi_rtcp_packet *p, size_t i, uint16_t *ret_pid,
		      uint16_t *ret_blp)
{
	const uint8_t *f;

	if (!p || !ret_pid || !ret_blp || p->kind != XI_RTCP_KIND_NACK)
		return -EINVAL;
	if (i >= p->fb.entry_count)
		return -ERANGE;
	f = p->data + FB_FIXED_LEN + i * NACK_PAIR_LEN;
	*ret_pid = xi_get_be16(f);
	*ret_blp = xi_get_be16(f + 2);
	return 0;
}

int xi_rtcp_nack_expand(const struct xi_rtcp_packet *p, uint16_t *seqs, size_t cap)
{
	size_t n = 0;

	if (!p || (!seqs && cap) || p->kind != XI_RTCP_KIND_NACK)
		return -EINVAL;
	for (size_t i = 0; i < p->fb.entry_count; i++) {
		uint16_t pid, blp;

		xi_rtcp_nack_pair(p, i, &pid, &blp);
		if (n == cap)
			return -ENOSPC;
		seqs[n++] = pid;
		for (unsigned int bit = 0; bit < NACK_BLP_BITS; bit++) {
			if (!(blp & (1u << bit)))
				continue;
			if (n == cap)
				return -ENOSPC;
			seqs[n++] = (uint16_t)(pid + bit + 1);
		}
	}
	return (int)n;
}

int xi_rtcp_fir_entry(const struct xi_rtcp_packet *p, size_t i,
		      struct xi_rtcp_fir_entry *ret)
{
	const uint8_t *e;

	if (!p || !ret || p->kind != XI_RTCP_KIND_FIR)
		return -EINVAL;
	if (i >= p->fb.entry_count)
		return -ERANGE;
	e = p->data + FB_FIXED_LEN + i * FIR_ENTRY_LEN;
	ret->ssrc = xi_get_be32(e);
	ret->seq_nr = e[4];
	return 0;
}

int xi_rtcp_sdes_iter_init(struct xi_rtcp_sdes_iter *it, const struct xi_rtcp_packet *p)
{
	if (!it || !p || p->type != XI_RTCP_SDES)
		return -EINVAL;
	it->pkt = p;
	it->pos = XI_RTCP_HEADER_LEN;
	it->chunks_left = p->count;
	it->in_chunk = false;
	return 0;
}

int xi_rtcp_sdes_iter_next_chunk(struct xi_rtcp_sdes_iter *it, uint32_t *ret_ssrc)
{
	struct xi_rtcp_sdes_item item;
	int r;

	if (!it || !it->pkt || !ret_ssrc)
		return -EINVAL;
	while (it->in_chunk) {
		r = xi_rtcp_sdes_iter_next_item(it, &item);
		if (r < 0)
			return r;
	}
	if (!it->chunks_left)
		return 0;
	if (it->pos > body_len(it->pkt) || body_len(it->pkt) - it->pos < 4)
		return -EBADMSG;
	*ret_ssrc = xi_get_be32(it->pkt->data + it->pos);
	it->pos += 4;
	it->chunks_left--;
	it->in_chunk = true;
	return 1;
}

/* RFC 3550 6.5: items end with a null octet, then nulls to a 32-bit boundary. */
int xi_rtcp_sdes_iter_next_item(struct xi_rtcp_sdes_iter *it, struct xi_rtcp_sdes_item *ret)
{
	const uint8_t *d;
	size_t end, pos;

	if (!it || !it->pkt || !ret)
		return -EINVAL;
	if (!it->in_chunk)
		return 0;
	d = it->pkt->data;
	end = body_len(it->pkt);
	pos = it->pos;
	if (pos >= end)
		return -EBADMSG;
	if (d[pos] == 0) {
		pos = (pos + 4) & ~(size_t)3;
		if (pos > end)
			return -EBADMSG;
		it->pos = pos;
		it->in_chunk = false;
		return 0;
	}
	if (end - pos < 2 || end - pos - 2 < d[pos + 1])
		return -EBADMSG;
	ret->type = d[pos];
	ret->len = d[pos + 1];
	ret->text = d + pos + 2;
	it->pos = pos + 2 + ret->len;
	return 1;
}

int xi_rtcp_twcc_decode(const struct xi_rtcp_packet *p, uint8_t *status,
			int32_t *delta_us, size_t cap)
{
	int err;

	if (!p || p->kind != XI_RTCP_KIND_TWCC)
		return -EINVAL;
	if (cap < p->twcc.status_count)
		return -ENOSPC;
	if (p->twcc.status_count && (!status || !delta_us))
		return -EINVAL;
	err = twcc_walk(p, status, delta_us);
	return err ? err : p->twcc.status_count;
}

/* ---- writers ---- */

static void header_write(uint8_t *buf, uint8_t count, uint8_t type, size_t len)
{
	buf[0] = (uint8_t)(0x80 | count);
	buf[1] = type;
	xi_put_be16(buf + 2, (uint16_t)(len / 4 - 1));
}

static uint32_t clamp24(int32_t v)
{
	if (v > 0x7fffff)
		v = 0x7fffff;
	if (v < -0x800000)
		v = -0x800000;
	return (uint32_t)v & 0xffffff;
}

static void report_write(uint8_t *b, const struct xi_rtcp_report_block *r)
{
	xi_put_be32(b, r->ssrc);
	b[4] = r->fraction_lost;
	put_be24(b + 5, clamp24(r->cumulative_lost));
	xi_put_be32(b + 8, r->ext_highest_seq);
	xi_put_be32(b + 12, r->jitter);
	xi_put_be32(b + 16, r->lsr);
	xi_put_be32(b + 20, r->dlsr);
}

static int reports_check(const struct xi_rtcp_report_block *blocks, size_t n,
			 const uint8_t *buf, size_t cap, size_t need)
{
	if (!buf || (n && !blocks) || n > XI_RTCP_MAX_COUNT)
		return -EINVAL;
	return cap < need ? -ENOSPC : 0;
}

int xi_rtcp_rr_write(uint32_t sender_ssrc, const struct xi_rtcp_report_block *blocks,
		     size_t n, uint8_t *buf, size_t cap)
{
	size_t len = RR_FIXED_LEN + n * REPORT_LEN;
	int err = reports_check(blocks, n, buf, cap, len);

	if (err)
		return err;
	header_write(buf, (uint8_t)n, XI_RTCP_RR, len);
	xi_put_be32(buf + 4, sender_ssrc);
	for (size_t i = 0; i < n; i++)
		report_write(buf + RR_FIXED_LEN + i * REPORT_LEN, &blocks[i]);
	return (int)len;
}

int xi_rtcp_sr_write(const struct xi_rtcp_sr *sr, const struct xi_rtcp_report_block *blocks,
		     size_t n, uint8_t *buf, size_t cap)
{
	size_t len = SR_FIXED_LEN + n * REPORT_LEN;
	int err;

	if (!sr)
		return -EINVAL;
	err = reports_check(blocks, n, buf, cap, len);
	if (err)
		return err;
	header_write(buf, (uint8_t)n, XI_RTCP_SR, len);
	xi_put_be32(buf + 4, sr->ssrc);
	xi_put_be32(buf + 8, (uint32_t)(sr->ntp >> 32));
	xi_put_be32(buf + 12, (uint32_t)sr->ntp);
	xi_put_be32(buf + 16, sr->rtp_ts);
	xi_put_be32(buf + 20, sr->packet_count);
	xi_put_be32(buf + 24, sr->octet_count);
	for (size_t i = 0; i < n; i++)
		report_write(buf + SR_FIXED_LEN + i * REPORT_LEN, &blocks[i]);
	return (int)len;
}

/*
 * Packs seqs into PID/BLP pairs, writing them to fci when it is not NULL, and
 * returns the pair count. uint16_t arithmetic makes 65535 -> 0 one step.
 */
static size_t nack_pack(const uint16_t *seqs, size_t n, uint8_t *fci)
{
	size_t pairs = 0;
	uint16_t pid = 0, blp = 0;

	for (size_t i = 0; i < n; i++) {
		uint16_t diff = (uint16_t)(seqs[i] - pid);

		if (pairs && diff == 0)
			continue;
		if (pairs && diff <= NACK_BLP_BITS) {
			blp |= (uint16_t)(1u << (diff - 1));
			continue;
		}
		if (pairs && fci) {
			xi_put_be16(fci + (pairs - 1) * NACK_PAIR_LEN, pid);
			xi_put_be16(fci + (pairs - 1) * NACK_PAIR_LEN + 2, blp);
		}
		pid = seqs[i];
		blp = 0;
		pairs++;
	}
	if (pairs && fci) {
		xi_put_be16(fci + (pairs - 1) * NACK_PAIR_LEN, pid);
		xi_put_be16(fci + (pairs - 1) * NACK_PAIR_LEN + 2, blp);
	}
	return pairs;
}

int xi_rtcp_nack_write(uint32_t sender_ssrc, uint32_t media_ssrc, const uint16_t *seqs,
		       size_t n, uint8_t *buf, size_t cap)
{
	size_t pairs, len;

	if (!seqs || !n || !buf)
		return -EINVAL;
	pairs = nack_pack(seqs, n, NULL);
	len = FB_FIXED_LEN + pairs * NACK_PAIR_LEN;
	if (len / 4 - 1 > MAX_LENGTH_WORDS)
		return -EINVAL;
	if (cap < len)
		return -ENOSPC;
	header_write(buf, XI_RTCP_FMT_NACK, XI_RTCP_RTPFB, len);
	xi_put_be32(buf + 4, sender_ssrc);
	xi_put_be32(buf + 8, media_ssrc);
	nack_pack(seqs, n, buf + FB_FIXED_LEN);
	return (int)len;
}

int xi_rtcp_pli_write(uint32_t sender_ssrc, uint32_t media_ssrc, uint8_t *buf, size_t cap)
{
	if (!buf)
		return -EINVAL;
	if (cap < FB_FIXED_LEN)
		return -ENOSPC;
	header_write(buf, XI_RTCP_FMT_PLI, XI_RTCP_PSFB, FB_FIXED_LEN);
	xi_put_be32(buf + 4, sender_ssrc);
	xi_put_be32(buf + 8, media_ssrc);
	return FB_FIXED_LEN;
}
