/* SPDX-License-Identifier: MIT */
/* Shared by config.c, chain_desc.c and the catalog, which checks factories. */
#ifndef XICEPT_CONFIG_INTERNAL_H
#define XICEPT_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <xicept/config.h>
#include <xicept/registry.h>

/* Checks f's key table against f->config_size and parses every default, so a
 * broken factory is refused at registration rather than at build time. */
int xi_config_check(const struct xi_factory *f, struct xi_err *err);

/* Whether one of the element's first `before` parameters is key: both the
 * lexer and the config parser refuse a key given twice. */
bool xi_chain_elem_has_key(const struct xi_chain_elem *elem, size_t before, const char *key);

#endif
