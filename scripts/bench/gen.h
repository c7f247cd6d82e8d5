/* SPDX-License-Identifier: MIT */
/* Shared by gen.bpf.c and xi_gen.c: the frame layout and the generator's state. */
#ifndef XI_BENCH_GEN_H
#define XI_BENCH_GEN_H

#include <linux/types.h>

#define GEN_SSRCS_MAX 64            /* a power of two: the index is masked */
/* Ethernet, IPv4 without options, UDP, then RTP: the frame xi_gen builds. */
#define GEN_UDP_OFF   (14 + 20)
#define GEN_RTP_OFF   (GEN_UDP_OFF + 8)
#define GEN_TS_STEP   3000          /* RTP timestamp step a packet (90 kHz video, 30 fps) */

struct gen_state {
	__u64 sent;                 /* frames returned XDP_TX */
	__u32 next;                 /* index of the next SSRC, round robin */
	__u32 count[GEN_SSRCS_MAX]; /* per SSRC: sequence number and timestamp source */
};

#endif
