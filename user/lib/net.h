/* SPDX-License-Identifier: MIT */
/* Network constants: the system's (Ethernet types, IP protocol numbers) and
 * the header sizes the frame code builds and parses, in one place. */
#ifndef XICEPT_LIB_NET_H
#define XICEPT_LIB_NET_H

#include <linux/if_ether.h>   /* ETH_HLEN, ETH_P_IP, ETH_P_IPV6, ETH_P_8021Q, ETH_P_8021AD */
#include <netinet/in.h>       /* IPPROTO_UDP and the IPv6 extension header numbers */

#define XI_UDP_HDR_LEN   8
#define XI_IP4_HDR_LEN   20
#define XI_IP6_HDR_LEN   40
#define XI_L2_MAX        22   /* Ethernet and two VLAN tags */

#endif
