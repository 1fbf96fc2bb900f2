// The gdb stub's entry for the CLI and the engines: serve a Target over RSP on a TCP port.
import type { Duplex } from 'node:stream';
import { GdbStubServer, type GdbStubOptions } from './server.js';
import { connectProxy, UML_PASS_SIGNALS, type ProxyOptions } from './proxy.js';
import type { Target } from './target.js';

export type { Target, StopReason } from './target.js';
export { GdbStubServer, BUSY_MESSAGE, TAKEOVER } from './server.js';
export { connectProxy, ProxyTarget, UML_PASS_SIGNALS } from './proxy.js';

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

/** The relay for a guest whose debugChannel() is an RSP stream (UML under gdbserver), with UML's own signals passed
 *  silently. `onKill` runs after a client killed the target (stop the guest there). */
export function connectGuestRsp(
  stream: Duplex,
  opts: {
    uml: boolean;
    log?: (line: string) => void;
    onKill?: () => Promise<void> | void;
    /** The server's write watchpoints never fire on this host: the relay emulates them (see ProxyOptions). */
    emulateWatchpoints?: boolean;
    notice?: (line: string) => void;
  },
): Promise<Target> {
  const proxyOpts: ProxyOptions = {
    emulateWatchpoints: opts.emulateWatchpoints,
    notice: opts.notice,
    passSignals: opts.uml ? UML_PASS_SIGNALS : [],
    threadName: opts.uml ? 'UML kernel' : 'thread',
    onKill: opts.onKill,
    signalInterrupt: opts.uml ? 'SIGINT' : undefined,
    log: opts.log,
  };
  return connectProxy(stream, proxyOpts);
}
