// The gdb process behind the adapter: MI commands with tokens in, records out. A command resolves with its
// ^done/^running/^connected data and rejects with gdb's ^error message; async records become events.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { parseMiLine, type MiRecord, type MiTuple } from './mi.js';

export class GdbError extends Error {}

interface Pending {
  resolve(data: MiTuple): void;
  reject(err: Error): void;
}

export interface GdbEvents {
  /** *stopped, *running */
  exec: [cls: string, data: MiTuple];
  /** =thread-created, =breakpoint-modified, ... */
  notify: [cls: string, data: MiTuple];
  /** console (~), target (@) and log (&) stream text */
  stream: [kind: 'console' | 'target' | 'log', text: string];
  exit: [code: number | null];
}

export class Gdb extends EventEmitter<GdbEvents> {
  private readonly proc: ChildProcess;
  private nextToken = 1;
  private readonly pending = new Map<number, Pending>();
  private partial = '';
  private exited = false;

  constructor(path: string, args: string[], cwd?: string) {
    super();
    this.proc = spawn(path, ['--interpreter=mi3', '-q', '-nx', ...args], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (chunk: Buffer) => this.feed(chunk.toString('utf8')));
    this.proc.stderr!.on('data', (chunk: Buffer) => this.emit('stream', 'log', chunk.toString('utf8')));
    this.proc.on('error', (err) => this.fail(new GdbError(`cannot run ${path}: ${err.message}`)));
    this.proc.on('exit', (code) => {
      this.fail(new GdbError('gdb exited'));
      this.emit('exit', code);
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  private fail(err: Error): void {
    this.exited = true;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private feed(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop()!;
    for (const line of lines) this.handle(parseMiLine(line));
  }

  private handle(record: MiRecord): void {
    switch (record.kind) {
      case 'result': {
        const p = record.token !== undefined ? this.pending.get(record.token) : undefined;
        if (!p) return;
        this.pending.delete(record.token!);
        if (record.class === 'error')
          p.reject(new GdbError(typeof record.data.msg === 'string' ? record.data.msg : 'gdb error'));
        else p.resolve(record.data);
        return;
      }
      case 'exec':
        this.emit('exec', record.class, record.data);
        return;
      case 'notify':
        this.emit('notify', record.class, record.data);
        return;
      case 'console':
      case 'target':
      case 'log':
        this.emit('stream', record.kind, record.text);
        return;
      default:
        return;
    }
  }

  /** Send an MI command (without token); resolves with the result record's data. */
  command(cmd: string): Promise<MiTuple> {
    if (this.exited) return Promise.reject(new GdbError('gdb is not running'));
    const token = this.nextToken++;
    return new Promise((resolve, reject) => {
      this.pending.set(token, { resolve, reject });
      this.proc.stdin!.write(`${token}${cmd}\n`);
    });
  }

  /** A CLI command through MI, its console output collected. */
  async console(cmd: string): Promise<string> {
    let out = '';
    const collect = (kind: string, text: string) => {
      if (kind === 'console') out += text;
    };
    this.on('stream', collect);
    try {
      await this.command(`-interpreter-exec console ${JSON.stringify(cmd)}`);
    } finally {
      this.off('stream', collect);
    }
    return out;
  }

  /** Ask gdb to leave; kill it if it does not. */
  async exit(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.command('-gdb-exit').catch(() => {});
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(timer);
  }
}
