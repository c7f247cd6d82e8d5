// SPDX-License-Identifier: MIT
/*
 * Readers (lookup, build, close, names) race a writer that replaces entries
 * and registers and unregisters another, in the readers' catalog and in a
 * mirror that holds the same factories. Afterwards every counter must add
 * up exactly and every replaced factory must have been released exactly once,
 * never while a reader held it.
 *
 * tests/registry/tsan_catalog_stress.c includes this file with the full count
 * under ThreadSanitizer; here the count shrinks under valgrind.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <valgrind/valgrind.h>

#include <xicept/catalog.h>
#include <xicept/registry.h>

#define READERS       4
#define STAGES        4
#define FULL_REPLACES 10000
#define CHURN_EVERY   50        /* replaces between churn register/unregister */

static const char *const stage_names[STAGES] = { "s0", "s1", "s2", "s3" };

/* One factory instance: what the writer swaps in. */
struct version {
	struct xi_factory f;
	int released;       /* atomic */
};

static struct {
	struct xi_catalog *cat;
	struct xi_catalog *mirror;  /* the writer's every change, again: factories shared */
	int done;           /* atomic: the writer finished */
	int early_release;  /* atomic: a reader saw a held version released */
	int failed_line;    /* atomic: a reader's check failed here */
	uint64_t released_total;
	uint64_t ev[3];     /* hook events by kind */
	struct version **versions;
	size_t n_versions;
} g;

struct reader_stats {
	uint64_t lookups, hits, churn_misses, builds, names_calls;
};

static int stress_new(const struct xi_factory *f, const void *config,
		      const struct xi_build_ctx *ctx, struct xi_interceptor **ret)
{
	*ret = xi_noop_new();
	return *ret ? 0 : -ENOMEM;
}

static void stress_release(const struct xi_factory *f)
{
	struct version *v = f->priv;

	__atomic_add_fetch(&v->released, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&g.released_total, 1, __ATOMIC_RELAXED);
}

static struct version *version_new(const char *name)
{
	struct version *v = calloc(1, sizeof(*v));

	assert_non_null(v);
	v->f = (struct xi_factory){ .name = name, .new_interceptor = stress_new,
				    .release = stress_release, .priv = v };
	g.versions[g.n_versions++] = v;
	return v;
}

static void count_event(struct xi_catalog *cat, enum xi_catalog_event ev,
			struct xi_catalog_entry *changed, void *user)
{
	__atomic_add_fetch(&g.ev[ev], 1, __ATOMIC_RELAXED);
}

/* cmocka's asserts must stay on the main thread: readers record, main asserts. */
#define check(cond)                                                                 \
	do {                                                                        \
		if (!(cond))                                                        \
			__atomic_store_n(&g.failed_line, __LINE__, __ATOMIC_RELAXED); \
	} while (0)

static void check_held(const struct xi_factory *f)
{
	const struct version *v = f->priv;

	if (__atomic_load_n(&v->released, __ATOMIC_RELAXED) != 0)
		__atomic_store_n(&g.early_release, 1, __ATOMIC_RELAXED);
}

static void reader_lookup(struct reader_stats *st, unsigned i)
{
	struct xi_catalog_entry *e = NULL;
	const char *name = i % 5 == 4 ? "churn" : stage_names[i % STAGES];
	int rc = xi_catalog_lookup(g.cat, name, &e);

	st->lookups++;
	if (rc == -ENOENT && strcmp(name, "churn") == 0) {
		st->churn_misses++;
		return;
	}
	check(rc == 0);
	if (rc)
		return;
	st->hits++;
	check_held(xi_catalog_entry_factory(e));
	xi_catalog_entry_put(e);
}

static void reader_build(struct reader_stats *st)
{
	struct xi_chain *chain = NULL;
	struct xi_err err = { 0 };

	int rc = xi_catalog_build(g.cat, "s0 ! s1 ! s2 ! s3", NULL, &chain, &err);

	check(rc == 0);
	if (rc)
		return;
	st->builds++;
	for (size_t i = 0; i < STAGES; i++)
		check_held(xi_chain_factory(chain, i));
	check(xi_chain_close(chain, NULL) == 0);
}

static void reader_names(struct reader_stats *st)
{
	char **names = NULL;
	size_t n = 0;

	check(xi_catalog_names(g.cat, &names, &n) == 0);
	st->names_calls++;
	check(n == STAGES || n == STAGES + 1);
	for (size_t i = 1; i < n; i++)
		check(strcmp(names[i - 1], names[i]) < 0);
	xi_strv_free(names, n);
}

static void *reader(void *arg)
{
	struct reader_stats *st = arg;

	for (unsigned i = 0; !__atomic_load_n(&g.done, __ATOMIC_ACQUIRE) || i < 8; i++) {
		reader_lookup(st, i);
		if (i % 4 == 0)
			reader_build(st);
		if (i % 8 == 0)
			reader_names(st);
	}
	return NULL;
}

static unsigned replace_count(void)
{
	const char *env = getenv("XI_STRESS_REPLACES");

	if (env)
		return (unsigned)strtoul(env, NULL, 10);
#ifndef XI_STRESS_FULL
	if (RUNNING_ON_VALGRIND)
		return 300;
#endif
	return FULL_REPLACES;
}

static void test_readers_race_writer(void **state)
{
	unsigned replaces = replace_count(), churn_regs = 0, churn_unregs = 0;
	struct reader_stats st[READERS] = { 0 }, sum = { 0 };
	pthread_t th[READERS];
	struct xi_catalog_stats cs;
	struct version *churn = NULL;

	g.cat = xi_catalog_new();
	g.mirror = xi_catalog_new();
	assert_non_null(g.cat);
	assert_non_null(g.mirror);
	g.versions = calloc(STAGES + replaces + replaces / CHURN_EVERY + 1, sizeof(*g.versions));
	assert_non_null(g.versions);
	assert_int_equal(xi_catalog_on_change(g.cat, count_event, NULL), 0);
	for (size_t i = 0; i < STAGES; i++) {
		struct version *v = version_new(stage_names[i]);

		assert_int_equal(xi_catalog_register(g.cat, &v->f), 0);
		assert_int_equal(xi_catalog_register(g.mirror, &v->f), 0);
	}
	for (size_t i = 0; i < READERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, reader, &st[i]), 0);

	for (unsigned i = 0; i < replaces; i++) {
		struct version *v = version_new(stage_names[i % STAGES]);

		assert_int_equal(xi_catalog_replace(g.mirror, &v->f), 0);
		assert_int_equal(xi_catalog_replace(g.cat, &v->f), 0);
		if (i % CHURN_EVERY != 0)
			continue;
		if (churn) {
			assert_int_equal(xi_catalog_unregister(g.cat, "churn"), 0);
			assert_int_equal(xi_catalog_unregister(g.mirror, "churn"), 0);
			churn = NULL;
			churn_unregs++;
		} else {
			churn = version_new("churn");
			assert_int_equal(xi_catalog_register(g.mirror, &churn->f), 0);
			assert_int_equal(xi_catalog_register(g.cat, &churn->f), 0);
			churn_regs++;
		}
	}
	__atomic_store_n(&g.done, 1, __ATOMIC_RELEASE);
	for (size_t i = 0; i < READERS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		sum.lookups += st[i].lookups;
		sum.hits += st[i].hits;
		sum.churn_misses += st[i].churn_misses;
		sum.builds += st[i].builds;
		sum.names_calls += st[i].names_calls;
	}

	print_message("%u replaces, %u churn; readers: %llu lookups, %llu builds, %llu names\n",
		      replaces, churn_regs + churn_unregs, (unsigned long long)sum.lookups,
		      (unsigned long long)sum.builds, (unsigned long long)sum.names_calls);
	assert_int_equal(g.failed_line, 0);
	assert_int_equal(g.early_release, 0);
	xi_catalog_stats(g.cat, &cs);
	assert_int_equal(cs.size, STAGES + (churn != NULL));
	assert_int_equal(cs.lookups, sum.lookups + STAGES * sum.builds);
	assert_int_equal(cs.misses, sum.churn_misses);
	assert_int_equal(xi_catalog_misses_for(g.cat, "churn"), sum.churn_misses);
	assert_int_equal(cs.builds, sum.builds);
	assert_int_equal(cs.build_failures, 0);
	assert_int_equal(cs.registrations, STAGES + churn_regs);
	assert_int_equal(g.ev[XI_CATALOG_REGISTERED], STAGES + churn_regs);
	assert_int_equal(g.ev[XI_CATALOG_REPLACED], replaces);
	assert_int_equal(g.ev[XI_CATALOG_UNREGISTERED], churn_unregs);
	assert_true(sum.builds >= READERS);

	/* Everything that left the catalog was released once; what it holds, never. */
	assert_int_equal(g.released_total, g.n_versions - cs.size);
	for (size_t i = 0; i < g.n_versions; i++) {
		struct xi_catalog_entry *e = NULL;
		const struct version *v = g.versions[i];
		int current = xi_catalog_lookup(g.cat, v->f.name, &e) == 0 &&
			      xi_catalog_entry_factory(e) == &v->f;

		xi_catalog_entry_put(e);
		assert_int_equal(v->released, current ? 0 : 1);
	}
	xi_catalog_free(g.cat);
	/* The mirror still holds the current versions. */
	assert_int_equal(g.released_total, g.n_versions - cs.size);
	xi_catalog_free(g.mirror);
	for (size_t i = 0; i < g.n_versions; i++) {
		assert_int_equal(g.versions[i]->released, 1);
		free(g.versions[i]);
	}
	assert_int_equal(g.released_total, g.n_versions);
	free(g.versions);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readers_race_writer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
