/* SPDX-License-Identifier: MIT */
/* A veth pair of a test's own, attached in skb mode with the global catalog:
 * the fixture of the tests that need a real dataplane handle. */
#ifndef XI_TESTS_VETH_H
#define XI_TESTS_VETH_H

#include <net/if.h>
#include <stdio.h>
#include <unistd.h>

#include <xicept/catalog.h>
#include <xicept/dataplane.h>

#include "bpf/xi_sys.h"

struct veth_dp {
	char ifname[IF_NAMESIZE], peer[IF_NAMESIZE];
	struct xi_catalog *cat;
	struct xi_dataplane *dp;
};

/* Removes whatever veth_dp_up made; safe after a partial setup. */
static inline void veth_dp_down(struct veth_dp *v)
{
	xi_dataplane_close(v->dp);
	v->dp = NULL;
	xi_dataplane_detach(v->ifname);
	run_cmd("ip link del %s 2>/dev/null%s", v->ifname, "");
	xi_catalog_free(v->cat);
	v->cat = NULL;
}

/* <prefix><pid>a and ...b, the first attached. -1, everything undone, on
 * failure (cmocka skips the group teardown when the setup fails). */
static inline int veth_dp_up(struct veth_dp *v, const char *prefix)
{
	struct xi_attach_opts o = { .sz = sizeof(o), .mode = XI_XDP_SKB };

	snprintf(v->ifname, sizeof(v->ifname), "%s%da", prefix, (int)getpid() % 100000);
	snprintf(v->peer, sizeof(v->peer), "%s%db", prefix, (int)getpid() % 100000);
	v->cat = xi_catalog_new_from_global();
	if (!v->cat || run_cmd("ip link add %s type veth peer name %s", v->ifname, v->peer) ||
	    xi_dataplane_attach(v->ifname, &o, v->cat, &v->dp)) {
		veth_dp_down(v);
		return -1;
	}
	return 0;
}

#endif
