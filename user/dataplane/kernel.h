/* SPDX-License-Identifier: MIT */
/*
 * An interface's state found from the kernel rather than from the pins
 * (user/dataplane/kernel.c): the XDP program on its hook, that program's
 * maps, the stage programs, and the pins made again where they are missing.
 */
#ifndef XICEPT_DATAPLANE_KERNEL_H
#define XICEPT_DATAPLANE_KERNEL_H

#include <stdint.h>

#include <xicept/dataplane.h>

struct bpf_object;
struct xi_dataplane;

/* The id of the XDP program on ifindex's hook (0: none) and its mode. */
int xi_kernel_xdp_prog(int ifindex, uint32_t *ret_id, enum xi_xdp_mode *ret_mode);
/* 1 when the program is xicept's xi_entry, 0 when it is another's, -errno. */
int xi_kernel_is_entry(int prog_fd);
/* An fd of xicept's xi_entry on ifindex's hook. -ENOENT: no program;
 * -EBUSY: another's program (*ret_id says which). */
int xi_kernel_entry_get(int ifindex, int *ret_fd, uint32_t *ret_id);
/* Opens dp (ifname set, fds -1) from the program on ifindex's hook, makes
 * the pins where they are missing, puts back emptied stage slots.
 * -ENOENT: xicept is not attached there. */
int xi_kernel_open(struct xi_dataplane *dp, int ifindex);
/* Takes xicept's program off the hook, and its pins. -ENOENT: nothing
 * attached and no pins; -EBUSY: another's program, left in place. */
int xi_kernel_detach(const char *ifname, int ifindex);
/* Removes the pin directory of ifname in both views unless it shows
 * another entry than entry_id (0: any). 1 when the caller's was removed. */
int xi_kernel_pins_remove(const char *ifname, uint32_t entry_id);

#endif
