// Networked rv64 guests: kwb's built-in RISC-V machine with its virtio-net device on the same segments as UML guests.
// An rv64 guest (the riscv fixture kernel, bench/net-probe.c as its /init) serves TCP on a LAN to a UML guest's
// busybox nc while a pcap records it (read by tcpdump); an rv64 guest reaches a host service at 10.0.2.2 through the NAT.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { FIXTURE_TIMEOUT_MS, fixtureTree, rv64Init, umlKernel } from '../helpers/fixtures.js';
import { Sandbox } from '../helpers/kwb.js';

const PROBE = join(__dirname, '..', '..', 'bench', 'net-probe.c');

/** The probe's protocol on the host side: 'S' counts what the client sends and answers the count (8 bytes, little
 *  endian); 'P' echoes; 'Q' ends. */
function probeServer(onQuit: () => void): { port: () => number; close: () => void } {
  const server = createServer((c: Socket) => {
    let mode: string | undefined;
    let count = 0;
    c.on('data', (d: Buffer) => {
      let body = d;
      if (mode === undefined) {
        mode = String.fromCharCode(d[0]!);
        body = d.subarray(1);
        if (mode === 'Q') onQuit();
      }
      if (mode === 'S') count += body.length;
      else if (mode === 'P') c.write(body);
    });
    c.on('end', () => {
      const total = Buffer.alloc(8);
      total.writeBigUInt64LE(BigInt(count));
      if (mode === 'S') c.end(total);
      else c.end();
    });
    c.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  return { port: () => (server.address() as AddressInfo).port, close: () => server.close() };
}

describe('networked rv64 guests', { timeout: FIXTURE_TIMEOUT_MS }, () => {
  let image: string;
  let initrd: string;
  let uml: string;
  let box: Sandbox;
  const scratch = mkdtempSync(join(tmpdir(), 'kwb-net-rv64-'));
  before(() => {
    const tree = fixtureTree('riscv');
    image = join(tree, 'arch/riscv/boot/Image');
    initrd = rv64Init(tree, PROBE);
    uml = umlKernel();
  });
  afterEach(() => {
    assert.deepEqual(box.leftovers(), { files: [], processes: [] });
    box.dispose();
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('an rv64 guest and a UML guest on one LAN talk TCP (busybox nc), and the pcap holds it for tcpdump', async () => {
    box = new Sandbox();
    const lan = `r${process.pid}`;
    const pcap = join(scratch, 'rv64.pcap');
    const rv64 = box.run([
      ...['boot', '--kernel', image, '--initrd', initrd, '--timeout', '300'],
      ...['--net', `lan=${lan},ip=10.3.0.1/24`, '--pcap', pcap, '--append', '-- serve 5000'],
    ]);
    // the UML guest retries until the rv64 guest serves; it sends 'S' and 100000 bytes, the server answers the count
    const client = await box.run([
      ...['run', '--kernel', uml, '--timeout', '300', '--net', `lan=${lan},ip=10.3.0.2/24`, '--'],
      'sh',
      '-c',
      'for i in $(seq 240); do n=$( (printf S; head -c 100000 /dev/zero) | nc 10.3.0.1 5000 | od -An -tu4 -N4) && [ -n "$n" ] && break; sleep 1; done; echo "counted $n"; printf Q | nc 10.3.0.1 5000',
    ]);
    const server = await rv64;
    assert.equal(client.code, 0, client.stderr);
    assert.match(client.stdout, /counted\s+100000\b/);
    assert.equal(server.code, 0, server.stderr);
    assert.match(server.stdout, /probe: serving on port 5000/);
    const dump = spawnSync('tcpdump', ['-nn', '-r', pcap], { encoding: 'utf8' });
    assert.equal(dump.status, 0, dump.stderr);
    assert.match(dump.stderr, /link-type EN10MB/);
    assert.match(dump.stdout, /ARP, Reply 10\.3\.0\.1 is-at/);
    assert.match(dump.stdout, /10\.3\.0\.2\.\d+ > 10\.3\.0\.1\.5000: Flags \[S\]/);
    assert.match(dump.stdout, /10\.3\.0\.1\.5000 > 10\.3\.0\.2\.\d+: Flags \[S\.\]/);
  });

  it('an rv64 guest reaches a host service at 10.0.2.2 through --net user', async () => {
    box = new Sandbox();
    let quit = false;
    const host = probeServer(() => (quit = true));
    try {
      await new Promise((r) => setTimeout(r, 100)); // listening
      const r = await box.run([
        ...['boot', '--kernel', image, '--initrd', initrd, '--timeout', '300', '--net', 'user'],
        ...['--append', `-- send 10.0.2.2 ${host.port()} 1`],
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /probe: stream 1048576 bytes in \d+ us/);
      assert.match(r.stdout, /probe: rtt \d+ \(x0\.1 us\) over 500 round trips/);
      assert.ok(quit, 'the guest told the host service to quit');
    } finally {
      host.close();
    }
  });
});
