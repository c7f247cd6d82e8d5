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
 * XDP stages. An XDP-kind factory of a plugin points at its stage as a
 * built-in does (xi_factory.stage, <xicept/stage.h>), with slot
 * XI_STAGE_SLOT_ANY and object naming its BPF object beside the .so; the
 * loader keeps the stages of the factories it moves, after the object passed
 * the same ownership checks as the plugin. At attach (or, for an interface
 * attached before the plugin was installed, when a connection first needs
 * it), the object is opened, every map whose name has a pin in the
 * interface's directory (xi_scratch, xi_stages, xi_reasons, xi_config ...)
 * is reused with bpf_map__reuse_fd, its own maps are sized by their keying
 * (like a built-in stage's) and pinned as p<SLOT>_<map>, and its program goes
 * into a free slot of xi_stages, pinned as p<SLOT>_<prog>. Chains tail-call
 * it as they do a built-in; conn del and conn set-chain sweep its maps by
 * their keying; `xicept stats` and /metrics show its stats schema. The
 * stage's source includes <xicept/bpf/xi_common.h> (installed with the
 * headers) for the shared maps, xi_scratch_get(), xi_count() and
 * xi_next_stage(), and ends with `return xi_next_stage(ctx, pc);` to run the
 * rest of the chain.
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

/* Raised whenever a change to a public header could break a plugin built
 * against the previous one. 2: one struct xi_stage for built-in and plugin
 * stages (xi_factory.stage, no xi_plugin_stage_add), XI_BUILD_WRITE_STATE and
 * the close op's XI_CLOSE_* flags instead of asking the dataplane, change
 * hooks given the entry (name, version, origin), struct xi_catalog_stats
 * grown by register_ns_total. */
#define XI_PLUGIN_ABI_VERSION 2u

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

/* ---- stages (struct xi_stage: <xicept/stage.h>) ---- */

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
