// SPDX-License-Identifier: MIT
#include <errno.h>

#include <xicept/attributes.h>

/* Only the counters: the cached structs are a few KiB and this runs per packet. */
void xi_attributes_reset(struct xi_attributes *attrs)
{
	if (!attrs)
		return;
	attrs->n = 0;
	xi_attributes_invalidate(attrs);
}

void xi_attributes_invalidate(struct xi_attributes *attrs)
{
	if (!attrs)
		return;
	attrs->rtp_cached = false;
	attrs->rtcp_cached = false;
}

/* The index of key, or XI_ATTRIBUTES_MAX when it is absent. */
static size_t attr_index(const struct xi_attributes *attrs, uint32_t key)
{
	for (size_t i = 0; i < attrs->n && i < XI_ATTRIBUTES_MAX; i++) {
		if (attrs->items[i].key == key)
			return i;
	}
	return XI_ATTRIBUTES_MAX;
}

static int attr_slot(struct xi_attributes *attrs, uint32_t key, struct xi_attr **ret)
{
	size_t i;

	if (!attrs || key == 0)
		return -EINVAL;
	i = attr_index(attrs, key);
	if (i == XI_ATTRIBUTES_MAX) {
		if (attrs->n >= XI_ATTRIBUTES_MAX)
			return -ENOSPC;
		i = attrs->n++;
		attrs->items[i].key = key;
	}
	*ret = &attrs->items[i];
	return 0;
}

/* Puts v's type and value in key's slot, a new one if key is absent. */
static int attr_set(struct xi_attributes *attrs, uint32_t key, struct xi_attr v)
{
	struct xi_attr *a;
	int err = attr_slot(attrs, key, &a);

	if (err)
		return err;
	v.key = key;
	*a = v;
	return 0;
}

int xi_attributes_set_u64(struct xi_attributes *attrs, uint32_t key, uint64_t value)
{
	return attr_set(attrs, key, (struct xi_attr){ .type = XI_ATTR_U64, .u64 = value });
}

int xi_attributes_set_ptr(struct xi_attributes *attrs, uint32_t key, void *value)
{
	return attr_set(attrs, key, (struct xi_attr){ .type = XI_ATTR_PTR, .ptr = value });
}

static int attr_get(const struct xi_attributes *attrs, uint32_t key,
		    enum xi_attr_type type, const struct xi_attr **ret)
{
	size_t i;

	if (!attrs || key == 0)
		return -EINVAL;
	i = attr_index(attrs, key);
	if (i == XI_ATTRIBUTES_MAX)
		return -ENOENT;
	if (attrs->items[i].type != type)
		return -EINVAL;
	*ret = &attrs->items[i];
	return 0;
}

int xi_attributes_get_u64(const struct xi_attributes *attrs, uint32_t key, uint64_t *ret)
{
	const struct xi_attr *a;
	int err;

	if (!ret)
		return -EINVAL;
	err = attr_get(attrs, key, XI_ATTR_U64, &a);
	if (!err)
		*ret = a->u64;
	return err;
}

int xi_attributes_get_ptr(const struct xi_attributes *attrs, uint32_t key, void **ret)
{
	const struct xi_attr *a;
	int err;

	if (!ret)
		return -EINVAL;
	err = attr_get(attrs, key, XI_ATTR_PTR, &a);
	if (!err)
		*ret = a->ptr;
	return err;
}

/* Moves the last item into the hole: order is not part of the contract. */
int xi_attributes_del(struct xi_attributes *attrs, uint32_t key)
{
	size_t i;

	if (!attrs || key == 0)
		return -EINVAL;
	i = attr_index(attrs, key);
	if (i == XI_ATTRIBUTES_MAX)
		return -ENOENT;
	attrs->items[i] = attrs->items[--attrs->n];
	return 0;
}

size_t xi_attributes_len(const struct xi_attributes *attrs)
{
	return attrs ? attrs->n : 0;
}

int xi_attributes_rtp_header(struct xi_attributes *attrs, const uint8_t *buf, size_t len,
			     const struct xi_rtp_header **ret)
{
	int err;

	if (!attrs || !buf || !ret)
		return -EINVAL;
	if (!attrs->rtp_cached || attrs->rtp_buf != buf || attrs->rtp_len != len) {
		attrs->rtp_cached = false;
		err = xi_rtp_header_parse(buf, len, &attrs->rtp);
		if (err)
			return err;
		attrs->rtp_buf = buf;
		attrs->rtp_len = len;
		attrs->rtp_cached = true;
	}
	*ret = &attrs->rtp;
	return 0;
}

int xi_attributes_rtcp(struct xi_attributes *attrs, const uint8_t *buf, size_t len,
		       const struct xi_rtcp_compound **ret)
{
	int err;

	if (!attrs || !buf || !ret)
		return -EINVAL;
	if (!attrs->rtcp_cached || attrs->rtcp_buf != buf || attrs->rtcp_len != len) {
		attrs->rtcp_cached = false;
		err = xi_rtcp_compound_parse(buf, len, &attrs->rtcp);
		if (err)
			return err;
		attrs->rtcp_buf = buf;
		attrs->rtcp_len = len;
		attrs->rtcp_cached = true;
	}
	*ret = &attrs->rtcp;
	return 0;
}
