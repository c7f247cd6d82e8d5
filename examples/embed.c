// SPDX-License-Identifier: MIT
/*
 * Embedding xicept as a C library: a custom interceptor registered beside the
 * built-ins, a chain built from a gst-launch-style description, and RTP pushed
 * through it in userspace (no XDP needed: xdp-kind elements run as C twins).
 *
 *   cc embed.c $(pkg-config --cflags --libs xicept) -o embed && ./embed
 *
 * Prints one line: what reached the application and what pt-counter saw.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xicept/xicept.h>

/* ---- a custom interceptor: counts RTP packets per payload type ---- */

struct pt_counter {
	struct xi_interceptor base;
	struct xi_reader next;        /* one remote stream is enough for the example */
	unsigned long per_pt[128];
};

static ssize_t pt_counter_read(void *ctx, uint8_t *buf, size_t cap, struct xi_attributes *attrs)
{
	struct pt_counter *pc = ctx;
	const struct xi_rtp_header *hdr;
	ssize_t n = xi_reader_read(pc->next, buf, cap, attrs);

	if (n > 0 && xi_attributes_rtp_header(attrs, buf, (size_t)n, &hdr) == 0)
		pc->per_pt[hdr->payload_type]++;
	return n;
}

static int pt_counter_bind_remote_stream(struct xi_interceptor *ic,
					 const struct xi_stream_info *info,
					 struct xi_reader next, struct xi_reader *ret)
{
	struct pt_counter *pc = xi_container_of(ic, struct pt_counter, base);

	pc->next = next;
	*ret = (struct xi_reader){ .read = pt_counter_read, .ctx = pc };
	return 0;
}

static int pt_counter_close(struct xi_interceptor *ic, unsigned flags)
{
	free(xi_container_of(ic, struct pt_counter, base));
	return 0;
}

static const struct xi_interceptor_ops pt_counter_ops = {
	.bind_remote_stream = pt_counter_bind_remote_stream,
	.close = pt_counter_close,
};

static struct pt_counter *last_counter;   /* so main() can print what it saw */

static int pt_counter_new(const struct xi_factory *f, const void *config,
			  const struct xi_build_ctx *ctx, struct xi_interceptor **ret)
{
	struct pt_counter *pc = calloc(1, sizeof(*pc));

	if (!pc)
		return -ENOMEM;
	pc->base.ops = &pt_counter_ops;
	last_counter = pc;
	*ret = &pc->base;
	return 0;
}

static const struct xi_factory pt_counter_factory = {
	.name = "pt-counter",
	.description = "counts RTP packets per payload type",
	.kind = XI_KIND_USERSPACE,
	.new_interceptor = pt_counter_new,
};
XI_CATALOG_REGISTER(pt_counter_factory)

/* ---- the "wire": the innermost reader hands out one queued packet ---- */

struct wire {
	const uint8_t *pkt;
	size_t len;
};

static ssize_t wire_read(void *ctx, uint8_t *buf, size_t cap, struct xi_attributes *attrs)
{
	struct wire *w = ctx;

	if (w->len > cap)
		return -EMSGSIZE;
	memcpy(buf, w->pkt, w->len);
	return (ssize_t)w->len;
}

static size_t make_rtp(uint8_t *buf, size_t cap, uint32_t ssrc, uint16_t seq)
{
	struct xi_rtp_header h = { .version = 2, .payload_type = 96, .seq = seq,
				   .timestamp = seq * 3000u, .ssrc = ssrc };
	int n = xi_rtp_header_write(&h, NULL, 0, buf, cap);

	memset(buf + n, 0xab, 100);    /* 100 bytes of payload */
	return (size_t)n + 100;
}

int main(void)
{
	const uint32_t ssrcs[2] = { 0x1234, 0xbad };
	struct xi_catalog *cat = xi_catalog_new_from_global();
	struct xi_build_ctx bctx = { .conn_id = 1 };
	struct xi_chain *chain;
	struct xi_err err;
	unsigned long delivered = 0, dropped = 0;
	uint8_t pkt[256], buf[1500];
	int rc;

	if (!cat) {
		fprintf(stderr, "embed: %s\n", strerror(errno));
		return 1;
	}
	rc = xi_catalog_build(cat, "ssrc-filter mode=deny ssrc=0xbad ! pt-counter",
			      &bctx, &chain, &err);
	if (rc < 0) {
		fprintf(stderr, "embed: %s\n", err.msg);
		xi_catalog_free(cat);
		return 1;
	}
	for (int s = 0; s < 2; s++) {
		struct xi_stream_info info = { .ssrc = ssrcs[s], .payload_type = 96,
					       .clock_rate = 90000 };
		struct wire w = { .pkt = pkt };
		struct xi_reader rd;

		rc = xi_chain_bind_remote_stream_from(chain, 0, &info,
				(struct xi_reader){ .read = wire_read, .ctx = &w }, &rd);
		if (rc < 0)
			break;
		for (uint16_t seq = 0; seq < (s == 0 ? 10 : 3); seq++) {
			struct xi_attributes attrs;
			ssize_t n;

			xi_attributes_reset(&attrs);
			w.len = make_rtp(pkt, sizeof(pkt), ssrcs[s], seq);
			n = xi_reader_read(rd, buf, sizeof(buf), &attrs);
			if (n > 0)
				delivered++;
			else if (n == 0)
				dropped++;
		}
		xi_chain_unbind_remote_stream_from(chain, 0, &info);
	}
	if (rc == 0)
		printf("delivered=%lu dropped=%lu pt96=%lu\n", delivered, dropped,
		       last_counter ? last_counter->per_pt[96] : 0);
	else
		fprintf(stderr, "embed: bind: %s\n", strerror(-rc));
	xi_chain_close(chain, NULL);
	xi_catalog_free(cat);
	return rc < 0;
}
