// The namespaces a UML guest runs in (engine/uml/confine.ts), with real unshare: the view laid out in the session
// dir, gdbserver's /proc of the namespaces' own processes, and their pids mapped back to the host's.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { confinedCommand, hostPid, namespacesRefused } from '../../../engine/uml/confine.js';

const refused = namespacesRefused();

describe('UML confinement', { skip: refused ? `unprivileged user namespaces refused: ${refused}` : false }, () => {
  const sessions: string[] = [];
  after(() => sessions.forEach((s) => rmSync(s, { recursive: true, force: true })));
  const file = join(mkdtempSync(join(tmpdir(), 'kwb-confine-file-')), 'bound.txt');
  writeFileSync(file, 'bound in\n');
  after(() => rmSync(join(file, '..'), { recursive: true, force: true }));

  /** Run `script` in the namespaces (outside the chroot, as gdbserver runs) until it prints `lines` lines. */
  function inNamespaces(
    t: TestContext,
    script: (session: string) => string,
    ownProc: boolean,
    lines: number,
  ): Promise<{ out: string[]; pid: number }> {
    const session = mkdtempSync(join(tmpdir(), 'kwb-confine-test-'));
    sessions.push(session);
    const [cmd, ...args] = confinedCommand(
      session,
      [{ host: file, at: 'dir/bound.txt', writable: false }],
      ['sh', '-c', script(session)],
      ownProc,
    );
    const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    t.after(() => child.kill('SIGKILL'));
    let out = '';
    return new Promise((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const got = out.split('\n').filter(Boolean);
        if (got.length >= lines) resolve({ out: got, pid: child.pid! });
      });
      child.once('exit', (code) => reject(new Error(`exited (${code}) after: ${out}`)));
    });
  }

  it("gives gdbserver a /proc of the namespaces' processes, whose pids map back to the host's", async (t) => {
    const { out, pid } = await inNamespaces(
      t,
      (session) => `echo $$; ls /proc | grep -c '^[0-9]'; cat ${session}/dir/bound.txt; exec sleep 30`,
      true,
      3,
    );
    const [nsPid, processes, bound] = out;
    assert.ok(Number(processes) <= 4, `the namespace's /proc lists ${processes} processes`);
    assert.equal(bound, 'bound in');
    const host = hostPid(pid, Number(nsPid));
    assert.ok(host !== undefined && host !== Number(nsPid), `namespace pid ${nsPid} maps to host pid ${host}`);
    // the shell prints before it execs sleep: on a busy machine the exec may not have happened yet
    const cmdline = () => readFileSync(`/proc/${host}/cmdline`, 'utf8');
    for (let i = 0; !cmdline().startsWith('sleep\0') && i < 100; i++) await new Promise((r) => setTimeout(r, 20));
    assert.match(cmdline(), /^sleep\0/);
  });

  it('without it, the host /proc stays (a plain guest needs none) and unknown pids map to nothing', async (t) => {
    const { out, pid } = await inNamespaces(t, () => `ls /proc | grep -c '^[0-9]'; exec sleep 30`, false, 1);
    assert.ok(Number(out[0]) > 4, `the host's /proc lists ${out[0]} processes`);
    assert.equal(hostPid(pid, 99999), undefined);
  });
});
