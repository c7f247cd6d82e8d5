// SPDX-License-Identifier: MIT
/* Chain descriptions, typed configuration and the single-value parsers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <xicept/config.h>
#include <xicept/registry.h>

struct tcfg {
	uint32_t size;
	uint64_t count;
	bool enabled;
	char label[8];
	uint32_t mode;
	struct xi_u32_list ssrc;
	uint64_t interval;
	uint64_t buf;
};

static const char *const modes[] = { "allow", "deny", NULL };

static const struct xi_config_key tkeys[] = {
	{ .name = "size", .type = XI_CFG_U32, .offset = offsetof(struct tcfg, size),
	  .def = "512", .min = 16, .max = 4096, .flags = XI_CFG_F_POW2 },
	{ .name = "count", .type = XI_CFG_U64, .offset = offsetof(struct tcfg, count),
	  .def = "7" },
	{ .name = "enabled", .type = XI_CFG_BOOL, .offset = offsetof(struct tcfg, enabled),
	  .def = "true" },
	{ .name = "label", .type = XI_CFG_STRING, .offset = offsetof(struct tcfg, label),
	  .size = sizeof(((struct tcfg *)0)->label), .def = "x" },
	{ .name = "mode", .type = XI_CFG_ENUM, .offset = offsetof(struct tcfg, mode),
	  .def = "deny", .choices = modes },
	{ .name = "ssrc", .type = XI_CFG_U32_LIST, .offset = offsetof(struct tcfg, ssrc),
	  .max = 0xfffffff0u, .min = 1 },
	{ .name = "interval", .type = XI_CFG_DURATION,
	  .offset = offsetof(struct tcfg, interval), .def = "100ms",
	  .min = 1000000, .max = 10000000000ull },
	{ .name = "buf", .type = XI_CFG_SIZE, .offset = offsetof(struct tcfg, buf),
	  .def = "4k" },
	{ 0 },
};

static int fake_new(const struct xi_factory *f, const void *config,
		    const struct xi_build_ctx *ctx, struct xi_interceptor **ret)
{
	return -ENOSYS;
}

static const struct xi_factory tfac = {
	.name = "nack-generator",
	.keys = tkeys,
	.config_size = sizeof(struct tcfg),
	.new_interceptor = fake_new,
};

struct fcfg {
	uint32_t mode;
	struct xi_u32_list ssrc;
};

static const struct xi_config_key fkeys[] = {
	{ .name = "mode", .type = XI_CFG_ENUM, .offset = offsetof(struct fcfg, mode),
	  .choices = modes },
	{ .name = "ssrc", .type = XI_CFG_U32_LIST, .offset = offsetof(struct fcfg, ssrc),
	  .flags = XI_CFG_F_REQUIRED, .def = "1" },
	{ 0 },
};

static const struct xi_factory ffac = {
	.name = "ssrc-filter",
	.keys = fkeys,
	.config_size = sizeof(struct fcfg),
	.new_interceptor = fake_new,
};

static const struct xi_factory nokeys = {
	.name = "noop",
	.new_interceptor = fake_new,
};

/* Parses "<name> <params>" and applies it to f. */
static int parse_into(const struct xi_factory *f, const char *text, void *cfg,
		      struct xi_err *err)
{
	struct xi_chain_desc *d = NULL;
	int rc;

	assert_int_equal(xi_chain_desc_parse(text, &d, NULL), 0);
	assert_int_equal(d->n, 1);
	rc = xi_config_parse(f, &d->elems[0], cfg, err);
	xi_chain_desc_free(d);
	return rc;
}

static void expect_cfg_error(const struct xi_factory *f, const char *text, const char *msg)
{
	struct tcfg cfg;
	struct fcfg fcfg;
	struct xi_err err = { 0 };
	void *p = f == &ffac ? (void *)&fcfg : (void *)&cfg;

	assert_int_equal(parse_into(f, text, p, &err), -EINVAL);
	assert_int_equal(err.code, -EINVAL);
	assert_string_equal(err.msg, msg);
}

static void test_defaults(void **state)
{
	struct tcfg cfg;

	memset(&cfg, 0xa5, sizeof(cfg));
	assert_int_equal(xi_config_defaults(&tfac, &cfg, NULL), 0);
	assert_int_equal(cfg.size, 512);
	assert_int_equal(cfg.count, 7);
	assert_true(cfg.enabled);
	assert_string_equal(cfg.label, "x");
	assert_int_equal(cfg.label[7], 0);
	assert_int_equal(cfg.mode, 1);
	assert_int_equal(cfg.ssrc.n, 0);
	assert_int_equal(cfg.ssrc.v[0], 0);
	assert_int_equal(cfg.interval, 100000000ull);
	assert_int_equal(cfg.buf, 4096);
	/* An element without parameters gives the same. */
	struct tcfg cfg2;

	memset(&cfg2, 0x5a, sizeof(cfg2));
	assert_int_equal(xi_config_parse(&tfac, NULL, &cfg2, NULL), 0);
	assert_memory_equal(&cfg, &cfg2, sizeof(cfg));
}

static void test_parse_every_type(void **state)
{
	struct tcfg cfg;
	struct xi_err err = { 0 };

	assert_int_equal(parse_into(&tfac,
		"nack-generator size=1024 count=0x10 enabled=off label=\"a b\" mode=allow "
		"ssrc=\"0x1234, 0x5678,7\" interval=2s buf=1M", &cfg, &err), 0);
	assert_int_equal(err.code, 0);
	assert_int_equal(cfg.size, 1024);
	assert_int_equal(cfg.count, 16);
	assert_false(cfg.enabled);
	assert_string_equal(cfg.label, "a b");
	assert_int_equal(cfg.mode, 0);
	assert_int_equal(cfg.ssrc.n, 3);
	assert_int_equal(cfg.ssrc.v[0], 0x1234);
	assert_int_equal(cfg.ssrc.v[1], 0x5678);
	assert_int_equal(cfg.ssrc.v[2], 7);
	assert_int_equal(cfg.interval, 2000000000ull);
	assert_int_equal(cfg.buf, 1048576);
}

static void test_bool_spellings(void **state)
{
	static const struct { const char *text; bool v; } cases[] = {
		{ "true", true }, { "yes", true }, { "on", true }, { "1", true },
		{ "false", false }, { "no", false }, { "off", false }, { "0", false },
		{ "TRUE", true }, { "Off", false },
	};
	char text[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tcfg cfg;

		snprintf(text, sizeof(text), "nack-generator enabled=%s", cases[i].text);
		assert_int_equal(parse_into(&tfac, text, &cfg, NULL), 0);
		assert_int_equal(cfg.enabled, cases[i].v);
	}
}

static void test_value_errors(void **state)
{
	expect_cfg_error(&tfac, "nack-generator size=100",
			 "nack-generator: size: 100 is not a power of two");
	expect_cfg_error(&tfac, "nack-generator size=8192",
			 "nack-generator: size: 8192 is out of range (16..4096)");
	expect_cfg_error(&tfac, "nack-generator size=8",
			 "nack-generator: size: 8 is out of range (16..4096)");
	expect_cfg_error(&tfac, "nack-generator size=abc",
			 "nack-generator: size: 'abc' is not a number");
	expect_cfg_error(&tfac, "nack-generator size=0x100000000",
			 "nack-generator: size: 0x100000000 is too large");
	expect_cfg_error(&tfac, "nack-generator count=-1",
			 "nack-generator: count: '-1' is not a number");
	expect_cfg_error(&tfac, "nack-generator count=18446744073709551616",
			 "nack-generator: count: 18446744073709551616 is too large");
	expect_cfg_error(&tfac, "nack-generator enabled=maybe",
			 "nack-generator: enabled: 'maybe' is not a boolean "
			 "(true/false, yes/no, on/off, 1/0)");
	expect_cfg_error(&tfac, "nack-generator label=12345678",
			 "nack-generator: label: '12345678' is too long (at most 7 bytes)");
	expect_cfg_error(&tfac, "nack-generator mode=maybe",
			 "nack-generator: mode: 'maybe' is not one of: allow, deny");
	expect_cfg_error(&tfac, "nack-generator interval=100",
			 "nack-generator: interval: '100' is not a duration "
			 "(a number with a unit: ns, us, ms, s, m)");
	expect_cfg_error(&tfac, "nack-generator interval=0ms",
			 "nack-generator: interval: 0ms is out of range "
			 "(1000000..10000000000)");
	expect_cfg_error(&tfac, "nack-generator interval=11s",
			 "nack-generator: interval: 11s is out of range "
			 "(1000000..10000000000)");
	expect_cfg_error(&tfac, "nack-generator buf=4T",
			 "nack-generator: buf: '4T' is not a size "
			 "(a number, optionally with k, M or G)");
	expect_cfg_error(&tfac, "nack-generator buf=17179869184G",
			 "nack-generator: buf: 17179869184G is too large");
}

static void test_list_errors(void **state)
{
	char text[1024] = "nack-generator ssrc=";
	size_t at = strlen(text);
	struct tcfg cfg;

	expect_cfg_error(&tfac, "nack-generator ssrc=1,,2",
			 "nack-generator: ssrc: '1,,2' is not a list of numbers");
	expect_cfg_error(&tfac, "nack-generator ssrc=1,2,",
			 "nack-generator: ssrc: '1,2,' is not a list of numbers");
	expect_cfg_error(&tfac, "nack-generator ssrc=",
			 "nack-generator: ssrc: '' is not a list of numbers");
	expect_cfg_error(&tfac, "nack-generator ssrc=1,0x100000000",
			 "nack-generator: ssrc: 0x100000000 is too large");
	expect_cfg_error(&tfac, "nack-generator ssrc=1,zz",
			 "nack-generator: ssrc: 'zz' is not a number");
	expect_cfg_error(&tfac, "nack-generator ssrc=0",
			 "nack-generator: ssrc: 0 is out of range (1..4294967280)");

	for (int i = 1; i <= XI_U32_LIST_MAX; i++)
		at += snprintf(text + at, sizeof(text) - at, "%s%d", i > 1 ? "," : "", i);
	assert_int_equal(parse_into(&tfac, text, &cfg, NULL), 0);
	assert_int_equal(cfg.ssrc.n, XI_U32_LIST_MAX);
	assert_int_equal(cfg.ssrc.v[XI_U32_LIST_MAX - 1], XI_U32_LIST_MAX);
	snprintf(text + at, sizeof(text) - at, ",65");
	expect_cfg_error(&tfac, text, "nack-generator: ssrc: too many values (at most 64)");
}

static void test_key_errors(void **state)
{
	struct xi_chain_elem elem = { .name = "ssrc-filter", .n_params = 2 };
	struct fcfg cfg;
	struct xi_err err = { 0 };

	expect_cfg_error(&ffac, "ssrc-filter mod=allow ssrc=1",
			 "ssrc-filter: unknown key 'mod' (known: mode, ssrc)");
	expect_cfg_error(&nokeys, "noop x=1", "noop: unknown key 'x' (it takes no keys)");
	expect_cfg_error(&ffac, "ssrc-filter mode=allow",
			 "ssrc-filter: ssrc: required but not given");
	/* The parser refuses duplicates, so build the element by hand. */
	elem.params[0] = (struct xi_chain_param){ "ssrc", "1" };
	elem.params[1] = (struct xi_chain_param){ "ssrc", "2" };
	assert_int_equal(xi_config_parse(&ffac, &elem, &cfg, &err), -EINVAL);
	assert_string_equal(err.msg, "ssrc-filter: ssrc: given twice");
	elem.n_params = 1;
	assert_int_equal(xi_config_parse(&ffac, &elem, &cfg, &err), 0);
	assert_int_equal(cfg.mode, 0);
	assert_int_equal(cfg.ssrc.n, 1);
	assert_int_equal(cfg.ssrc.v[0], 1);
}

static void test_broken_tables(void **state)
{
	struct tcfg cfg;
	struct xi_err err = { 0 };
	struct xi_config_key keys[2] = { { 0 } };
	struct xi_factory f = { .name = "broken", .keys = keys,
				.config_size = sizeof(uint32_t), .new_interceptor = fake_new };

	keys[0] = (struct xi_config_key){ .name = "v", .type = XI_CFG_U64 };
	assert_int_equal(xi_config_defaults(&f, &cfg, &err), -EINVAL);
	assert_string_equal(err.msg, "broken: v: field lies outside the 4-byte config");
	keys[0] = (struct xi_config_key){ .name = "v", .type = XI_CFG_U32, .offset = 1 };
	assert_int_equal(xi_config_defaults(&f, &cfg, &err), -EINVAL);
	keys[0] = (struct xi_config_key){ .name = "v", .type = XI_CFG_ENUM };
	assert_int_equal(xi_config_defaults(&f, &cfg, &err), -EINVAL);
	assert_string_equal(err.msg, "broken: v: enum without choices");
	keys[0] = (struct xi_config_key){ .name = "v", .type = XI_CFG_STRING, .size = 0 };
	assert_int_equal(xi_config_defaults(&f, &cfg, &err), -EINVAL);
	keys[0] = (struct xi_config_key){ .name = "v", .type = 99 };
	assert_int_equal(xi_config_defaults(&f, &cfg, &err), -EINVAL);
	keys[0] = (struct xi_config_key){ .name = "v", .type = XI_CFG_U32, .def = "3",
					  .flags = XI_CFG_F_POW2 };
	assert_int_equal(xi_config_defaults(&f, &cfg, &err), -EINVAL);
	assert_string_equal(err.msg, "broken: v: 3 is not a power of two");
	keys[0] = (struct xi_config_key){ .name = "v", .type = XI_CFG_U32, .def = "4",
					  .flags = XI_CFG_F_POW2 };
	assert_int_equal(xi_config_defaults(&f, &cfg, &err), 0);
	assert_int_equal(cfg.size, 4);
	assert_int_equal(xi_config_defaults(NULL, &cfg, NULL), -EINVAL);
	assert_int_equal(xi_config_defaults(&f, NULL, NULL), -EINVAL);
	assert_int_equal(xi_config_defaults(&nokeys, NULL, NULL), 0);
}

static void test_parse_u64(void **state)
{
	uint64_t v = 42;

	assert_int_equal(xi_parse_u64("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(xi_parse_u64("010", &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(xi_parse_u64("0x1F", &v), 0);
	assert_int_equal(v, 31);
	assert_int_equal(xi_parse_u64("0XfF", &v), 0);
	assert_int_equal(v, 255);
	assert_int_equal(xi_parse_u64("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	v = 42;
	assert_int_equal(xi_parse_u64("18446744073709551616", &v), -ERANGE);
	assert_int_equal(xi_parse_u64("0x10000000000000000", &v), -ERANGE);
	assert_int_equal(v, 42);
	static const char *const bad[] = { "", "0x", "-1", "+1", " 1", "1 ", "1k", "x1",
					   "0x 1", "1.5", "0b1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(xi_parse_u64(bad[i], &v), -EINVAL);
	assert_int_equal(v, 42);
	assert_int_equal(xi_parse_u64(NULL, &v), -EINVAL);
	assert_int_equal(xi_parse_u64("1", NULL), -EINVAL);
}

static void test_parse_duration(void **state)
{
	static const struct { const char *s; uint64_t ns; } ok[] = {
		{ "5ns", 5 }, { "3us", 3000 }, { "2ms", 2000000 }, { "1s", 1000000000ull },
		{ "2m", 120000000000ull }, { "0s", 0 }, { "0x10ms", 16000000 },
		{ "307445734m", 18446744040000000000ull },
	};
	uint64_t v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(xi_parse_duration_ns(ok[i].s, &v), 0);
		assert_true(v == ok[i].ns);
	}
	assert_int_equal(xi_parse_duration_ns("307445735m", &v), -ERANGE);
	assert_int_equal(xi_parse_duration_ns("99999999999999999999s", &v), -ERANGE);
	static const char *const bad[] = { "1", "1h", "1S", "ms", "1 ms", "1ms ", "-1s", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(xi_parse_duration_ns(bad[i], &v), -EINVAL);
	/* An unknown unit is a syntax error even when the number overflows. */
	assert_int_equal(xi_parse_duration_ns("99999999999999999999h", &v), -EINVAL);
}

static void test_parse_size(void **state)
{
	static const struct { const char *s; uint64_t n; } ok[] = {
		{ "7", 7 }, { "1k", 1024 }, { "1K", 1024 }, { "2M", 2097152 },
		{ "3G", 3221225472ull }, { "0x10k", 16384 }, { "16777215G", 16777215ull << 30 },
	};
	uint64_t v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(xi_parse_size(ok[i].s, &v), 0);
		assert_true(v == ok[i].n);
	}
	assert_int_equal(xi_parse_size("17179869184G", &v), -ERANGE);
	assert_int_equal(xi_parse_size("1T", &v), -EINVAL);
	assert_int_equal(xi_parse_size("1kB", &v), -EINVAL);
	assert_int_equal(xi_parse_size("k", &v), -EINVAL);
}

/* ---- chain descriptions ---- */

static void test_desc_parse(void **state)
{
	struct xi_chain_desc *d = NULL;

	assert_int_equal(xi_chain_desc_parse(
		"  ssrc-filter mode=allow ssrc=0x1234,0x5678 !header-stats  !  x k=\"a \\\"b\\\\\" e=\"\"",
		&d, NULL), 0);
	assert_int_equal(d->n, 3);
	assert_string_equal(d->elems[0].name, "ssrc-filter");
	assert_int_equal(d->elems[0].n_params, 2);
	assert_string_equal(d->elems[0].params[0].key, "mode");
	assert_string_equal(d->elems[0].params[0].value, "allow");
	assert_string_equal(d->elems[0].params[1].key, "ssrc");
	assert_string_equal(d->elems[0].params[1].value, "0x1234,0x5678");
	assert_string_equal(d->elems[1].name, "header-stats");
	assert_int_equal(d->elems[1].n_params, 0);
	assert_string_equal(d->elems[2].name, "x");
	assert_int_equal(d->elems[2].n_params, 2);
	assert_string_equal(d->elems[2].params[0].value, "a \"b\\");
	assert_string_equal(d->elems[2].params[1].value, "");
	xi_chain_desc_free(d);

	/* '=' inside an unquoted value belongs to the value. */
	assert_int_equal(xi_chain_desc_parse("a k=b=c", &d, NULL), 0);
	assert_string_equal(d->elems[0].params[0].value, "b=c");
	xi_chain_desc_free(d);

	assert_int_equal(xi_chain_desc_parse("", &d, NULL), 0);
	assert_int_equal(d->n, 0);
	xi_chain_desc_free(d);
	assert_int_equal(xi_chain_desc_parse(" \t\n", &d, NULL), 0);
	assert_int_equal(d->n, 0);
	xi_chain_desc_free(d);
	xi_chain_desc_free(NULL);
}

static void expect_desc_error(const char *text, int code, const char *msg)
{
	struct xi_chain_desc *d = (struct xi_chain_desc *)0x1;
	struct xi_err err = { 0 };

	assert_int_equal(xi_chain_desc_parse(text, &d, &err), code);
	assert_ptr_equal(d, (struct xi_chain_desc *)0x1);
	assert_int_equal(err.code, code);
	assert_string_equal(err.msg, msg);
}

static void test_desc_errors(void **state)
{
	char text[1024];
	size_t at = 0;

	expect_desc_error("a ! ! b", -EINVAL, "chain: column 5: expected an interceptor name");
	expect_desc_error("a !", -EINVAL, "chain: column 4: expected an interceptor name");
	expect_desc_error("! a", -EINVAL, "chain: column 1: expected an interceptor name");
	expect_desc_error("a b", -EINVAL,
			  "chain: column 3: expected key=value or '!' between elements");
	expect_desc_error("a =v", -EINVAL, "chain: column 3: expected key=value");
	expect_desc_error("k=v", -EINVAL,
			  "chain: column 2: expected an interceptor name before key=value");
	expect_desc_error("a k=\"open", -EINVAL, "chain: column 5: unterminated quoted value");
	expect_desc_error("a k=\"x\"y", -EINVAL,
			  "chain: column 8: expected a space or '!' after a quoted value");
	expect_desc_error("a k=x\"y", -EINVAL, "chain: column 6: a quote may only start a value");
	expect_desc_error("a k=1 k=2", -EINVAL, "chain: a: k: given twice");
	expect_desc_error("abcdefghijabcdefghijabcdefghijab", -EINVAL,
			  "chain: interceptor name 'abcdefghijabcdefghijabcdefghijab' is too long");
	expect_desc_error(NULL, -EINVAL, "chain: no text");

	for (int i = 0; i <= XI_CHAIN_MAX; i++)
		at += snprintf(text + at, sizeof(text) - at, "%se%d", i ? " ! " : "", i);
	expect_desc_error(text, -E2BIG, "chain: more than 16 elements");

	at = snprintf(text, sizeof(text), "a");
	for (int i = 0; i <= XI_ELEM_MAX_PARAMS; i++)
		at += snprintf(text + at, sizeof(text) - at, " k%d=%d", i, i);
	expect_desc_error(text, -E2BIG, "chain: a: more than 16 parameters");
}

static void test_desc_limits_accepted(void **state)
{
	struct xi_chain_desc *d = NULL;
	char text[1024];
	size_t at = 0;

	for (int i = 0; i < XI_CHAIN_MAX; i++)
		at += snprintf(text + at, sizeof(text) - at, "%se%d", i ? " ! " : "", i);
	assert_int_equal(xi_chain_desc_parse(text, &d, NULL), 0);
	assert_int_equal(d->n, XI_CHAIN_MAX);
	assert_string_equal(d->elems[15].name, "e15");
	xi_chain_desc_free(d);
	assert_int_equal(xi_chain_desc_parse("abcdefghijabcdefghijabcdefghija", &d, NULL), 0);
	xi_chain_desc_free(d);
}

static void assert_desc_equal(const struct xi_chain_desc *a, const struct xi_chain_desc *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		assert_string_equal(a->elems[i].name, b->elems[i].name);
		assert_int_equal(a->elems[i].n_params, b->elems[i].n_params);
		for (size_t j = 0; j < a->elems[i].n_params; j++) {
			assert_string_equal(a->elems[i].params[j].key, b->elems[i].params[j].key);
			assert_string_equal(a->elems[i].params[j].value,
					    b->elems[i].params[j].value);
		}
	}
}

static void test_desc_format_roundtrip(void **state)
{
	static const char *const text =
		"ssrc-filter   mode=allow ssrc=0x1234,0x5678!header-stats ! "
		"x k=\"a b\" q=\"say \\\"hi\\\" \\\\ \" e=\"\" bang=\"a!b\" eq=b=c plain=\"word\"";
	static const char *const canon =
		"ssrc-filter mode=allow ssrc=0x1234,0x5678 ! header-stats ! "
		"x k=\"a b\" q=\"say \\\"hi\\\" \\\\ \" e=\"\" bang=\"a!b\" eq=b=c plain=word";
	struct xi_chain_desc *d = NULL, *d2 = NULL;
	char buf[256], small[8];
	int n;

	assert_int_equal(xi_chain_desc_parse(text, &d, NULL), 0);
	n = xi_chain_desc_format(d, buf, sizeof(buf));
	assert_int_equal(n, strlen(canon));
	assert_string_equal(buf, canon);
	assert_int_equal(xi_chain_desc_parse(buf, &d2, NULL), 0);
	assert_desc_equal(d, d2);

	assert_int_equal(xi_chain_desc_format(d, NULL, 0), n);
	memset(small, 'z', sizeof(small));
	assert_int_equal(xi_chain_desc_format(d, small, sizeof(small)), n);
	assert_string_equal(small, "ssrc-fi");
	xi_chain_desc_free(d2);

	/* A description no text could produce is refused rather than misprinted. */
	free(d->elems[1].name);
	d->elems[1].name = strdup("has space");
	assert_int_equal(xi_chain_desc_format(d, buf, sizeof(buf)), -EINVAL);
	xi_chain_desc_free(d);
	assert_int_equal(xi_chain_desc_format(NULL, buf, sizeof(buf)), -EINVAL);

	assert_int_equal(xi_chain_desc_parse("", &d, NULL), 0);
	assert_int_equal(xi_chain_desc_format(d, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	xi_chain_desc_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_parse_every_type),
		cmocka_unit_test(test_bool_spellings),
		cmocka_unit_test(test_value_errors),
		cmocka_unit_test(test_list_errors),
		cmocka_unit_test(test_key_errors),
		cmocka_unit_test(test_broken_tables),
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_desc_parse),
		cmocka_unit_test(test_desc_errors),
		cmocka_unit_test(test_desc_limits_accepted),
		cmocka_unit_test(test_desc_format_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
