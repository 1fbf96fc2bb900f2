import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { miQuote, parseMiLine } from '../../../extension/adapter/mi.js';

describe('MI parser', () => {
  it('reads every record kind', () => {
    assert.deepEqual(parseMiLine('12^done,value="42"'), {
      kind: 'result',
      token: 12,
      class: 'done',
      data: { value: '42' },
    });
    assert.deepEqual(parseMiLine('^running'), { kind: 'result', token: undefined, class: 'running', data: {} });
    assert.deepEqual(parseMiLine('*stopped,reason="breakpoint-hit",bkptno="1",thread-id="1"'), {
      kind: 'exec',
      token: undefined,
      class: 'stopped',
      data: { reason: 'breakpoint-hit', bkptno: '1', 'thread-id': '1' },
    });
    assert.equal(parseMiLine('+download,{section=".text"}').kind, 'unknown'); // a status record needs name=value
    assert.equal(parseMiLine('+download,section=".text",section-size="1"').kind, 'status');
    assert.equal(parseMiLine('=thread-group-added,id="i1"').kind, 'notify');
    assert.deepEqual(parseMiLine('~"Hello\\n"'), { kind: 'console', text: 'Hello\n' });
    assert.deepEqual(parseMiLine('@"target says"'), { kind: 'target', text: 'target says' });
    assert.deepEqual(parseMiLine('&"warning: x\\n"'), { kind: 'log', text: 'warning: x\n' });
    assert.deepEqual(parseMiLine('(gdb) '), { kind: 'prompt' });
    assert.deepEqual(parseMiLine('(gdb)'), { kind: 'prompt' });
  });

  it('decodes C-string escapes, octal bytes as UTF-8', () => {
    const r = parseMiLine('^done,value="tab\\there \\"q\\" back\\\\slash \\303\\251t\\303\\251 \\000end"');
    assert.deepEqual(r, {
      kind: 'result',
      token: undefined,
      class: 'done',
      data: { value: 'tab\there "q" back\\slash été \u0000end' },
    });
  });

  it('reads nested tuples and lists, and lists of results', () => {
    const r = parseMiLine(
      '^done,stack=[frame={level="0",addr="0x1",func="f",args=[{name="a",value="1"}]},frame={level="1",func="g"}],empty={},none=[]',
    );
    assert.equal(r.kind, 'result');
    if (r.kind !== 'result') return;
    assert.deepEqual(r.data.stack, [
      { frame: { level: '0', addr: '0x1', func: 'f', args: [{ name: 'a', value: '1' }] } },
      { frame: { level: '1', func: 'g' } },
    ]);
    assert.deepEqual(r.data.empty, {});
    assert.deepEqual(r.data.none, []);
  });

  it('keeps every location of a multi-location breakpoint', () => {
    // as gdb 13 prints one for an inlined function
    const line =
      '^done,bkpt={number="1",type="breakpoint",disp="keep",enabled="y",addr="<MULTIPLE>",times="0",original-location="f"},{number="1.1",enabled="y",addr="0x10",func="f",line="3"},{number="1.2",enabled="y",addr="0x20",func="f",line="3"}';
    const r = parseMiLine(line);
    assert.equal(r.kind, 'result');
    if (r.kind !== 'result') return;
    const bkpt = r.data.bkpt as unknown as { number: string; addr?: string }[];
    assert.ok(Array.isArray(bkpt));
    assert.deepEqual(
      bkpt.map((b) => b.number),
      ['1', '1.1', '1.2'],
    );
    // and the mi3 form: locations in a list
    const mi3 = parseMiLine(
      '^done,bkpt={number="2",addr="<MULTIPLE>",locations=[{number="2.1",addr="0x10"},{number="2.2",addr="0x20"}]}',
    );
    assert.equal(mi3.kind, 'result');
    if (mi3.kind === 'result') assert.equal((mi3.data.bkpt as { locations: unknown[] }).locations.length, 2);
  });

  it('never throws or hangs on malformed input', () => {
    const bad = [
      '',
      '^',
      '^done,',
      '^done,a=',
      '^done,a="unterminated',
      '^done,a={b="1"',
      '^done,a=[1,2]',
      '~"x',
      '~noquote',
      '12~"streams have no token"',
      '^Done',
      '*stopped,=x',
      '^done,a="\\',
      '{[{[',
      '^done,' + 'a={'.repeat(5000),
      'random \u0000 bytes \uffff',
    ];
    for (const line of bad) {
      const t0 = Date.now();
      const r = parseMiLine(line);
      assert.ok(Date.now() - t0 < 100, line);
      assert.ok(['unknown', 'result'].includes(r.kind), `${line} -> ${r.kind}`);
    }
    // fuzz: random lines made of MI's own punctuation
    const alphabet = '^*+=~@&{}[]",=\\abc019\n';
    for (let i = 0; i < 5000; i++) {
      let s = '';
      for (let j = 0; j < 40; j++) s += alphabet[Math.floor(Math.random() * alphabet.length)];
      assert.doesNotThrow(() => parseMiLine(s));
    }
  });

  it('quotes arguments for MI commands', () => {
    assert.equal(miQuote('a "b" \\c\nd'), '"a \\"b\\" \\\\c\\nd"');
  });
});
