// DAP's variable handles (variablesReference) in gdb: a frame's scopes (locals, registers) and gdb varobjs, which
// expand lazily. Handles and varobjs live while the target is stopped; invalidate() drops them when it runs again.
import { Scope } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { MiVarobj } from './mi-results.js';
import type { FrameRef, GdbRuntime } from './runtime.js';

type Handle =
  { kind: 'scope'; scope: 'locals' | 'registers'; thread: number; frame: number } | { kind: 'varobj'; name: string };

/** DAP's frame id for a thread's frame level, and back. */
const FRAMES_PER_THREAD = 10000;
export function frameId(thread: number, level: number): number {
  return thread * FRAMES_PER_THREAD + level;
}
function frameOfId(id: number | undefined): FrameRef {
  return id === undefined
    ? { thread: 1, frame: 0 }
    : { thread: Math.floor(id / FRAMES_PER_THREAD), frame: id % FRAMES_PER_THREAD };
}

/** gdb's pseudo children of a C++ class ("public", ...) are not expressions */
const ACCESS_CHILD = /^(public|private|protected)$/;

export class Variables {
  private readonly handles = new Map<number, Handle>();
  private nextHandle = 1;
  /** varobjs created for an expression; their children go with them */
  private roots: string[] = [];
  /** a varobj's expression and frame, for what varobjs do not say (a char array's text, a watch on a field) */
  private readonly expressionOf = new Map<string, string>();
  private readonly frameOf = new Map<string, FrameRef>();
  /** the varobj of a parent's child, by parent name and child expression */
  private readonly childOf = new Map<string, string>();

  constructor(private readonly gdb: GdbRuntime) {}

  private handle(h: Handle): number {
    this.handles.set(this.nextHandle, h);
    return this.nextHandle++;
  }

  scopes(id: number): DebugProtocol.Scope[] {
    const { thread, frame } = frameOfId(id);
    return [
      new Scope('Locals', this.handle({ kind: 'scope', scope: 'locals', thread, frame }), false),
      new Scope('Registers', this.handle({ kind: 'scope', scope: 'registers', thread, frame }), true),
    ];
  }

  async variables(ref: number): Promise<DebugProtocol.Variable[]> {
    const h = this.handles.get(ref);
    if (h?.kind === 'scope' && h.scope === 'locals') {
      const out: DebugProtocol.Variable[] = [];
      for (const name of await this.gdb.frameVariables(h.thread, h.frame)) {
        const v = await this.createRoot(name, h).catch(() => undefined);
        if (v) out.push(await this.toDap(v, name));
      }
      return out;
    }
    if (h?.kind === 'scope') {
      const names = await this.gdb.registerNames();
      const numbers = names.flatMap((n, i) => (n ? [i] : []));
      return (await this.gdb.registerValues(h.thread, h.frame, numbers)).flatMap((r) => {
        const name = names[r.number];
        return name ? [{ name, value: r.value, variablesReference: 0 }] : [];
      });
    }
    if (h?.kind === 'varobj') {
      const parent = this.expressionOf.get(h.name);
      const out: DebugProtocol.Variable[] = [];
      for (const child of await this.gdb.varobjChildren(h.name)) {
        const exp = child.exp ?? child.name;
        this.childOf.set(`${h.name}\0${exp}`, child.name);
        const frame = this.frameOf.get(h.name);
        if (frame) this.frameOf.set(child.name, frame);
        if (parent !== undefined && !ACCESS_CHILD.test(exp))
          this.expressionOf.set(child.name, /^\d+$/.test(exp) ? `${parent}[${exp}]` : `(${parent}).${exp}`);
        out.push(await this.toDap(child, exp));
      }
      return out;
    }
    return [];
  }

  /** An expression (watch, hover) as a variable that expands like one. */
  async evaluate(expression: string, id: number | undefined): Promise<DebugProtocol.Variable> {
    return this.toDap(await this.createRoot(expression, frameOfId(id)), expression);
  }

  /** Set a local, a field or a register; returns the new value as gdb shows it. */
  async set(ref: number, name: string, value: string): Promise<string> {
    const h = this.handles.get(ref);
    if (h?.kind === 'scope' && h.scope === 'registers') {
      await this.gdb.evaluate(`$${name} = ${value}`, h);
      return value;
    }
    const varobj =
      h?.kind === 'varobj'
        ? this.childOf.get(`${h.name}\0${name}`)
        : h?.kind === 'scope'
          ? (await this.createRoot(name, h)).name
          : undefined;
    if (!varobj) throw new Error(`cannot set ${name}`);
    return this.gdb.assignVarobj(varobj, value);
  }

  /** The expression a data breakpoint on variable `name` (in container `ref`, if any) watches. */
  dataExpression(ref: number | undefined, name: string): string {
    const h = ref ? this.handles.get(ref) : undefined;
    if (h?.kind !== 'varobj') return name;
    const child = this.childOf.get(`${h.name}\0${name}`);
    return (child && this.expressionOf.get(child)) ?? `${this.expressionOf.get(h.name) ?? name}.${name}`;
  }

  /** The target runs on: handles and varobjs are stale. */
  async invalidate(): Promise<void> {
    this.handles.clear();
    this.expressionOf.clear();
    this.frameOf.clear();
    this.childOf.clear();
    const roots = this.roots;
    this.roots = [];
    await Promise.all(roots.map((n) => this.gdb.deleteVarobj(n).catch(() => {})));
  }

  private async createRoot(expression: string, at: FrameRef): Promise<MiVarobj> {
    const v = await this.gdb.createVarobj(expression, at.thread, at.frame);
    this.roots.push(v.name);
    this.expressionOf.set(v.name, expression);
    this.frameOf.set(v.name, { thread: at.thread, frame: at.frame });
    return v;
  }

  /** A DAP variable for a varobj, expandable when it has children. A char array shows as gdb prints it
   *  ("6.1.192\000..."), not as varobjs do ("[65]"). */
  private async toDap(v: MiVarobj, label: string): Promise<DebugProtocol.Variable> {
    const expression = this.expressionOf.get(v.name);
    let value = v.value;
    if (/^\[\d+\]$/.test(value) && v.type && /char \[\d+\]/.test(v.type) && expression)
      value = await this.gdb.evaluate(expression, this.frameOf.get(v.name)).catch(() => value);
    return {
      name: label,
      value,
      type: v.type,
      variablesReference: v.children > 0 ? this.handle({ kind: 'varobj', name: v.name }) : 0,
      evaluateName: expression,
      memoryReference: /^(0x[0-9a-f]+)/.exec(value)?.[1],
    };
  }
}
