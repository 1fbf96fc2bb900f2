// The order of a debug session's DAP events as VS Code sees them: initialized, the configurationDone request, stops.
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';

export interface EventOrder {
  /** e.g. ['initialized', 'configurationDone', 'stopped breakpoint', ...]; a stop that leaves threads running is
   *  'stopped REASON (some threads)' */
  readonly events: string[];
  configurationDone(): Promise<DebugProtocol.ConfigurationDoneResponse>;
}

/** Record the events from now on; call before the launch or attach request. */
export function recordEventOrder(dc: DebugClient): EventOrder {
  const events: string[] = [];
  dc.on('initialized', () => events.push('initialized'));
  dc.on('stopped', (e: DebugProtocol.StoppedEvent) =>
    events.push(`stopped ${e.body.reason}${e.body.allThreadsStopped ? '' : ' (some threads)'}`),
  );
  return {
    events,
    configurationDone: () => {
      events.push('configurationDone');
      return dc.configurationDoneRequest();
    },
  };
}
