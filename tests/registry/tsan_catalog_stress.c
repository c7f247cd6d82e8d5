// SPDX-License-Identifier: MIT
/*
 * The catalog stress test under ThreadSanitizer, always with the full 10,000
 * replacements: the same program as test_catalog_stress.c, which it includes
 * so that the two cannot drift apart.
 */
#define XI_STRESS_FULL 1
#include "registry/test_catalog_stress.c"
