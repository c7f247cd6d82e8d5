// SPDX-License-Identifier: MIT
/*
 * IP + UDP datagrams for the AF_XDP engine: lengths, checksums and emitted
 * frames. See user/lib/udp_frame.[ch].
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "user/lib/bytes.h"
#include "user/lib/udp_frame.h"

#define IP4_TTL         64

uint32_t xi_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t s = sum;

	for (; len >= 2; p += 2, len -= 2)
		s += (uint32_t)p[0] << 8 | p[1];
	if (len)
		s += (uint32_t)p[0] << 8;
	while (s >> 32)
		s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

uint16_t xi_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

int xi_ip_datagram_len(const uint8_t *l3, size_t avail)
{
	size_t n;

	if (avail < 1)
		return -EBADMSG;
	if (l3[0] >> 4 == 4) {
		if (avail < XI_IP4_HDR_LEN)
			return -EBADMSG;
		n = xi_get_be16(l3 + 2);
		if (n < (size_t)(l3[0] & 0x0f) * 4)
			return -EBADMSG;
	} else if (l3[0] >> 4 == 6) {
		if (avail < XI_IP6_HDR_LEN)
			return -EBADMSG;
		n = XI_IP6_HDR_LEN + (size_t)xi_get_be16(l3 + 4);
	} else {
		return -EBADMSG;
	}
	return n <= avail ? (int)n : -EBADMSG;
}

/* The one's-complement sum of the pseudo-header: IPv4's (zero, protocol,
 * length) and IPv6's (32-bit length, zeros, next header) give the same sum. */
static uint32_t pseudo_sum(const uint8_t *l3, size_t udp_len)
{
	uint8_t tail[4] = { 0, IPPROTO_UDP, (uint8_t)(udp_len >> 8), (uint8_t)udp_len };
	uint32_t sum;

	if (l3[0] >> 4 == 4)
		sum = xi_csum_add(0, l3 + 12, 8);
	else
		sum = xi_csum_add(0, l3 + 8, 32);
	return xi_csum_add(sum, tail, sizeof(tail));
}

/* UDP checksum over the pseudo-header of the datagram at l3 (RFC 768 for
 * IPv4, RFC 8200 8.1 for IPv6: the upper-layer length is the UDP length
 * either way, and the extension headers are not part of it). */
static uint16_t udp_csum(const uint8_t *l3, const uint8_t *udp, size_t udp_len)
{
	uint32_t sum = pseudo_sum(l3, udp_len);
	uint16_t c;

	sum = xi_csum_add(sum, udp, 6);               /* ports and length */
	sum = xi_csum_add(sum, udp + 8, udp_len - 8); /* all but the checksum field */
	c = xi_csum_fold(sum);
	return c ? c : 0xffff;
}

int xi_udp_csum_complete(uint8_t *l3, size_t l4_off, size_t avail)
{
	uint8_t *udp = l3 + l4_off;
	size_t udp_len;
	uint16_t have, partial;

	if (l4_off + XI_UDP_HDR_LEN > avail)
		return -EBADMSG;
	udp_len = xi_get_be16(udp + 4);
	if (udp_len < XI_UDP_HDR_LEN || l4_off + udp_len > avail)
		return -EBADMSG;
	have = xi_get_be16(udp + 6);
	if (have == 0 && l3[0] >> 4 == 4)
		return 0;   /* IPv4 without a checksum */
	if (have == udp_csum(l3, udp, udp_len))
		return 0;
	/* CHECKSUM_PARTIAL leaves the folded pseudo-header sum, not inverted,
	 * for the device to finish (ip_summed in skbuff.h). */
	partial = (uint16_t)~xi_csum_fold(pseudo_sum(l3, udp_len));
	if (have != partial)
		return -EBADMSG;
	xi_put_be16(udp + 6, udp_csum(l3, udp, udp_len));
	return 1;
}

static void ip4_csum_set(uint8_t *l3)
{
	size_t hlen = (size_t)(l3[0] & 0x0f) * 4;

	xi_put_be16(l3 + 10, 0);
	xi_put_be16(l3 + 10, xi_csum_fold(xi_csum_add(0, l3, hlen)));
}

int xi_udp_datagram_fix(uint8_t *l3, size_t l4_off, size_t payload_len)
{
	size_t udp_len = XI_UDP_HDR_LEN + payload_len;
	uint8_t *udp = l3 + l4_off;
	bool v4 = l3[0] >> 4 == 4;

	if (l4_off + udp_len > 0xffff || (!v4 && l4_off < XI_IP6_HDR_LEN))
		return -EINVAL;
	xi_put_be16(udp + 4, (uint16_t)udp_len);
	if (v4) {
		xi_put_be16(l3 + 2, (uint16_t)(l4_off + udp_len));
		ip4_csum_set(l3);
		/* IPv4 allows no checksum; a sender that sent none keeps it so. */
		if (xi_get_be16(udp + 6) == 0)
			return 0;
	} else {
		xi_put_be16(l3 + 4, (uint16_t)(l4_off + udp_len - XI_IP6_HDR_LEN));
	}
	xi_put_be16(udp + 6, udp_csum(l3, udp, udp_len));
	return 0;
}

static size_t ip_header_write(uint8_t *l3, const struct xi_endpoint *src,
			      const struct xi_endpoint *dst, uint16_t ip_id, size_t udp_len)
{
	if (src->family == AF_INET) {
		memset(l3, 0, XI_IP4_HDR_LEN);
		l3[0] = 0x45;
		xi_put_be16(l3 + 2, (uint16_t)(XI_IP4_HDR_LEN + udp_len));
		xi_put_be16(l3 + 4, ip_id);
		xi_put_be16(l3 + 6, 0x4000);   /* DF: RTCP is small, never fragmented */
		l3[8] = IP4_TTL;
		l3[9] = IPPROTO_UDP;
		memcpy(l3 + 12, src->addr, 4);
		memcpy(l3 + 16, dst->addr, 4);
		ip4_csum_set(l3);
		return XI_IP4_HDR_LEN;
	}
	memset(l3, 0, XI_IP6_HDR_LEN);
	l3[0] = 0x60;
	xi_put_be16(l3 + 4, (uint16_t)udp_len);
	l3[6] = IPPROTO_UDP;
	l3[7] = IP4_TTL;
	memcpy(l3 + 8, src->addr, 16);
	memcpy(l3 + 24, dst->addr, 16);
	return XI_IP6_HDR_LEN;
}

int xi_udp_frame_build(uint8_t *buf, size_t cap, const uint8_t *l2, size_t l2_len,
		       const struct xi_endpoint *src, const struct xi_endpoint *dst,
		       uint16_t ip_id, const uint8_t *payload, size_t len)
{
	size_t ip_len, udp_len = XI_UDP_HDR_LEN + len, total;
	uint8_t *l3, *udp;

	if (!buf || !l2 || !src || !dst || (len && !payload) || l2_len < 14 ||
	    l2_len > XI_L2_MAX || src->family != dst->family ||
	    (src->family != AF_INET && src->family != AF_INET6))
		return -EINVAL;
	ip_len = src->family == AF_INET ? XI_IP4_HDR_LEN : XI_IP6_HDR_LEN;
	total = l2_len + ip_len + udp_len;
	if (ip_len + udp_len > 0xffff || total > cap)
		return -ENOSPC;
	memcpy(buf, l2, l2_len);
	xi_put_be16(buf + l2_len - 2, src->family == AF_INET ? 0x0800 : 0x86dd);
	l3 = buf + l2_len;
	ip_header_write(l3, src, dst, ip_id, udp_len);
	udp = l3 + ip_len;
	xi_put_be16(udp, src->port);
	xi_put_be16(udp + 2, dst->port);
	xi_put_be16(udp + 4, (uint16_t)udp_len);
	memcpy(udp + 8, payload, len);
	xi_put_be16(udp + 6, udp_csum(l3, udp, udp_len));
	return (int)total;
}
