// Networked UML guests, unprivileged: two guests on a LAN, a user network through kwb's libslirp NAT both ways, bad
// input, and gdb stopping one guest in tcp_v4_rcv when another sends to it. Real fixture kernel, real kwb CLI, real
// libslirp, busybox and tcpdump; the host's interfaces must be the same afterwards.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { FIXTURE_TIMEOUT_MS, umlKernel } from '../helpers/fixtures.js';
import { Sandbox, collect } from '../helpers/kwb.js';
import { runGdb } from '../helpers/gdb.js';

const hostLinks = () => execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' }).replace(/ state \S+/g, '');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A TCP port free on loopback now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** The body of http://HOST:PORT/, or undefined while nothing answers. */
function httpGet(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = connect(port, host);
    let body = '';
    s.on('connect', () => s.write(`GET / HTTP/1.0\r\nHost: ${host}\r\n\r\n`));
    s.on('data', (d) => (body += d.toString()));
    s.on('end', () => resolve(body));
    s.on('error', () => resolve(undefined));
    s.setTimeout(5000, () => (s.destroy(), resolve(undefined)));
  });
}

describe('networked uml guests', { timeout: FIXTURE_TIMEOUT_MS }, () => {
  let kernel: string;
  let box: Sandbox;
  let linksBefore: string;
  const scratch = mkdtempSync(join(tmpdir(), 'kwb-net-test-'));
  before(() => {
    kernel = umlKernel();
    linksBefore = hostLinks();
  });
  afterEach(() => {
    assert.deepEqual(box.leftovers(), { files: [], processes: [] });
    box.dispose();
    assert.equal(hostLinks(), linksBefore, 'the host has the same interfaces');
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));
  const lan = `t${process.pid}`;

  it('two guests on a LAN talk TCP, and the pcap holds every frame for tcpdump', async () => {
    box = new Sandbox();
    const pcap = join(scratch, 'a.pcap');
    const server = box.run([
      'run',
      '--kernel',
      kernel,
      '--timeout',
      '120',
      '--net',
      `lan=${lan},ip=10.1.0.1/24`,
      '--pcap',
      pcap,
      '--',
      'sh',
      '-c',
      'nc -l -p 5000',
    ]);
    // the client retries until the server listens (both boot at once)
    const client = await box.run([
      'run',
      '--kernel',
      kernel,
      '--timeout',
      '120',
      '--net',
      `lan=${lan},ip=10.1.0.2/24`,
      '--',
      'sh',
      '-c',
      'for i in $(seq 60); do echo hello-over-the-lan | nc 10.1.0.1 5000 && exit 0; sleep 1; done; exit 1',
    ]);
    const s = await server;
    assert.equal(client.code, 0, client.stderr);
    assert.equal(s.code, 0, s.stderr);
    assert.equal(s.stdout, 'hello-over-the-lan\n');
    const dump = spawnSync('tcpdump', ['-nn', '-A', '-r', pcap], { encoding: 'utf8' });
    assert.equal(dump.status, 0, dump.stderr);
    assert.match(dump.stderr, /link-type EN10MB/);
    assert.match(dump.stdout, /ARP, Request who-has 10\.1\.0\.1 tell 10\.1\.0\.2/);
    assert.match(dump.stdout, /10\.1\.0\.2\.\d+ > 10\.1\.0\.1\.5000: Flags \[S\]/);
    assert.match(dump.stdout, /10\.1\.0\.1\.5000 > 10\.1\.0\.2\.\d+: Flags \[S\.\]/);
    assert.match(dump.stdout, /hello-over-the-lan/);
  });

  it('user network: the host reaches a guest httpd through a loopback forward, the guest a host service at 10.0.2.2', async () => {
    box = new Sandbox();
    const host = createServer((c) => c.end('HTTP/1.0 200 OK\r\n\r\npage-from-the-host\n'));
    await new Promise<void>((r) => host.listen(0, '127.0.0.1', r));
    const hostPort = (host.address() as AddressInfo).port;
    const fwd = await freePort();
    try {
      const guest = box.start(
        [
          'run',
          '--kernel',
          kernel,
          '--timeout',
          '120',
          '--net',
          `user,hostfwd=tcp:${fwd}:80`,
          '--',
          'sh',
          '-c',
          `wget -q -O - http://10.0.2.2:${hostPort}/ && mkdir /tmp/www && echo page-from-the-guest > /tmp/www/index.html && httpd -p 80 -h /tmp/www && echo serving && read done`,
        ],
        {},
      );
      const result = collect(guest);
      let out = '';
      guest.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      let page: string | undefined;
      for (let i = 0; i < 240 && !page?.includes('page-from-the-guest'); i++) {
        await sleep(500);
        if (out.includes('serving')) page = await httpGet('127.0.0.1', fwd);
      }
      // only on loopback: the host's other addresses do not forward
      const outside = Object.values(networkInterfaces())
        .flat()
        .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
      const fromOutside = outside ? await httpGet(outside, fwd) : undefined;
      guest.stdin!.end('done\n');
      const r = await result;
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^page-from-the-host$/m);
      assert.match(page ?? '', /page-from-the-guest/);
      assert.equal(fromOutside, undefined, `port ${fwd} answered on ${outside}`);
    } finally {
      host.close();
    }
  });

  it('bad --net input, a busy host port, no NAT helper: one line, exit 2 (125 under kwb test), nothing left', async () => {
    box = new Sandbox();
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as AddressInfo).port;
    try {
      const cases: [string[], RegExp, NodeJS.ProcessEnv?][] = [
        [['--net', 'tap0'], /^kwb run: --net tap0: unknown network 'tap0'; give user/],
        [['--net', `user,hostfwd=tcp:${port}:80`], new RegExp(`tcp port ${port} on 127\\.0\\.0\\.1 is in use`)],
        // no C compiler (or no libslirp-dev) for a cache that has no NAT helper built yet
        [
          ['--net', 'user'],
          /^kwb run: --net user needs kwb's NAT helper: install libslirp-dev/,
          { CC: '/nonexistent/cc', KWB_CACHE: join(scratch, 'fresh-cache') },
        ],
        [['--pcap', join(scratch, 'none', 'x.pcap'), '--net', 'lan=x'], /^kwb run: --pcap .*: cannot write it/],
      ];
      for (const [args, message, env] of cases) {
        const r = await box.run(['run', '--kernel', kernel, ...args, '--', 'true'], { env });
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, message);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
        const t = await box.run(['test', '--kernel', kernel, ...args, '--', 'true'], { env });
        assert.equal(t.code, 125, t.stderr);
      }
    } finally {
      busy.close();
    }
  });

  it('gdb stops one guest in tcp_v4_rcv when the other sends to it', async (t) => {
    box = new Sandbox();
    const gdbPort = await freePort();
    const server = box.run([
      'run',
      '--kernel',
      kernel,
      '--timeout',
      '180',
      '--gdb',
      `127.0.0.1:${gdbPort}`,
      '--net',
      `lan=${lan}g,ip=10.2.0.1/24`,
      '--',
      'sh',
      '-c',
      'nc -l -p 5000',
    ]);
    await sleep(3000);
    const gdb = runGdb(
      kernel,
      [
        `target remote 127.0.0.1:${gdbPort}`,
        'break tcp_v4_rcv',
        'continue',
        'bt 3',
        'p/x ((struct iphdr *)(skb->head + skb->network_header))->saddr',
        'delete',
        'detach',
      ],
      { t, timeoutMs: 150_000 },
    );
    const client = box.run([
      'run',
      '--kernel',
      kernel,
      '--timeout',
      '150',
      '--net',
      `lan=${lan}g,ip=10.2.0.2/24`,
      '--',
      'sh',
      '-c',
      'for i in $(seq 100); do echo sent-under-gdb | nc -w 2 10.2.0.1 5000 && exit 0; sleep 1; done; exit 1',
    ]);
    const g = await gdb;
    const [c, s] = await Promise.all([client, server]);
    const guests = `\nserver (${s.code}): ${s.stdout}${s.stderr}\nclient (${c.code}): ${c.stdout}${c.stderr}`;
    assert.match(g.out, /Breakpoint 1, tcp_v4_rcv \(skb=/, g.out + g.err + guests);
    assert.match(g.out, /ip_protocol_deliver_rcu|ip_local_deliver/);
    // 10.2.0.2 in network byte order, read on little-endian x86-64
    assert.match(g.out, /^\$1 = 0x200020a$/m);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(s.code, 0, s.stderr);
    assert.equal(s.stdout, 'sent-under-gdb\n');
  });

  it('kwb lab: three guests on two LANs route across the middle one; status, console and down', async () => {
    box = new Sandbox();
    const file = join(scratch, 'lab.yaml');
    const [left, right] = [`${lan}l`, `${lan}r`];
    // the router has no command: its shell is on the console, and kwb lab console turns forwarding on
    writeFileSync(
      file,
      [
        `kernel: ${kernel}`,
        `lans: [${left}, ${right}]`,
        'guests:',
        '  a:',
        `    net: ["lan=${left},ip=10.1.0.1/24"]`,
        '    command: ip route add 10.2.0.0/24 via 10.1.0.254 && for i in $(seq 90); do echo across-the-router | nc 10.2.0.2 5000 && exit 0; sleep 1; done; exit 1',
        '  router:',
        '    net:',
        `      - lan=${left},ip=10.1.0.254/24`,
        `      - { lan: ${right}, ip: 10.2.0.254/24 }`,
        '  b:',
        `    net: ["lan=${right},ip=10.2.0.2/24"]`,
        '    command: [sh, -c, "ip route add 10.1.0.0/24 via 10.2.0.254 && nc -l -p 5000"]',
      ].join('\n'),
    );
    const lab = (...args: string[]) => box.run(['lab', ...args, '--file', file]);
    const up = box.start(['lab', 'up', '--file', file]);
    const upDone = collect(up);
    let out = '';
    up.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    for (let i = 0; i < 600 && !/^router\s*\| kwb: guest shell/m.test(out); i++) await sleep(200);
    const status = await lab('status');
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^ {2}router\trunning$/m);
    const consoleRun = box.start(['lab', 'console', 'router', '--file', file]);
    const consoleDone = collect(consoleRun);
    consoleRun.stdin!.write('echo 1 > /proc/sys/net/ipv4/ip_forward && echo forwarding-on\n');
    for (let i = 0; i < 600 && !/^b\s*\| across-the-router/m.test(out); i++) await sleep(200);
    consoleRun.kill('SIGTERM');
    const c = await consoleDone;
    const down = await lab('down');
    const u = await upDone;
    assert.match(c.stdout, /forwarding-on/);
    assert.match(out, /^b\s*\| across-the-router$/m, out.slice(-3000));
    assert.equal(down.code, 0, down.stderr);
    assert.equal(u.code, 122, u.stderr);
    assert.match((await lab('status')).stdout, /: down$/m);
  });
});
