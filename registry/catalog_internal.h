/* SPDX-License-Identifier: MIT */
/* Shared between registry/catalog.c, registry/config.c and registry/builtin.c. */
#ifndef XICEPT_CATALOG_INTERNAL_H
#define XICEPT_CATALOG_INTERNAL_H

#include <stdbool.h>
#include <xicept/registry.h>

/* [a-z][a-z0-9-]*, shorter than XI_NAME_MAX. */
bool xi_name_valid(const char *name);

/* Checks f's key table against f->config_size and parses every default, so a
 * broken factory is refused at registration rather than at build time. */
int xi_config_check(const struct xi_factory *f, struct xi_err *err);

/* References every built-in's anchor so that a static link keeps their object
 * files, and with them their XI_CATALOG_REGISTER constructors. Returns how
 * many built-ins there are. */
unsigned xi_builtins_keep(void);

#endif
