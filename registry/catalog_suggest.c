// SPDX-License-Identifier: MIT
/*
 * "Did you mean": the known name nearest to a mistyped one, or when none is
 * near, every known name. Only error paths ask, so it works on a copy of the
 * names rather than inside a read section.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <xicept/catalog.h>
#include <xicept/config.h>

#include "registry/catalog_internal.h"

/* Optimal string alignment distance (Levenshtein plus adjacent swaps).
 * b is a catalog name, so three rows of XI_NAME_MAX cells suffice. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t rows[3][XI_NAME_MAX + 1];
	size_t nb = strlen(b), *prev2 = rows[0], *prev = rows[1], *cur = rows[2], *t;

	for (size_t j = 0; j <= nb; j++)
		prev[j] = j;
	for (size_t i = 1; a[i - 1]; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= nb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t d = prev[j - 1] + cost;

			if (prev[j] + 1 < d)
				d = prev[j] + 1;
			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < d)
				d = prev2[j - 2] + 1;
			cur[j] = d;
		}
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[nb];
}
/* The candidate within limit edits of name with the fewest, first on ties. */
static const char *nearest(char *const *names, size_t n, const char *name, size_t limit)
{
	size_t len = strlen(name), best_d = SIZE_MAX;
	const char *best = NULL;

	for (size_t i = 0; i < n; i++) {
		size_t nc = strlen(names[i]), d;

		if ((nc > len ? nc - len : len - nc) > limit)
			continue;
		d = edit_distance(name, names[i]);
		if (d <= limit && d < best_d) {
			best_d = d;
			best = names[i];
		}
	}
	return best;
}

int xi_catalog_suggest(struct xi_catalog *cat, const char *name, char *buf, size_t size)
{
	const char *best;
	char **names;
	size_t len, n;
	int rc;

	if (!cat || !name || !buf || !size)
		return -EINVAL;
	len = strlen(name);
	if (!len)
		return -ENOENT;
	rc = xi_catalog_names(cat, &names, &n);
	if (rc)
		return rc;
	best = nearest(names, n, name, len / 3 > 2 ? len / 3 : 2);
	if (!best)
		rc = -ENOENT;
	else if (strlen(best) >= size)
		rc = -ENOSPC;
	else
		strcpy(buf, best);
	xi_strv_free(names, n);
	return rc;
}

int xi_catalog_known(struct xi_catalog *cat, char *buf, size_t size)
{
	size_t n, at = 0;
	char **names;
	int rc;

	if (!cat || !buf || !size)
		return -EINVAL;
	rc = xi_catalog_names(cat, &names, &n);
	if (rc)
		return rc;
	buf[0] = '\0';
	/* snprintf stops at the end of buf: a long list is cut, not overrun. */
	for (size_t i = 0; i < n && at < size; i++)
		at += snprintf(buf + at, size - at, "%s%s", i ? ", " : "", names[i]);
	xi_strv_free(names, n);
	return (int)n;
}
