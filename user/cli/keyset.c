// SPDX-License-Identifier: MIT
/* Open addressing with linear probing, at most half full, FNV-1a. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keyset.h"

static uint64_t hash(const char *key, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)key[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

int keyset_init(struct keyset *ks, size_t n)
{
	size_t slots = 16;

	while (slots < 2 * n)
		slots *= 2;
	ks->slots = calloc(slots, sizeof(*ks->slots));
	if (!ks->slots)
		return -ENOMEM;
	ks->mask = slots - 1;
	ks->n = 0;
	ks->max = slots / 2;   /* short probe runs, and always an empty slot */
	return 0;
}

void keyset_free(struct keyset *ks)
{
	free(ks->slots);
	ks->slots = NULL;
}

/* The slot holding key, or the empty one where it would go. */
static struct keyset_slot *slot_of(const struct keyset *ks, const char *key, size_t len)
{
	size_t i = (size_t)hash(key, len) & ks->mask;
	struct keyset_slot *s;

	for (;; i = (i + 1) & ks->mask) {
		s = &ks->slots[i];
		if (!s->key || (s->len == len && !memcmp(s->key, key, len)))
			return s;
	}
}

int keyset_add(struct keyset *ks, const char *key, size_t len, size_t val, size_t *ret_val)
{
	struct keyset_slot *s = slot_of(ks, key, len);

	if (s->key) {
		if (ret_val)
			*ret_val = s->val;
		return -EEXIST;
	}
	if (ks->n == ks->max)
		return -ENOSPC;
	*s = (struct keyset_slot){ .key = key, .len = len, .val = val };
	ks->n++;
	return 0;
}

bool keyset_find(const struct keyset *ks, const char *key, size_t len, size_t *ret_val)
{
	struct keyset_slot *s = slot_of(ks, key, len);

	if (s->key && ret_val)
		*ret_val = s->val;
	return s->key != NULL;
}
