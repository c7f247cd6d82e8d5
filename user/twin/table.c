// SPDX-License-Identifier: MIT
/* Sorted per-SSRC tables for the C twins: what a BPF hash map keyed by
 * (conn, ssrc) is for one connection. Binary search; inserts shift. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "user/twin/twin.h"

void xi_twin_table_init(struct xi_twin_table *t, size_t value_size)
{
	memset(t, 0, sizeof(*t));
	t->value_size = value_size;
}

void xi_twin_table_fini(struct xi_twin_table *t)
{
	if (!t)
		return;
	free(t->keys);
	free(t->values);
	xi_twin_table_init(t, t->value_size);
}

/* Index of the first key >= key. */
static size_t table_lower_bound(const struct xi_twin_table *t, uint32_t key)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->keys[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void *xi_twin_table_find(const struct xi_twin_table *t, uint32_t key)
{
	size_t i = table_lower_bound(t, key);

	if (i == t->n || t->keys[i] != key)
		return NULL;
	return t->values + i * t->value_size;
}

static int table_grow(struct xi_twin_table *t)
{
	size_t cap = t->cap ? t->cap * 2 : 8;
	uint32_t *keys;
	uint8_t *values;

	keys = realloc(t->keys, cap * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	t->keys = keys;
	values = realloc(t->values, cap * t->value_size);
	if (!values)
		return -ENOMEM;
	t->values = values;
	t->cap = cap;
	return 0;
}

void *xi_twin_table_get(struct xi_twin_table *t, uint32_t key)
{
	size_t i = table_lower_bound(t, key), vs = t->value_size;

	if (i < t->n && t->keys[i] == key)
		return t->values + i * vs;
	if (t->n == t->cap && table_grow(t))
		return NULL;
	memmove(t->keys + i + 1, t->keys + i, (t->n - i) * sizeof(*t->keys));
	memmove(t->values + (i + 1) * vs, t->values + i * vs, (t->n - i) * vs);
	t->keys[i] = key;
	memset(t->values + i * vs, 0, vs);
	t->n++;
	return t->values + i * vs;
}

int xi_twin_table_remove(struct xi_twin_table *t, uint32_t key)
{
	size_t i = table_lower_bound(t, key), vs = t->value_size;

	if (i == t->n || t->keys[i] != key)
		return -ENOENT;
	memmove(t->keys + i, t->keys + i + 1, (t->n - i - 1) * sizeof(*t->keys));
	memmove(t->values + i * vs, t->values + (i + 1) * vs, (t->n - i - 1) * vs);
	t->n--;
	return 0;
}
