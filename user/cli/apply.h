/* SPDX-License-Identifier: MIT */
/*
 * xicept apply, split at its seam: apply_doc.c turns FILE into the wanted
 * state, checked in full, without touching the kernel; cmd_apply.c
 * reconciles the kernel with it. Internal to the CLI.
 */
#ifndef XICEPT_CLI_APPLY_H
#define XICEPT_CLI_APPLY_H

#include <net/if.h>
#include <stddef.h>

#include <xicept/catalog.h>
#include <xicept/dataplane.h>

/* Room for "local remote chain streams..." of one connection. */
#define APPLY_CONN_KEY_MAX (2 * 64 + XI_CHAIN_TEXT_MAX + XI_CONN_MAX_STREAMS * (32 + 48) + 8)

struct want_conn {
	struct xi_conn_spec spec;
	char key[APPLY_CONN_KEY_MAX];
};

struct want_iface {
	char name[IF_NAMESIZE];
	struct xi_attach_opts opts;
	size_t n_conns;
	struct want_conn *conns;
};

struct want {
	size_t n;
	struct want_iface *ifaces;
};

/* Reads and checks FILE against cat: JSON syntax (with line:column), known
 * keys only, no duplicates, existing interfaces, valid endpoints, streams
 * and chains. 0, or an error line on stderr and CLI_EXIT_FAIL; either way
 * *w is for apply_want_free(). */
int apply_load(struct xi_catalog *cat, const char *file, struct want *w);
void apply_want_free(struct want *w);

/* Equal specs give equal keys, whatever the stream order or chain spelling,
 * so that a connection in the kernel matches the one FILE asks for. */
int apply_conn_key(const struct xi_conn_spec *spec, char *buf, size_t size);

#endif
