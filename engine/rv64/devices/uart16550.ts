// NS16550A UART as QEMU's virt machine has it (base 0x10000000, IRQ 10), with the register semantics Linux's 8250
// driver probes: IER/IIR/FCR/LCR/MCR/LSR/MSR/SCR, the DLAB divisor latch, FIFO-enabled bits in IIR (so autoconfig
// reports a 16550A), loopback (MSR mirrors MCR; transmitted bytes come back as input), and a THR-empty interrupt
// that re-arms whenever IER.THRI is switched on while the transmitter is empty.
// Transmission is instant and deterministic: written bytes are collected and handed to `output` by flush(), which the
// machine calls between run slices. Received bytes raise the RX interrupt at once (no FIFO trigger level or
// character-timeout wait, which would depend on wall time).
import type { MmioDevice } from '../bus.js';
import type { Stateful } from '../state.js';
import type { IrqSink } from './irq.js';

export const UART_BASE = 0x10000000;
export const UART_SIZE = 0x100;
export const UART_IRQ = 10;

const FIFO_SIZE = 16;
/** Past this many unflushed bytes the output is handed over without waiting for flush(). */
const OUTPUT_LIMIT = 64 * 1024;

// register offsets
const RBR_THR_DLL = 0,
  IER_DLM = 1,
  IIR_FCR = 2,
  LCR = 3,
  MCR = 4,
  LSR = 5,
  MSR = 6,
  SCR = 7;
// IER bits
const IER_RDI = 0x01,
  IER_THRI = 0x02,
  IER_RLSI = 0x04,
  IER_MSI = 0x08;
// IIR values
const IIR_NO_INT = 0x01,
  IIR_MSI = 0x00,
  IIR_THRI = 0x02,
  IIR_RDI = 0x04,
  IIR_RLSI = 0x06,
  IIR_FIFO_ENABLED = 0xc0;
// FCR bits
const FCR_ENABLE_FIFO = 0x01,
  FCR_CLEAR_RCVR = 0x02;
const LCR_DLAB = 0x80;
const MCR_DTR = 0x01,
  MCR_RTS = 0x02,
  MCR_OUT1 = 0x04,
  MCR_OUT2 = 0x08,
  MCR_LOOP = 0x10;
// LSR bits
const LSR_DR = 0x01,
  LSR_OE = 0x02,
  LSR_THRE = 0x20,
  LSR_TEMT = 0x40;
// MSR bits
const MSR_DCTS = 0x01,
  MSR_DDSR = 0x02,
  MSR_TERI = 0x04,
  MSR_DDCD = 0x08;
const MSR_CTS = 0x10,
  MSR_DSR = 0x20,
  MSR_RI = 0x40,
  MSR_DCD = 0x80;
const MSR_DELTAS = MSR_DCTS | MSR_DDSR | MSR_TERI | MSR_DDCD;
/** Modem lines of a connected console: carrier, data set ready, clear to send. */
const MSR_CONNECTED = MSR_DCD | MSR_DSR | MSR_CTS;

interface UartState {
  ier: number;
  lcr: number;
  mcr: number;
  lsrErrors: number;
  msr: number;
  scr: number;
  divisor: number;
  fifoEnabled: boolean;
  thrPending: boolean;
  rx: number[];
  irqLevel: boolean;
}

export class Uart16550 implements MmioDevice, Stateful<UartState> {
  readonly name = 'uart16550';
  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  private lsrErrors = 0;
  private msr = MSR_CONNECTED;
  private scr = 0;
  private divisor = 0;
  private fifoEnabled = false;
  /** THRE interrupt armed: set when the transmitter empties (at once after each byte) or THRI is switched on;
   *  cleared by reading IIR while THRE is the reported cause. */
  private thrPending = false;
  /** Received bytes not yet read; host input may exceed the 16-byte FIFO and is delivered as the guest drains it. */
  private rx: number[] = [];
  private rxHead = 0;
  private out: number[] = [];
  private irqLevel = false;

  constructor(
    private readonly irq: IrqSink,
    private readonly irqNum: number,
    private readonly output: (bytes: Uint8Array) => void,
  ) {}

  /** Call flush() first: output not handed over yet is not part of the state. */
  save(): UartState {
    return {
      ier: this.ier,
      lcr: this.lcr,
      mcr: this.mcr,
      lsrErrors: this.lsrErrors,
      msr: this.msr,
      scr: this.scr,
      divisor: this.divisor,
      fifoEnabled: this.fifoEnabled,
      thrPending: this.thrPending,
      rx: this.rx.slice(this.rxHead),
      irqLevel: this.irqLevel,
    };
  }

  restore(s: UartState): void {
    ({
      ier: this.ier,
      lcr: this.lcr,
      mcr: this.mcr,
      lsrErrors: this.lsrErrors,
      msr: this.msr,
      scr: this.scr,
      divisor: this.divisor,
      fifoEnabled: this.fifoEnabled,
      thrPending: this.thrPending,
      irqLevel: this.irqLevel,
    } = s);
    this.rx = s.rx.slice();
    this.rxHead = 0;
    this.out = [];
    this.irq.setIrq(this.irqNum, this.irqLevel);
  }

  /** Console input for the guest. */
  receive(bytes: Uint8Array): void {
    for (const b of bytes) this.rx.push(b);
    this.update();
  }

  /** Hand the bytes written since the last flush to `output` (one call, nothing when there are none). */
  flush(): void {
    if (this.out.length === 0) return;
    const bytes = Uint8Array.from(this.out);
    this.out = [];
    this.output(bytes);
  }

  private get rxCount(): number {
    return this.rx.length - this.rxHead;
  }

  private lsr(): number {
    return LSR_THRE | LSR_TEMT | this.lsrErrors | (this.rxCount > 0 ? LSR_DR : 0);
  }

  /** MSR as the driver sees it; in loopback the modem inputs follow MCR's outputs. */
  private modemStatus(): number {
    if (!(this.mcr & MCR_LOOP)) return this.msr;
    return (
      (this.msr & MSR_DELTAS) |
      (this.mcr & MCR_RTS ? MSR_CTS : 0) |
      (this.mcr & MCR_DTR ? MSR_DSR : 0) |
      (this.mcr & MCR_OUT1 ? MSR_RI : 0) |
      (this.mcr & MCR_OUT2 ? MSR_DCD : 0)
    );
  }

  /** The highest-priority pending cause, as IIR's low bits. */
  private cause(): number {
    if (this.ier & IER_RLSI && this.lsrErrors) return IIR_RLSI;
    if (this.ier & IER_RDI && this.rxCount > 0) return IIR_RDI;
    if (this.ier & IER_THRI && this.thrPending) return IIR_THRI;
    if (this.ier & IER_MSI && this.modemStatus() & MSR_DELTAS) return IIR_MSI;
    return IIR_NO_INT;
  }

  private update(): void {
    const level = this.cause() !== IIR_NO_INT;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.setIrq(this.irqNum, level);
    }
  }

  private transmit(byte: number): void {
    if (this.mcr & MCR_LOOP) {
      if (this.rxCount < FIFO_SIZE) this.rx.push(byte);
      else this.lsrErrors |= LSR_OE;
    } else {
      this.out.push(byte);
      if (this.out.length >= OUTPUT_LIMIT) this.flush();
    }
    // the byte is gone at once: the transmitter is empty again
    this.thrPending = true;
  }

  private readRx(): number {
    if (this.rxCount === 0) return 0;
    const byte = this.rx[this.rxHead]!;
    this.dropRx(1);
    return byte;
  }

  private dropRx(n: number): void {
    this.rxHead += n;
    if (this.rxHead === this.rx.length) {
      this.rx = [];
      this.rxHead = 0;
    } else if (this.rxHead > 4096) {
      this.rx = this.rx.slice(this.rxHead);
      this.rxHead = 0;
    }
  }

  load(offset: number, size: 1 | 2 | 4): number {
    if (size !== 1) return 0;
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    let value: number;
    switch (offset) {
      case RBR_THR_DLL:
        value = dlab ? this.divisor & 0xff : this.readRx();
        break;
      case IER_DLM:
        value = dlab ? this.divisor >> 8 : this.ier;
        break;
      case IIR_FCR: {
        const cause = this.cause();
        value = cause | (this.fifoEnabled ? IIR_FIFO_ENABLED : 0);
        if (cause === IIR_THRI) this.thrPending = false;
        break;
      }
      case LCR:
        value = this.lcr;
        break;
      case MCR:
        value = this.mcr;
        break;
      case LSR:
        value = this.lsr();
        this.lsrErrors = 0;
        break;
      case MSR:
        value = this.modemStatus();
        this.msr &= ~MSR_DELTAS;
        break;
      case SCR:
        value = this.scr;
        break;
      default:
        return 0;
    }
    this.update();
    return value;
  }

  store(offset: number, size: 1 | 2 | 4, value: number): void {
    if (size !== 1) return;
    value &= 0xff;
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (offset) {
      case RBR_THR_DLL:
        if (dlab) this.divisor = (this.divisor & 0xff00) | value;
        else this.transmit(value);
        break;
      case IER_DLM:
        if (dlab) {
          this.divisor = (this.divisor & 0xff) | (value << 8);
        } else {
          const changed = (this.ier ^ value) & 0x0f;
          this.ier = value & 0x0f;
          // switching THRI on while the transmitter is empty raises THRE again (the 8250 driver's startup test)
          if (changed & IER_THRI) this.thrPending = (this.ier & IER_THRI) !== 0;
        }
        break;
      case IIR_FCR:
        this.fifoEnabled = (value & FCR_ENABLE_FIFO) !== 0;
        // only what has reached the FIFO is dropped; later host input has not arrived yet
        if (value & FCR_CLEAR_RCVR) this.dropRx(Math.min(this.rxCount, FIFO_SIZE));
        break;
      case LCR:
        this.lcr = value;
        break;
      case MCR:
        this.mcr = value & 0x1f;
        break;
      case SCR:
        this.scr = value;
        break;
      default:
        return;
    }
    this.update();
  }
}
