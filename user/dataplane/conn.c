// SPDX-License-Identifier: MIT
/*
 * Connections of an attached interface. A connection is four kinds of map
 * entry: its flow (the 5-tuple, or the local side alone for any peer), its
 * xi_conns slot (the XDP part of its chain as stage ids), its xi_conn_meta
 * (the spec as given, so any process can rebuild the chain), and whatever the
 * chain's XDP-kind interceptors wrote when they were built and bound.
 *
 * conn_add writes the flow last, so no packet reaches a half-made connection,
 * and conn_del removes it first. Both are all or nothing for this process;
 * concurrent writers on one interface are told apart by BPF_NOEXIST on the id
 * and on the flow.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <bpf/bpf.h>

#include <xicept/catalog.h>
#include <xicept/dataplane.h>
#include <xicept/registry.h>
#include <xicept/srtp.h>
#include <xicept/stream.h>

#include "user/dataplane/conn_local.h"
#include "user/dataplane/chain.h"
#include "user/dataplane/internal.h"
#include "user/dataplane/plugin_stage.h"
#include "user/dataplane/srtp_store.h"

/* Id 0 stays unused so that a zeroed key or value never names a connection. */
#define CONN_ID_FIRST 1

_Static_assert(XI_CONN_META_STREAMS == XI_CONN_MAX_STREAMS, "meta holds every stream");
_Static_assert(XI_CONN_META_CHAIN_MAX == XI_CHAIN_TEXT_MAX, "meta holds the chain text");

static bool endpoint_valid(const struct xi_endpoint *ep)
{
	return (ep->family == AF_INET || ep->family == AF_INET6) && ep->port != 0;
}

static int spec_check_streams(const struct xi_conn_spec *spec, struct xi_err *err)
{
	if (spec->n_streams > XI_CONN_MAX_STREAMS)
		return xi_err_set(err, -E2BIG, "too many streams: %zu (at most %d)",
				  spec->n_streams, XI_CONN_MAX_STREAMS);
	for (size_t i = 0; i < spec->n_streams; i++) {
		const struct xi_stream_spec *s = &spec->streams[i];

		if (s->payload_type > 127 || s->clock_rate == 0)
			return xi_err_set(err, -EINVAL,
					  "stream %zu: invalid payload type %u or clock rate %u",
					  i, s->payload_type, s->clock_rate);
		for (size_t j = 0; j < i; j++)
			if (spec->streams[j].ssrc == s->ssrc)
				return xi_err_set(err, -EINVAL, "duplicate stream SSRC %u",
						  s->ssrc);
	}
	return 0;
}

static int spec_check(const struct xi_conn_spec *spec, struct xi_err *err)
{
	if (!endpoint_valid(&spec->local))
		return xi_err_set(err, -EINVAL, "invalid local endpoint: an address and a port are required");
	if (spec->remote.family != 0 && !endpoint_valid(&spec->remote))
		return xi_err_set(err, -EINVAL, "invalid remote endpoint");
	if (spec->remote.family != 0 && spec->remote.family != spec->local.family)
		return xi_err_set(err, -EINVAL,
				  "local and remote endpoints are of different address families");
	if (!memchr(spec->chain, '\0', sizeof(spec->chain)))
		return xi_err_set(err, -E2BIG, "chain text longer than %d bytes",
				  XI_CHAIN_TEXT_MAX - 1);
	return spec_check_streams(spec, err) ?: xi_conn_local_check(spec, err);
}

static void flow_key_make(const struct xi_conn_spec *spec, struct xi_flow_key *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->family = spec->local.family == AF_INET ? XI_FAMILY_IPV4 : XI_FAMILY_IPV6;
	ret->local_port = htons(spec->local.port);
	memcpy(ret->local_addr, spec->local.addr, sizeof(ret->local_addr));
	if (spec->remote.family == 0)
		return;   /* wildcard: remote all zero */
	ret->remote_port = htons(spec->remote.port);
	memcpy(ret->remote_addr, spec->remote.addr, sizeof(ret->remote_addr));
}

static void meta_endpoint_set(struct xi_conn_meta_endpoint *m, const struct xi_endpoint *ep)
{
	m->family = ep->family == AF_INET ? XI_FAMILY_IPV4 :
		    ep->family == AF_INET6 ? XI_FAMILY_IPV6 : 0;
	m->port = ep->port;
	memcpy(m->addr, ep->addr, sizeof(m->addr));
}

static void meta_endpoint_get(struct xi_endpoint *ep, const struct xi_conn_meta_endpoint *m)
{
	ep->family = m->family == XI_FAMILY_IPV4 ? AF_INET :
		     m->family == XI_FAMILY_IPV6 ? AF_INET6 : 0;
	ep->port = m->port;
	memcpy(ep->addr, m->addr, sizeof(ep->addr));
}

static void meta_from_spec(const struct xi_conn_spec *spec, uint32_t id,
			   struct xi_conn_meta *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->conn_id = id;
	meta_endpoint_set(&ret->local, &spec->local);
	meta_endpoint_set(&ret->remote, &spec->remote);
	ret->n_streams = (uint32_t)spec->n_streams;
	for (size_t i = 0; i < spec->n_streams; i++) {
		ret->streams[i].ssrc = spec->streams[i].ssrc;
		ret->streams[i].payload_type = spec->streams[i].payload_type;
		ret->streams[i].clock_rate = spec->streams[i].clock_rate;
	}
	strcpy(ret->chain, spec->chain);
	xi_conn_local_to_meta(spec, ret);
}

static void spec_from_meta(const struct xi_conn_meta *m, struct xi_conn_spec *ret)
{
	memset(ret, 0, sizeof(*ret));
	meta_endpoint_get(&ret->local, &m->local);
	meta_endpoint_get(&ret->remote, &m->remote);
	ret->n_streams = m->n_streams <= XI_CONN_MAX_STREAMS ? m->n_streams : XI_CONN_MAX_STREAMS;
	for (size_t i = 0; i < ret->n_streams; i++) {
		ret->streams[i].ssrc = m->streams[i].ssrc;
		ret->streams[i].payload_type = m->streams[i].payload_type;
		ret->streams[i].clock_rate = m->streams[i].clock_rate;
	}
	memcpy(ret->chain, m->chain, sizeof(ret->chain));
	ret->chain[sizeof(ret->chain) - 1] = '\0';
	xi_conn_local_from_meta(m, ret);
}

static int id_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int xi_dataplane_conn_ids(struct xi_dataplane *dp, uint32_t **ret_ids, size_t *ret_n)
{
	uint32_t key, *ids = NULL, *nids;
	size_t n = 0;
	int fd;

	if (!dp || !ret_ids || !ret_n)
		return -EINVAL;
	fd = dp->map_fds[XI_MAP_CONN_META];
	for (int r = bpf_map_get_next_key(fd, NULL, &key); !r;
	     r = bpf_map_get_next_key(fd, &key, &key)) {
		nids = realloc(ids, (n + 1) * sizeof(*ids));
		if (!nids) {
			free(ids);
			return -ENOMEM;
		}
		ids = nids;
		ids[n++] = key;
	}
	if (n)
		qsort(ids, n, sizeof(*ids), id_cmp);
	*ret_ids = ids;
	*ret_n = n;
	return 0;
}

static bool id_used(struct xi_dataplane *dp, uint32_t id)
{
	struct xi_conn_meta m;

	/* An error other than ENOENT counts as used: the insert decides. */
	return bpf_map_lookup_elem(dp->map_fds[XI_MAP_CONN_META], &id, &m) == 0 ||
	       errno != ENOENT;
}

/* The lowest free id, walking every id: the fallback when the ids near
 * max_conns are all taken. 0 when none is free. */
static uint32_t id_scan(struct xi_dataplane *dp)
{
	uint32_t *ids, id = CONN_ID_FIRST;
	size_t n;

	if (xi_dataplane_conn_ids(dp, &ids, &n))
		return 0;
	for (size_t i = 0; i < n && ids[i] <= id; i++)
		if (ids[i] == id)
			id++;
	free(ids);
	return id <= dp->max_conns ? id : 0;
}

/* A free id in 1..max_conns in O(log n) lookups: gallop up to a free id,
 * then halve the gap to the used one below it. Ids are taken from the
 * bottom, so this is the lowest free one unless connections left out of
 * order. 0 when none is free. */
static uint32_t id_probe(struct xi_dataplane *dp)
{
	uint32_t lo = 0, hi = CONN_ID_FIRST, max = dp->max_conns, mid;

	/* lo is 0 or used; hi is free, or max + 1 */
	while (hi <= max && id_used(dp, hi)) {
		lo = hi;
		hi = hi <= max / 2 ? 2 * hi : max + 1;
	}
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (id_used(dp, mid))
			lo = mid;
		else
			hi = mid;
	}
	return hi <= max ? hi : id_scan(dp);
}

/* The id to try: the hint when the one below it is taken (so ids stay
 * dense, and apply's run of adds costs two lookups each), else a probe. */
static uint32_t id_next(struct xi_dataplane *dp)
{
	uint32_t h = dp->id_hint;

	if (h >= CONN_ID_FIRST && h <= dp->max_conns &&
	    (h == CONN_ID_FIRST || id_used(dp, h - 1)))
		return h;
	return id_probe(dp);
}

/* A free id, taken with BPF_NOEXIST so that two processes adding at once
 * cannot both get it: the loser probes again. */
static int id_reserve(struct xi_dataplane *dp, struct xi_conn_meta *meta, uint32_t *ret)
{
	uint32_t id;

	for (int tries = 0; tries < 8; tries++) {
		id = id_next(dp);
		if (!id)
			return -ENOSPC;
		meta->conn_id = id;
		if (!bpf_map_update_elem(dp->map_fds[XI_MAP_CONN_META], &id, meta, BPF_NOEXIST)) {
			dp->id_hint = id + 1;
			*ret = id;
			return 0;
		}
		if (errno != EEXIST)
			return errno == E2BIG ? -ENOSPC : -errno;
		dp->id_hint = 0;
	}
	return -EBUSY;
}

/* The XDP part of the chain as stage ids. A chain that goes on in userspace
 * ends its XDP part with XI_STAGE_TAP when the rest only observes, else with
 * XI_STAGE_TO_USER: while that slot is empty (no daemon runs the userspace
 * part) its packets pass (tap) or get the no_daemon policy (AF_XDP). */
/* Whether every element from pos on only reads packets: then the tap serves
 * them, and media never waits for userspace. */
static bool chain_observes_from(const struct xi_chain *chain, size_t pos)
{
	for (size_t i = pos; i < xi_chain_len(chain); i++) {
		const struct xi_factory *f = xi_chain_factory(chain, i);

		if (!f || !(f->flags & XI_FACTORY_OBSERVES))
			return false;
	}
	return true;
}

/* Whether an observer from pos on keeps whole frames (packet-dump): then the
 * tap copies them, not just their headers. */
static bool chain_wants_frames_from(const struct xi_chain *chain, size_t pos)
{
	for (size_t i = pos; i < xi_chain_len(chain); i++) {
		const struct xi_factory *f = xi_chain_factory(chain, i);

		if (f && (f->flags & XI_FACTORY_TAP_FRAMES))
			return true;
	}
	return false;
}

static int conn_value_make(struct xi_dataplane *dp, struct xi_chain *chain, struct xi_conn *val,
			   struct xi_err *err)
{
	size_t prefix = xi_chain_xdp_prefix(chain);

	if (prefix + 1 > XI_CHAIN_STAGES_MAX)
		return xi_err_set(err, -E2BIG, "chain too long for XDP: %zu stages", prefix);
	val->n_stages = 0;
	for (size_t i = 0; i < prefix; i++) {
		const struct xi_factory *f = xi_chain_factory(chain, i);
		uint32_t slot;
		int r = xi_dataplane_stage_slot_of(dp, f, &slot, err);

		if (r == -ENOENT)
			return xi_err_set(err, -EINVAL, "%s: no XDP stage program '%s'",
					  f ? f->name : "?", f && f->stage && f->stage->prog ?
					  f->stage->prog : "");
		if (r)
			return r;
		val->stages[val->n_stages++] = (__u8)slot;
	}
	val->flags = 0;
	if (prefix < xi_chain_len(chain) && chain_observes_from(chain, prefix)) {
		val->stages[val->n_stages++] = XI_STAGE_TAP;
		if (chain_wants_frames_from(chain, prefix))
			val->flags |= XI_CONN_F_TAP_FRAMES;
	} else if (prefix < xi_chain_len(chain)) {
		val->stages[val->n_stages++] = XI_STAGE_TO_USER;
	}
	val->verdict = XI_ACT_PASS;
	return xi_conn_egress_make(chain, val, err);
}

int xi_dataplane_conn_value_make(struct xi_dataplane *dp, struct xi_chain *chain, struct xi_conn *val,
				 struct xi_err *err)
{
	return conn_value_make(dp, chain, val, err);
}

/* Read-modify-write: factories built before (header-stats) may have set
 * their fields of the value already. */
static int conn_value_finish(struct xi_dataplane *dp, uint32_t id, struct xi_chain *chain,
			     struct xi_err *err)
{
	int fd = dp->map_fds[XI_MAP_CONNS], r;
	struct xi_conn val;

	if (bpf_map_lookup_elem(fd, &id, &val))
		return xi_err_set(err, -errno, "reading connection %u: %s", id, strerror(errno));
	r = conn_value_make(dp, chain, &val, err);
	if (r)
		return r;
	if (bpf_map_update_elem(fd, &id, &val, BPF_EXIST))
		return xi_err_set(err, -errno, "writing connection %u: %s", id, strerror(errno));
	return 0;
}

static int conns_remember(struct xi_dataplane *dp, size_t extra)
{
	struct xi_dataplane_conn *v;
	size_t cap;

	if (dp->n_conns + extra <= dp->cap_conns)
		return 0;
	cap = dp->cap_conns ? dp->cap_conns * 2 : 8;
	v = realloc(dp->conns, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	dp->conns = v;
	dp->cap_conns = cap;
	return 0;
}

/* Where a flow lives: IPv4 flows in xi_flows4 under their 12-byte key,
 * IPv6 flows in xi_flows6 under the whole key. */
struct flow_ref {
	int fd;
	const void *key;
	struct xi_flow4_key k4;
};

static void flow_ref_make(const struct xi_dataplane *dp, const struct xi_flow_key *key,
			  struct flow_ref *ret)
{
	if (key->family == XI_FAMILY_IPV4) {
		ret->k4 = xi_flow4_key_of(key);
		ret->fd = dp->map_fds[XI_MAP_FLOWS4];
		ret->key = &ret->k4;
	} else {
		ret->fd = dp->map_fds[XI_MAP_FLOWS6];
		ret->key = key;
	}
}

static int flow_exists(struct xi_dataplane *dp, const struct xi_flow_key *key,
		       struct xi_err *err)
{
	struct flow_ref ref;
	struct xi_flow fl;

	flow_ref_make(dp, key, &ref);
	if (bpf_map_lookup_elem(ref.fd, ref.key, &fl) == 0)
		return xi_err_set(err, -EEXIST, "connection %u already has this flow",
				  fl.conn_id);
	return 0;
}

/* xi_conns is an array: a connection leaves by its slot being zeroed. */
static void conn_slot_clear(struct xi_dataplane *dp, uint32_t id)
{
	struct xi_conn zero = { 0 };

	bpf_map_update_elem(dp->map_fds[XI_MAP_CONNS], &id, &zero, BPF_ANY);
}

/* Every entry of the connection outside the chain's own. */
static void conn_entries_delete(struct xi_dataplane *dp, uint32_t id)
{
	conn_slot_clear(dp, id);
	xi_dataplane_chain_tally_reset(dp, id, 0);
	xi_dataplane_chain_runs_delete(dp, id, UINT32_MAX);
	bpf_map_delete_elem(dp->map_fds[XI_MAP_CONN_META], &id);
}

/* Tells xi_entry that the flow's local port has flows of its kind (see
 * xi_ports in abi.h); set before the flow exists, never cleared. */
static int port_mark(struct xi_dataplane *dp, const struct xi_flow_key *key, struct xi_err *err)
{
	bool wild = key->remote_port == 0;
	__u32 slot = XI_PORT_SLOT(ntohs(key->local_port), wild), one = 1;

	if (bpf_map_update_elem(dp->map_fds[XI_MAP_PORTS], &slot, &one, BPF_ANY))
		return xi_err_set(err, -errno, "marking port %u: %s", ntohs(key->local_port),
				  strerror(errno));
	return 0;
}

/* What a full table says: the limit, and the attach option that raises it. */
static int table_full(struct xi_err *err, const char *table, uint32_t max, const char *opt)
{
	return xi_err_set(err, -ENOSPC, "%s table full: at most %u (attach with a larger --%s)",
			  table, max, opt);
}

int xi_dataplane_chain_srtp_check(const struct xi_chain *chain, struct xi_err *err)
{
	for (size_t i = 0; i < xi_chain_len(chain); i++) {
		const struct xi_factory *f = xi_chain_factory(chain, i);

		if (f && (f->flags & XI_FACTORY_NO_SRTP))
			return xi_err_set(err, -EINVAL, "%s changes RTP headers, which SRTP "
					  "authenticates: it cannot run on an SRTP connection", f->name);
	}
	return 0;
}

/* The SRTP fields of a connection's value: the tag lengths the fast path
 * leaves out of payload octets, and the profiles. */
static void conn_srtp_set(struct xi_conn *val, const struct xi_srtp_keys *k)
{
	val->srtp_tag_in = (__u8)xi_srtp_profile_rtp_trailer(k->in.profile);
	val->srtp_tag_out = (__u8)xi_srtp_profile_rtp_trailer(k->out.profile);
	val->srtp_profiles = (__u8)((k->in.profile & 0x0f) | (k->out.profile & 0x0f) << 4);
}

static int srtp_keys_check(const struct xi_srtp_keys *k, struct xi_err *err)
{
	if (!xi_srtp_profile_name(k->in.profile) || !xi_srtp_profile_name(k->out.profile))
		return xi_err_set(err, -EINVAL, "SRTP keys with an unknown profile");
	return 0;
}

/* Everything after the id is reserved; on failure undoes it all. The keys
 * are kept before the flow exists, so that no packet of an SRTP connection
 * meets a daemon without them. */
static int conn_create(struct xi_dataplane *dp, uint32_t id, const struct xi_conn_meta *meta,
		       const struct xi_srtp_keys *srtp, const struct xi_flow_key *key,
		       struct xi_err *err)
{
	struct xi_conn val = { .conn_id = id, .version = 1 };
	struct xi_flow fl = { .conn_id = id };
	struct xi_chain *chain = NULL;
	uint32_t entry = 0;
	struct flow_ref ref;
	int r;

	if (srtp) {
		entry = xi_srtp_store_entry_id(dp);
		if (!entry)
			return xi_err_set(err, -ENOENT, "no xicept program on the interface");
		conn_srtp_set(&val, srtp);
	}
	/* The slot is ours: the id was reserved in xi_conn_meta. The tally
	 * first, so the first packet of version 1 finds it. */
	r = xi_dataplane_chain_tally_reset(dp, id, val.version);
	if (r)
		return xi_err_set(err, r, "writing connection %u's chain tally: %s", id,
				  strerror(-r));
	if (bpf_map_update_elem(dp->map_fds[XI_MAP_CONNS], &id, &val, BPF_ANY))
		return xi_err_set(err, errno == E2BIG ? -ENOSPC : -errno,
				  "writing connection %u: %s", id, strerror(errno));
	r = xi_dataplane_chain_build(dp, id, meta->chain, XI_BUILD_WRITE_STATE, &chain, err);
	if (!r && srtp)
		r = xi_dataplane_chain_srtp_check(chain, err);
	if (!r && srtp) {
		r = xi_srtp_store_put(entry, id, srtp);
		if (r)
			xi_err_set(err, r, "keeping the SRTP keys under %s: %s", XI_SRTP_STORE_ROOT,
				   strerror(-r));
	}
	if (!r)
		r = xi_dataplane_streams_bind(chain, meta, err);
	/* Only a per-stream map can fill up while the chain is made: the
	 * per-connection ones have room for every id. */
	if (r == -ENOSPC)
		r = table_full(err, "stream", dp->max_streams, "max-streams");
	if (!r) {
		r = conn_value_finish(dp, id, chain, err);
		if (!r)
			r = port_mark(dp, key, err);
		flow_ref_make(dp, key, &ref);
		if (!r && bpf_map_update_elem(ref.fd, ref.key, &fl, BPF_NOEXIST))
			r = errno == E2BIG ? table_full(err, "flow", dp->max_flows, "max-flows") :
			    xi_err_set(err, errno == EEXIST ? -EEXIST : -errno,
				       "writing the flow: %s", strerror(errno));
		if (r)
			xi_dataplane_streams_unbind(chain, meta, meta->n_streams);
	}
	if (r) {
		xi_chain_close_flags(chain, XI_CLOSE_REMOVE_STATE, NULL);   /* what it wrote */
		conn_slot_clear(dp, id);
		if (srtp)
			xi_srtp_store_erase(entry, id);
	} else {
		dp->conns[dp->n_conns++] = (struct xi_dataplane_conn){ .id = id, .chain = chain };
	}
	return r;
}

int xi_dataplane_conn_add(struct xi_dataplane *dp, const struct xi_conn_spec *spec,
			  uint32_t *ret_id, struct xi_err *err)
{
	struct xi_conn_meta meta;
	struct xi_flow_key key;
	uint32_t id;
	int r;

	if (!dp || !spec)
		return xi_err_set(err, -EINVAL, "no interface or no connection given");
	r = spec_check(spec, err);
	if (!r && spec->has_srtp)
		r = srtp_keys_check(&spec->srtp, err);
	if (r)
		return r;
	flow_key_make(spec, &key);
	r = flow_exists(dp, &key, err);
	if (!r)
		r = conns_remember(dp, 1);
	if (r)
		return r;
	meta_from_spec(spec, 0, &meta);
	r = id_reserve(dp, &meta, &id);
	if (r == -ENOSPC)
		return table_full(err, "connection", dp->max_conns, "max-conns");
	if (r)
		return xi_err_set(err, r, "no connection id: %s", strerror(-r));
	r = conn_create(dp, id, &meta, spec->has_srtp ? &spec->srtp : NULL, &key, err);
	if (r) {
		bpf_map_delete_elem(dp->map_fds[XI_MAP_CONN_META], &id);
		return r;
	}
	if (ret_id)
		*ret_id = id;
	return 0;
}

/* From the newest: undoing a run of adds deletes them newest first. */
static ssize_t conns_find(const struct xi_dataplane *dp, uint32_t id)
{
	for (size_t i = dp->n_conns; i-- > 0;)
		if (dp->conns[i].id == id)
			return (ssize_t)i;
	return -1;
}

/* The chain this handle built, taken out of its list, or one rebuilt from
 * the meta without writing anything. */
static int chain_take(struct xi_dataplane *dp, const struct xi_conn_meta *meta,
		      struct xi_chain **ret, struct xi_err *err)
{
	ssize_t at = conns_find(dp, meta->conn_id);

	if (at < 0)
		return xi_dataplane_chain_build(dp, meta->conn_id, meta->chain, 0, ret, err);
	*ret = dp->conns[at].chain;
	dp->conns[at] = dp->conns[--dp->n_conns];
	return 0;
}

/*
 * A run of deletes sweeps each per-stream map once for all its connections:
 * a sweep walks the whole map, so one walk per connection (and per factory
 * that sweeps in its close) would make deleting n connections O(n^2).
 * While a run is under way on this thread, xi_dataplane_delete_conn_streams
 * only notes the map and the connection; the run's end walks each noted map
 * once. The factories call it with a map fd alone, hence a thread's state.
 */
struct sweep {
	uint32_t *ids;               /* sorted before the walks */
	size_t n_ids, cap_ids;
	int fds[XI_STAGES_SLOTS * XI_STAGE_MAPS_MAX];
	size_t n_fds;
	int err;                     /* the first failure to note */
};

static __thread struct sweep *sweep_run;

static int streams_delete_matching(int map_fd, const struct sweep *sw, uint32_t conn_id);

static void sweep_note(struct sweep *sw, int map_fd, uint32_t conn_id)
{
	size_t i;

	for (i = 0; i < sw->n_fds && sw->fds[i] != map_fd; i++)
		;
	if (i == sw->n_fds) {
		if (sw->n_fds == sizeof(sw->fds) / sizeof(sw->fds[0])) {
			/* no room: sweep this map now, as without a run */
			streams_delete_matching(map_fd, NULL, conn_id);
			return;
		}
		sw->fds[sw->n_fds++] = map_fd;
	}
	if (sw->n_ids && sw->ids[sw->n_ids - 1] == conn_id)
		return;
	if (sw->n_ids == sw->cap_ids) {
		size_t cap = sw->cap_ids ? 2 * sw->cap_ids : 64;
		uint32_t *v = realloc(sw->ids, cap * sizeof(*v));

		if (!v) {
			sw->err = sw->err ? sw->err : -ENOMEM;
			return;
		}
		sw->ids = v;
		sw->cap_ids = cap;
	}
	sw->ids[sw->n_ids++] = conn_id;
}

static bool sweep_has(const struct sweep *sw, uint32_t conn_id)
{
	return bsearch(&conn_id, sw->ids, sw->n_ids, sizeof(conn_id), id_cmp) != NULL;
}

/* Every noted map, walked once. */
static int sweep_finish(struct sweep *sw)
{
	int r = sw->err, e;

	if (sw->n_ids)
		qsort(sw->ids, sw->n_ids, sizeof(*sw->ids), id_cmp);
	for (size_t i = 0; sw->n_ids && i < sw->n_fds; i++) {
		e = streams_delete_matching(sw->fds[i], sw, 0);
		if (e < 0 && !r)
			r = e;
	}
	free(sw->ids);
	return r;
}

/* conn_del up to the entries that hold the id: the caller deletes those
 * (conn_entries_delete) once the per-stream maps are swept, so that no other
 * process takes the id while entries of the old connection remain. *ret_found
 * says whether there was a connection to remove. */
static int conn_remove(struct xi_dataplane *dp, uint32_t id, bool *ret_found,
		       struct xi_err *err)
{
	struct xi_chain *chain = NULL;
	struct xi_conn_meta meta;
	struct xi_conn_spec spec;
	struct xi_flow_key key;
	struct flow_ref ref;
	int r;

	*ret_found = false;
	if (bpf_map_lookup_elem(dp->map_fds[XI_MAP_CONN_META], &id, &meta))
		return xi_err_set(err, -ENOENT, "no connection %u", id);
	*ret_found = true;
	spec_from_meta(&meta, &spec);
	flow_key_make(&spec, &key);
	flow_ref_make(dp, &key, &ref);
	bpf_map_delete_elem(ref.fd, ref.key);   /* traffic first */
	r = chain_take(dp, &meta, &chain, err);
	if (!r) {
		xi_dataplane_streams_unbind(chain, &meta, meta.n_streams);
		r = xi_chain_close_flags(chain, XI_CLOSE_REMOVE_STATE, err);
	}
	/* The connection goes even when its chain could not be rebuilt or
	 * closed cleanly: r still tells the caller. */
	xi_dataplane_stages_sweep(dp, id, XI_SLOTS_ALL);
	return r;
}

int xi_dataplane_conn_del_many(struct xi_dataplane *dp, const uint32_t *ids, size_t n,
			       size_t *ret_done, struct xi_err *err)
{
	struct sweep sw = { 0 };
	size_t done = 0, removed = 0;
	uint32_t entry;
	bool found;
	int r = 0, e;

	if (!dp || (n && !ids) || sweep_run)
		return xi_err_set(err, -EINVAL, "no interface or no ids given");
	entry = xi_srtp_store_entry_id(dp);
	sweep_run = &sw;
	for (; done < n && !r; done++) {
		r = conn_remove(dp, ids[done], &found, err);
		removed += found;
	}
	sweep_run = NULL;
	e = sweep_finish(&sw);
	/* The ids are given up last (see conn_remove), and their keys with them. */
	for (size_t i = 0; i < removed; i++) {
		struct xi_conn val;

		if (bpf_map_lookup_elem(dp->map_fds[XI_MAP_CONNS], &ids[i], &val) == 0 &&
		    val.srtp_profiles)
			xi_srtp_store_erase(entry, ids[i]);
		conn_entries_delete(dp, ids[i]);
		if (!dp->id_hint || ids[i] < dp->id_hint)
			dp->id_hint = ids[i];   /* ids stay dense */
	}
	if (ret_done)
		*ret_done = r ? done - 1 : done;
	if (!r && e)
		r = xi_err_set(err, e, "sweeping the per-stream maps: %s", strerror(-e));
	return r;
}

int xi_dataplane_conn_del(struct xi_dataplane *dp, uint32_t id, struct xi_err *err)
{
	if (!dp)
		return xi_err_set(err, -EINVAL, "no interface given");
	return xi_dataplane_conn_del_many(dp, &id, 1, NULL, err);
}

int xi_dataplane_conn_get(struct xi_dataplane *dp, uint32_t id, struct xi_conn_spec *ret)
{
	struct xi_conn_meta meta;
	struct xi_conn val;

	if (!dp || !ret)
		return -EINVAL;
	if (bpf_map_lookup_elem(dp->map_fds[XI_MAP_CONN_META], &id, &meta))
		return errno == ENOENT ? -ENOENT : -errno;
	spec_from_meta(&meta, ret);
	if (bpf_map_lookup_elem(dp->map_fds[XI_MAP_CONNS], &id, &val) == 0 && val.conn_id == id) {
		ret->srtp_in = XI_CONN_SRTP_IN(&val);
		ret->srtp_out = XI_CONN_SRTP_OUT(&val);
	}
	return 0;
}

int xi_dataplane_conn_set_clock_rate(struct xi_dataplane *dp, uint32_t id, uint32_t rate)
{
	struct xi_conn val;
	int fd;

	if (!dp)
		return -EINVAL;
	fd = dp->map_fds[XI_MAP_CONNS];
	if (bpf_map_lookup_elem(fd, &id, &val))
		return errno == ENOENT || errno == E2BIG ? -ENOENT : -errno;
	if (val.conn_id != id)
		return -ENOENT;   /* an empty xi_conns slot */
	val.default_clock_rate = rate;
	if (bpf_map_update_elem(fd, &id, &val, BPF_EXIST))
		return -errno;
	return 0;
}

void xi_dataplane_conns_release(struct xi_dataplane *dp)
{
	for (size_t i = 0; i < dp->n_conns; i++)
		xi_chain_close(dp->conns[i].chain, NULL);
	free(dp->conns);
	dp->conns = NULL;
	dp->n_conns = dp->cap_conns = 0;
}

/* Deletes the keys of a per-stream map whose connection is conn_id, or,
 * with sw, any of sw's. */
static int streams_delete_matching(int map_fd, const struct sweep *sw, uint32_t conn_id)
{
	struct xi_stream_key key, *keys = NULL, *nk;
	size_t n = 0, cap = 0;
	int r = 0;

	/* Collect first: deleting while walking can restart the walk. */
	for (int e = bpf_map_get_next_key(map_fd, NULL, &key); !e;
	     e = bpf_map_get_next_key(map_fd, &key, &key)) {
		if (sw ? !sweep_has(sw, key.conn_id) : key.conn_id != conn_id)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			nk = realloc(keys, cap * sizeof(*keys));
			if (!nk) {
				free(keys);
				return -ENOMEM;
			}
			keys = nk;
		}
		keys[n++] = key;
	}
	for (size_t i = 0; i < n; i++)
		if (bpf_map_delete_elem(map_fd, &keys[i]) && errno != ENOENT && !r)
			r = -errno;
	free(keys);
	return r ? r : (int)n;
}

int xi_dataplane_delete_conn_streams(int map_fd, uint32_t conn_id)
{
	if (sweep_run) {
		sweep_note(sweep_run, map_fd, conn_id);
		return 0;
	}
	return streams_delete_matching(map_fd, NULL, conn_id);
}

int xi_dataplane_conn_path(struct xi_dataplane *dp, uint32_t id, enum xi_conn_path *ret)
{
	struct xi_conn_bank tmp;
	const struct xi_conn_bank *val;
	struct xi_conn c;
	__u8 last;

	if (!dp || !ret)
		return -EINVAL;
	if (bpf_map_lookup_elem(dp->map_fds[XI_MAP_CONNS], &id, &c))
		return errno == E2BIG ? -ENOENT : -errno;
	if (c.conn_id != id)
		return -ENOENT;
	val = xi_conn_bank_active(&c, &tmp);
	last = val->n_stages ? val->stages[(val->n_stages - 1) % XI_CHAIN_STAGES_MAX] : 0;
	*ret = !val->n_stages ? XI_PATH_XDP :
	       last == XI_STAGE_TAP ? XI_PATH_TAP :
	       last == XI_STAGE_TO_USER ? XI_PATH_AFXDP : XI_PATH_XDP;
	return 0;
}

const char *xi_conn_path_name(enum xi_conn_path path)
{
	switch (path) {
	case XI_PATH_XDP:
		return "xdp";
	case XI_PATH_TAP:
		return "tap";
	case XI_PATH_AFXDP:
		return "afxdp";
	}
	return "?";
}
