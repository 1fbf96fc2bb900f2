// A parser for gdb's machine interface (GDB/MI 3) output: one line in, one record out. It understands every record
// kind (result ^, exec *, status +, notify =, console ~, target @, log &, the (gdb) prompt), C-string escapes,
// nested tuples and lists, and never throws or loops on malformed input: a line it cannot read is 'unknown'.

export type MiValue = string | MiValue[] | MiTuple;
export interface MiTuple {
  [key: string]: MiValue;
}

export type MiRecord =
  | { kind: 'result'; token?: number; class: string; data: MiTuple }
  | { kind: 'exec' | 'status' | 'notify'; token?: number; class: string; data: MiTuple }
  | { kind: 'console' | 'target' | 'log'; text: string }
  | { kind: 'prompt' }
  | { kind: 'unknown'; line: string };

const ASYNC_KIND: Record<string, 'result' | 'exec' | 'status' | 'notify'> = {
  '^': 'result',
  '*': 'exec',
  '+': 'status',
  '=': 'notify',
};
const STREAM_KIND: Record<string, 'console' | 'target' | 'log'> = { '~': 'console', '@': 'target', '&': 'log' };

class Cursor {
  pos = 0;
  constructor(readonly text: string) {}
  peek(): string {
    return this.text[this.pos] ?? '';
  }
  done(): boolean {
    return this.pos >= this.text.length;
  }
}

class MiSyntaxError extends Error {}

/** A C string starting at the cursor's opening quote; gdb escapes with \n \t \" \\ and octal \ooo (UTF-8 bytes). */
function cString(c: Cursor): string {
  if (c.peek() !== '"') throw new MiSyntaxError('expected "');
  c.pos++;
  const bytes: number[] = [];
  const pushText = (s: string) => bytes.push(...Buffer.from(s, 'utf8'));
  while (!c.done()) {
    const ch = c.text[c.pos++]!;
    if (ch === '"') return Buffer.from(bytes).toString('utf8');
    if (ch !== '\\') {
      pushText(ch);
      continue;
    }
    const e = c.text[c.pos++];
    if (e === undefined) break;
    const simple: Record<string, number> = {
      n: 10,
      t: 9,
      r: 13,
      '"': 34,
      '\\': 92,
      a: 7,
      b: 8,
      f: 12,
      v: 11,
      e: 27,
      "'": 39,
    };
    if (e in simple) bytes.push(simple[e]!);
    else if (/[0-7]/.test(e)) {
      let digits = e;
      while (digits.length < 3 && /[0-7]/.test(c.peek())) digits += c.text[c.pos++];
      bytes.push(parseInt(digits, 8) & 0xff);
    } else pushText(e);
  }
  throw new MiSyntaxError('unterminated string');
}

function value(c: Cursor, depth: number): MiValue {
  if (depth > 64) throw new MiSyntaxError('too deep');
  const ch = c.peek();
  if (ch === '"') return cString(c);
  if (ch === '{') {
    c.pos++;
    const pairs: [string, MiValue][] = [];
    if (c.peek() === '}') {
      c.pos++;
      return {};
    }
    for (;;) {
      pairs.push(result(c, depth + 1));
      const sep = c.text[c.pos++];
      if (sep === '}') return toTuple(pairs);
      if (sep !== ',') throw new MiSyntaxError('expected , or }');
    }
  }
  if (ch === '[') {
    c.pos++;
    const list: MiValue[] = [];
    if (c.peek() === ']') {
      c.pos++;
      return list;
    }
    for (;;) {
      // a list holds values or results (name=value); results become one-key tuples
      if (c.peek() === '"' || c.peek() === '{' || c.peek() === '[') list.push(value(c, depth + 1));
      else {
        const [k, v] = result(c, depth + 1);
        list.push({ [k]: v });
      }
      const sep = c.text[c.pos++];
      if (sep === ']') return list;
      if (sep !== ',') throw new MiSyntaxError('expected , or ]');
    }
  }
  throw new MiSyntaxError(`unexpected ${ch || 'end of line'}`);
}

function result(c: Cursor, depth: number): [string, MiValue] {
  const start = c.pos;
  while (!c.done() && c.peek() !== '=') c.pos++;
  if (c.done()) throw new MiSyntaxError('expected =');
  const name = c.text.slice(start, c.pos);
  c.pos++;
  return [name, value(c, depth)];
}

/** gdb repeats a key within a tuple (e.g. bkpt= for each location of a multi-location breakpoint, frame= in
 *  some lists): a key seen more than once gets the list of its values. */
function toTuple(pairs: [string, MiValue][]): MiTuple {
  const t: MiTuple = {};
  const repeated = new Set<string>();
  for (const [k, v] of pairs) {
    if (!(k in t)) t[k] = v;
    else if (repeated.has(k)) (t[k] as MiValue[]).push(v);
    else {
      t[k] = [t[k]!, v];
      repeated.add(k);
    }
  }
  return t;
}

export function parseMiLine(line: string): MiRecord {
  const text = line.replace(/\r$/, '');
  if (/^\(gdb\)\s*$/.test(text)) return { kind: 'prompt' };
  const m = /^(\d*)([\^*+=~@&])/.exec(text);
  if (!m) return { kind: 'unknown', line: text };
  const c = new Cursor(text);
  c.pos = m[0].length;
  try {
    const stream = STREAM_KIND[m[2]!];
    if (stream) {
      if (m[1]) return { kind: 'unknown', line: text };
      const s = cString(c);
      return c.done() ? { kind: stream, text: s } : { kind: 'unknown', line: text };
    }
    const kind = ASYNC_KIND[m[2]!]!;
    const start = c.pos;
    while (!c.done() && c.peek() !== ',') c.pos++;
    const cls = text.slice(start, c.pos);
    if (!/^[a-z][\w-]*$/.test(cls)) return { kind: 'unknown', line: text };
    const pairs: [string, MiValue][] = [];
    while (!c.done()) {
      if (c.text[c.pos++] !== ',') throw new MiSyntaxError('expected ,');
      // gdb's MI2 quirk: a multi-location breakpoint's locations follow bkpt={...} as bare tuples
      if (c.peek() === '{' && pairs.length) pairs.push([pairs[pairs.length - 1]![0], value(c, 0)]);
      else pairs.push(result(c, 0));
    }
    const token = m[1] ? Number(m[1]) : undefined;
    return { kind, token, class: cls, data: toTuple(pairs) };
  } catch (err) {
    if (err instanceof MiSyntaxError) return { kind: 'unknown', line: text };
    throw err;
  }
}

/** Quote a string as a C string for an MI command argument. */
export function miQuote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** Accessors that tolerate missing or oddly shaped fields. */
export function str(v: MiValue | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function tuple(v: MiValue | undefined): MiTuple | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
}

export function list(v: MiValue | undefined): MiValue[] {
  if (Array.isArray(v)) return v;
  return v === undefined ? [] : [v];
}
