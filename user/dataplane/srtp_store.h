/* SPDX-License-Identifier: MIT */
/* Connections' SRTP keys in root-only files (user/dataplane/srtp_store.c). */
#ifndef XICEPT_DATAPLANE_SRTP_STORE_H
#define XICEPT_DATAPLANE_SRTP_STORE_H

#include <stdint.h>

#include <xicept/srtp.h>

#define XI_SRTP_STORE_ROOT "/run/xicept/srtp"

struct xi_dataplane;

/* The id of the xi_entry dp is attached with (0: none): the store's key. */
uint32_t xi_srtp_store_entry_id(const struct xi_dataplane *dp);
int xi_srtp_store_put(uint32_t entry_id, uint32_t conn_id, const struct xi_srtp_keys *keys);
/* -ENOENT: no keys for the connection. */
int xi_srtp_store_get(uint32_t entry_id, uint32_t conn_id, struct xi_srtp_keys *ret);
/* Erased when present; 0 when there was nothing. */
int xi_srtp_store_erase(uint32_t entry_id, uint32_t conn_id);
int xi_srtp_store_erase_all(uint32_t entry_id);

#endif
