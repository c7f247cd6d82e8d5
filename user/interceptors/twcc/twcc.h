/* SPDX-License-Identifier: MIT */
/* twcc's counts, for tests and tools. */
#ifndef XICEPT_TWCC_H
#define XICEPT_TWCC_H

#include <stdint.h>

#include <xicept/interceptor.h>

struct xi_twcc_counts {
	uint64_t received;        /* packets with a transport-wide number */
	uint64_t late;            /* ... older than what was reported already: not reported */
	uint64_t duplicates;      /* ... reported once only */
	uint64_t feedbacks;       /* feedback packets sent */
};

int xi_twcc_counts(struct xi_interceptor *ic, struct xi_twcc_counts *ret);

#endif
