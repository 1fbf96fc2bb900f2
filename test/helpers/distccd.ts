// Real distcc daemons on loopback ports, started and stopped by a test: a build farm on this machine.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOnPath } from '../../engine/which.js';

export const DISTCCD = findOnPath('distccd') ?? findOnPath('distccd', '/usr/sbin:/usr/bin');

export interface Daemon {
  port: number;
  log: string;
  /** The daemon's log so far. */
  read(): string;
}

/** A loopback port nothing listens on (just freed by the kernel): for a host that refuses connections. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** `count` distccd daemons allowing only 127.0.0.1; stop() ends them (and their preforked children). */
export class DistccFarm {
  readonly daemons: Daemon[] = [];
  private readonly children: ChildProcess[] = [];
  // distccd run as root drops to its own user, which must be able to write the logs
  private readonly dir = mkdtempSync(join(tmpdir(), 'kwb-distccd-'));

  async start(count: number): Promise<void> {
    chmodSync(this.dir, 0o777);
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      const log = join(this.dir, `distccd-${port}.log`);
      writeFileSync(log, '');
      chmodSync(log, 0o666);
      const args = ['--daemon', '--no-detach', '--allow', '127.0.0.1', '--listen', '127.0.0.1', '--port', String(port)];
      const child = spawn(DISTCCD!, [...args, '--log-file', log, '--log-level', 'info'], {
        detached: true, // a process group of its own: stop() ends the preforked children too
        stdio: 'ignore',
        env: { PATH: process.env.PATH, HOME: this.dir, TMPDIR: '/tmp' },
      });
      this.children.push(child);
      this.daemons.push({ port, log, read: () => readFileSync(log, 'utf8') });
      const deadline = Date.now() + 10_000;
      while (!(await answers(port))) {
        if (Date.now() > deadline) throw new Error(`distccd on port ${port} did not start; see ${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** The host list for DISTCC_HOSTS / --distcc, each host taking `limit` compiles at once. */
  hosts(limit = 2): string {
    return this.daemons.map((d) => `127.0.0.1:${d.port}/${limit}`).join(' ');
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            process.kill(-child.pid!, 'SIGTERM');
          }),
      ),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}
