// SPDX-License-Identifier: MIT
/*
 * packet-dump, driven through a chain built from the catalog. The pcap files
 * it writes are read back with libpcap and, when tshark is installed,
 * decoded by tshark.
 */
#include <dirent.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <xicept/attributes.h>
#include <xicept/catalog.h>
#include <xicept/rtcp.h>
#include <xicept/rtp.h>
#include <xicept/stream.h>

#include "user/fixtures.h"
#include "user/lib/bytes.h"

#define SSRC     0x0badcafeu
#define CONN_ID  7
#define PAYLOAD  100
#define RTP_LEN  (12 + PAYLOAD)
#define HDRS     42               /* Ethernet + IPv4 + UDP */
#define REC_LEN  (16 + HDRS + RTP_LEN)

struct rig {
	char dir[64];
	struct xi_catalog *cat;
	struct xi_chain *chain;
	struct xi_interceptor *ic;
	struct fix_source src;
	struct xi_reader rtp, rtcp;
};

static int rig_build(struct rig *r, const char *keys, struct xi_err *err)
{
	const struct xi_build_ctx ctx = { .conn_id = CONN_ID };
	char text[256];

	snprintf(text, sizeof(text), "packet-dump dir=%s %s", r->dir, keys);
	return xi_catalog_build(r->cat, text, &ctx, &r->chain, err);
}

static struct rig *rig_new(const char *keys)
{
	struct rig *r = calloc(1, sizeof(*r));
	struct xi_stream_info info = { .ssrc = SSRC, .clock_rate = 90000 };
	struct xi_reader rd = fix_source_reader(&r->src);
	struct xi_err err = { 0 };

	assert_non_null(r);
	strcpy(r->dir, "/tmp/xicept-dump-XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	r->cat = xi_catalog_new_from_global();
	assert_non_null(r->cat);
	assert_int_equal(rig_build(r, keys, &err), 0);
	r->ic = xi_chain_interceptor(r->chain);
	assert_int_equal(xi_interceptor_bind_remote_stream(r->ic, &info, rd, &r->rtp), 0);
	assert_int_equal(xi_interceptor_bind_rtcp_reader(r->ic, rd, &r->rtcp), 0);
	return r;
}

static void rig_close(struct rig *r)
{
	if (r->chain)
		assert_int_equal(xi_chain_close(r->chain, NULL), 0);
	r->chain = NULL;
}

static void rig_free(struct rig *r)
{
	struct dirent *de;
	DIR *d;
	char path[512];

	rig_close(r);
	xi_catalog_free(r->cat);
	d = opendir(r->dir);
	assert_non_null(d);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", r->dir, de->d_name);
		assert_int_equal(unlink(path), 0);
	}
	closedir(d);
	assert_int_equal(rmdir(r->dir), 0);
	free(r);
}

static void file_path(const struct rig *r, unsigned n, char *buf, size_t size)
{
	snprintf(buf, size, "%s/xicept-%u-%u.pcap", r->dir, CONN_ID, n);
}

static size_t count_files(const struct rig *r)
{
	struct dirent *de;
	DIR *d = opendir(r->dir);
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static void rtp_make(struct fix_source *src, uint16_t seq)
{
	fix_rtp_make(src, SSRC, seq, seq * 3000u, PAYLOAD, (uint8_t)(seq & 0xff));
}

static void rtp_in(struct rig *r, uint16_t seq)
{
	struct xi_attributes attrs = { 0 };

	rtp_make(&r->src, seq);
	fix_read_through(&r->src, r->rtp, &attrs);
}

static size_t rtcp_make(struct rig *r, uint32_t media)
{
	int len = xi_rtcp_pli_write(0x1234, media, r->src.pkt, sizeof(r->src.pkt));

	assert_int_equal(len, 12);
	r->src.len = (size_t)len;
	return r->src.len;
}

/* ---- reading back ---- */

static unsigned ip_sum(const uint8_t *ip)
{
	unsigned sum = 0;

	for (int i = 0; i < 20; i += 2)
		sum += (unsigned)ip[i] << 8 | ip[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* Checks a synthesized frame around pkt[0..len) sent to port. */
static void assert_synth(const uint8_t *f, size_t flen, const uint8_t *pkt, size_t len,
			 uint16_t port)
{
	static const uint8_t src_ip[4] = { 192, 0, 2, 1 }, dst_ip[4] = { 192, 0, 2, 2 };

	assert_int_equal(flen, HDRS + len);
	assert_int_equal(xi_get_be16(f + 12), 0x0800);
	assert_int_equal(f[14], 0x45);
	assert_int_equal(xi_get_be16(f + 16), 28 + len);
	assert_int_equal(f[23], 17);
	assert_int_equal(ip_sum(f + 14), 0xffff);	/* a valid checksum sums to ~0 */
	assert_memory_equal(f + 26, src_ip, 4);
	assert_memory_equal(f + 30, dst_ip, 4);
	assert_int_equal(xi_get_be16(f + 34), port);
	assert_int_equal(xi_get_be16(f + 36), port);
	assert_int_equal(xi_get_be16(f + 38), 8 + len);
	assert_memory_equal(f + HDRS, pkt, len);
}

static pcap_t *open_file(const struct rig *r, unsigned n)
{
	char err[PCAP_ERRBUF_SIZE], path[512];
	pcap_t *p;

	file_path(r, n, path, sizeof(path));
	p = pcap_open_offline(path, err);
	assert_non_null(p);
	assert_int_equal(pcap_datalink(p), DLT_EN10MB);
	return p;
}

/* Records in file n, each checked as RTP seq first, first + 1, ... */
static size_t check_rtp_file(const struct rig *r, unsigned n, uint16_t first)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *p = open_file(r, n);
	uint8_t want[RTP_LEN];
	size_t count = 0;
	struct fix_source tmp;

	while (pcap_next_ex(p, &h, &data) == 1) {
		rtp_make(&tmp, (uint16_t)(first + count));
		memcpy(want, tmp.pkt, RTP_LEN);
		assert_int_equal(h->caplen, h->len);
		assert_synth(data, h->caplen, want, RTP_LEN, 5004);
		count++;
	}
	pcap_close(p);
	return count;
}

/* ---- tests ---- */

static void test_rtp_and_rtcp_round_trip(void **state)
{
	struct rig *r = rig_new("");
	struct pcap_pkthdr *h;
	const u_char *data;
	uint8_t rtcp[12];
	pcap_t *p;
	size_t n = 0;

	for (uint16_t s = 0; s < 10; s++)
		rtp_in(r, 1000 + s);
	rtcp_make(r, SSRC);
	memcpy(rtcp, r->src.pkt, 12);
	fix_read_through(&r->src, r->rtcp, NULL);
	rig_close(r);
	assert_int_equal(count_files(r), 1);

	p = open_file(r, 0);
	while (pcap_next_ex(p, &h, &data) == 1) {
		if (n < 10) {
			struct fix_source tmp;

			rtp_make(&tmp, (uint16_t)(1000 + n));
			assert_synth(data, h->caplen, tmp.pkt, RTP_LEN, 5004);
			/* The IP id counts up, so tools see distinct datagrams. */
			assert_int_equal(xi_get_be16(data + 18), n);
		} else {
			assert_synth(data, h->caplen, rtcp, 12, 5005);
		}
		n++;
	}
	pcap_close(p);
	assert_int_equal(n, 11);
	rig_free(r);
}

static void test_frame_attribute_written_as_is(void **state)
{
	struct rig *r = rig_new("");
	struct xi_attributes attrs = { 0 };
	struct pcap_pkthdr *h;
	const u_char *data;
	uint8_t frame[HDRS + RTP_LEN];
	pcap_t *p;

	rtp_make(&r->src, 5);
	for (size_t i = 0; i < HDRS; i++)
		frame[i] = (uint8_t)(0xc0 + i);
	memcpy(frame + HDRS, r->src.pkt, RTP_LEN);
	assert_int_equal(xi_attributes_set_ptr(&attrs, XI_ATTR_FRAME, frame), 0);
	assert_int_equal(xi_attributes_set_u64(&attrs, XI_ATTR_FRAME_LEN, sizeof(frame)), 0);
	fix_read_through(&r->src, r->rtp, &attrs);
	rig_close(r);

	p = open_file(r, 0);
	assert_int_equal(pcap_next_ex(p, &h, &data), 1);
	assert_int_equal(h->caplen, sizeof(frame));
	assert_int_equal(h->len, sizeof(frame));
	assert_memory_equal(data, frame, sizeof(frame));
	assert_int_equal(pcap_next_ex(p, &h, &data), PCAP_ERROR_BREAK);
	pcap_close(p);
	rig_free(r);
}

/* Three records fill a file exactly; the fourth starts the next one. */
static void test_rotation(void **state)
{
	char keys[64];
	struct rig *r;

	snprintf(keys, sizeof(keys), "max-size=%d", 24 + 3 * REC_LEN);
	r = rig_new(keys);
	for (uint16_t s = 0; s < 10; s++)
		rtp_in(r, s);
	rig_close(r);
	assert_int_equal(count_files(r), 4);
	assert_int_equal(check_rtp_file(r, 0, 0), 3);
	assert_int_equal(check_rtp_file(r, 1, 3), 3);
	assert_int_equal(check_rtp_file(r, 2, 6), 3);
	assert_int_equal(check_rtp_file(r, 3, 9), 1);
	rig_free(r);
}

/* poll flushes: the file is complete while the interceptor still runs. */
static void test_poll_flushes(void **state)
{
	struct rig *r = rig_new("");
	char path[512];
	struct stat st;

	for (uint16_t s = 0; s < 4; s++)
		rtp_in(r, s);
	assert_int_equal(xi_interceptor_poll(r->ic, 1), 0);
	file_path(r, 0, path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 24 + 4 * REC_LEN);
	assert_int_equal(check_rtp_file(r, 0, 0), 4);
	rig_free(r);
}

/* A file that cannot be opened is reported by poll and retried by it. */
static void test_open_failure_reported_and_retried(void **state)
{
	char keys[64], path[512];
	struct rig *r;

	snprintf(keys, sizeof(keys), "max-size=%d", 24 + REC_LEN);
	r = rig_new(keys);
	rtp_in(r, 0);
	file_path(r, 0, path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(r->dir), 0);
	rtp_in(r, 1);			/* rotation to file 1 fails: not written */
	rtp_in(r, 2);
	assert_int_equal(xi_interceptor_poll(r->ic, 1), -ENOENT);
	assert_int_equal(xi_interceptor_poll(r->ic, 2), -ENOENT);	/* retried */
	assert_int_equal(mkdir(r->dir, 0700), 0);
	assert_int_equal(xi_interceptor_poll(r->ic, 3), 0);
	rtp_in(r, 3);
	rig_close(r);
	assert_int_equal(count_files(r), 1);
	assert_int_equal(check_rtp_file(r, 1, 3), 1);
	rig_free(r);
}

static void test_tshark_decodes(void **state)
{
	char cmd[768], path[512], line[64];
	struct rig *r;
	FILE *out;
	size_t n = 0;

	if (system("command -v tshark >/dev/null 2>&1") != 0)
		skip();
	r = rig_new("");
	for (uint16_t s = 0; s < 25; s++)
		rtp_in(r, 65530 + s);
	rtcp_make(r, SSRC);
	fix_read_through(&r->src, r->rtcp, NULL);
	rig_close(r);
	file_path(r, 0, path, sizeof(path));
	snprintf(cmd, sizeof(cmd),
		 "tshark -n -r %s -d udp.port==5004,rtp -d udp.port==5005,rtcp -Y rtp "
		 "-T fields -e rtp.seq -e rtp.ssrc 2>/dev/null", path);
	out = popen(cmd, "r");
	assert_non_null(out);
	while (fgets(line, sizeof(line), out)) {
		unsigned seq, ssrc;

		assert_int_equal(sscanf(line, "%u\t%x", &seq, &ssrc), 2);
		assert_int_equal(seq, (uint16_t)(65530 + n));
		assert_int_equal(ssrc, SSRC);
		n++;
	}
	assert_int_equal(pclose(out), 0);
	assert_int_equal(n, 25);
	snprintf(cmd, sizeof(cmd),
		 "tshark -n -r %s -d udp.port==5004,rtp -d udp.port==5005,rtcp -Y rtcp.pt==206 "
		 "2>/dev/null | wc -l", path);
	out = popen(cmd, "r");
	assert_non_null(out);
	assert_non_null(fgets(line, sizeof(line), out));
	assert_int_equal(atoi(line), 1);
	assert_int_equal(pclose(out), 0);
	rig_free(r);
}

static void test_config_errors(void **state)
{
	struct xi_catalog *cat = xi_catalog_new_from_global();
	const struct xi_build_ctx ctx = { .conn_id = CONN_ID };
	struct xi_chain *chain = NULL;
	struct xi_err err = { 0 };

	assert_non_null(cat);
	assert_int_equal(xi_catalog_build(cat, "packet-dump", &ctx, &chain, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "dir"));
	assert_int_equal(xi_catalog_build(cat, "packet-dump dir=/nonexistent/xicept", &ctx,
					  &chain, &err), -ENOENT);
	assert_int_equal(xi_catalog_build(cat, "packet-dump dir=/tmp max-size=10", &ctx,
					  &chain, &err), -EINVAL);
	assert_null(chain);
	xi_catalog_free(cat);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rtp_and_rtcp_round_trip),
		cmocka_unit_test(test_frame_attribute_written_as_is),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_poll_flushes),
		cmocka_unit_test(test_open_failure_reported_and_retried),
		cmocka_unit_test(test_tshark_decodes),
		cmocka_unit_test(test_config_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
