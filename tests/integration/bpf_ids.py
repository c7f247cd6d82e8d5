#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bpf_ids.py prog|map ID...: prints the IDs still in the kernel's table.

It walks BPF_PROG_GET_NEXT_ID / BPF_MAP_GET_NEXT_ID, which take no reference,
rather than opening each object by id as `bpftool ... show id` does: on one
kernel (6.18.44) opening prog arrays by id while their last references went
kept them alive for good, so a test that watched objects being freed that way
made the leak it was looking for.
"""
import ctypes
import os
import sys

SYS_BPF = 321                 # x86_64
CMD = {"prog": 11, "map": 12}  # BPF_PROG_GET_NEXT_ID, BPF_MAP_GET_NEXT_ID


class Attr(ctypes.Structure):
    _fields_ = [("start_id", ctypes.c_uint32), ("next_id", ctypes.c_uint32),
                ("open_flags", ctypes.c_uint32), ("pad", ctypes.c_uint32)]


def ids(cmd):
    libc = ctypes.CDLL(None, use_errno=True)
    found, attr = set(), Attr()
    while libc.syscall(SYS_BPF, cmd, ctypes.byref(attr), ctypes.sizeof(attr)) == 0:
        found.add(attr.next_id)
        attr.start_id = attr.next_id
    err = ctypes.get_errno()
    if err != 2:  # ENOENT: the end of the table
        sys.exit(f"bpf_ids.py: {os.strerror(err)}")
    return found


if len(sys.argv) < 2 or sys.argv[1] not in CMD:
    sys.exit("usage: bpf_ids.py prog|map ID...")
alive = ids(CMD[sys.argv[1]])
print(" ".join(i for i in sys.argv[2:] if int(i) in alive))
