// SPDX-License-Identifier: MIT
/*
 * xi-limit: attaches one of the limit programs of limit.bpf.c in native
 * mode, reads its count, detaches it. The count map is pinned so that each
 * step can be a separate invocation of a shell script.
 *
 *   xi-limit attach IFNAME drop|pass PIN   load, pin the count map at PIN, attach
 *   xi-limit count PIN                     print the sum of the per-CPU counts
 *   xi-limit detach IFNAME                 detach whatever XDP program IFNAME has
 *
 * Run it in IFNAME's network namespace.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "limit.skel.h"

static int fail(const char *what, int err)
{
	fprintf(stderr, "xi-limit: %s: %s\n", what, strerror(err < 0 ? -err : err));
	return 1;
}

static int attach(const char *ifname, const char *which, const char *pin)
{
	unsigned ifindex = if_nametoindex(ifname);
	struct xi_bench_limit *skel;
	struct bpf_program *prog;
	int err;

	if (!ifindex)
		return fail(ifname, errno);
	if (strcmp(which, "drop") && strcmp(which, "pass"))
		return fail("want drop or pass", EINVAL);
	skel = xi_bench_limit__open_and_load();
	if (!skel)
		return fail("load", errno);
	prog = !strcmp(which, "drop") ? skel->progs.xi_limit_drop : skel->progs.xi_limit_pass;
	err = bpf_map__pin(skel->maps.limit_count, pin);
	if (!err)
		err = bpf_xdp_attach(ifindex, bpf_program__fd(prog),
				     XDP_FLAGS_DRV_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	if (err)
		bpf_map__unpin(skel->maps.limit_count, pin);
	/* The attachment holds the program, the pin holds the map. */
	xi_bench_limit__destroy(skel);
	return err ? fail("attach", err) : 0;
}

static int count(const char *pin)
{
	int fd = bpf_obj_get(pin), ncpu = libbpf_num_possible_cpus();
	unsigned long long *v = calloc(ncpu > 0 ? ncpu : 1, sizeof(*v)), n = 0;
	unsigned key = 0;

	if (fd < 0 || !v || bpf_map_lookup_elem(fd, &key, v))
		return fail(pin, errno);
	for (int c = 0; c < ncpu; c++)
		n += v[c];
	printf("%llu\n", n);
	free(v);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "attach"))
		return attach(argv[2], argv[3], argv[4]);
	if (argc == 3 && !strcmp(argv[1], "count"))
		return count(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "detach")) {
		unsigned ifindex = if_nametoindex(argv[2]);
		int err = ifindex ? bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL) : -errno;

		return err ? fail("detach", err) : 0;
	}
	fprintf(stderr, "usage: xi-limit attach IFNAME drop|pass PIN | count PIN | detach IFNAME\n");
	return 2;
}
