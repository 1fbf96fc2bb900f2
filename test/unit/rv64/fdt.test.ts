// The device tree kwb writes for its virt machine, read back by the reference tool (dtc from device-tree-compiler).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { virtDeviceTree } from '../../../engine/rv64/virt';

const hasDtc = spawnSync('dtc', ['--version']).status === 0;

describe('virt device tree', { skip: hasDtc ? false : 'dtc is not installed (Debian: device-tree-compiler)' }, () => {
  const dtb = virtDeviceTree({
    memBytes: 256 << 20,
    bootargs: 'console=ttyS0 quiet',
    initrd: { start: 0x8f000000, end: 0x8f001234 },
    virtioDevices: 2,
    isa: 'rv64imafdc_zicsr_zifencei',
  });
  // -W no-...: QEMU's own virt tree draws the same warnings (unit names of the interrupt controller, simple-bus)
  const dts = execFileSync('dtc', ['-I', 'dtb', '-O', 'dts', '-q', '-'], { input: Buffer.from(dtb), encoding: 'utf8' });

  it('describes memory, the boot arguments and the initramfs', () => {
    assert.match(dts, /memory@80000000 \{\s*device_type = "memory";\s*reg = <0x00 0x80000000 0x00 0x10000000>;/);
    assert.match(dts, /bootargs = "console=ttyS0 quiet";/);
    assert.match(dts, /linux,initrd-start = <0x00 0x8f000000>;/);
    assert.match(dts, /linux,initrd-end = <0x00 0x8f001234>;/);
    assert.match(dts, /stdout-path = "\/soc\/serial@10000000";/);
  });

  it('describes the hart, its timer and interrupt controller', () => {
    assert.match(dts, /timebase-frequency = <0x989680>;/);
    assert.match(dts, /riscv,isa = "rv64imafdc_zicsr_zifencei";/);
    assert.match(dts, /compatible = "riscv,cpu-intc";/);
  });

  it('describes the devices at QEMU virt addresses, wired to the PLIC', () => {
    assert.match(dts, /serial@10000000 \{[^}]*compatible = "ns16550a";[^}]*interrupts = <0x0a>;/);
    assert.match(dts, /plic@c000000 \{[^}]*riscv,ndev = <0x5f>;/);
    assert.match(dts, /test@100000 \{[^}]*compatible = "sifive,test1\\0sifive,test0\\0syscon";/);
    assert.match(dts, /poweroff \{[^}]*value = <0x5555>;/);
    assert.match(dts, /virtio_mmio@10001000 \{[^}]*interrupts = <0x01>;/);
    assert.match(dts, /virtio_mmio@10002000 \{[^}]*interrupts = <0x02>;/);
    assert.doesNotMatch(dts, /virtio_mmio@10003000/);
  });
});
