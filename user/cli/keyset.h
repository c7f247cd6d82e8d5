/* SPDX-License-Identifier: MIT */
/*
 * A set of byte strings, each with a number: how apply matches thousands of
 * connections by key in linear time. Keys are not copied; they must outlive
 * the set. Internal to the CLI.
 */
#ifndef XICEPT_CLI_KEYSET_H
#define XICEPT_CLI_KEYSET_H

#include <stdbool.h>
#include <stddef.h>

struct keyset_slot {
	const char *key;              /* NULL: empty */
	size_t len;
	size_t val;
};

struct keyset {
	size_t mask;                  /* slots - 1; slots is a power of two */
	size_t n, max;                /* keys held, and the most it takes */
	struct keyset_slot *slots;
};

/* Room for n keys. -ENOMEM. */
int keyset_init(struct keyset *ks, size_t n);
void keyset_free(struct keyset *ks);
/* Adds key (len bytes) with val: 0, or -EEXIST with the value already there
 * in *ret_val (which may be NULL), or -ENOSPC past the n of keyset_init. */
int keyset_add(struct keyset *ks, const char *key, size_t len, size_t val, size_t *ret_val);
/* true, with its value in *ret_val, when key is in the set. */
bool keyset_find(const struct keyset *ks, const char *key, size_t len, size_t *ret_val);

#endif
