// kwb's network plug (engine/uml/net-plug.c) under a burst: two plugs on one LAN, each with a guest that speaks UML's
// daemon protocol (a Python stand-in: Node has no unix datagram sockets). A unix datagram socket holds 10 frames from
// a sender it is not connected to, so a plug that dropped what did not fit lost all but about 20 frames of a burst
// while the receiving plug or guest was not scheduled; the plugs now keep them until there is room.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTempDir, removeTempDir } from '../../../engine/host.js';
import { compiledHelper } from '../../../engine/uml/cc.js';

/** Two stand-in UML guests: A sends FRAMES unicast frames to B while B's plug is stopped and B reads nothing. */
const GUESTS = String.raw`
import os, signal, socket, struct, sys, time
ctl_a, ctl_b, plug_b, frames = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

def guest(ctl, name):
    data = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    addr = b'\0' + name.encode().ljust(107, b'\0')   # full-length abstract address, as UML binds
    data.bind(addr)
    control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    control.connect(ctl)
    control.sendall(struct.pack('=IIIH', 0xfeedface, 3, 0, socket.AF_UNIX) + addr + b'\0\0')  # request_v3
    switch = control.recv(110)[2:]   # the plug's data address
    return data, control, switch

mac_a, mac_b = bytes.fromhex('02000000000a'), bytes.fromhex('02000000000b')
a, ca, switch_a = guest(ctl_a, 'kwb-test-guest-a-%d' % os.getpid())
b, cb, switch_b = guest(ctl_b, 'kwb-test-guest-b-%d' % os.getpid())
# B says hello (a broadcast): A's plug learns where B's MAC lives
b.sendto(b'\xff' * 6 + mac_b + b'\x08\x00' + b'hello'.ljust(46), switch_b)
a.settimeout(5)
a.recv(2048)
os.kill(plug_b, signal.SIGSTOP)
try:
    for i in range(frames):
        a.sendto(mac_b + mac_a + b'\x08\x00' + struct.pack('!I', i).ljust(46, b'.'), switch_a)
    time.sleep(0.3)
finally:
    os.kill(plug_b, signal.SIGCONT)
time.sleep(0.3)   # B's plug has the frames now, and B still reads nothing
got = []
b.settimeout(1)
try:
    while True:
        got.append(struct.unpack('!I', b.recv(2048)[14:18])[0])
except socket.timeout:
    pass
print(len(got), 'in order' if got == list(range(frames)) else 'out of order')
`;

describe("kwb's network plug", () => {
  let dir = '';
  const plugs: ChildProcess[] = [];

  before(() => {
    dir = makeTempDir('net-plug-test');
  });
  after(async () => {
    for (const p of plugs) {
      p.kill('SIGCONT');
      p.stdin?.end();
    }
    await Promise.all(plugs.map((p) => (p.exitCode === null ? once(p, 'exit') : undefined)));
    removeTempDir(dir);
  });

  async function startPlug(ctl: string, lan: string): Promise<ChildProcess & { pid: number }> {
    const plug = compiledHelper('net-plug.c', 'net-plug', '', { before: ['-O2'], after: [] });
    if ('error' in plug) throw new Error(plug.error);
    const child = spawn(plug.path, ['--lan', ctl, lan], { stdio: ['pipe', 'pipe', 'inherit'] });
    plugs.push(child);
    const [ready] = (await once(child.stdout!, 'data')) as [Buffer];
    assert.match(ready.toString(), /^ready$/m);
    return child as ChildProcess & { pid: number };
  }

  it('a burst to a guest whose plug and reader are both stalled arrives whole and in order', async () => {
    const lan = join(dir, 'lan', 'burst');
    const ctlA = join(dir, 'a.ctl');
    const ctlB = join(dir, 'b.ctl');
    await startPlug(ctlA, lan);
    const plugB = await startPlug(ctlB, lan);
    const frames = 300;
    const out = execFileSync('python3', ['-c', GUESTS, ctlA, ctlB, String(plugB.pid), String(frames)], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(out.trim(), `${frames} in order`);
  });
});
