/* SPDX-License-Identifier: MIT */
/*
 * virtio-net header <-> struct pkt checksum/GSO metadata: the one place
 * where link metadata is translated (STYLE.md, sans-IO rule 9).
 */
#ifndef USNET_DAEMON_VNET_H
#define USNET_DAEMON_VNET_H

#include <linux/virtio_net.h>
#include <stdbool.h>

struct pkt;

/**
 * vnet_hdr_to_pkt() - apply a received header to @pkt
 * Return: true if usable; false if it asks for something not negotiated
 * (GSO) or is inconsistent (drop with DROP_VNET_HDR_INVALID).
 */
bool vnet_hdr_to_pkt(const struct virtio_net_hdr *vh, struct pkt *pkt);

/** vnet_hdr_from_pkt() - the header to send in front of @pkt */
void vnet_hdr_from_pkt(const struct pkt *pkt, struct virtio_net_hdr *vh);

#endif
