/* SPDX-License-Identifier: MIT */
/* nack-responder's counts, for tests and tools. */
#ifndef XICEPT_NACK_RESPONDER_H
#define XICEPT_NACK_RESPONDER_H

#include <stdint.h>

#include <xicept/interceptor.h>

struct xi_nack_responder_counts {
	uint64_t requested;       /* sequence numbers NACKed */
	uint64_t resent;          /* of those, retransmitted */
	uint64_t missed;          /* of those, no longer (or never) held */
	uint64_t kept;            /* packets copied into the buffer */
};

/* -EINVAL when ic is no nack-responder, -ENOENT for an unbound SSRC. */
int xi_nack_responder_counts(struct xi_interceptor *ic, uint32_t ssrc,
			     struct xi_nack_responder_counts *ret);

#endif
