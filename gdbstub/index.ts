// The gdb stub's entry for the CLI and the engines: serve a Target over RSP on a TCP port.
import type { Duplex } from 'node:stream';
import { GdbStubServer, type GdbStubOptions } from './server.js';
import { connectProxy, type ProxyOptions } from './proxy.js';
import type { Target } from './target.js';

export type { Target, StopReason } from './target.js';
export { GdbStubServer, BUSY_MESSAGE, TAKEOVER } from './server.js';
export { connectProxy, ProxyTarget } from './proxy.js';

export interface GdbStubHandle {
  host: string;
  port: number;
  /** Settles when a client killed the target (gdb's `kill`): the caller should then stop the guest and exit. */
  killed: Promise<void>;
  /** Whether a client is attached right now. */
  readonly attached: boolean;
  /** Whether the target is running right now. */
  readonly running: boolean;
  /** Set when the stub is reachable beyond this host: a warning for the user. */
  exposure?: string;
  /** Stop listening and drop any client (the guest is left as it is). */
  close(): Promise<void>;
}

/** Serve `target` over RSP. `port` 0 picks a free port; `host` defaults to 127.0.0.1; `waitGdb` holds the target
 *  where it is until a client connects and resumes it (otherwise it is resumed right away). */
export async function startGdbStub(target: Target, opts: GdbStubOptions): Promise<GdbStubHandle> {
  const server = new GdbStubServer(target, opts);
  const { host, port } = await server.listen();
  return {
    host,
    port,
    exposure: server.exposure,
    killed: server.killed,
    get attached() {
      return server.hasClient;
    },
    get running() {
      return server.isRunning;
    },
    close: () => server.close(),
  };
}

/** What the engine behind an RSP channel tells the relay about its inferior (engine/uml/debug.ts for UML). */
export type RelayFacts = Pick<
  ProxyOptions,
  'passSignals' | 'threadName' | 'signalInterrupt' | 'hostPid' | 'onlyMainThreadSteps' | 'emulateWatchpoints'
>;

/** The relay for a guest whose debugChannel() is an RSP stream (UML under gdbserver), as its engine describes it.
 *  `onKill` runs after a client killed the target (stop the guest there). */
export function connectGuestRsp(
  stream: Duplex,
  relay: RelayFacts,
  opts: Pick<ProxyOptions, 'log' | 'onKill' | 'notice'>,
): Promise<Target> {
  return connectProxy(stream, { ...relay, ...opts });
}
