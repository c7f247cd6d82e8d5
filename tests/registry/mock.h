/* SPDX-License-Identifier: MIT */
/*
 * A counting mock interceptor and factory for the registry tests.
 *
 * Every operation appends "<op>:<tag>" to one log, so a test can assert the
 * exact order in which a chain reached its elements, and bumps a counter.
 * Reads and writes append the tag's first byte to the packet when grow is
 * set, so the bytes that reach the wire show the order too. Header-only:
 * each test program is one translation unit.
 */
#ifndef XICEPT_TESTS_MOCK_H
#define XICEPT_TESTS_MOCK_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xicept/interceptor.h>
#include <xicept/registry.h>

#define MOCK_LOG_MAX   128
#define MOCK_EVENT_MAX 48
#define MOCK_PKT_MAX   2048

struct mock_cfg {
	char tag[8];     /* log name; tag[0] is the byte grow appends */
	int fail_new;    /* negative errno: new_interceptor fails */
	int fail_bind;   /* negative errno: every bind fails */
	int fail_close;  /* negative errno: close fails (and still frees) */
	int fail_poll;   /* negative errno returned by poll */
	int drop;        /* reads and writes return 0: the packet is dropped */
	int grow;        /* append tag[0] to every packet read or written */
};

struct mock_counts {
	int new_calls;      /* including failing calls */
	int close_calls;
	int bind_calls;     /* including failing calls */
	int unbind_calls;
	int poll_calls;
	int read_calls;
	int write_calls;
	int release_calls;
	uint32_t last_conn_id;
	const void *last_user;
	uint64_t last_now_ns;
};

struct mock_ic {
	struct xi_interceptor ic;
	struct mock_cfg cfg;
	const void *config_seen;  /* the pointer new_interceptor was given */
	struct xi_reader rtcp_next_r, remote_next_r;
	struct xi_writer rtcp_next_w, local_next_w;
};

static struct {
	size_t n;
	char ev[MOCK_LOG_MAX][MOCK_EVENT_MAX];
	char joined[MOCK_LOG_MAX * MOCK_EVENT_MAX];
} mock_log __attribute__((unused));

static struct mock_counts mock_counts __attribute__((unused));

static inline void mock_reset(void)
{
	memset(&mock_log, 0, sizeof(mock_log));
	memset(&mock_counts, 0, sizeof(mock_counts));
}

static inline void mock_event(const char *op, const struct mock_ic *m)
{
	if (mock_log.n < MOCK_LOG_MAX)
		snprintf(mock_log.ev[mock_log.n++], MOCK_EVENT_MAX, "%s:%s", op,
			 m ? m->cfg.tag : "?");
}

/* The log as one string, events separated by one space. */
static inline const char *mock_log_str(void)
{
	size_t i, at = 0;

	mock_log.joined[0] = '\0';
	for (i = 0; i < mock_log.n; i++)
		at += snprintf(mock_log.joined + at, sizeof(mock_log.joined) - at,
			       "%s%s", i ? " " : "", mock_log.ev[i]);
	return mock_log.joined;
}

static inline struct mock_ic *mock_of(struct xi_interceptor *ic)
{
	return xi_container_of(ic, struct mock_ic, ic);
}

static inline ssize_t mock_read_via(struct mock_ic *m, struct xi_reader next,
				    uint8_t *buf, size_t cap, struct xi_attributes *attrs)
{
	ssize_t n = xi_reader_read(next, buf, cap, attrs);

	if (n <= 0)
		return n;
	mock_counts.read_calls++;
	mock_event("read", m);
	if (m->cfg.drop)
		return 0;
	if (m->cfg.grow && (size_t)n < cap)
		buf[n++] = (uint8_t)m->cfg.tag[0];
	return n;
}

static inline ssize_t mock_write_via(struct mock_ic *m, struct xi_writer next,
				     const uint8_t *pkt, size_t len,
				     struct xi_attributes *attrs)
{
	uint8_t copy[MOCK_PKT_MAX];

	mock_counts.write_calls++;
	mock_event("write", m);
	if (m->cfg.drop)
		return 0;
	if (!m->cfg.grow || len + 1 > sizeof(copy))
		return xi_writer_write(next, pkt, len, attrs);
	memcpy(copy, pkt, len);
	copy[len] = (uint8_t)m->cfg.tag[0];
	return xi_writer_write(next, copy, len + 1, attrs);
}

static inline ssize_t mock_read_rtcp(void *ctx, uint8_t *buf, size_t cap,
				     struct xi_attributes *attrs)
{
	struct mock_ic *m = ctx;

	return mock_read_via(m, m->rtcp_next_r, buf, cap, attrs);
}

static inline ssize_t mock_read_remote(void *ctx, uint8_t *buf, size_t cap,
				       struct xi_attributes *attrs)
{
	struct mock_ic *m = ctx;

	return mock_read_via(m, m->remote_next_r, buf, cap, attrs);
}

static inline ssize_t mock_write_rtcp(void *ctx, const uint8_t *pkt, size_t len,
				      struct xi_attributes *attrs)
{
	struct mock_ic *m = ctx;

	return mock_write_via(m, m->rtcp_next_w, pkt, len, attrs);
}

static inline ssize_t mock_write_local(void *ctx, const uint8_t *pkt, size_t len,
				       struct xi_attributes *attrs)
{
	struct mock_ic *m = ctx;

	return mock_write_via(m, m->local_next_w, pkt, len, attrs);
}

static inline int mock_bind_event(const char *op, struct mock_ic *m)
{
	mock_counts.bind_calls++;
	mock_event(op, m);
	return m->cfg.fail_bind;
}

static inline int mock_bind_rtcp_reader(struct xi_interceptor *ic, struct xi_reader next,
					struct xi_reader *ret)
{
	struct mock_ic *m = mock_of(ic);
	int rc = mock_bind_event("bind-rtcp-reader", m);

	if (rc < 0)
		return rc;
	m->rtcp_next_r = next;
	*ret = (struct xi_reader){ mock_read_rtcp, m };
	return 0;
}

static inline int mock_bind_rtcp_writer(struct xi_interceptor *ic, struct xi_writer next,
					struct xi_writer *ret)
{
	struct mock_ic *m = mock_of(ic);
	int rc = mock_bind_event("bind-rtcp-writer", m);

	if (rc < 0)
		return rc;
	m->rtcp_next_w = next;
	*ret = (struct xi_writer){ mock_write_rtcp, m };
	return 0;
}

static inline int mock_bind_local(struct xi_interceptor *ic,
				  const struct xi_stream_info *info,
				  struct xi_writer next, struct xi_writer *ret)
{
	struct mock_ic *m = mock_of(ic);
	int rc = mock_bind_event("bind-local", m);

	if (rc < 0)
		return rc;
	m->local_next_w = next;
	*ret = (struct xi_writer){ mock_write_local, m };
	return 0;
}

static inline int mock_bind_remote(struct xi_interceptor *ic,
				   const struct xi_stream_info *info,
				   struct xi_reader next, struct xi_reader *ret)
{
	struct mock_ic *m = mock_of(ic);
	int rc = mock_bind_event("bind-remote", m);

	if (rc < 0)
		return rc;
	m->remote_next_r = next;
	*ret = (struct xi_reader){ mock_read_remote, m };
	return 0;
}

static inline void mock_unbind_local(struct xi_interceptor *ic,
				     const struct xi_stream_info *info)
{
	mock_counts.unbind_calls++;
	mock_event("unbind-local", mock_of(ic));
}

static inline void mock_unbind_remote(struct xi_interceptor *ic,
				      const struct xi_stream_info *info)
{
	mock_counts.unbind_calls++;
	mock_event("unbind-remote", mock_of(ic));
}

static inline int mock_poll(struct xi_interceptor *ic, uint64_t now_ns)
{
	struct mock_ic *m = mock_of(ic);

	mock_counts.poll_calls++;
	mock_counts.last_now_ns = now_ns;
	mock_event("poll", m);
	return m->cfg.fail_poll;
}

static inline int mock_close(struct xi_interceptor *ic, unsigned flags)
{
	struct mock_ic *m = mock_of(ic);
	int rc = m->cfg.fail_close;

	mock_counts.close_calls++;
	mock_event("close", m);
	free(m);
	return rc;
}

static const struct xi_interceptor_ops mock_ops __attribute__((unused)) = {
	.bind_rtcp_reader = mock_bind_rtcp_reader,
	.bind_rtcp_writer = mock_bind_rtcp_writer,
	.bind_local_stream = mock_bind_local,
	.unbind_local_stream = mock_unbind_local,
	.bind_remote_stream = mock_bind_remote,
	.unbind_remote_stream = mock_unbind_remote,
	.poll = mock_poll,
	.close = mock_close,
};

/* A standalone mock named after its tag; NULL cfg is all zeros. */
static inline struct xi_interceptor *mock_ic_new(const struct mock_cfg *cfg)
{
	struct mock_ic *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	if (cfg)
		m->cfg = *cfg;
	m->ic.ops = &mock_ops;
	m->ic.name = m->cfg.tag;
	return &m->ic;
}

static inline struct xi_interceptor *mock_ic_tagged(const char *tag)
{
	struct mock_cfg cfg = { 0 };

	snprintf(cfg.tag, sizeof(cfg.tag), "%s", tag);
	return mock_ic_new(&cfg);
}

static inline int mock_new_interceptor(const struct xi_factory *f, const void *config,
				       const struct xi_build_ctx *ctx,
				       struct xi_interceptor **ret)
{
	static const struct mock_cfg zero;
	const struct mock_cfg *cfg = config ? config : &zero;
	struct xi_interceptor *ic;
	struct mock_ic tmp = { .cfg = *cfg };

	mock_counts.new_calls++;
	mock_counts.last_conn_id = ctx ? ctx->conn_id : 0;
	mock_counts.last_user = ctx ? ctx->user : NULL;
	if (cfg->fail_new) {
		mock_event("new-fail", &tmp);
		return cfg->fail_new;
	}
	mock_event("new", &tmp);
	ic = mock_ic_new(cfg);
	if (!ic)
		return -ENOMEM;
	mock_of(ic)->config_seen = config;
	*ret = ic;
	return 0;
}

static inline void mock_release(const struct xi_factory *f)
{
	mock_counts.release_calls++;
}

/* A factory for mocks; its config is a struct mock_cfg. */
static const struct xi_stage mock_stage = {
	.sz = sizeof(struct xi_stage), .name = "mock", .slot = XI_STAGE_SLOT_ANY, .prog = "xi_mock",
};

static inline struct xi_factory mock_factory(const char *name, enum xi_kind kind)
{
	struct xi_factory f = {
		.name = name,
		.description = "counting mock",
		.kind = kind,
		.stage = kind == XI_KIND_XDP ? &mock_stage : NULL,
		.config_size = sizeof(struct mock_cfg),
		.new_interceptor = mock_new_interceptor,
		.release = mock_release,
	};
	return f;
}

/* A config naming the mock, with the other fields zero. */
static inline struct mock_cfg mock_cfg_tagged(const char *tag)
{
	struct mock_cfg cfg = { 0 };

	snprintf(cfg.tag, sizeof(cfg.tag), "%s", tag);
	return cfg;
}

/* ---- the wire: a reader that yields a fixed packet, a writer that records ---- */

struct mock_wire {
	uint8_t rx[MOCK_PKT_MAX];   /* what the next read returns */
	size_t rx_len;
	ssize_t rx_rc;              /* when nonzero, reads return this instead */
	int reads;
	uint8_t tx[MOCK_PKT_MAX];   /* the last packet written */
	size_t tx_len;
	int writes;
};

static inline ssize_t mock_wire_read(void *ctx, uint8_t *buf, size_t cap,
				     struct xi_attributes *attrs)
{
	struct mock_wire *w = ctx;

	w->reads++;
	if (w->rx_rc)
		return w->rx_rc;
	if (w->rx_len > cap)
		return -EMSGSIZE;
	memcpy(buf, w->rx, w->rx_len);
	return (ssize_t)w->rx_len;
}

static inline ssize_t mock_wire_write(void *ctx, const uint8_t *pkt, size_t len,
				      struct xi_attributes *attrs)
{
	struct mock_wire *w = ctx;

	w->writes++;
	if (len > sizeof(w->tx))
		return -EMSGSIZE;
	memcpy(w->tx, pkt, len);
	w->tx_len = len;
	return (ssize_t)len;
}

static inline struct xi_reader mock_wire_reader(struct mock_wire *w, const char *pkt)
{
	w->rx_len = strlen(pkt);
	memcpy(w->rx, pkt, w->rx_len);
	return (struct xi_reader){ mock_wire_read, w };
}

static inline struct xi_writer mock_wire_writer(struct mock_wire *w)
{
	return (struct xi_writer){ mock_wire_write, w };
}

#endif
