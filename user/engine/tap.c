// SPDX-License-Identifier: MIT
/*
 * The tap's userspace side: see user/engine/tap.h and bpf/tap.bpf.c.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "user/dataplane/internal.h"
#include "user/engine/ring.h"
#include "user/engine/tap.h"

#define FRAME_MAX 65536

struct xi_tap {
	struct xi_dataplane *dp;
	struct xi_engine_worker *worker;
	struct xi_ring *rb;
	int ring_fd;
	int prog_fd;
	bool slot_set;
	int eprog_fd;                /* xi_tap_tc, for packets leaving */
	int estages_fd;              /* xi_egress_stages */
	bool eslot_set;
	struct xi_tap_stats stats;
	uint8_t frame[FRAME_MAX];
};

static const struct xi_stage_map tap_maps[] = {
	{ "xi_tap_ring", XI_STAGE_KEY_NONE },
	{ NULL },
};

const struct xi_stage xi_stage_tap = {
	.sz = sizeof(struct xi_stage),
	.name = "tap",
	.slot = XI_STAGE_TAP,
	.prog = "xi_tap",
	.on_demand = true,
	.egress_prog = "xi_tap_tc",   /* filled by the daemon too (tap_egress.c) */
	.maps = tap_maps,
};

/* The frame as it arrived, but for the bytes past caplen, which are zeros:
 * observers read headers, lengths and the RTP padding count only, unless the
 * connection keeps whole frames (then caplen is the frame, up to the large
 * record's size). size: the record's, header included. */
static int frame_rebuild(struct xi_tap *tap, const struct xi_tap_record *r, size_t size)
{
	const struct xi_xsk_meta *m = &r->meta;
	size_t end = (size_t)m->payload_off + m->payload_len;

	if (size < sizeof(*r) || r->caplen > size - sizeof(*r) || r->caplen > r->frame_len ||
	    end > r->frame_len || m->payload_off > r->caplen)
		return -EBADMSG;
	memcpy(tap->frame, r->frame, r->caplen);
	memset(tap->frame + r->caplen, 0, r->frame_len - r->caplen);
	if (r->rtp_pad_len && end > r->caplen)
		tap->frame[end - 1] = r->rtp_pad_len;
	return 0;
}

static void record_one(void *ctx, const struct xi_tap_record *r, uint32_t size)
{
	struct xi_tap *tap = ctx;

	if (frame_rebuild(tap, r, size)) {
		tap->stats.bad++;
		return;
	}
	tap->stats.records++;
	if (r->egress) {
		/* A packet that left: its local stream's writers see it. */
		xi_engine_conns_observe_egress(tap->worker, &r->meta, tap->frame, r->frame_len);
		return;
	}
	/* Observed, not delivered: XDP passed the packet already. */
	xi_engine_conns_observe(tap->worker, &r->meta, r->queue, tap->frame, r->frame_len,
				r->caplen);
}

static void record_run(void *ctx, const void *data, uint32_t size)
{
	struct xi_tap *tap = ctx;

	if (xi_tap_records(data, size, record_one, tap) < 0)
		tap->stats.bad++;
}

int xi_tap_records(const void *data, uint32_t size, xi_tap_record_fn fn, void *ctx)
{
	const struct xi_tap_batch *b = data;
	const uint8_t *p = data;

	if (size < sizeof(*b) || b->magic != XI_TAP_BATCH_MAGIC) {
		fn(ctx, data, size);
		return 1;
	}
	if (!b->count || b->count > XI_TAP_BATCH_MAX ||
	    b->record_bytes != XI_TAP_SMALL_BYTES ||
	    size < sizeof(*b) + (uint32_t)b->count * b->record_bytes)
		return -EBADMSG;
	p += sizeof(*b);
	for (unsigned i = 0; i < b->count; i++, p += b->record_bytes)
		fn(ctx, (const struct xi_tap_record *)p, b->record_bytes);
	return b->count;
}

static int slot_fill(struct xi_tap *tap)
{
	__u32 slot = XI_STAGE_TAP;

	if (bpf_map_update_elem(xi_dataplane_map_fd(tap->dp, XI_MAP_STAGES), &slot, &tap->prog_fd,
				BPF_ANY))
		return -errno;
	tap->slot_set = true;
	if (tap->estages_fd < 0)
		return 0;   /* no egress tap (xi_tap_open) */
	if (bpf_map_update_elem(tap->estages_fd, &slot, &tap->eprog_fd, BPF_ANY))
		return -errno;
	tap->eslot_set = true;
	return 0;
}

int xi_tap_open(const char *ifname, struct xi_dataplane *dp, struct xi_engine_worker *worker,
		struct xi_tap **ret)
{
	struct xi_tap *tap;
	int r;

	if (!ifname || !dp || !worker || !ret)
		return -EINVAL;
	tap = calloc(1, sizeof(*tap));
	if (!tap)
		return -ENOMEM;
	tap->dp = dp;
	tap->worker = worker;
	tap->prog_fd = -1;
	tap->eprog_fd = -1;
	tap->estages_fd = -1;
	tap->ring_fd = xi_dataplane_pin_get(ifname, "xi_tap_ring");
	r = tap->ring_fd < 0 ? tap->ring_fd : 0;
	/* The egress tap's program and array are found by their pins only:
	 * without them (a namespace tool's fresh bpffs) packets leaving are
	 * not copied, and the rest runs. */
	if (!r) {
		tap->eprog_fd = xi_dataplane_pin_get(ifname, "xi_tap_tc");
		tap->estages_fd = xi_dataplane_pin_get(ifname, "xi_egress_stages");
		if (tap->eprog_fd < 0 || tap->estages_fd < 0) {
			r = tap->eprog_fd == -ENOENT || tap->estages_fd == -ENOENT ? 0
			    : tap->eprog_fd < 0 ? tap->eprog_fd : tap->estages_fd;
			if (tap->eprog_fd >= 0)
				close(tap->eprog_fd);
			if (tap->estages_fd >= 0)
				close(tap->estages_fd);
			tap->eprog_fd = tap->estages_fd = -1;
		}
	}
	if (!r) {
		tap->prog_fd = xi_dataplane_pin_get(ifname, "xi_tap");
		r = tap->prog_fd < 0 ? tap->prog_fd : 0;
	}
	if (!r) {
		r = xi_ring_open(tap->ring_fd, record_run, tap, &tap->rb);
	}
	if (!r)
		r = slot_fill(tap);
	if (r) {
		xi_tap_free(tap);
		return r;
	}
	*ret = tap;
	return 0;
}

int xi_tap_fd(const struct xi_tap *tap)
{
	return tap ? xi_ring_fd(tap->rb) : -EINVAL;
}

int xi_tap_consume(struct xi_tap *tap, int woken)
{
	return tap ? xi_ring_consume(tap->rb, woken) : -EINVAL;
}

void xi_tap_stats(const struct xi_tap *tap, struct xi_tap_stats *ret)
{
	*ret = tap->stats;
}

void xi_tap_free(struct xi_tap *tap)
{
	__u32 slot = XI_STAGE_TAP;

	if (!tap)
		return;
	if (tap->slot_set)
		bpf_map_delete_elem(xi_dataplane_map_fd(tap->dp, XI_MAP_STAGES), &slot);
	if (tap->eslot_set)
		bpf_map_delete_elem(tap->estages_fd, &slot);
	/* What is still in the ring was passed already: observe it too,
	 * with what the CPUs staged (their timers flush it within
	 * XI_TAP_FLUSH_US of the slot's emptying). */
	if (tap->rb) {
		if (tap->slot_set)
			usleep(2 * XI_TAP_FLUSH_US);
		xi_ring_consume(tap->rb, 0);
	}
	xi_ring_free(tap->rb);
	if (tap->prog_fd >= 0)
		close(tap->prog_fd);
	if (tap->ring_fd >= 0)
		close(tap->ring_fd);
	if (tap->eprog_fd >= 0)
		close(tap->eprog_fd);
	if (tap->estages_fd >= 0)
		close(tap->estages_fd);
	free(tap);
}
