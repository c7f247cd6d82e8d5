// SPDX-License-Identifier: MIT
/*
 * Per-CPU counter maps from userspace. The kernel keeps one copy of a value
 * per possible CPU, each rounded up to 8 bytes; a counter's value is the sum
 * of the copies. Values here are arrays of __u64 counters.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "user/dataplane/internal.h"

/* Room for every CPU's copy of n counters; NULL: ENOMEM or no CPU count. */
static uint64_t *copies_alloc(size_t n, int *ret_ncpu)
{
	int ncpu = libbpf_num_possible_cpus();

	if (ncpu <= 0) {
		errno = EINVAL;
		return NULL;
	}
	*ret_ncpu = ncpu;
	return calloc((size_t)ncpu * n, sizeof(uint64_t));
}

int xi_percpu_sum(int fd, const void *key, uint64_t *ret, size_t n)
{
	uint64_t *v;
	int ncpu, r = 0;

	v = copies_alloc(n, &ncpu);
	if (!v)
		return -errno;
	if (bpf_map_lookup_elem(fd, key, v))
		r = -errno;
	for (size_t i = 0; !r && i < n; i++) {
		ret[i] = 0;
		for (int c = 0; c < ncpu; c++)
			ret[i] += v[(size_t)c * n + i];
	}
	free(v);
	return r;
}

int xi_percpu_add(int fd, const void *key, const uint64_t *add, size_t n)
{
	uint64_t *v;
	int ncpu, r = 0;

	v = copies_alloc(n, &ncpu);
	if (!v)
		return -errno;
	if (bpf_map_lookup_elem(fd, key, v) && errno != ENOENT)
		r = -errno;
	for (size_t i = 0; !r && i < n; i++)
		v[i] += add[i];   /* CPU 0's copy */
	if (!r && bpf_map_update_elem(fd, key, v, BPF_ANY))
		r = -errno;
	free(v);
	return r;
}
