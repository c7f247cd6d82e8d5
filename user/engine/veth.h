/* SPDX-License-Identifier: MIT */
/*
 * The daemon's own veth pair, the way back into the stack for the datagrams
 * a chain lets through (user/engine/deliver.h): frames written into one end
 * with AF_XDP TX arrive on the other as if from the wire.
 *
 * For the interface of ifindex N, in the caller's network namespace (the
 * interface's): xid<N>, where the engine transmits, and its peer xid<N>p,
 * where the stack receives. Made and removed over rtnetlink (libnl-route-3).
 * Both ends are down until configured and carry no address: IPv6 makes no
 * link-local address (addr_gen_mode none), so neither end sends anything of
 * its own. One TX and RX queue per engine thread. The peer's IPv4 reverse
 * path filter is off, since the source is routed through the interface the
 * packet really came in on. Where net.ipv4.conf.all.rp_filter is on (the
 * kernel takes the maximum of it and the device's) it is loose instead, and
 * the peer holds the RFC 7600 dummy address 192.0.0.8/32, host scope: the
 * kernel fails the check on a device without an IPv4 address, loose or not.
 * The peer's accept_local and disable_ipv6 follow the interface's. Only the
 * pair's own settings change, so removing the pair restores everything. A pair of these names left by a daemon that
 * was killed is removed first; a link of the name that is not such a pair is
 * left alone (-EEXIST).
 */
#ifndef XICEPT_ENGINE_VETH_H
#define XICEPT_ENGINE_VETH_H

#include <net/if.h>
#include <stdint.h>

struct xi_veth;

#define XI_VETH_DUMMY_ADDR "192.0.0.8"   /* RFC 7600 */

struct xi_veth_info {
	char name[IF_NAMESIZE];         /* xid<N>: the engine transmits here */
	char peer[IF_NAMESIZE];         /* xid<N>p: the stack receives here */
	unsigned ifindex, peer_ifindex;
	uint8_t mac[6], peer_mac[6];
	unsigned queues;
	uint32_t mtu;
};

/* The pair's names for the interface of ifindex parent. 0 or -EINVAL. */
int xi_veth_names(unsigned parent, char ret_name[IF_NAMESIZE], char ret_peer[IF_NAMESIZE]);

/* The peer's rp_filter, given net.ipv4.conf.all.rp_filter: 0 where that is
 * 0, else 2 (loose), which max(all, dev) leaves loose. */
uint32_t xi_veth_rp_filter(uint32_t all);

/* Makes the pair for parent with queues TX/RX queues on each end, frames of
 * up to mtu bytes past Ethernet, configured and up. -EEXIST: a link of one
 * of the names is not the daemon's pair; -EPERM; other negative errnos. */
int xi_veth_new(unsigned parent, unsigned queues, uint32_t mtu, struct xi_veth **ret);
const struct xi_veth_info *xi_veth_info(const struct xi_veth *v);
/* Removes the pair. NULL is fine. */
void xi_veth_free(struct xi_veth *v);

#endif
