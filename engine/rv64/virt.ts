// The memory map of QEMU's `virt` machine (hw/riscv/virt.c), so one kernel config boots under kwb and under QEMU,
// and the device tree that describes it to the kernel (or to OpenSBI, which passes it on).
import { CLINT_BASE, CLINT_SIZE } from './devices/clint.js';
import { PLIC_BASE, PLIC_SIZE } from './devices/plic.js';
import { SYSCON_BASE, SYSCON_SIZE } from './devices/syscon.js';
import { UART_BASE, UART_IRQ, UART_SIZE } from './devices/uart16550.js';
import { VIRTIO_MMIO_BASE, VIRTIO_MMIO_IRQ, VIRTIO_MMIO_SIZE, VIRTIO_MMIO_SLOTS } from './devices/virtio-mmio.js';
import { buildFdt, cells64, type FdtNode } from './fdt.js';

export const VIRT = {
  test: { base: SYSCON_BASE, size: SYSCON_SIZE },
  clint: { base: CLINT_BASE, size: CLINT_SIZE },
  plic: { base: PLIC_BASE, size: PLIC_SIZE },
  uart: { base: UART_BASE, size: UART_SIZE, irq: UART_IRQ },
  virtio: { base: VIRTIO_MMIO_BASE, size: VIRTIO_MMIO_SIZE, slots: VIRTIO_MMIO_SLOTS, firstIrq: VIRTIO_MMIO_IRQ },
  ram: { base: 0x80000000 },
} as const;

/** mtime ticks per second as the device tree announces them (QEMU virt uses 10 MHz too). */
export const TIMEBASE_HZ = 10_000_000;

export interface VirtTreeOptions {
  memBytes: number;
  bootargs: string;
  initrd?: { start: number; end: number };
  /** How many virtio-mmio slots hold a device (slot i at VIRT.virtio.base + i * size). */
  virtioDevices: number;
  /** The ISA string for the cpu node. */
  isa: string;
}

const PHANDLE = { cpuIntc: 1, plic: 2, test: 3 } as const;
const IRQ_S_EXT = 9,
  IRQ_M_SOFT = 3,
  IRQ_M_TIMER = 7,
  IRQ_M_EXT = 11;

const hex = (n: number) => n.toString(16);
const reg = (base: number, size: number) => [...cells64(base), ...cells64(size)];

export function virtDeviceTree(o: VirtTreeOptions): Uint8Array {
  const chosen: FdtNode = {
    name: 'chosen',
    props: {
      bootargs: o.bootargs,
      'stdout-path': `/soc/serial@${hex(VIRT.uart.base)}`,
      ...(o.initrd ? { 'linux,initrd-start': cells64(o.initrd.start), 'linux,initrd-end': cells64(o.initrd.end) } : {}),
    },
  };
  const cpus: FdtNode = {
    name: 'cpus',
    props: { '#address-cells': 1, '#size-cells': 0, 'timebase-frequency': TIMEBASE_HZ },
    children: [
      {
        name: 'cpu@0',
        props: {
          device_type: 'cpu',
          reg: 0,
          status: 'okay',
          compatible: 'riscv',
          'riscv,isa': o.isa,
          'mmu-type': 'riscv,sv48',
        },
        children: [
          {
            name: 'interrupt-controller',
            props: {
              '#interrupt-cells': 1,
              'interrupt-controller': true,
              compatible: 'riscv,cpu-intc',
              phandle: PHANDLE.cpuIntc,
            },
          },
        ],
      },
    ],
  };
  const virtio: FdtNode[] = [];
  for (let i = 0; i < o.virtioDevices; i++) {
    const base = VIRT.virtio.base + i * VIRT.virtio.size;
    virtio.push({
      name: `virtio_mmio@${hex(base)}`,
      props: {
        compatible: 'virtio,mmio',
        reg: reg(base, VIRT.virtio.size),
        'interrupt-parent': PHANDLE.plic,
        interrupts: VIRT.virtio.firstIrq + i,
      },
    });
  }
  const soc: FdtNode = {
    name: 'soc',
    props: { '#address-cells': 2, '#size-cells': 2, compatible: 'simple-bus', ranges: true },
    children: [
      {
        name: `clint@${hex(VIRT.clint.base)}`,
        props: {
          compatible: ['sifive,clint0', 'riscv,clint0'],
          reg: reg(VIRT.clint.base, VIRT.clint.size),
          'interrupts-extended': [PHANDLE.cpuIntc, IRQ_M_SOFT, PHANDLE.cpuIntc, IRQ_M_TIMER],
        },
      },
      {
        name: `plic@${hex(VIRT.plic.base)}`,
        props: {
          compatible: ['sifive,plic-1.0.0', 'riscv,plic0'],
          reg: reg(VIRT.plic.base, VIRT.plic.size),
          '#address-cells': 0,
          '#interrupt-cells': 1,
          'interrupt-controller': true,
          'riscv,ndev': 95,
          'interrupts-extended': [PHANDLE.cpuIntc, IRQ_M_EXT, PHANDLE.cpuIntc, IRQ_S_EXT],
          phandle: PHANDLE.plic,
        },
      },
      {
        name: `serial@${hex(VIRT.uart.base)}`,
        props: {
          compatible: 'ns16550a',
          reg: reg(VIRT.uart.base, VIRT.uart.size),
          'clock-frequency': 3686400,
          'interrupt-parent': PHANDLE.plic,
          interrupts: VIRT.uart.irq,
        },
      },
      {
        name: `test@${hex(VIRT.test.base)}`,
        props: {
          compatible: ['sifive,test1', 'sifive,test0', 'syscon'],
          reg: reg(VIRT.test.base, VIRT.test.size),
          phandle: PHANDLE.test,
        },
      },
      { name: 'poweroff', props: { compatible: 'syscon-poweroff', regmap: PHANDLE.test, offset: 0, value: 0x5555 } },
      { name: 'reboot', props: { compatible: 'syscon-reboot', regmap: PHANDLE.test, offset: 0, value: 0x7777 } },
      ...virtio,
    ],
  };
  return buildFdt({
    name: '',
    props: { '#address-cells': 2, '#size-cells': 2, compatible: 'riscv-virtio', model: 'kwb rv64 (QEMU virt layout)' },
    children: [
      chosen,
      { name: `memory@${hex(VIRT.ram.base)}`, props: { device_type: 'memory', reg: reg(VIRT.ram.base, o.memBytes) } },
      cpus,
      soc,
    ],
  });
}
