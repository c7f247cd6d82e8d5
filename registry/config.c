// SPDX-License-Identifier: MIT
/*
 * Typed configuration from a factory's key table: single values (numbers,
 * durations, sizes), then whole configs. Everything that comes from text is
 * checked here, so factories receive a filled struct whose values are already
 * within their bounds. The chain text itself is lexed in chain_desc.c.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <xicept/config.h>
#include <xicept/registry.h>

#include "registry/config_internal.h"

/* ---- single values ---- */

/* The leading number of s (decimal or 0x hex) and where it stops. strtoull
 * alone would take signs, blanks and octal, none of which the syntax has. */
static int scan_number(const char *s, uint64_t *ret, const char **ret_end)
{
	const char *digits = s;
	unsigned long long v;
	char *end;
	int base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		digits = s + 2;
		if (!isxdigit((unsigned char)*digits))
			return -EINVAL;
	} else if (!isdigit((unsigned char)*digits)) {
		return -EINVAL;
	}
	errno = 0;
	v = strtoull(digits, &end, base);
	*ret_end = end;
	if (errno == ERANGE)
		return -ERANGE;
	*ret = v;
	return 0;
}

/* Parses "<number><suffix>" where the suffix picks a multiplier from units. */
struct unit {
	const char *suffix;
	uint64_t mult;
};

static int parse_with_unit(const char *s, const struct unit *units, uint64_t *ret)
{
	const char *end = NULL;
	uint64_t v = 0;
	int rc;

	if (!s || !ret)
		return -EINVAL;
	rc = scan_number(s, &v, &end);
	if (rc == -EINVAL)
		return rc;
	for (; units->suffix; units++) {
		if (strcmp(end, units->suffix) != 0)
			continue;
		if (rc)
			return rc;
		if (v > UINT64_MAX / units->mult)
			return -ERANGE;
		*ret = v * units->mult;
		return 0;
	}
	return -EINVAL;
}

int xi_parse_u64(const char *s, uint64_t *ret)
{
	static const struct unit none[] = { { "", 1 }, { NULL, 0 } };

	return parse_with_unit(s, none, ret);
}

int xi_parse_duration_ns(const char *s, uint64_t *ret)
{
	static const struct unit units[] = {
		{ "ns", 1ull },
		{ "us", 1000ull },
		{ "ms", 1000000ull },
		{ "s", 1000000000ull },
		{ "m", 60000000000ull },
		{ NULL, 0 },
	};

	return parse_with_unit(s, units, ret);
}

int xi_parse_size(const char *s, uint64_t *ret)
{
	static const struct unit units[] = {
		{ "", 1ull },
		{ "k", 1ull << 10 },
		{ "K", 1ull << 10 },
		{ "M", 1ull << 20 },
		{ "G", 1ull << 30 },
		{ NULL, 0 },
	};

	return parse_with_unit(s, units, ret);
}

static int parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = { "true", "yes", "on", "1", NULL };
	static const char *const no[] = { "false", "no", "off", "0", NULL };

	for (size_t i = 0; yes[i]; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* ---- key tables ---- */

static size_t key_field_size(const struct xi_config_key *k)
{
	switch (k->type) {
	case XI_CFG_U32:
	case XI_CFG_ENUM:
		return sizeof(uint32_t);
	case XI_CFG_U64:
	case XI_CFG_DURATION:
	case XI_CFG_SIZE:
		return sizeof(uint64_t);
	case XI_CFG_BOOL:
		return sizeof(bool);
	case XI_CFG_STRING:
		return k->size;
	case XI_CFG_U32_LIST:
		return sizeof(struct xi_u32_list);
	}
	return 0;
}

/* A key that would write outside the config struct is the factory's bug; it
 * is refused before anything is written. */
static int key_check(const struct xi_factory *f, const struct xi_config_key *k,
		     struct xi_err *err)
{
	size_t sz = key_field_size(k);

	if (!k->name[0])
		return xi_err_set(err, -EINVAL, "%s: a key has an empty name", f->name);
	if (sz == 0)
		return xi_err_set(err, -EINVAL, "%s: %s: bad type or size", f->name, k->name);
	if (k->offset > f->config_size || sz > f->config_size - k->offset)
		return xi_err_set(err, -EINVAL, "%s: %s: field lies outside the %zu-byte config",
				  f->name, k->name, f->config_size);
	if (k->type == XI_CFG_ENUM && (!k->choices || !k->choices[0]))
		return xi_err_set(err, -EINVAL, "%s: %s: enum without choices", f->name, k->name);
	if (k->max && k->min > k->max)
		return xi_err_set(err, -EINVAL, "%s: %s: min above max", f->name, k->name);
	return 0;
}

static const struct xi_config_key *key_find(const struct xi_factory *f, const char *name)
{
	for (const struct xi_config_key *k = f->keys; k && k->name; k++) {
		if (strcmp(k->name, name) == 0)
			return k;
	}
	return NULL;
}

static int unknown_key(const struct xi_factory *f, const char *elem, const char *key,
		       struct xi_err *err)
{
	char known[XI_ERR_MSG_MAX] = "";
	size_t at = 0;

	for (const struct xi_config_key *k = f->keys; k && k->name && at < sizeof(known); k++)
		at += snprintf(known + at, sizeof(known) - at, "%s%s", at ? ", " : "", k->name);
	if (!known[0])
		return xi_err_set(err, -EINVAL, "%s: unknown key '%s' (it takes no keys)",
				  elem, key);
	return xi_err_set(err, -EINVAL, "%s: unknown key '%s' (known: %s)", elem, key, known);
}

/* ---- setting one field from text ---- */

struct field {
	const char *elem;               /* for messages */
	const struct xi_config_key *key;
	void *at;                       /* where the value goes */
	struct xi_err *err;
};

static int field_fail(const struct field *fd, const char *fmt, const char *value)
{
	char what[XI_ERR_MSG_MAX];

	snprintf(what, sizeof(what), fmt, value);
	return xi_err_set(fd->err, -EINVAL, "%s: %s: %s", fd->elem, fd->key->name, what);
}

static int number_fail(const struct field *fd, int rc, const char *value, const char *kind)
{
	char fmt[128];

	if (rc == -ERANGE)
		return field_fail(fd, "%s is too large", value);
	snprintf(fmt, sizeof(fmt), "'%%s' is not %s", kind);
	return field_fail(fd, fmt, value);
}

/* Bounds and the power-of-two flag, shared by every numeric type. */
static int number_check(const struct field *fd, uint64_t v, uint64_t type_max,
			const char *value)
{
	const struct xi_config_key *k = fd->key;

	if (v > type_max)
		return field_fail(fd, "%s is too large", value);
	if (k->max && (v < k->min || v > k->max)) {
		char fmt[160];

		snprintf(fmt, sizeof(fmt), "%%s is out of range (%llu..%llu)",
			 (unsigned long long)k->min, (unsigned long long)k->max);
		return field_fail(fd, fmt, value);
	}
	if ((k->flags & XI_CFG_F_POW2) && (v == 0 || (v & (v - 1))))
		return field_fail(fd, "%s is not a power of two", value);
	return 0;
}

static int list_too_long(const struct field *fd)
{
	return xi_err_set(fd->err, -EINVAL, "%s: %s: too many values (at most %d)",
			  fd->elem, fd->key->name, XI_U32_LIST_MAX);
}

static int set_u32_list(const struct field *fd, const char *value)
{
	struct xi_u32_list list = { 0 };
	const char *p = value;

	for (;;) {
		char item[32];
		size_t len, lead;
		uint64_t v;
		int rc;

		len = strcspn(p, ",");
		lead = strspn(p, " \t");
		if (lead > len)
			lead = len;
		while (len > lead && isblank((unsigned char)p[len - 1]))
			len--;
		if (len == lead || len - lead >= sizeof(item))
			return field_fail(fd, "'%s' is not a list of numbers", value);
		memcpy(item, p + lead, len - lead);
		item[len - lead] = '\0';
		if (list.n == XI_U32_LIST_MAX)
			return list_too_long(fd);
		rc = xi_parse_u64(item, &v);
		if (rc)
			return number_fail(fd, rc, item, "a number");
		rc = number_check(fd, v, UINT32_MAX, item);
		if (rc)
			return rc;
		list.v[list.n++] = (uint32_t)v;
		p += strcspn(p, ",");
		if (!*p)
			break;
		p++;
	}
	memcpy(fd->at, &list, sizeof(list));
	return 0;
}

static int set_enum(const struct field *fd, const char *value)
{
	char fmt[XI_ERR_MSG_MAX] = "'%s' is not one of: ";
	size_t at = strlen(fmt);

	for (uint32_t i = 0; fd->key->choices[i]; i++) {
		if (strcmp(fd->key->choices[i], value) == 0) {
			memcpy(fd->at, &i, sizeof(i));
			return 0;
		}
	}
	for (size_t i = 0; fd->key->choices[i] && at < sizeof(fmt); i++)
		at += snprintf(fmt + at, sizeof(fmt) - at, "%s%s", i ? ", " : "",
			       fd->key->choices[i]);
	/* choices are the factory's text, not ours: keep '%' from formatting. */
	for (char *c = fmt + 4; *c; c++) {
		if (*c == '%')
			*c = '?';
	}
	return field_fail(fd, fmt, value);
}

static int set_number(const struct field *fd, const char *value)
{
	const struct xi_config_key *k = fd->key;
	uint64_t v = 0;
	int rc;

	switch (k->type) {
	case XI_CFG_DURATION:
		rc = xi_parse_duration_ns(value, &v);
		if (rc)
			return number_fail(fd, rc, value,
					   "a duration (a number with a unit: ns, us, ms, s, m)");
		break;
	case XI_CFG_SIZE:
		rc = xi_parse_size(value, &v);
		if (rc)
			return number_fail(fd, rc, value, "a size (a number, optionally with k, M or G)");
		break;
	default:
		rc = xi_parse_u64(value, &v);
		if (rc)
			return number_fail(fd, rc, value, "a number");
		break;
	}
	if (k->type == XI_CFG_U32) {
		uint32_t v32;

		rc = number_check(fd, v, UINT32_MAX, value);
		v32 = (uint32_t)v;
		if (!rc)
			memcpy(fd->at, &v32, sizeof(v32));
		return rc;
	}
	rc = number_check(fd, v, UINT64_MAX, value);
	if (!rc)
		memcpy(fd->at, &v, sizeof(v));
	return rc;
}

static int field_set(const struct field *fd, const char *value)
{
	const struct xi_config_key *k = fd->key;
	size_t len;
	bool b;

	switch (k->type) {
	case XI_CFG_BOOL:
		if (parse_bool(value, &b))
			return field_fail(fd, "'%s' is not a boolean (true/false, yes/no, on/off, 1/0)",
					  value);
		memcpy(fd->at, &b, sizeof(b));
		return 0;
	case XI_CFG_STRING:
		len = strlen(value);
		if (len >= k->size) {
			char fmt[96];

			snprintf(fmt, sizeof(fmt), "'%%s' is too long (at most %zu bytes)",
				 k->size - 1);
			return field_fail(fd, fmt, value);
		}
		memset(fd->at, 0, k->size);
		memcpy(fd->at, value, len);
		return 0;
	case XI_CFG_ENUM:
		return set_enum(fd, value);
	case XI_CFG_U32_LIST:
		return set_u32_list(fd, value);
	default:
		return set_number(fd, value);
	}
}

/* ---- whole configs ---- */

int xi_config_defaults(const struct xi_factory *f, void *cfg, struct xi_err *err)
{
	if (!f || !f->name || (!cfg && f->config_size))
		return xi_err_set(err, -EINVAL, "config: no factory or no config buffer");
	if (cfg)
		memset(cfg, 0, f->config_size);
	for (const struct xi_config_key *k = f->keys; k && k->name; k++) {
		struct field fd = { f->name, k, (char *)cfg + k->offset, err };
		int rc = key_check(f, k, err);

		if (rc)
			return rc;
		if (!k->def || (k->flags & XI_CFG_F_REQUIRED))
			continue;
		rc = field_set(&fd, k->def);
		if (rc)
			return rc;
	}
	return 0;
}

int xi_config_check(const struct xi_factory *f, struct xi_err *err)
{
	void *cfg = calloc(1, f->config_size ? f->config_size : 1);
	int rc;

	if (!cfg)
		return -ENOMEM;
	rc = xi_config_defaults(f, cfg, err);
	free(cfg);
	return rc;
}

int xi_config_parse(const struct xi_factory *f, const struct xi_chain_elem *elem,
		    void *cfg, struct xi_err *err)
{
	const char *name;
	int rc;

	rc = xi_config_defaults(f, cfg, err);
	if (rc)
		return rc;
	if (elem && elem->n_params > XI_ELEM_MAX_PARAMS)
		return xi_err_set(err, -EINVAL, "%s: too many parameters", f->name);
	name = elem && elem->name ? elem->name : f->name;
	for (size_t i = 0; elem && i < elem->n_params; i++) {
		const struct xi_chain_param *p = &elem->params[i];
		const struct xi_config_key *k;
		struct field fd;

		if (!p->key || !p->value)
			return xi_err_set(err, -EINVAL, "%s: parameter %zu is empty", name, i);
		k = key_find(f, p->key);
		if (!k)
			return unknown_key(f, name, p->key, err);
		if (xi_chain_elem_has_key(elem, i, p->key))
			return xi_err_set(err, -EINVAL, "%s: %s: given twice", name, p->key);
		fd = (struct field){ name, k, (char *)cfg + k->offset, err };
		rc = field_set(&fd, p->value);
		if (rc)
			return rc;
	}
	for (const struct xi_config_key *k = f->keys; k && k->name; k++) {
		if ((k->flags & XI_CFG_F_REQUIRED) &&
		    !(elem && xi_chain_elem_has_key(elem, elem->n_params, k->name)))
			return xi_err_set(err, -EINVAL, "%s: %s: required but not given",
					  name, k->name);
	}
	return 0;
}
