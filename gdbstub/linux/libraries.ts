// Loaded modules as the debugger's shared libraries: gdb reads the list (qXfer:libraries-svr4:read, which gdb's
// GNU/Linux ABI asks for; qXfer:libraries:read for the others), loads each module's .ko (placed at the addresses
// the kernel gave its sections: kofile.ts) and resolves pending breakpoints in it. While a client is attached, kwb
// keeps internal breakpoints where the kernel finishes placing a module (do_init_module, before its init runs)
// and where it starts freeing one (free_module): a stop there is passed to the client as a library event only when
// the list changed since the client last read it, so gdb re-reads it and the guest runs on by itself.
import { xmlEscape } from '../packet.js';
import type { StopReason, Target } from '../target.js';
import { placeKo, type PlacedKo } from './kofile.js';
import { loadedModules, MODULES_REQUIRED, readModules, SECTIONS_REQUIRED } from './modules.js';
import type { Offsets } from './offsets.js';
import type { ReadMemory } from './tasks.js';

/** The host .ko of a loaded module (by its name as the kernel has it), if one can be found. */
export type ModuleFinder = (name: string) => string | undefined;

/** Where the kernel has placed a module and not started running it, and where it starts freeing one. */
export const EVENT_SYMBOLS = ['do_init_module', 'free_module'] as const;

export type LibraryFormat = 'svr4' | 'target';

interface Library {
  name: string;
  placed: PlacedKo;
  /** The struct module (svr4's lm: an id). */
  addr: bigint;
}

const hex = (n: bigint) => `0x${n.toString(16)}`;

export function librariesXml(format: LibraryFormat, libraries: Library[]): string {
  if (format === 'svr4') {
    // lmid (the linker namespace; 0: the default one) is required by gdb 13, which rejects the whole list without it
    return (
      '<library-list-svr4 version="1.0">' +
      libraries
        .map(
          (l) => `<library name="${xmlEscape(l.placed.file)}" lm="${hex(l.addr)}" l_addr="0x0" l_ld="0x0" lmid="0x0"/>`,
        )
        .join('') +
      '</library-list-svr4>'
    );
  }
  return (
    '<library-list>' +
    libraries
      .map(
        (l) =>
          `<library name="${xmlEscape(l.placed.file)}">` +
          l.placed.sections.map((a) => `<section address="${hex(a)}"/>`).join('') +
          '</library>',
      )
      .join('') +
    '</library-list>'
  );
}

export class ModuleLibraries {
  /** The list (module names and placements) the client last read. */
  private shown = '';
  private readonly armed = new Set<bigint>();
  private readonly events: bigint[];

  constructor(
    private readonly offsets: Offsets,
    private readonly read: ReadMemory,
    private readonly inner: Target,
    private readonly find: ModuleFinder,
  ) {
    this.events = EVENT_SYMBOLS.filter((s) => offsets.has(s)).map((s) => offsets.get(s));
  }

  /** Whether this kernel's modules can be listed with their sections. */
  static supported(offsets: Offsets): boolean {
    return [...MODULES_REQUIRED, ...SECTIONS_REQUIRED].every((k) => offsets.has(k));
  }

  private async libraries(): Promise<{ list: Library[]; signature: string }> {
    const modules = loadedModules(this.offsets, await readModules(this.offsets, this.read));
    const list: Library[] = [];
    for (const m of modules) {
      const ko = this.find(m.name);
      const placed = ko ? placeKo(ko, m.sections) : undefined;
      if (placed) list.push({ name: m.name, placed, addr: m.addr });
    }
    return { list, signature: modules.map((m) => `${m.name}@${hex(m.sections.get('.text') ?? m.addr)}`).join(' ') };
  }

  /** The list for the client, remembered as what it knows. */
  async xml(format: LibraryFormat): Promise<string> {
    const { list, signature } = await this.libraries();
    this.shown = signature;
    return librariesXml(format, list);
  }

  isEvent(pc: bigint | undefined): boolean {
    return pc !== undefined && this.armed.has(pc);
  }

  /** Whether the modules changed since the client last read the list. */
  async changed(): Promise<boolean> {
    return (await this.libraries()).signature !== this.shown;
  }

  /** Insert the internal breakpoints (those not inserted yet); `userHas` says where the client has its own. */
  async arm(kind: (addr: bigint) => Promise<number>, userHas: (addr: bigint) => boolean): Promise<void> {
    for (const addr of this.events) {
      if (this.armed.has(addr)) continue;
      if (userHas(addr) || (await this.inner.insertBreakpoint(0, addr, await kind(addr)))) this.armed.add(addr);
    }
  }

  /** Take one internal breakpoint out (to step over it), or all; the client's own stay. */
  async disarm(kind: (addr: bigint) => Promise<number>, userHas: (addr: bigint) => boolean, only?: bigint) {
    for (const addr of [...this.armed]) {
      if (only !== undefined && addr !== only) continue;
      this.armed.delete(addr);
      if (!userHas(addr)) await this.inner.removeBreakpoint(0, addr, await kind(addr)).catch(() => false);
    }
  }

  /** Whether kwb has a breakpoint of its own at `addr` (the client's insert or remove there must not reach the
   *  target, which keeps one breakpoint per address). */
  owns(addr: bigint): boolean {
    return this.armed.has(addr);
  }

  /** The client went: the next one starts with no modules known. */
  forgetClient(): void {
    this.shown = '';
  }
}

/** A stop at an internal breakpoint, shown to the client as a library event (T05 library:;). */
export function libraryStop(stop: StopReason): StopReason {
  return { ...stop, kind: 'signal', signal: 5, library: true, address: undefined };
}
