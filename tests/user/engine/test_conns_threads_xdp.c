// SPDX-License-Identifier: MIT
/*
 * The engine's connections run by several threads at once (one per receive
 * queue in the daemon), while a third thread keeps changing the connection
 * table and syncing it and a fourth runs the chains' timers. Each packet
 * thread has its own worker; the two share one connection (one chain, its
 * per-stream state behind the connection's lock). Every packet must find
 * its chain however the table changes around it: exactly THREADS * N
 * processed and delivered, none unknown, none failed. tsan_conns_threads.c
 * runs the same under ThreadSanitizer.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <xicept/dataplane.h>
#include <xicept/error.h>

#include "bpf/xi_veth.h"
#include "user/dataplane/swap.h"
#include "user/engine/conns.h"
#include "user/lib/clock.h"
#include "user/lib/bytes.h"
#include "user/lib/udp_frame.h"

#define THREADS 2
#define N 20000u          /* packets a thread */
#define SSRCS_PER_THREAD 2

static struct veth_dp v;
static uint32_t conn_id, conn_version;
static struct xi_endpoint local, remote;
static volatile int done;
static uint64_t emitted_frames;

static int emit(void *user, uint32_t queue, const uint8_t *frame, size_t len)
{
	__atomic_fetch_add(&emitted_frames, 1, __ATOMIC_RELAXED);
	return 0;
}

struct packer {
	struct xi_engine_worker *w;
	unsigned idx;
	int failed;
};

/* One RTP frame of ssrc/seq, with the metadata xi_to_user would put first. */
static size_t frame_make(uint8_t *buf, size_t cap, uint32_t ssrc, uint16_t seq,
			 struct xi_xsk_meta *m)
{
	static const uint8_t l2[14] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00 };
	uint8_t rtp[12 + 100] = { 0x80, 96 };
	int n;

	xi_put_be16(rtp + 2, seq);
	xi_put_be32(rtp + 4, (uint32_t)seq * 3000u);
	xi_put_be32(rtp + 8, ssrc);
	n = xi_udp_frame_build(buf, cap, l2, sizeof(l2), &remote, &local, seq, rtp, sizeof(rtp));
	assert_true(n > 0);
	*m = (struct xi_xsk_meta){
		.now_ns = xi_mono_ns(), .magic = XI_XSK_META_MAGIC, .conn_id = conn_id,
		.ssrc = ssrc, .l3_off = 14, .l4_off = 34, .payload_off = 42,
		.payload_len = sizeof(rtp), .resume = 0, .version = (uint16_t)conn_version,
	};
	return (size_t)n;
}

static void *packets_main(void *arg)
{
	struct packer *p = arg;
	uint8_t frame[512];

	for (uint32_t i = 0; i < N; i++) {
		uint32_t ssrc = 0x1000 + p->idx * SSRCS_PER_THREAD + i % SSRCS_PER_THREAD;
		struct xi_xsk_meta m;
		const uint8_t *l3;
		size_t len = frame_make(frame, sizeof(frame), ssrc, (uint16_t)(i / SSRCS_PER_THREAD), &m);

		if (xi_engine_conns_process(p->w, &m, p->idx, frame, len, &l3, &len) != 1)
			p->failed++;
	}
	return NULL;
}

/* Adds and removes another connection, syncing after each change: every
 * sync publishes a new view and retires the old one under traffic. */
static void *churn_main(void *arg)
{
	struct xi_engine_conns *t = arg;
	struct xi_conn_spec spec = { .local = local };
	struct xi_err err;
	unsigned port = 7000;

	snprintf(spec.chain, sizeof(spec.chain), "nack-generator ! ssrc-filter mode=deny ssrc=1");
	while (!__atomic_load_n(&done, __ATOMIC_RELAXED)) {
		uint32_t id;

		spec.local.port = (uint16_t)port++;
		if (xi_dataplane_conn_add(v.dp, &spec, &id, &err) == 0) {
			xi_engine_conns_sync(t);
			xi_dataplane_conn_del(v.dp, id, &err);
		}
		xi_engine_conns_sync(t);
	}
	return NULL;
}

static void *timers_main(void *arg)
{
	struct xi_engine_conns *t = arg;

	while (!__atomic_load_n(&done, __ATOMIC_RELAXED))
		xi_engine_conns_poll(t, xi_mono_ns());
	return NULL;
}

static void test_threads_share_connections(void **state)
{
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 2 };
	struct xi_engine_conns_cbs cbs = { .emit = emit };
	struct xi_conn_spec spec = { 0 };
	struct xi_engine_conns *t = NULL;
	struct xi_engine_conns_stats st;
	struct packer p[THREADS] = { 0 };
	pthread_t th[THREADS], churn, timers;
	struct xi_err err;

	assert_int_equal(xi_endpoint_parse("10.9.0.2:5004", &local, &err), 0);
	assert_int_equal(xi_endpoint_parse("10.9.0.1:6000", &remote, &err), 0);
	spec.local = local;
	snprintf(spec.chain, sizeof(spec.chain),
		 "nack-generator ! receiver-report interval=1ms ! ssrc-filter mode=deny ssrc=1");
	assert_int_equal(xi_dataplane_conn_add(v.dp, &spec, &conn_id, &err), 0);
	assert_int_equal(xi_dataplane_conn_version(v.dp, conn_id, &conn_version), 0);
	assert_int_equal(xi_engine_conns_new(v.dp, v.cat, mac, &cbs, &t), 0);
	assert_int_equal(xi_engine_conns_sync(t), 1);
	for (unsigned i = 0; i < THREADS; i++) {
		p[i].idx = i;
		assert_int_equal(xi_engine_worker_new(t, &p[i].w), 0);
	}
	assert_int_equal(pthread_create(&churn, NULL, churn_main, t), 0);
	assert_int_equal(pthread_create(&timers, NULL, timers_main, t), 0);
	for (unsigned i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, packets_main, &p[i]), 0);
	for (unsigned i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	__atomic_store_n(&done, 1, __ATOMIC_RELAXED);
	pthread_join(churn, NULL);
	pthread_join(timers, NULL);

	xi_engine_conns_stats(t, &st);
	for (unsigned i = 0; i < THREADS; i++)
		assert_int_equal(p[i].failed, 0);
	assert_int_equal(st.packets, THREADS * N);
	assert_int_equal(st.delivered, THREADS * N);
	assert_int_equal(st.unknown_conn, 0);
	assert_int_equal(st.errors + st.bad_meta + st.dropped, 0);
	assert_int_equal(st.conns, 1);   /* the churned one is gone again */
	/* The receiver reports went out (every stream bound, none twice:
	 * more than ENGINE_STREAMS_MAX bindings would have failed packets). */
	assert_true(__atomic_load_n(&emitted_frames, __ATOMIC_RELAXED) > 0);
	assert_int_equal(st.emitted, __atomic_load_n(&emitted_frames, __ATOMIC_RELAXED));
	xi_engine_conns_free(t);
}

static int group_setup(void **state)
{
	return veth_dp_up(&v, "xct");
}

static int group_teardown(void **state)
{
	veth_dp_down(&v);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threads_share_connections),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
