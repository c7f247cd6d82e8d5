/* SPDX-License-Identifier: MIT */
/*
 * RTP header parsing and writing (RFC 3550 section 5.1) with header
 * extensions in the one-byte and two-byte forms of RFC 8285.
 *
 * Parsing makes no copy and no allocation: extension elements are recorded
 * as (id, length, offset into the packet), so the caller reads them from the
 * buffer it parsed.
 *
 * Errors, here and in rtcp.h:
 *   -EINVAL           a NULL argument, or a value that cannot be written
 *   -EBADMSG          malformed or truncated input
 *   -EPROTONOSUPPORT  an RTP/RTCP version other than 2
 *   -ENOSPC           the output buffer or array is too small
 *   -E2BIG            more elements than the fixed-size result can record
 *   -ENOENT           the thing looked up is not there
 *   -ERANGE           an index past the end of a list
 */
#ifndef XICEPT_RTP_H
#define XICEPT_RTP_H

#include <xicept/export.h>
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XI_RTP_VERSION      2
#define XI_RTP_FIXED_LEN    12   /* bytes before the CSRC list */
#define XI_RTP_MAX_CSRC     15
#define XI_RTP_EXT_MAX      16   /* extension elements one header records */

#define XI_RTP_EXT_PROFILE_ONE_BYTE 0xBEDEu
#define XI_RTP_EXT_PROFILE_TWO_BYTE 0x1000u   /* low nibble: appbits */

enum xi_rtp_ext_kind {
	XI_RTP_EXT_NONE = 0,   /* X bit clear */
	XI_RTP_EXT_ONE_BYTE,   /* profile 0xBEDE: ids 1..14, 1..16 bytes each */
	XI_RTP_EXT_TWO_BYTE,   /* profile 0x100X: ids 1..255, 0..255 bytes each */
	XI_RTP_EXT_OPAQUE,     /* any other profile: one block, not split */
};

struct xi_rtp_ext_elem {
	uint8_t id;
	uint8_t len;        /* bytes of data */
	uint32_t offset;    /* of the data, from the start of the packet */
};

struct xi_rtp_header {
	uint8_t version;
	bool padding;
	bool extension;
	bool marker;
	uint8_t csrc_count;
	uint8_t payload_type;
	uint16_t seq;
	uint32_t timestamp;
	uint32_t ssrc;
	uint32_t csrc[XI_RTP_MAX_CSRC];

	enum xi_rtp_ext_kind ext_kind;
	uint16_t ext_profile;     /* the 16 "defined by profile" bits */
	uint8_t ext_appbits;      /* XI_RTP_EXT_TWO_BYTE: the profile's low nibble */
	uint32_t ext_offset;      /* extension data, after its 4-byte header */
	uint32_t ext_len;         /* bytes of extension data (a multiple of 4) */
	uint8_t n_ext;            /* elements recorded in ext[] (one- and two-byte) */
	struct xi_rtp_ext_elem ext[XI_RTP_EXT_MAX];

	size_t header_len;        /* fixed + CSRCs + extension */
	size_t payload_offset;    /* == header_len */
	size_t payload_len;
	size_t padding_len;       /* including the count octet; 0 without P */
};

/*
 * Parses the RTP header of pkt[0..len). Padding must fit after the header
 * and its count octet must not be 0. In the one-byte form, a byte with id 0
 * is one byte of padding and id 15 ends the element list (RFC 8285 4.2); in
 * the two-byte form a zero id byte is one byte of padding. More than
 * XI_RTP_EXT_MAX elements gives -E2BIG. *ret is only written on success.
 */
XI_API int xi_rtp_header_parse(const uint8_t *pkt, size_t len, struct xi_rtp_header *ret);
/* The header of an SRTP packet whose last trailer bytes are its
 * authentication tag (XI_ATTR_SRTP_TRAILER; 0 parses as plain RTP): the
 * padding is encrypted, so padding_len is 0 and payload_len is what lies
 * between the header and the tag. */
XI_API int xi_srtp_header_parse(const uint8_t *pkt, size_t len, size_t trailer,
				struct xi_rtp_header *ret);

/* The first element with this id: 0 and its offset and length (either ret
 * pointer may be NULL), or -ENOENT. */
XI_API int xi_rtp_header_ext_find(const struct xi_rtp_header *hdr, uint8_t id,
			   size_t *ret_offset, size_t *ret_len);

/* One extension element to write. */
struct xi_rtp_ext_data {
	uint8_t id;
	uint16_t len;
	const uint8_t *data;   /* may be NULL when len is 0 */
};

/*
 * Writes hdr's fixed fields (version 2, hdr->padding copied as-is), its CSRC
 * list, and, unless hdr->ext_kind is XI_RTP_EXT_NONE, an extension of that
 * kind holding exts[0..n_exts) in order and zero-padded to a 32-bit boundary.
 * hdr->extension, ext_offset/len and ext[] are ignored.
 * XI_RTP_EXT_OPAQUE takes exactly one block, a multiple of 4 bytes long,
 * under hdr->ext_profile. The payload and any padding are the caller's.
 * Returns the header length, -ENOSPC, or -EINVAL for a CSRC count over 15,
 * a payload type over 127, or an id or length the chosen form cannot carry.
 */
XI_API int xi_rtp_header_write(const struct xi_rtp_header *hdr,
			const struct xi_rtp_ext_data *exts, size_t n_exts,
			uint8_t *buf, size_t cap);

/* The bytes xi_rtp_header_write would need. */
XI_API int xi_rtp_header_size(const struct xi_rtp_header *hdr,
		       const struct xi_rtp_ext_data *exts, size_t n_exts);

#ifdef __cplusplus
}
#endif
#endif
