/* SPDX-License-Identifier: MIT */
/*
 * The interceptors built into libxicept. Each X(sym) names a factory whose
 * source file has XI_CATALOG_ANCHOR(sym) beside its XI_CATALOG_REGISTER;
 * registry/builtin.c references every anchor so a static link keeps them.
 * sym is the factory's name with '_' for '-' (X(ssrc_filter) is
 * "ssrc-filter"); tests/registry/test_global.c checks each one is found.
 * Add a line here when adding a built-in.
 */
#ifndef XICEPT_BUILTIN_H
#define XICEPT_BUILTIN_H

#define XI_BUILTINS(X) \
	X(noop) \
	X(nack_generator) \
	X(receiver_report) \
	X(packet_dump) \
	X(ssrc_filter) \
	X(header_stats)

#endif
