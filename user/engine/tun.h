/* SPDX-License-Identifier: MIT */
/*
 * The TUN device through which the AF_XDP engine hands packets back to the
 * kernel stack of its network namespace, so that the receiving application's
 * socket gets them as if XDP had passed them.
 */
#ifndef XICEPT_TUN_H
#define XICEPT_TUN_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

struct xi_tun {
	int fd;
	char name[IF_NAMESIZE];
};

/*
 * Creates a TUN device (IFF_TUN | IFF_NO_PI, no address) named after the
 * template ("xitun%d"), sets its MTU and brings it up. Its packets come from
 * addresses routed through another interface, so reverse-path filtering is
 * turned off on it (rp_filter 0, accept_local 1), and a strict
 * net.ipv4.conf.all.rp_filter (1) is relaxed to loose (2), since the kernel
 * applies the stricter of "all" and the device's own; *ret_relaxed_all says
 * whether that was done. The device goes away when it is closed.
 */
int xi_tun_open(struct xi_tun *tun, const char *name_template, unsigned mtu,
		int *ret_relaxed_all);
/* One IPv4 or IPv6 packet into the stack. 0, or a negative errno. */
int xi_tun_write(struct xi_tun *tun, const uint8_t *pkt, size_t len);
/* NULL is fine, and so is a tun whose fd is -1 (never opened, or closed). */
void xi_tun_close(struct xi_tun *tun);

#endif
