// UML calibrates its delay loop at every boot by watching jiffies tick, which costs tens of milliseconds of a boot
// that otherwise takes ~150 ms. The result (loops per jiffy) depends only on the host CPU and the kernel build, so
// kwb learns it on a kernel's first boot and presets it with `lpj=` on every later boot of that kernel here.
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { cacheDir, cacheKey } from '../cache.js';

/** The kernel's own report: "Calibrating delay loop... 7703.75 BogoMIPS (lpj=38518784)". */
const CALIBRATED = /Calibrating delay loop\.\.\. [\d.]+ BogoMIPS \(lpj=(\d+)\)/;

let cpuModel: string | undefined;

function hostCpu(): string {
  if (cpuModel === undefined) {
    try {
      cpuModel = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
    } catch {
      cpuModel = 'unknown';
    }
  }
  return cpuModel;
}

/** Where this kernel build's calibration on this host's CPU is kept. */
function cacheFile(kernel: string): string | undefined {
  try {
    const st = statSync(kernel);
    const key = [resolve(kernel), st.ino, st.size, st.mtimeMs, hostCpu()].join('\n');
    return cacheDir('uml-lpj', cacheKey(key));
  } catch {
    return undefined;
  }
}

/** The learned loops-per-jiffy of this kernel on this host, if an earlier boot reported it. */
export function presetLpj(kernel: string): number | undefined {
  const file = cacheFile(kernel);
  if (!file) return undefined;
  try {
    const lpj = Number.parseInt(readFileSync(file, 'utf8'), 10);
    return lpj > 0 ? lpj : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the user set the calibration themselves. */
export function userSetLpj(append: string[]): boolean {
  return append.some((arg) => arg.split(/\s+/).some((word) => word.startsWith('lpj=')));
}

/** Watches a boot's kernel messages (console output, or a dmesg dump kwb's init wrote) for the calibration. */
export class LpjLearner {
  private tail = '';
  private lpj?: number;

  constructor(private readonly kernel: string) {}

  feed(text: string): void {
    if (this.lpj !== undefined) return;
    this.tail = (this.tail + text).slice(-4096);
    const match = CALIBRATED.exec(this.tail);
    if (match) this.lpj = Number(match[1]);
  }

  /** Remember what was learned; `kmsgFile` is the dmesg dump of a boot whose console hid the message. */
  save(kmsgFile?: string): void {
    if (this.lpj === undefined && kmsgFile) {
      try {
        this.feed(readFileSync(kmsgFile, 'utf8'));
      } catch {
        return; // the guest did not get that far
      }
    }
    const file = cacheFile(this.kernel);
    if (this.lpj === undefined || !file) return;
    try {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(`${file}.${process.pid}`, `${this.lpj}\n`);
      renameSync(`${file}.${process.pid}`, file);
    } catch {
      // a read-only cache only costs the calibration next time
    }
  }
}
