/* SPDX-License-Identifier: MIT */
/*
 * Plugins: interceptors from shared objects, loaded by `xicept` (and any
 * program) at start.
 *
 * The contract. A plugin is a shared object that exports two symbols:
 *
 *   const uint32_t xicept_plugin_abi = XI_PLUGIN_ABI_VERSION;
 *   int xicept_plugin_init(struct xi_catalog *cat, const struct xi_plugin_info *info);
 *
 * XI_PLUGIN_DEFINE_ABI writes the first. xicept_plugin_abi is the ABI of the
 * headers the plugin was built against; a loader of another ABI refuses the
 * plugin, naming both. xicept_plugin_init registers the plugin's factories
 * into cat (xi_catalog_register; never XI_CATALOG_REGISTER, whose global list
 * is copied before any plugin loads) and returns 0 or a negative errno. The
 * loader hands the plugin a catalog of its own and moves what it registered
 * into the real one only when init succeeded and none of its NAME@VERSION
 * exists yet, so a plugin that fails leaves nothing behind. Each entry's
 * origin is the plugin's path. Factories and everything they point at must
 * live as long as the program: the loader never unloads a plugin it kept.
 *
 * Building one needs only the installed library:
 *
 *   cc -shared -fPIC -o my-filter.so my-filter.c $(pkg-config --cflags --libs xicept)
 *
 * Where plugins are found (the xicept CLI, before any command): every *.so
 * in each `--plugin-dir DIR`, in the order given, then in each directory of
 * $XICEPT_PLUGIN_PATH (colon-separated), then in $(PREFIX)/lib/xicept/plugins.
 *
 * Only root's code runs as root. The file, and every directory on its real
 * path up to /, must be owned by root and writable by neither group nor
 * others; anything else is refused with the file and the reason. So is a
 * file that is not a regular file.
 *
 * A bad plugin never takes the program down: a load failure, a missing
 * symbol, a wrong ABI, a failing init, a name and version already
 * registered, or a stage object the verifier rejects is reported (one line
 * naming the file) and the plugin skipped; everything else keeps working.
 *
 * XDP stages. An XDP-kind factory of a plugin (kind XI_KIND_XDP, xdp_prog
 * set) ships its stage as a BPF object beside the .so and describes it with
 * xi_plugin_stage_add from init. At attach (or, for an interface attached
 * before the plugin was installed, when a connection first needs it), the
 * object is opened, every map whose name has a pin in the interface's
 * directory (xi_scratch, xi_stages, xi_reasons, xi_config ...) is reused with
 * bpf_map__reuse_fd, its own maps are sized by their keying (like a built-in
 * stage's) and pinned as p<SLOT>_<map>, and its program goes into a free slot
 * of xi_stages, pinned as p<SLOT>_<prog>. Chains tail-call it as they do a
 * built-in. Its stats schema shows in `xicept stats`. The stage's source
 * includes <xicept/bpf/xi_common.h> (installed with the headers) for the
 * shared maps, xi_scratch_get(), xi_count() and xi_next_stage(), and ends
 * with `return xi_next_stage(ctx, pc);` to run the rest of the chain.
 */
#ifndef XICEPT_PLUGIN_H
#define XICEPT_PLUGIN_H

#include <xicept/export.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xicept/error.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xi_catalog;
struct xi_dataplane;
struct xi_factory;
struct xi_ssrc_stats;

/* Raised whenever a change to a public header could break a plugin built
 * against the previous one. */
#define XI_PLUGIN_ABI_VERSION 1u

struct xi_plugin_info {
	size_t sz;                  /* sizeof(struct xi_plugin_info) */
	uint32_t abi;               /* the loader's XI_PLUGIN_ABI_VERSION */
	const char *path;           /* the plugin's real path */
	const char *dir;            /* its directory, where its stage objects sit */
	const char *version;        /* libxicept's version, "0.1.0" */
};

typedef int (*xi_plugin_init_fn)(struct xi_catalog *cat, const struct xi_plugin_info *info);

#define XI_PLUGIN_DEFINE_ABI \
	XI_API extern const uint32_t xicept_plugin_abi; \
	const uint32_t xicept_plugin_abi = XI_PLUGIN_ABI_VERSION;

typedef void (*xi_plugin_report_fn)(void *user, const char *path, int code, const char *msg);

/* ---- stage objects ---- */

/* How a stage's map is keyed, which says what a connection leaves in it and
 * which attach option sizes it. */
enum xi_plugin_key {
	XI_PLUGIN_KEY_NONE = 0,     /* not per connection: kept as compiled */
	XI_PLUGIN_KEY_CONN = 1,     /* __u32 conn_id: --max-conns */
	XI_PLUGIN_KEY_STREAM = 2,   /* struct xi_stream_key: --max-streams */
};

struct xi_plugin_stage_map {
	const char *name;           /* the map's name in the object; NULL ends the list */
	enum xi_plugin_key key;
};

/* Per-stream counters for `xicept stats`: one map (an index into maps)
 * keyed by struct xi_stream_key, and a function naming a value's fields
 * with xi_ssrc_stats_set. */
struct xi_plugin_stage_stats {
	unsigned map;
	size_t value_size;
	bool locked;                /* the value holds a bpf_spin_lock */
	bool percpu;                /* a per-CPU map of __u64 counters: summed */
	void (*fields)(const void *value, struct xi_ssrc_stats *s);
};

struct xi_plugin_stage {
	size_t sz;                  /* sizeof(struct xi_plugin_stage) */
	const char *object;         /* file name beside the .so: "pt-filter.bpf.o" */
	const char *prog;           /* the stage program: f->xdp_prog */
	const struct xi_plugin_stage_map *maps;   /* the maps the stage owns */
	const struct xi_plugin_stage_stats *stats;/* NULL: none */
};

/* From xicept_plugin_init only: f (registered by this init) runs as the
 * stage that stage describes. The object must pass the same ownership
 * checks as the plugin. -EINVAL, -ENOENT (no such object), -EPERM, -ENOMEM. */
XI_API int xi_plugin_stage_add(const struct xi_plugin_info *info, const struct xi_factory *f,
			       const struct xi_plugin_stage *stage);

/* Appends one named counter to s, for a stage's stats->fields. */
XI_API void xi_ssrc_stats_set(struct xi_ssrc_stats *s, const char *name, int64_t value);

/* For an XDP-kind factory building against an interface (ctx->dp): the fd
 * of map number `map` of f's stage on that interface, loading the stage
 * there first if it is not yet (root). -ENOENT: f has no stage;
 * other negative errnos: the load failed. */
XI_API int xi_dataplane_stage_map_fd(struct xi_dataplane *dp, const struct xi_factory *f,
				     unsigned map);
/* Whether a factory's build should write its configuration into the maps
 * (a connection being added) and whether its close should remove it (a
 * connection being deleted, or an add being undone). Otherwise the chain is
 * only rebuilt to run its userspace part and must leave the maps alone. */
XI_API bool xi_dataplane_build_writes_maps(const struct xi_dataplane *dp);
XI_API bool xi_dataplane_close_removes_maps(const struct xi_dataplane *dp);

/* Loads every plugin stage this process knows onto the interface (attach
 * does this): report hears of each that failed, the verifier's refusal
 * among them, and the rest go on. Returns how many are loaded. */
XI_API int xi_dataplane_load_plugin_stages(struct xi_dataplane *dp, xi_plugin_report_fn report,
					   void *user);

/* ---- loading ---- */

/* Checks that path, and every directory on its real path, is owned by root
 * and writable by neither group nor others. -EPERM (err says which and
 * why), -ENOENT, -errno. */
XI_API int xi_plugin_path_check(const char *path, struct xi_err *err);
/* Loads one plugin into cat. 0, or a negative errno and err saying why
 * (without the path: the caller names the file). Nothing is left behind on
 * failure. */
XI_API int xi_plugin_load(struct xi_catalog *cat, const char *path, struct xi_err *err);

/* Loads every *.so of dir, in name order; report (may be NULL) hears of each
 * that failed. Returns how many were loaded, or a negative errno when dir
 * cannot be read. */
XI_API int xi_plugin_load_dir(struct xi_catalog *cat, const char *dir,
			      xi_plugin_report_fn report, void *user);
/* Load failures so far, per file: i-th file and its count; -ENOENT past the end. */
XI_API int xi_plugin_failure_at(size_t i, const char **ret_file, uint64_t *ret_count);
/* Plugins kept so far, each once by its real path: the i-th and how long its
 * xicept_plugin_init took, in ns (the last time it ran); -ENOENT past the
 * end. */
XI_API int xi_plugin_loaded_at(size_t i, const char **ret_path, uint64_t *ret_init_ns);

#ifdef __cplusplus
}
#endif
#endif
