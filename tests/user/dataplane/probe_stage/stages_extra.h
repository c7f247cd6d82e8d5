/* SPDX-License-Identifier: MIT */
/* The one line a new XDP stage adds to XI_STAGES (abi.h). The probe build
 * force-includes this file (-include) instead of editing abi.h, so that the
 * shipped list stays free of a test-only stage. */
#define XI_STAGES_EXTRA(X) X(PROBE, 15, probe)
