// SPDX-License-Identifier: MIT
/*
 * packet-dump: writes the connection's incoming RTP (remote streams) and
 * RTCP (the RTCP reader) to pcap files with libpcap, for tshark and
 * Wireshark. Files are <dir>/xicept-<conn_id>-<n>.pcap, n from 0; a new one
 * starts when the next record would take the current file past max-size
 * (a file always takes at least one record, however large).
 *
 * When the engine attached the whole Ethernet frame (XI_ATTR_FRAME and
 * XI_ATTR_FRAME_LEN) it is written as received, cut at snap bytes the way
 * tcpdump -s and xdpdump do (the record keeps the frame's real length). It
 * only reads packets, so its connections take the tap, which copies whole
 * frames for it up to XI_TAP_SNAP_FRAME bytes (XI_ATTR_FRAME_CAPLEN: what
 * was captured; the record is cut there too). Otherwise a frame is made
 * around the packet: Ethernet, IPv4 192.0.2.1 -> 192.0.2.2 (RFC 5737
 * documentation addresses) with a valid header checksum, and UDP to port
 * 5004 for RTP or 5005 for RTCP, the RFC 3550 "next port" convention, so
 *   tshark -d udp.port==5004,rtp -d udp.port==5005,rtcp
 * decodes both.
 *
 * Records are flushed on poll, on rotation and on close, not per packet: a
 * write(2) per packet would cost more than the rest of the chain. A write
 * error is kept and returned by the next poll.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xicept/attributes.h>
#include <xicept/catalog.h>
#include <xicept/config.h>
#include <xicept/interceptor.h>
#include <xicept/registry.h>
#include <xicept/stream.h>

#include "user/lib/bytes.h"
#include "user/lib/udp_frame.h"
#include "user/interceptors/stream_table.h"

#define DUMP_DIR_MAX      256
#define DUMP_SNAPLEN      262144    /* libpcap's own maximum */
#define PCAP_FILE_HDR     24
#define PCAP_REC_HDR      16
#define SYNTH_HDRS        (ETH_HLEN + XI_IP4_HDR_LEN + XI_UDP_HDR_LEN)
#define UDP_MAX_PAYLOAD   (65535 - XI_IP4_HDR_LEN - XI_UDP_HDR_LEN)
#define PORT_RTP          5004
#define PORT_RTCP         5005

struct dump_cfg {
	char dir[DUMP_DIR_MAX];
	uint64_t max_size;
	uint64_t snap;
};

struct dump_stream {
	struct xi_bound_stream base;
	struct dump_gen *gen;
};

struct dump_gen {
	struct xi_interceptor ic;
	struct dump_cfg cfg;
	uint32_t conn_id;
	struct xi_stream_table st;       /* its lock covers the files too */
	pcap_t *dead;                /* only holds the link type and snaplen */
	pcap_dumper_t *dumper;       /* NULL after a failed rotation */
	unsigned file_no;            /* of the file open now */
	uint64_t file_size;          /* bytes in it, headers included */
	int error;                   /* first write error since the last poll */
	uint16_t ip_id;
	uint8_t frame[SYNTH_HDRS + UDP_MAX_PAYLOAD];
};

/* ---- files ---- */

static int dump_open(struct dump_gen *g, unsigned file_no)
{
	char path[DUMP_DIR_MAX + 64];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/xicept-%u-%u.pcap", g->cfg.dir, g->conn_id, file_no);
	/* fopen rather than pcap_dump_open: it reports why in errno. */
	fp = fopen(path, "we");
	if (!fp)
		return -errno;
	g->dumper = pcap_dump_fopen(g->dead, fp);
	if (!g->dumper) {
		fclose(fp);
		return -EIO;
	}
	g->file_no = file_no;
	g->file_size = PCAP_FILE_HDR;
	return 0;
}

static int dump_close_file(struct dump_gen *g)
{
	int rc = 0;

	if (!g->dumper)
		return 0;
	if (pcap_dump_flush(g->dumper) != 0)
		rc = -EIO;
	pcap_dump_close(g->dumper);
	g->dumper = NULL;
	return rc;
}

static void note_error(struct dump_gen *g, int rc)
{
	if (rc < 0 && !g->error)
		g->error = rc;
}

/* ---- records ---- */

/* Wraps pkt in Ethernet/IPv4/UDP inside g->frame; returns the frame length. */
static size_t synth_frame(struct dump_gen *g, const uint8_t *pkt, size_t len, uint16_t port)
{
	static const uint8_t eth[ETH_HLEN] = {
		0x02, 0, 0, 0, 0, 0x02,      /* dst: locally administered */
		0x02, 0, 0, 0, 0, 0x01,      /* src */
		0x08, 0x00,                  /* IPv4 */
	};
	uint8_t *ip = g->frame + ETH_HLEN, *udp = ip + XI_IP4_HDR_LEN;

	memcpy(g->frame, eth, ETH_HLEN);
	memset(ip, 0, XI_IP4_HDR_LEN);
	ip[0] = 0x45;
	xi_put_be16(ip + 2, (uint16_t)(XI_IP4_HDR_LEN + XI_UDP_HDR_LEN + len));
	xi_put_be16(ip + 4, g->ip_id++);
	xi_put_be16(ip + 6, 0x4000);               /* DF */
	ip[8] = 64;
	ip[9] = 17;                          /* UDP */
	memcpy(ip + 12, (const uint8_t[]){ 192, 0, 2, 1 }, 4);
	memcpy(ip + 16, (const uint8_t[]){ 192, 0, 2, 2 }, 4);
	xi_put_be16(ip + 10, xi_csum_fold(xi_csum_add(0, ip, XI_IP4_HDR_LEN)));
	xi_put_be16(udp, port);
	xi_put_be16(udp + 2, port);
	xi_put_be16(udp + 4, (uint16_t)(XI_UDP_HDR_LEN + len));
	xi_put_be16(udp + 6, 0);                   /* no checksum: allowed over IPv4 */
	memcpy(udp + XI_UDP_HDR_LEN, pkt, len);
	return SYNTH_HDRS + len;
}

/* len: the frame's length on the wire; caplen of it are written. */
static void dump_record(struct dump_gen *g, const uint8_t *frame, size_t len, size_t caplen)
{
	struct pcap_pkthdr h;
	struct timespec ts;
	uint64_t rec;

	if (caplen > g->cfg.snap)
		caplen = (size_t)g->cfg.snap;
	rec = PCAP_REC_HDR + caplen;

	if (g->dumper && g->file_size > PCAP_FILE_HDR && g->file_size + rec > g->cfg.max_size) {
		note_error(g, dump_close_file(g));
		note_error(g, dump_open(g, g->file_no + 1));
	}
	if (!g->dumper)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	h.ts.tv_sec = ts.tv_sec;
	h.ts.tv_usec = ts.tv_nsec / 1000;
	h.len = (bpf_u_int32)len;
	h.caplen = (bpf_u_int32)caplen;
	pcap_dump((u_char *)g->dumper, &h, frame);
	g->file_size += rec;
}

static void dump_packet(struct dump_gen *g, const uint8_t *pkt, size_t len,
			const struct xi_attributes *attrs, uint16_t port)
{
	void *frame = NULL;
	uint64_t frame_len = 0, caplen;

	pthread_mutex_lock(&g->st.lock);
	if (attrs && xi_attributes_get_ptr(attrs, XI_ATTR_FRAME, &frame) == 0 && frame &&
	    xi_attributes_get_u64(attrs, XI_ATTR_FRAME_LEN, &frame_len) == 0 &&
	    frame_len > 0 && frame_len <= DUMP_SNAPLEN) {
		if (xi_attributes_get_u64(attrs, XI_ATTR_FRAME_CAPLEN, &caplen) || caplen > frame_len)
			caplen = frame_len;
		dump_record(g, frame, (size_t)frame_len, (size_t)caplen);
	} else if (len <= UDP_MAX_PAYLOAD) {
		size_t n = synth_frame(g, pkt, len, port);

		dump_record(g, g->frame, n, n);
	}
	pthread_mutex_unlock(&g->st.lock);
}

/* ---- interceptor ops ---- */

static struct dump_gen *gen_of(struct xi_interceptor *ic)
{
	return xi_container_of(ic, struct dump_gen, ic);
}

static ssize_t dump_read_rtp(void *ctx, uint8_t *buf, size_t cap, struct xi_attributes *attrs)
{
	struct dump_stream *s = ctx;
	ssize_t n = xi_reader_read(s->base.reader, buf, cap, attrs);

	if (n > 0)
		dump_packet(s->gen, buf, (size_t)n, attrs, PORT_RTP);
	return n;
}

static ssize_t dump_read_rtcp(void *ctx, uint8_t *buf, size_t cap, struct xi_attributes *attrs)
{
	struct dump_gen *g = ctx;
	ssize_t n = xi_reader_read(g->st.rtcp_reader, buf, cap, attrs);

	if (n > 0)
		dump_packet(g, buf, (size_t)n, attrs, PORT_RTCP);
	return n;
}

static int dump_bind_remote_stream(struct xi_interceptor *ic,
				   const struct xi_stream_info *info,
				   struct xi_reader next, struct xi_reader *ret)
{
	struct dump_gen *g = gen_of(ic);
	struct dump_stream *s;

	if (!info || !ret)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->gen = g;
	xi_stream_table_add(&g->st, &s->base, info->ssrc, next);
	ret->read = dump_read_rtp;
	ret->ctx = s;
	return 0;
}

static void stream_free(struct xi_bound_stream *node)
{
	free(xi_container_of(node, struct dump_stream, base));
}

static void dump_unbind_remote_stream(struct xi_interceptor *ic,
				      const struct xi_stream_info *info)
{
	xi_stream_table_unbind(&gen_of(ic)->st, info);
}

static int dump_bind_rtcp_reader(struct xi_interceptor *ic, struct xi_reader next,
				 struct xi_reader *ret)
{
	struct dump_gen *g = gen_of(ic);

	return xi_stream_table_bind_rtcp_reader(&g->st, next, dump_read_rtcp, g, ret);
}

/* Flushes, retries a file that failed to open, and reports the first error
 * since the last poll. */
static int dump_poll(struct xi_interceptor *ic, uint64_t now_ns)
{
	struct dump_gen *g = gen_of(ic);
	int rc;

	pthread_mutex_lock(&g->st.lock);
	if (!g->dumper)
		note_error(g, dump_open(g, g->file_no + 1));
	else if (pcap_dump_flush(g->dumper) != 0)
		note_error(g, -EIO);
	rc = g->error;
	g->error = 0;
	pthread_mutex_unlock(&g->st.lock);
	return rc;
}

static void dump_free(struct dump_gen *g)
{
	xi_stream_table_fini(&g->st);
	if (g->dead)
		pcap_close(g->dead);
	free(g);
}

static int dump_close(struct xi_interceptor *ic, unsigned flags)
{
	struct dump_gen *g = gen_of(ic);
	int rc = dump_close_file(g);

	dump_free(g);
	return rc;
}

static const struct xi_interceptor_ops dump_ops = {
	.bind_rtcp_reader = dump_bind_rtcp_reader,
	.bind_remote_stream = dump_bind_remote_stream,
	.unbind_remote_stream = dump_unbind_remote_stream,
	.poll = dump_poll,
	.close = dump_close,
};

/* ---- factory ---- */

/* The first file is opened here, so a bad dir fails the chain build, where
 * an operator sees it, rather than the first packet. */
static int dump_new(const struct xi_factory *f, const void *config,
		    const struct xi_build_ctx *ctx, struct xi_interceptor **ret)
{
	const struct dump_cfg *cfg = config;
	struct dump_gen *g;
	int rc;

	if (!cfg || !ret || !cfg->dir[0] || !memchr(cfg->dir, 0, sizeof(cfg->dir)))
		return -EINVAL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	xi_stream_table_init(&g->st, stream_free);
	g->cfg = *cfg;
	if (!g->cfg.snap)
		g->cfg.snap = DUMP_SNAPLEN;   /* a config made without the key's default */
	g->conn_id = ctx ? ctx->conn_id : 0;
	g->dead = pcap_open_dead(DLT_EN10MB, (int)g->cfg.snap);
	if (!g->dead) {
		dump_free(g);
		return -ENOMEM;
	}
	rc = dump_open(g, 0);
	if (rc) {
		dump_free(g);
		return rc;
	}
	g->ic.ops = &dump_ops;
	g->ic.name = f ? f->name : "packet-dump";
	*ret = &g->ic;
	return 0;
}

static const struct xi_config_key dump_keys[] = {
	{ .name = "dir", .type = XI_CFG_STRING, .offset = offsetof(struct dump_cfg, dir),
	  .size = DUMP_DIR_MAX, .flags = XI_CFG_F_REQUIRED,
	  .help = "directory the pcap files are written to (must exist)" },
	{ .name = "max-size", .type = XI_CFG_SIZE,
	  .offset = offsetof(struct dump_cfg, max_size), .def = "10M",
	  .min = PCAP_FILE_HDR + PCAP_REC_HDR, .max = UINT64_MAX,
	  .help = "bytes per file before the next one is started" },
	{ .name = "snap", .type = XI_CFG_SIZE, .offset = offsetof(struct dump_cfg, snap),
	  .def = "262144", .min = 64, .max = DUMP_SNAPLEN,
	  .help = "bytes of each frame kept (through the tap, at most 2048)" },
	{ .name = NULL },
};

static const struct xi_factory packet_dump_factory = {
	.name = "packet-dump",
	.description = "writes the connection's RTP and RTCP to rotated pcap files",
	.kind = XI_KIND_USERSPACE,
	.keys = dump_keys,
	.config_size = sizeof(struct dump_cfg),
	.new_interceptor = dump_new,
	.flags = XI_FACTORY_OBSERVES | XI_FACTORY_TAP_FRAMES,
};

XI_CATALOG_REGISTER(packet_dump_factory)
XI_CATALOG_ANCHOR(packet_dump)
