// SPDX-License-Identifier: MIT
/* SRTP keys (SDES text, files, DTLS-SRTP material) and a connection's
 * contexts: what one side protects, the other side's keys unprotect. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <xicept/rtcp.h>
#include <xicept/srtp.h>

/* 16 key bytes 0x00..0x0f, 14 salt bytes 0x10..0x1d, base64. */
#define K30 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd"
/* 30 bytes 0xa0..0xbd */
#define K30B "oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9"

static const enum xi_srtp_profile all[] = {
	XI_SRTP_AES128_CM_SHA1_80, XI_SRTP_AES128_CM_SHA1_32,
	XI_SRTP_AEAD_AES_128_GCM, XI_SRTP_AEAD_AES_256_GCM,
};

static void test_profiles(void **state)
{
	assert_int_equal(xi_srtp_profile_by_name("AES_CM_128_HMAC_SHA1_80"), XI_SRTP_AES128_CM_SHA1_80);
	assert_int_equal(xi_srtp_profile_by_name("AEAD_AES_256_GCM"), XI_SRTP_AEAD_AES_256_GCM);
	assert_int_equal(xi_srtp_profile_by_name("AES_CM_128_NULL"), XI_SRTP_NONE);
	assert_int_equal(xi_srtp_profile_rtp_trailer(XI_SRTP_AES128_CM_SHA1_80), 10);
	assert_int_equal(xi_srtp_profile_rtp_trailer(XI_SRTP_AES128_CM_SHA1_32), 4);
	assert_int_equal(xi_srtp_profile_rtp_trailer(XI_SRTP_AEAD_AES_128_GCM), 16);
	assert_int_equal(xi_srtp_profile_key_len(XI_SRTP_AEAD_AES_256_GCM), 32);
	assert_int_equal(xi_srtp_profile_salt_len(XI_SRTP_AEAD_AES_256_GCM), 12);
	assert_null(xi_srtp_profile_name(XI_SRTP_NONE));
}

static void test_parse(void **state)
{
	struct xi_srtp_keys k;
	struct xi_err err = { 0 };
	char text[XI_SRTP_KEYS_TEXT_MAX];

	assert_int_equal(xi_srtp_keys_parse("# keys\n\nout AES_CM_128_HMAC_SHA1_32 inline:" K30B "\r\n"
					    "in AES_CM_128_HMAC_SHA1_80 inline:" K30 "\n", &k, &err), 0);
	assert_int_equal(k.in.profile, XI_SRTP_AES128_CM_SHA1_80);
	assert_int_equal(k.out.profile, XI_SRTP_AES128_CM_SHA1_32);
	for (int i = 0; i < 16; i++) {
		assert_int_equal(k.in.key[i], i);
		assert_int_equal(k.out.key[i], 0xa0 + i);
	}
	for (int i = 0; i < 14; i++)
		assert_int_equal(k.in.salt[i], 0x10 + i);
	/* formatted and parsed again: the same keys */
	assert_true(xi_srtp_keys_format(&k, text, sizeof(text)) > 0);
	assert_string_equal(text, "in AES_CM_128_HMAC_SHA1_80 inline:" K30 "\n"
				  "out AES_CM_128_HMAC_SHA1_32 inline:" K30B "\n");
	xi_srtp_keys_wipe(&k);
	for (size_t i = 0; i < sizeof(k); i++)
		assert_int_equal(((unsigned char *)&k)[i], 0);
}

/* Each bad input: refused with a message that names what is wrong and
 * quotes no key material. */
static void bad(const char *text, const char *want)
{
	struct xi_srtp_keys k;
	struct xi_err err = { 0 };

	assert_int_equal(xi_srtp_keys_parse(text, &k, &err), -EINVAL);
	if (!strstr(err.msg, want))
		fail_msg("'%s': message '%s' lacks '%s'", text, err.msg, want);
	assert_null(strstr(err.msg, "AAECAwQF"));
	assert_null(strstr(err.msg, "oKGio6Sl"));
	assert_null(strchr(err.msg, '\n'));
	assert_int_equal(k.in.profile, 0);
}

static void test_bad(void **state)
{
	bad("in AES_CM_256_HMAC_SHA1_80 inline:" K30 "\nout AES_CM_128_HMAC_SHA1_80 inline:" K30B,
	    "unknown SRTP profile 'AES_CM_256_HMAC_SHA1_80'");
	bad("in AES_CM_128_HMAC_SHA1_80 inline:" K30 "AAAA\nout AES_CM_128_HMAC_SHA1_80 inline:" K30B,
	    "must be 16 bytes of key and 14 of salt");
	bad("in AEAD_AES_256_GCM inline:" K30 "\nout AES_CM_128_HMAC_SHA1_80 inline:" K30B,
	    "must be 32 bytes of key and 12 of salt");
	bad("in AES_CM_128_HMAC_SHA1_80 inline:AAEC*wQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd\n"
	    "out AES_CM_128_HMAC_SHA1_80 inline:" K30B, "not valid base64");
	bad("in AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxw\n"
	    "out AES_CM_128_HMAC_SHA1_80 inline:" K30B, "not valid base64");
	bad("in AES_CM_128_HMAC_SHA1_80 inline:" K30 "\n", "missing: out");
	bad("out AES_CM_128_HMAC_SHA1_80 inline:" K30B "\n", "missing: in");
	bad("", "missing: both");
	bad("in AES_CM_128_HMAC_SHA1_80 inline:" K30 "|2^31|1:1\nout AES_CM_128_HMAC_SHA1_80 inline:" K30B,
	    "lifetimes and MKIs");
	bad("in AES_CM_128_HMAC_SHA1_80 inline:" K30 "\nin AES_CM_128_HMAC_SHA1_80 inline:" K30B,
	    "a second 'in' line");
	bad("inout AES_CM_128_HMAC_SHA1_80 inline:" K30, "expected 'in' or 'out'");
	bad("in AES_CM_128_HMAC_SHA1_80 " K30 "\nout AES_CM_128_HMAC_SHA1_80 inline:" K30B,
	    "expected 'inline:BASE64'");
}

static void test_file(void **state)
{
	char path[] = "/tmp/xi-srtp-test-XXXXXX";
	struct xi_srtp_keys k;
	struct xi_err err = { 0 };
	int fd = mkstemp(path);
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fprintf(f, "in AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw==\n"
		   "out AEAD_AES_128_GCM inline:oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6uw==\n");
	fclose(f);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(xi_srtp_keys_read_file(path, &k, &err), 0);
	assert_int_equal(k.in.profile, XI_SRTP_AEAD_AES_128_GCM);
	assert_int_equal(k.in.salt[11], 0x1b);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(xi_srtp_keys_read_file(path, &k, &err), -EPERM);
	assert_non_null(strstr(err.msg, "mode 0640"));
	assert_int_equal(xi_srtp_file_check(path, &err), -EPERM);
	assert_int_equal(chmod(path, 0604), 0);
	assert_int_equal(xi_srtp_keys_read_file(path, &k, &err), -EPERM);
	unlink(path);
	assert_int_equal(xi_srtp_keys_read_file(path, &k, &err), -ENOENT);
}

static void test_dtls(void **state)
{
	uint8_t m[2 * (16 + 14)];
	struct xi_srtp_keys server, client;

	for (size_t i = 0; i < sizeof(m); i++)
		m[i] = (uint8_t)i;
	/* client key 0..15, server key 16..31, client salt 32..45, server salt 46..59 */
	assert_int_equal(xi_srtp_keys_from_dtls(XI_SRTP_AES128_CM_SHA1_80, m, sizeof(m), false,
						&server), 0);
	assert_int_equal(server.out.key[0], 16);
	assert_int_equal(server.out.salt[0], 46);
	assert_int_equal(server.in.key[0], 0);
	assert_int_equal(server.in.salt[13], 45);
	assert_int_equal(xi_srtp_keys_from_dtls(XI_SRTP_AES128_CM_SHA1_80, m, sizeof(m), true,
						&client), 0);
	assert_memory_equal(&client.in, &server.out, sizeof(client.in));
	assert_memory_equal(&client.out, &server.in, sizeof(client.out));
	assert_int_equal(xi_srtp_keys_from_dtls(XI_SRTP_AEAD_AES_128_GCM, m, sizeof(m), true,
						&client), -EINVAL);   /* 2 * (16 + 12) wanted */
}

static void keys_make(enum xi_srtp_profile p, uint8_t seed, struct xi_srtp_key *k)
{
	k->profile = p;
	for (int i = 0; i < XI_SRTP_KEY_MAX; i++)
		k->key[i] = (uint8_t)(seed + i);
	for (int i = 0; i < XI_SRTP_SALT_MAX; i++)
		k->salt[i] = (uint8_t)(seed * 3 + i);
}

static size_t rtp_make(uint8_t *p, uint32_t ssrc, uint16_t seq, size_t payload)
{
	memset(p, 0, 12 + payload);
	p[0] = 0x80;
	p[1] = 97;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[8] = (uint8_t)(ssrc >> 24);
	p[9] = (uint8_t)(ssrc >> 16);
	p[10] = (uint8_t)(ssrc >> 8);
	p[11] = (uint8_t)ssrc;
	for (size_t i = 0; i < payload; i++)
		p[12 + i] = (uint8_t)(seq + i);
	return 12 + payload;
}

/* xicept (in = A, out = B) and its remote (in = B, out = A): what xicept
 * protects, the remote unprotects, and the other way round. */
static void test_roundtrip(void **state)
{
	for (size_t pi = 0; pi < sizeof(all) / sizeof(all[0]); pi++) {
		struct xi_srtp_keys xk = { 0 }, rk = { 0 }, ck = { 0 };
		struct xi_srtp_conn *x, *r, *c;
		static const uint16_t seqs[] = { 7, 9 };
		uint8_t buf[512], copy[512], plain[512];
		size_t n, len, tag = xi_srtp_profile_rtp_trailer(all[pi]);
		int w;

		keys_make(all[pi], 1, &xk.in);
		keys_make(all[pi], 101, &xk.out);
		rk.in = xk.out;
		rk.out = xk.in;
		ck.in = xk.in;
		ck.out = xk.out;
		assert_int_equal(xi_srtp_conn_new(&xk, &x), 0);
		assert_int_equal(xi_srtp_conn_new(&rk, &r), 0);
		assert_int_equal(xi_srtp_conn_new(&ck, &c), 0);
		assert_int_equal(xi_srtp_conn_profile(x, true), all[pi]);

		/* xicept's NACK: protected with out, read by the remote's in */
		w = xi_rtcp_nack_write(0x11111111, 0x2222, seqs, 2, buf, sizeof(buf));
		assert_true(w > 0);
		memcpy(plain, buf, (size_t)w);
		n = (size_t)w;
		assert_int_equal(xi_srtp_protect_rtcp(x, buf, &n, sizeof(buf)), 0);
		assert_true(n >= (size_t)w + 4 + 10);
		assert_memory_not_equal(buf + 8, plain + 8, (size_t)w - 8);
		memcpy(copy, buf, n);
		len = n;
		/* a bit flipped: refused */
		copy[9] ^= 1;
		assert_int_equal(xi_srtp_unprotect_rtcp(r, copy, &len), -EACCES);
		assert_int_equal(xi_srtp_unprotect_rtcp(r, buf, &n), 0);
		assert_int_equal(n, (size_t)w);
		assert_memory_equal(buf, plain, n);

		/* the remote's SRTCP, read by xicept; the same again is a replay */
		n = (size_t)w;
		memcpy(buf, plain, n);
		assert_int_equal(xi_srtp_protect_rtcp(r, buf, &n, sizeof(buf)), 0);
		memcpy(copy, buf, n);
		len = n;
		assert_int_equal(xi_srtp_unprotect_rtcp(x, buf, &n), 0);
		assert_memory_equal(buf, plain, (size_t)w);
		assert_int_equal(xi_srtp_unprotect_rtcp(x, copy, &len), -EALREADY);

		/* an RTX packet xicept protects: the remote reads it with the
		 * out keys, as a copy of the local side's media would be */
		n = rtp_make(buf, 0x5679, 3, 100);
		memcpy(plain, buf, n);
		assert_int_equal(xi_srtp_protect_rtp(x, buf, &n, sizeof(buf)), 0);
		assert_int_equal(n, 112 + tag);
		assert_int_equal(xi_srtp_unprotect_local_rtp(c, buf, &n, 0), 0);
		assert_int_equal(n, 112);
		assert_memory_equal(buf, plain, n);
		xi_srtp_conn_free(x);
		xi_srtp_conn_free(r);
		xi_srtp_conn_free(c);
	}
}

/* Copies of the application's packets after a sequence wrap: the rollover
 * counter the reader counted makes them readable; a wrong one does not. */
static void test_local_roc(void **state)
{
	struct xi_srtp_keys app = { 0 }, xk = { 0 };
	struct xi_srtp_conn *a, *x;
	uint8_t pkts[3][256], plain[256];
	size_t lens[3], n;
	static const uint16_t seq[3] = { 65534, 65535, 0 };

	keys_make(XI_SRTP_AES128_CM_SHA1_80, 7, &app.in);
	keys_make(XI_SRTP_AES128_CM_SHA1_80, 9, &app.out);
	xk = app;
	assert_int_equal(xi_srtp_conn_new(&app, &a), 0);
	for (int i = 0; i < 3; i++) {
		lens[i] = rtp_make(pkts[i], 0x1234, seq[i], 50);
		assert_int_equal(xi_srtp_protect_rtp(a, pkts[i], &lens[i], sizeof(pkts[i])), 0);
	}
	/* a fresh reader meets seq 0 of rollover 1 first */
	assert_int_equal(xi_srtp_conn_new(&xk, &x), 0);
	memcpy(plain, pkts[2], lens[2]);
	n = lens[2];
	assert_int_equal(xi_srtp_unprotect_local_rtp(x, plain, &n, 0), -EACCES);
	n = lens[2];
	memcpy(plain, pkts[2], n);
	assert_int_equal(xi_srtp_unprotect_local_rtp(x, plain, &n, 1), 0);
	assert_int_equal(n, 62);
	assert_int_equal(plain[12], 0);
	n = lens[0];
	memcpy(plain, pkts[0], n);
	assert_int_equal(xi_srtp_unprotect_local_rtp(x, plain, &n, 0), 0);
	assert_int_equal(plain[12], (uint8_t)65534);
	/* the same copy again: the plain form was to be kept */
	n = lens[0];
	memcpy(plain, pkts[0], n);
	assert_int_equal(xi_srtp_unprotect_local_rtp(x, plain, &n, 0), -EALREADY);
	xi_srtp_conn_free(a);
	xi_srtp_conn_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profiles),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_dtls),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_local_roc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
