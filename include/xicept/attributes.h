/* SPDX-License-Identifier: MIT */
/*
 * Per-packet attributes, pion's interceptor.Attributes in C: a small
 * fixed-capacity key/value bag, plus a cache of the packet's parsed RTP
 * header or RTCP compound so that the interceptors of a chain parse a packet
 * once between them (pion's GetRTPHeader and GetRTCPPackets).
 *
 * The type is complete so the engine can keep one per packet on the stack or
 * in a ring without allocating. A zeroed struct is empty; so is one after
 * xi_attributes_reset().
 */
#ifndef XICEPT_ATTRIBUTES_H
#define XICEPT_ATTRIBUTES_H

#include <xicept/export.h>
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <xicept/rtp.h>
#include <xicept/rtcp.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XI_ATTRIBUTES_MAX 16

/* Keys below XI_ATTR_USER_BASE belong to xicept; 0 is never a key. */
enum xi_attr_key {
	XI_ATTR_CONN_ID = 1,      /* u64: the connection the packet belongs to */
	XI_ATTR_ARRIVAL_NS = 2,   /* u64: CLOCK_MONOTONIC receive time */
	XI_ATTR_FRAME = 3,        /* ptr: the whole Ethernet frame as received */
	XI_ATTR_FRAME_LEN = 4,    /* u64: its length in bytes */
	/* u64: how many of those bytes were captured; absent: all. Past it
	 * the frame holds zeros (a tap copy keeps only what observers read). */
	XI_ATTR_FRAME_CAPLEN = 5,
	/* u64, SRTP connections only: the bytes after the payload of an SRTP
	 * packet read or written here (its authentication tag), which payload
	 * octet counts leave out. Absent: plain RTP. */
	XI_ATTR_SRTP_TRAILER = 6,
	/* u64 1 on a write: the packet is plain RTP that xicept originates
	 * (an RTX retransmission); the connection's writer protects it with
	 * the out keys. Absent: the packet is sent as it is (on SRTP, an SRTP
	 * packet that left before, resent). */
	XI_ATTR_SRTP_PLAIN = 7,
	XI_ATTR_USER_BASE = 0x10000,
};

enum xi_attr_type {
	XI_ATTR_U64 = 1,
	XI_ATTR_PTR = 2,
};

struct xi_attr {
	uint32_t key;
	enum xi_attr_type type;
	union {
		uint64_t u64;
		void *ptr;
	};
};

/* Fields are the library's; use the functions. */
struct xi_attributes {
	size_t n;
	struct xi_attr items[XI_ATTRIBUTES_MAX];

	/* Parse cache: valid while the same (buf, len) is asked for. */
	bool rtp_cached;
	const uint8_t *rtp_buf;
	size_t rtp_len;
	struct xi_rtp_header rtp;

	bool rtcp_cached;
	const uint8_t *rtcp_buf;
	size_t rtcp_len;
	struct xi_rtcp_compound rtcp;
};

/* Empties the bag and the parse cache. NULL is fine. */
XI_API void xi_attributes_reset(struct xi_attributes *attrs);

/* Set overwrites a key's value and type; a new key past XI_ATTRIBUTES_MAX gives
 * -ENOSPC. Get gives -ENOENT for a missing key and -EINVAL when the key holds
 * the other type. Key 0 is -EINVAL. */
XI_API int xi_attributes_set_u64(struct xi_attributes *attrs, uint32_t key, uint64_t value);
XI_API int xi_attributes_set_ptr(struct xi_attributes *attrs, uint32_t key, void *value);
XI_API int xi_attributes_get_u64(const struct xi_attributes *attrs, uint32_t key, uint64_t *ret);
XI_API int xi_attributes_get_ptr(const struct xi_attributes *attrs, uint32_t key, void **ret);
/* 0, or -ENOENT when the key was not there. */
XI_API int xi_attributes_del(struct xi_attributes *attrs, uint32_t key);
XI_API size_t xi_attributes_len(const struct xi_attributes *attrs);

/*
 * The RTP header of buf[0..len), parsed on the first call and served from the
 * cache on later calls with the same buf and len. *ret points into attrs and
 * stays valid until the next reset or invalidate. Parse errors are returned
 * and not cached. A call with another buffer parses it and replaces the cache.
 */
XI_API int xi_attributes_rtp_header(struct xi_attributes *attrs, const uint8_t *buf, size_t len,
			     const struct xi_rtp_header **ret);
/* The same for an RTCP compound packet. */
XI_API int xi_attributes_rtcp(struct xi_attributes *attrs, const uint8_t *buf, size_t len,
		       const struct xi_rtcp_compound **ret);

/* Forgets the parsed RTP and RTCP; call after rewriting the packet in place. */
XI_API void xi_attributes_invalidate(struct xi_attributes *attrs);

#ifdef __cplusplus
}
#endif
#endif
