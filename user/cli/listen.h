/* SPDX-License-Identifier: MIT */
/* xicept run --listen (user/cli/listen.c): /metrics and /debug/registry. */
#ifndef XICEPT_CLI_LISTEN_H
#define XICEPT_CLI_LISTEN_H

#include <stdint.h>

#include <xicept/catalog.h>

struct xi_engine;
struct cli_listen;

/* 0 when spec is "PORT" (127.0.0.1), "ADDR:PORT" or "[ADDR6]:PORT"; port 0
 * takes any free one. -EINVAL otherwise. */
int cli_listen_check(const char *spec);
/* Serves ifname's counters and cat's registry (both must outlive the
 * server) from a thread of its own. -EINVAL, -EADDRINUSE, -ENOENT (not
 * attached), ... */
int cli_listen_start(const char *spec, const char *ifname, struct xi_catalog *cat,
		     struct cli_listen **ret);
/* The engine's counters too, from now on; NULL: no more (before it is freed). */
void cli_listen_set_engine(struct cli_listen *l, struct xi_engine *e);
uint16_t cli_listen_port(const struct cli_listen *l);   /* the port bound */
void cli_listen_stop(struct cli_listen *l);             /* NULL is fine */

#endif
