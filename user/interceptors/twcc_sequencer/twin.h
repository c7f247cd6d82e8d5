/* SPDX-License-Identifier: MIT */
/* The C twin of xi_twcc_sequencer_tc (twcc_sequencer.bpf.c beside this
 * file): the same search for the extension element, the same write. */
#ifndef XICEPT_TWCC_SEQUENCER_TWIN_H
#define XICEPT_TWCC_SEQUENCER_TWIN_H

#include <stddef.h>
#include <stdint.h>

/* The offset in the RTP packet pkt of the two data bytes of the one-byte
 * extension element id (1..14), or -ENOENT when the packet carries none of
 * two bytes (the BPF program looks at most at 16 elements). */
int xi_twin_twcc_find(const uint8_t *pkt, size_t len, uint8_t id);
/* Writes seq (big-endian) there: 1 when written, 0 when the packet has no
 * such element. */
int xi_twin_twcc_write(uint8_t *pkt, size_t len, uint8_t id, uint16_t seq);

#endif
