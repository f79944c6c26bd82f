// SPDX-License-Identifier: MIT
/*
 * virtio-net header translation (virtio spec 1.2 §5.1.6). With no offloads
 * negotiated the kernel may still set VIRTIO_NET_HDR_F_DATA_VALID (the
 * checksum was verified) or, for locally generated traffic,
 * VIRTIO_NET_HDR_F_NEEDS_CSUM (the checksum field holds only the pseudo
 * header sum). Both mean "do not verify", as Linux treats CHECKSUM_PARTIAL
 * on receive.
 */
#include "proto/pkt.h"
#include "vnet.h"

bool vnet_hdr_to_pkt(const struct virtio_net_hdr *vh, struct pkt *pkt)
{
	if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE)
		return false;
	if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if ((uint32_t)vh->csum_start + vh->csum_offset + 2 > pkt_len(pkt))
			return false;
		pkt->csum = PKT_CSUM_UNNECESSARY;
	} else if (vh->flags & VIRTIO_NET_HDR_F_DATA_VALID) {
		pkt->csum = PKT_CSUM_UNNECESSARY;
	} else {
		pkt->csum = PKT_CSUM_NONE;
	}
	return true;
}

void vnet_hdr_from_pkt(const struct pkt *pkt, struct virtio_net_hdr *vh)
{
	vh->flags = 0;
	vh->gso_type = VIRTIO_NET_HDR_GSO_NONE;
	vh->hdr_len = 0;
	vh->gso_size = 0;
	vh->csum_start = 0;
	vh->csum_offset = 0;
	if (pkt->csum == PKT_CSUM_PARTIAL) {
		vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		vh->csum_start = (uint16_t)(pkt->csum_start - (pkt->data - pkt->head));
		vh->csum_offset = pkt->csum_off;
	}
}
