// SPDX-License-Identifier: MIT
/*
 * XDP stages from plugins (include/xicept/plugin.h).
 *
 * The plugin loader keeps the stages of its plugins (user/plugin/stages.c); an
 * interface keeps, in the pinned hash xi_plugins, which NAME@VERSION sits in
 * which slot of xi_stages. Loading a stage on an interface opens its object,
 * reuses every map the interface has a pin of (the shared ones: scratch,
 * stage array, reasons, config ...), sizes the stage's own maps by their
 * keying, loads (the verifier runs here), pins its maps and program as
 * p<SLOT>_<name>, and fills the first slot no built-in and no other plugin
 * stage holds. Any later process finds the slot in xi_plugins and opens the
 * pins, so stats, the sweep of conn del and status see plugin stages as they
 * see built-ins (xi_dataplane_stage_at).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <xicept/catalog.h>
#include <xicept/plugin.h>
#include <xicept/registry.h>

#include "user/dataplane/internal.h"
#include "user/dataplane/plugin_stage.h"
#include "user/plugin/plugin_internal.h"

#define PLUGINS_MAP "xi_plugins"

struct xi_plugins_value {
	__u32 slot;
};

/* What one interface handle knows of its plugin stages. */
struct dp_plugin {
	const struct xi_plugin_stage_rec *ps;   /* NULL: a stage of a plugin not loaded here */
	char id[XI_ID_MAX];
	struct xi_stage desc;            /* ps->stage with this interface's slot */
};

struct xi_dp_plugins {
	struct dp_plugin slots[XI_STAGES_SLOTS];
	bool used[XI_STAGES_SLOTS];
};

/* ---- on an interface ---- */

static struct xi_dp_plugins *dp_plugins(struct xi_dataplane *dp)
{
	if (!dp->plugins)
		dp->plugins = calloc(1, sizeof(*dp->plugins));
	return dp->plugins;
}

static int own_pin_name(uint32_t slot, const char *name, char *buf, size_t size)
{
	int n = snprintf(buf, size, "p%u_%s", slot, name);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Opens the pins of the stage in slot into the handle. */
static int dp_plugin_open(struct xi_dataplane *dp, uint32_t slot, const char *id)
{
	struct xi_dp_plugins *pl = dp_plugins(dp);
	const struct xi_plugin_stage_rec *ps = xi_plugin_stage_by_id(id);
	struct dp_plugin *p;
	char pin[128];

	if (!pl)
		return -ENOMEM;
	if (slot >= XI_STAGES_SLOTS || xi_stage_by_slot(slot))
		return -EINVAL;
	p = &pl->slots[slot];
	if (pl->used[slot])
		return 0;
	snprintf(p->id, sizeof(p->id), "%s", id);
	p->ps = ps;
	if (ps) {
		p->desc = ps->stage;
		p->desc.slot = slot;
		for (unsigned m = 0; ps->stage.maps && ps->stage.maps[m].name; m++) {
			int fd, r = own_pin_name(slot, ps->stage.maps[m].name, pin, sizeof(pin));

			fd = r ? r : xi_dataplane_pin_get(dp->ifname, pin);
			if (fd < 0)
				return fd;
			if (dp->stage_fds[slot][m] >= 0)
				close(dp->stage_fds[slot][m]);
			dp->stage_fds[slot][m] = fd;
		}
	}
	pl->used[slot] = true;
	return 0;
}

int xi_dataplane_plugin_stages_open(struct xi_dataplane *dp)
{
	char key[XI_ID_MAX], next[XI_ID_MAX];
	struct xi_plugins_value val;
	int fd = xi_dataplane_pin_get(dp->ifname, PLUGINS_MAP), r = 0;

	if (fd == -ENOENT)
		return 0;   /* no plugin stage was ever loaded here */
	if (fd < 0)
		return fd;
	for (int e = bpf_map_get_next_key(fd, NULL, next); !e && !r;
	     e = bpf_map_get_next_key(fd, key, next)) {
		memcpy(key, next, sizeof(key));
		if (bpf_map_lookup_elem(fd, key, &val))
			continue;
		key[sizeof(key) - 1] = '\0';
		r = dp_plugin_open(dp, val.slot, key);
	}
	close(fd);
	return r;
}

void xi_dataplane_plugin_stages_free(struct xi_dataplane *dp)
{
	free(dp->plugins);
	dp->plugins = NULL;
}

const struct xi_stage *xi_dataplane_plugin_stage_at(const struct xi_dataplane *dp, size_t i)
{
	for (uint32_t s = 0; dp->plugins && s < XI_STAGES_SLOTS; s++) {
		const struct dp_plugin *p = &dp->plugins->slots[s];

		if (!dp->plugins->used[s] || !p->ps)
			continue;
		if (i-- == 0)
			return &p->desc;
	}
	return NULL;
}

const char *xi_dataplane_slot_name(const struct xi_dataplane *dp, uint32_t slot)
{
	const struct xi_stage *d = xi_stage_by_slot(slot);

	if (d)
		return d->name;
	if (dp && dp->plugins && slot < XI_STAGES_SLOTS && dp->plugins->used[slot])
		return dp->plugins->slots[slot].id;
	return NULL;
}

static int plugins_map_get(struct xi_dataplane *dp)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);
	char path[PATH_MAX];
	int fd = xi_dataplane_pin_get(dp->ifname, PLUGINS_MAP), r;

	if (fd != -ENOENT)
		return fd;
	fd = bpf_map_create(BPF_MAP_TYPE_HASH, PLUGINS_MAP, XI_ID_MAX,
			    sizeof(struct xi_plugins_value), XI_STAGES_SLOTS, &o);
	if (fd < 0)
		return -errno;
	r = xi_dataplane_pin_path(dp->ifname, PLUGINS_MAP, path, sizeof(path));
	if (!r && bpf_obj_pin(fd, path))
		r = -errno;
	if (r == -EEXIST) {   /* another process made it first */
		close(fd);
		return xi_dataplane_pin_get(dp->ifname, PLUGINS_MAP);
	}
	if (r) {
		close(fd);
		return r;
	}
	return fd;
}

/* The first slot no built-in describes, no plugin stage holds and no
 * program fills. */
static int slot_free(struct xi_dataplane *dp, int plugins_fd, uint32_t *ret)
{
	bool taken[XI_STAGES_SLOTS] = { false };
	char key[XI_ID_MAX], next[XI_ID_MAX];
	struct xi_plugins_value val;

	for (int e = bpf_map_get_next_key(plugins_fd, NULL, next); !e;
	     e = bpf_map_get_next_key(plugins_fd, key, next)) {
		memcpy(key, next, sizeof(key));
		if (!bpf_map_lookup_elem(plugins_fd, key, &val) && val.slot < XI_STAGES_SLOTS)
			taken[val.slot] = true;
	}
	for (uint32_t s = 0; s < XI_STAGES_SLOTS; s++) {
		__u32 id;

		if (taken[s] || xi_stage_by_slot(s))
			continue;
		if (!bpf_map_lookup_elem(dp->map_fds[XI_MAP_STAGES], &s, &id))
			continue;
		*ret = s;
		return 0;
	}
	return -ENOSPC;
}

static const struct xi_stage_map *own_map(const struct xi_plugin_stage_rec *ps, const char *name)
{
	for (unsigned m = 0; ps->stage.maps && ps->stage.maps[m].name; m++)
		if (!strcmp(ps->stage.maps[m].name, name))
			return &ps->stage.maps[m];
	return NULL;
}

/* Every map of obj: the stage's own sized for this interface, the rest
 * reused from the interface's pins. */
static int object_maps_prepare(struct xi_dataplane *dp, const struct xi_plugin_stage_rec *ps,
			       struct bpf_object *obj, struct xi_err *err)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, obj) {
		const char *name = bpf_map__name(map);
		const struct xi_stage_map *own = own_map(ps, name);
		enum bpf_map_type t = bpf_map__type(map);
		bool by_index = t == BPF_MAP_TYPE_ARRAY || t == BPF_MAP_TYPE_PERCPU_ARRAY;
		int fd, r = 0;

		if (strchr(name, '.'))
			continue;   /* .rodata, .bss: the object's own */
		if (own) {
			if (own->key == XI_STAGE_KEY_CONN)
				r = bpf_map__set_max_entries(map, dp->max_conns + by_index);
			else if (own->key == XI_STAGE_KEY_STREAM)
				r = bpf_map__set_max_entries(map, dp->max_streams);
			if (r)
				return xi_err_set(err, r, "map %s: %s", name, strerror(-r));
			continue;
		}
		fd = xi_dataplane_pin_get(dp->ifname, name);
		if (fd < 0)
			return xi_err_set(err, fd, "map %s is neither the stage's own nor one the "
					  "interface shares", name);
		r = bpf_map__reuse_fd(map, fd);
		close(fd);
		if (r)
			return xi_err_set(err, r, "map %s: cannot reuse the interface's: %s", name,
					  strerror(-r));
	}
	return 0;
}

static void own_pins_remove(struct xi_dataplane *dp, const struct xi_plugin_stage_rec *ps,
			    uint32_t slot)
{
	char pin[128], path[PATH_MAX];

	for (unsigned m = 0; ps->stage.maps && ps->stage.maps[m].name; m++)
		if (!own_pin_name(slot, ps->stage.maps[m].name, pin, sizeof(pin)) &&
		    !xi_dataplane_pin_path(dp->ifname, pin, path, sizeof(path)))
			unlink(path);
	if (!own_pin_name(slot, ps->stage.prog, pin, sizeof(pin)) &&
	    !xi_dataplane_pin_path(dp->ifname, pin, path, sizeof(path)))
		unlink(path);
}

static int object_pin(struct xi_dataplane *dp, const struct xi_plugin_stage_rec *ps,
		      struct bpf_object *obj, struct bpf_program *prog, uint32_t slot)
{
	char pin[128], path[PATH_MAX];
	int r;

	for (unsigned m = 0; ps->stage.maps && ps->stage.maps[m].name; m++) {
		struct bpf_map *map = bpf_object__find_map_by_name(obj, ps->stage.maps[m].name);

		if (!map)
			return -ENOENT;
		r = own_pin_name(slot, ps->stage.maps[m].name, pin, sizeof(pin));
		if (!r)
			r = xi_dataplane_pin_path(dp->ifname, pin, path, sizeof(path));
		if (!r && bpf_obj_pin(bpf_map__fd(map), path))
			r = -errno;
		if (r)
			return r;
	}
	r = own_pin_name(slot, ps->stage.prog, pin, sizeof(pin));
	if (!r)
		r = xi_dataplane_pin_path(dp->ifname, pin, path, sizeof(path));
	if (!r && bpf_obj_pin(bpf_program__fd(prog), path))
		r = -errno;
	return r;
}

/* Loads ps on the interface and publishes it in xi_plugins. */
static int stage_load(struct xi_dataplane *dp, const struct xi_plugin_stage_rec *ps, int plugins_fd,
		      uint32_t *ret_slot, struct xi_err *err)
{
	struct xi_plugins_value val;
	struct bpf_program *prog;
	struct bpf_object *obj;
	char key[XI_ID_MAX] = { 0 };
	uint32_t slot;
	int r, fd;

	r = slot_free(dp, plugins_fd, &slot);
	if (r)
		return xi_err_set(err, r, "no free slot in xi_stages (%d slots)", XI_STAGES_SLOTS);
	obj = bpf_object__open_file(ps->object, NULL);
	if (!obj)
		return xi_err_set(err, -errno, "cannot open: %s", strerror(errno));
	r = object_maps_prepare(dp, ps, obj, err);
	prog = bpf_object__find_program_by_name(obj, ps->stage.prog);
	if (!r && !prog)
		r = xi_err_set(err, -ENOENT, "no program %s in the object", ps->stage.prog);
	if (!r) {
		bpf_object__for_each_program(prog, obj)
			bpf_program__set_autoload(prog, !strcmp(bpf_program__name(prog),
								 ps->stage.prog));
		prog = bpf_object__find_program_by_name(obj, ps->stage.prog);
		r = bpf_object__load(obj);
		if (r)
			xi_err_set(err, r, "the kernel refused program %s: %s (the verifier's "
				   "log shows with -v)", ps->stage.prog, strerror(-r));
	}
	if (!r) {
		r = object_pin(dp, ps, obj, prog, slot);
		if (r)
			xi_err_set(err, r, "cannot pin: %s", strerror(-r));
	}
	if (!r) {
		fd = bpf_program__fd(prog);
		memcpy(key, ps->id, strlen(ps->id));
		val.slot = slot;
		if (bpf_map_update_elem(plugins_fd, key, &val, BPF_NOEXIST))
			r = xi_err_set(err, -errno, "cannot claim slot %u: %s", slot,
				       strerror(errno));
		else if (bpf_map_update_elem(dp->map_fds[XI_MAP_STAGES], &slot, &fd, BPF_ANY)) {
			r = xi_err_set(err, -errno, "cannot fill slot %u: %s", slot,
				       strerror(errno));
			bpf_map_delete_elem(plugins_fd, key);
		}
	}
	if (r && r != -EEXIST)
		own_pins_remove(dp, ps, slot);
	bpf_object__close(obj);
	if (r)
		return r;
	*ret_slot = slot;
	return dp_plugin_open(dp, slot, ps->id);
}

/* The slot of ps on this interface, loading it there first if need be. */
static int stage_slot(struct xi_dataplane *dp, const struct xi_plugin_stage_rec *ps, uint32_t *ret,
		      struct xi_err *err)
{
	struct xi_plugins_value val;
	char key[XI_ID_MAX] = { 0 };
	int fd, r;

	for (uint32_t s = 0; dp->plugins && s < XI_STAGES_SLOTS; s++)
		if (dp->plugins->used[s] && dp->plugins->slots[s].ps == ps) {
			*ret = s;
			return 0;
		}
	fd = plugins_map_get(dp);
	if (fd < 0)
		return xi_err_set(err, fd, "cannot open %s: %s", PLUGINS_MAP, strerror(-fd));
	memcpy(key, ps->id, strlen(ps->id));
	if (!bpf_map_lookup_elem(fd, key, &val)) {
		r = dp_plugin_open(dp, val.slot, ps->id);
		if (!r)
			*ret = val.slot;
	} else {
		r = stage_load(dp, ps, fd, ret, err);
	}
	close(fd);
	if (r && !err->code)
		xi_err_set(err, r, "%s", strerror(-r));
	return r;
}

int xi_dataplane_stage_slot_of(struct xi_dataplane *dp, const struct xi_factory *f,
			       uint32_t *ret, struct xi_err *err)
{
	const struct xi_plugin_stage_rec *ps;
	struct xi_err e = { 0 };
	int r;

	if (!f || !f->stage)
		return -ENOENT;
	if (f->stage->slot != XI_STAGE_SLOT_ANY) {   /* a built-in's: fixed */
		*ret = f->stage->slot;
		return 0;
	}
	ps = xi_plugin_stage_of(f);
	if (!ps)
		return -ENOENT;   /* a stage no kept plugin brought */
	r = stage_slot(dp, ps, ret, &e);
	if (r)
		xi_err_set(err, r, "%s: stage object %s: %s", ps->id, ps->object, e.msg);
	return r;
}

int xi_dataplane_stage_map_fd(struct xi_dataplane *dp, const struct xi_factory *f,
			      unsigned map)
{
	uint32_t slot;
	int r;

	if (!dp || !f)
		return -EINVAL;
	r = xi_dataplane_stage_slot_of(dp, f, &slot, NULL);
	return r ? r : xi_dataplane_stage_fd(dp, slot, map);
}

int xi_dataplane_load_plugin_stages(struct xi_dataplane *dp, xi_plugin_report_fn report,
				    void *user)
{
	const struct xi_plugin_stage_rec *ps;
	int loaded = 0;

	if (!dp)
		return -EINVAL;
	for (size_t i = 0; (ps = xi_plugin_stage_at(i)); i++) {
		struct xi_err err = { 0 };
		uint32_t slot;
		int r;

		r = stage_slot(dp, ps, &slot, &err);
		if (r) {
			xi_plugin_failure_count(ps->object);
			if (report) {
				char msg[XI_ERR_MSG_MAX + 64];

				snprintf(msg, sizeof(msg), "stage of %s: %s", ps->id, err.msg);
				report(user, ps->object, r, msg);
			}
		} else {
			loaded++;
		}
	}
	return loaded;
}

int xi_dataplane_conn_stage_names(struct xi_dataplane *dp, uint32_t id, const char **names,
				  size_t cap, size_t *ret_n)
{
	const struct xi_conn_bank *bank;
	struct bpf_map_info info = { 0 };
	struct xi_conn_bank tmp;
	__u32 len = sizeof(info);
	struct xi_conn val;
	size_t n = 0;

	if (!dp || !names || !ret_n)
		return -EINVAL;
	/* A map another build of xicept pinned may hold another layout. */
	if (bpf_obj_get_info_by_fd(dp->map_fds[XI_MAP_CONNS], &info, &len))
		return -errno;
	if (info.value_size != sizeof(val))
		return -EPROTO;
	if (bpf_map_lookup_elem(dp->map_fds[XI_MAP_CONNS], &id, &val))
		return -errno;
	if (val.conn_id != id)
		return -ENOENT;
	/* The bank packets read now: after a set-chain, the other one. */
	bank = xi_conn_bank_active(&val, &tmp);
	for (size_t i = 0; i < bank->n_stages && i < XI_CHAIN_STAGES_MAX && n < cap; i++) {
		const char *name = xi_dataplane_slot_name(dp, bank->stages[i]);

		names[n++] = name ? name : "?";
	}
	*ret_n = n;
	return 0;
}
