// SPDX-License-Identifier: MIT
/*
 * The daemon's veth pair over rtnetlink (see veth.h). The order of the
 * steps matters: the pair is made down, its IPv6 address generation and
 * the peer's IPv4 settings are set before either end goes up (an end that
 * came up with addr_gen_mode eui64 would already have sent its router
 * solicitation), then both go up.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/inet.h>
#include <netlink/route/link/inet6.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/netconf.h>

#include "user/engine/veth.h"

struct xi_veth {
	struct xi_veth_info info;
};

int xi_veth_names(unsigned parent, char ret_name[IF_NAMESIZE], char ret_peer[IF_NAMESIZE])
{
	if (!parent || snprintf(ret_peer, IF_NAMESIZE, "xid%up", parent) >= IF_NAMESIZE)
		return -EINVAL;
	snprintf(ret_name, IF_NAMESIZE, "xid%u", parent);
	return 0;
}

uint32_t xi_veth_rp_filter(uint32_t all)
{
	return all ? 2 : 0;
}

/* libnl's errors as errnos, for what the callers tell apart. */
static int nl_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_SUCCESS:
		return 0;
	case NLE_EXIST:
		return -EEXIST;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_PERM:
	case NLE_NOACCESS:
		return -EPERM;
	case NLE_OBJ_NOTFOUND:
	case NLE_NODEV:
		return -ENODEV;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_INVAL:
	case NLE_RANGE:
		return -EINVAL;
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:
		return -EAFNOSUPPORT;
	default:
		return -EIO;
	}
}

static int nl_open(struct nl_sock **ret)
{
	struct nl_sock *sk = nl_socket_alloc();
	int r;

	if (!sk)
		return -ENOMEM;
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r) {
		nl_socket_free(sk);
		return nl_errno(r);
	}
	*ret = sk;
	return 0;
}

/* A pair of these names from an earlier daemon: removed. Anything else of
 * either name: -EEXIST. */
static int veth_remove_stale(struct nl_sock *sk, const char *name, const char *peer)
{
	struct rtnl_link *l = NULL, *p = NULL;
	int r = nl_errno(rtnl_link_get_kernel(sk, 0, name, &l));

	if (r == -ENODEV) {
		r = nl_errno(rtnl_link_get_kernel(sk, 0, peer, &p));
		rtnl_link_put(p);
		return r == -ENODEV ? 0 : r ? r : -EEXIST;
	}
	if (r)
		return r;
	r = nl_errno(rtnl_link_get_kernel(sk, 0, peer, &p));
	if (!r && (!rtnl_link_is_veth(l) || !rtnl_link_is_veth(p) ||
		   rtnl_link_get_link(l) != rtnl_link_get_ifindex(p)))
		r = -EEXIST;
	else if (r == -ENODEV)
		r = -EEXIST;
	if (!r)
		r = nl_errno(rtnl_link_delete(sk, l));   /* and its peer */
	rtnl_link_put(l);
	rtnl_link_put(p);
	return r;
}

static int sysctl_read(const char *path, uint32_t *ret)
{
	char buf[32];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	*ret = (uint32_t)strtoul(buf, NULL, 10);
	return 0;
}

static int sysctl_write(const char *path, uint32_t v)
{
	char buf[16];
	int fd = open(path, O_WRONLY | O_CLOEXEC), n, r = 0;

	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%u\n", v);
	if (write(fd, buf, (size_t)n) != n)
		r = -errno;
	close(fd);
	return r;
}

/* What the peer's IPv4 settings are to be: rp_filter from conf/all, and
 * accept_local as the parent has it. */
static int peer_inet_conf(struct nl_sock *sk, unsigned parent, uint32_t *ret_rp, uint32_t *ret_local)
{
	struct nl_cache *nc = NULL;
	struct rtnl_netconf *all;
	struct rtnl_link *l = NULL;
	int rp = 0, r;

	r = nl_errno(rtnl_netconf_alloc_cache(sk, &nc));
	if (r)
		return r;
	all = rtnl_netconf_get_all(nc, AF_INET);
	if (all) {
		rtnl_netconf_get_rp_filter(all, &rp);
		rtnl_netconf_put(all);
	}
	nl_cache_free(nc);
	*ret_rp = xi_veth_rp_filter((uint32_t)rp);
	*ret_local = 0;
	r = nl_errno(rtnl_link_get_kernel(sk, (int)parent, NULL, &l));
	if (r)
		return r;
	rtnl_link_inet_get_conf(l, IPV4_DEVCONF_ACCEPT_LOCAL, ret_local);
	rtnl_link_put(l);
	return 0;
}

/* One end: no IPv6 address of its own; the peer also its IPv4 settings. */
static int veth_end_conf(struct nl_sock *sk, const char *name, const uint32_t *rp,
			 const uint32_t *local)
{
	struct rtnl_link *l = NULL, *chg = rtnl_link_alloc();
	int r;

	if (!chg)
		return -ENOMEM;
	r = nl_errno(rtnl_link_get_kernel(sk, 0, name, &l));
	if (!r) {
		if (rp) {
			rtnl_link_inet_set_conf(chg, IPV4_DEVCONF_RP_FILTER, *rp);
			rtnl_link_inet_set_conf(chg, IPV4_DEVCONF_ACCEPT_LOCAL, *local);
		}
		rtnl_link_inet6_set_addr_gen_mode(chg, IN6_ADDR_GEN_MODE_NONE);
		r = nl_errno(rtnl_link_change(sk, l, chg, 0));
	}
	if (r == -EAFNOSUPPORT && rp) {
		/* A kernel without IPv6: the IPv4 part alone. */
		rtnl_link_put(chg);
		chg = rtnl_link_alloc();
		if (!chg)
			r = -ENOMEM;
		else {
			rtnl_link_inet_set_conf(chg, IPV4_DEVCONF_RP_FILTER, *rp);
			rtnl_link_inet_set_conf(chg, IPV4_DEVCONF_ACCEPT_LOCAL, *local);
			r = nl_errno(rtnl_link_change(sk, l, chg, 0));
		}
	} else if (r == -EAFNOSUPPORT) {
		r = 0;
	}
	rtnl_link_put(chg);
	rtnl_link_put(l);
	return r;
}

/* The peer takes IPv6 where the parent does (a new link gets
 * conf/default's disable_ipv6, which need not be the parent's). */
static int peer_ipv6(unsigned parent, const char *peer)
{
	char pname[IF_NAMESIZE], path[96];
	uint32_t want, have;

	if (!if_indextoname(parent, pname))
		return -errno;
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", pname);
	if (sysctl_read(path, &want))
		return 0;   /* no IPv6 */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", peer);
	if (sysctl_read(path, &have) || have == want)
		return 0;
	return sysctl_write(path, want);
}

/* The kernel's reverse-path check fails a device without an IPv4 address
 * whenever its rp_filter (the maximum of conf/all's and its own) is on,
 * loose or not: then the peer gets the RFC 7600 dummy address, host scope,
 * which routes nothing and is never picked as a source. */
static int peer_dummy_addr(struct nl_sock *sk, unsigned ifindex)
{
	struct rtnl_addr *a = rtnl_addr_alloc();
	struct nl_addr *local = NULL;
	int r;

	if (!a)
		return -ENOMEM;
	r = nl_errno(nl_addr_parse(XI_VETH_DUMMY_ADDR "/32", AF_INET, &local));
	if (!r) {
		rtnl_addr_set_ifindex(a, (int)ifindex);
		rtnl_addr_set_local(a, local);
		rtnl_addr_set_scope(a, RT_SCOPE_HOST);
		r = nl_errno(rtnl_addr_add(sk, a, 0));
	}
	nl_addr_put(local);
	rtnl_addr_put(a);
	return r;
}

/* Up, and what the kernel made: ifindex and address. */
static int veth_end_up(struct nl_sock *sk, const char *name, unsigned *ret_ifindex, uint8_t mac[6])
{
	struct rtnl_link *l = NULL, *chg = rtnl_link_alloc();
	struct nl_addr *a;
	int r;

	if (!chg)
		return -ENOMEM;
	r = nl_errno(rtnl_link_get_kernel(sk, 0, name, &l));
	if (!r) {
		rtnl_link_set_flags(chg, IFF_UP);
		r = nl_errno(rtnl_link_change(sk, l, chg, 0));
	}
	if (!r) {
		a = rtnl_link_get_addr(l);
		if (!a || nl_addr_get_len(a) != 6)
			r = -EIO;
		else
			memcpy(mac, nl_addr_get_binary_addr(a), 6);
		*ret_ifindex = (unsigned)rtnl_link_get_ifindex(l);
	}
	rtnl_link_put(chg);
	rtnl_link_put(l);
	return r;
}

static int veth_make(struct nl_sock *sk, struct xi_veth_info *v)
{
	struct rtnl_link *l = rtnl_link_veth_alloc(), *p;
	int r;

	if (!l)
		return -ENOMEM;
	p = rtnl_link_veth_get_peer(l);
	rtnl_link_set_name(l, v->name);
	rtnl_link_set_name(p, v->peer);
	rtnl_link_set_num_tx_queues(l, v->queues);
	rtnl_link_set_num_rx_queues(l, v->queues);
	rtnl_link_set_num_tx_queues(p, v->queues);
	rtnl_link_set_num_rx_queues(p, v->queues);
	rtnl_link_set_mtu(l, v->mtu);
	rtnl_link_set_mtu(p, v->mtu);
	r = nl_errno(rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL));
	rtnl_link_put(p);
	rtnl_link_veth_release(l);
	return r;
}

static void veth_delete(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *l = rtnl_link_alloc();

	if (!l)
		return;
	rtnl_link_set_name(l, name);
	rtnl_link_delete(sk, l);
	rtnl_link_put(l);
}

int xi_veth_new(unsigned parent, unsigned queues, uint32_t mtu, struct xi_veth **ret)
{
	struct xi_veth *v;
	struct nl_sock *sk;
	uint32_t rp, local;
	int r;

	if (!queues || !mtu || !ret)
		return -EINVAL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	r = xi_veth_names(parent, v->info.name, v->info.peer);
	if (!r)
		r = nl_open(&sk);
	if (r) {
		free(v);
		return r;
	}
	v->info.queues = queues;
	v->info.mtu = mtu;
	r = peer_inet_conf(sk, parent, &rp, &local);
	if (!r)
		r = veth_remove_stale(sk, v->info.name, v->info.peer);
	if (!r)
		r = veth_make(sk, &v->info);
	if (r) {
		nl_socket_free(sk);
		free(v);
		return r;
	}
	r = veth_end_conf(sk, v->info.name, NULL, NULL);
	if (!r)
		r = veth_end_conf(sk, v->info.peer, &rp, &local);
	if (!r)
		r = peer_ipv6(parent, v->info.peer);
	if (!r)
		r = veth_end_up(sk, v->info.peer, &v->info.peer_ifindex, v->info.peer_mac);
	if (!r && rp)
		r = peer_dummy_addr(sk, v->info.peer_ifindex);
	if (!r)
		r = veth_end_up(sk, v->info.name, &v->info.ifindex, v->info.mac);
	if (r) {
		veth_delete(sk, v->info.name);
		nl_socket_free(sk);
		free(v);
		return r;
	}
	nl_socket_free(sk);
	*ret = v;
	return 0;
}

const struct xi_veth_info *xi_veth_info(const struct xi_veth *v)
{
	return &v->info;
}

void xi_veth_free(struct xi_veth *v)
{
	struct nl_sock *sk;

	if (!v)
		return;
	if (!nl_open(&sk)) {
		veth_delete(sk, v->info.name);
		nl_socket_free(sk);
	}
	free(v);
}
