// SPDX-License-Identifier: MIT
/*
 * A connection's SRTP contexts, on libsrtp2 (the 2.x in-place API):
 *   rx     the in keys, inbound: the remote's SRTCP, unprotected for the
 *          interceptors;
 *   tx     the out keys, outbound: what xicept itself sends (its SRTCP, on a
 *          sender SSRC no stream of the connection uses, and RTX on the RTX
 *          SSRCs), so its indices never meet the application's;
 *   local  the out keys, inbound, with the widest replay window: copies of
 *          packets the application sent, unprotected when nack-responder
 *          needs their plaintext.
 * The key material is copied into libsrtp's contexts and wiped here.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <srtp2/srtp.h>

#include <xicept/srtp.h>

#define LOCAL_WINDOW 0x7fff   /* the widest libsrtp takes */

struct xi_srtp_conn {
	srtp_t rx, tx, local;
	enum xi_srtp_profile in, out;
	/* The out key again, for the local context's per-SSRC streams, made
	 * when a copy's rollover counter must be set before its first packet. */
	uint8_t out_key[SRTP_MAX_KEY_LEN];
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static srtp_err_status_t init_status;

static void lib_init(void)
{
	init_status = srtp_init();
}

static int policy_make(const struct xi_srtp_key *k, srtp_ssrc_type_t type, uint32_t ssrc,
		       unsigned long window, uint8_t *keybuf, srtp_policy_t *pol)
{
	size_t kl = xi_srtp_profile_key_len(k->profile), sl = xi_srtp_profile_salt_len(k->profile);

	if (!kl || kl + sl > SRTP_MAX_KEY_LEN)
		return -EINVAL;
	memset(pol, 0, sizeof(*pol));
	if (srtp_crypto_policy_set_from_profile_for_rtp(&pol->rtp, (srtp_profile_t)k->profile) ||
	    srtp_crypto_policy_set_from_profile_for_rtcp(&pol->rtcp, (srtp_profile_t)k->profile))
		return -EPROTONOSUPPORT;
	memcpy(keybuf, k->key, kl);
	memcpy(keybuf + kl, k->salt, sl);
	pol->key = keybuf;
	pol->ssrc.type = type;
	pol->ssrc.value = ssrc;
	pol->window_size = window;
	return 0;
}

static int session_make(const struct xi_srtp_key *k, srtp_ssrc_type_t type, unsigned long window,
			srtp_t *ret)
{
	uint8_t keybuf[SRTP_MAX_KEY_LEN];
	srtp_policy_t pol;
	int r = policy_make(k, type, 0, window, keybuf, &pol);

	if (!r && srtp_create(ret, &pol) != srtp_err_status_ok)
		r = -EINVAL;
	OPENSSL_cleanse(keybuf, sizeof(keybuf));
	return r;
}

int xi_srtp_conn_new(const struct xi_srtp_keys *keys, struct xi_srtp_conn **ret)
{
	struct xi_srtp_conn *s;
	size_t kl, sl;
	int r;

	if (!keys || !ret)
		return -EINVAL;
	pthread_once(&init_once, lib_init);
	if (init_status != srtp_err_status_ok)
		return -EIO;
	kl = xi_srtp_profile_key_len(keys->out.profile);
	sl = xi_srtp_profile_salt_len(keys->out.profile);
	if (!kl || !xi_srtp_profile_key_len(keys->in.profile))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->in = keys->in.profile;
	s->out = keys->out.profile;
	memcpy(s->out_key, keys->out.key, kl);
	memcpy(s->out_key + kl, keys->out.salt, sl);
	r = session_make(&keys->in, ssrc_any_inbound, 0, &s->rx);
	if (!r)
		r = session_make(&keys->out, ssrc_any_outbound, 0, &s->tx);
	if (!r)
		r = session_make(&keys->out, ssrc_any_inbound, LOCAL_WINDOW, &s->local);
	if (r) {
		xi_srtp_conn_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void xi_srtp_conn_free(struct xi_srtp_conn *s)
{
	if (!s)
		return;
	if (s->rx)
		srtp_dealloc(s->rx);
	if (s->tx)
		srtp_dealloc(s->tx);
	if (s->local)
		srtp_dealloc(s->local);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

enum xi_srtp_profile xi_srtp_conn_profile(const struct xi_srtp_conn *s, bool out)
{
	return s ? (out ? s->out : s->in) : XI_SRTP_NONE;
}

static int status_errno(srtp_err_status_t st)
{
	switch (st) {
	case srtp_err_status_ok:
		return 0;
	case srtp_err_status_auth_fail:
		return -EACCES;
	case srtp_err_status_replay_fail:
	case srtp_err_status_replay_old:
		return -EALREADY;
	case srtp_err_status_alloc_fail:
		return -ENOMEM;
	default:
		return -EBADMSG;
	}
}

/* libsrtp takes lengths as int. */
static int len_in(size_t len, size_t room, int *ret)
{
	if (len > (size_t)0x7fffffff - XI_SRTP_GROWTH_MAX || room < len + XI_SRTP_GROWTH_MAX)
		return -ENOSPC;
	*ret = (int)len;
	return 0;
}

int xi_srtp_unprotect_rtcp(struct xi_srtp_conn *s, uint8_t *pkt, size_t *len)
{
	int n;

	if (!s || !pkt || !len)
		return -EINVAL;
	if (*len < 8 + 4 || *len > 0x7fffffff)
		return -EBADMSG;
	n = (int)*len;
	n = status_errno(srtp_unprotect_rtcp(s->rx, pkt, &n)) ?: n;
	if (n < 0)
		return n;
	*len = (size_t)n;
	return 0;
}

int xi_srtp_protect_rtcp(struct xi_srtp_conn *s, uint8_t *pkt, size_t *len, size_t cap)
{
	int n, r;

	if (!s || !pkt || !len)
		return -EINVAL;
	if (*len < 8)
		return -EBADMSG;
	r = len_in(*len, cap, &n);
	if (!r)
		r = status_errno(srtp_protect_rtcp(s->tx, pkt, &n));
	if (!r)
		*len = (size_t)n;
	return r;
}

int xi_srtp_protect_rtp(struct xi_srtp_conn *s, uint8_t *pkt, size_t *len, size_t cap)
{
	int n, r;

	if (!s || !pkt || !len)
		return -EINVAL;
	if (*len < 12)
		return -EBADMSG;
	r = len_in(*len, cap, &n);
	if (!r)
		r = status_errno(srtp_protect(s->tx, pkt, &n));
	if (!r)
		*len = (size_t)n;
	return r;
}

/* The local context's stream of ssrc, made now so that its rollover counter
 * can be set before its first packet. */
static int local_stream_add(struct xi_srtp_conn *s, uint32_t ssrc)
{
	struct xi_srtp_key k = { .profile = s->out };
	size_t kl = xi_srtp_profile_key_len(s->out);
	uint8_t keybuf[SRTP_MAX_KEY_LEN];
	srtp_policy_t pol;
	int r;

	memcpy(k.key, s->out_key, kl);
	memcpy(k.salt, s->out_key + kl, xi_srtp_profile_salt_len(s->out));
	r = policy_make(&k, ssrc_specific, ssrc, LOCAL_WINDOW, keybuf, &pol);
	if (!r && srtp_add_stream(s->local, &pol) != srtp_err_status_ok)
		r = -ENOMEM;
	OPENSSL_cleanse(keybuf, sizeof(keybuf));
	OPENSSL_cleanse(&k, sizeof(k));
	return r;
}

int xi_srtp_unprotect_local_rtp(struct xi_srtp_conn *s, uint8_t *pkt, size_t *len, uint32_t roc)
{
	uint32_t ssrc;
	int n, r;

	if (!s || !pkt || !len)
		return -EINVAL;
	if (*len < 12 || *len > 0x7fffffff)
		return -EBADMSG;
	ssrc = (uint32_t)pkt[8] << 24 | (uint32_t)pkt[9] << 16 | (uint32_t)pkt[10] << 8 | pkt[11];
	if (srtp_set_stream_roc(s->local, ssrc, roc) != srtp_err_status_ok) {
		r = local_stream_add(s, ssrc);
		if (r)
			return r;
		if (srtp_set_stream_roc(s->local, ssrc, roc) != srtp_err_status_ok)
			return -EIO;
	}
	n = (int)*len;
	r = status_errno(srtp_unprotect(s->local, pkt, &n));
	if (!r)
		*len = (size_t)n;
	return r;
}
