/* SPDX-License-Identifier: MIT */
/*
 * Delivery onward: how the AF_XDP engine hands the datagrams a chain let
 * through back to the kernel stack of its network namespace, so that the
 * application's socket gets them as if XDP had passed them. Two ways, one
 * per engine thread:
 *
 * veth (xi_deliver_new_veth): each datagram is written, behind an Ethernet
 * header to the peer's address, into a frame of the thread's own UMEM and
 * transmitted by AF_XDP (copy mode) on the thread's TX queue of the daemon's
 * veth (user/engine/veth.h); one sendto() kick a batch. The kernel builds an
 * skb from each frame and the peer receives it as if from the wire: no route
 * lookup or IP output on the way, addresses and checksums unchanged. Frames
 * come back through the completion ring once the stack took them. Datagrams
 * the peer cannot take as its own (multicast and broadcast, loopback, IPv6
 * link-local destinations, which the stack only accepts on their own
 * interface) go the raw way instead.
 *
 * raw (xi_deliver_new): a batch goes in with one sendmmsg() on a raw socket
 * (IPPROTO_RAW: the IPv4 or IPv6 header is ours, the remote's source address
 * included). The route to the destination, one of this namespace's own
 * addresses, is local: the packet loops back through lo and is received with
 * the route its output lookup attached, so no reverse-path filter and no
 * extra device is involved.
 *
 * Either way one system call a batch, so the receiving application is woken
 * once a batch rather than once a packet. Nothing is lost silently: what
 * cannot be handed over is returned to the caller as a count (it goes under
 * XI_LOSS_DELIVER_FAILED) and kept by cause in struct xi_deliver_stats.
 */
#ifndef XICEPT_ENGINE_DELIVER_H
#define XICEPT_ENGINE_DELIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XI_DELIVER_BATCH 64u
/* The veth way's frames are 4096 bytes: the largest datagram it takes, and
 * the MTU its veth is made with. */
#define XI_DELIVER_VETH_MTU (4096u - 14u)

struct xi_deliver;
struct xi_veth_info;

/* Opens the two raw sockets (IPv4, IPv6). ifindex: the interface the
 * packets came in on, the scope of IPv6 link-local destinations. 0, or a
 * negative errno. */
int xi_deliver_new(unsigned ifindex, struct xi_deliver **ret);

/* The veth way on TX queue `queue` of v's end (and the raw sockets for what
 * the peer cannot take). 0, or a negative errno (the AF_XDP socket). */
int xi_deliver_new_veth(unsigned ifindex, const struct xi_veth_info *v, unsigned queue,
			struct xi_deliver **ret);
void xi_deliver_free(struct xi_deliver *d);   /* NULL is fine */

/*
 * Queues one IPv4 or IPv6 datagram. With copy false, pkt must stay valid
 * until the next xi_deliver_flush (a frame of the engine's UMEM); with copy
 * true it is copied (a buffer the chain reuses). The veth way copies it
 * into its own frame either way. A full batch is flushed first. Returns how
 * many datagrams could not be handed over (this one included), or a
 * negative errno for a datagram that is not one (counted by the caller).
 */
int xi_deliver_add(struct xi_deliver *d, const uint8_t *pkt, size_t len, int copy);

/*
 * Sends what is queued, in as few system calls as the kernel allows, and
 * kicks what an earlier kick left in the TX ring. Returns how many
 * datagrams could not be handed over (counted by the caller as
 * XI_LOSS_DELIVER_FAILED), 0 when all were.
 */
unsigned xi_deliver_flush(struct xi_deliver *d);

/*
 * The last flush: waits up to timeout_ns for the kernel to take every frame
 * still in the veth's TX ring. Returns what could not be handed over,
 * those frames included (counted as `unsent`).
 */
unsigned xi_deliver_finish(struct xi_deliver *d, uint64_t timeout_ns);

struct xi_deliver_stats {
	uint64_t veth;          /* datagrams into the veth's TX ring */
	uint64_t raw;           /* datagrams handed to a raw socket */
	/* Could not be handed over, by cause (their sum is what the calls
	 * above returned, plus tx_invalid): */
	uint64_t raw_failed;    /* a raw socket refused it */
	uint64_t no_frame;      /* veth: no TX frame free (the stack is behind) */
	uint64_t refused;       /* veth: the veth dropped it (peer's backlog
				 * full, larger than its MTU) */
	uint64_t unsent;        /* veth: still in the TX ring at the end */
	uint64_t tx_invalid;    /* veth: descriptors the kernel rejected */
};

/* Any thread, while another adds (the counters are read relaxed). */
void xi_deliver_stats(const struct xi_deliver *d, struct xi_deliver_stats *ret);
bool xi_deliver_is_veth(const struct xi_deliver *d);

/* ---- pure helpers, exposed for the unit tests ---- */

/* Whether the veth's peer accepts the datagram at l3 (len bytes) as
 * addressed to the stack: a unicast destination that is not loopback and,
 * for IPv6, not link-local. */
bool xi_deliver_veth_takes(const uint8_t *l3, size_t len);

/* Writes an Ethernet header from src to dst (the type from the IP version)
 * and the datagram into frame. Returns the frame length, or -EMSGSIZE when
 * it does not fit cap, -EINVAL when l3 is not IPv4 or IPv6. */
int xi_deliver_eth_frame(uint8_t *frame, size_t cap, const uint8_t dst[6], const uint8_t src[6],
			 const uint8_t *l3, size_t len);

/* What a failed TX kick (its errno) means for the frames in the ring. */
enum xi_deliver_kick {
	XI_KICK_AGAIN,     /* the kernel stopped early (budget, completion
			    * ring full): kick again */
	XI_KICK_DROPPED,   /* one frame was consumed but dropped; the rest
			    * wait: kick again */
	XI_KICK_STOP,      /* the device or socket is unusable: stop kicking,
			    * the frames stay in the ring */
};
enum xi_deliver_kick xi_deliver_kick_errno(int err);

#endif
