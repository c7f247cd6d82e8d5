/* SPDX-License-Identifier: MIT */
/* Everything a program embedding xicept needs, in one include. */
#ifndef XICEPT_XICEPT_H
#define XICEPT_XICEPT_H

#include <xicept/error.h>
#include <xicept/stream.h>
#include <xicept/rtp.h>
#include <xicept/rtcp.h>
#include <xicept/attributes.h>
#include <xicept/interceptor.h>
#include <xicept/config.h>
#include <xicept/registry.h>
#include <xicept/stage.h>
#include <xicept/catalog.h>
#include <xicept/dataplane.h>
#include <xicept/srtp.h>

#endif
