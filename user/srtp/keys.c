// SPDX-License-Identifier: MIT
/*
 * SRTP keys as operators and applications give them: the SDES lines of a
 * key file (RFC 4568 9.2: "PROFILE inline:BASE64"), or DTLS-SRTP keying
 * material (RFC 5764 4.2). Base64 through OpenSSL; messages never quote a
 * key.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <xicept/srtp.h>

struct profile_desc {
	enum xi_srtp_profile id;
	const char *name;
	unsigned char key_len, salt_len, rtp_tag;
};

static const struct profile_desc profiles[] = {
	{ XI_SRTP_AES128_CM_SHA1_80, "AES_CM_128_HMAC_SHA1_80", 16, 14, 10 },
	{ XI_SRTP_AES128_CM_SHA1_32, "AES_CM_128_HMAC_SHA1_32", 16, 14, 4 },
	{ XI_SRTP_AEAD_AES_128_GCM, "AEAD_AES_128_GCM", 16, 12, 16 },
	{ XI_SRTP_AEAD_AES_256_GCM, "AEAD_AES_256_GCM", 32, 12, 16 },
};

#define N_PROFILES (sizeof(profiles) / sizeof(profiles[0]))

static const struct profile_desc *desc_of(enum xi_srtp_profile p)
{
	for (size_t i = 0; i < N_PROFILES; i++)
		if (profiles[i].id == p)
			return &profiles[i];
	return NULL;
}

const char *xi_srtp_profile_name(enum xi_srtp_profile p)
{
	const struct profile_desc *d = desc_of(p);

	return d ? d->name : NULL;
}

enum xi_srtp_profile xi_srtp_profile_by_name(const char *name)
{
	for (size_t i = 0; name && i < N_PROFILES; i++)
		if (!strcmp(profiles[i].name, name))
			return profiles[i].id;
	return XI_SRTP_NONE;
}

size_t xi_srtp_profile_key_len(enum xi_srtp_profile p)
{
	const struct profile_desc *d = desc_of(p);

	return d ? d->key_len : 0;
}

size_t xi_srtp_profile_salt_len(enum xi_srtp_profile p)
{
	const struct profile_desc *d = desc_of(p);

	return d ? d->salt_len : 0;
}

size_t xi_srtp_profile_rtp_trailer(enum xi_srtp_profile p)
{
	const struct profile_desc *d = desc_of(p);

	return d ? d->rtp_tag : 0;
}

void xi_srtp_keys_wipe(struct xi_srtp_keys *keys)
{
	if (keys)
		OPENSSL_cleanse(keys, sizeof(*keys));
}

/* "PREFIX: what err said" into err, without reading and writing its message
 * at once. */
static int err_prefix(struct xi_err *err, int code, const char *prefix)
{
	char why[XI_ERR_MSG_MAX];

	if (!err)
		return code;
	snprintf(why, sizeof(why), "%s", err->msg);
	return xi_err_set(err, code, "%s: %s", prefix, why);
}

static const char *profile_names(void)
{
	return "AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32, AEAD_AES_128_GCM, AEAD_AES_256_GCM";
}

/* Strict RFC 4648 base64 of exactly want bytes: no whitespace, padding only
 * where it belongs. */
static int b64_decode(const char *s, size_t n, uint8_t *out, size_t want)
{
	uint8_t buf[96];
	size_t pad = 0;
	int r;

	if (n == 0 || n % 4 || n / 4 * 3 > sizeof(buf))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '=') {
			if (i < n - 2)
				return -EINVAL;
			pad++;
		} else if (pad || !(isalnum(c) || c == '+' || c == '/')) {
			return -EINVAL;
		}
	}
	r = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)n);
	if (r < 0 || (size_t)r < pad) {
		OPENSSL_cleanse(buf, sizeof(buf));
		return -EINVAL;
	}
	r -= (int)pad;
	if ((size_t)r != want) {
		OPENSSL_cleanse(buf, sizeof(buf));
		return -ERANGE;
	}
	memcpy(out, buf, want);
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}

int xi_srtp_key_parse(const char *text, struct xi_srtp_key *ret, struct xi_err *err)
{
	const struct profile_desc *d;
	uint8_t both[XI_SRTP_KEY_MAX + XI_SRTP_SALT_MAX];
	char name[40];
	const char *p = text, *b64;
	size_t n, len;
	int r;

	if (!text || !ret)
		return xi_err_set(err, -EINVAL, "no key given");
	memset(ret, 0, sizeof(*ret));
	while (*p == ' ' || *p == '\t')
		p++;
	n = strcspn(p, " \t");
	if (n == 0 || n >= sizeof(name))
		return xi_err_set(err, -EINVAL, "expected 'PROFILE inline:BASE64'");
	memcpy(name, p, n);
	name[n] = '\0';
	d = desc_of(xi_srtp_profile_by_name(name));
	if (!d)
		return xi_err_set(err, -EINVAL, "unknown SRTP profile '%.39s' (known: %s)", name,
				  profile_names());
	p += n;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncmp(p, "inline:", 7))
		return xi_err_set(err, -EINVAL, "%s: expected 'inline:BASE64' after the profile",
				  d->name);
	b64 = p + 7;
	len = strcspn(b64, " \t\r\n|");
	if (b64[len] == '|')
		return xi_err_set(err, -EINVAL,
				  "%s: key lifetimes and MKIs ('|...') are not supported", d->name);
	for (const char *q = b64 + len; *q; q++)
		if (!isspace((unsigned char)*q))
			return xi_err_set(err, -EINVAL, "%s: unexpected text after the key", d->name);
	r = b64_decode(b64, len, both, (size_t)d->key_len + d->salt_len);
	if (r == -ERANGE)
		return xi_err_set(err, -EINVAL,
				  "%s: the key must be %u bytes of key and %u of salt (%u in base64 "
				  "characters: %zu)", d->name, d->key_len, d->salt_len,
				  d->key_len + d->salt_len, (size_t)(d->key_len + d->salt_len + 2) / 3 * 4);
	if (r)
		return xi_err_set(err, -EINVAL, "%s: the key is not valid base64", d->name);
	ret->profile = d->id;
	memcpy(ret->key, both, d->key_len);
	memcpy(ret->salt, both + d->key_len, d->salt_len);
	OPENSSL_cleanse(both, sizeof(both));
	return 0;
}

int xi_srtp_keys_parse(const char *text, struct xi_srtp_keys *ret, struct xi_err *err)
{
	bool have_in = false, have_out = false;
	struct xi_srtp_keys k = { 0 };
	char line[256];
	int r = 0, lineno = 0;

	if (!text || !ret)
		return xi_err_set(err, -EINVAL, "no keys given");
	memset(ret, 0, sizeof(*ret));
	for (const char *p = text; *p && !r;) {
		size_t n = strcspn(p, "\n");
		const char *l = line;
		struct xi_srtp_key *dst;
		bool *seen;

		lineno++;
		if (n >= sizeof(line)) {
			r = xi_err_set(err, -EINVAL, "line %d: too long", lineno);
			break;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		if (n && line[n - 1] == '\r')
			line[n - 1] = '\0';
		p += n + (p[n] == '\n');
		while (*l == ' ' || *l == '\t')
			l++;
		if (!*l || *l == '#')
			continue;
		if (!strncmp(l, "in", 2) && (l[2] == ' ' || l[2] == '\t')) {
			dst = &k.in;
			seen = &have_in;
		} else if (!strncmp(l, "out", 3) && (l[3] == ' ' || l[3] == '\t')) {
			dst = &k.out;
			seen = &have_out;
		} else {
			r = xi_err_set(err, -EINVAL, "line %d: expected 'in' or 'out', then "
				       "'PROFILE inline:BASE64'", lineno);
			break;
		}
		if (*seen) {
			r = xi_err_set(err, -EINVAL, "line %d: a second '%s' line", lineno,
				       dst == &k.in ? "in" : "out");
			break;
		}
		r = xi_srtp_key_parse(l + (dst == &k.in ? 2 : 3), dst, err);
		if (r) {
			char where[32];

			snprintf(where, sizeof(where), "line %d (%s)", lineno,
				 dst == &k.in ? "in" : "out");
			err_prefix(err, r, where);
		}
		*seen = true;
	}
	OPENSSL_cleanse(line, sizeof(line));
	if (!r && (!have_in || !have_out))
		r = xi_err_set(err, -EINVAL, "SRTP keys need an 'in' line and an 'out' line "
			       "(missing: %s)", !have_in && !have_out ? "both" : !have_in ? "in" : "out");
	if (!r)
		*ret = k;
	xi_srtp_keys_wipe(&k);
	return r;
}

static int key_format(const char *dir, const struct xi_srtp_key *k, char *buf, size_t cap)
{
	const struct profile_desc *d = desc_of(k->profile);
	uint8_t both[XI_SRTP_KEY_MAX + XI_SRTP_SALT_MAX];
	char b64[80];
	int n;

	if (!d)
		return -EINVAL;
	memcpy(both, k->key, d->key_len);
	memcpy(both + d->key_len, k->salt, d->salt_len);
	EVP_EncodeBlock((unsigned char *)b64, both, d->key_len + d->salt_len);
	n = snprintf(buf, cap, "%s %s inline:%s\n", dir, d->name, b64);
	OPENSSL_cleanse(both, sizeof(both));
	OPENSSL_cleanse(b64, sizeof(b64));
	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

int xi_srtp_keys_format(const struct xi_srtp_keys *keys, char *buf, size_t cap)
{
	int a, b;

	if (!keys || !buf)
		return -EINVAL;
	a = key_format("in", &keys->in, buf, cap);
	if (a < 0)
		return a;
	b = key_format("out", &keys->out, buf + a, cap - (size_t)a);
	if (b < 0) {
		OPENSSL_cleanse(buf, cap);
		return b;
	}
	return a + b;
}

static int mode_check(const struct stat *st, const char *path, struct xi_err *err)
{
	if (!S_ISREG(st->st_mode))
		return xi_err_set(err, -EINVAL, "%s: not a regular file", path);
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return xi_err_set(err, -EPERM, "%s: holds secrets but is owned by uid %u, not root: "
				  "refused", path, (unsigned)st->st_uid);
	if (st->st_mode & 077)
		return xi_err_set(err, -EPERM, "%s: holds secrets but is readable or writable by "
				  "group or others (mode %04o): chmod 600 it", path,
				  (unsigned)(st->st_mode & 07777));
	return 0;
}

int xi_srtp_file_check(const char *path, struct xi_err *err)
{
	struct stat st;

	if (!path)
		return xi_err_set(err, -EINVAL, "no file given");
	if (stat(path, &st))
		return xi_err_set(err, -errno, "%s: %s", path, strerror(errno));
	return mode_check(&st, path, err);
}

int xi_srtp_keys_read_file(const char *path, struct xi_srtp_keys *ret, struct xi_err *err)
{
	char text[1024];
	struct stat st;
	size_t len = 0;
	ssize_t n;
	int fd, r;

	if (!path || !ret)
		return xi_err_set(err, -EINVAL, "no key file given");
	if (!strcmp(path, "-")) {
		fd = STDIN_FILENO;
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			return xi_err_set(err, -errno, "%s: %s", path, strerror(errno));
		/* The open file, not the name: no swap between check and read. */
		if (fstat(fd, &st)) {
			r = -errno;
			close(fd);
			return xi_err_set(err, r, "%s: %s", path, strerror(-r));
		}
		r = mode_check(&st, path, err);
		if (r) {
			close(fd);
			return r;
		}
	}
	while (len < sizeof(text) - 1 && (n = read(fd, text + len, sizeof(text) - 1 - len)) > 0)
		len += (size_t)n;
	r = n < 0 ? -errno : 0;
	if (fd != STDIN_FILENO)
		close(fd);
	text[len] = '\0';
	if (r)
		xi_err_set(err, r, "%s: %s", path, strerror(-r));
	else if (len == sizeof(text) - 1)
		r = xi_err_set(err, -EFBIG, "%s: longer than a key file can be", path);
	else
		r = xi_srtp_keys_parse(text, ret, err);
	if (r && err && strncmp(err->msg, path, strlen(path)))
		err_prefix(err, r, path);
	OPENSSL_cleanse(text, sizeof(text));
	return r;
}

int xi_srtp_keys_from_dtls(enum xi_srtp_profile profile, const uint8_t *material, size_t len,
			   bool dtls_client, struct xi_srtp_keys *ret)
{
	const struct profile_desc *d = desc_of(profile);
	const uint8_t *ck, *sk, *cs, *ss;

	if (!d || !material || !ret)
		return -EINVAL;
	if (len != 2u * (d->key_len + d->salt_len))
		return -EINVAL;
	ck = material;
	sk = ck + d->key_len;
	cs = sk + d->key_len;
	ss = cs + d->salt_len;
	memset(ret, 0, sizeof(*ret));
	ret->in.profile = ret->out.profile = profile;
	memcpy(ret->out.key, dtls_client ? ck : sk, d->key_len);
	memcpy(ret->out.salt, dtls_client ? cs : ss, d->salt_len);
	memcpy(ret->in.key, dtls_client ? sk : ck, d->key_len);
	memcpy(ret->in.salt, dtls_client ? ss : cs, d->salt_len);
	return 0;
}
