// How the parts of the rv64 machine are saved and put back, for time travel (recording.ts): every device, and the
// machine itself, that holds state besides RAM implements Stateful. RAM is not part of it: the recording keeps
// copy-on-write pages of it (the bus marks written pages).

/** A part of the machine whose state a snapshot captures. */
export interface Stateful<S> {
  /** The state now, as data later changes do not touch (copies, or values never mutated in place). */
  save(): S;
  /** Put a saved state back. Interrupt lines it drives must end up as the state says (re-drive them). */
  restore(state: S): void;
}
