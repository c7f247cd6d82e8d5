// SPDX-License-Identifier: MIT
/*
 * The engine's loss bookkeeping (see user/engine/loss.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>

#include <xicept/dataplane.h>

#include "user/engine/loss.h"
#include "user/lib/log.h"

/* Adds what counter now shows beyond *seen (counters only grow). */
static uint64_t advance(uint64_t *seen, uint64_t now)
{
	uint64_t d = now > *seen ? now - *seen : 0;

	if (now > *seen)
		*seen = now;
	return d;
}

void xi_loss_xsk_delta(struct xi_loss_xsk *seen, const struct xdp_statistics *st, bool extra,
		       uint64_t delta[XI_LOSS__MAX])
{
	uint64_t dropped = advance(&seen->dropped, st->rx_dropped), fill = 0;

	if (extra) {
		/* The fill-ring part of rx_dropped: never more than rx_dropped
		 * grew, so the two reasons add up to rx_dropped exactly. */
		uint64_t f = st->rx_fill_ring_empty_descs < seen->dropped ?
				     st->rx_fill_ring_empty_descs : seen->dropped;

		fill = advance(&seen->fill, f);
		if (fill > dropped) {
			seen->fill -= fill - dropped;
			fill = dropped;
		}
		delta[XI_LOSS_RX_RING_FULL] += advance(&seen->ring_full, st->rx_ring_full);
	}
	delta[XI_LOSS_FILL_EMPTY] += fill;
	delta[XI_LOSS_RX_DROPPED] += dropped - fill;
	delta[XI_LOSS_RX_INVALID] += advance(&seen->rx_invalid, st->rx_invalid_descs);
	delta[XI_LOSS_TX_FAILED] += advance(&seen->tx_invalid, st->tx_invalid_descs);
}

int xi_loss_map_add(int fd, uint64_t add[XI_LOSS__MAX])
{
	for (__u32 i = 0; i < XI_LOSS__MAX; i++) {
		__u64 v;

		if (!add[i])
			continue;
		if (bpf_map_lookup_elem(fd, &i, &v))
			return -errno;
		v += add[i];
		if (bpf_map_update_elem(fd, &i, &v, BPF_EXIST))
			return -errno;
		add[i] = 0;
	}
	return 0;
}

void xi_loss_format(const uint64_t counts[XI_LOSS__MAX], char *buf, size_t size)
{
	size_t off = 0;

	if (!size)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < XI_LOSS__MAX; i++) {
		int n;

		if (!counts[i])
			continue;
		n = snprintf(buf + off, size - off, "%s%s %llu", off ? ", " : "", xi_loss_name(i),
			     (unsigned long long)counts[i]);
		if (n < 0 || (size_t)n >= size - off)
			return;
		off += (size_t)n;
	}
	if (!off)
		snprintf(buf, size, "none");
}

static uint64_t sum(const uint64_t v[XI_LOSS__MAX])
{
	uint64_t s = 0;

	for (size_t i = 0; i < XI_LOSS__MAX; i++)
		s += v[i];
	return s;
}

static void line(struct xi_loss_log *l, uint64_t now_ns, xi_loss_log_fn log, void *user)
{
	char what[256];

	xi_loss_format(l->pending, what, sizeof(what));
	xi_logf(log, user, "loss: %llu packets in the last %.1f s (%s)",
		(unsigned long long)sum(l->pending), (double)(now_ns - l->since_ns) / 1e9, what);
	memset(l->pending, 0, sizeof(l->pending));
	l->since_ns = now_ns;
	l->last_line_ns = now_ns;
	l->have_line = true;
}

void xi_loss_log_tick(struct xi_loss_log *l, const uint64_t delta[XI_LOSS__MAX], uint64_t now_ns,
		      xi_loss_log_fn log, void *user)
{
	char what[256];

	if (!l->last_tick_ns)
		l->last_tick_ns = now_ns;
	if (sum(delta)) {
		if (!l->losing) {
			l->losing = true;
			memset(l->episode, 0, sizeof(l->episode));
			if (!sum(l->pending))
				l->since_ns = l->last_tick_ns;
		}
		for (size_t i = 0; i < XI_LOSS__MAX; i++) {
			l->pending[i] += delta[i];
			l->episode[i] += delta[i];
		}
		l->last_loss_ns = now_ns;
		if (!l->have_line || now_ns - l->last_line_ns >= XI_LOSS_LOG_NS)
			line(l, now_ns, log, user);
	} else if (l->losing && now_ns - l->last_loss_ns >= XI_LOSS_LOG_NS) {
		if (sum(l->pending))
			line(l, now_ns, log, user);
		xi_loss_format(l->episode, what, sizeof(what));
		xi_logf(log, user, "loss stopped after %llu packets (%s)",
			(unsigned long long)sum(l->episode), what);
		l->losing = false;
	}
	l->last_tick_ns = now_ns;
}

void xi_loss_log_flush(struct xi_loss_log *l, uint64_t now_ns, xi_loss_log_fn log, void *user)
{
	if (sum(l->pending))
		line(l, now_ns, log, user);
}
