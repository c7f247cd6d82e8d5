/* SPDX-License-Identifier: MIT */
/*
 * Hand-built frames for the fast-path tests: Ethernet (VLAN tags), IPv4
 * (options) or IPv6 (extension headers), UDP, and RTP/RTCP payloads.
 * Shared by tests/bpf and tests/user/test_twin_*.c.
 */
#ifndef XI_TEST_PKT_H
#define XI_TEST_PKT_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <arpa/inet.h>
#include "user/lib/bytes.h"

#define PKT_MAX 2048

struct pkt_spec {
	int family;                 /* 4 or 6 */
	int n_vlans;                /* 0..3 */
	uint16_t vlan_tpid[3];      /* default 0x8100 */
	uint16_t ethertype;         /* 0: from family */
	uint8_t src[16], dst[16];   /* IPv4 in bytes 0-3 */
	uint16_t sport, dport;      /* host order */
	int ip_opt_words;           /* IPv4 options, 4-byte words */
	uint8_t ip_proto;           /* 0: UDP */
	uint16_t frag_off;          /* IPv4 frag_off field, host order */
	int n_ext;                  /* IPv6 extension headers */
	uint8_t ext_type[8];        /* 0, 43, 60, 44, 51 */
	const uint8_t *payload;
	size_t payload_len;
};

/* Returns the frame length. */
static inline size_t pkt_build(uint8_t *buf, const struct pkt_spec *s)
{
	size_t off = 12, l3, l4, iplen;
	uint8_t proto = s->ip_proto ? s->ip_proto : 17;

	memset(buf, 0, PKT_MAX);
	memcpy(buf, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	for (int i = 0; i < s->n_vlans; i++) {
		xi_put_be16(buf + off, s->vlan_tpid[i] ? s->vlan_tpid[i] : 0x8100);
		xi_put_be16(buf + off + 2, 100 + i);
		off += 4;
	}
	xi_put_be16(buf + off, s->ethertype ? s->ethertype : s->family == 6 ? 0x86dd : 0x0800);
	l3 = off + 2;
	if (s->family == 6) {
		uint8_t nh = s->n_ext ? s->ext_type[0] : proto;

		l4 = l3 + 40;
		buf[l3] = 0x60;
		buf[l3 + 6] = nh;
		buf[l3 + 7] = 64;
		memcpy(buf + l3 + 8, s->src, 16);
		memcpy(buf + l3 + 24, s->dst, 16);
		for (int i = 0; i < s->n_ext; i++) {
			uint8_t next = i + 1 < s->n_ext ? s->ext_type[i + 1] : proto;

			buf[l4] = next;
			/* 16 bytes each: AH counts 4-byte words minus 2, others 8-byte minus 1 */
			buf[l4 + 1] = s->ext_type[i] == 51 ? 2 : 1;
			l4 += 16;
		}
	} else {
		l4 = l3 + 20 + s->ip_opt_words * 4;
		buf[l3] = 0x40 | (5 + s->ip_opt_words);
		xi_put_be16(buf + l3 + 6, s->frag_off);
		buf[l3 + 8] = 64;
		buf[l3 + 9] = proto;
		memcpy(buf + l3 + 12, s->src, 4);
		memcpy(buf + l3 + 16, s->dst, 4);
		for (int i = 0; i < s->ip_opt_words * 4; i++)
			buf[l3 + 20 + i] = 1;   /* NOP options */
	}
	xi_put_be16(buf + l4, s->sport);
	xi_put_be16(buf + l4 + 2, s->dport);
	xi_put_be16(buf + l4 + 4, (uint16_t)(8 + s->payload_len));
	if (s->payload_len)
		memcpy(buf + l4 + 8, s->payload, s->payload_len);
	iplen = l4 + 8 + s->payload_len - l3;
	if (s->family == 6)
		xi_put_be16(buf + l3 + 4, (uint16_t)(iplen - 40));
	else
		xi_put_be16(buf + l3 + 2, (uint16_t)iplen);
	return l3 + iplen;
}

struct rtp_spec {
	uint32_t ssrc, ts;
	uint16_t seq;
	uint8_t pt, marker;
	int n_csrc;
	int ext_words;              /* -1: no extension */
	int pad;                    /* padding bytes, 0: P clear */
	size_t body;                /* payload bytes */
};

static inline size_t rtp_build(uint8_t *p, const struct rtp_spec *r)
{
	size_t off = 12;

	p[0] = 0x80 | (r->pad ? 0x20 : 0) | (r->ext_words >= 0 ? 0x10 : 0) | r->n_csrc;
	p[1] = (uint8_t)(r->marker << 7 | r->pt);
	xi_put_be16(p + 2, r->seq);
	xi_put_be32(p + 4, r->ts);
	xi_put_be32(p + 8, r->ssrc);
	for (int i = 0; i < r->n_csrc; i++, off += 4)
		xi_put_be32(p + off, 0x1000 + i);
	if (r->ext_words >= 0) {
		xi_put_be16(p + off, 0xbede);
		xi_put_be16(p + off + 2, (uint16_t)r->ext_words);
		memset(p + off + 4, 0, r->ext_words * 4);
		off += 4 + r->ext_words * 4;
	}
	memset(p + off, 0xab, r->body);
	off += r->body;
	if (r->pad) {
		memset(p + off, 0, r->pad);
		off += r->pad;
		p[off - 1] = (uint8_t)r->pad;
	}
	return off;
}

/* A sender report: 28 bytes, sender SSRC at 4. */
static inline size_t rtcp_sr_build(uint8_t *p, uint32_t ssrc)
{
	memset(p, 0, 28);
	p[0] = 0x80;
	p[1] = 200;
	xi_put_be16(p + 2, 6);
	xi_put_be32(p + 4, ssrc);
	return 28;
}

#endif
