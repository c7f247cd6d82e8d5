// SPDX-License-Identifier: MIT
/*
 * Batched delivery into the stack through raw sockets (see deliver.h).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "user/lib/net.h"
#include "user/engine/deliver.h"

#define COPY_MAX 2048u   /* a datagram the chain changed: up to an MTU */

struct xi_deliver {
	int fd4, fd6;
	unsigned ifindex;
	unsigned n;                           /* queued */
	int family[XI_DELIVER_BATCH];
	struct iovec iov[XI_DELIVER_BATCH];
	union {
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} dst[XI_DELIVER_BATCH];
	struct mmsghdr msg[XI_DELIVER_BATCH];
	uint8_t copies[XI_DELIVER_BATCH][COPY_MAX];
};

int xi_deliver_new(unsigned ifindex, struct xi_deliver **ret)
{
	struct xi_deliver *d = calloc(1, sizeof(*d));
	int r;

	if (!d)
		return -ENOMEM;
	d->ifindex = ifindex;
	d->fd4 = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	d->fd6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (d->fd4 < 0 || d->fd6 < 0) {
		r = -errno;
		xi_deliver_free(d);
		return r;
	}
	*ret = d;
	return 0;
}

void xi_deliver_free(struct xi_deliver *d)
{
	if (!d)
		return;
	if (d->fd4 >= 0)
		close(d->fd4);
	if (d->fd6 >= 0)
		close(d->fd6);
	free(d);
}

int xi_deliver_add(struct xi_deliver *d, const uint8_t *pkt, size_t len, int copy)
{
	unsigned i;
	int lost = 0;

	if (len < 20 || (pkt[0] >> 4 != 4 && pkt[0] >> 4 != 6) || (copy && len > COPY_MAX))
		return -EINVAL;
	if (d->n == XI_DELIVER_BATCH)
		lost = (int)xi_deliver_flush(d);
	i = d->n++;
	if (copy) {
		memcpy(d->copies[i], pkt, len);
		pkt = d->copies[i];
	}
	d->iov[i] = (struct iovec){ .iov_base = (void *)pkt, .iov_len = len };
	memset(&d->dst[i], 0, sizeof(d->dst[i]));
	if (pkt[0] >> 4 == 4) {
		d->family[i] = AF_INET;
		d->dst[i].in.sin_family = AF_INET;
		memcpy(&d->dst[i].in.sin_addr, pkt + 16, 4);
	} else {
		d->family[i] = AF_INET6;
		d->dst[i].in6.sin6_family = AF_INET6;
		memcpy(&d->dst[i].in6.sin6_addr, pkt + 24, 16);
		if (IN6_IS_ADDR_LINKLOCAL(&d->dst[i].in6.sin6_addr))
			d->dst[i].in6.sin6_scope_id = d->ifindex;
	}
	d->msg[i] = (struct mmsghdr){ .msg_hdr = {
		.msg_name = &d->dst[i],
		.msg_namelen = d->family[i] == AF_INET ? sizeof(struct sockaddr_in)
						       : sizeof(struct sockaddr_in6),
		.msg_iov = &d->iov[i], .msg_iovlen = 1,
	} };
	return lost;
}

/* Runs of one family go in one sendmmsg each; a datagram the kernel
 * refuses is skipped and counted, the rest still go. */
unsigned xi_deliver_flush(struct xi_deliver *d)
{
	unsigned i = 0, lost = 0;

	while (i < d->n) {
		unsigned j = i;
		int fd, sent;

		while (j < d->n && d->family[j] == d->family[i])
			j++;
		fd = d->family[i] == AF_INET ? d->fd4 : d->fd6;
		sent = sendmmsg(fd, &d->msg[i], j - i, MSG_DONTWAIT);
		if (sent <= 0) {
			if (sent < 0 && errno == EINTR)
				continue;
			lost++;       /* the first of the run: skip it */
			i++;
		} else {
			i += (unsigned)sent;
		}
	}
	d->n = 0;
	return lost;
}
