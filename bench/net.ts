// Guest networking throughput and latency: UML guests on a kwb LAN and through passt, against the same transfer
// between two QEMU riscv64 `virt` guests on a socket netdev (and one on QEMU's user network, libslirp), in the same
// run. QEMU is the reference the issue names; this host has no KVM and no x86 QEMU, so its guests run under TCG:
// the comparison says what a kwb user gets against what QEMU gives on the same machine, not transport against
// transport. Both sides run one workload (net-probe.c, the same source built for each): a 100 MiB TCP stream and
// 500 one-byte TCP round trips. A third UML row uses UML's own mcast transport, the alternative to kwb's plug.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cacheDir } from '../engine/cache.js';
import { makeTempDir, removeTempDir } from '../engine/host.js';
import { fixtureTree } from '../test/helpers/fixtures.js';
import type { BenchRow } from './row.js';

const MIB = Number(process.env.KWB_BENCH_NET_MIB ?? 100);
const CLI = join(__dirname, '..', 'dist', 'cli.js');
const FIXTURES = join(__dirname, '..', 'test', 'fixtures');
const PROBE = join(__dirname, 'net-probe.c');

interface Probe {
  /** MB/s of the stream, and the mean round trip in microseconds. */
  mbps: number;
  rttUs: number;
}

function parseProbe(text: string, what: string): Probe {
  const stream = /probe: stream (\d+) bytes in (\d+) us/.exec(text);
  const rtt = /probe: rtt (\d+) \(x0\.1 us\)/.exec(text);
  if (!stream || !rtt) throw new Error(`${what}: no probe results in:\n${text.slice(-1500)}`);
  return { mbps: Number(stream[1]) / Number(stream[2]), rttUs: Number(rtt[1]) / 10 };
}

/** The probe as a static x86-64 program (the UML guests run it from a share; the host serves with it). */
function x86Probe(umlTree: string): string {
  const dir = cacheDir('bench-net');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, 'net-probe');
  execFileSync('cc', [
    '-Os',
    '-static',
    '-nostdlib',
    '-ffreestanding',
    '-fno-stack-protector',
    '-include',
    join(umlTree, 'tools/include/nolibc/nolibc.h'),
    '-o',
    out,
    PROBE,
    '-lgcc',
  ]);
  return out;
}

function finished(child: ChildProcess, what: string, timeoutMs = 600_000): Promise<string> {
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} timed out:\n${out.slice(-1500)}`));
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

let nextPort = 20000 + (process.pid % 20000);
const port = () => nextPort++;

function kwbRun(args: string[]): Promise<string> {
  return finished(spawn(process.execPath, [CLI, 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'] }), 'kwb run');
}

/** A server guest and a client guest (or the host as the server), started together; the client's results. */
async function pair(server: () => Promise<string>, client: () => Promise<string>, what: string): Promise<Probe> {
  const s = server();
  const c = await client();
  await s;
  return parseProbe(c, what);
}

function qemu(image: string, initramfs: string, append: string, netdev: string, consoleFile: string): ChildProcess {
  return spawn(
    'qemu-system-riscv64',
    [
      ...['-M', 'virt', '-smp', '1', '-m', '256M', '-bios', 'default', '-display', 'none', '-monitor', 'none'],
      ...['-serial', `file:${consoleFile}`, '-kernel', image, '-initrd', initramfs, '-append', append],
      ...['-netdev', `${netdev},id=n0`, '-device', 'virtio-net-device,netdev=n0', '-no-reboot'],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

export async function benchNet(): Promise<BenchRow[]> {
  const umlTree = fixtureTree('um');
  const kernel = join(umlTree, 'linux');
  const rvTree = execFileSync('bash', [join(FIXTURES, 'build-kernel.sh'), 'riscv-net'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  const initramfs = execFileSync('bash', [join(FIXTURES, 'build-rv64-init.sh'), rvTree, PROBE], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  const image = join(rvTree, 'arch/riscv/boot/Image');
  const probe = x86Probe(umlTree);
  const share = ['--share', `${dirname(probe)}:/probe`];
  const lan = `bench${process.pid}`;
  const tmp = makeTempDir('bench-net');
  const hostServe = (p: number) => () =>
    finished(spawn(probe, ['serve', String(p)], { stdio: ['ignore', 'pipe', 'pipe'] }), 'host probe');
  try {
    let p = port();
    const umlLan = await pair(
      () =>
        kwbRun([
          '--kernel',
          kernel,
          ...share,
          '--net',
          `lan=${lan},ip=10.5.0.1/24`,
          '--',
          '/probe/net-probe',
          'serve',
          `${p}`,
        ]),
      () =>
        kwbRun([
          ...['--kernel', kernel, ...share, '--net', `lan=${lan},ip=10.5.0.2/24`],
          ...['--', '/probe/net-probe', 'send', '10.5.0.1', `${p}`, `${MIB}`],
        ]),
      'UML LAN',
    );
    p = port();
    const umlNat = await pair(
      hostServe(p),
      () =>
        kwbRun([
          '--kernel',
          kernel,
          ...share,
          '--net',
          'user',
          '--',
          '/probe/net-probe',
          'send',
          '10.0.2.2',
          `${p}`,
          `${MIB}`,
        ]),
      'UML user network',
    );
    // UML's own multicast transport, the alternative to kwb's plug (TTL 0: the frames stay on this host)
    p = port();
    const group = `239.192.${process.pid % 250}.1,${port()},0`;
    const mcast = (n: number) => ['--kernel', kernel, ...share, '--append', `eth0=mcast,02:6b:00:00:00:0${n},${group}`];
    const umlMcast = await pair(
      () => kwbRun([...mcast(1), '--', '/probe/net-probe', '--ip', '10.6.0.1/24', 'serve', `${p}`]),
      () =>
        kwbRun([...mcast(2), '--', '/probe/net-probe', '--ip', '10.6.0.2/24', 'send', '10.6.0.1', `${p}`, `${MIB}`]),
      'UML mcast',
    );
    // QEMU: the same probe as /init; guest-to-guest on a socket netdev, guest-to-host on its user network
    p = port();
    const socketPort = port();
    const qemuLan = await pair(
      () =>
        finished(
          qemu(
            image,
            initramfs,
            `console=ttyS0 quiet -- --ip 10.7.0.1/24 serve ${p}`,
            `socket,listen=127.0.0.1:${socketPort}`,
            join(tmp, 'server.console'),
          ),
          'QEMU server',
        ).then(() => ''),
      async () => {
        await new Promise((r) => setTimeout(r, 1000)); // the listening QEMU first
        const consoleFile = join(tmp, 'client.console');
        await finished(
          qemu(
            image,
            initramfs,
            `console=ttyS0 quiet -- --ip 10.7.0.2/24 send 10.7.0.1 ${p} ${MIB}`,
            `socket,connect=127.0.0.1:${socketPort}`,
            consoleFile,
          ),
          'QEMU client',
        );
        return readFileSync(consoleFile, 'latin1');
      },
      'QEMU socket netdev',
    );
    p = port();
    const qemuNat = await pair(
      hostServe(p),
      async () => {
        const consoleFile = join(tmp, 'nat.console');
        await finished(
          qemu(
            image,
            initramfs,
            `console=ttyS0 quiet -- --ip 10.0.2.15/24 send 10.0.2.2 ${p} ${MIB}`,
            'user',
            consoleFile,
          ),
          'QEMU user network',
        );
        return readFileSync(consoleFile, 'latin1');
      },
      'QEMU user network',
    );
    const mbps = (x: Probe, ref: Probe, name: string, note: string): BenchRow => ({
      name,
      value: x.mbps,
      unit: 'MB/s',
      reference: ref.mbps,
      ratio: x.mbps / ref.mbps,
      goal: '>= 1',
      note,
    });
    const rtt = (x: Probe, ref: Probe, name: string, note: string): BenchRow => ({
      name,
      value: x.rttUs,
      unit: 'us',
      reference: ref.rttUs,
      ratio: x.rttUs / ref.rttUs,
      goal: '<= 1',
      note,
    });
    const lanNote = `${MIB} MiB; ref: 2 QEMU riscv64 TCG guests, socket netdev`;
    const natNote = `${MIB} MiB to a host server on 127.0.0.1; ref: QEMU riscv64 TCG, user netdev (slirp)`;
    return [
      mbps(umlLan, qemuLan, 'net: TCP guest->guest, kwb LAN', lanNote),
      mbps(umlMcast, qemuLan, 'net: TCP guest->guest, UML mcast', `not used by kwb; ${lanNote}`),
      mbps(umlNat, qemuNat, 'net: TCP guest->host, --net user (passt)', natNote),
      rtt(umlLan, qemuLan, 'net: TCP round trip guest<->guest, kwb LAN', 'mean of 500 one-byte round trips'),
      rtt(umlMcast, qemuLan, 'net: TCP round trip guest<->guest, UML mcast', 'not used by kwb'),
      rtt(umlNat, qemuNat, 'net: TCP round trip guest<->host, --net user', 'mean of 500 one-byte round trips'),
    ];
  } finally {
    removeTempDir(tmp);
  }
}
