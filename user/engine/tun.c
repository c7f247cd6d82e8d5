// SPDX-License-Identifier: MIT
/*
 * A TUN device as the engine's way back into the kernel stack: a packet
 * written to it is received by the namespace as if it had arrived on a
 * (layer 3) interface, so the application's UDP socket sees the datagram
 * unchanged. See user/engine/tun.h for the sysctls it needs.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "user/engine/tun.h"

/* /proc/sys/net is the caller's network namespace's. */
static int sysctl_write(const char *dev, const char *key, const char *value)
{
	char path[128];
	int fd, r = 0;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/%s", dev, key);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		r = -errno;
	close(fd);
	return r;
}

static int sysctl_read_int(const char *dev, const char *key, int *ret)
{
	char path[128], buf[16] = { 0 };
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/%s", dev, key);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	return sscanf(buf, "%d", ret) == 1 ? 0 : -EIO;
}

static int rp_filter_relax(const char *dev, int *ret_relaxed_all)
{
	int all = 0, r;

	*ret_relaxed_all = 0;
	r = sysctl_write(dev, "rp_filter", "0");
	if (!r)
		r = sysctl_write(dev, "accept_local", "1");
	if (!r)
		r = sysctl_read_int("all", "rp_filter", &all);
	if (r || all != 1)
		return r;
	/* Loose mode still accepts: the sources are routable, through the
	 * interface xicept serves. */
	r = sysctl_write("all", "rp_filter", "2");
	*ret_relaxed_all = !r;
	return r;
}

static int link_up(const char *name, unsigned mtu)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;

	if (s < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_mtu = (int)mtu;
	if (mtu && ioctl(s, SIOCSIFMTU, &ifr))
		r = -errno;
	if (!r && ioctl(s, SIOCGIFFLAGS, &ifr))
		r = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!r && ioctl(s, SIOCSIFFLAGS, &ifr))
		r = -errno;
	close(s);
	return r;
}

int xi_tun_open(struct xi_tun *tun, const char *name_template, unsigned mtu,
		int *ret_relaxed_all)
{
	struct ifreq ifr = { 0 };
	int relaxed = 0, r;

	if (!tun || !name_template || strlen(name_template) >= IF_NAMESIZE)
		return -EINVAL;
	tun->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (tun->fd < 0)
		return -errno;
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name_template);
	if (ioctl(tun->fd, TUNSETIFF, &ifr)) {
		r = -errno;
		xi_tun_close(tun);
		return r;
	}
	snprintf(tun->name, sizeof(tun->name), "%s", ifr.ifr_name);
	r = link_up(tun->name, mtu);
	if (!r)
		r = rp_filter_relax(tun->name, &relaxed);
	if (r) {
		xi_tun_close(tun);
		return r;
	}
	if (ret_relaxed_all)
		*ret_relaxed_all = relaxed;
	return 0;
}

int xi_tun_write(struct xi_tun *tun, const uint8_t *pkt, size_t len)
{
	ssize_t n = write(tun->fd, pkt, len);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

void xi_tun_close(struct xi_tun *tun)
{
	if (!tun || tun->fd < 0)
		return;
	close(tun->fd);
	tun->fd = -1;
}
