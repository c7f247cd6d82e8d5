// SPDX-License-Identifier: MIT
/*
 * The engine on an SRTP connection, against a remote emulated with its own
 * keys (in and out swapped): what xicept emits, the remote's SRTP stack
 * accepts; what the remote sends in SRTCP, the interceptors read in plain;
 * forged and replayed SRTCP reach none of them and are counted; RTX is the
 * original's plaintext, protected on the RTX SSRC. t92 does the same with
 * real peers.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <xicept/dataplane.h>
#include <xicept/error.h>
#include <xicept/rtcp.h>
#include <xicept/srtp.h>

#include "bpf/xi_veth.h"
#include "user/dataplane/swap.h"
#include "user/engine/conns.h"
#include "user/lib/bytes.h"
#include "user/lib/udp_frame.h"

#define EMIT_MAX 64

static struct veth_dp v;
static struct xi_endpoint local, remote;
static uint8_t emitted[EMIT_MAX][1600];
static size_t emitted_len[EMIT_MAX], n_emitted;

static int emit(void *user, uint32_t queue, const uint8_t *frame, size_t len)
{
	if (n_emitted == EMIT_MAX || len > sizeof(emitted[0]))
		return -ENOBUFS;
	memcpy(emitted[n_emitted], frame, len);
	emitted_len[n_emitted++] = len;
	return 0;
}

static void key_make(enum xi_srtp_profile p, uint8_t seed, struct xi_srtp_key *k)
{
	k->profile = p;
	for (int i = 0; i < XI_SRTP_KEY_MAX; i++)
		k->key[i] = (uint8_t)(seed + 5 * i);
	for (int i = 0; i < XI_SRTP_SALT_MAX; i++)
		k->salt[i] = (uint8_t)(seed + 11 * i);
}

/* A frame from `from` to `to` with payload, and the metadata XDP gives it. */
static size_t frame_make(uint8_t *buf, size_t cap, const struct xi_endpoint *from,
			 const struct xi_endpoint *to, const uint8_t *payload, size_t len,
			 uint32_t conn_id, uint32_t version, bool rtcp, struct xi_xsk_meta *m)
{
	static const uint8_t l2[14] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00 };
	int n = xi_udp_frame_build(buf, cap, l2, sizeof(l2), from, to, 1, payload, len);

	assert_true(n > 0);
	*m = (struct xi_xsk_meta){
		.now_ns = 1000000000ull, .magic = XI_XSK_META_MAGIC, .conn_id = conn_id,
		.ssrc = xi_get_be32(payload + (rtcp ? 4 : 8)), .l3_off = 14, .l4_off = 34,
		.payload_off = 42, .payload_len = (uint16_t)len, .resume = 0,
		.version = (uint16_t)version, .is_rtcp = rtcp,
	};
	return (size_t)n;
}

static size_t rtp_make(uint8_t *p, uint32_t ssrc, uint16_t seq, size_t payload)
{
	memset(p, 0, 12 + payload);
	p[0] = 0x80;
	p[1] = 96;
	xi_put_be16(p + 2, seq);
	xi_put_be32(p + 4, (uint32_t)seq * 3000u);
	xi_put_be32(p + 8, ssrc);
	for (size_t i = 0; i < payload; i++)
		p[12 + i] = (uint8_t)(seq * 7 + i);
	return 12 + payload;
}

static uint64_t ignored(int why)
{
	uint64_t c[XI_RTCP_BAD__MAX];

	assert_int_equal(xi_dataplane_rtcp_ignored(v.dp, c, XI_RTCP_BAD__MAX), 0);
	return c[why];
}

struct fixture {
	struct xi_srtp_keys keys;      /* xicept's */
	struct xi_srtp_conn *peer;     /* the remote: in = xicept's out, out = xicept's in */
	struct xi_engine_conns *t;
	struct xi_engine_worker *w;
	uint32_t id, version;
};

static void fixture_up(struct fixture *f, enum xi_srtp_profile p, const char *chain,
		       const char *local_stream)
{
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 2 };
	struct xi_engine_conns_cbs cbs = { .emit = emit };
	struct xi_conn_spec spec = { .has_srtp = true };
	struct xi_srtp_keys pk;
	struct xi_err err = { 0 };

	n_emitted = 0;
	key_make(p, 3, &f->keys.in);
	key_make(p, 41, &f->keys.out);
	pk.in = f->keys.out;
	pk.out = f->keys.in;
	assert_int_equal(xi_srtp_conn_new(&pk, &f->peer), 0);
	spec.local = local;
	spec.remote = remote;
	spec.srtp = f->keys;
	snprintf(spec.chain, sizeof(spec.chain), "%s", chain);
	if (local_stream) {
		assert_int_equal(xi_local_stream_spec_parse(local_stream, &spec.local_streams[0],
							    &err), 0);
		spec.n_local_streams = 1;
	}
	if (xi_dataplane_conn_add(v.dp, &spec, &f->id, &err))
		fail_msg("conn add: %s", err.msg);
	assert_int_equal(xi_dataplane_conn_version(v.dp, f->id, &f->version), 0);
	assert_int_equal(xi_engine_conns_new(v.dp, v.cat, mac, &cbs, &f->t), 0);
	assert_int_equal(xi_engine_conns_sync(f->t), 1);
	assert_int_equal(xi_engine_worker_new(f->t, &f->w), 0);
}

static void fixture_down(struct fixture *f)
{
	struct xi_err err;

	xi_engine_conns_free(f->t);
	xi_srtp_conn_free(f->peer);
	assert_int_equal(xi_dataplane_conn_del(v.dp, f->id, &err), 0);
}

/* Emitted frame i, unprotected by the remote: 0 and the plain compound. */
static int emitted_open(struct fixture *f, size_t i, uint8_t *buf, size_t *len)
{
	*len = emitted_len[i] - 42;
	memcpy(buf, emitted[i] + 42, *len);
	return xi_srtp_unprotect_rtcp(f->peer, buf, len);
}

/* The remote's SR of ssrc, as SRTCP, into the engine; what it delivered. */
static int remote_sr(struct fixture *f, uint32_t ssrc, uint64_t ntp, uint8_t *pkt, size_t *len,
		     int tamper)
{
	struct xi_rtcp_sr sr = { .ssrc = ssrc, .ntp = ntp, .rtp_ts = 1, .packet_count = 1 };
	uint8_t frame[512];
	struct xi_xsk_meta m;
	const uint8_t *l3;
	size_t fl, dl;
	int n = xi_rtcp_sr_write(&sr, NULL, 0, pkt, 256), r;

	assert_true(n > 0);
	*len = (size_t)n;
	if (tamper >= 0) {
		assert_int_equal(xi_srtp_protect_rtcp(f->peer, pkt, len, 256), 0);
		if (tamper)
			pkt[10] ^= 0x40;
	}
	fl = frame_make(frame, sizeof(frame), &remote, &local, pkt, *len, f->id, f->version, true, &m);
	r = xi_engine_conns_process(f->w, &m, 0, frame, fl, &l3, &dl);
	/* delivered as it came: the application's SRTCP, its business */
	assert_int_equal(r, 1);
	assert_int_equal(dl, 28 + *len);
	assert_memory_equal(l3 + 28, pkt, *len);
	return r;
}

static void test_emitted_srtcp(void **state)
{
	static const enum xi_srtp_profile all[] = {
		XI_SRTP_AES128_CM_SHA1_80, XI_SRTP_AES128_CM_SHA1_32,
		XI_SRTP_AEAD_AES_128_GCM, XI_SRTP_AEAD_AES_256_GCM,
	};

	for (size_t pi = 0; pi < sizeof(all) / sizeof(all[0]); pi++) {
		struct fixture f = { 0 };
		struct xi_rtcp_compound c;
		uint8_t rtp[256], frame[512], buf[512], sr[256];
		uint64_t auth0 = ignored(XI_RTCP_BAD_SRTCP_AUTH);
		size_t len, n, srl;
		bool nack = false, rr = false;

		fixture_up(&f, all[pi], "nack-generator interval=10ms ! receiver-report interval=10ms", NULL);
		/* SRTP media of 0x1234, seq 10..19 without 14 (a fake tag: the
		 * fast path and these observers read the header only) */
		for (uint16_t s = 10; s < 20; s++) {
			struct xi_xsk_meta m;
			const uint8_t *l3;

			if (s == 14)
				continue;
			len = rtp_make(rtp, 0x1234, s, 100 + xi_srtp_profile_rtp_trailer(all[pi]));
			len = frame_make(frame, sizeof(frame), &remote, &local, rtp, len, f.id, f.version,
					 false, &m);
			assert_int_equal(xi_engine_conns_process(f.w, &m, 0, frame, len, &l3, &n), 1);
		}
		/* the remote's SR, whose NTP the next RR's LSR echoes */
		remote_sr(&f, 0x1234, 0x0001234556789abcull, sr, &srl, 0);
		assert_int_equal(ignored(XI_RTCP_BAD_SRTCP_AUTH), auth0);
		/* forged, replayed, and plain RTCP: counted, read by nothing */
		remote_sr(&f, 0x1234, 0x00ffffff00000000ull, sr, &srl, 1);
		assert_int_equal(ignored(XI_RTCP_BAD_SRTCP_AUTH), auth0 + 1);
		remote_sr(&f, 0x1234, 0x00ffffff00000000ull, sr, &srl, -1);
		assert_int_equal(ignored(XI_RTCP_BAD_SRTCP_AUTH), auth0 + 2);
		xi_engine_conns_poll(f.t, 2000000000ull);
		xi_engine_conns_poll(f.t, 2100000000ull);
		assert_true(n_emitted >= 2);
		for (size_t i = 0; i < n_emitted; i++) {
			uint32_t sender;

			if (emitted_open(&f, i, buf, &len))
				fail_msg("%s: emitted frame %zu does not authenticate",
					 xi_srtp_profile_name(all[pi]), i);
			assert_int_equal(xi_rtcp_compound_parse(buf, len, &c), 0);
			/* one sender SSRC of xicept's own, no stream's */
			assert_int_equal(xi_rtcp_sender_ssrc(&c.pkts[0], &sender), 0);
			assert_int_not_equal(sender, 0x1234);
			for (size_t k = 0; k < c.n; k++) {
				struct xi_rtcp_report_block b;
				uint16_t seqs[8];

				if (c.pkts[k].kind == XI_RTCP_KIND_NACK) {
					assert_int_equal(xi_rtcp_nack_expand(&c.pkts[k], seqs, 8), 1);
					assert_int_equal(seqs[0], 14);
					nack = true;
				} else if (c.pkts[k].kind == XI_RTCP_KIND_RR && c.pkts[k].count) {
					assert_int_equal(xi_rtcp_report_block(&c.pkts[k], 0, &b), 0);
					assert_int_equal(b.ssrc, 0x1234);
					assert_int_equal(b.ext_highest_seq, 19);
					assert_int_equal(b.cumulative_lost, 1);
					/* the SR the interceptors read in plain: its NTP's middle 32 bits */
					assert_int_equal(b.lsr, 0x23455678u);
					rr = true;
				}
			}
		}
		assert_true(nack);
		assert_true(rr);
		fixture_down(&f);
	}
}

/* A replay of an SRTCP packet the engine read already. */
static void test_replay(void **state)
{
	struct fixture f = { 0 };
	struct xi_rtcp_sr sr = { .ssrc = 0x77, .ntp = 1 };
	uint8_t pkt[256], frame[512];
	struct xi_xsk_meta m;
	const uint8_t *l3;
	uint64_t rep0 = ignored(XI_RTCP_BAD_SRTCP_REPLAY);
	size_t len, fl, dl;
	int n;

	fixture_up(&f, XI_SRTP_AEAD_AES_128_GCM, "receiver-report interval=10ms", NULL);
	n = xi_rtcp_sr_write(&sr, NULL, 0, pkt, 256);
	len = (size_t)n;
	assert_int_equal(xi_srtp_protect_rtcp(f.peer, pkt, &len, sizeof(pkt)), 0);
	fl = frame_make(frame, sizeof(frame), &remote, &local, pkt, len, f.id, f.version, true, &m);
	assert_int_equal(xi_engine_conns_process(f.w, &m, 0, frame, fl, &l3, &dl), 1);
	assert_int_equal(ignored(XI_RTCP_BAD_SRTCP_REPLAY), rep0);
	assert_int_equal(xi_engine_conns_process(f.w, &m, 0, frame, fl, &l3, &dl), 1);
	assert_int_equal(ignored(XI_RTCP_BAD_SRTCP_REPLAY), rep0 + 1);
	fixture_down(&f);
}

/* nack-responder on SRTP: a NACK in SRTCP; RTX of the original's plaintext,
 * protected on the RTX SSRC; a plain resend is the SRTP packet that left. */
static void test_rtx(void **state)
{
	struct fixture f = { 0 };
	struct xi_srtp_keys appk;
	struct xi_srtp_conn *app, *reader;
	uint8_t pkt[256], plain[5][256], frame[512], nack[256];
	size_t plen[5], len, fl, dl;
	struct xi_xsk_meta m;
	const uint8_t *l3;
	static const uint16_t ask[] = { 102 };

	fixture_up(&f, XI_SRTP_AES128_CM_SHA1_80, "nack-responder size=64",
		   "0x5678:96:90000:rtx=0x5679/97");
	/* the application's SRTP, with xicept's out keys; copies of what left */
	appk = f.keys;
	assert_int_equal(xi_srtp_conn_new(&appk, &app), 0);
	for (int i = 0; i < 5; i++) {
		plen[i] = rtp_make(plain[i], 0x5678, (uint16_t)(100 + i), 80);
		memcpy(pkt, plain[i], plen[i]);
		len = plen[i];
		assert_int_equal(xi_srtp_protect_rtp(app, pkt, &len, sizeof(pkt)), 0);
		fl = frame_make(frame, sizeof(frame), &local, &remote, pkt, len, f.id, f.version, false,
				&m);
		assert_int_equal(xi_engine_conns_observe_egress(f.w, &m, frame, fl), 0);
	}
	/* the remote NACKs 102, in SRTCP */
	len = (size_t)xi_rtcp_nack_write(0x9999, 0x5678, ask, 1, nack, sizeof(nack));
	assert_int_equal(xi_srtp_protect_rtcp(f.peer, nack, &len, sizeof(nack)), 0);
	n_emitted = 0;
	fl = frame_make(frame, sizeof(frame), &remote, &local, nack, len, f.id, f.version, true, &m);
	assert_int_equal(xi_engine_conns_process(f.w, &m, 0, frame, fl, &l3, &dl), 1);
	assert_int_equal(n_emitted, 1);
	/* what the remote reads with the application's keys: RTX of 102 */
	assert_int_equal(xi_srtp_conn_new(&appk, &reader), 0);
	len = emitted_len[0] - 42;
	memcpy(pkt, emitted[0] + 42, len);
	assert_int_equal(xi_srtp_unprotect_local_rtp(reader, pkt, &len, 0), 0);
	assert_int_equal(len, plen[2] + 2);
	assert_int_equal(xi_get_be32(pkt + 8), 0x5679);
	assert_int_equal(pkt[1] & 0x7f, 97);
	assert_int_equal(xi_get_be16(pkt + 12), 102);   /* OSN */
	assert_memory_equal(pkt + 14, plain[2] + 12, plen[2] - 12);
	/* asked again: the plain copy kept, a second RTX */
	len = (size_t)xi_rtcp_nack_write(0x9999, 0x5678, ask, 1, nack, sizeof(nack));
	assert_int_equal(xi_srtp_protect_rtcp(f.peer, nack, &len, sizeof(nack)), 0);
	fl = frame_make(frame, sizeof(frame), &remote, &local, nack, len, f.id, f.version, true, &m);
	assert_int_equal(xi_engine_conns_process(f.w, &m, 0, frame, fl, &l3, &dl), 1);
	assert_int_equal(n_emitted, 2);
	len = emitted_len[1] - 42;
	memcpy(pkt, emitted[1] + 42, len);
	assert_int_equal(xi_srtp_unprotect_local_rtp(reader, pkt, &len, 0), 0);
	assert_int_equal(xi_get_be16(pkt + 2), 1);   /* the RTX stream's next sequence number */
	/* Both counted as resent RTP, not as RTCP emitted. */
	{
		struct xi_engine_conns_stats st;

		xi_engine_conns_stats(f.t, &st);
		assert_int_equal(st.rtp_resent, 2);
		assert_int_equal(st.rtp_resend_failed, 0);
		assert_int_equal(st.emitted, 0);
	}
	xi_srtp_conn_free(reader);
	xi_srtp_conn_free(app);
	fixture_down(&f);
}

static int group_setup(void **state)
{
	struct xi_err err;

	if (xi_endpoint_parse("10.9.1.2:5004", &local, &err) ||
	    xi_endpoint_parse("10.9.1.1:6000", &remote, &err))
		return -1;
	setenv("XICEPT_SRTP_DIR", "/run/xicept-test-srtp", 1);
	return veth_dp_up(&v, "xcs");
}

static int group_teardown(void **state)
{
	veth_dp_down(&v);
	rmdir("/run/xicept-test-srtp");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_emitted_srtcp),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_rtx),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
