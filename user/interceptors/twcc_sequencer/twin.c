// SPDX-License-Identifier: MIT
/* Twin of the element search of twcc_sequencer.bpf.c. */
#include <errno.h>

#include "user/interceptors/twcc_sequencer/twin.h"

#define ELEMS_MAX 16

int xi_twin_twcc_find(const uint8_t *pkt, size_t len, uint8_t id)
{
	size_t x, at, end;

	if (len < 12 || !(pkt[0] & 0x10))
		return -ENOENT;
	x = 12 + (size_t)(pkt[0] & 0x0f) * 4;
	if (x + 4 > len || pkt[x] != 0xbe || pkt[x + 1] != 0xde)
		return -ENOENT;
	at = x + 4;
	end = at + ((size_t)pkt[x + 2] << 8 | pkt[x + 3]) * 4;
	if (end > len)
		end = len;
	for (int i = 0; i < ELEMS_MAX; i++) {
		uint8_t e;

		if (at >= end)
			return -ENOENT;
		e = pkt[at];
		if (e == 0) {
			at++;
			continue;
		}
		if (e >> 4 == 15)
			return -ENOENT;
		if (e >> 4 == id)
			return (e & 0x0f) == 1 && at + 3 <= end ? (int)(at + 1) : -ENOENT;
		at += 2 + (e & 0x0f);
	}
	return -ENOENT;
}

int xi_twin_twcc_write(uint8_t *pkt, size_t len, uint8_t id, uint16_t seq)
{
	int at = xi_twin_twcc_find(pkt, len, id);

	if (at < 0)
		return 0;
	pkt[at] = (uint8_t)(seq >> 8);
	pkt[at + 1] = (uint8_t)seq;
	return 1;
}
