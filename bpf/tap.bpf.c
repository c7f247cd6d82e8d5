// SPDX-License-Identifier: MIT
/*
 * xi_tap (XI_STAGE_TAP): ends the XDP part of a chain whose userspace
 * elements only observe. A copy of the frame's start goes into the ring
 * buffer xi_tap_ring for `xicept run` (user/engine/tap.c); the packet itself goes
 * on with the chain's verdict at once. See struct xi_tap_record in abi.h.
 *
 * Like xi_to_user, xi_stages gets this program only while a daemon runs: with
 * the slot empty there is nobody to observe, and the packet passes counted as
 * XI_REASON_NO_DAEMON (xi_tail_call_failed), whatever the no_daemon policy
 * says: observers never hold media. A daemon killed before it could empty
 * the slot is noticed as xi_to_user notices it, by its sockets' absence.
 */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, XI_TAP_RING_BYTES);
} xi_tap_ring SEC(".maps");

/* A wakeup is an irq_work: a self-IPI on the packet's core, a few µs on a
 * VM, dearer than many records. So the reader is woken once, by the record
 * that takes the ring's fill across an eighth of its size (size: this
 * record's, header included, as it counts in the fill), and otherwise reads
 * on a timer (XI_TAP_READ_MS, user/engine/tap.h). Above the eighth nothing
 * more is sent: the reader was woken, or reads within the timer anyway.
 * Two CPUs writing at once may both miss the crossing; the timer covers
 * that too, and the seven eighths left hold tens of milliseconds.
 * reserved: the record is in the fill already (reserved, not yet
 * submitted); else it is about to be written (bpf_ringbuf_output). */
static __always_inline __u64 xi_tap_wakeup(__u32 size, int reserved)
{
	__u64 fill = bpf_ringbuf_query(&xi_tap_ring, BPF_RB_AVAIL_DATA);

	if (!reserved)
		fill += size;
	return fill >= XI_TAP_WAKE_BYTES && fill - size < XI_TAP_WAKE_BYTES
		? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

/* A record's size in the ring: its 8-byte header, rounded up to 8. */
#define XI_TAP_RB_SIZE(n) (((n) + 8 + 7) & ~7u)

/* Not in UAPI headers before 6.7 (the build's are older). */
#ifndef BPF_F_TIMER_CPU_PIN
#define BPF_F_TIMER_CPU_PIN (1ULL << 1)
#endif
#define XI_CLOCK_MONOTONIC 1

/* xi_tap_stage (abi.h): only its own CPU touches an entry, XDP and the
 * flush timer pinned there. The timer runs in softirq, so it never runs
 * inside a packet's XDP, which runs in softirq too; but it can interrupt a
 * test-run (process context), so XDP marks the entry busy while it writes,
 * and the timer then tries again a period later. A CPU past max_entries (128
 * unless attach sized it) writes single records. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 128);
	__type(key, __u32);
	__type(value, struct xi_tap_stage);
} xi_tap_stage SEC(".maps");

#define XI_WRITE_ONCE(x, v) (*(volatile typeof(x) *)&(x) = (v))
#define XI_READ_ONCE(x) (*(volatile typeof(x) *)&(x))

/* The tap_full count is the one the flush timer adds to as well, and it may
 * interrupt a test-run's XDP: an atomic add loses neither. */
static __always_inline void xi_tap_full(__u32 n)
{
	__u32 reason = XI_REASON_TAP_FULL;
	__u64 *c = bpf_map_lookup_elem(&xi_reasons, &reason);

	if (c)
		__sync_fetch_and_add(c, n);
}

/* Writes the staged records as one batch; a full ring counts each. */
static __always_inline void xi_tap_flush(struct xi_tap_stage *s)
{
	__u32 n = s->n, size;

	if (!n)
		return;
	if (n > XI_TAP_BATCH_MAX)
		n = XI_TAP_BATCH_MAX;
	s->hdr.reserved = 0;
	s->hdr.magic = XI_TAP_BATCH_MAGIC;
	s->hdr.count = (__u16)n;
	s->hdr.record_bytes = XI_TAP_SMALL_BYTES;
	size = sizeof(s->hdr) + n * XI_TAP_SMALL_BYTES;
	if (bpf_ringbuf_output(&xi_tap_ring, &s->hdr, size,
			       xi_tap_wakeup(XI_TAP_RB_SIZE(size), 0)))
		xi_tap_full(n);
	s->n = 0;
}

static int xi_tap_flush_timer(void *map, __u32 *key, struct xi_tap_stage *s)
{
	/* Moved off its CPU (hotplug): the entry is that CPU's, leave it; its
	 * next packet arms the timer again, there. */
	if (bpf_get_smp_processor_id() != *key) {
		XI_WRITE_ONCE(s->armed, 0);
		return 0;
	}
	if (XI_READ_ONCE(s->busy)) {
		bpf_timer_start(&s->timer, XI_TAP_FLUSH_US * 1000ull, BPF_F_TIMER_CPU_PIN);
		return 0;
	}
	xi_tap_flush(s);
	s->armed = 0;
	return 0;
}

/* This CPU's entry, as it is (NULL past max_entries). */
static __always_inline struct xi_tap_stage *xi_tap_stage_this(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&xi_tap_stage, &cpu);
}

/* This CPU's entry, ready to batch into, or NULL: write single records. */
static __always_inline struct xi_tap_stage *xi_tap_stage_get(void)
{
	struct xi_tap_stage *s = xi_tap_stage_this();
	long err;

	if (!s || s->mode == XI_TAP_DIRECT)
		return NULL;
	if (s->mode == XI_TAP_NEW) {
		err = bpf_timer_init(&s->timer, &xi_tap_stage, XI_CLOCK_MONOTONIC);
		if (err && err != -16 /* -EBUSY: done by an earlier load */) {
			s->mode = XI_TAP_DIRECT;
			return NULL;
		}
		if (bpf_timer_set_callback(&s->timer, xi_tap_flush_timer)) {
			s->mode = XI_TAP_DIRECT;
			return NULL;
		}
		s->mode = XI_TAP_BATCHING;
	}
	return s;
}

/* Bytes of the frame the connection's observers read: the headers through
 * the RTP header, its CSRCs and extension; all of RTCP, and of any frame of a
 * connection that keeps whole ones (packet-dump: the flags of the bank the
 * packet's chain came from, xi_chain_start). */
static __always_inline __u32 xi_tap_want(struct xi_pkt_ctx *pc, __u32 len)
{
	if (pc->is_rtcp || (pc->conn_flags & XI_CONN_F_TAP_FRAMES))
		return len;
	return (__u32)pc->payload_off + pc->rtp_hdr_len;
}

static __always_inline void xi_tap_record_head(struct xdp_md *ctx, struct xi_pkt_ctx *pc,
					       struct xi_tap_record *r, __u32 len)
{
	xi_meta_fill(&r->meta, pc);
	r->queue = ctx->rx_queue_index;
	r->frame_len = len;
	r->rtp_pad_len = pc->is_rtcp ? 0 : pc->rtp_pad_len;
	r->egress = 0;
}

/* Copies min(want, len) bytes, at most SNAP (a power of two), the way the
 * verifier can bound: a constant for the long, a mask for the short. */
#define XI_TAP_COPY(ctx, r, n, SNAP) ({						\
	long __err;								\
	__u32 __cap;								\
	if ((n) >= (SNAP)) {							\
		__cap = (SNAP);							\
		__err = bpf_xdp_load_bytes(ctx, 0, (r)->frame, SNAP);		\
	} else {								\
		/* n is 1..SNAP - 1: the verifier sees 1..SNAP */		\
		__cap = (((n) - 1) & ((SNAP) - 1)) + 1;				\
		__err = bpf_xdp_load_bytes(ctx, 0, (r)->frame, __cap);		\
	}									\
	(r)->caplen = __err ? 0 : __cap;					\
})

/* A small record into this CPU's batch, which goes out when full; the
 * first record of a batch arms the flush timer (once a period, not once a
 * batch). -1: no batching here (write a single record). */
static __always_inline int xi_tap_stage_small(struct xdp_md *ctx, struct xi_pkt_ctx *pc,
					      __u32 len, __u32 n)
{
	struct xi_tap_stage *s = xi_tap_stage_get();
	struct xi_tap_record *r;
	__u32 i;

	if (!s)
		return -1;
	XI_WRITE_ONCE(s->busy, 1);
	i = s->n;
	if (i >= XI_TAP_BATCH_MAX) {   /* not left so; but the verifier asks */
		xi_tap_flush(s);
		i = 0;
	}
	r = (struct xi_tap_record *)s->slots[i];
	xi_tap_record_head(ctx, pc, r, len);
	XI_TAP_COPY(ctx, r, n, XI_TAP_SNAP_HDR);
	s->n = ++i;
	if (i == XI_TAP_BATCH_MAX) {
		xi_tap_flush(s);
	} else if (!s->armed) {
		if (bpf_timer_start(&s->timer, XI_TAP_FLUSH_US * 1000ull, BPF_F_TIMER_CPU_PIN)) {
			/* Cannot pin (before 6.7): nothing would flush a partial
			 * batch in time, so this CPU writes single records. */
			xi_tap_flush(s);
			s->mode = XI_TAP_DIRECT;
		} else {
			s->armed = 1;
		}
	}
	XI_WRITE_ONCE(s->busy, 0);
	return 0;
}

/* Before a single record: what this CPU staged goes out first. */
static __always_inline void xi_tap_stage_drain(void)
{
	struct xi_tap_stage *s = xi_tap_stage_this();

	if (!s || !s->n)
		return;
	XI_WRITE_ONCE(s->busy, 1);
	xi_tap_flush(s);
	XI_WRITE_ONCE(s->busy, 0);
}

/* A small record staged, or one of two record sizes, each a constant
 * reservation. */
static __always_inline int xi_tap_record(struct xdp_md *ctx, struct xi_pkt_ctx *pc)
{
	__u32 len = ctx->data_end - ctx->data, want = xi_tap_want(pc, len), n;
	struct xi_tap_record *r;

	n = want < len ? want : len;
	if (!n)
		n = 1;
	if (n <= XI_TAP_SNAP_HDR) {
		if (!xi_tap_stage_small(ctx, pc, len, n))
			return 0;
		r = bpf_ringbuf_reserve(&xi_tap_ring, XI_TAP_SMALL_BYTES, 0);
		if (!r)
			return -1;
		xi_tap_record_head(ctx, pc, r, len);
		XI_TAP_COPY(ctx, r, n, XI_TAP_SNAP_HDR);
	} else {
		xi_tap_stage_drain();
		r = bpf_ringbuf_reserve(&xi_tap_ring, sizeof(*r) + XI_TAP_SNAP_FRAME, 0);
		if (!r)
			return -1;
		xi_tap_record_head(ctx, pc, r, len);
		XI_TAP_COPY(ctx, r, n, XI_TAP_SNAP_FRAME);
	}
	bpf_ringbuf_submit(r, xi_tap_wakeup(n <= XI_TAP_SNAP_HDR
		? XI_TAP_RB_SIZE(XI_TAP_SMALL_BYTES)
		: XI_TAP_RB_SIZE(sizeof(*r) + XI_TAP_SNAP_FRAME), 1));
	return 0;
}

SEC("xdp")
int xi_tap(struct xdp_md *ctx)
{
	struct xi_pkt_ctx *pc = xi_scratch_get();
	__u32 queue = ctx->rx_queue_index;

	if (!pc)
		return XDP_PASS;
	/* The daemon's sockets are its liveness: they leave xi_xsks with the
	 * process, so a killed daemon is told from a slow one. */
	if (!bpf_map_lookup_elem(&xi_xsks, &queue)) {
		xi_chain_done(pc);
		return xi_tail_call_failed(XI_STAGE_TAP);
	}
	if (xi_tap_record(ctx, pc))
		xi_tap_full(1);
	return xi_next_stage(ctx, pc);
}

/* Packets leaving (XI_STAGE_TAP in a connection's egress list): the whole
 * frame, up to XI_TAP_FULL bytes, so that observers such as the
 * nack-responder can keep copies. The daemon fills the slot of
 * xi_egress_stages while it runs; with it empty, the packet leaves counted
 * as no_daemon. */
SEC("tc")
int xi_tap_tc(struct __sk_buff *skb)
{
	struct xi_pkt_ctx *pc = xi_escratch_get();
	struct xi_tap_record *f;
	__u32 len = skb->len, cap;
	long err;

	if (!pc)
		return TC_ACT_OK;
	f = bpf_ringbuf_reserve(&xi_tap_ring, sizeof(*f) + XI_TAP_FULL, 0);
	if (!f) {
		xi_ecount(XI_REASON_TAP_FULL);   /* the egress counters: no timer adds to them */
		return xi_next_stage_tc(skb, pc);
	}
	xi_meta_fill(&f->meta, pc);
	f->queue = skb->queue_mapping;
	f->frame_len = len;
	f->rtp_pad_len = pc->is_rtcp ? 0 : pc->rtp_pad_len;
	f->egress = 1;
	__builtin_memset(f->pad, 0, sizeof(f->pad));
	if (len >= XI_TAP_FULL) {
		cap = XI_TAP_FULL;
		err = bpf_skb_load_bytes(skb, 0, f->frame, XI_TAP_FULL);
	} else if (len) {
		cap = ((len - 1) & (XI_TAP_FULL - 1)) + 1;
		err = bpf_skb_load_bytes(skb, 0, f->frame, cap);
	} else {
		cap = 0;
		err = 0;
	}
	f->caplen = err ? 0 : cap;
	bpf_ringbuf_submit(f, xi_tap_wakeup(XI_TAP_RB_SIZE(sizeof(*f) + XI_TAP_FULL), 1));
	return xi_next_stage_tc(skb, pc);
}
