/* SPDX-License-Identifier: MIT */
/*
 * What `xicept run IFNAME --listen` serves (user/cli/listen.c), made as
 * text: /metrics in the Prometheus text exposition format (version 0.0.4)
 * and /debug/registry as JSON. Every value comes from a reader that is safe
 * to call beside the packet threads: the catalog's atomics and RCU
 * snapshot, the engine's relaxed counters (xi_engine_stats), the plugin
 * loader's failure table, and the interface's BPF maps read through a
 * dataplane handle of the caller's own. Nothing here takes a lock the
 * packet path holds.
 *
 * The metric names are stable; README.md lists them.
 */
#ifndef XICEPT_ENGINE_METRICS_H
#define XICEPT_ENGINE_METRICS_H

#include <stddef.h>

#include <xicept/catalog.h>
#include <xicept/dataplane.h>

struct xi_engine;

struct xi_metrics_src {
	const char *ifname;
	struct xi_catalog *cat;        /* registry metrics; NULL: none */
	struct xi_dataplane *dp;       /* data-path metrics; NULL: none */
	struct xi_engine *engine;      /* NACKs, RRs, engine frames; NULL: none */
};

#define XI_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The /metrics document, malloc'd, in *ret (*ret_len bytes, NUL-terminated).
 * 0, -ENOMEM, or the negative errno of a map that could not be read. */
int xi_metrics_text(const struct xi_metrics_src *src, char **ret, size_t *ret_len);

/* The /debug/registry document: {"interceptors": [{name, version, id, kind,
 * origin, origin_kind, description, keys: [{name, default, required}],
 * uses}], "frozen", "size", "plugins": [{path, init_seconds}]}, malloc'd.
 * 0 or -ENOMEM. */
int xi_registry_json_text(struct xi_catalog *cat, char **ret, size_t *ret_len);

#endif
