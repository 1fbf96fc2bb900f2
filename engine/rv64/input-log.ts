// The host's input to a machine that is not debugged, stamped with the instruction count at which the machine took
// it, for a recording file (`kwb boot --record FILE`). It keeps no history to go back through (that is recording.ts,
// for a debugged guest): only what a replay of the run from its start needs besides the start itself.
import type { HostInput, Machine, RunObserver } from './machine.js';
import type { StampedInput } from './recording.js';

export class InputLog implements RunObserver {
  readonly inputs: StampedInput[] = [];
  /** Input that came between input points: given (and logged) at the next one. */
  private held: HostInput[] = [];
  readonly live = true;

  constructor(private readonly machine: Machine) {
    machine.observer = this;
  }

  hostInput(input: HostInput): void {
    this.held.push(input);
  }

  nextStop(): number {
    return this.held.length ? this.machine.cpu.retired() : Infinity;
  }

  atInputPoint(): void {
    const at = this.machine.cpu.retired();
    for (const input of this.held) {
      this.inputs.push({ at, input });
      this.machine.give(input);
    }
    this.held = [];
  }
}
