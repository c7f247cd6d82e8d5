/* SPDX-License-Identifier: MIT */
/*
 * The ABI between the XDP fast path (bpf/xicept.bpf.c) and userspace: every
 * map key, map value, enum and constant both sides use, declared once.
 *
 * One BPF object is loaded per interface; its maps are pinned under
 * /sys/fs/bpf/xicept/<ifname>/, so "per interface" below means "per loaded
 * object" and no map is keyed by ifindex.
 *
 * Packet path. xi_entry parses Ethernet (up to two 802.1Q/802.1ad tags),
 * IPv4 (options skipped; fragments not parsed further) or IPv6 (at most
 * XI_IPV6_EXT_MAX extension headers skipped) and UDP, then looks the flow up
 * in xi_flows4 or xi_flows6: the exact 5-tuple first, then the same key with the remote
 * side zeroed (a wildcard: one local port serving many peers). A hit gives a
 * connection id and its xi_conns slot. The UDP payload is classified per
 * RFC 7983 (first byte: STUN 0-3, DTLS 20-63, RTP/RTCP 128-191) and RTCP is
 * told from RTP by the second byte 192-223 (RFC 5761). RTP and RTCP start the
 * connection's chain: xi_entry fills the per-CPU scratch (struct xi_pkt_ctx)
 * and tail-calls xi_stages[stages[0]]; every stage tail-calls the next, and
 * after the last one the chain's verdict is returned.
 *
 * Every packet xi_entry sees is counted once in xi_reasons under the reason
 * that decided its fate (enum xi_reason); stages add XI_REASON_SSRC_DROP,
 * XI_REASON_TAILCALL_FAIL, XI_REASON_STATS_FULL and XI_REASON_CHAIN_END.
 *
 * Verdicts:
 *   not a well-formed UDP datagram (any reason before UNKNOWN_FLOW): pass,
 *     because the kernel stack owns everything that is not ours;
 *   unknown flow, or a flow whose connection is missing: unknown_flow policy;
 *   known flow, payload not RTP/RTCP (or RTP/RTCP too short): non_rtp policy;
 *   RTP/RTCP: the chain's; a stage may drop; the end of the chain returns
 *     xi_conn.verdict; a failed tail call (empty slot) passes, except to
 *     XI_STAGE_TO_USER, which follows the no_daemon policy.
 * Policies and verdicts are enum xi_action, whose zero value is pass, so a
 * zeroed config or connection passes everything.
 *
 * Byte order: flow keys carry addresses and ports in network order, exactly
 * as on the wire. Everything else (ids, SSRCs, sequence numbers) is host order.
 */
#ifndef XICEPT_ABI_H
#define XICEPT_ABI_H

#include <linux/types.h>
#include <linux/bpf.h>   /* struct bpf_spin_lock */

#define XI_ABI_VERSION         2

#define XI_CHAIN_STAGES_MAX    16     /* stage ids in one connection's chain */
#define XI_STAGES_SLOTS        16     /* xi_stages PROG_ARRAY size */
#define XI_VLAN_MAX            2      /* 802.1Q and QinQ */
#define XI_IPV6_EXT_MAX        6      /* extension headers skipped before giving up */

/* Compile-time sizes of the tables, which the loader replaces by the attach
 * options (--max-conns, --max-flows, --max-streams; see dataplane.h). */
#define XI_MAX_FLOWS           16384
#define XI_MAX_CONNS           4096
#define XI_MAX_STREAMS         16384  /* (conn, ssrc) pairs in every per-stream map */

/* RFC 3550 A.1 constants. */
#define XI_RTP_SEQ_MOD         (1u << 16)
#define XI_MAX_DROPOUT         3000
#define XI_MAX_MISORDER        100
#define XI_MIN_SEQUENTIAL      2

/*
 * Every XDP stage, one line each: X(ID, slot, sym). The slot indexes
 * xi_stages and is ABI, since pinned connections name their stages by it:
 * never reuse one. sym names the program (xi_<sym>), its source (<sym>.bpf.c,
 * found by the build beside its factory) and its descriptor (xi_stage_<sym>,
 * see user/dataplane/stage.h), which says what maps the stage owns, what a
 * connection leaves in them and how its stats read. A build may append
 * stages with -D'XI_STAGES_EXTRA(X)=X(...)', as the test-only stage does.
 * XI_STAGE_TO_USER ends an XDP prefix followed by userspace elements that may
 * change or drop packets; XI_STAGE_TAP one followed by observers only.
 */
#ifndef XI_STAGES_EXTRA
#define XI_STAGES_EXTRA(X)
#endif
#define XI_STAGES(X) \
	X(NOOP, 0, noop) \
	X(SSRC_FILTER, 1, ssrc_filter) \
	X(HEADER_STATS, 2, header_stats) \
	X(TO_USER, 3, to_user) \
	X(TAP, 4, tap) \
	X(EGRESS, 5, egress) \
	X(TWCC_SEQUENCER, 6, twcc_sequencer) \
	XI_STAGES_EXTRA(X)

#define XI_STAGE_ENUM_(ID, slot, sym) XI_STAGE_##ID = slot,
enum xi_stage_id {
	XI_STAGES(XI_STAGE_ENUM_)
};
#undef XI_STAGE_ENUM_

enum xi_action {
	XI_ACT_PASS = 0,
	XI_ACT_DROP = 1,
};

/*
 * The lists of counter reasons: X(sym, value, "name", "help") per entry, in
 * order. Each list makes its enum (XI_LIST_ENUM), a name table for stats,
 * JSON and /metrics (XI_LIST_NAME, by designated initializer) and the help
 * of 'xicept stats'. Append only: the values are ABI (indexes of pinned
 * maps), and XI_LIST_PIN fails the build when an entry's position is not the
 * value it states.
 */
#define XI_LIST_ENUM(sym, value, name, help) sym,
#define XI_LIST_PIN(sym, value, name, help) \
	_Static_assert(sym == value, #sym " is ABI: its value stays " #value);
#define XI_LIST_NAME(sym, value, name, help) [sym] = name,

/* Indexes of xi_reasons. */
#define XI_REASONS(X) \
	X(XI_REASON_NOT_IP, 0, "not_ip", "ethertype not IPv4/IPv6 (ARP, a third VLAN tag, ...)") \
	X(XI_REASON_TRUNCATED, 1, "truncated", "frame shorter than a header or a declared length") \
	X(XI_REASON_BAD_IP, 2, "bad_ip", "IP version mismatch, IHL < 5, tot_len < IHL") \
	X(XI_REASON_FRAGMENT, 3, "fragment", "IPv4 MF/offset or IPv6 fragment header") \
	X(XI_REASON_IPV6_EXT_LIMIT, 4, "ipv6_ext_limit", \
	  "too many IPv6 extension headers (more than XI_IPV6_EXT_MAX)") \
	X(XI_REASON_NOT_UDP, 5, "not_udp", "IP payload not UDP") \
	X(XI_REASON_BAD_UDP, 6, "bad_udp", "UDP length < 8 or past the IP payload") \
	X(XI_REASON_UNKNOWN_FLOW, 7, "unknown_flow", "no flow matches, exact or wildcard") \
	X(XI_REASON_NO_CONN, 8, "no_conn", "flow found, its xi_conns slot holds no connection") \
	X(XI_REASON_STUN, 9, "stun", "known flow, RFC 7983 STUN") \
	X(XI_REASON_DTLS, 10, "dtls", "known flow, RFC 7983 DTLS") \
	X(XI_REASON_OTHER, 11, "other", \
	  "known flow, empty payload, ZRTP, TURN channel, anything else") \
	X(XI_REASON_BAD_RTP, 12, "bad_rtp", \
	  "RTP/RTCP range, header inconsistent with the length") \
	X(XI_REASON_RTP, 13, "rtp", "RTP that entered its connection's chain") \
	X(XI_REASON_RTCP, 14, "rtcp", "RTCP that entered its connection's chain") \
	X(XI_REASON_SSRC_DROP, 15, "ssrc_drop", "dropped by ssrc-filter") \
	X(XI_REASON_TAILCALL_FAIL, 16, "tailcall_fail", "a stage's xi_stages slot was empty: passed") \
	X(XI_REASON_STATS_FULL, 17, "stats_full", "a per-stream map was full: not counted there") \
	X(XI_REASON_CHAIN_END, 18, "chain_end", "ran every stage of its chain") \
	X(XI_REASON_NO_DAEMON, 19, "no_daemon", \
	  "the chain goes on in userspace (XI_STAGE_TO_USER or _TAP), no daemon runs it") \
	X(XI_REASON_TAP_FULL, 20, "tap_full", "the tap's ring was full: passed, not observed") \
	X(XI_REASON_PLUGIN_DROP, 21, "plugin_drop", \
	  "dropped by a plugin's stage (its own counters say why)") \
	X(XI_REASON_SRTCP, 22, "srtcp", "SRTCP (an SRTP connection's RTCP) that entered its chain")

enum xi_reason {
	XI_REASONS(XI_LIST_ENUM)
	XI_REASON__MAX,
};
XI_REASONS(XI_LIST_PIN)

/*
 * xi_losses (ARRAY, XI_LOSS__MAX entries of __u64): packets XDP handed to the
 * stateful path that did not reach where they were going, by reason. The
 * AF_XDP engine (`xicept run`) adds what it learns: its sockets'
 * XDP_STATISTICS (deltas, so totals survive a restart) and its own failures.
 * Append only: the numbers are ABI.
 */
#define XI_LOSSES(X) \
	X(XI_LOSS_RX_RING_FULL, 0, "rx_ring_full", "the socket's RX ring was full") \
	X(XI_LOSS_FILL_EMPTY, 1, "fill_empty", "no frame in the fill ring to receive into") \
	X(XI_LOSS_RX_DROPPED, 2, "rx_dropped", "the redirect to the socket failed otherwise") \
	X(XI_LOSS_RX_INVALID, 3, "rx_invalid", "invalid RX descriptors") \
	X(XI_LOSS_CHAIN_ERROR, 4, "chain_error", "a chain's read failed: the packet was dropped") \
	X(XI_LOSS_BAD_META, 5, "bad_meta", "no usable xi_xsk_meta: dropped") \
	X(XI_LOSS_DELIVER_FAILED, 6, "deliver_failed", "handing the datagram to the stack failed") \
	X(XI_LOSS_TX_FAILED, 7, "tx_failed", "an emitted frame found no TX frame, or TX failed")

enum xi_loss {
	XI_LOSSES(XI_LIST_ENUM)
	XI_LOSS__MAX,
};
XI_LOSSES(XI_LIST_PIN)

/* xi_config flags. */
#define XI_IFACE_F_TEST_CLOCK  0x1u   /* arrival time is test_clock_ns, not bpf_ktime_get_ns() */
#define XI_IFACE_F_OWN_CLSACT  0x2u   /* attach created the clsact qdisc: detach removes it */

/* xi_config: ARRAY, one entry (key 0). */
struct xi_iface_config {
	__u32 unknown_flow;     /* enum xi_action */
	__u32 non_rtp;          /* enum xi_action */
	__u32 flags;            /* XI_IFACE_F_* */
	/* enum xi_action for a chain that reaches XI_STAGE_TO_USER while that
	 * slot is empty: its userspace part has no daemon to run it. */
	__u32 no_daemon;
	/* Test hook: with XI_IFACE_F_TEST_CLOCK, every packet's arrival time.
	 * Tests and the differential check set it before each test run so that
	 * jitter and arrival times are reproducible by the C twins. */
	__u64 test_clock_ns;
	/* The TC egress filter attach made (handle, priority), so that detach
	 * removes exactly it (user/dataplane/egress.c). */
	__u32 tc_handle;
	__u32 tc_priority;
};

enum xi_family {
	XI_FAMILY_IPV4 = 4,
	XI_FAMILY_IPV6 = 6,
};

/* A flow of either family, as the entry program parses it and the control
 * plane describes it, and the key of xi_flows6. IPv4 addresses sit in bytes
 * 0-3, bytes 4-15 zero. Ingress: local is the destination, remote the source.
 * The wildcard entry of a local address and port has remote_addr and
 * remote_port all zero. pad must be zero: the whole struct is hashed. */
struct xi_flow_key {
	__u8 family;            /* enum xi_family */
	__u8 pad[3];
	__be16 local_port;
	__be16 remote_port;
	__u8 local_addr[16];
	__u8 remote_addr[16];
};

/* The key of xi_flows4: an IPv4 flow in 12 bytes rather than 40, which is
 * what the hash of every lookup costs. */
struct xi_flow4_key {
	__be32 local_addr;
	__be32 remote_addr;
	__be16 local_port;
	__be16 remote_port;
};

static inline __attribute__((always_inline)) struct xi_flow4_key
xi_flow4_key_of(const struct xi_flow_key *k)
{
	struct xi_flow4_key k4;

	__builtin_memcpy(&k4.local_addr, k->local_addr, 4);
	__builtin_memcpy(&k4.remote_addr, k->remote_addr, 4);
	k4.local_port = k->local_port;
	k4.remote_port = k->remote_port;
	return k4;
}

/*
 * xi_ports (ARRAY, XI_PORTS_SLOTS, value __u32): which local UDP ports have
 * flows, so that traffic to any other port is an unknown flow after one array
 * read instead of two hash lookups. Index XI_PORT_SLOT(port, wildcard): the
 * port in host order, doubled, plus 1 for "has a wildcard flow". The control
 * plane sets a slot before it writes a flow and never clears it while the
 * interface is attached: a stale slot only costs its port one hash lookup. A
 * slot per kind, so that two writers never read-modify-write one value.
 */
#define XI_PORTS_SLOTS             (2u << 16)
#define XI_PORT_SLOT(port, wild)   ((__u32)(port) << 1 | ((wild) ? 1u : 0u))

/* xi_flows4 and xi_flows6 value (HASH, max_flows entries each). */
struct xi_flow {
	__u32 conn_id;
};

/* xi_conns value (ARRAY indexed by __u32 conn_id, max_conns + 1 slots, so
 * that the entry program finds a connection by a read rather than a hash
 * lookup). Ids start at 1; a slot whose conn_id is not its index (zero) holds
 * no connection. */
/*
 * A connection's chain changes while packets flow (`xicept conn set-chain`):
 * the value holds two banks, and bank says which one packets read. The
 * control plane writes the new chain into the bank no packet reads (the
 * bytes of the one in use are rewritten unchanged), then flips bank (the only
 * byte that changes), then waits an RCU grace period before it may write
 * that bank again. So each packet reads one whole bank: the whole old chain
 * or the whole new one. version numbers the chains of a connection (1 at
 * conn add); each packet carries its bank's version to the end of its chain,
 * where xi_chain_runs counts it.
 */
struct xi_conn_bank {
	__u32 version;
	__u8 n_stages;
	__u8 verdict;
	__u8 flags;                /* XI_CONN_F_* */
	__u8 pad;
	__u8 stages[XI_CHAIN_STAGES_MAX];
};

struct xi_conn {
	__u32 conn_id;             /* the key again, for readable dumps */
	__u32 default_clock_rate;  /* Hz, for SSRCs with no xi_clock_rates entry */
	/* bank 0 */
	__u8 n_stages;             /* valid entries of stages[]: the XDP part of the chain */
	__u8 verdict;              /* enum xi_action returned after the last stage */
	__u8 bank;                 /* 0: the fields here; 1: alt */
	__u8 flags;                /* XI_CONN_F_* of bank 0 */
	__u8 stages[XI_CHAIN_STAGES_MAX];  /* enum xi_stage_id, in order */
	__u32 version;             /* bank 0's chain version */
	struct xi_conn_bank alt;   /* bank 1 */
	/* TC egress (xi_tc_egress): the stages packets from the local endpoint
	 * run, in write order (the chain's last element first), same ids. Not
	 * banked: a live chain switch changes what arrives, not what leaves. */
	__u8 n_egress;
	/* SRTP (include/xicept/srtp.h): the bytes after an SRTP packet's
	 * payload (its authentication tag) of what the remote sends and of
	 * what the local endpoint sends, 0 for plain RTP; the profiles,
	 * in | out << 4 (below). Not banked. */
	__u8 srtp_tag_in;
	__u8 srtp_tag_out;
	__u8 srtp_profiles;
	__u8 egress[XI_CHAIN_STAGES_MAX];
};

/* xi_conn.srtp_profiles' nibbles: 0 none, then RFC 5764's profile numbers
 * 1, 2, 7, 8 (AES_CM_128_HMAC_SHA1_80, _32, AEAD_AES_128_GCM, _256_GCM). */
#define XI_CONN_SRTP_IN(c)  ((c)->srtp_profiles & 0x0f)
#define XI_CONN_SRTP_OUT(c) ((c)->srtp_profiles >> 4)

/* xi_chain_runs (PERCPU_HASH): packets that ended their XDP chain (its last
 * stage, a drop, the hand-off to userspace, a failed tail call), by the
 * chain version they read and the set of stages they ran (bit = slot). */
struct xi_chain_run_key {
	__u32 conn_id;
	__u32 version;
	__u32 stages_mask;
};

/* xi_chain_tally (PERCPU_ARRAY, key conn_id, max_conns + 1 entries): the
 * common case of xi_chain_runs without its ~35 ns hash lookup a packet. The
 * slot holds one version, the connection's current one: runs[k] counts the
 * packets of that version that ended their XDP chain having run its first k
 * stages (their stages_mask is the slots of the bank's first k stages).
 * Packets of another version fall back to xi_chain_runs. conn add writes
 * {1, zeros}; set-chain, after its grace period, adds the slot's counts into
 * xi_chain_runs under the old version and writes {new version, zeros}; conn
 * del writes zeros (version 0 matches no packet: versions start at 1). */
struct xi_chain_tally {
	__u32 version;
	__u32 pad;
	__u64 runs[XI_CHAIN_STAGES_MAX + 1];
};

/* The tap copies whole frames (up to XI_TAP_SNAP_FRAME), not just headers:
 * an observer of the bank's chain keeps them (packet-dump). */
#define XI_CONN_F_TAP_FRAMES   0x1u

/* xi_scratch (PERCPU_ARRAY, one entry): what one packet carries from stage to
 * stage. xi_entry writes every field a stage reads for the packet's kind
 * (RTCP leaves the RTP-only fields as they were, unread), so nothing carries
 * over between packets or test-run repetitions; the chain is copied here so a
 * connection updated mid-packet does not change this packet's path. */
struct xi_pkt_ctx {
	__u64 now_ns;              /* arrival time; 0 until a stage reads the clock */
	__u32 conn_id;
	__u32 ssrc;                /* RTP SSRC, or the sender SSRC of RTCP */
	__u32 rtp_timestamp;
	__u32 default_clock_rate;
	__u16 seq;
	__u16 l3_off;              /* offsets from the start of the frame */
	__u16 l4_off;
	__u16 payload_off;         /* UDP payload */
	__u16 payload_len;
	__u16 rtp_hdr_len;         /* fixed header + CSRCs + extension */
	__u16 rtp_pad_len;         /* padding bytes at the end, P bit */
	__u8 is_rtcp;
	__u8 payload_type;
	__u8 marker;
	__u8 pos;                  /* next entry of stages[] to run */
	__u8 n_stages;
	__u8 verdict;
	__u8 stages[XI_CHAIN_STAGES_MAX];
	__u8 egress;               /* 1: TC egress (xi_tc_egress) runs this packet */
	__u8 srtp_trailer;         /* SRTP: tag bytes after the payload (xi_conn), 0: plain */
	__u8 conn_flags;           /* XI_CONN_F_* of the bank the chain came from */
	__u32 version;             /* of the chain the packet read */
	__u32 ran;                 /* stages run so far, bit = slot */
};

/* Key of every per-stream map. */
struct xi_stream_key {
	__u32 conn_id;
	__u32 ssrc;
};

/*
 * xi_conn_meta (HASH by __u32 conn_id): a connection's spec as the control
 * plane was given it, so that any later process can rebuild its chain from
 * the pins. No program reads it. The sizes match XI_CONN_MAX_STREAMS and
 * XI_CHAIN_TEXT_MAX of dataplane.h.
 */
#define XI_CONN_META_STREAMS   16
#define XI_CONN_META_CHAIN_MAX 512

struct xi_conn_meta_endpoint {
	__u8 family;               /* enum xi_family, 0: none (wildcard remote) */
	__u8 pad;
	__u16 port;                /* host order */
	__u8 addr[16];             /* IPv4 in bytes 0-3 */
};

struct xi_conn_meta_stream {
	__u32 ssrc;
	__u32 clock_rate;
	__u8 payload_type;
	__u8 pad[3];
};

/* A local stream (BindLocalStream): what the application sends. */
struct xi_conn_meta_local {
	__u32 ssrc;
	__u32 clock_rate;
	__u32 rtx_ssrc;            /* RFC 4588 retransmissions, when has_rtx */
	__u8 payload_type;
	__u8 rtx_payload_type;
	__u8 has_rtx;
	__u8 pad;
};

struct xi_conn_meta {
	__u32 conn_id;
	__u32 n_streams;
	struct xi_conn_meta_endpoint local;
	struct xi_conn_meta_endpoint remote;
	struct xi_conn_meta_stream streams[XI_CONN_META_STREAMS];
	char chain[XI_CONN_META_CHAIN_MAX];   /* NUL-terminated chain text */
	__u32 n_local;
	struct xi_conn_meta_local local_streams[XI_CONN_META_STREAMS];
};

/*
 * XI_STAGE_TO_USER (bpf/to_user.bpf.c, program xi_to_user): ends the XDP part
 * of a chain that goes on in userspace. `xicept run` puts the program into
 * the slot while it runs and its AF_XDP sockets into xi_xsks (XSKMAP, key: rx
 * queue index); with the slot empty, or no socket for the packet's queue, the
 * packet gets the no_daemon policy and counts as XI_REASON_NO_DAEMON.
 * A redirected frame carries struct xi_xsk_meta in front of it (pushed with
 * bpf_xdp_adjust_head): the descriptor's first 32 bytes are the metadata, the
 * Ethernet frame follows.
 */
#define XI_XSKS_MAX            64     /* rx queues one interface may serve */
#define XI_XSK_META_MAGIC      0x78697831u   /* "xix1" */

struct xi_xsk_meta {
	__u64 now_ns;              /* arrival, as header-stats saw it */
	__u32 magic;               /* XI_XSK_META_MAGIC */
	__u32 conn_id;
	__u32 ssrc;                /* RTP SSRC, or the sender SSRC of RTCP */
	__u16 l3_off;              /* offsets from the start of the frame */
	__u16 l4_off;
	__u16 payload_off;
	__u16 payload_len;
	__u8 resume;               /* chain elements XDP ran: userspace starts here */
	__u8 is_rtcp;
	__u16 version;             /* low 16 bits of the chain version the packet read */
};

/*
 * XI_STAGE_TAP (bpf/tap.bpf.c, program xi_tap): ends the XDP part of a chain
 * whose userspace elements only observe (nack-generator, receiver-report,
 * header-stats...). The packet goes on to the stack at once; a copy of the
 * start of its frame goes into the ring buffer xi_tap_ring for `xicept run`, which
 * runs the observers on it. Media never waits for userspace, and a slow or
 * dead daemon cannot lose it: a full ring counts XI_REASON_TAP_FULL, an empty
 * slot (no daemon) XI_REASON_NO_DAEMON, and the packet passes either way.
 *
 * A record holds the frame's first caplen bytes and what userspace needs to
 * rebuild the rest: the frame's length, and the RTP padding count that ends
 * it. meta is as xi_to_user would have put it in front of the frame.
 */
#define XI_TAP_SNAP_HDR        128    /* the small record's frame bytes; a power of two */
#define XI_TAP_SNAP_FRAME      2048   /* the large record's; a power of two */
#define XI_TAP_RING_BYTES      (16u << 20)
/* The record that takes the ring's fill across this wakes the reader; no
 * other does (bpf/tap.bpf.c): the daemon reads on a timer below it. */
#define XI_TAP_WAKE_BYTES      (XI_TAP_RING_BYTES / 8)

/* A record is this header and then the frame's first caplen bytes, in one of
 * two sizes: sizeof + XI_TAP_SNAP_HDR when the bytes the connection's
 * observers read fit (the headers up to the end of the RTP header, its CSRCs
 * and extension: what nack-generator, receiver-report, header-stats and TWCC
 * read), else sizeof + XI_TAP_SNAP_FRAME (RTCP, whose observers read it all;
 * headers longer than the small record; connections with
 * XI_CONN_F_TAP_FRAMES, such as packet-dump's, which keep whole frames). */
struct xi_tap_record {
	struct xi_xsk_meta meta;
	__u32 queue;               /* rx queue, for emitted RTCP */
	__u16 frame_len;
	__u16 caplen;              /* bytes of frame[] filled */
	__u8 rtp_pad_len;          /* RTP: the frame's last byte (P bit) */
	__u8 egress;               /* 1: a packet leaving (TC egress) */
	__u8 pad[6];
	__u8 frame[];
};

/*
 * Small records (sizeof(struct xi_tap_record) + XI_TAP_SNAP_HDR) of packets
 * arriving are batched per CPU: XDP stages up to XI_TAP_BATCH_MAX of them
 * and writes them as one ring record, struct xi_tap_batch followed by count
 * records of record_bytes each, so the ring's reserve and commit (its spin
 * lock, about 25 ns) are paid once a batch instead of once a packet. A batch
 * goes out when it is full, before a large record from the same CPU (records
 * stay in their CPU's order), or at the latest XI_TAP_FLUSH_US after its
 * first record, by a timer pinned to that CPU. A reader tells a batch from a
 * record by the magic at meta.magic's offset. Kernels whose timers cannot be
 * pinned (before 6.7) get single records only.
 */
#define XI_TAP_BATCH_MAGIC     0x78697462u   /* "xitb" */
#define XI_TAP_BATCH_MAX       8
#define XI_TAP_FLUSH_US        500u

struct xi_tap_batch {
	__u64 reserved;            /* where a record has meta.now_ns; 0 */
	__u32 magic;               /* XI_TAP_BATCH_MAGIC, where a record has meta.magic */
	__u16 count;               /* records that follow, 1..XI_TAP_BATCH_MAX */
	__u16 record_bytes;        /* each one's: sizeof(struct xi_tap_record) + XI_TAP_SNAP_HDR */
};

/*
 * xi_tap_stage (ARRAY by CPU; attach sizes it to the possible CPUs): the
 * small records a CPU has staged, with the timer that flushes them. Only its
 * own CPU touches an entry (bpf/tap.bpf.c). mode XI_TAP_DIRECT writes single
 * records (a CPU whose timer cannot be pinned; or set from userspace, as
 * tests of the single-record path do: an update keeps the timer).
 */
enum { XI_TAP_NEW, XI_TAP_BATCHING, XI_TAP_DIRECT };

#define XI_TAP_SMALL_BYTES     (sizeof(struct xi_tap_record) + XI_TAP_SNAP_HDR)

struct xi_tap_stage {
	struct bpf_timer timer;
	__u32 n;                   /* records staged */
	__u8 busy;                 /* XDP is writing the entry */
	__u8 armed;                /* the flush timer is set */
	__u8 mode;                 /* XI_TAP_NEW, _BATCHING, _DIRECT */
	__u8 pad;
	struct xi_tap_batch hdr;   /* the ring record: this, then n of slots */
	__u8 slots[XI_TAP_BATCH_MAX][XI_TAP_SMALL_BYTES];
};

/*
 * Records of packets leaving (TC egress, XI_STAGE_TAP in a connection's
 * egress list) are large ones and hold the whole frame, up to XI_TAP_FULL
 * bytes, so that the nack-responder can keep copies to retransmit. Their
 * meta.now_ns is the send time.
 */
#define XI_TAP_FULL            XI_TAP_SNAP_FRAME

/*
 * xi_remote_reports (HASH by xi_stream_key, keyed by a local SSRC): what the
 * remote's receiver reports say about a local stream, and the
 * nack-responder's counts. Written by `xicept run` (sender-report,
 * nack-responder); no program touches it. rtt_q16 is RFC 3550's A - LSR -
 * DLSR in 1/65536 s.
 */
struct xi_remote_report {
	__u64 reports;             /* report blocks received about the stream */
	__u64 rtt_reports;         /* of those, with an LSR: rtt_q16 is set */
	__u32 rtt_q16;
	__u32 fraction_lost;       /* 8 bits, /256 */
	__s32 cumulative_lost;
	__u32 jitter;              /* RTP timestamp units */
	__u32 ext_highest_seq;
	__u32 pad;
	__u64 nack_requested;      /* sequence numbers NACKed */
	__u64 nack_resent;         /* of those, retransmitted */
	__u64 nack_missed;         /* of those, no longer held */
};

/*
 * xi_rtcp_ignored (ARRAY, XI_RTCP_BAD__MAX entries of __u64): RTCP the
 * userspace interceptors received and did not act on, by reason. Written by
 * `xicept run`. Append only.
 */
#define XI_RTCP_BADS(X) \
	X(XI_RTCP_BAD_MALFORMED, 0, "malformed", "the compound does not parse (lengths, version)") \
	X(XI_RTCP_BAD_TRUNCATED, 1, "truncated", "a feedback packet shorter than its fixed part") \
	X(XI_RTCP_BAD_FCI, 2, "fci_overrun", "an FCI that does not fill its packet exactly") \
	X(XI_RTCP_BAD_UNKNOWN_FMT, 3, "unknown_fmt", "RTPFB/PSFB with a FMT nothing here knows") \
	X(XI_RTCP_BAD_SRTCP_AUTH, 4, "srtcp_auth", \
	  "SRTCP that failed authentication with the connection's in keys: reached no interceptor") \
	X(XI_RTCP_BAD_SRTCP_REPLAY, 5, "srtcp_replay", \
	  "SRTCP with an index seen before (a replay): reached no interceptor") \
	X(XI_RTCP_BAD_SRTCP_NO_KEYS, 6, "srtcp_no_keys", \
	  "SRTCP of a connection whose keys the daemon could not read: reached no interceptor")

enum xi_rtcp_bad {
	XI_RTCP_BADS(XI_LIST_ENUM)
	XI_RTCP_BAD__MAX,
};
XI_RTCP_BADS(XI_LIST_PIN)

#endif
