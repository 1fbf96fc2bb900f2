// Interrupt wiring of the rv64 machine: devices raise numbered lines on an interrupt controller (the PLIC), and the
// controller drives the hart's external-interrupt bits in mip.

/** Where a device's interrupt line goes (the PLIC). Lines are level-triggered: `level` is the line's state. */
export interface IrqSink {
  setIrq(irq: number, level: boolean): void;
}

/** The hart's interrupt inputs (mip bits: 3 MSIP, 7 MTIP, 9 SEIP, 11 MEIP); Cpu implements it. */
export interface InterruptLines {
  setInterruptLine(bit: number, level: boolean): void;
}
