// SPDX-License-Identifier: MIT
/*
 * The userspace reader of an XDP-kind interceptor: what its stage does in
 * XDP, done by its C twin on the packets a userspace chain reads. The packet
 * is classified exactly as xi_entry classifies a UDP payload, so a stage sees
 * the same fields in both places; STUN, DTLS and the rest pass untouched.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include <xicept/attributes.h>

#include "user/lib/clock.h"
#include "user/twin/twin.h"

/* The engine stamps arrival times; a chain read without one gets now. */
static ssize_t stage_read(void *ctx, uint8_t *buf, size_t cap, struct xi_attributes *attrs)
{
	struct xi_stage_reader *sr = ctx;
	struct xi_pkt_ctx pc = { 0 };
	ssize_t n = xi_reader_read(sr->next, buf, cap, attrs);
	uint64_t trailer = 0;
	uint32_t reason;

	if (n <= 0)
		return n;
	if (attrs)
		xi_attributes_get_u64(attrs, XI_ATTR_SRTP_TRAILER, &trailer);
	reason = xi_twin_classify_srtp(buf, (size_t)n, (uint8_t)trailer, &pc);
	if (reason != XI_REASON_RTP && reason != XI_REASON_RTCP && reason != XI_REASON_SRTCP)
		return n;
	pc.now_ns = xi_arrival_ns(attrs);
	return sr->run(sr->owner, &pc) == XI_ACT_DROP ? 0 : n;
}

int xi_stage_reader_add(struct xi_stage_reader **list, struct xi_reader next, void *owner,
			xi_stage_run_fn run, uint32_t ssrc, bool rtcp, struct xi_reader *ret)
{
	struct xi_stage_reader *sr = calloc(1, sizeof(*sr));

	if (!sr)
		return -ENOMEM;
	sr->next = next;
	sr->owner = owner;
	sr->run = run;
	sr->ssrc = ssrc;
	sr->rtcp = rtcp;
	sr->next_reader = *list;
	*list = sr;
	*ret = (struct xi_reader){ .read = stage_read, .ctx = sr };
	return 0;
}

void xi_stage_reader_remove(struct xi_stage_reader **list, uint32_t ssrc)
{
	for (struct xi_stage_reader **p = list; *p; p = &(*p)->next_reader) {
		struct xi_stage_reader *sr = *p;

		if (!sr->rtcp && sr->ssrc == ssrc) {
			*p = sr->next_reader;
			free(sr);
			return;
		}
	}
}

void xi_stage_readers_free(struct xi_stage_reader **list)
{
	while (*list) {
		struct xi_stage_reader *sr = *list;

		*list = sr->next_reader;
		free(sr);
	}
}
