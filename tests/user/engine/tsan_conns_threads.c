// SPDX-License-Identifier: MIT
/*
 * The engine's connections under several threads, under ThreadSanitizer:
 * the same program as test_conns_threads_xdp.c, which it includes so that
 * the two cannot drift apart.
 */
#include "user/engine/test_conns_threads_xdp.c"
