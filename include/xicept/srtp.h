/* SPDX-License-Identifier: MIT */
/*
 * SRTP keys of a connection, per direction, and the SRTP work the engine
 * does with them (libsrtp2 underneath: no cipher code of ours).
 *
 * A connection's media is SRTP (RFC 3711): the RTP headers stay readable,
 * so the fast path observes them without keys, but what xicept reads inside
 * RTCP, and every RTCP packet it emits, needs the keys:
 *   in:  the master key and salt of what the remote sends; its SRTCP is
 *        unprotected with them before interceptors read it;
 *   out: those of what the local endpoint (the application) sends; xicept
 *        protects the RTCP it emits with them, and reads copies of the
 *        local streams through them (nack-responder's RTX).
 *
 * Keys are secrets: nothing here prints them, and the data plane keeps them
 * in files readable by root alone (dataplane.h, xi_conn_spec.srtp).
 */
#ifndef XICEPT_SRTP_H
#define XICEPT_SRTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xicept/error.h>
#include <xicept/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The profiles, numbered as RFC 5764's DTLS-SRTP protection profiles. */
enum xi_srtp_profile {
	XI_SRTP_NONE = 0,
	XI_SRTP_AES128_CM_SHA1_80 = 0x0001,   /* AES_CM_128_HMAC_SHA1_80 */
	XI_SRTP_AES128_CM_SHA1_32 = 0x0002,   /* AES_CM_128_HMAC_SHA1_32 */
	XI_SRTP_AEAD_AES_128_GCM = 0x0007,
	XI_SRTP_AEAD_AES_256_GCM = 0x0008,
};

#define XI_SRTP_KEY_MAX  32
#define XI_SRTP_SALT_MAX 14

/* A master key and salt of one direction. */
struct xi_srtp_key {
	enum xi_srtp_profile profile;
	uint8_t key[XI_SRTP_KEY_MAX];     /* key_len bytes of the profile */
	uint8_t salt[XI_SRTP_SALT_MAX];   /* salt_len bytes */
};

struct xi_srtp_keys {
	struct xi_srtp_key in;            /* what the remote sends */
	struct xi_srtp_key out;           /* what the local endpoint sends */
};

/* The profile's SDES name ("AES_CM_128_HMAC_SHA1_80"), NULL for none. */
XI_API const char *xi_srtp_profile_name(enum xi_srtp_profile p);
/* By SDES name; XI_SRTP_NONE when unknown. */
XI_API enum xi_srtp_profile xi_srtp_profile_by_name(const char *name);
XI_API size_t xi_srtp_profile_key_len(enum xi_srtp_profile p);
XI_API size_t xi_srtp_profile_salt_len(enum xi_srtp_profile p);
/* Bytes an SRTP packet of the profile carries after its (encrypted)
 * payload: the authentication tag (no MKI: xicept's keys carry none). */
XI_API size_t xi_srtp_profile_rtp_trailer(enum xi_srtp_profile p);

/*
 * The text of a key file or of apply's "srtp": two lines, RFC 4568 (SDES)
 * crypto attribute syntax, in either order:
 *   in PROFILE inline:BASE64
 *   out PROFILE inline:BASE64
 * BASE64 is the master key followed by the master salt. Lifetimes and MKIs
 * (|2^31, |1:4) are refused: xicept does no rekeying. Blank lines and lines
 * starting with '#' are skipped. On failure err says what is wrong, without
 * quoting any key material, and *ret is left zeroed.
 */
XI_API int xi_srtp_keys_parse(const char *text, struct xi_srtp_keys *ret, struct xi_err *err);
/* One direction's "PROFILE inline:BASE64". */
XI_API int xi_srtp_key_parse(const char *text, struct xi_srtp_key *ret, struct xi_err *err);
/* The inverse of xi_srtp_keys_parse, NUL-terminated, into buf (cap bytes,
 * at least XI_SRTP_KEYS_TEXT_MAX). Length, or -ENOSPC / -EINVAL. */
#define XI_SRTP_KEYS_TEXT_MAX 256
XI_API int xi_srtp_keys_format(const struct xi_srtp_keys *keys, char *buf, size_t cap);

/*
 * Keys read from a file a local user could not have read or replaced: a
 * regular file owned by root (or the caller's euid) with no group or other
 * permission bits. path "-" reads standard input (not checked: a pipe).
 */
XI_API int xi_srtp_keys_read_file(const char *path, struct xi_srtp_keys *ret, struct xi_err *err);
/* The same check on a file an application names (apply's JSON file). */
XI_API int xi_srtp_file_check(const char *path, struct xi_err *err);

/*
 * DTLS-SRTP (RFC 5764 4.2): the keying material exported from the DTLS
 * session as EXTRACTOR-dtls_srtp, of 2 * (key_len + salt_len) bytes laid out
 * client_write_key | server_write_key | client_write_salt | server_write_salt.
 * dtls_client says the local endpoint's DTLS role: the client writes with
 * the client's keys, so they become out (and the server's in); the reverse
 * for a server.
 */
XI_API int xi_srtp_keys_from_dtls(enum xi_srtp_profile profile, const uint8_t *material,
				  size_t len, bool dtls_client, struct xi_srtp_keys *ret);

/* Overwrites key material (not optimized away). */
XI_API void xi_srtp_keys_wipe(struct xi_srtp_keys *keys);

/*
 * One connection's SRTP contexts, for the engine and for interceptors that
 * get it in their xi_build_ctx (srtp): an inbound one with the in keys (the
 * remote's SRTCP), an outbound one with the out keys (what xicept emits),
 * and an inbound one with the out keys (copies of what the application
 * sent). Not thread-safe: the engine calls it under the connection's lock.
 */
struct xi_srtp_conn;

XI_API int xi_srtp_conn_new(const struct xi_srtp_keys *keys, struct xi_srtp_conn **ret);
XI_API void xi_srtp_conn_free(struct xi_srtp_conn *s);
XI_API enum xi_srtp_profile xi_srtp_conn_profile(const struct xi_srtp_conn *s, bool out);

/* The most an SRTP or SRTCP packet grows when protected. */
#define XI_SRTP_GROWTH_MAX 148   /* libsrtp2's SRTP_MAX_TRAILER_LEN + the E|index word */

/* Incoming SRTCP, unprotected in place: 0 with *len the plain compound's
 * length, -EACCES when it fails authentication, -EALREADY for a replay
 * (an index seen already), -EBADMSG when too short to be SRTCP. */
XI_API int xi_srtp_unprotect_rtcp(struct xi_srtp_conn *s, uint8_t *pkt, size_t *len);
/* A compound xicept emits, protected in place with the out keys; cap is the
 * buffer's size (len + XI_SRTP_GROWTH_MAX is always enough). */
XI_API int xi_srtp_protect_rtcp(struct xi_srtp_conn *s, uint8_t *pkt, size_t *len, size_t cap);
/* An RTP packet xicept originates (an RTX retransmission), protected in
 * place with the out keys on its own SSRC's context. */
XI_API int xi_srtp_protect_rtp(struct xi_srtp_conn *s, uint8_t *pkt, size_t *len, size_t cap);
/* A copy of an SRTP packet the application sent, unprotected in place with
 * the out keys. roc is the packet's rollover counter (its extended
 * sequence number >> 16), as the copy's reader counted it. -EACCES when it
 * does not authenticate, -EALREADY for an index unprotected before (the
 * replay window spans 32767 packets): keep the plain copy. */
XI_API int xi_srtp_unprotect_local_rtp(struct xi_srtp_conn *s, uint8_t *pkt, size_t *len,
				       uint32_t roc);

#ifdef __cplusplus
}
#endif
#endif
