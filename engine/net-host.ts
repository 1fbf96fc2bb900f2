// A guest's network on the host, for either engine: kwb's plug (uml/net-plug.c) takes each interface's frames (UML
// by its `daemon` transport, uml_switch's protocol; the rv64 machine by one stream per interface) and carries them to
// kwb's libslirp NAT (`user`, uml/net-slirp.c) or to the LAN's other plugs, and records them (--pcap). Nothing here
// needs privileges or creates a host interface.
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { lstatSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { killGroup, runtimeDir, spawnGroup } from './host.js';
import type { HostForward, NetSetup, NetSpec } from './net.js';
import { USER_NET } from './net.js';
import { ExitCode, KwbError } from './results.js';
import { compiledHelper } from './uml/cc.js';

export interface HostNetwork {
  /** Each interface's control socket, in the order of the --net options: where the guest's side connects. */
  controls: string[];
  /** Stop the plug and the NAT; resolves when they are gone and their sockets removed. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;

/** The directory of LAN NAME: every plug on the LAN has its socket there. Per user, private to them. */
export function lanDir(name: string): string {
  const base = join(runtimeDir(), `kwb-lan-${process.getuid?.() ?? 0}`);
  mkdirSync(base, { recursive: true, mode: 0o700 });
  const st = lstatSync(base);
  if (!st.isDirectory() || st.uid !== process.getuid?.() || (st.mode & 0o077) !== 0) {
    throw new KwbError(`${base} is not a private directory of yours; remove it`, ExitCode.couldNotTest);
  }
  return join(base, name);
}

function describe(f: HostForward): string {
  return `hostfwd=${f.proto}:${f.hostAddr}:${f.hostPort}:${f.guestPort}`;
}

/** A forward's host port must be free before anything starts (the NAT would refuse it later, with less said). */
async function checkPortFree(f: HostForward): Promise<void> {
  const busy = await new Promise<string | undefined>((resolve) => {
    if (f.proto === 'udp') {
      const s = createSocket('udp4');
      s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      s.bind(f.hostPort, f.hostAddr, () => s.close(() => resolve(undefined)));
      return;
    }
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    server.listen({ port: f.hostPort, host: f.hostAddr, exclusive: true }, () =>
      server.close(() => resolve(undefined)),
    );
  });
  if (!busy) return;
  const why = busy === 'EADDRINUSE' ? 'is in use' : `cannot be bound (${busy})`;
  throw new KwbError(`--net user,${describe(f)}: ${f.proto} port ${f.hostPort} on ${f.hostAddr} ${why}; pick another`);
}

/** Resolves when `text` matches what the child wrote to `stream`; rejects with its last words if it ends first. */
function waitFor(child: ChildProcess, stream: 'stdout' | 'stderr', text: RegExp, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let said = '';
    let errors = '';
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new KwbError(`${what}: ${why}`, ExitCode.couldNotTest));
    };
    const timer = setTimeout(() => fail('did not start within 10 s'), START_TIMEOUT_MS);
    child[stream]!.on('data', (chunk: Buffer) => {
      said += chunk.toString();
      if (text.test(said)) {
        clearTimeout(timer);
        resolve();
      }
    });
    if (stream !== 'stderr') child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.once('error', (err) => fail(err.message));
    child.once('exit', (code) => {
      const last = (errors || said).trim().split('\n').filter(Boolean).at(-1);
      fail(last ?? `exit status ${code}`);
    });
  });
}

function ended(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => child.once('exit', () => r()));
}

let natBuild: { path: string } | { error: string } | undefined;

/** kwb's NAT helper, compiled against libslirp on first use; or what to install for it. Decided once per process:
 *  checkNetwork and startNetwork both need it. */
function compileNat(): { path: string } | { error: string } {
  if (natBuild) return natBuild;
  const nat = compiledHelper('net-slirp.c', 'net-slirp', '', { before: ['-O2'], after: ['-lslirp'] });
  natBuild = 'error' in nat ? { error: `install libslirp-dev and a C compiler (scripts/setup.sh): ${nat.error}` } : nat;
  return natBuild;
}

/** Why `--net user` cannot work on this host (for kwb doctor), or undefined. */
export function natProblem(): string | undefined {
  const nat = compileNat();
  return 'error' in nat ? nat.error : undefined;
}

function natHelper(): string {
  const nat = compileNat();
  if ('error' in nat) throw new KwbError(`--net user needs kwb's NAT helper: ${nat.error}`);
  return nat.path;
}

function startNat(socket: string, forwards: HostForward[]): ChildProcess & { pid: number } {
  const u = USER_NET;
  const args = [socket, `${u.address}/${u.prefix}`, u.gateway, u.dns];
  for (const f of forwards) args.push('--hostfwd', `${f.proto}:${f.hostAddr}:${f.hostPort}:${f.guestPort}`);
  // stdin open while kwb lives: the NAT ends with it even if the plug never connected
  return spawnGroup(natHelper(), args, { stdio: ['pipe', 'pipe', 'pipe'] });
}

/** What can be checked before anything starts: the NAT helper builds for a user network, its forwards' ports are
 *  free. */
export async function checkNetwork(nets: readonly NetSpec[]): Promise<void> {
  const user = nets.find((n) => n.kind === 'user');
  if (user) natHelper();
  for (const f of user?.forwards ?? []) await checkPortFree(f);
}

/**
 * Start the guest's network (after checkNetwork): the NAT for a `user` interface, the plug for all of them. `session`
 * is the guest's session directory (the plug's control sockets go in it). A `stream` guest (rv64) connects to each
 * control socket and exchanges length-prefixed frames on it; otherwise the guest is UML and speaks `daemon`.
 */
export async function startNetwork(o: {
  nets: readonly NetSpec[];
  setups: readonly NetSetup[];
  pcap?: string;
  session: string;
  stream: boolean;
}): Promise<HostNetwork> {
  const plug = compiledHelper('net-plug.c', 'net-plug', '', { before: ['-O2'], after: [] });
  if ('error' in plug) throw new KwbError(`${plug.error} (install gcc, or run kwb doctor)`, ExitCode.couldNotTest);

  const dir = join(o.session, 'net');
  mkdirSync(dir, { recursive: true });
  let nat: (ChildProcess & { pid: number }) | undefined;
  let plugChild: (ChildProcess & { pid: number }) | undefined;
  const stop = async () => {
    const children = [plugChild, nat].filter((c) => c !== undefined);
    const grace = setTimeout(() => children.forEach((c) => killGroup(c.pid, 'SIGKILL')), 3000);
    // the plug removes its sockets when its stdin closes; the NAT ends when the plug is gone, or its own stdin closes
    plugChild?.stdin?.end();
    if (plugChild) await ended(plugChild);
    nat?.stdin?.end();
    await Promise.all(children.map(ended));
    clearTimeout(grace);
  };
  try {
    const plugArgs: string[] = [...(o.stream ? ['--stream'] : []), ...(o.pcap ? ['--pcap', o.pcap] : [])];
    const controls: string[] = [];
    for (const [i, net] of o.nets.entries()) {
      const setup = o.setups[i]!;
      const ctl = join(dir, `${setup.device}.ctl`);
      if (net.kind === 'user') {
        const socket = join(dir, 'nat.sock');
        nat = startNat(socket, net.forwards);
        await waitFor(nat, 'stdout', /^ready$/m, "kwb's user-mode NAT (libslirp)");
        plugArgs.push('--user', ctl, socket);
      } else {
        plugArgs.push('--lan', ctl, lanDir(net.name));
      }
      controls.push(ctl);
    }
    plugChild = spawnGroup(plug.path, plugArgs, { stdio: ['pipe', 'pipe', 'pipe'] });
    await waitFor(plugChild, 'stdout', /^ready$/m, "kwb's network plug");
    return { controls, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
