// How far a build is: stages, objects compiled, (when the last from-scratch build of the tree is known) percent and
// time left, and how the compile farm is doing: ccache's hit rate and the distcc hosts compiling now.

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
  /** ccache's hit rate in this build so far (when ccache is on and has been asked). */
  ccacheHitRate?: number;
  /** With distcc: the compiles under way on each host ("localhost": here). */
  distcc?: Record<string, number>;
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

/** The farm's part of the status line: "ccache 35% hits, distcc 10.0.0.5×4 10.0.0.6×3". */
export function describeFarm(p: BuildProgress): string | undefined {
  const parts: string[] = [];
  if (p.ccacheHitRate !== undefined) parts.push(`ccache ${Math.round(p.ccacheHitRate * 100)}% hits`);
  if (p.distcc) {
    const busy = Object.entries(p.distcc).map(([host, n]) => `${host}×${n}`);
    parts.push(`distcc ${busy.length ? busy.join(' ') : 'idle'}`);
  }
  return parts.length ? parts.join(', ') : undefined;
}

/**
 * One status line: "42% (1200/2850 objects, 3m10s left) [ccache 35% hits, distcc 10.0.0.5×4] CC kernel/fork.o",
 * without percent when unknown and without the brackets when neither ccache nor distcc is in use.
 */
export function describeProgress(p: BuildProgress): string {
  if (p.stage === 'configure') return 'configuring';
  if (p.stage === 'install') return 'installing modules';
  const { percent, secondsLeft } = estimate(p);
  const count =
    percent === undefined
      ? `${p.objects} objects`
      : `${percent}% (${p.objects}/${p.expected} objects${secondsLeft === undefined ? '' : `, ${formatSeconds(secondsLeft)} left`})`;
  const farm = describeFarm(p);
  return `${p.stage === 'link' ? 'linking, ' : ''}${count}${farm ? ` [${farm}]` : ''}${p.step ? ` ${p.step}` : ''}`;
}
