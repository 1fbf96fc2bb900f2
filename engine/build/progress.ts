// How far a build is: stages, objects compiled, and (when the last from-scratch build of the tree is known) percent
// and time left.

export type BuildStage = 'configure' | 'compile' | 'link' | 'install';

export interface BuildProgress {
  stage: BuildStage;
  /** Objects compiled so far by this build. */
  objects: number;
  /** Objects this build is expected to compile: known only for a from-scratch build of a tree built before. */
  expected?: number;
  seconds: number;
  /** The make step just seen, e.g. "CC kernel/fork.o". */
  step?: string;
}

/** Percent done (never 100 before the end) and seconds left, from the rate so far; none until a rate is known. */
export function estimate(p: BuildProgress): { percent?: number; secondsLeft?: number } {
  if (!p.expected) return {};
  const fraction = Math.min(p.objects / p.expected, 0.99);
  const percent = Math.floor(fraction * 100);
  // the first objects say little about the rate: no estimate before 2% and 10 s
  if (fraction < 0.02 || p.seconds < 10) return { percent };
  return { percent, secondsLeft: Math.round((p.seconds * (1 - fraction)) / fraction) };
}

export function formatSeconds(s: number): string {
  const m = Math.floor(s / 60);
  return m ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
}

/** One status line: "42% (1200/2850 objects, 3m10s left) CC kernel/fork.o", or without percent when unknown. */
export function describeProgress(p: BuildProgress): string {
  if (p.stage === 'configure') return 'configuring';
  if (p.stage === 'install') return 'installing modules';
  const { percent, secondsLeft } = estimate(p);
  const count =
    percent === undefined
      ? `${p.objects} objects`
      : `${percent}% (${p.objects}/${p.expected} objects${secondsLeft === undefined ? '' : `, ${formatSeconds(secondsLeft)} left`})`;
  return `${p.stage === 'link' ? 'linking, ' : ''}${count}${p.step ? ` ${p.step}` : ''}`;
}
