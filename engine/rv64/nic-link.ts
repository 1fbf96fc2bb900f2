// The host side of one rv64 network interface: a unix stream connection to kwb's plug (net-plug.c --stream), frames
// both ways in QEMU's stream netdev framing (a 32-bit big-endian length, then the Ethernet frame).
import { connect, type Socket } from 'node:net';

export interface NicLink {
  send(frame: Uint8Array): void;
  close(): void;
}

/** Connect to the plug's control socket `path`; `onFrame` gets each frame the plug delivers for the guest. */
export function connectNic(path: string, onFrame: (frame: Uint8Array) => void): Promise<NicLink> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(path);
    let buffered: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      let at = 0;
      while (buffered.length - at >= 4) {
        const len = buffered.readUInt32BE(at);
        if (buffered.length - at < 4 + len) break;
        // a copy: the frame outlives this chunk (it waits in the device, and in a recording)
        onFrame(new Uint8Array(buffered.subarray(at + 4, at + 4 + len)));
        at += 4 + len;
      }
      buffered = buffered.subarray(at);
    });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.on('error', () => {}); // the plug ending (kwb stopping it) is not the guest's error
      resolve({
        send(frame) {
          const head = Buffer.alloc(4);
          head.writeUInt32BE(frame.length);
          socket.write(Buffer.concat([head, frame]));
        },
        close: () => socket.destroy(),
      });
    });
  });
}
