/* SPDX-License-Identifier: MIT */
/* An AF_XDP socket of a test's own, bound in copy mode to queue 0 of a veth
 * pair it makes (<prefix><pid>a/b): what xi_xsks must hold for xi_to_user
 * and xi_tap to see a daemon. */
#ifndef XI_TESTS_XSK_H
#define XI_TESTS_XSK_H

#include <net/if.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/if_xdp.h>

#include <xdp/xsk.h>

#include "bpf/xi_sys.h"

#define XSK_FX_FRAMES 64u

struct xsk_fx {
	char ifname[IF_NAMESIZE], peer[IF_NAMESIZE];
	void *area;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp, rx;
};

/* Removes whatever xsk_fx_up made; safe after a partial setup. */
static inline void xsk_fx_down(struct xsk_fx *x)
{
	if (x->xsk)
		xsk_socket__delete(x->xsk);
	x->xsk = NULL;
	if (x->umem)
		xsk_umem__delete(x->umem);
	x->umem = NULL;
	if (x->area)
		munmap(x->area, XSK_FX_FRAMES * XSK_UMEM__DEFAULT_FRAME_SIZE);
	x->area = NULL;
	if (x->ifname[0])
		run_cmd("ip link del %s 2>/dev/null%s", x->ifname, "");
}

/* 0, or -1 with everything undone. */
static inline int xsk_fx_up(struct xsk_fx *x, const char *prefix)
{
	struct xsk_umem_config ucfg = { .fill_size = XSK_FX_FRAMES, .comp_size = XSK_FX_FRAMES,
					.frame_size = XSK_UMEM__DEFAULT_FRAME_SIZE };
	struct xsk_socket_config scfg = { .rx_size = XSK_FX_FRAMES, .tx_size = XSK_FX_FRAMES,
					  .libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
					  .bind_flags = XDP_COPY };
	size_t len = XSK_FX_FRAMES * XSK_UMEM__DEFAULT_FRAME_SIZE;

	snprintf(x->ifname, sizeof(x->ifname), "%s%da", prefix, (int)getpid() % 100000);
	snprintf(x->peer, sizeof(x->peer), "%s%db", prefix, (int)getpid() % 100000);
	if (run_cmd("ip link add %s type veth peer name %s", x->ifname, x->peer) ||
	    run_cmd("ip link set %s up && ip link set %s up", x->ifname, x->peer))
		goto fail;
	x->area = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x->area == MAP_FAILED) {
		x->area = NULL;
		goto fail;
	}
	if (xsk_umem__create(&x->umem, x->area, len, &x->fill, &x->comp, &ucfg)) {
		x->umem = NULL;
		goto fail;
	}
	if (xsk_socket__create(&x->xsk, x->ifname, 0, x->umem, &x->rx, &x->tx, &scfg)) {
		x->xsk = NULL;
		goto fail;
	}
	return 0;
fail:
	xsk_fx_down(x);
	return -1;
}

#endif
