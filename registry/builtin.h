/* SPDX-License-Identifier: MIT */
/*
 * The userspace-kind interceptors built into libxicept. Each X(sym) names a
 * factory whose source file has XI_CATALOG_ANCHOR(sym) beside its
 * XI_CATALOG_REGISTER; registry/builtin.c uses every anchor so a static link
 * keeps them. sym is the factory's name with '_' for '-' (X(packet_dump) is
 * "packet-dump"). XDP-kind interceptors need no line here: their line in
 * XI_STAGES (abi.h) names their stage descriptor, which sits beside their
 * factory, and builtin.c keeps those. Add the name of every built-in to the
 * literal list in tests/registry/test_global.c, which fails when a built-in
 * is missing from the program.
 */
#ifndef XICEPT_BUILTIN_H
#define XICEPT_BUILTIN_H

#define XI_BUILTINS(X) \
	X(nack_generator) \
	X(receiver_report) \
	X(packet_dump) \
	X(sender_report) \
	X(nack_responder) \
	X(twcc)

#endif
