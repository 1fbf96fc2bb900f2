// The SiFive test device of QEMU's virt machine (base 0x100000): a 32-bit write to offset 0 ends the machine.
//   0x5555 poweroff (pass), 0x7777 reset, 0x3333 | code << 16 fail with `code`.
// Linux drives it as a syscon with syscon-poweroff (0x5555) and syscon-reboot (0x7777) at offset 0.
import type { MmioDevice } from '../bus.js';

export const SYSCON_BASE = 0x100000;
export const SYSCON_SIZE = 0x1000;

export type PowerEvent = { kind: 'poweroff' | 'reset' | 'fail'; code: number };

const FINISHER_FAIL = 0x3333;
const FINISHER_PASS = 0x5555;
const FINISHER_RESET = 0x7777;

export class Syscon implements MmioDevice {
  readonly name = 'syscon';

  constructor(private readonly onPower: (event: PowerEvent) => void) {}

  load(): number {
    return 0;
  }

  store(offset: number, size: 1 | 2 | 4, value: number): void {
    if (offset !== 0 || size === 1) return;
    const status = value & 0xffff;
    if (status === FINISHER_PASS) this.onPower({ kind: 'poweroff', code: 0 });
    else if (status === FINISHER_RESET) this.onPower({ kind: 'reset', code: 0 });
    else if (status === FINISHER_FAIL) this.onPower({ kind: 'fail', code: size === 4 ? value >>> 16 : 0 });
  }
}
