// distcc for kwb's kernel builds: `--distcc HOSTS` or DISTCC_HOSTS from the environment, in distcc's own host syntax,
// which distcc itself parses and sizes (make's -j is `distcc -j`). With ccache on, distcc is ccache's CCACHE_PREFIX
// (a cache miss compiles on the farm); without it, compiler-named links to distcc (its masquerade mode). Either way
// the compiler command lines stay those of a local build, and distcc compiles a file locally when its host does not
// answer. distcc's client log says where each compile ran: the progress line and --stats read it.
import { execFile, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import { join } from 'node:path';
import { KwbError } from '../results.js';
import { findOnPath } from '../which.js';
import { compilerLinks } from './compiler-links.js';

/** A distcc farm: distcc and the hosts it would use. */
export interface DistccFarm {
  binary: string;
  /** The host list as given, passed on as DISTCC_HOSTS. */
  hosts: string;
  /** Each host as distcc lists it: "10.0.0.5/8", "10.0.0.6:3633/4,lzo". */
  specs: string[];
  /** The same without limit and options: "10.0.0.5", "10.0.0.6:3633". */
  names: string[];
  /** Compiles the hosts take at once (`distcc -j`): make's -j. */
  jobs: number;
}

/** The farm as one build uses it. */
export interface Distcc extends DistccFarm {
  /** Compiler-named links to distcc, for a build without ccache (with ccache, distcc is its CCACHE_PREFIX). */
  linkDir?: string;
  /** distcc's client log for this build. */
  log: string;
}

/** The host list to use: the option's, else DISTCC_HOSTS; undefined (no distcc) when neither says anything. */
export function distccHostsFrom(option: string | undefined, env = process.env): string | undefined {
  const hosts = (option ?? env.DISTCC_HOSTS)?.trim();
  return hosts || undefined;
}

/** distcc's name for a host in its list or log: "10.0.0.5:3633/8,lzo" is "10.0.0.5:3633". */
export function hostName(spec: string): string {
  return spec.replace(/[/,].*$/, '');
}

/** Ask distcc about a host list: its concurrency and hosts, or the error it finds in the list. */
function askDistcc(binary: string, hosts: string, question: '-j' | '--show-hosts'): string {
  const r = spawnSync(binary, [question], { env: { ...process.env, DISTCC_HOSTS: hosts }, encoding: 'utf8' });
  // distcc exits 0 either way; a bad list shows as nothing on stdout and its complaint on stderr
  if (r.stdout.trim()) return r.stdout.trim();
  const complaint = /(?:ERROR|Warning): (.*)/.exec(r.stderr ?? '')?.[1] ?? 'distcc cannot read it';
  throw new KwbError(`distcc hosts '${hosts}': ${complaint}`);
}

/** distcc and a host list it accepts; a usage error when distcc is missing or the host list is bad. */
export function distccFarm(hosts: string): DistccFarm {
  const binary = findOnPath('distcc');
  if (!binary) throw new KwbError('distcc is not installed; install it (Debian package distcc, in scripts/setup.sh)');
  const jobs = Number(askDistcc(binary, hosts, '-j'));
  const specs = askDistcc(binary, hosts, '--show-hosts').split('\n');
  return { binary, hosts, specs, names: specs.map(hostName), jobs };
}

/**
 * Whether one host of the farm compiles a one-line C file with `compiler` (no local fallback, no backoff from an
 * earlier failure): undefined when it does, else distcc's complaint.
 */
export async function checkDistccHost(farm: DistccFarm, spec: string, compiler: string): Promise<string | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'kwb-distcc-'));
  try {
    writeFileSync(join(dir, 'probe.c'), 'int kwb_probe(int x) { return x + 1; }\n');
    const env = {
      ...process.env,
      DISTCC_HOSTS: spec,
      DISTCC_FALLBACK: '0',
      // distcc's locks and memory of failed hosts in a directory of the probe's own: no wait for a build's locks,
      // no host skipped because it failed before
      DISTCC_DIR: dir,
      DISTCC_IO_TIMEOUT: '10',
      DISTCC_LOG: '',
    };
    const stderr = await new Promise<string | undefined>((resolve) =>
      execFile(
        farm.binary,
        [compiler, '-c', 'probe.c', '-o', 'probe.o'],
        { cwd: dir, env, encoding: 'utf8', timeout: 30_000 },
        (err, _stdout, stderr) => resolve(err ? stderr || err.message : undefined),
      ),
    );
    if (stderr === undefined) return undefined;
    return /ERROR: (.*)/.exec(stderr)?.[1] ?? stderr.trim().split('\n')[0];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The farm for a build with these compilers, its client log in `log`. */
export function useDistcc(farm: DistccFarm, viaCcache: boolean, compilers: string[], log: string): Distcc {
  return { ...farm, log, linkDir: viaCcache ? undefined : compilerLinks(farm.binary, compilers) };
}

/** make's environment additions for distcc. */
export function distccEnv(d: Distcc, viaCcache: boolean): NodeJS.ProcessEnv {
  return { DISTCC_HOSTS: d.hosts, DISTCC_LOG: d.log, ...(viaCcache ? { CCACHE_PREFIX: d.binary } : {}) };
}

export interface DistccStats {
  jobs: number;
  hosts: string[];
  /** Compiles each host completed ("localhost": here, when listed or after every host failed). */
  compiles: Record<string, number>;
  /** Files each host failed to take (refused, unreachable, or its compile failed): distcc sent them elsewhere. */
  failures: Record<string, number>;
  /** Files that compiled here because no host took them. */
  fallbacks: number;
}

/** "distcc[123] exec on 10.0.0.5:3632/8: gcc -c ...": that client now compiles on that host (or "localhost"). */
const EXEC = /^distcc\[(\d+)\] exec on (\S+?): /;
/** "distcc[123] compile fs/x.c on 10.0.0.5:3632/8 completed ok" */
const DONE = /^distcc\[(\d+)\] compile (\S+) on (\S+) completed ok$/;
/** distcc decided this call is not a compile it may distribute (a compiler probe, a link, assembler-with-cpp). */
const LOCAL_ONLY = /^distcc\[(\d+)\] \(dcc_scan_args\)/;
/** "ERROR: nonblocking connect to 10.0.0.5:3632 failed: Connection refused": it tries the next host. */
const CONNECT_FAILED = /^distcc\[(\d+)\] ERROR: (?:nonblocking )?connect to (\S+) failed/;
/** No host took the file (the last one failed, or all are backing off after failing): it compiles here. */
const FALLBACK =
  /^distcc\[(\d+)\] (?:\(dcc_build_somewhere\) )?Warning: failed to distribute(?: \S+ to (\S+),)? running locally instead/;
/** The client is done. */
const EXIT = /^distcc\[(\d+)\] \(dcc_exit\)/;

/** Follows distcc's client log while make runs: which hosts compile now, how many compiles each ran, which failed. */
export class DistccLog {
  private offset = 0;
  private partial = '';
  private readonly decoder = new StringDecoder('utf8');
  /** Client pid -> the host it compiles on now. */
  private readonly running = new Map<string, string>();
  /** Clients distcc runs here whatever the hosts: not compiles of the farm's. */
  private readonly localOnly = new Set<string>();
  private readonly compiles = new Map<string, number>();
  /** "pid host" for each host that failed a client (a client may see a host fail once). */
  private readonly failed = new Set<string>();
  private fallbacks = 0;

  constructor(private readonly d: Distcc) {
    writeFileSync(d.log, '');
  }

  /** Take in what distcc added to its log since the last call. */
  read(): void {
    const fd = openSync(this.d.log, 'r');
    try {
      const buf = Buffer.alloc(1 << 16);
      for (let n; (n = readSync(fd, buf, 0, buf.length, this.offset)) > 0;) {
        this.offset += n;
        this.feed(this.decoder.write(buf.subarray(0, n)));
      }
    } finally {
      closeSync(fd);
    }
  }

  private feed(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop()!;
    for (const line of lines) {
      let m: RegExpExecArray | null;
      if ((m = LOCAL_ONLY.exec(line))) this.localOnly.add(m[1]!);
      else if ((m = EXEC.exec(line))) {
        if (!this.localOnly.has(m[1]!)) this.running.set(m[1]!, hostName(m[2]!));
      } else if ((m = DONE.exec(line))) {
        if (this.localOnly.has(m[1]!) || m[2] === '(null)') continue;
        const host = hostName(m[3]!);
        this.compiles.set(host, (this.compiles.get(host) ?? 0) + 1);
      } else if ((m = CONNECT_FAILED.exec(line))) this.failed.add(`${m[1]} ${hostName(m[2]!)}`);
      else if ((m = FALLBACK.exec(line))) {
        this.fallbacks++;
        if (m[2]) this.failed.add(`${m[1]} ${hostName(m[2])}`);
      } else if ((m = EXIT.exec(line))) {
        this.running.delete(m[1]!);
        this.localOnly.delete(m[1]!);
      }
    }
  }

  /** Compiles under way, per host. */
  inUse(): Record<string, number> {
    return countBy(this.running.values());
  }

  stats(): DistccStats {
    return {
      jobs: this.d.jobs,
      hosts: this.d.names,
      compiles: Object.fromEntries(this.compiles),
      failures: countBy([...this.failed].map((key) => key.slice(key.indexOf(' ') + 1))),
      fallbacks: this.fallbacks,
    };
  }
}

function countBy(names: Iterable<string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of names) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}
