// DAP's breakpoints in gdb. Each set*Breakpoints request replaces all breakpoints of its kind (source ones: of its
// file); every kind goes through one path: DAP spec -> what to place in gdb -> gdb's numbers, kept so that the next
// request deletes them, a restart places them all again, and a stop can tell which kind it hit.
import { Breakpoint } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { MiBreakpoint } from './mi-results.js';
import type { GdbRuntime, WatchAccess } from './runtime.js';

export type BreakpointKind = 'source' | 'function' | 'data' | 'instruction';

/** What one DAP breakpoint is in gdb: code breakpoint at a location, or a watchpoint on an expression. */
type Placement =
  | { at: 'code'; location: string; condition?: string; hitCondition?: string; logMessage?: string }
  | { at: 'data'; expression: string; access: WatchAccess };

interface Group {
  kind: BreakpointKind;
  placements: Placement[];
  /** gdb's numbers of the placements that took */
  numbers: string[];
}

type Target = Pick<GdbRuntime, 'insertBreakpoint' | 'insertWatchpoint' | 'deleteBreakpoints'>;

/** DAP's hit condition ("3", ">= 3"): stop on that hit, i.e. pass over the ones before. */
function ignoreCount(hitCondition: string | undefined): number | undefined {
  const hits = Number(/\d+/.exec(hitCondition ?? '')?.[0]);
  return hits > 1 ? hits - 1 : undefined;
}

/** A code breakpoint with a DAP breakpoint's condition, hit condition and log message. */
function code(location: string, b: { condition?: string; hitCondition?: string; logMessage?: string }): Placement {
  return { at: 'code', location, condition: b.condition, hitCondition: b.hitCondition, logMessage: b.logMessage };
}

function place(gdb: Target, p: Placement): Promise<MiBreakpoint> {
  return p.at === 'code'
    ? gdb.insertBreakpoint(p.location, { condition: p.condition, ignoreCount: ignoreCount(p.hitCondition) })
    : gdb.insertWatchpoint(p.expression, p.access);
}

function toDap(bp: MiBreakpoint): DebugProtocol.Breakpoint {
  const dap: DebugProtocol.Breakpoint = new Breakpoint(bp.verified, bp.line);
  dap.id = Number(bp.number);
  if (bp.addr) dap.instructionReference = bp.addr;
  return dap;
}

function failed(err: Error): DebugProtocol.Breakpoint {
  const dap: DebugProtocol.Breakpoint = new Breakpoint(false);
  dap.message = err.message;
  return dap;
}

export class Breakpoints {
  /** by kind, source breakpoints by kind and file */
  private readonly groups = new Map<string, Group>();
  private readonly kinds = new Map<string, BreakpointKind>();
  private readonly logMessages = new Map<string, string>();

  setSource(gdb: Target, path: string, specs: DebugProtocol.SourceBreakpoint[]): Promise<DebugProtocol.Breakpoint[]> {
    return this.set(
      gdb,
      'source',
      path,
      specs.map((b) => code(`${path}:${b.line}`, b)),
    );
  }

  setFunction(gdb: Target, specs: DebugProtocol.FunctionBreakpoint[]): Promise<DebugProtocol.Breakpoint[]> {
    return this.set(
      gdb,
      'function',
      '',
      specs.map((b) => code(b.name, b)),
    );
  }

  setInstruction(gdb: Target, specs: DebugProtocol.InstructionBreakpoint[]): Promise<DebugProtocol.Breakpoint[]> {
    return this.set(
      gdb,
      'instruction',
      '',
      specs.map((b) => code(`*${BigInt(b.instructionReference) + BigInt(b.offset ?? 0)}`, b)),
    );
  }

  setData(gdb: Target, specs: DebugProtocol.DataBreakpoint[]): Promise<DebugProtocol.Breakpoint[]> {
    return this.set(
      gdb,
      'data',
      '',
      specs.map((b) => ({ at: 'data', expression: b.dataId, access: b.accessType ?? 'write' })),
    );
  }

  /** Which kind of breakpoint gdb's number `n` is, if it is one of these. */
  kindOf(n: string): BreakpointKind | undefined {
    return this.kinds.get(n);
  }

  /** A log point's message ({expression} parts to evaluate), if breakpoint `n` is one. */
  logMessageOf(n: string): string | undefined {
    return this.logMessages.get(n);
  }

  /** Place every breakpoint again, in a new gdb (after a restart). */
  async placeAgain(gdb: Target): Promise<void> {
    this.kinds.clear();
    this.logMessages.clear();
    for (const group of this.groups.values()) {
      group.numbers = [];
      await this.placeGroup(gdb, group);
    }
  }

  private async set(
    gdb: Target,
    kind: BreakpointKind,
    file: string,
    placements: Placement[],
  ): Promise<DebugProtocol.Breakpoint[]> {
    const key = `${kind}:${file}`;
    const old = this.groups.get(key);
    if (old) {
      await gdb.deleteBreakpoints(old.numbers).catch(() => {});
      for (const n of old.numbers) {
        this.kinds.delete(n);
        this.logMessages.delete(n);
      }
    }
    const group: Group = { kind, placements, numbers: [] };
    this.groups.set(key, group);
    return this.placeGroup(gdb, group);
  }

  private async placeGroup(gdb: Target, group: Group): Promise<DebugProtocol.Breakpoint[]> {
    const result: DebugProtocol.Breakpoint[] = [];
    for (const p of group.placements) {
      try {
        const bp = await place(gdb, p);
        group.numbers.push(bp.number);
        this.kinds.set(bp.number, group.kind);
        if (p.at === 'code' && p.logMessage !== undefined) this.logMessages.set(bp.number, p.logMessage);
        result.push(toDap(bp));
      } catch (err) {
        result.push(failed(err as Error));
      }
    }
    return result;
  }
}
