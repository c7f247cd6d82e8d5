/* SPDX-License-Identifier: MIT */
/*
 * IPv4/IPv6 + UDP packets for the AF_XDP engine: what a received frame's IP
 * datagram is, rewriting it after an interceptor changed its payload, and
 * building the frames emitted RTCP leaves in. Checksums are RFC 1071
 * (RFC 768 and RFC 8200 8.1 pseudo-headers); a UDP checksum that computes
 * to zero goes out as 0xffff, and IPv6 never sends zero.
 */
#ifndef XICEPT_UDP_FRAME_H
#define XICEPT_UDP_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include <xicept/dataplane.h>

#include "user/lib/net.h"


/* The one's-complement sum of data, added to sum (not folded). */
uint32_t xi_csum_add(uint32_t sum, const void *data, size_t len);
/* Folds a sum and complements it: the value a header carries. */
uint16_t xi_csum_fold(uint32_t sum);

/* Length of the IP datagram at l3 (IPv4 total length, or 40 + IPv6 payload
 * length), which may be shorter than avail (Ethernet padding). -EBADMSG when
 * the header is not there or claims more than avail. */
int xi_ip_datagram_len(const uint8_t *l3, size_t avail);

/* Rewrites the IP and UDP lengths and checksums of the datagram at l3 whose
 * UDP header is at l4_off (from l3) and whose payload was just replaced by
 * payload_len bytes. -EINVAL when it does not fit 16-bit lengths. */
int xi_udp_datagram_fix(uint8_t *l3, size_t l4_off, size_t payload_len);

/* A datagram from a local sender on a virtual device (veth, tap) may carry
 * the partial checksum of an offloaded transmit: the pseudo-header sum the
 * device was meant to finish. The kernel accepts those (CHECKSUM_PARTIAL)
 * but a copy handed back to it through a raw socket would fail, so this
 * finishes it.
 * l3[0..avail) holds the datagram, the UDP header at l4_off. Returns 1 when
 * it completed a partial checksum, 0 when the checksum was right or absent,
 * -EBADMSG when it is neither (left as is: the stack drops it, as it would
 * have without xicept). */
int xi_udp_csum_complete(uint8_t *l3, size_t l4_off, size_t avail);

/* Writes l2 (l2_len bytes: Ethernet, maybe VLAN tags, ethertype last) then an
 * IP + UDP header from src to dst (same family) and the payload, with valid
 * checksums. ip_id is the IPv4 identification. Returns the frame length,
 * -EINVAL (families, l2 length) or -ENOSPC. */
int xi_udp_frame_build(uint8_t *buf, size_t cap, const uint8_t *l2, size_t l2_len,
		       const struct xi_endpoint *src, const struct xi_endpoint *dst,
		       uint16_t ip_id, const uint8_t *payload, size_t len);

#endif
