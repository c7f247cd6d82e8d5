// SPDX-License-Identifier: MIT
/*
 * xi-srtp-bench: CPU per packet of the SRTP work xicept does, per profile,
 * through the engine's own calls (user/srtp/conn.c, libsrtp2): unprotecting
 * the remote's SRTCP, protecting the SRTCP it emits, protecting an RTX
 * packet, unprotecting a copy of a local stream's packet; and a copy of the
 * same bytes as the floor. One line a measurement:
 *   srtp op=OP profile=NAME bytes=N count=N ns_per_pkt=X ok=N
 * ok counts the operations that succeeded: the run failed unless ok == count.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xicept/rtcp.h>
#include <xicept/srtp.h>

#define RTP_PAYLOAD 1160   /* a video packet: 1172 bytes of RTP */

static double cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static size_t rtp_make(uint8_t *p, uint32_t ssrc, uint16_t seq)
{
	memset(p, 0xab, 12 + RTP_PAYLOAD);
	p[0] = 0x80;
	p[1] = 96;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[8] = (uint8_t)(ssrc >> 24);
	p[9] = (uint8_t)(ssrc >> 16);
	p[10] = (uint8_t)(ssrc >> 8);
	p[11] = (uint8_t)ssrc;
	return 12 + RTP_PAYLOAD;
}

static void keys_make(enum xi_srtp_profile p, uint8_t seed, struct xi_srtp_key *k)
{
	k->profile = p;
	for (int i = 0; i < XI_SRTP_KEY_MAX; i++)
		k->key[i] = (uint8_t)(seed + 7 * i);
	for (int i = 0; i < XI_SRTP_SALT_MAX; i++)
		k->salt[i] = (uint8_t)(seed + 3 * i);
}

static void report(const char *op, enum xi_srtp_profile p, size_t bytes, unsigned n, double ns,
		   unsigned ok)
{
	printf("srtp op=%s profile=%s bytes=%zu count=%u ns_per_pkt=%.1f ok=%u\n", op,
	       p ? xi_srtp_profile_name(p) : "none", bytes, n, ns / n, ok);
}

static int profile_run(enum xi_srtp_profile p, unsigned n)
{
	static uint8_t (*rtp)[12 + RTP_PAYLOAD + XI_SRTP_GROWTH_MAX];
	static uint8_t (*rtcp)[64 + XI_SRTP_GROWTH_MAX];
	static size_t *len;
	struct xi_srtp_keys xk = { 0 }, rk = { 0 };
	struct xi_srtp_conn *x, *r;
	static const uint16_t seqs[] = { 100, 104 };
	unsigned ok;
	double t;
	int w;

	rtp = rtp ? rtp : calloc(n, sizeof(*rtp));
	rtcp = rtcp ? rtcp : calloc(n, sizeof(*rtcp));
	len = len ? len : calloc(n, sizeof(*len));
	if (!rtp || !rtcp || !len)
		return -ENOMEM;
	keys_make(p, 1, &xk.in);
	keys_make(p, 77, &xk.out);
	rk.in = xk.out;
	rk.out = xk.in;
	if (xi_srtp_conn_new(&xk, &x) || xi_srtp_conn_new(&rk, &r))
		return -EINVAL;

	/* The remote's SRTCP (a NACK), made on its side, read on ours. */
	for (unsigned i = 0; i < n; i++) {
		w = xi_rtcp_nack_write(0x1111, 0x2222, seqs, 2, rtcp[i], sizeof(rtcp[i]));
		len[i] = (size_t)w;
		if (w < 0 || xi_srtp_protect_rtcp(r, rtcp[i], &len[i], sizeof(rtcp[i])))
			return -EIO;
	}
	t = cpu_ns();
	ok = 0;
	for (unsigned i = 0; i < n; i++)
		ok += xi_srtp_unprotect_rtcp(x, rtcp[i], &len[i]) == 0;
	report("unprotect-rtcp", p, len[0], n, cpu_ns() - t, ok);

	/* What xicept emits: a NACK compound, protected. */
	for (unsigned i = 0; i < n; i++)
		len[i] = (size_t)xi_rtcp_nack_write(0x3333, 0x2222, seqs, 2, rtcp[i], sizeof(rtcp[i]));
	t = cpu_ns();
	ok = 0;
	for (unsigned i = 0; i < n; i++)
		ok += xi_srtp_protect_rtcp(x, rtcp[i], &len[i], sizeof(rtcp[i])) == 0;
	report("protect-rtcp", p, len[0], n, cpu_ns() - t, ok);

	/* RTX: protected on the RTX SSRC; then copies of the application's
	 * packets (made with the out keys on the other side) unprotected. */
	for (unsigned i = 0; i < n; i++)
		len[i] = rtp_make(rtp[i], 0x5679, (uint16_t)i);
	t = cpu_ns();
	ok = 0;
	for (unsigned i = 0; i < n; i++)
		ok += xi_srtp_protect_rtp(x, rtp[i], &len[i], sizeof(rtp[i])) == 0;
	report("protect-rtp", p, 12 + RTP_PAYLOAD, n, cpu_ns() - t, ok);
	for (unsigned i = 0; i < n; i++) {
		len[i] = rtp_make(rtp[i], 0x5678, (uint16_t)i);
		if (xi_srtp_protect_rtp(x, rtp[i], &len[i], sizeof(rtp[i])))
			return -EIO;
	}
	xi_srtp_conn_free(r);
	/* a reader with the out keys, as the engine's local context */
	rk = xk;
	if (xi_srtp_conn_new(&rk, &r))
		return -EINVAL;
	t = cpu_ns();
	ok = 0;
	for (unsigned i = 0; i < n; i++)
		ok += xi_srtp_unprotect_local_rtp(r, rtp[i], &len[i], 0) == 0;
	report("unprotect-rtp", p, 12 + RTP_PAYLOAD, n, cpu_ns() - t, ok);
	xi_srtp_conn_free(x);
	xi_srtp_conn_free(r);
	xi_srtp_keys_wipe(&xk);
	xi_srtp_keys_wipe(&rk);
	return 0;
}

int main(int argc, char **argv)
{
	static const enum xi_srtp_profile all[] = {
		XI_SRTP_AES128_CM_SHA1_80, XI_SRTP_AES128_CM_SHA1_32,
		XI_SRTP_AEAD_AES_128_GCM, XI_SRTP_AEAD_AES_256_GCM,
	};
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 20000;
	static uint8_t a[12 + RTP_PAYLOAD], b[12 + RTP_PAYLOAD];
	volatile uint8_t sink = 0;
	double t;

	/* The floor: the bytes copied once, as the engine copies each packet. */
	rtp_make(a, 1, 1);
	t = cpu_ns();
	for (unsigned i = 0; i < n; i++) {
		a[20] = (uint8_t)i;
		memcpy(b, a, sizeof(a));
		sink += b[20];
	}
	report("copy", XI_SRTP_NONE, sizeof(a), n, cpu_ns() - t, n);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (profile_run(all[i], n)) {
			fprintf(stderr, "xi-srtp-bench: %s failed\n", xi_srtp_profile_name(all[i]));
			return 1;
		}
	return sink == 255 ? 0 : 0;
}
