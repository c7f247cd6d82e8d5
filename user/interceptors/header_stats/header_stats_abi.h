/* SPDX-License-Identifier: MIT */
/*
 * header-stats' kernel state: the values of the maps it owns, for streams
 * arriving (XDP) and leaving (its TC program); its stage,
 * xi_stage_header_stats, lists them with their keying.
 * Included by the stage's .bpf.c (BPF) and by its interceptor, twin and
 * tests (userspace); built on the core contract of <xicept/abi.h>.
 */
#ifndef XICEPT_HEADER_STATS_ABI_H
#define XICEPT_HEADER_STATS_ABI_H

#include <xicept/abi.h>

/* xi_clock_rates (HASH by xi_stream_key): written by bind_remote_stream. */
struct xi_clock_rate {
	__u32 clock_rate;          /* Hz */
};

/* xi_hs_conns (ARRAY indexed by __u32 conn_id, max_conns + 1 slots): rated
 * is set once some stream of the connection has its own xi_clock_rates
 * entry (after that entry), so a connection without one skips the lookup. */
struct xi_hs_conn {
	__u32 rated;
};

/*
 * header-stats, xi_stream_stats (HASH by xi_stream_key). Every field is
 * updated under lock, so the counts are exact however many CPUs receive the
 * stream. The entry is created by the first RTP or RTCP packet of the SSRC.
 *
 * packets is RTP and RTCP of the SSRC: rtp_packets + rtcp_packets. RTCP
 * packets count in packets and rtcp_packets of their sender SSRC only.
 * RTP packets count in packets, rtp_packets, header_bytes (fixed header,
 * CSRCs, extension and padding, as W3C headerBytesReceived; on an SRTP
 * connection the padding, being encrypted, is counted as payload),
 * srtp_tag_bytes (SRTP: the authentication tag and MKI, in neither of the
 * others), payload_bytes (the rest), markers and payload_type
 * (the last one seen), run the RFC 3550 A.1 sequence tracking and the A.8
 * jitter estimate.
 *
 * A.1 deviates from the RFC's code in one place: during probation "seq ==
 * max_seq + 1" is computed modulo 2^16, so a source may start at 65535.
 * expected and lost are A.3's, recomputed after every accepted packet.
 *
 * A.8: arrival time in RTP units is now_ns * clock_rate / 1e9 (mod 2^32),
 * clock_rate being the stream's xi_clock_rates entry or the connection's
 * default. jitter_q4 is the RFC's jitter scaled by 16 (J += |D| - (J + 8)/16),
 * jitter = jitter_q4 >> 4. Every RTP packet updates it, accepted by A.1 or not;
 * with clock_rate 0 it is not updated.
 */
struct xi_stream_stats {
	struct bpf_spin_lock lock;
	__u32 ssrc;
	__u32 conn_id;
	__u32 clock_rate;          /* rate used for the last jitter update */
	__u64 packets;
	__u64 rtp_packets;
	__u64 rtcp_packets;
	__u64 header_bytes;
	__u64 payload_bytes;
	__u64 srtp_tag_bytes;
	__u64 markers;
	__u64 first_arrival_ns;
	__u64 last_arrival_ns;
	/* RFC 3550 A.1 */
	__u32 seq_started;         /* 1 after the first RTP packet */
	__u32 max_seq;             /* highest seq seen, 16 bits */
	__u32 cycles;              /* sequence wraps, times 2^16 */
	__u32 base_seq;
	__u32 bad_seq;
	__u32 probation;
	__u32 received;            /* packets A.1 accepted */
	__u32 ext_max_seq;         /* cycles + max_seq */
	__u32 expected;            /* A.3: ext_max_seq - base_seq + 1 */
	__s32 lost;                /* A.3: expected - received (not clamped) */
	/* RFC 3550 A.8 */
	__u32 transit;             /* arrival - timestamp of the last RTP packet */
	__u32 jitter_q4;
	__u32 jitter;
	__u8 payload_type;
	__u8 transit_valid;
	__u8 pad[2];
};

/*
 * Local streams, counted by header-stats in TC egress: xi_local_stats (HASH
 * by xi_stream_key), exact under the entry's lock. octets are RTP payload
 * octets (no header, no padding, no SRTP tag), as an RFC 3550 SR counts them;
 * header_bytes and srtp_tag_bytes are as in xi_stream_stats. The send
 * time is CLOCK_MONOTONIC ns.
 */
struct xi_local_stats {
	struct bpf_spin_lock lock;
	__u32 conn_id;
	__u32 ssrc;
	__u32 last_rtp_ts;
	__u64 packets;             /* RTP and RTCP */
	__u64 rtp_packets;
	__u64 rtcp_packets;
	__u64 octets;
	__u64 header_bytes;
	__u64 srtp_tag_bytes;
	__u64 first_send_ns;
	__u64 last_send_ns;        /* of the packet that carried last_rtp_ts */
	__u16 last_seq;
	__u8 payload_type;
	__u8 pad[5];
};

#endif
