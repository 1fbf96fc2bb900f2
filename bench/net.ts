// Guest networking throughput and latency: UML guests and kwb's rv64 machine on a kwb LAN and through kwb's libslirp
// NAT, against the same transfer between two QEMU riscv64 `virt` guests on a socket netdev (and one on QEMU's user
// network, libslirp too), in the same run. QEMU is the reference the issue names; this host has no KVM and no x86
// QEMU, so its guests run under TCG: for UML the comparison says what a kwb user gets against what QEMU gives on the
// same machine, not transport against transport; the rv64 rows run QEMU's very kernel and /init on kwb's machine.
// Every side runs one workload (net-probe.c, the same source built for each): a TCP stream (100 MiB; 10 MiB for rv64)
// 500 one-byte TCP round trips and 200 pings (ICMP echo: the peer guest's kernel answers, or the NAT's gateway,
// which libslirp answers itself in kwb and in QEMU alike). A UML row uses UML's own mcast transport, the alternative to kwb's plug. A
// transfer that fails gives a row with no figure that says why.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cacheDir } from '../engine/cache.js';
import { makeTempDir, removeTempDir } from '../engine/host.js';
import { fixtureTree, rv64Init } from '../test/helpers/fixtures.js';
import type { BenchRow } from './row.js';

const MIB = Number(process.env.KWB_BENCH_NET_MIB ?? 100);
/** The rv64 rows' transfer (kwb's rv64 machine is an interpreter: 100 MiB would take many minutes). */
const RV_MIB = Number(process.env.KWB_BENCH_NET_RV_MIB ?? 10);
const CLI = join(__dirname, '..', 'dist', 'cli.js');
const PROBE = join(__dirname, 'net-probe.c');

interface Probe {
  /** MB/s of the stream, the mean TCP round trip and the mean ping, in microseconds. */
  mbps: number;
  rttUs: number;
  pingUs: number;
}

function parseProbe(text: string, what: string): Probe {
  const stream = /probe: stream (\d+) bytes in (\d+) us/.exec(text);
  const rtt = /probe: rtt (\d+) \(x0\.1 us\)/.exec(text);
  const ping = /probe: ping (\d+) \(x0\.1 us\)/.exec(text);
  if (!stream || !rtt || !ping) throw new Error(`${what}: no probe results in:\n${text.slice(-1500)}`);
  return { mbps: Number(stream[1]) / Number(stream[2]), rttUs: Number(rtt[1]) / 10, pingUs: Number(ping[1]) / 10 };
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

/** A child's stdout and stderr once it ends; killed (and an error) past the timeout. */
function finished(child: ChildProcess, what: string, timeoutMs = 900_000): Promise<string> {
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

function kwb(args: string[]): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** What one transfer gave: its figures, or why it has none (the row then says so instead of ending the run). */
type Outcome = Probe | { failed: string };

/** A server and a client started together; the client's results. A client that fails takes its server down. */
async function pair(server: ChildProcess, client: () => Promise<string>, what: string): Promise<Outcome> {
  const served = finished(server, `${what} server`);
  try {
    const result = parseProbe(await client(), what);
    await served;
    return result;
  } catch (err) {
    server.kill('SIGTERM');
    await served.catch(() => undefined);
    const why = (err as Error).message;
    console.error(`bench net: ${why}`);
    return { failed: /probe: (.*) failed/.exec(why)?.[0] ?? why.split('\n')[0]! };
  }
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
  const rvTree = fixtureTree('riscv');
  const initramfs = rv64Init(rvTree, PROBE);
  const image = join(rvTree, 'arch/riscv/boot/Image');
  const probe = x86Probe(umlTree);
  const uml = (net: string[], probeArgs: string[]) =>
    kwb([
      'run',
      '--kernel',
      kernel,
      '--share',
      `${dirname(probe)}:/probe`,
      ...net,
      '--',
      '/probe/net-probe',
      ...probeArgs,
    ]);
  // kwb's rv64 machine boots the QEMU guests' kernel and /init; its --net addresses eth0 by the kernel's ip=
  const rv64 = (net: string[], probeArgs: string[]) =>
    kwb(['boot', '--kernel', image, '--initrd', initramfs, ...net, '--append', `-- ${probeArgs.join(' ')}`]);
  const hostServe = (p: number) => spawn(probe, ['serve', String(p)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lan = (n: number) => `bench${process.pid}-${n}`;
  const tmp = makeTempDir('bench-net');
  try {
    let p = port();
    const umlLan = await pair(
      uml(['--net', `lan=${lan(1)},ip=10.5.0.1/24`], ['serve', `${p}`]),
      () => finished(uml(['--net', `lan=${lan(1)},ip=10.5.0.2/24`], ['send', '10.5.0.1', `${p}`, `${MIB}`]), 'client'),
      'UML LAN',
    );
    p = port();
    const umlNat = await pair(
      hostServe(p),
      () => finished(uml(['--net', 'user'], ['send', '10.0.2.2', `${p}`, `${MIB}`]), 'client'),
      'UML user network',
    );
    // UML's own multicast transport, the alternative to kwb's plug (TTL 0: the frames stay on this host)
    p = port();
    const group = `239.192.${process.pid % 250}.1,${port()},0`;
    const mcast = (n: number) => ['--append', `eth0=mcast,02:6b:00:00:00:0${n},${group}`];
    const umlMcast = await pair(
      uml(mcast(1), ['--ip', '10.6.0.1/24', 'serve', `${p}`]),
      () => finished(uml(mcast(2), ['--ip', '10.6.0.2/24', 'send', '10.6.0.1', `${p}`, `${MIB}`]), 'client'),
      'UML mcast',
    );
    p = port();
    const rvLan = await pair(
      rv64(['--net', `lan=${lan(2)},ip=10.8.0.1/24`], ['serve', `${p}`]),
      () =>
        finished(rv64(['--net', `lan=${lan(2)},ip=10.8.0.2/24`], ['send', '10.8.0.1', `${p}`, `${RV_MIB}`]), 'client'),
      'rv64 LAN',
    );
    p = port();
    const rvNat = await pair(
      hostServe(p),
      () => finished(rv64(['--net', 'user'], ['send', '10.0.2.2', `${p}`, `${RV_MIB}`]), 'client'),
      'rv64 user network',
    );
    // QEMU: the same kernel and probe as /init; guest-to-guest on a socket netdev, guest-to-host on its user network
    const qemuRun = async (append: string, netdev: string, name: string): Promise<string> => {
      const consoleFile = join(tmp, `${name}.console`);
      await finished(qemu(image, initramfs, `console=ttyS0 quiet -- ${append}`, netdev, consoleFile), `QEMU ${name}`);
      return readFileSync(consoleFile, 'latin1');
    };
    const qemuLanFor = async (mib: number): Promise<Outcome> => {
      const q = port();
      const socketPort = port();
      const server = qemu(
        image,
        initramfs,
        `console=ttyS0 quiet -- --ip 10.7.0.1/24 serve ${q}`,
        `socket,listen=127.0.0.1:${socketPort}`,
        join(tmp, 'server.console'),
      );
      return pair(
        server,
        async () => {
          await new Promise((r) => setTimeout(r, 1000)); // the listening QEMU first
          return qemuRun(
            `--ip 10.7.0.2/24 send 10.7.0.1 ${q} ${mib}`,
            `socket,connect=127.0.0.1:${socketPort}`,
            'client',
          );
        },
        'QEMU socket netdev',
      );
    };
    const qemuNatFor = (mib: number): Promise<Outcome> => {
      const q = port();
      return pair(
        hostServe(q),
        () => qemuRun(`--ip 10.0.2.15/24 send 10.0.2.2 ${q} ${mib}`, 'user', 'nat'),
        'QEMU user',
      );
    };
    const qemuLan = await qemuLanFor(MIB);
    const qemuNat = await qemuNatFor(MIB);
    // the rv64 rows move less (kwb's machine interprets every instruction); their reference moves the same amount
    const qemuLanRv = RV_MIB === MIB ? qemuLan : await qemuLanFor(RV_MIB);
    const qemuNatRv = RV_MIB === MIB ? qemuNat : await qemuNatFor(RV_MIB);

    const row = (x: Outcome, ref: Outcome, name: string, kind: 'mbps' | 'rttUs' | 'pingUs', note: string): BenchRow => {
      const value = (o: Outcome) => ('failed' in o ? NaN : o[kind]);
      const failed = [x, ref].map((o) => ('failed' in o ? o.failed : undefined)).filter(Boolean);
      return {
        name,
        value: value(x),
        unit: kind === 'mbps' ? 'MB/s' : 'us',
        reference: value(ref),
        ratio: value(x) / value(ref),
        goal: kind === 'mbps' ? '>= 1' : '<= 1',
        note: failed.length ? `FAILED: ${failed.join('; ')}; ${note}` : note,
      };
    };
    const lanNote = (mib: number) => `${mib} MiB; ref: 2 QEMU riscv64 TCG guests, socket netdev`;
    const natNote = (mib: number) =>
      `${mib} MiB to a host server on 127.0.0.1; ref: QEMU riscv64 TCG, user netdev (slirp)`;
    const rtt = 'mean of 500 one-byte round trips';
    const ping = 'mean of 200 ICMP echoes';
    return [
      row(umlLan, qemuLan, 'net: TCP guest->guest, kwb LAN (UML)', 'mbps', lanNote(MIB)),
      row(umlMcast, qemuLan, 'net: TCP guest->guest, UML mcast', 'mbps', `not used by kwb; ${lanNote(MIB)}`),
      row(umlNat, qemuNat, 'net: TCP guest->host, --net user (UML)', 'mbps', natNote(MIB)),
      row(
        rvLan,
        qemuLanRv,
        'net: TCP guest->guest, kwb LAN (rv64)',
        'mbps',
        `same kernel and init; ${lanNote(RV_MIB)}`,
      ),
      row(rvNat, qemuNatRv, 'net: TCP guest->host, --net user (rv64)', 'mbps', natNote(RV_MIB)),
      row(umlLan, qemuLan, 'net: TCP round trip guest<->guest, kwb LAN (UML)', 'rttUs', rtt),
      row(umlMcast, qemuLan, 'net: TCP round trip guest<->guest, UML mcast', 'rttUs', `not used by kwb; ${rtt}`),
      row(umlNat, qemuNat, 'net: TCP round trip guest<->host, --net user (UML)', 'rttUs', rtt),
      row(rvLan, qemuLanRv, 'net: TCP round trip guest<->guest, kwb LAN (rv64)', 'rttUs', rtt),
      row(rvNat, qemuNatRv, 'net: TCP round trip guest<->host, --net user (rv64)', 'rttUs', rtt),
      row(umlLan, qemuLan, 'net: ping guest->guest, kwb LAN (UML)', 'pingUs', ping),
      row(umlNat, qemuNat, 'net: ping guest->gateway, --net user (UML)', 'pingUs', `${ping}; libslirp answers`),
      row(rvLan, qemuLanRv, 'net: ping guest->guest, kwb LAN (rv64)', 'pingUs', ping),
      row(rvNat, qemuNatRv, 'net: ping guest->gateway, --net user (rv64)', 'pingUs', `${ping}; libslirp answers`),
    ];
  } finally {
    removeTempDir(tmp);
  }
}
