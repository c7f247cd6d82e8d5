/* SPDX-License-Identifier: MIT */
/*
 * Delivery onward: how the AF_XDP engine hands the datagrams a chain let
 * through back to the kernel stack of its network namespace, so that the
 * application's socket gets them as if XDP had passed them.
 *
 * A batch of datagrams goes in with one sendmmsg() on a raw socket
 * (IPPROTO_RAW: the IPv4 or IPv6 header is ours, the remote's source
 * address included). The route to the destination, one of this namespace's
 * own addresses, is local: the packet loops back through lo and is received
 * with the route its output lookup attached, so no reverse-path filter and
 * no extra device is involved. One system call a batch, so the receiving
 * application is woken once a batch rather than once a packet.
 */
#ifndef XICEPT_ENGINE_DELIVER_H
#define XICEPT_ENGINE_DELIVER_H

#include <stddef.h>
#include <stdint.h>

#define XI_DELIVER_BATCH 64u

struct xi_deliver;

/* Opens the two raw sockets (IPv4, IPv6). ifindex: the interface the
 * packets came in on, the scope of IPv6 link-local destinations. 0, or a
 * negative errno. */
int xi_deliver_new(unsigned ifindex, struct xi_deliver **ret);
void xi_deliver_free(struct xi_deliver *d);   /* NULL is fine */

/*
 * Queues one IPv4 or IPv6 datagram. With copy false, pkt must stay valid
 * until the next xi_deliver_flush (a frame of the engine's UMEM); with copy
 * true it is copied (a buffer the chain reuses). A full batch is flushed
 * first. Returns what that flush returned, or 0.
 */
int xi_deliver_add(struct xi_deliver *d, const uint8_t *pkt, size_t len, int copy);

/*
 * Sends what is queued, in as few system calls as the kernel allows.
 * Returns how many datagrams could not be handed over (counted by the
 * caller as XI_LOSS_DELIVER_FAILED), 0 when all were.
 */
unsigned xi_deliver_flush(struct xi_deliver *d);

#endif
