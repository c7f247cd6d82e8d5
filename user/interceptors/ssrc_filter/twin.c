// SPDX-License-Identifier: MIT
/* Twin of xi_ssrc_filter (user/interceptors/ssrc_filter/ssrc_filter.bpf.c) for one connection. */
#include <errno.h>
#include <stdlib.h>

#include "user/interceptors/ssrc_filter/twin.h"
#include "user/interceptors/ssrc_filter/ssrc_filter_abi.h"

struct xi_twin_ssrc_filter {
	enum xi_ssrc_mode mode;
	struct xi_twin_table listed;   /* struct xi_ssrc_entry */
	struct xi_twin_table drops;    /* struct xi_drop_count */
	uint64_t conn_drops;
};

int xi_twin_ssrc_filter_new(enum xi_ssrc_mode mode, const uint32_t *ssrcs, size_t n,
			    struct xi_twin_ssrc_filter **ret)
{
	struct xi_twin_ssrc_filter *f;

	if (mode != XI_SSRC_MODE_OFF && mode != XI_SSRC_MODE_ALLOW && mode != XI_SSRC_MODE_DENY)
		return -EINVAL;
	if (n && !ssrcs)
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->mode = mode;
	xi_twin_table_init(&f->listed, sizeof(struct xi_ssrc_entry));
	xi_twin_table_init(&f->drops, sizeof(struct xi_drop_count));
	for (size_t i = 0; i < n; i++) {
		struct xi_ssrc_entry *e = xi_twin_table_get(&f->listed, ssrcs[i]);

		if (!e) {
			xi_twin_ssrc_filter_free(f);
			return -ENOMEM;
		}
		e->ssrc = ssrcs[i];
	}
	*ret = f;
	return 0;
}

void xi_twin_ssrc_filter_free(struct xi_twin_ssrc_filter *f)
{
	if (!f)
		return;
	xi_twin_table_fini(&f->listed);
	xi_twin_table_fini(&f->drops);
	free(f);
}

enum xi_action xi_twin_ssrc_filter_run(struct xi_twin_ssrc_filter *f,
				       const struct xi_pkt_ctx *pc)
{
	int listed = xi_twin_table_find(&f->listed, pc->ssrc) != NULL, drop = 0;
	struct xi_drop_count *n;

	if (f->mode == XI_SSRC_MODE_ALLOW)
		drop = !listed;
	else if (f->mode == XI_SSRC_MODE_DENY)
		drop = listed;
	if (!drop)
		return XI_ACT_PASS;
	/* Out of memory loses the per-SSRC count, as a full map does in BPF. */
	n = xi_twin_table_get(&f->drops, pc->ssrc);
	if (n) {
		n->packets++;
		n->bytes += pc->payload_len;
	}
	f->conn_drops++;
	return XI_ACT_DROP;
}

uint64_t xi_twin_ssrc_filter_drops(const struct xi_twin_ssrc_filter *f)
{
	return f->conn_drops;
}

int xi_twin_ssrc_filter_ssrc_drops(const struct xi_twin_ssrc_filter *f, uint32_t ssrc,
				   uint64_t *ret)
{
	const struct xi_drop_count *n = xi_twin_table_find(&f->drops, ssrc);

	if (!n)
		return -ENOENT;
	*ret = n->packets;
	return 0;
}

size_t xi_twin_ssrc_filter_n_dropped(const struct xi_twin_ssrc_filter *f)
{
	return f->drops.n;
}
