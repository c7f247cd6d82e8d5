/* SPDX-License-Identifier: MIT */
/*
 * Chain descriptions in the style of gst-launch, and typed configuration.
 *
 *   ssrc-filter mode=allow ssrc=0x1234,0x5678 ! header-stats
 *
 * Elements are joined by " ! "; each is NAME followed by key=value pairs.
 * Values may be double-quoted ("a b"). Lists are comma-separated, durations
 * carry a unit (ns, us, ms, s, m), sizes may carry k, M or G (powers of 1024).
 * Numbers are decimal or 0x-prefixed hexadecimal.
 *
 * A factory describes its configuration as a table of keys; parsing fills a
 * plain struct of the factory's own type at the given offsets, defaults first.
 */
#ifndef XICEPT_CONFIG_H
#define XICEPT_CONFIG_H

#include <xicept/export.h>
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <xicept/error.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xi_factory;

#define XI_CHAIN_MAX        16   /* elements in one chain */
#define XI_ELEM_MAX_PARAMS  16   /* key=value pairs on one element */
#define XI_NAME_MAX         32   /* interceptor name, including NUL */
#define XI_U32_LIST_MAX     64   /* entries in a list value */

enum xi_config_type {
	XI_CFG_U32,       /* uint32_t */
	XI_CFG_U64,       /* uint64_t */
	XI_CFG_BOOL,      /* bool: true/false, yes/no, on/off, 1/0 (any case) */
	XI_CFG_STRING,    /* char[size], NUL-terminated */
	XI_CFG_ENUM,      /* uint32_t index into choices */
	XI_CFG_U32_LIST,  /* struct xi_u32_list; min/max/POW2 apply to each entry */
	XI_CFG_DURATION,  /* uint64_t nanoseconds; a unit is required */
	XI_CFG_SIZE,      /* uint64_t bytes; suffix k (or K), M, G */
};

#define XI_CFG_F_POW2      0x1u   /* numeric value must be a power of two (not 0) */
#define XI_CFG_F_REQUIRED  0x2u   /* must be given; def is ignored */

struct xi_config_key {
	const char *name;               /* NULL ends the table */
	enum xi_config_type type;
	size_t offset;                  /* offsetof in the factory's config struct */
	size_t size;                    /* XI_CFG_STRING: capacity in bytes */
	const char *def;                /* default, in the text form; NULL: zero */
	const char *help;               /* one line for `xicept registry list` */
	const char *const *choices;     /* XI_CFG_ENUM: NULL-terminated */
	uint64_t min, max;              /* numeric bounds when max != 0 */
	unsigned flags;                 /* XI_CFG_F_* */
};

struct xi_u32_list {
	uint32_t n;
	uint32_t v[XI_U32_LIST_MAX];
};

struct xi_chain_param {
	char *key;
	char *value;
};

struct xi_chain_elem {
	char *name;
	size_t n_params;
	struct xi_chain_param params[XI_ELEM_MAX_PARAMS];
};

struct xi_chain_desc {
	size_t n;
	struct xi_chain_elem elems[XI_CHAIN_MAX];
};

/* Syntax only: names and keys are not checked against any factory here. An
 * empty text gives n == 0. Inside quotes, \" and \\ escape; a key given twice
 * in one element is a syntax error. Errors: -EINVAL (syntax, with the column in
 * err), -E2BIG (too many), -ENOMEM. */
XI_API int xi_chain_desc_parse(const char *text, struct xi_chain_desc **ret,
			struct xi_err *err);
XI_API void xi_chain_desc_free(struct xi_chain_desc *desc);
/* Canonical text ("a k=v ! b"); returns the length it needs, like snprintf.
 * Values are quoted only when they must be. -EINVAL for a description no text
 * could produce (e.g. a name with a space). */
XI_API int xi_chain_desc_format(const struct xi_chain_desc *desc, char *buf, size_t size);

/* Fills cfg (f->config_size bytes) with the defaults of f's keys. */
XI_API int xi_config_defaults(const struct xi_factory *f, void *cfg, struct xi_err *err);
/* Defaults, then the element's parameters. An unknown key or a bad value gives
 * -EINVAL and a message naming the element and the field, e.g.
 * "nack-generator: size: 100 is not a power of two". */
XI_API int xi_config_parse(const struct xi_factory *f, const struct xi_chain_elem *elem,
		    void *cfg, struct xi_err *err);

/* Single-value parsers shared with the CLI. Return 0 or -EINVAL/-ERANGE. */
XI_API int xi_parse_u64(const char *s, uint64_t *ret);
XI_API int xi_parse_duration_ns(const char *s, uint64_t *ret);
XI_API int xi_parse_size(const char *s, uint64_t *ret);

#ifdef __cplusplus
}
#endif
#endif
