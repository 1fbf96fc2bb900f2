// The compile farm's state while make runs: ccache's counters and distcc's client log, read once a second, for the
// progress line, and what the build asked of each at the end.
import { hitRate, readCcacheStats, statsSince, type Ccache, type CcacheStats } from './ccache.js';
import type { DistccLog, DistccStats } from './distcc.js';
import type { BuildProgress } from './progress.js';

export class FarmWatch {
  private before?: CcacheStats;
  private latest?: CcacheStats;
  private timer?: NodeJS.Timeout;
  private polling = false;
  private stopped = false;

  constructor(
    private readonly ccache: { ccache: Ccache; env: NodeJS.ProcessEnv } | undefined,
    private readonly distcc: DistccLog | undefined,
  ) {}

  async start(onChange: () => void): Promise<void> {
    if (this.ccache) this.before = await readCcacheStats(this.ccache.ccache, this.ccache.env);
    if (!this.ccache && !this.distcc) return;
    this.timer = setInterval(() => {
      if (this.polling) return;
      this.polling = true;
      void this.poll().then(() => {
        this.polling = false;
        if (!this.stopped) onChange();
      });
    }, 1000);
  }

  private async poll(): Promise<void> {
    this.distcc?.read();
    if (!this.ccache || !this.before) return;
    const now = await readCcacheStats(this.ccache.ccache, this.ccache.env);
    if (now) this.latest = statsSince(this.before, now);
  }

  /** The farm's part of the progress. */
  now(): Pick<BuildProgress, 'ccacheHitRate' | 'distcc'> {
    return { ccacheHitRate: this.latest && hitRate(this.latest), distcc: this.distcc?.inUse() };
  }

  async stop(): Promise<{ ccache?: CcacheStats; distcc?: DistccStats }> {
    clearInterval(this.timer);
    this.stopped = true;
    await this.poll();
    return { ccache: this.latest, distcc: this.distcc?.stats() };
  }
}
