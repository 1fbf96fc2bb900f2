// One line of a benchmark table: a measurement, and the reference it is compared against in the same run.
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  /** The reference's value for the same measurement, taken in the same run. */
  reference?: number;
  /** value / reference (or the ratio that matters, as described in note). */
  ratio?: number;
  /** The goal, e.g. "<= 1.10". */
  goal?: string;
  note?: string;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
