// `kwb lab`: several guests from one file (engine/lab.ts), on their LANs, each with its console and gdb port.
//   kwb lab up [--file F]        boot them all; their output here, one `name| ` prefix per line; Ctrl-C stops all
//   kwb lab down | status        from another terminal: stop the lab / list its guests
//   kwb lab console NAME         the guest's console in this terminal (Ctrl-A x leaves; the guest goes on)
//   kwb lab gdb NAME             gdb attached to the guest's gdb port
// `up` keeps a state dir (lab.json and one console socket per guest) in kwb's runtime dir, gone when it ends.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { bootGuest } from '../engine/boot.js';
import type { Guest } from '../engine/guest.js';
import { defaultKernel } from '../engine/kernel.js';
import { readLab, type Lab } from '../engine/lab.js';
import { makeTempDir, removeTempDir, runtimeDir } from '../engine/host.js';
import { ExitCode, KwbError, exitCodeFor, type GuestResult } from '../engine/results.js';
import { processAlive } from '../engine/sessions.js';
import { one, type OptionTable, type ParsedArgs } from './args.js';
import { describeResult } from './boot.js';
import { gdbCommand } from './gdb.js';
import { attachGdbStub } from './serve-gdb.js';
import { linkTerminal } from './terminal.js';

export const labOptions: OptionTable = {
  file: { value: 'FILE', help: 'the lab file, YAML or JSON (default: lab.yaml, lab.yml or lab.json here)' },
  action: {
    value: 'ACTION',
    choices: ['up', 'down', 'status', 'console', 'gdb'],
    help: 'up, down, status, console or gdb (also as the first word)',
  },
  guest: { value: 'NAME', help: 'the guest for console and gdb (also as the second word)' },
};

/** `kwb lab up` → `--action up`; `kwb lab console a` → `--action console --guest a`. */
export function labArgs(argv: string[]): string[] {
  const words: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i]!;
    if (w === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (w.startsWith('-')) {
      rest.push(w);
      if (w === '--file' && i + 1 < argv.length) rest.push(argv[++i]!);
    } else words.push(w);
  }
  const [action, guest, ...extra] = words;
  if (extra.length) throw new KwbError(`unexpected argument '${extra[0]}'`);
  return [...(action ? ['--action', action] : []), ...(guest ? ['--guest', guest] : []), ...rest];
}

interface LabState {
  file: string;
  pid: number;
  guests: { name: string; gdbPort?: number; state: string }[];
}

function labFile(args: ParsedArgs): string {
  const given = one(args, 'file');
  if (given) return resolve(given);
  const found = ['lab.yaml', 'lab.yml', 'lab.json'].find((f) => existsSync(f));
  if (!found) throw new KwbError('no lab.yaml, lab.yml or lab.json here; pass --file FILE');
  return resolve(found);
}

/** The state dir of the running `up` of this lab file, if any. */
function findRunning(file: string): { dir: string; state: LabState } | undefined {
  const parent = runtimeDir();
  for (const name of readdirSync(parent).filter((n) => n.startsWith(`kwb-lab-`))) {
    try {
      const state = JSON.parse(readFileSync(join(parent, name, 'lab.json'), 'utf8')) as LabState;
      if (state.file === file && processAlive(state.pid)) return { dir: join(parent, name), state };
    } catch {
      // not a lab dir, or being removed
    }
  }
  return undefined;
}

function running(file: string): { dir: string; state: LabState } {
  const found = findRunning(file);
  if (!found) throw new KwbError(`the lab ${file} is not up; start it with kwb lab up`);
  return found;
}

function guestOf(state: LabState, name: string | undefined): LabState['guests'][number] {
  if (!name) throw new KwbError('name a guest, e.g. kwb lab console NAME');
  const g = state.guests.find((x) => x.name === name);
  if (!g) throw new KwbError(`no guest '${name}' in this lab (${state.guests.map((x) => x.name).join(', ')})`);
  return g;
}

/** Every line of `stream` to stdout, prefixed with the guest's name. */
function prefixed(stream: NodeJS.ReadableStream, name: string, width: number): void {
  let partial = '';
  stream.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split(/\r?\n/);
    partial = lines.pop()!;
    for (const line of lines) process.stdout.write(`${name.padEnd(width)}| ${line}\n`);
  });
  stream.on('end', () => partial && process.stdout.write(`${name.padEnd(width)}| ${partial}\n`));
}

/** A unix socket relaying the guest's console: what it prints goes to every client, what a client types to it. */
function consoleServer(guest: Guest, path: string): Server {
  const clients = new Set<Socket>();
  const server = createServer((c) => {
    clients.add(c);
    c.on('data', (d) => guest.input.write(d));
    c.on('close', () => clients.delete(c));
    c.on('error', () => {});
  });
  const relay = (d: Buffer) => clients.forEach((c) => c.write(d));
  guest.output.on('data', relay);
  guest.command?.stdout.on('data', relay);
  guest.command?.stderr.on('data', relay);
  server.listen(path);
  server.on('close', () => clients.forEach((c) => c.destroy()));
  return server;
}

async function up(lab: Lab): Promise<number> {
  const dir = makeTempDir('lab');
  const state: LabState = {
    file: lab.file,
    pid: process.pid,
    guests: lab.guests.map((g) => ({ name: g.name, gdbPort: g.gdbPort, state: 'starting' })),
  };
  const save = () => writeFileSync(join(dir, 'lab.json'), JSON.stringify(state));
  save();
  const guests: Guest[] = [];
  let interrupted: string | undefined;
  const stopAll = (why: string) => {
    interrupted ??= why;
    guests.forEach((g) => void g.stop(why));
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const onSignal = (sig: NodeJS.Signals) => stopAll(`interrupted by ${sig}`);
  signals.forEach((s) => process.on(s, onSignal));
  const width = Math.max(...lab.guests.map((g) => g.name.length));
  const closers: (() => Promise<void>)[] = [];
  try {
    // one at a time: a guest that cannot start stops the lab before the next one boots
    for (const g of lab.guests) {
      if (interrupted) break;
      const guest = await bootGuest(g.boot).catch((err: unknown) => {
        throw err instanceof KwbError ? new KwbError(`guest ${g.name}: ${err.message}`, err.exitCode) : err;
      });
      guests.push(guest);
      for (const s of [guest.output, guest.command?.stdout, guest.command?.stderr]) if (s) prefixed(s, g.name, width);
      const server = consoleServer(guest, join(dir, `${g.name}.console`));
      closers.push(() => new Promise((r) => server.close(() => r())));
      if (g.gdbPort) {
        const stub = await attachGdbStub(guest, { host: '127.0.0.1', port: g.gdbPort }, false, () => {});
        closers.push(stub.close);
      }
      state.guests.find((x) => x.name === g.name)!.state = 'running';
      save();
      void guest.wait().then((result) => {
        state.guests.find((x) => x.name === g.name)!.state = `ended (${exitCodeFor(result)})`;
        save();
      });
    }
    process.stderr.write(`kwb: lab ${lab.name} is up: kwb lab status | console NAME | gdb NAME | down\n`);
    const results = await Promise.all(guests.map((g) => g.wait()));
    for (const [i, r] of results.entries()) {
      const message = describeResult(r);
      if (message) process.stderr.write(`${lab.guests[i]!.name}: ${message}\n`);
    }
    if (interrupted) return ExitCode.interrupted;
    return exitCodeFor(results.find((r: GuestResult) => exitCodeFor(r) !== 0) ?? { kind: 'exited', code: 0 });
  } catch (err) {
    stopAll('the lab could not start');
    await Promise.all(guests.map((g) => g.wait()));
    throw err;
  } finally {
    signals.forEach((s) => process.removeListener(s, onSignal));
    await Promise.all(closers.map((c) => c()));
    removeTempDir(dir);
  }
}

async function down(file: string): Promise<number> {
  const { dir, state } = running(file);
  process.kill(state.pid, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (existsSync(dir) && processAlive(state.pid)) {
    if (Date.now() > deadline) throw new KwbError(`the lab (kwb pid ${state.pid}) did not stop within 30 s`, 1);
    await new Promise((r) => setTimeout(r, 100));
  }
  return ExitCode.ok;
}

function status(file: string): number {
  const found = findRunning(file);
  if (!found) {
    process.stdout.write(`lab ${file}: down\n`);
    return 1;
  }
  process.stdout.write(`lab ${file}: up (kwb pid ${found.state.pid})\n`);
  for (const g of found.state.guests) {
    process.stdout.write(`  ${g.name}\t${g.state}${g.gdbPort ? `\tgdb 127.0.0.1:${g.gdbPort}` : ''}\n`);
  }
  return ExitCode.ok;
}

async function attachConsole(file: string, name: string | undefined): Promise<number> {
  const { dir, state } = running(file);
  guestOf(state, name);
  const socket = createConnection(join(dir, `${name}.console`));
  await new Promise<void>((res, rej) => {
    socket.once('connect', res);
    socket.once('error', (err) => rej(new KwbError(`cannot reach ${name}'s console: ${err.message}`, 1)));
  });
  const output = new PassThrough();
  socket.pipe(output);
  if (process.stdin.isTTY) {
    const link = linkTerminal(socket, output);
    await Promise.race([link.escaped, new Promise((r) => socket.once('close', r))]);
    link.restore();
  } else {
    output.pipe(process.stdout);
    // a reader that has seen enough (| head) ends the console, not kwb with EPIPE
    process.stdout.on('error', () => socket.destroy());
    process.stdin.pipe(socket, { end: false });
    await new Promise((r) => socket.once('close', r));
  }
  socket.destroy();
  return ExitCode.ok;
}

export async function labCommand(args: ParsedArgs): Promise<number> {
  const action = one(args, 'action');
  if (!action) throw new KwbError('give an action: kwb lab up|down|status|console NAME|gdb NAME');
  const file = labFile(args);
  switch (action) {
    case 'up': {
      if (findRunning(file)) throw new KwbError(`the lab ${file} is already up; kwb lab down first`);
      const lab = readLab(file, () => {
        const found = defaultKernel();
        if ('error' in found) throw new KwbError(found.error);
        return found.kernel;
      });
      return up(lab);
    }
    case 'down':
      return down(file);
    case 'status':
      return status(file);
    case 'console':
      return attachConsole(file, one(args, 'guest'));
    default: {
      const g = guestOf(running(file).state, one(args, 'guest'));
      if (!g.gdbPort) throw new KwbError(`guest ${g.name} has no gdb port; give it 'gdb: PORT' in the lab file`);
      return gdbCommand({
        options: new Map([['port', [String(g.gdbPort)]]]),
        flags: new Set(),
        rest: args.rest,
        help: false,
      });
    }
  }
}
