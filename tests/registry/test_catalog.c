// SPDX-License-Identifier: MIT
/* The catalog: registration rules, lookups, suggestions, hooks, references. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <xicept/catalog.h>
#include <xicept/config.h>
#include <xicept/registry.h>

struct counts {
	int made;
	int released;
};

static int counting_new(const struct xi_factory *f, const void *config,
			const struct xi_build_ctx *ctx, struct xi_interceptor **ret)
{
	struct counts *c = f->priv;

	c->made++;
	*ret = xi_noop_new();
	return *ret ? 0 : -ENOMEM;
}

static void counting_release(const struct xi_factory *f)
{
	struct counts *c = f->priv;

	c->released++;
}

static int failing_new(const struct xi_factory *f, const void *config,
		       const struct xi_build_ctx *ctx, struct xi_interceptor **ret)
{
	return -EIO;
}

#define FACTORY(nm, c) \
	{ .name = (nm), .new_interceptor = counting_new, .release = counting_release, .priv = (c) }

static const struct xi_factory *catalog_get(struct xi_catalog *cat, const char *name)
{
	struct xi_catalog_entry *e = NULL;
	const struct xi_factory *f;

	if (xi_catalog_lookup(cat, name, &e))
		return NULL;
	f = xi_catalog_entry_factory(e);
	xi_catalog_entry_put(e);
	return f;
}

static void test_register_validation(void **state)
{
	static const char *const bad[] = {
		"", "Abc", "1abc", "-abc", "a_b", "a b", "a.b", "ab\n", "aB",
		"abcdefghijabcdefghijabcdefghijab",      /* 32: no room for the NUL */
	};
	struct xi_catalog *cat = xi_catalog_new();
	struct counts c = { 0 };
	struct xi_factory f = FACTORY(NULL, &c);
	struct xi_catalog_stats st;

	assert_non_null(cat);
	assert_int_equal(xi_catalog_register(cat, &f), -EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f.name = bad[i];
		assert_int_equal(xi_catalog_register(cat, &f), -EINVAL);
	}
	assert_int_equal(xi_catalog_register(cat, NULL), -EINVAL);
	assert_int_equal(xi_catalog_register(NULL, &f), -EINVAL);
	f.name = "ok";
	f.new_interceptor = NULL;
	assert_int_equal(xi_catalog_register(cat, &f), -EINVAL);
	f.new_interceptor = counting_new;
	f.kind = 7;
	assert_int_equal(xi_catalog_register(cat, &f), -EINVAL);
	f.kind = XI_KIND_USERSPACE;

	/* A key table that writes past config_size is refused up front. */
	static const struct xi_config_key keys[] = {
		{ .name = "v", .type = XI_CFG_U64, .offset = 0 }, { 0 },
	};
	f.keys = keys;
	f.config_size = 4;
	assert_int_equal(xi_catalog_register(cat, &f), -EINVAL);
	f.config_size = 8;
	assert_int_equal(xi_catalog_register(cat, &f), 0);

	/* The catalog keeps f itself, so each registration needs its own. */
	struct xi_factory longest = FACTORY("abcdefghijabcdefghijabcdefghija", &c);
	struct xi_factory digits = FACTORY("z0-9-", &c);

	assert_int_equal(xi_catalog_register(cat, &longest), 0);     /* 31: the maximum */
	assert_int_equal(xi_catalog_register(cat, &digits), 0);

	xi_catalog_stats(cat, &st);
	assert_int_equal(st.size, 3);
	assert_int_equal(st.registrations, 3);
	xi_catalog_free(cat);
	/* Failed registrations never took ownership: nothing to release. */
	assert_int_equal(c.released, 3);
}

static void test_duplicate_and_freeze(void **state)
{
	struct xi_catalog *cat = xi_catalog_new();
	struct counts c1 = { 0 }, c2 = { 0 };
	struct xi_factory a = FACTORY("alpha", &c1), a2 = FACTORY("alpha", &c2);
	struct xi_factory b = FACTORY("beta", &c2);

	assert_int_equal(xi_catalog_register(cat, &a), 0);
	assert_int_equal(xi_catalog_register(cat, &a2), -EEXIST);
	assert_ptr_equal(catalog_get(cat, "alpha"), &a);
	assert_int_equal(xi_catalog_replace(cat, &b), -ENOENT);
	assert_int_equal(xi_catalog_unregister(cat, "beta"), -ENOENT);
	assert_int_equal(xi_catalog_unregister(cat, NULL), -EINVAL);

	xi_catalog_freeze(cat);
	xi_catalog_freeze(NULL);
	assert_int_equal(xi_catalog_register(cat, &b), -EBUSY);
	assert_int_equal(xi_catalog_replace(cat, &a2), -EBUSY);
	assert_int_equal(xi_catalog_unregister(cat, "alpha"), -EBUSY);
	/* Readers are unaffected. */
	assert_ptr_equal(catalog_get(cat, "alpha"), &a);
	assert_int_equal(c1.released, 0);
	xi_catalog_free(cat);
	assert_int_equal(c1.released, 1);
	assert_int_equal(c2.released, 0);
}

static void test_lookup_and_misses(void **state)
{
	struct xi_catalog *cat = xi_catalog_new();
	struct counts c = { 0 };
	struct xi_factory a = FACTORY("alpha", &c);
	struct xi_catalog_entry *e = (struct xi_catalog_entry *)0x1;
	struct xi_catalog_stats st;

	assert_int_equal(xi_catalog_lookup(cat, "alpha", &e), -ENOENT);
	assert_ptr_equal(e, (struct xi_catalog_entry *)0x1);
	assert_int_equal(xi_catalog_register(cat, &a), 0);
	assert_int_equal(xi_catalog_lookup(cat, "alpha", &e), 0);
	assert_ptr_equal(xi_catalog_entry_factory(e), &a);
	assert_ptr_equal(xi_catalog_entry_get(e), e);
	xi_catalog_entry_put(e);
	xi_catalog_entry_put(e);
	xi_catalog_entry_put(NULL);
	assert_null(xi_catalog_entry_get(NULL));
	assert_null(xi_catalog_entry_factory(NULL));
	assert_int_equal(xi_catalog_lookup(cat, "alph", &e), -ENOENT);
	assert_int_equal(xi_catalog_lookup(cat, "alph", &e), -ENOENT);
	assert_int_equal(xi_catalog_lookup(cat, "gamma", &e), -ENOENT);
	assert_int_equal(xi_catalog_lookup(cat, NULL, &e), -EINVAL);
	assert_int_equal(xi_catalog_lookup(cat, "alpha", NULL), -EINVAL);

	xi_catalog_stats(cat, &st);
	assert_int_equal(st.size, 1);
	assert_int_equal(st.lookups, 5);
	assert_int_equal(st.misses, 4);
	assert_int_equal(st.registrations, 1);
	assert_int_equal(st.builds, 0);
	assert_int_equal(xi_catalog_misses_for(cat, "alpha"), 1);
	assert_int_equal(xi_catalog_misses_for(cat, "alph"), 2);
	assert_int_equal(xi_catalog_misses_for(cat, "gamma"), 1);
	assert_int_equal(xi_catalog_misses_for(cat, "delta"), 0);
	assert_int_equal(xi_catalog_misses_for(NULL, "alph"), 0);
	assert_int_equal(c.released, 0);
	xi_catalog_free(cat);
	assert_int_equal(c.released, 1);

	memset(&st, 0xff, sizeof(st));
	xi_catalog_stats(NULL, &st);
	assert_int_equal(st.lookups, 0);
	xi_catalog_free(NULL);
}

static void test_names_sorted(void **state)
{
	static const char *const order[] = { "zeta", "alpha", "nack-generator", "a", "m-1" };
	static const char *const sorted[] = { "a", "alpha", "m-1", "nack-generator", "zeta" };
	struct xi_catalog *cat = xi_catalog_new();
	struct counts c = { 0 };
	struct xi_factory f[5];
	char **names = NULL;
	size_t n = 99;

	assert_int_equal(xi_catalog_names(cat, &names, &n), 0);
	assert_int_equal(n, 0);
	assert_null(names[0]);
	xi_strv_free(names, n);
	for (size_t i = 0; i < 5; i++) {
		f[i] = (struct xi_factory)FACTORY(order[i], &c);
		assert_int_equal(xi_catalog_register(cat, &f[i]), 0);
	}
	assert_int_equal(xi_catalog_names(cat, &names, &n), 0);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(names[i], sorted[i]);
	assert_null(names[5]);
	xi_strv_free(names, n);
	xi_strv_free(NULL, 3);

	assert_int_equal(xi_catalog_unregister(cat, "m-1"), 0);
	assert_int_equal(c.released, 1);
	assert_int_equal(xi_catalog_names(cat, &names, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(names[2], "nack-generator");
	xi_strv_free(names, n);
	assert_int_equal(xi_catalog_names(cat, NULL, &n), -EINVAL);
	xi_catalog_free(cat);
	assert_int_equal(c.released, 5);
}

static void expect_suggest(struct xi_catalog *cat, const char *name, const char *want)
{
	char buf[XI_NAME_MAX] = "unchanged";

	if (!want) {
		assert_int_equal(xi_catalog_suggest(cat, name, buf, sizeof(buf)), -ENOENT);
		assert_string_equal(buf, "unchanged");
		return;
	}
	assert_int_equal(xi_catalog_suggest(cat, name, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
}

static void test_suggest(void **state)
{
	static const char *const names[] = { "ssrc-filter", "header-stats", "nack-generator",
					     "nack-responder", "noop" };
	struct xi_catalog *cat = xi_catalog_new();
	struct counts c = { 0 };
	struct xi_factory f[5];
	char small[4];

	expect_suggest(cat, "noop", NULL);
	for (size_t i = 0; i < 5; i++) {
		f[i] = (struct xi_factory)FACTORY(names[i], &c);
		assert_int_equal(xi_catalog_register(cat, &f[i]), 0);
	}
	expect_suggest(cat, "ssrc-filtr", "ssrc-filter");       /* deletion */
	expect_suggest(cat, "ssrc-filetr", "ssrc-filter");      /* swap: one edit */
	expect_suggest(cat, "ssrcfilter", "ssrc-filter");
	expect_suggest(cat, "header-stat", "header-stats");
	expect_suggest(cat, "nack-generater", "nack-generator");
	expect_suggest(cat, "nack-responde", "nack-responder");
	expect_suggest(cat, "noop", "noop");
	expect_suggest(cat, "nop", "noop");
	expect_suggest(cat, "oonp", "noop");                    /* two edits, limit 2 */
	expect_suggest(cat, "xyz", NULL);
	expect_suggest(cat, "ssrc", NULL);
	expect_suggest(cat, "", NULL);
	/* 15 letters allow 5 edits; "nack-gen-xxxxxx" is 7 from anything. */
	expect_suggest(cat, "nack-gen-xxxxxx", NULL);
	expect_suggest(cat, "nack-gen-xxxxor", "nack-generator");
	assert_int_equal(xi_catalog_suggest(cat, "nop", small, sizeof(small)), -ENOSPC);
	assert_int_equal(xi_catalog_suggest(cat, "nop", NULL, 8), -EINVAL);
	assert_int_equal(xi_catalog_suggest(NULL, "nop", small, sizeof(small)), -EINVAL);
	xi_catalog_free(cat);
}

/* ---- hooks ---- */

struct hook_log {
	char ev[16][48];
	size_t n;
	int nested_rc;
	int visible;     /* the changed name's lookup result, seen from the hook */
};

/* The hook learns the entry itself: its name, version and origin. */
static void log_hook(struct xi_catalog *cat, enum xi_catalog_event ev,
		     struct xi_catalog_entry *changed, void *user)
{
	static const char tag[] = { 'R', 'P', 'U' };
	const struct xi_factory *f = xi_catalog_entry_factory(changed);
	struct hook_log *log = user;
	struct xi_catalog_entry *e = NULL;
	char id[XI_ID_MAX];

	xi_factory_id(f, id, sizeof(id));
	log->visible = xi_catalog_lookup(cat, id, &e);
	if (e) {
		/* A replace must show the new factory already, and hand the hook it. */
		snprintf(log->ev[log->n++], sizeof(log->ev[0]), "%c:%s:%s:%s:%s", tag[ev], id,
			 (const char *)xi_catalog_entry_factory(e)->description,
			 (const char *)f->description,
			 xi_origin_kind_name(xi_catalog_entry_origin_kind(changed)));
		xi_catalog_entry_put(e);
	} else {
		snprintf(log->ev[log->n++], sizeof(log->ev[0]), "%c:%s:gone:%s:%s", tag[ev], id,
			 (const char *)f->description, xi_catalog_entry_origin(changed));
	}
}

static void second_hook(struct xi_catalog *cat, enum xi_catalog_event ev,
			struct xi_catalog_entry *changed, void *user)
{
	struct hook_log *log = user;

	snprintf(log->ev[log->n++], sizeof(log->ev[0]), "second:%s",
		 xi_catalog_entry_factory(changed)->name);
}

static void test_hooks_sequence(void **state)
{
	struct xi_catalog *cat = xi_catalog_new();
	struct counts c = { 0 };
	struct xi_factory a = FACTORY("alpha", &c), a2 = FACTORY("alpha", &c);
	struct xi_factory b = FACTORY("beta", &c);
	struct hook_log log = { 0 };

	a.description = "v1";
	a2.description = "v2";
	b.description = "b";
	b.version_major = 3;
	b.version_minor = 1;
	assert_int_equal(xi_catalog_on_change(cat, log_hook, &log), 0);
	assert_int_equal(xi_catalog_on_change(cat, NULL, &log), -EINVAL);
	assert_int_equal(xi_catalog_register(cat, &a), 0);
	assert_int_equal(xi_catalog_register_origin(cat, &b, XI_ORIGIN_PLUGIN, "/p/beta.so"), 0);
	assert_int_equal(xi_catalog_register(cat, &a2), -EEXIST);    /* no event */
	assert_int_equal(xi_catalog_replace(cat, &a2), 0);
	assert_int_equal(xi_catalog_on_change(cat, second_hook, &log), 0);
	assert_int_equal(xi_catalog_unregister(cat, "beta"), 0);
	assert_int_equal(xi_catalog_unregister(cat, "beta"), -ENOENT);  /* no event */
	xi_catalog_freeze(cat);
	assert_int_equal(xi_catalog_unregister(cat, "alpha"), -EBUSY);  /* no event */

	static const char *const want[] = {
		"R:alpha@1.0:v1:v1:program", "R:beta@3.1:b:b:plugin", "P:alpha@1.0:v2:v2:program",
		"U:beta@3.1:gone:b:/p/beta.so", "second:beta",
	};
	assert_int_equal(log.n, 5);
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(log.ev[i], want[i]);
	/* The replaced version and beta were released once their hooks had run. */
	assert_int_equal(c.released, 2);
	xi_catalog_free(cat);
	assert_int_equal(c.released, 3);
}

static struct xi_factory reentry_f;

static void reentry_hook(struct xi_catalog *cat, enum xi_catalog_event ev,
			 struct xi_catalog_entry *changed, void *user)
{
	struct hook_log *log = user;

	if (ev != XI_CATALOG_REGISTERED)
		return;
	log->nested_rc = xi_catalog_register(cat, &reentry_f);
	log->n = (size_t)xi_catalog_on_change(cat, second_hook, log);
}

static void test_hook_cannot_change_its_catalog(void **state)
{
	struct xi_catalog *cat = xi_catalog_new();
	struct counts c = { 0 };
	struct xi_factory a = FACTORY("alpha", &c);
	struct hook_log log = { 0 };
	struct xi_catalog_stats st;

	reentry_f = (struct xi_factory)FACTORY("nested", &c);
	assert_int_equal(xi_catalog_on_change(cat, reentry_hook, &log), 0);
	assert_int_equal(xi_catalog_register(cat, &a), 0);
	assert_int_equal(log.nested_rc, -EDEADLK);
	assert_int_equal((int)log.n, -EDEADLK);
	xi_catalog_stats(cat, &st);
	assert_int_equal(st.size, 1);
	/* Outside a hook the same call works. */
	assert_int_equal(xi_catalog_register(cat, &reentry_f), 0);
	xi_catalog_free(cat);
	assert_int_equal(c.released, 2);
}

/* A hook on one catalog changes the other, whose hook changes the first: the
 * inner change must fail rather than wait on the outer hook's catalog. */
struct cross {
	struct xi_catalog *other;
	struct xi_factory *f;
	int rc;
	int calls;
};

static void cross_hook(struct xi_catalog *cat, enum xi_catalog_event ev,
		       struct xi_catalog_entry *changed, void *user)
{
	struct cross *x = user;

	if (ev != XI_CATALOG_REGISTERED || x->calls++)
		return;
	x->rc = xi_catalog_register(x->other, x->f);
}

static void test_hooks_reenter_across_catalogs(void **state)
{
	struct xi_catalog *a = xi_catalog_new(), *b = xi_catalog_new();
	struct counts c = { 0 };
	struct xi_factory fa = FACTORY("alpha", &c), fb = FACTORY("beta", &c);
	struct xi_factory fa2 = FACTORY("alpha-two", &c);
	struct cross xa = { .other = b, .f = &fb, .rc = 1 }, xb = { .other = a, .f = &fa2, .rc = 1 };
	struct xi_catalog_stats st;

	assert_int_equal(xi_catalog_on_change(a, cross_hook, &xa), 0);
	assert_int_equal(xi_catalog_on_change(b, cross_hook, &xb), 0);
	/* A regression would hang: let the alarm turn it into a failure. */
	alarm(10);
	assert_int_equal(xi_catalog_register(a, &fa), 0);
	alarm(0);
	assert_int_equal(xa.rc, 0);             /* a's hook changed b */
	assert_int_equal(xb.rc, -EDEADLK);      /* b's hook, inside a's, could not change a */
	xi_catalog_stats(a, &st);
	assert_int_equal(st.size, 1);
	xi_catalog_stats(b, &st);
	assert_int_equal(st.size, 1);
	/* Outside the hooks a works again, and so does b's hook on b's next change. */
	xa.calls = 1;
	assert_int_equal(xi_catalog_register(a, &fa2), 0);
	xi_catalog_free(a);
	xi_catalog_free(b);
	assert_int_equal(c.released, 3);
}

/* ---- one release per factory, however many entries point at it ---- */

static void test_replace_with_itself(void **state)
{
	struct xi_catalog *cat = xi_catalog_new();
	struct counts c = { 0 };
	struct xi_factory f = FACTORY("same", &c);
	struct xi_chain *chain = NULL;

	assert_int_equal(xi_catalog_register(cat, &f), 0);
	assert_int_equal(xi_catalog_replace(cat, &f), 0);
	assert_int_equal(c.released, 0);        /* still registered */
	assert_ptr_equal(catalog_get(cat, "same"), &f);
	assert_int_equal(xi_catalog_build(cat, "same", NULL, &chain, NULL), 0);
	assert_int_equal(xi_catalog_replace(cat, &f), 0);
	assert_int_equal(xi_catalog_unregister(cat, "same"), 0);
	assert_int_equal(c.released, 0);        /* the chain still runs it */
	assert_int_equal(xi_chain_close(chain, NULL), 0);
	assert_int_equal(c.released, 1);
	xi_catalog_free(cat);
	assert_int_equal(c.released, 1);
}

static void test_factory_in_two_catalogs(void **state)
{
	struct xi_catalog *a = xi_catalog_new(), *b = xi_catalog_new();
	struct counts c = { 0 };
	struct xi_factory f = FACTORY("shared", &c);
	struct xi_chain *chain = NULL;

	assert_int_equal(xi_catalog_register(a, &f), 0);
	assert_int_equal(xi_catalog_register(b, &f), 0);
	assert_int_equal(xi_catalog_build(a, "shared", NULL, &chain, NULL), 0);
	xi_catalog_free(a);
	assert_int_equal(c.released, 0);        /* b and the chain still use it */
	assert_ptr_equal(catalog_get(b, "shared"), &f);
	xi_catalog_free(b);
	assert_int_equal(c.released, 0);        /* the chain still does */
	assert_int_equal(xi_chain_close(chain, NULL), 0);
	assert_int_equal(c.released, 1);

	/* Once released, f may be registered again: a new life, one more release. */
	a = xi_catalog_new();
	assert_int_equal(xi_catalog_register(a, &f), 0);
	assert_int_equal(xi_catalog_unregister(a, "shared"), 0);
	assert_int_equal(c.released, 2);
	xi_catalog_free(a);
	assert_int_equal(c.released, 2);
}

/* ---- references outlive the catalog's ---- */

static void test_replace_while_chain_open(void **state)
{
	struct xi_catalog *cat = xi_catalog_new();
	struct counts old = { 0 }, neu = { 0 };
	struct xi_factory v1 = FACTORY("stage", &old), v2 = FACTORY("stage", &neu);
	struct xi_chain *c1 = NULL, *c2 = NULL;
	struct xi_err err = { 0 };

	assert_int_equal(xi_catalog_register(cat, &v1), 0);
	assert_int_equal(xi_catalog_build(cat, "stage ! stage", NULL, &c1, &err), 0);
	assert_int_equal(old.made, 2);
	assert_ptr_equal(xi_chain_factory(c1, 0), &v1);

	assert_int_equal(xi_catalog_replace(cat, &v2), 0);
	assert_int_equal(old.released, 0);      /* c1 still runs v1 */
	assert_int_equal(xi_catalog_build(cat, "stage", NULL, &c2, &err), 0);
	assert_int_equal(neu.made, 1);
	assert_int_equal(old.made, 2);
	assert_ptr_equal(xi_chain_factory(c2, 0), &v2);

	assert_int_equal(xi_chain_close(c1, NULL), 0);
	assert_int_equal(old.released, 1);
	assert_int_equal(neu.released, 0);

	/* Unregister and free: c2 keeps v2 until it closes. */
	assert_int_equal(xi_catalog_unregister(cat, "stage"), 0);
	xi_catalog_free(cat);
	assert_int_equal(neu.released, 0);
	assert_int_equal(xi_chain_close(c2, NULL), 0);
	assert_int_equal(neu.released, 1);
	assert_int_equal(old.released, 1);
}

static void test_entry_reference_outlives_unregister(void **state)
{
	struct xi_catalog *cat = xi_catalog_new();
	struct counts c = { 0 };
	struct xi_factory f = FACTORY("held", &c);
	struct xi_catalog_entry *e = NULL;

	assert_int_equal(xi_catalog_register(cat, &f), 0);
	assert_int_equal(xi_catalog_lookup(cat, "held", &e), 0);
	assert_int_equal(xi_catalog_unregister(cat, "held"), 0);
	assert_int_equal(c.released, 0);
	assert_ptr_equal(xi_catalog_entry_factory(e), &f);
	xi_catalog_entry_put(e);
	assert_int_equal(c.released, 1);
	xi_catalog_free(cat);
	assert_int_equal(c.released, 1);
}

/* ---- building from text ---- */

struct scfg {
	uint32_t mode;
	struct xi_u32_list ssrc;
	uint64_t window;
};

static const char *const modes[] = { "allow", "deny", NULL };

static const struct xi_config_key skeys[] = {
	{ .name = "mode", .type = XI_CFG_ENUM, .offset = offsetof(struct scfg, mode),
	  .choices = modes, .def = "deny" },
	{ .name = "ssrc", .type = XI_CFG_U32_LIST, .offset = offsetof(struct scfg, ssrc) },
	{ .name = "window", .type = XI_CFG_SIZE, .offset = offsetof(struct scfg, window),
	  .def = "64", .flags = XI_CFG_F_POW2 },
	{ 0 },
};

/* A mistaken name is one miss, of the name given: the catalog's own checks
 * on the way to the message (has the bare name another version?) count
 * nothing. */
static void test_own_checks_count_nothing(void **state)
{
	struct xi_catalog *cat = xi_catalog_new();
	struct counts c = { 0 };
	struct xi_factory a = FACTORY("alpha", &c);
	struct xi_chain *chain = NULL;
	struct xi_err err = { 0 };
	struct xi_catalog_stats st;

	assert_int_equal(xi_catalog_register(cat, &a), 0);
	assert_int_equal(xi_catalog_build(cat, "alpha@2.0", NULL, &chain, &err), -ENOENT);
	assert_string_equal(err.msg, "unknown version 'alpha@2.0' (the highest is 'alpha@1.0')");
	assert_int_equal(xi_catalog_build(cat, "zeta@1.0", NULL, &chain, &err), -ENOENT);
	xi_catalog_stats(cat, &st);
	assert_int_equal(st.lookups, 2);
	assert_int_equal(st.misses, 2);
	assert_int_equal(xi_catalog_misses_for(cat, "alpha@2.0"), 1);
	assert_int_equal(xi_catalog_misses_for(cat, "zeta@1.0"), 1);
	assert_int_equal(xi_catalog_misses_for(cat, "zeta"), 0);
	xi_catalog_free(cat);
}

static void test_build_from_text(void **state)
{
	struct xi_catalog *cat = xi_catalog_new(), *empty;
	struct counts c = { 0 };
	struct xi_factory filt = FACTORY("ssrc-filter", &c), stats = FACTORY("header-stats", &c);
	struct xi_factory bad = { .name = "broken", .new_interceptor = failing_new };
	struct xi_chain *chain = NULL;
	struct xi_err err = { 0 };
	struct xi_catalog_stats st;
	const struct scfg *sc;

	filt.keys = skeys;
	filt.config_size = sizeof(struct scfg);
	assert_int_equal(xi_catalog_register(cat, &filt), 0);
	assert_int_equal(xi_catalog_register(cat, &stats), 0);
	assert_int_equal(xi_catalog_register(cat, &bad), 0);

	assert_int_equal(xi_catalog_build(cat,
		"ssrc-filter mode=allow ssrc=0x1234,0x5678 window=1k ! header-stats ! ssrc-filter",
		NULL, &chain, &err), 0);
	assert_int_equal(xi_chain_len(chain), 3);
	assert_ptr_equal(xi_chain_factory(chain, 1), &stats);
	sc = xi_chain_config(chain, 0);
	assert_int_equal(sc->mode, 0);
	assert_int_equal(sc->ssrc.n, 2);
	assert_int_equal(sc->ssrc.v[0], 0x1234);
	assert_int_equal(sc->ssrc.v[1], 0x5678);
	assert_int_equal(sc->window, 1024);
	sc = xi_chain_config(chain, 2);
	assert_int_equal(sc->mode, 1);
	assert_int_equal(sc->ssrc.n, 0);
	assert_int_equal(sc->window, 64);
	assert_int_equal(xi_chain_close(chain, NULL), 0);
	assert_int_equal(c.made, 3);

	chain = (struct xi_chain *)0x1;
	assert_int_equal(xi_catalog_build(cat, "ssrc-filtr ! header-stats", NULL, &chain, &err),
			 -ENOENT);
	assert_string_equal(err.msg, "unknown interceptor 'ssrc-filtr' (did you mean 'ssrc-filter'?)");
	assert_int_equal(xi_catalog_build(cat, "header-stats ! zzz", NULL, &chain, &err), -ENOENT);
	/* Too far from any name for a guess: every name, so the reader can pick. */
	assert_string_equal(err.msg, "unknown interceptor 'zzz' (known: broken, header-stats, "
			    "ssrc-filter)");
	empty = xi_catalog_new();
	assert_int_equal(xi_catalog_build(empty, "zzz", NULL, &chain, &err), -ENOENT);
	assert_string_equal(err.msg, "unknown interceptor 'zzz' (the catalog is empty)");
	xi_catalog_free(empty);
	assert_int_equal(xi_catalog_build(cat, "ssrc-filter window=100", NULL, &chain, &err),
			 -EINVAL);
	assert_string_equal(err.msg, "ssrc-filter: window: 100 is not a power of two");
	assert_int_equal(xi_catalog_build(cat, "ssrc-filter mod=allow", NULL, &chain, &err),
			 -EINVAL);
	assert_string_equal(err.msg, "ssrc-filter: unknown key 'mod' (known: mode, ssrc, window)");
	assert_int_equal(xi_catalog_build(cat, "header-stats !", NULL, &chain, &err), -EINVAL);
	assert_string_equal(err.msg, "chain: column 15: expected an interceptor name");
	assert_int_equal(xi_catalog_build(cat, "header-stats ! broken", NULL, &chain, &err), -EIO);
	assert_ptr_equal(chain, (struct xi_chain *)0x1);
	/* header-stats was made, then closed when broken failed. */
	assert_int_equal(c.made, 4);

	assert_int_equal(xi_catalog_build(cat, "", NULL, &chain, &err), 0);
	assert_int_equal(xi_chain_len(chain), 0);
	assert_int_equal(xi_chain_close(chain, NULL), 0);

	xi_catalog_stats(cat, &st);
	assert_int_equal(st.builds, 2);
	assert_int_equal(st.build_failures, 6);
	assert_true(st.build_ns_total > 0);
	assert_true(st.build_ns_max > 0 && st.build_ns_max <= st.build_ns_total);
	/* ssrc-filter x2, header-stats x1, then ssrc-filtr, header-stats, zzz, ... */
	assert_int_equal(st.misses, 2);
	assert_int_equal(xi_catalog_misses_for(cat, "ssrc-filtr"), 1);
	assert_int_equal(xi_catalog_misses_for(cat, "zzz"), 1);
	assert_int_equal(st.lookups, 3 + 1 + 2 + 1 + 1 + 2);
	assert_int_equal(xi_catalog_build(NULL, "x", NULL, &chain, &err), -EINVAL);
	xi_catalog_free(cat);
	assert_int_equal(c.released, 2);
}

static void test_builder_from_desc(void **state)
{
	struct xi_catalog *cat = xi_catalog_new();
	struct counts c = { 0 };
	struct xi_factory filt = FACTORY("ssrc-filter", &c);
	struct xi_chain_desc *d = NULL;
	struct xi_chain_builder *b = NULL;
	struct xi_chain *chain = NULL;
	struct xi_err err = { 0 };

	filt.keys = skeys;
	filt.config_size = sizeof(struct scfg);
	assert_int_equal(xi_catalog_register(cat, &filt), 0);
	assert_int_equal(xi_chain_desc_parse("ssrc-filter ssrc=7 ! ssrc-filter", &d, &err), 0);
	assert_int_equal(xi_catalog_builder(cat, d, &b, &err), 0);
	assert_int_equal(xi_chain_builder_len(b), 2);
	/* The builder holds its own references: the catalog may go first. */
	assert_int_equal(xi_catalog_unregister(cat, "ssrc-filter"), 0);
	xi_catalog_free(cat);
	assert_int_equal(c.released, 0);
	assert_int_equal(xi_chain_builder_build(b, NULL, &chain, &err), 0);
	assert_int_equal(((const struct scfg *)xi_chain_config(chain, 0))->ssrc.v[0], 7);
	xi_chain_builder_free(b);
	assert_int_equal(c.released, 0);
	assert_int_equal(xi_chain_close(chain, NULL), 0);
	assert_int_equal(c.released, 1);
	xi_chain_desc_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_validation),
		cmocka_unit_test(test_duplicate_and_freeze),
		cmocka_unit_test(test_lookup_and_misses),
		cmocka_unit_test(test_names_sorted),
		cmocka_unit_test(test_suggest),
		cmocka_unit_test(test_hooks_sequence),
		cmocka_unit_test(test_hook_cannot_change_its_catalog),
		cmocka_unit_test(test_hooks_reenter_across_catalogs),
		cmocka_unit_test(test_replace_with_itself),
		cmocka_unit_test(test_factory_in_two_catalogs),
		cmocka_unit_test(test_replace_while_chain_open),
		cmocka_unit_test(test_entry_reference_outlives_unregister),
		cmocka_unit_test(test_own_checks_count_nothing),
		cmocka_unit_test(test_build_from_text),
		cmocka_unit_test(test_builder_from_desc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
