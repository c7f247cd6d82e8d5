// SPDX-License-Identifier: MIT
/*
 * The floor of user/dataplane/: names, pin paths and fds of an interface's
 * maps, and the bpf filesystem they are pinned on. Calls nothing else of the
 * folder; every other file of it may call this one.
 */
#include <errno.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statfs.h>

#include <bpf/bpf.h>

#include "user/dataplane/internal.h"

#define BPFFS_ROOT "/sys/fs/bpf"

static const char *const map_names[XI_MAP__MAX] = {
	[XI_MAP_CONFIG] = "xi_config",
	[XI_MAP_REASONS] = "xi_reasons",
	[XI_MAP_FLOWS4] = "xi_flows4",
	[XI_MAP_FLOWS6] = "xi_flows6",
	[XI_MAP_PORTS] = "xi_ports",
	[XI_MAP_CONNS] = "xi_conns",
	[XI_MAP_STAGES] = "xi_stages",
	[XI_MAP_CONN_META] = "xi_conn_meta",
	[XI_MAP_LOSSES] = "xi_losses",
	[XI_MAP_CHAIN_RUNS] = "xi_chain_runs",
	[XI_MAP_CHAIN_TALLY] = "xi_chain_tally",
};

const char *xi_dataplane_map_name(enum xi_dataplane_map map)
{
	return map < XI_MAP__MAX ? map_names[map] : NULL;
}

int xi_dataplane_map_fd(const struct xi_dataplane *dp, enum xi_dataplane_map map)
{
	return map < XI_MAP__MAX ? dp->map_fds[map] : -EINVAL;
}

int xi_dataplane_stage_fd(const struct xi_dataplane *dp, uint32_t slot, unsigned map)
{
	if (slot >= XI_STAGES_SLOTS || map >= XI_STAGE_MAPS_MAX)
		return -EINVAL;
	return dp->stage_fds[slot][map] >= 0 ? dp->stage_fds[slot][map] : -EINVAL;
}

int xi_dataplane_ifname_check(const char *ifname)
{
	size_t n = ifname ? strlen(ifname) : 0;

	/* The kernel's dev_valid_name(), which also keeps the pin path inside
	 * XI_PIN_ROOT: no '/', no "." or "..". */
	if (n == 0 || n >= IF_NAMESIZE || !strcmp(ifname, ".") || !strcmp(ifname, ".."))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (ifname[i] == '/' || ifname[i] == ':' || ifname[i] <= ' ')
			return -EINVAL;
	return 0;
}

int xi_dataplane_pin_path(const char *ifname, const char *name, char *buf, size_t size)
{
	int n = name ? snprintf(buf, size, "%s/%s/%s", XI_PIN_ROOT, ifname, name)
		     : snprintf(buf, size, "%s/%s", XI_PIN_ROOT, ifname);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Pins only live on a bpf filesystem; some systems never mount one. */
int xi_bpffs_ensure(void)
{
	struct statfs st;

	if (statfs(BPFFS_ROOT, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", BPFFS_ROOT, "bpf", 0, "mode=0700"))
		return -errno;
	return 0;
}

int xi_dataplane_pin_get(const char *ifname, const char *name)
{
	char path[PATH_MAX];
	int fd, r = xi_dataplane_pin_path(ifname, name, path, sizeof(path));

	if (r)
		return r;
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}
