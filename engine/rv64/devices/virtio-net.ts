// virtio-net device (virtio 1.x, device ID 1): a receive and a transmit queue and a MAC address, no offloads: every
// frame is a whole Ethernet frame of at most 1514 bytes, as the LAN's other guests (UML's daemon transport) and the NAT
// take them. Frames from the host wait in the device until the driver posts receive buffers; they are part of its
// state, so a replay sees the same ones. Frames the guest sends go to `transmit`, except those a replay sends again.
import type { Stateful } from '../state.js';
import { VirtioChainError, type DescriptorChain, type VirtioBackend } from './virtio-mmio.js';

const VIRTIO_NET_F_MAC = 1n << 5n;
/** struct virtio_net_hdr_v1 (with VIRTIO_F_VERSION_1 it always has num_buffers): 12 bytes before each frame. */
const HEADER_SIZE = 12;
const NUM_BUFFERS_AT = 10;
const QUEUE_SIZE = 256;
export const RX_QUEUE = 0;
const TX_QUEUE = 1;
/** Frames held for a driver that posts no receive buffers; beyond this they are dropped, as a NIC's FIFO would. */
const MAX_PENDING = 256;

interface VirtioNetState {
  pending: Uint8Array[];
  sent: number;
}

export class VirtioNet implements VirtioBackend, Stateful<VirtioNetState> {
  readonly deviceId = 1;
  readonly features = VIRTIO_NET_F_MAC;
  readonly queueSizes = [QUEUE_SIZE, QUEUE_SIZE];
  private readonly mac: Uint8Array;
  private pending: Uint8Array[] = [];
  /** Frames the guest sent in this timeline; `shown` of them went to the host (going back in time lowers `sent`). */
  private sent = 0;
  private shown = 0;

  constructor(
    mac: string,
    private readonly transmit: (frame: Uint8Array) => void,
  ) {
    this.mac = Uint8Array.from(mac.split(':').map((b) => parseInt(b, 16)));
  }

  save(): VirtioNetState {
    return { pending: this.pending.slice(), sent: this.sent };
  }

  restore(s: VirtioNetState): void {
    this.pending = s.pending.slice();
    this.sent = s.sent;
  }

  /** A frame from the host (at an input point); the transport is kicked to serve the receive queue after. */
  receive(frame: Uint8Array): void {
    if (this.pending.length < MAX_PENDING) this.pending.push(frame);
  }

  readConfig(offset: number, size: 1 | 2 | 4): number {
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = (v << 8) | (this.mac[offset + i] ?? 0);
    return v;
  }

  handle(queue: number, chain: DescriptorChain): number | undefined {
    if (queue === TX_QUEUE) {
      if (chain.readableLength < HEADER_SIZE) throw new VirtioChainError('virtio-net frame without its header');
      const frame = chain.read(HEADER_SIZE, chain.readableLength - HEADER_SIZE);
      if (++this.sent > this.shown) {
        this.shown = this.sent;
        this.transmit(frame);
      }
      return 0;
    }
    let frame = this.pending.shift();
    // a frame larger than the driver's buffers (it posts room for an MTU of 1500) is dropped
    while (frame && HEADER_SIZE + frame.length > chain.writableLength) frame = this.pending.shift();
    if (!frame) return undefined;
    const header = new Uint8Array(HEADER_SIZE);
    header[NUM_BUFFERS_AT] = 1;
    chain.write(0, header);
    chain.write(HEADER_SIZE, frame);
    return HEADER_SIZE + frame.length;
  }

  reset(): void {
    this.pending = [];
  }
}
