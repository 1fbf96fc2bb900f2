// RISC-V 64 target description for gdb (features org.gnu.gdb.riscv.{cpu,fpu,csr,virtual}), with remote register
// numbers as gdb numbers them itself: x0-x31 0-31, pc 32, f0-f31 33-64, CSR n at 65 + n, the privilege level 4161.
// The `g` packet carries x0-x31 and pc; gdb reads the rest one by one with `p`, as it does from QEMU.

export const RV_PC = 32;
export const RV_FIRST_FP = 33;
export const RV_FIRST_CSR = 65;
export const RV_PRIV = RV_FIRST_CSR + 4096;

/** x0-x31 by their ABI names, in `g` packet order (the relay's expedited registers use them too). */
export const XREG_NAMES = [
  'zero',
  'ra',
  'sp',
  'gp',
  'tp',
  't0',
  't1',
  't2',
  'fp',
  's1',
  'a0',
  'a1',
  'a2',
  'a3',
  'a4',
  'a5',
  'a6',
  'a7',
  's2',
  's3',
  's4',
  's5',
  's6',
  's7',
  's8',
  's9',
  's10',
  's11',
  't3',
  't4',
  't5',
  't6',
];
const FREG_NAMES = [
  'ft0',
  'ft1',
  'ft2',
  'ft3',
  'ft4',
  'ft5',
  'ft6',
  'ft7',
  'fs0',
  'fs1',
  'fa0',
  'fa1',
  'fa2',
  'fa3',
  'fa4',
  'fa5',
  'fa6',
  'fa7',
  'fs2',
  'fs3',
  'fs4',
  'fs5',
  'fs6',
  'fs7',
  'fs8',
  'fs9',
  'fs10',
  'fs11',
  'ft8',
  'ft9',
  'ft10',
  'ft11',
];

/** The CSRs a kernel developer looks at (supervisor trap state, translation, machine state, counters). */
export const RV_CSRS: ReadonlyArray<readonly [name: string, csr: number]> = [
  ['sstatus', 0x100],
  ['sie', 0x104],
  ['stvec', 0x105],
  ['scounteren', 0x106],
  ['sscratch', 0x140],
  ['sepc', 0x141],
  ['scause', 0x142],
  ['stval', 0x143],
  ['sip', 0x144],
  ['satp', 0x180],
  ['mstatus', 0x300],
  ['misa', 0x301],
  ['medeleg', 0x302],
  ['mideleg', 0x303],
  ['mie', 0x304],
  ['mtvec', 0x305],
  ['mcounteren', 0x306],
  ['mscratch', 0x340],
  ['mepc', 0x341],
  ['mcause', 0x342],
  ['mtval', 0x343],
  ['mip', 0x344],
  ['cycle', 0xc00],
  ['time', 0xc01],
  ['instret', 0xc02],
  ['mvendorid', 0xf11],
  ['marchid', 0xf12],
  ['mimpid', 0xf13],
  ['mhartid', 0xf14],
];
/** fflags, frm and fcsr: CSRs 1-3, in the fpu feature, 32 bits wide. */
const FP_CSRS: ReadonlyArray<readonly [string, number]> = [
  ['fflags', 1],
  ['frm', 2],
  ['fcsr', 3],
];

/** Size in bytes of remote register `regno`, or undefined when the description has no such register. */
export function rvRegisterSize(regno: number): number | undefined {
  if (regno >= 0 && regno <= RV_FIRST_FP + 31) return 8;
  if (regno === RV_PRIV) return 8;
  const csr = regno - RV_FIRST_CSR;
  if (FP_CSRS.some(([, n]) => n === csr)) return 4;
  if (RV_CSRS.some(([, n]) => n === csr)) return 8;
  return undefined;
}

const reg = (name: string, regnum: number, bits: number, type: string, group?: string) =>
  `  <reg name="${name}" bitsize="${bits}" regnum="${regnum}" type="${type}"${group ? ` group="${group}"` : ''}/>`;

function riscv64Xml(): Record<string, string> {
  const cpu = [
    ...XREG_NAMES.map((n, i) => reg(n, i, 64, i === 1 ? 'code_ptr' : i === 2 || i === 8 ? 'data_ptr' : 'int')),
    reg('pc', RV_PC, 64, 'code_ptr'),
  ];
  const fpu = [
    ...FREG_NAMES.map((n, i) => reg(n, RV_FIRST_FP + i, 64, 'ieee_double', 'float')),
    ...FP_CSRS.map(([n, c]) => reg(n, RV_FIRST_CSR + c, 32, 'int', 'float')),
  ];
  const csr = RV_CSRS.map(([n, c]) => reg(n, RV_FIRST_CSR + c, 64, 'int', 'system'));
  const feature = (name: string, regs: string[]) =>
    `<?xml version="1.0"?>\n<!DOCTYPE feature SYSTEM "gdb-target.dtd">\n<feature name="org.gnu.gdb.riscv.${name}">\n${regs.join('\n')}\n</feature>\n`;
  return {
    'target.xml': [
      '<?xml version="1.0"?>',
      '<!DOCTYPE target SYSTEM "gdb-target.dtd">',
      '<target version="1.0">',
      '  <architecture>riscv:rv64</architecture>',
      '  <xi:include href="riscv-64bit-cpu.xml"/>',
      '  <xi:include href="riscv-64bit-fpu.xml"/>',
      '  <xi:include href="riscv-64bit-csr.xml"/>',
      '  <xi:include href="riscv-64bit-virtual.xml"/>',
      '</target>',
      '',
    ].join('\n'),
    'riscv-64bit-cpu.xml': feature('cpu', cpu),
    'riscv-64bit-fpu.xml': feature('fpu', fpu),
    'riscv-64bit-csr.xml': feature('csr', csr),
    'riscv-64bit-virtual.xml': feature('virtual', [reg('priv', RV_PRIV, 64, 'int', 'system')]),
  };
}

let cached: Record<string, string> | undefined;

/** The description file `annex` (target.xml and the features it includes). */
export function riscv64TargetXml(annex: string): string | undefined {
  cached ??= riscv64Xml();
  return cached[annex];
}
