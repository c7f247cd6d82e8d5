/* SPDX-License-Identifier: MIT */
/* Local streams and the egress stage list of a connection (conn_local.c). */
#ifndef XICEPT_DATAPLANE_CONN_LOCAL_H
#define XICEPT_DATAPLANE_CONN_LOCAL_H

#include <xicept/abi.h>
#include <xicept/dataplane.h>
#include <xicept/error.h>

struct xi_chain;

int xi_conn_local_check(const struct xi_conn_spec *spec, struct xi_err *err);
void xi_conn_local_to_meta(const struct xi_conn_spec *spec, struct xi_conn_meta *m);
void xi_conn_local_from_meta(const struct xi_conn_meta *m, struct xi_conn_spec *spec);
/* Fills val->egress and n_egress from the chain. */
int xi_conn_egress_make(const struct xi_chain *chain, struct xi_conn *val, struct xi_err *err);

#endif
