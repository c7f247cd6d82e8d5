// SPDX-License-Identifier: MIT
/*
 * The kernel is the source of truth for an interface's state; the pins are a
 * view of it for bpftool.
 *
 * An interface is attached when its XDP hook holds xicept's xi_entry (found
 * through netlink, bpf_xdp_query). xi_entry references every map of the
 * object (bpf/entry.bpf.c, xi_maps_anchor), so its map ids give all of them,
 * the connection specs (xi_conn_meta) included; xi_progs gives every stage
 * program by slot. So a process that cannot see the pins (`ip netns exec`,
 * which mounts a fresh /sys; a new mount namespace with a bpffs of its own or
 * none; pins deleted) still finds everything, and re-creates the pins it
 * misses.
 *
 * The PROG_ARRAYs are the one thing that needs the pins: the kernel empties
 * one when its last user reference (an fd or a pin) goes. So the pins are
 * kept in two places: the caller's /sys/fs/bpf, and the bpffs of the mount
 * namespace that outlives every command, PID 1's (or, where /proc/1 is closed
 * to us, our oldest readable ancestor's); a child process enters it.
 * When every pin was gone and the arrays were emptied, the stage programs are
 * loaded again over the existing maps and put back: no state is lost.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_link.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "user/dataplane/internal.h"
#include "user/dataplane/kernel.h"
#include "user/dataplane/srtp_store.h"
#include "xicept.skel.h"

#define ENTRY_PROG  "xi_entry"
#define PROGS_MAP   "xi_progs"
#define MAPS_MAX    64

struct kmap {
	char name[BPF_OBJ_NAME_LEN];
	int fd;
};

/* Every map and program of one loaded object, as the kernel has them. */
struct kobj {
	struct kmap maps[MAPS_MAX];
	size_t n_maps;
	int progs[XI_STAGES_SLOTS];   /* by slot, from xi_progs; -1 where empty */
};

int xi_kernel_xdp_prog(int ifindex, uint32_t *ret_id, enum xi_xdp_mode *ret_mode)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q))
		return -errno;
	*ret_id = q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id ? q.skb_prog_id : q.hw_prog_id;
	if (ret_mode)
		*ret_mode = q.skb_prog_id && q.skb_prog_id == *ret_id ? XI_XDP_SKB : XI_XDP_NATIVE;
	return 0;
}

static int prog_info(int fd, struct bpf_prog_info *info, uint32_t *map_ids, uint32_t n)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	if (map_ids) {
		info->nr_map_ids = n;
		info->map_ids = (__u64)(unsigned long)map_ids;
	}
	return bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
}

static int map_name(int fd, char *name, size_t size)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	snprintf(name, size, "%s", info.name);
	return 0;
}

static void kobj_init(struct kobj *k)
{
	memset(k, 0, sizeof(*k));
	for (int i = 0; i < XI_STAGES_SLOTS; i++)
		k->progs[i] = -1;
}

static void kobj_free(struct kobj *k)
{
	for (size_t i = 0; i < k->n_maps; i++)
		close(k->maps[i].fd);
	for (int i = 0; i < XI_STAGES_SLOTS; i++)
		if (k->progs[i] >= 0)
			close(k->progs[i]);
	kobj_init(k);
}

/* By name as the kernel keeps it: cut at BPF_OBJ_NAME_LEN - 1 bytes
 * ("xi_remote_reports" is "xi_remote_repor" there). */
static int kobj_map(const struct kobj *k, const char *name)
{
	for (size_t i = 0; i < k->n_maps; i++)
		if (!strncmp(k->maps[i].name, name, BPF_OBJ_NAME_LEN - 1))
			return k->maps[i].fd;
	return -ENOENT;
}

/* The maps the program references, by name; only xicept's ("xi_"). */
static int kobj_maps_read(struct kobj *k, int prog_fd)
{
	struct bpf_prog_info info;
	uint32_t ids[MAPS_MAX];
	int r = prog_info(prog_fd, &info, ids, MAPS_MAX);

	if (r)
		return r;
	if (info.nr_map_ids > MAPS_MAX)
		return -E2BIG;
	for (uint32_t i = 0; i < info.nr_map_ids; i++) {
		char name[BPF_OBJ_NAME_LEN];
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0)
			return -errno;
		r = map_name(fd, name, sizeof(name));
		if (r || strncmp(name, "xi_", 3) || kobj_map(k, name) >= 0 || k->n_maps == MAPS_MAX) {
			close(fd);
			if (r)
				return r;
			continue;
		}
		snprintf(k->maps[k->n_maps].name, sizeof(k->maps[0].name), "%s", name);
		k->maps[k->n_maps++].fd = fd;
	}
	return 0;
}

static int kobj_progs_read(struct kobj *k)
{
	int fd = kobj_map(k, PROGS_MAP);

	if (fd < 0)
		return fd;
	for (__u32 i = 0; i < XI_STAGES_SLOTS; i++) {
		__u32 id;

		if (k->progs[i] >= 0) {
			close(k->progs[i]);
			k->progs[i] = -1;
		}
		if (bpf_map_lookup_elem(fd, &i, &id))
			continue;   /* empty */
		k->progs[i] = bpf_prog_get_fd_by_id(id);
		if (k->progs[i] < 0)
			k->progs[i] = -1;   /* gone meanwhile: as empty */
	}
	return 0;
}

int xi_kernel_is_entry(int prog_fd)
{
	struct kobj k;
	struct bpf_prog_info info;
	int r = prog_info(prog_fd, &info, NULL, 0);

	if (r)
		return r;
	if (strcmp(info.name, ENTRY_PROG))
		return 0;
	kobj_init(&k);
	r = kobj_maps_read(&k, prog_fd);
	if (!r)
		r = kobj_map(&k, "xi_conn_meta") >= 0 && kobj_map(&k, PROGS_MAP) >= 0 &&
		    kobj_map(&k, "xi_config") >= 0;
	kobj_free(&k);
	return r;
}

int xi_kernel_entry_get(int ifindex, int *ret_fd, uint32_t *ret_id)
{
	uint32_t id = 0;
	int fd, r = xi_kernel_xdp_prog(ifindex, &id, NULL);

	if (ret_id)
		*ret_id = id;
	if (r)
		return r;
	if (!id)
		return -ENOENT;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	r = xi_kernel_is_entry(fd);
	if (r <= 0) {
		close(fd);
		return r < 0 ? r : -EBUSY;
	}
	*ret_fd = fd;
	return 0;
}

/* ---- programs: put back when the arrays were emptied ---- */

/* How long open waits for the kernel's deferred emptying of the arrays. */
#define EMPTY_WAIT_MS 1000

static bool progs_complete(const struct kobj *k)
{
	const struct xi_stage *d;

	for (size_t i = 0; (d = xi_dataplane_stage_at(NULL, i)); i++)
		if (d->slot != XI_STAGE_EGRESS && k->progs[d->slot] < 0)
			return false;
	return true;
}

/* Whether xi_progs still holds every program of k->progs: a lookup a slot,
 * no program opened, while open waits for the kernel to empty it. */
static bool progs_in_map(const struct kobj *k)
{
	const struct xi_stage *d;
	int fd = kobj_map(k, PROGS_MAP);

	for (size_t i = 0; fd >= 0 && (d = xi_dataplane_stage_at(NULL, i)); i++) {
		__u32 slot = d->slot, id;

		if (d->slot != XI_STAGE_EGRESS && bpf_map_lookup_elem(fd, &slot, &id))
			return false;
	}
	return fd >= 0;
}

/* The load-time slots of xi_stages, from xi_progs: where one is empty the
 * kernel emptied the array, so its chains' tail calls would fail. */
static int stages_refill(const struct kobj *k)
{
	const struct xi_stage *d;
	int fd = kobj_map(k, "xi_stages");

	if (fd < 0)
		return fd;
	for (size_t i = 0; (d = xi_dataplane_stage_at(NULL, i)); i++) {
		__u32 slot = d->slot, id;

		if (d->on_demand || bpf_map_lookup_elem(fd, &slot, &id) == 0)
			continue;
		if (bpf_map_update_elem(fd, &slot, &k->progs[slot], BPF_ANY))
			return -errno;
	}
	return 0;
}

/* Loads the object again over the existing maps (the same binary, so the
 * same programs) and fills xi_progs. The new xi_entry is not attached and
 * goes with the skeleton. */
static int progs_reload(struct kobj *k)
{
	struct xicept *skel = xicept__open();
	struct bpf_map *map;
	int r = 0;

	if (!skel)
		return -errno;
	bpf_object__for_each_map(map, skel->obj) {
		int fd = kobj_map(k, bpf_map__name(map));

		if (fd >= 0 && (r = bpf_map__reuse_fd(map, fd)))
			break;
	}
	if (!r)
		r = xicept__load(skel);
	if (!r)
		r = xi_stage_fill_slots(skel->obj, kobj_map(k, PROGS_MAP), XI_FILL_PROGS);
	xicept__destroy(skel);
	if (!r)
		r = kobj_progs_read(k);
	return r;
}

/* ---- pins ---- */

static int prog_id_of(int fd, uint32_t *ret)
{
	struct bpf_prog_info info;
	int r = prog_info(fd, &info, NULL, 0);

	if (!r)
		*ret = info.id;
	return r;
}

/* The id of the xi_entry pinned in dir, 0 when there is none. */
static uint32_t pinned_entry_id(const char *dir)
{
	char path[PATH_MAX];
	uint32_t id = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, ENTRY_PROG);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (prog_id_of(fd, &id))
		id = 0;
	close(fd);
	return id;
}

static int dir_clear(const char *dir, bool rm)
{
	struct dirent *de;
	char path[PATH_MAX];
	DIR *d = opendir(dir);
	int r = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			continue;
		if (unlink(path) && !r)
			r = -errno;
	}
	closedir(d);
	if (rm && rmdir(dir) && !r)
		r = -errno;
	return r;
}

static int pin_one(const char *dir, const char *name, int fd)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if (bpf_obj_pin(fd, path) && errno != EEXIST)
		return -errno;
	return 0;
}

/* The pins of one view: left alone when they show this entry (0), else made
 * anew (1; a stale directory from an earlier attach is replaced). */
static int pins_make(const char *ifname, int entry_fd, uint32_t entry_id, const struct kobj *k)
{
	char dir[PATH_MAX];
	int r = xi_dataplane_pin_path(ifname, NULL, dir, sizeof(dir));

	if (r)
		return r;
	if (pinned_entry_id(dir) == entry_id)
		return 0;
	r = xi_bpffs_ensure();
	if (!r && mkdir(XI_PIN_ROOT, 0700) && errno != EEXIST)
		r = -errno;
	if (!r && mkdir(dir, 0700) && errno != EEXIST)
		r = -errno;
	if (!r)
		r = dir_clear(dir, false);
	for (size_t i = 0; !r && i < k->n_maps; i++)
		r = pin_one(dir, k->maps[i].name, k->maps[i].fd);
	for (int i = 0; !r && i < XI_STAGES_SLOTS; i++) {
		const struct xi_stage *d = xi_stage_by_slot((uint32_t)i);

		if (d && k->progs[i] >= 0)
			r = pin_one(dir, d->prog, k->progs[i]);
	}
	/* The entry last: it is what marks the view complete. */
	if (!r)
		r = pin_one(dir, ENTRY_PROG, entry_fd);
	if (r)
		dir_clear(dir, true);
	return r ? r : 1;
}

/* The mount namespace that outlives every command: PID 1's, or where /proc/1
 * is closed to us (a sandbox's init), that of our oldest ancestor we may
 * read. An fd of it, or -errno. */
static int anchor_mntns_open(void)
{
	char path[64];
	int fd = open("/proc/1/ns/mnt", O_RDONLY | O_CLOEXEC), best = -1;
	pid_t pid = getppid();

	if (fd >= 0)
		return fd;
	for (int depth = 0; pid > 1 && depth < 64; depth++) {
		unsigned long ppid = 0;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (best >= 0)
				close(best);
			best = fd;
		}
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		f = fopen(path, "re");
		/* "pid (comm) state ppid": comm may hold spaces, so from the last ')' */
		if (f) {
			char line[512], *rp;

			if (fgets(line, sizeof(line), f) && (rp = strrchr(line, ')')))
				sscanf(rp + 1, " %*c %lu", &ppid);
			fclose(f);
		}
		pid = (pid_t)ppid;
	}
	return best >= 0 ? best : -ENOENT;
}

/* An fd of the anchor namespace when it is not the caller's: the caller's
 * pins then vanish with it, so the anchor gets them too. -1 otherwise. */
static int mntns_foreign(void)
{
	struct stat self, anchor;
	int fd = anchor_mntns_open();

	if (fd < 0)
		return -1;
	if (stat("/proc/self/ns/mnt", &self) || fstat(fd, &anchor) ||
	    (self.st_ino == anchor.st_ino && self.st_dev == anchor.st_dev)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Runs fn in a child that has entered the namespace of nsfd (setns wants a
 * single thread; the child is one), and closes nsfd. Its result, or -errno. */
static int in_mntns(int nsfd, int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		close(nsfd);
		return -errno;
	}
	if (pid == 0) {
		int r = setns(nsfd, CLONE_NEWNS) ? -errno : fn(arg);

		_exit(r < 0 ? 2 : r);
	}
	close(nsfd);
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (!WIFEXITED(status))
		return -EINTR;
	return WEXITSTATUS(status) < 2 ? WEXITSTATUS(status) : -EIO;
}

struct pins_arg {
	const char *ifname;
	int entry_fd;
	uint32_t entry_id;
	const struct kobj *k;
	bool remove;
};

static int pins_remove(const char *ifname, uint32_t entry_id)
{
	char dir[PATH_MAX];
	uint32_t pinned;
	int r = xi_dataplane_pin_path(ifname, NULL, dir, sizeof(dir));

	if (r)
		return r;
	if (access(dir, F_OK))
		return 0;
	pinned = pinned_entry_id(dir);
	/* Someone else's state (another namespace's interface of this name)
	 * stays. */
	if (pinned && entry_id && pinned != entry_id)
		return 0;
	r = dir_clear(dir, true);
	return r ? r : 1;
}

static int pins_fn(void *p)
{
	const struct pins_arg *a = p;

	if (a->remove)
		return pins_remove(a->ifname, a->entry_id) < 0 ? -EIO : 0;
	return pins_make(a->ifname, a->entry_fd, a->entry_id, a->k);
}

/* ---- opening ---- */

static int dp_fill(struct xi_dataplane *dp, struct kobj *k, int entry_fd)
{
	const struct xi_stage *d;

	for (int i = 0; i < XI_MAP__MAX; i++) {
		int fd = kobj_map(k, xi_dataplane_map_name(i));

		if (fd < 0)
			return -ENOENT;
		dp->map_fds[i] = dup(fd);
		if (dp->map_fds[i] < 0)
			return -errno;
	}
	for (size_t i = 0; (d = xi_dataplane_stage_at(NULL, i)); i++)
		for (unsigned m = 0; d->maps && d->maps[m].name; m++) {
			int fd = m < XI_STAGE_MAPS_MAX ? kobj_map(k, d->maps[m].name) : -E2BIG;

			if (fd < 0)
				return fd;
			dp->stage_fds[d->slot][m] = dup(fd);
			if (dp->stage_fds[d->slot][m] < 0)
				return -errno;
		}
	dp->entry_fd = dup(entry_fd);
	return dp->entry_fd < 0 ? -errno : 0;
}

/* The pins of both views, from k; 1 when the anchor's were made anew. A
 * failure to pin is not fatal: the kernel state serves this process. */
static int views_pin(const char *ifname, int entry_fd, uint32_t id, const struct kobj *k)
{
	struct pins_arg a = { .ifname = ifname, .entry_fd = entry_fd, .entry_id = id, .k = k };
	int nsfd, r = pins_make(ifname, entry_fd, id, k);

	nsfd = mntns_foreign();
	if (nsfd >= 0)
		r = in_mntns(nsfd, pins_fn, &a);
	return r == 1;
}

/* The maps of TC egress's program (xi_tc_egress; its program array is
 * TC's and so not among xi_entry's), found from the filter xi_config names.
 * Nothing to add when there is no such filter. */
static int kobj_egress_read(struct kobj *k, int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts);
	struct xi_iface_config cfg;
	int fd = kobj_map(k, "xi_config"), r;
	__u32 zero = 0;

	if (fd < 0 || bpf_map_lookup_elem(fd, &zero, &cfg) || !cfg.tc_handle || !cfg.tc_priority)
		return 0;
	opts.handle = cfg.tc_handle;
	opts.priority = cfg.tc_priority;
	if (bpf_tc_query(&hook, &opts) || !opts.prog_id)
		return 0;
	fd = bpf_prog_get_fd_by_id(opts.prog_id);
	if (fd < 0)
		return 0;
	r = kobj_maps_read(k, fd);
	close(fd);
	return r;
}

int xi_kernel_open(struct xi_dataplane *dp, int ifindex)
{
	bool emptied = false;
	struct kobj k;
	uint32_t id;
	int entry_fd = -1, r;

	kobj_init(&k);
	r = xi_kernel_entry_get(ifindex, &entry_fd, &id);
	if (r == -EBUSY)
		r = -ENOENT;   /* another program: xicept is not attached */
	if (!r)
		r = kobj_maps_read(&k, entry_fd);
	if (!r)
		r = kobj_egress_read(&k, ifindex);
	if (!r)
		r = kobj_progs_read(&k);
	if (!r && !progs_complete(&k)) {
		r = progs_reload(&k);
		emptied = true;
	}
	/* Pins hold the arrays' contents past this process; a failure to make
	 * the caller's own (no bpffs allowed here) is not fatal. Pins made
	 * anew mean every pin may have gone just before: then the kernel
	 * empties the arrays in work it runs later, under load even after
	 * this process has filled them again. Unless that happened already,
	 * wait for it (EMPTY_WAIT_MS at most: none comes when another process
	 * kept the arrays open) and fill them after it. */
	if (!r && views_pin(dp->ifname, entry_fd, id, &k) && !emptied) {
		r = stages_refill(&k);
		for (int ms = 0; !r && ms < EMPTY_WAIT_MS; ms += 2) {
			usleep(2000);
			if (progs_in_map(&k))
				continue;
			r = kobj_progs_read(&k);
			if (!r && !progs_complete(&k))
				r = progs_reload(&k);
			break;
		}
	}
	if (!r)
		r = stages_refill(&k);
	if (!r)
		r = dp_fill(dp, &k, entry_fd);
	kobj_free(&k);
	if (entry_fd >= 0)
		close(entry_fd);
	return r;
}

int xi_kernel_pins_remove(const char *ifname, uint32_t entry_id)
{
	struct pins_arg a = { .ifname = ifname, .entry_id = entry_id, .remove = true };
	int nsfd, r = pins_remove(ifname, entry_id);

	nsfd = mntns_foreign();
	if (nsfd >= 0)
		in_mntns(nsfd, pins_fn, &a);
	return r;
}

int xi_kernel_detach(const char *ifname, int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, a);
	enum xi_xdp_mode mode;
	uint32_t id = 0;
	int fd = -1, r;

	r = xi_kernel_xdp_prog(ifindex, &id, &mode);
	if (r)
		return r;
	if (!id)
		return xi_kernel_pins_remove(ifname, 0) > 0 ? 0 : -ENOENT;
	r = xi_kernel_entry_get(ifindex, &fd, &id);
	if (r == -EBUSY)
		return -EBUSY;   /* someone else's program: never removed */
	if (r)
		return r;
	a.old_prog_fd = fd;
	r = bpf_xdp_attach(ifindex, -1,
			   XDP_FLAGS_REPLACE | (mode == XI_XDP_SKB ? XDP_FLAGS_SKB_MODE
								    : XDP_FLAGS_DRV_MODE), &a);
	close(fd);
	if (r)
		return r;
	xi_kernel_pins_remove(ifname, id);
	xi_srtp_store_erase_all(id);   /* the attachment's SRTP keys go with it */
	return 0;
}
