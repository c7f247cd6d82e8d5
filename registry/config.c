// SPDX-License-Identifier: MIT
/*
 * Chain descriptions ("a k=v ! b") and typed configuration from a factory's
 * key table. Everything that comes from text is checked here, so factories
 * receive a filled struct whose values are already within their bounds.
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

#include "registry/catalog_internal.h"

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

static bool elem_has_key(const struct xi_chain_elem *elem, size_t before, const char *key)
{
	for (size_t i = 0; i < before; i++) {
		if (strcmp(elem->params[i].key, key) == 0)
			return true;
	}
	return false;
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
		if (elem_has_key(elem, i, p->key))
			return xi_err_set(err, -EINVAL, "%s: %s: given twice", name, p->key);
		fd = (struct field){ name, k, (char *)cfg + k->offset, err };
		rc = field_set(&fd, p->value);
		if (rc)
			return rc;
	}
	for (const struct xi_config_key *k = f->keys; k && k->name; k++) {
		if ((k->flags & XI_CFG_F_REQUIRED) &&
		    !(elem && elem_has_key(elem, elem->n_params, k->name)))
			return xi_err_set(err, -EINVAL, "%s: %s: required but not given",
					  name, k->name);
	}
	return 0;
}

/* ---- chain descriptions ---- */

struct lexer {
	const char *text;
	const char *p;
	struct xi_err *err;
};

static bool is_word_char(char c)
{
	return c && !isspace((unsigned char)c) && c != '!' && c != '=' && c != '"';
}

static bool is_value_end(char c)
{
	return !c || isspace((unsigned char)c) || c == '!';
}

static void skip_space(struct lexer *lx)
{
	while (isspace((unsigned char)*lx->p))
		lx->p++;
}

static int lex_fail(struct lexer *lx, const char *what)
{
	return xi_err_set(lx->err, -EINVAL, "chain: column %zu: %s",
			  (size_t)(lx->p - lx->text) + 1, what);
}

static char *lex_word(struct lexer *lx)
{
	const char *start = lx->p;

	while (is_word_char(*lx->p))
		lx->p++;
	return strndup(start, lx->p - start);
}

/* A double-quoted value; \" and \\ are the only escapes. */
static int lex_quoted(struct lexer *lx, char **ret)
{
	const char *p = lx->p + 1;
	char *out = malloc(strlen(p) + 1);
	size_t n = 0;

	if (!out)
		return -ENOMEM;
	for (; *p && *p != '"'; p++) {
		if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
			p++;
		out[n++] = *p;
	}
	out[n] = '\0';
	if (!*p) {
		free(out);
		return lex_fail(lx, "unterminated quoted value");
	}
	lx->p = p + 1;
	if (!is_value_end(*lx->p)) {
		free(out);
		return lex_fail(lx, "expected a space or '!' after a quoted value");
	}
	*ret = out;
	return 0;
}

static int lex_value(struct lexer *lx, char **ret)
{
	const char *start = lx->p;

	if (*lx->p == '"')
		return lex_quoted(lx, ret);
	while (!is_value_end(*lx->p)) {
		if (*lx->p == '"')
			return lex_fail(lx, "a quote may only start a value");
		lx->p++;
	}
	*ret = strndup(start, lx->p - start);
	return *ret ? 0 : -ENOMEM;
}

static int lex_param(struct lexer *lx, struct xi_chain_elem *elem)
{
	struct xi_chain_param *p;
	const char *start = lx->p;
	char *key;
	int rc;

	if (!is_word_char(*lx->p))
		return lex_fail(lx, "expected key=value");
	if (elem->n_params == XI_ELEM_MAX_PARAMS)
		return xi_err_set(lx->err, -E2BIG, "chain: %s: more than %d parameters",
				  elem->name, XI_ELEM_MAX_PARAMS);
	key = lex_word(lx);
	if (!key)
		return -ENOMEM;
	if (*lx->p != '=') {
		free(key);
		lx->p = start;
		return lex_fail(lx, "expected key=value or '!' between elements");
	}
	lx->p++;
	p = &elem->params[elem->n_params];
	p->key = key;
	rc = lex_value(lx, &p->value);
	if (rc) {
		free(key);
		p->key = NULL;
		return rc;
	}
	elem->n_params++;
	if (elem_has_key(elem, elem->n_params - 1, key))
		return xi_err_set(lx->err, -EINVAL, "chain: %s: %s: given twice",
				  elem->name, key);
	return 0;
}

static int lex_elem(struct lexer *lx, struct xi_chain_elem *elem)
{
	int rc;

	if (!is_word_char(*lx->p))
		return lex_fail(lx, "expected an interceptor name");
	elem->name = lex_word(lx);
	if (!elem->name)
		return -ENOMEM;
	if (*lx->p == '=')
		return lex_fail(lx, "expected an interceptor name before key=value");
	if (strlen(elem->name) >= XI_NAME_MAX)
		return xi_err_set(lx->err, -EINVAL, "chain: interceptor name '%s' is too long",
				  elem->name);
	for (;;) {
		skip_space(lx);
		if (!*lx->p || *lx->p == '!')
			return 0;
		rc = lex_param(lx, elem);
		if (rc)
			return rc;
	}
}

static int lex_chain(struct lexer *lx, struct xi_chain_desc *desc)
{
	int rc;

	skip_space(lx);
	if (!*lx->p)
		return 0;
	for (;;) {
		if (desc->n == XI_CHAIN_MAX)
			return xi_err_set(lx->err, -E2BIG, "chain: more than %d elements",
					  XI_CHAIN_MAX);
		rc = lex_elem(lx, &desc->elems[desc->n++]);
		if (rc)
			return rc;
		if (!*lx->p)
			return 0;
		lx->p++;        /* the '!' */
		skip_space(lx);
	}
}

int xi_chain_desc_parse(const char *text, struct xi_chain_desc **ret, struct xi_err *err)
{
	struct lexer lx = { text, text, err };
	struct xi_chain_desc *desc;
	int rc;

	if (!text || !ret)
		return xi_err_set(err, -EINVAL, "chain: no text");
	desc = calloc(1, sizeof(*desc));
	if (!desc)
		return xi_err_set(err, -ENOMEM, "chain: out of memory");
	rc = lex_chain(&lx, desc);
	if (rc) {
		xi_chain_desc_free(desc);
		if (rc == -ENOMEM)
			xi_err_set(err, rc, "chain: out of memory");
		return rc;
	}
	*ret = desc;
	return 0;
}

void xi_chain_desc_free(struct xi_chain_desc *desc)
{
	if (!desc)
		return;
	for (size_t i = 0; i < desc->n && i < XI_CHAIN_MAX; i++) {
		struct xi_chain_elem *e = &desc->elems[i];

		free(e->name);
		for (size_t j = 0; j < e->n_params && j < XI_ELEM_MAX_PARAMS; j++) {
			free(e->params[j].key);
			free(e->params[j].value);
		}
	}
	free(desc);
}

/* ---- formatting ---- */

struct outbuf {
	char *buf;
	size_t size;
	size_t len;     /* what the whole text needs, even past size */
};

static void out_char(struct outbuf *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void out_str(struct outbuf *o, const char *s)
{
	for (; *s; s++)
		out_char(o, *s);
}

static bool is_word(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++) {
		if (!is_word_char(*s))
			return false;
	}
	return true;
}

static void out_value(struct outbuf *o, const char *v)
{
	bool quote = !*v;

	for (const char *c = v; *c && !quote; c++)
		quote = is_value_end(*c) || *c == '"';
	if (!quote) {
		out_str(o, v);
		return;
	}
	out_char(o, '"');
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			out_char(o, '\\');
		out_char(o, *v);
	}
	out_char(o, '"');
}

static int desc_check(const struct xi_chain_desc *desc)
{
	if (!desc || desc->n > XI_CHAIN_MAX)
		return -EINVAL;
	for (size_t i = 0; i < desc->n; i++) {
		const struct xi_chain_elem *e = &desc->elems[i];

		if (!is_word(e->name) || e->n_params > XI_ELEM_MAX_PARAMS)
			return -EINVAL;
		for (size_t j = 0; j < e->n_params; j++) {
			if (!is_word(e->params[j].key) || !e->params[j].value)
				return -EINVAL;
		}
	}
	return 0;
}

int xi_chain_desc_format(const struct xi_chain_desc *desc, char *buf, size_t size)
{
	struct outbuf o = { buf, buf ? size : 0, 0 };

	if (desc_check(desc))
		return -EINVAL;
	for (size_t i = 0; i < desc->n; i++) {
		const struct xi_chain_elem *e = &desc->elems[i];

		if (i)
			out_str(&o, " ! ");
		out_str(&o, e->name);
		for (size_t j = 0; j < e->n_params; j++) {
			out_char(&o, ' ');
			out_str(&o, e->params[j].key);
			out_char(&o, '=');
			out_value(&o, e->params[j].value);
		}
	}
	if (o.size)
		o.buf[o.len < o.size ? o.len : o.size - 1] = '\0';
	if (o.len > INT_MAX)
		return -EOVERFLOW;
	return (int)o.len;
}
