// SPDX-License-Identifier: MIT
/*
 * Chain descriptions in the style of gst-launch ("a k=v ! b"): the lexer that
 * turns text into a struct xi_chain_desc, and the formatter that turns one
 * back into canonical text. Syntax only; config.c gives the values meaning.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xicept/config.h>

#include "registry/config_internal.h"

/* ---- lexing ---- */

bool xi_chain_elem_has_key(const struct xi_chain_elem *elem, size_t before, const char *key)
{
	for (size_t i = 0; i < before; i++) {
		if (strcmp(elem->params[i].key, key) == 0)
			return true;
	}
	return false;
}

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
	if (xi_chain_elem_has_key(elem, elem->n_params - 1, key))
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
