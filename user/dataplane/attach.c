// SPDX-License-Identifier: MIT
/*
 * The life of one interface's XDP state: attach loads the one BPF object,
 * pins every map and program under XI_PIN_ROOT/<ifname>/ and attaches
 * xi_entry; open re-opens that state from the pins in any later process;
 * detach removes the program and the pins, and with the pins the maps.
 *
 * The kernel is the source of truth (user/dataplane/kernel.c): an interface
 * is attached when xicept's xi_entry is on its XDP hook, and open finds the
 * maps from that program, so the pins may be missing. A failed attach removes
 * what it made, so an interface is either fully attached or untouched.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <linux/if_link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <xicept/catalog.h>
#include <xicept/dataplane.h>
#include <xicept/registry.h>

#include "user/dataplane/egress.h"
#include "user/dataplane/internal.h"
#include "user/dataplane/kernel.h"
#include "user/dataplane/plugin_stage.h"
#include "xicept.skel.h"

static int dir_make(const char *path)
{
	if (mkdir(path, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

/* Unlinks every entry of the interface's pin directory, then the directory.
 * Maps and programs go away with their last reference. */
static int pins_remove(const char *dir)
{
	struct dirent *de;
	char path[PATH_MAX];
	DIR *d = opendir(dir);
	int r = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			continue;
		if (unlink(path) && !r)
			r = -errno;
	}
	closedir(d);
	if (rmdir(dir) && !r)
		r = -errno;
	return r;
}

static int config_write(struct xicept *skel, const struct xi_attach_opts *opts)
{
	struct xi_iface_config cfg = {
		.unknown_flow = opts->unknown_flow == XI_POLICY_DROP ? XI_ACT_DROP : XI_ACT_PASS,
		.non_rtp = opts->non_rtp == XI_POLICY_DROP ? XI_ACT_DROP : XI_ACT_PASS,
		.no_daemon = opts->no_daemon == XI_POLICY_DROP ? XI_ACT_DROP : XI_ACT_PASS,
	};
	__u32 zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(skel->maps.xi_config), &zero, &cfg, BPF_ANY))
		return -errno;
	return 0;
}

static int pin_all(struct xicept *skel, const char *ifname)
{
	struct bpf_program *prog;
	struct bpf_map *map;
	char path[PATH_MAX];
	int r;

	bpf_object__for_each_map(map, skel->obj) {
		/* .rodata/.bss internals are not part of the interface. */
		if (strncmp(bpf_map__name(map), "xi_", 3))
			continue;
		r = xi_dataplane_pin_path(ifname, bpf_map__name(map), path, sizeof(path));
		if (r || (r = bpf_map__pin(map, path)))
			return r;
	}
	bpf_object__for_each_program(prog, skel->obj) {
		r = xi_dataplane_pin_path(ifname, bpf_program__name(prog), path, sizeof(path));
		if (r || (r = bpf_program__pin(prog, path)))
			return r;
	}
	return 0;
}

/* An ARRAY keyed by connection id has a slot per id, and ids start at 1. */
static int map_size(struct bpf_map *map, __u32 n)
{
	enum bpf_map_type t = bpf_map__type(map);
	bool by_index = t == BPF_MAP_TYPE_ARRAY || t == BPF_MAP_TYPE_PERCPU_ARRAY;

	return bpf_map__set_max_entries(map, by_index ? n + 1 : n);
}

static int map_size_by_name(struct xicept *skel, const char *name, __u32 n)
{
	struct bpf_map *map = bpf_object__find_map_by_name(skel->obj, name);

	return map ? map_size(map, n) : -ENOENT;
}

/* Every table by the option that sizes it: the shared ones by name, a
 * stage's by its descriptor's keying, so a new stage is sized unedited. */
static int tables_size(struct xicept *skel, const struct xi_attach_opts *o)
{
	const struct xi_stage *d;
	int r;

	r = map_size_by_name(skel, xi_dataplane_map_name(XI_MAP_FLOWS4), o->max_flows);
	if (!r)
		r = map_size_by_name(skel, xi_dataplane_map_name(XI_MAP_FLOWS6), o->max_flows);
	if (!r)
		r = map_size_by_name(skel, xi_dataplane_map_name(XI_MAP_CONNS), o->max_conns);
	if (!r)
		r = map_size_by_name(skel, xi_dataplane_map_name(XI_MAP_CONN_META), o->max_conns);
	if (!r)
		r = map_size_by_name(skel, xi_dataplane_map_name(XI_MAP_CHAIN_RUNS), 4 * o->max_conns);
	if (!r)
		r = map_size_by_name(skel, xi_dataplane_map_name(XI_MAP_CHAIN_TALLY),
				     o->max_conns + 1);
	/* The tap's staging (bpf/tap.bpf.c): an entry a CPU. */
	if (!r) {
		int cpus = libbpf_num_possible_cpus();

		r = cpus < 0 ? cpus : bpf_map__set_max_entries(skel->maps.xi_tap_stage, (__u32)cpus);
	}
	/* No program reads the meta (750 bytes a connection): it takes memory
	 * as connections come instead of all of it up front. */
	if (!r)
		r = bpf_map__set_map_flags(skel->maps.xi_conn_meta,
					   bpf_map__map_flags(skel->maps.xi_conn_meta) |
					   BPF_F_NO_PREALLOC);
	for (size_t i = 0; !r && (d = xi_dataplane_stage_at(NULL, i)); i++)
		for (unsigned m = 0; !r && d->maps && d->maps[m].name; m++) {
			if (d->maps[m].key == XI_STAGE_KEY_CONN)
				r = map_size_by_name(skel, d->maps[m].name, o->max_conns);
			else if (d->maps[m].key == XI_STAGE_KEY_STREAM)
				r = map_size_by_name(skel, d->maps[m].name, o->max_streams);
		}
	return r;
}

/* Fills in the defaults; -EINVAL for a size past XI_TABLE_MAX. */
static int tables_check(struct xi_attach_opts *o)
{
	if (!o->max_conns)
		o->max_conns = XI_DEFAULT_MAX_CONNS;
	if (!o->max_flows)
		o->max_flows = XI_DEFAULT_MAX_FLOWS;
	if (!o->max_streams)
		o->max_streams = XI_DEFAULT_MAX_STREAMS;
	if (o->max_conns > XI_TABLE_MAX || o->max_flows > XI_TABLE_MAX ||
	    o->max_streams > XI_TABLE_MAX)
		return -EINVAL;
	return 0;
}

static __u32 xdp_flags(enum xi_xdp_mode mode)
{
	return XDP_FLAGS_UPDATE_IF_NOEXIST |
	       (mode == XI_XDP_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE);
}

/* Load, configure, pin, attach; the caller removes the pins on failure. */
static int attach_load(const char *ifname, int ifindex, const struct xi_attach_opts *opts)
{
	struct xicept *skel = xicept__open();
	int r;

	if (!skel)
		return -errno;
	r = tables_size(skel, opts);
	if (!r)
		r = xicept__load(skel);
	if (!r)
		r = config_write(skel, opts);
	if (!r)
		r = xi_stage_fill_slots(skel->obj, bpf_map__fd(skel->maps.xi_stages), XI_FILL_STAGES);
	if (!r)
		r = xi_stage_fill_slots(skel->obj, bpf_map__fd(skel->maps.xi_progs), XI_FILL_PROGS);
	if (!r)
		r = pin_all(skel, ifname);
	if (!r) {
		r = bpf_xdp_attach(ifindex, bpf_program__fd(skel->progs.xi_entry),
				   xdp_flags(opts->mode), NULL);
		/* Another program holds the XDP hook: "already attached" too. */
		if (r == -EBUSY)
			r = -EEXIST;
	}
	if (!r)
		r = xi_egress_attach(skel->obj, ifindex);   /* TC egress: local streams */
	/* Pins and the XDP hook keep everything alive past the skeleton. */
	xicept__destroy(skel);
	return r;
}

/* Attached or not is the hook's say: xicept's program there is -EEXIST,
 * another's -EBUSY; pins of a program no longer on the hook are stale. */
static int attach_checks(const char *ifname, int *ret_ifindex)
{
	uint32_t id;
	int fd, r = xi_dataplane_ifname_check(ifname);

	if (r)
		return r;
	if (geteuid() != 0)
		return -EPERM;
	*ret_ifindex = (int)if_nametoindex(ifname);
	if (*ret_ifindex == 0)
		return -ENODEV;
	r = xi_kernel_entry_get(*ret_ifindex, &fd, &id);
	if (r == 0) {
		close(fd);
		return -EEXIST;
	}
	if (r != -ENOENT)
		return r;
	r = xi_kernel_pins_remove(ifname, 0);
	return r < 0 ? r : 0;
}

int xi_dataplane_attach(const char *ifname, const struct xi_attach_opts *opts,
			struct xi_catalog *cat, struct xi_dataplane **ret)
{
	struct xi_attach_opts o = { .sz = sizeof(o) };
	char dir[PATH_MAX];
	int ifindex, r;

	if (!ret || (opts && opts->sz < sizeof(size_t)))
		return -EINVAL;
	if (opts)
		memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	o.sz = sizeof(o);
	r = tables_check(&o);
	if (!r)
		r = attach_checks(ifname, &ifindex);
	if (r)
		return r;
	xi_dataplane_pin_path(ifname, NULL, dir, sizeof(dir));
	r = xi_bpffs_ensure();
	if (!r)
		r = dir_make(XI_PIN_ROOT);
	if (r)
		return r;
	if (mkdir(dir, 0700))
		return errno == EEXIST ? -EEXIST : -errno;
	r = attach_load(ifname, ifindex, &o);
	if (!r)
		r = xi_dataplane_open(ifname, cat, ret);
	if (r) {
		xi_dataplane_detach(ifname);
		pins_remove(dir);   /* when detach found no entry program */
	}
	return r;
}

static int handle_new(const char *ifname, struct xi_catalog *cat, struct xi_dataplane **ret)
{
	struct xi_dataplane *dp = calloc(1, sizeof(*dp));

	if (!dp)
		return -ENOMEM;
	for (int i = 0; i < XI_MAP__MAX; i++)
		dp->map_fds[i] = -1;
	for (int i = 0; i < XI_STAGES_SLOTS; i++)
		for (int m = 0; m < XI_STAGE_MAPS_MAX; m++)
			dp->stage_fds[i][m] = -1;
	dp->entry_fd = -1;
	strcpy(dp->ifname, ifname);
	xi_dataplane_pin_path(ifname, NULL, dp->dir, sizeof(dp->dir));
	dp->cat = cat;
	*ret = dp;
	return 0;
}

static int map_max_entries(int fd, __u32 *ret)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*ret = info.max_entries;
	return 0;
}

/* The sizes attach gave, from the maps themselves, so any process sees
 * them: the meta is keyed like every per-connection hash. */
static int tables_read(struct xi_dataplane *dp)
{
	const struct xi_stage *d;
	int r;

	r = map_max_entries(dp->map_fds[XI_MAP_CONN_META], &dp->max_conns);
	if (!r)
		r = map_max_entries(dp->map_fds[XI_MAP_FLOWS4], &dp->max_flows);
	for (size_t i = 0; !r && !dp->max_streams && (d = xi_dataplane_stage_at(NULL, i)); i++)
		for (unsigned m = 0; !r && d->maps && d->maps[m].name; m++)
			if (d->maps[m].key == XI_STAGE_KEY_STREAM) {
				r = map_max_entries(dp->stage_fds[d->slot][m], &dp->max_streams);
				break;
			}
	return r;
}

/* From the program on the interface's hook, not from the pins, which it
 * makes again where they are missing (user/dataplane/kernel.c). */
int xi_dataplane_open(const char *ifname, struct xi_catalog *cat, struct xi_dataplane **ret)
{
	struct xi_dataplane *dp;
	int ifindex, r = xi_dataplane_ifname_check(ifname);

	if (r || !ret)
		return -EINVAL;
	ifindex = (int)if_nametoindex(ifname);
	if (ifindex == 0)
		return -ENOENT;
	r = handle_new(ifname, cat, &dp);
	if (r)
		return r;
	r = xi_kernel_open(dp, ifindex);
	if (!r)
		r = xi_dataplane_plugin_stages_open(dp);
	if (!r)
		r = tables_read(dp);
	if (r) {
		xi_dataplane_close(dp);
		return r;
	}
	*ret = dp;
	return 0;
}

void xi_dataplane_close(struct xi_dataplane *dp)
{
	if (!dp)
		return;
	xi_dataplane_conns_release(dp);
	for (int i = 0; i < XI_MAP__MAX; i++)
		if (dp->map_fds[i] >= 0)
			close(dp->map_fds[i]);
	for (int i = 0; i < XI_STAGES_SLOTS; i++)
		for (int m = 0; m < XI_STAGE_MAPS_MAX; m++)
			if (dp->stage_fds[i][m] >= 0)
				close(dp->stage_fds[i][m]);
	if (dp->entry_fd >= 0)
		close(dp->entry_fd);
	xi_dataplane_plugin_stages_free(dp);
	free(dp);
}

static int prog_id(int fd, __u32 *ret)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*ret = info.id;
	return 0;
}

/* xicept's program comes off the hook whether or not its pins are there;
 * another's program stays (-EBUSY). */
int xi_dataplane_detach(const char *ifname)
{
	int ifindex, r = xi_dataplane_ifname_check(ifname);

	if (r)
		return r;
	ifindex = (int)if_nametoindex(ifname);
	if (ifindex == 0)   /* the interface is gone, and its hook with it */
		return xi_kernel_pins_remove(ifname, 0) > 0 ? 0 : -ENOENT;
	/* The TC egress filter first, while the pins say which is ours. */
	r = xi_egress_detach(ifname);
	if (r)
		return r;
	return xi_kernel_detach(ifname, ifindex);
}

static int names_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The interfaces of this network namespace whose hook holds xicept's
 * program, pins or none. */
int xi_dataplane_list(char ***ret_names, size_t *ret_n)
{
	struct if_nameindex *ifs, *it;
	char **v = NULL, **nv;
	size_t n = 0;

	if (!ret_names || !ret_n)
		return -EINVAL;
	ifs = if_nameindex();
	if (!ifs)
		return -errno;
	for (it = ifs; it->if_index; it++) {
		uint32_t id;
		int fd;

		if (xi_kernel_entry_get((int)it->if_index, &fd, &id))
			continue;
		close(fd);
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv || !(nv[n] = strdup(it->if_name))) {
			xi_strv_free(nv ? nv : v, n);
			if_freenameindex(ifs);
			return -ENOMEM;
		}
		v = nv;
		n++;
	}
	if_freenameindex(ifs);
	if (n)
		qsort(v, n, sizeof(*v), names_cmp);
	*ret_names = v;
	*ret_n = n;
	return 0;
}

const char *xi_dataplane_ifname(const struct xi_dataplane *dp)
{
	return dp ? dp->ifname : NULL;
}

static int info_mode(struct xi_dataplane_info *info)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int r;

	if (info->ifindex == 0)
		return 0;
	r = bpf_xdp_query(info->ifindex, 0, &q);
	if (r)
		return r;
	if (q.skb_prog_id == info->entry_prog_id)
		info->mode = XI_XDP_SKB;
	return 0;
}

static int info_stages(struct xi_dataplane *dp, struct xi_dataplane_info *info)
{
	int fd = dp->map_fds[XI_MAP_STAGES];

	for (__u32 i = 0; i < XI_STAGES_SLOTS && i < 16; i++) {
		__u32 id = 0;

		info->stage_names[i] = xi_dataplane_slot_name(dp, i);
		/* A PROG_ARRAY read from userspace gives the program's id. */
		if (bpf_map_lookup_elem(fd, &i, &id)) {
			if (errno != ENOENT)
				return -errno;
			continue;
		}
		info->stage_prog_ids[i] = id;
		info->n_stage_progs++;
	}
	return 0;
}

int xi_dataplane_info(struct xi_dataplane *dp, struct xi_dataplane_info *ret)
{
	struct xi_dataplane_info info = { 0 };
	struct xi_iface_config cfg;
	uint32_t *ids = NULL;
	__u32 zero = 0;
	int r;

	if (!dp || !ret)
		return -EINVAL;
	strcpy(info.ifname, dp->ifname);
	info.ifindex = (int)if_nametoindex(dp->ifname);
	if (bpf_map_lookup_elem(dp->map_fds[XI_MAP_CONFIG], &zero, &cfg))
		return -errno;
	info.unknown_flow = cfg.unknown_flow == XI_ACT_DROP ? XI_POLICY_DROP : XI_POLICY_PASS;
	info.non_rtp = cfg.non_rtp == XI_ACT_DROP ? XI_POLICY_DROP : XI_POLICY_PASS;
	info.no_daemon = cfg.no_daemon == XI_ACT_DROP ? XI_POLICY_DROP : XI_POLICY_PASS;
	info.max_conns = dp->max_conns;
	info.max_flows = dp->max_flows;
	info.max_streams = dp->max_streams;
	r = prog_id(dp->entry_fd, &info.entry_prog_id);
	if (!r)
		r = info_mode(&info);
	if (!r)
		r = info_stages(dp, &info);
	if (!r)
		r = xi_egress_info(dp, &info);
	if (!r)
		r = xi_dataplane_conn_ids(dp, &ids, &info.n_conns);
	free(ids);
	if (r)
		return r;
	*ret = info;
	return 0;
}
