// The kernel-aware layer arriving while clients are served: when the stub switches to it, and what a client sees
// before. Over real TCP against the stub, with in-memory targets standing for the plain and the kernel-aware view.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { startGdbStub } from '../../../gdbstub/index.js';
import { DeferredLinuxTarget } from '../../../gdbstub/linux/deferred.js';
import type { Upgrade } from '../../../gdbstub/linux/deferred.js';
import type { StopReason } from '../../../gdbstub/target.js';
import { MemTarget, RawClient, tick } from '../../helpers/gdbstub-fake.js';

/** Stands for the kernel-aware view: every stop is on thread 0x64 (a pid), not the CPU's thread 1. */
class TasksView extends MemTarget {
  override lastStop(): StopReason {
    return { ...super.lastStop(), thread: 0x64 };
  }
}

function manual<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

async function serve(t: TestContext, upgrade: Promise<Upgrade | undefined>, warnings: unknown[] = []) {
  const target = new DeferredLinuxTarget(new MemTarget(), upgrade, (err) => warnings.push(err));
  const stub = await startGdbStub(target, { port: 0, waitGdb: true });
  t.after(() => stub.close());
  const connect = async () => {
    const c = await RawClient.connect(stub.port);
    t.after(() => c.close());
    return c;
  };
  return { target, connect };
}

const monitor = async (c: RawClient, cmd: string) =>
  Buffer.from(await c.request('qRcmd,' + Buffer.from(cmd).toString('hex')), 'hex').toString();

describe('gdbstub: kernel awareness that arrives later', () => {
  it('switches before any client looks when it is ready first', async (t) => {
    const { target, connect } = await serve(
      t,
      Promise.resolve(async () => new TasksView()),
    );
    assert.equal(await target.ready, true);
    const c = await connect();
    assert.equal(await c.request('?'), 'T05thread:64;');
  });

  it('a client that has looked keeps its view until the next stop; ps says it is not ready yet', async (t) => {
    const upgrade = manual<Upgrade | undefined>();
    const { target, connect } = await serve(t, upgrade.promise);
    const c = await connect();
    assert.equal(await c.request('?'), 'T05thread:1;');
    assert.match(await monitor(c, 'ps'), /not known yet/);
    assert.equal(await monitor(c, 'fake-cmd'), 'fake output\n'); // the plain target's own commands work
    upgrade.resolve(async () => new TasksView());
    await tick();
    assert.equal(await c.request('?'), 'T05thread:1;'); // unchanged under the client's feet
    assert.equal(await c.request('vCont;s:1'), 'T05thread:64;'); // the next stop is the kernel-aware one's
    assert.equal(await target.ready, true);
  });

  it('holds a stop that comes while the debug info is read, and reports it in the kernel-aware view', async (t) => {
    const upgrade = manual<Upgrade | undefined>();
    const { connect } = await serve(t, upgrade.promise);
    const c = await connect();
    assert.equal(await c.request('?'), 'T05thread:1;');
    let reply: string | undefined;
    const stepped = c.request('vCont;s:1').then((r) => (reply = r));
    await tick();
    assert.equal(reply, undefined); // the inner target stopped, but its stop waits for the kernel's tasks
    upgrade.resolve(async () => new TasksView());
    await stepped;
    assert.equal(reply, 'T05thread:64;');
  });

  it('a stop held for learning that fails is reported as it was', async (t) => {
    const upgrade = manual<Upgrade | undefined>();
    const { connect } = await serve(t, upgrade.promise);
    const c = await connect();
    const stepped = c.request('vCont;s:1');
    await tick();
    upgrade.resolve(undefined);
    assert.equal(await stepped, 'T05thread:1;');
  });

  it('switches when the client that looked goes, before the next one looks', async (t) => {
    const upgrade = manual<Upgrade | undefined>();
    const { connect } = await serve(t, upgrade.promise);
    const first = await connect();
    assert.equal(await first.request('?'), 'T05thread:1;');
    upgrade.resolve(async () => new TasksView());
    await tick();
    assert.equal(await first.request('D'), 'OK');
    await first.waitClosed();
    const second = await connect();
    assert.equal(await second.request('?'), 'T02thread:64;'); // stopped for it, in the kernel-aware view
  });

  it('offers range stepping when the inner target does, before and after the switch, and passes the range on', async (t) => {
    const inner = Object.assign(new MemTarget(), { rangeStepping: true });
    const upgrade = manual<Upgrade | undefined>();
    const target = new DeferredLinuxTarget(inner, upgrade.promise, () => {});
    const stub = await startGdbStub(target, { port: 0, waitGdb: true });
    t.after(() => stub.close());
    const c = await RawClient.connect(stub.port);
    t.after(() => c.close());
    assert.equal(await c.request('vCont?'), 'vCont;c;C;s;S;t;r');
    const stepped = c.request('vCont;r1100,1180:1');
    await tick();
    assert.deepEqual(inner.resumes.at(-1)?.range, { start: 0x1100n, end: 0x1180n });
    upgrade.resolve(async () => inner);
    assert.match(await stepped, /^T05/);
    assert.match(await c.request('vCont;s:1'), /^T05/);
    assert.equal(await c.request('vCont?'), 'vCont;c;C;s;S;t;r');
  });

  it('offering libraries, the guest runs only through the kernel-aware target: a resume waits for learning', async (t) => {
    const inner = new MemTarget();
    const upgrade = manual<Upgrade | undefined>();
    const aware = new TasksView();
    const target = new DeferredLinuxTarget(inner, upgrade.promise, () => {}, true);
    const stub = await startGdbStub(target, { port: 0, waitGdb: true });
    t.after(() => stub.close());
    const c = await RawClient.connect(stub.port);
    t.after(() => c.close());
    assert.equal(
      await c.request('qXfer:libraries-svr4:read::0,1000'),
      'l<library-list-svr4 version="1.0"></library-list-svr4>',
    );
    const stepped = c.request('vCont;s:1');
    await tick();
    assert.equal(inner.resumes.length, 0); // a module loaded now would be missed
    upgrade.resolve(async () => aware);
    assert.match(await stepped, /^T05/);
    assert.equal(inner.resumes.length, 0);
    assert.equal(aware.resumes.length, 1); // the step went through the kernel-aware target
  });

  it('offering libraries, an interrupt while a resume waits for learning stops the guest where it was', async (t) => {
    const inner = new MemTarget();
    const upgrade = manual<Upgrade | undefined>();
    const target = new DeferredLinuxTarget(inner, upgrade.promise, () => {}, true);
    const stub = await startGdbStub(target, { port: 0, waitGdb: true });
    t.after(() => stub.close());
    const c = await RawClient.connect(stub.port);
    t.after(() => c.close());
    assert.equal(await c.request('?'), 'T05thread:1;');
    const continued = c.request('vCont;c');
    await tick();
    c.raw('\x03');
    await tick();
    upgrade.resolve(async () => new TasksView());
    assert.equal(await continued, 'T02thread:64;');
    assert.equal(inner.resumes.length, 0);
  });

  it('offering libraries, a guest let run with no client is not held up by learning', async () => {
    const inner = new MemTarget();
    const upgrade = manual<Upgrade | undefined>();
    const target = new DeferredLinuxTarget(inner, upgrade.promise, () => {}, true);
    const running = target.resume({ step: false });
    await tick();
    assert.equal(inner.resumes.length, 1);
    target.interrupt();
    upgrade.resolve(undefined); // the stop is held until learning ends
    assert.equal((await running).kind, 'interrupt');
  });

  it('stays plain when the kernel-aware target cannot be made, with one warning', async (t) => {
    const warnings: unknown[] = [];
    const { target, connect } = await serve(
      t,
      Promise.resolve(async () => {
        throw new Error('no task list');
      }),
      warnings,
    );
    assert.equal(await target.ready, false);
    assert.equal(warnings.length, 1);
    const c = await connect();
    assert.equal(await c.request('?'), 'T05thread:1;');
    assert.match(await monitor(c, 'ps'), /unknown monitor command/);
  });
});
