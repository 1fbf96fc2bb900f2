// The adapter's gdb runtime (and the MI result parsing under it) against real gdb and gdbserver, on a small C program
// built here: every typed call, the stop events it emits and the ones it must not.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Breakpoints } from '../../../extension/adapter/breakpoints.js';
import { freePort } from '../../../extension/adapter/launch.js';
import type { MiStop } from '../../../extension/adapter/mi-results.js';
import { GdbRuntime } from '../../../extension/adapter/runtime.js';
import { frameId, Variables } from '../../../extension/adapter/variables.js';

const SOURCE = join(__dirname, '..', '..', 'fixtures', 'adapter-runtime.c');
const missing = ['gcc', 'gdb', 'gdbserver'].filter(
  (tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0,
);

/** The 1-based line of the first source line containing `text`. */
function lineOf(text: string): number {
  return (
    readFileSync(SOURCE, 'utf8')
      .split('\n')
      .findIndex((l) => l.includes(text)) + 1
  );
}

describe('gdb runtime', { skip: missing.length > 0 && `needs ${missing.join(', ')}`, timeout: 60_000 }, () => {
  let dir: string;
  let program: string;
  let server: ChildProcess;
  let gdb: GdbRuntime;
  const stops: MiStop[] = [];
  let exited: Promise<void>;

  /** The next stop event (none may be waiting). */
  const nextStop = () => new Promise<MiStop>((resolve) => gdb.once('stop', resolve));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kwb-runtime-'));
    program = join(dir, 'program');
    execFileSync('gcc', ['-O0', '-DNO_LINES', '-c', SOURCE, '-o', join(dir, 'no-lines.o')]);
    execFileSync('gcc', ['-g', '-O0', SOURCE, join(dir, 'no-lines.o'), '-o', program]);
    const port = await freePort();
    server = spawn('gdbserver', ['--once', `127.0.0.1:${port}`, program], { stdio: 'ignore' });
    gdb = new GdbRuntime({ path: 'gdb', args: [program] });
    gdb.on('stop', (s) => stops.push(s));
    exited = new Promise((resolve) => gdb.once('exit', resolve));
    await gdb.connect(`127.0.0.1:${port}`, 10);
  });
  after(() => {
    server.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('connects to a stopped target without a stop event', () => {
    assert.deepEqual(stops, []);
    assert.equal(gdb.isRunning, false);
  });

  it('places breakpoints: resolved, pending, with a condition; stops at one with its number and frame', async () => {
    const pending = await gdb.insertBreakpoint('no_such_function');
    assert.equal(pending.verified, false);
    await gdb.deleteBreakpoints([pending.number]);
    const bp = await gdb.insertBreakpoint('add', { condition: 'b == 1' });
    assert.equal(bp.verified, true);
    assert.equal(bp.line, lineOf('int sum = a + b;'));
    assert.match(bp.addr ?? '', /^0x[0-9a-f]+$/);
    const stop = nextStop();
    await gdb.continue();
    const hit = await stop;
    assert.equal(hit.reason, 'breakpoint');
    assert.equal(hit.bkptno, bp.number);
    assert.equal(hit.threadId, 1);
    assert.equal(hit.frame?.func, 'add');
    assert.equal(await gdb.evaluate('b'), '1');
    await gdb.deleteBreakpoints([bp.number]);
  });

  it("keeps DAP's breakpoints by kind: which kind a number is, log messages, a request replacing its kind only", async () => {
    const book = new Breakpoints();
    const [fn, nope] = await book.setFunction(gdb, [{ name: 'no_lines' }, { name: 'no_such_function' }]);
    assert.equal(fn!.verified, true);
    assert.equal(nope!.verified, false);
    const [log] = await book.setSource(gdb, SOURCE, [{ line: lineOf('counter += sum;'), logMessage: 'sum={sum}' }]);
    assert.equal(log!.line, lineOf('counter += sum;'));
    const [insn] = await book.setInstruction(gdb, [{ instructionReference: log!.instructionReference! }]);
    assert.equal(insn!.instructionReference, log!.instructionReference);
    const [data, bad] = await book.setData(gdb, [
      { dataId: 'counter', accessType: 'write' },
      { dataId: 'no_such_variable' },
    ]);
    assert.equal(data!.verified, true);
    assert.equal(bad!.verified, false);
    assert.match(bad!.message ?? '', /No symbol "no_such_variable"/);
    assert.deepEqual(
      [fn, log, insn, data].map((b) => book.kindOf(String(b!.id))),
      ['function', 'source', 'instruction', 'data'],
    );
    assert.equal(book.logMessageOf(String(log!.id)), 'sum={sum}');
    assert.equal(book.logMessageOf(String(fn!.id)), undefined);
    // a source request for another file leaves this file's breakpoints alone
    await book.setSource(gdb, join(dir, 'other.c'), []);
    assert.equal(book.kindOf(String(log!.id)), 'source');
    await book.setFunction(gdb, []);
    await book.setSource(gdb, SOURCE, []);
    await book.setInstruction(gdb, []);
    await book.setData(gdb, []);
    assert.equal(book.kindOf(String(log!.id)), undefined);
    assert.equal(book.logMessageOf(String(log!.id)), undefined);
    assert.match(await gdb.console('info breakpoints'), /^No breakpoints or watchpoints/);
  });

  it('reads threads, the stack and its depth', async () => {
    const threads = await gdb.threads();
    assert.deepEqual(
      threads.map((t) => t.id),
      [1],
    );
    assert.match(threads[0]!.targetId ?? '', /Thread|LWP|process/);
    const frames = await gdb.stack(1, 0, 10);
    assert.deepEqual(
      frames.map((f) => [f.level, f.func, f.file, f.line]),
      [
        [0, 'add', SOURCE, lineOf('int sum = a + b;')],
        [1, 'main', SOURCE, lineOf('total = add(total, i);')],
      ],
    );
    assert.equal(await gdb.stackDepth(1, 100), 2);
    assert.equal(await gdb.stackDepth(1, 1), 1);
  });

  it("lists a frame's variables, expands a struct through varobjs, assigns one, and reports gdb's errors", async () => {
    assert.deepEqual(await gdb.frameVariables(1, 0), ['a', 'b', 'sum']);
    assert.deepEqual(await gdb.frameVariables(1, 1), ['i', 'p', 'total']); // innermost block first
    const p = await gdb.createVarobj('p', 1, 1);
    assert.equal(p.type, 'struct point');
    assert.equal(p.exp, 'p');
    assert.equal(p.children, 3);
    const fields = await gdb.varobjChildren(p.name);
    assert.deepEqual(
      fields.map((f) => [f.exp, f.type, f.children]),
      [
        ['x', 'int', 0],
        ['y', 'int', 0],
        ['name', 'char [8]', 8],
      ],
    );
    assert.deepEqual(
      fields.slice(0, 2).map((f) => f.value),
      ['1', '2'],
    );
    assert.equal(await gdb.assignVarobj(fields[1]!.name, '5'), '5');
    const main = { thread: 1, frame: 1 };
    assert.equal(await gdb.evaluate('p.y', main), '5');
    assert.match(await gdb.evaluate('p.name', main), /^"hi(\\000)*"$/);
    await assert.rejects(gdb.evaluate('p'), /No symbol "p" in current context/); // the selected frame is add's
    await gdb.deleteVarobj(p.name);
    await assert.rejects(gdb.varobjChildren(p.name), /Variable object not found/);
    await assert.rejects(gdb.evaluate('no_such_variable'), /No symbol "no_such_variable" in current context/);
  });

  it("gives DAP variables of a frame's scopes, in that frame: a char array as text, a field set, a field watched", async () => {
    const vars = new Variables(gdb);
    const [locals, registers] = vars.scopes(frameId(1, 1));
    const variables = await vars.variables(locals!.variablesReference);
    assert.deepEqual(
      variables.map((v) => v.name),
      ['i', 'p', 'total'],
    );
    const p = variables[1]!;
    const fields = await vars.variables(p.variablesReference);
    assert.deepEqual(
      fields.map((f) => [f.name, f.evaluateName]),
      [
        ['x', '(p).x'],
        ['y', '(p).y'],
        ['name', '(p).name'],
      ],
    );
    // main's p, although the selected frame is add's
    assert.match(fields[2]!.value, /^"hi(\\000)*"$/);
    assert.equal(await vars.set(p.variablesReference, 'x', '7'), '7');
    assert.equal(await gdb.evaluate('p.x', { thread: 1, frame: 1 }), '7');
    assert.equal(vars.dataExpression(p.variablesReference, 'name'), '(p).name');
    assert.equal(vars.dataExpression(undefined, 'counter'), 'counter');
    const regs = await vars.variables(registers!.variablesReference);
    assert.ok(regs.some((r) => r.name === 'rip' && /^0x[0-9a-f]+$/.test(r.value)));
    await vars.invalidate();
    assert.deepEqual(await vars.variables(p.variablesReference), []);
  });

  it('reads registers by number, and memory; writes memory', async () => {
    const names = await gdb.registerNames();
    const rip = names.indexOf('rip');
    assert.ok(rip >= 0, names.slice(0, 20).join(' '));
    const [value] = await gdb.registerValues(1, 0, [rip]);
    assert.equal(value?.number, rip);
    assert.equal(BigInt(value!.value), BigInt((await gdb.evaluate('$pc')).split(' ')[0]!));
    const address = BigInt(/0x[0-9a-f]+/.exec(await gdb.evaluate('&counter'))![0]);
    await gdb.writeMemory(address, Buffer.from([0x78, 0x56, 0x34, 0x12]));
    assert.equal(await gdb.evaluate('counter'), String(0x12345678));
    assert.deepEqual(await gdb.readMemory(address, 4), Buffer.from([0x78, 0x56, 0x34, 0x12]));
    // nothing is mapped at 0: gdb reads no bytes (an error)
    await assert.rejects(gdb.readMemory(0n, 4));
  });

  it('steps over a line and out of the function, each with a step stop', async () => {
    let stop = nextStop();
    await gdb.next(1);
    assert.equal((await stop).reason, 'step');
    assert.equal((await gdb.stack(1, 0, 0))[0]!.line, lineOf('counter += sum;'));
    stop = nextStop();
    await gdb.finish(1);
    const out = await stop;
    assert.equal(out.reason, 'step');
    assert.equal(out.frame?.func, 'main');
    stop = nextStop();
    await gdb.step(1, true);
    assert.equal((await stop).reason, 'step');
  });

  it("stops on a watchpoint with the watchpoint's number", async () => {
    // software watchpoints: this host's x86 debug registers may not fire (nested virtualisation)
    await gdb.console('set can-use-hw-watchpoints 0');
    const wp = await gdb.insertWatchpoint('counter', 'write');
    assert.equal(wp.verified, true);
    const stop = nextStop();
    await gdb.continue();
    const hit = await stop;
    assert.equal(hit.reason, 'watchpoint');
    assert.equal(hit.bkptno, wp.number);
    await gdb.deleteBreakpoints([wp.number]);
  });

  it('pauses a running target; changes breakpoints while it runs without a stop event', async () => {
    const stop = nextStop();
    await gdb.continue();
    assert.equal(gdb.isRunning, true);
    await new Promise((r) => setTimeout(r, 200));
    await gdb.pause();
    assert.equal((await stop).reason, 'paused');
    await gdb.continue();
    const before = stops.length;
    const bp = await gdb.whileStopped(() => gdb.insertBreakpoint('no_lines'));
    assert.equal(gdb.isRunning, true);
    const hit = await nextStop();
    assert.equal(stops.length, before + 1, 'the stop made to change breakpoints is not an event');
    assert.equal(hit.reason, 'breakpoint');
    assert.equal(hit.bkptno, bp.number);
    assert.equal(hit.frame?.func, 'no_lines');
    assert.equal(hit.frame?.file, undefined);
  });

  it('disassembles code with and without source lines', async () => {
    const at = (text: string) => BigInt(/0x[0-9a-f]+/.exec(text)![0]);
    const noLines = await gdb.disassemble(
      at(await gdb.evaluate('&no_lines')),
      at(await gdb.evaluate('&no_lines')) + 8n,
    );
    assert.ok(noLines.length >= 2, JSON.stringify(noLines));
    assert.deepEqual(
      noLines.map((i) => [i.func, i.file, i.line]),
      noLines.map(() => ['no_lines', undefined, undefined]),
    );
    assert.equal(noLines[0]!.offset, '0');
    assert.match(noLines[0]!.opcodes ?? '', /^[0-9a-f]{2}( [0-9a-f]{2})*$/);
    const add = await gdb.disassemble(at(await gdb.evaluate('&add')), at(await gdb.evaluate('&add')) + 8n);
    assert.ok(add.length >= 2);
    assert.equal(add[0]!.file, SOURCE);
    assert.equal(add[0]!.line, lineOf('int add(int a, int b) {'));
    assert.match(await gdb.console('info line add'), /^Line \d+ of ".*adapter-runtime\.c"/);
  });

  it('ends: kills the target and gdb', async () => {
    await gdb.end('kill');
    await exited;
    await new Promise<void>((resolve) =>
      server.exitCode !== null || server.signalCode !== null ? resolve() : server.once('exit', () => resolve()),
    );
  });
});
