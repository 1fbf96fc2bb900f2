// The Debian mirror a root is built from: the one this host's apt already uses (one-line sources.list entries and
// deb822 .sources files), so a host behind a local mirror or proxy builds from it; Debian's CDN otherwise.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const DEFAULT_MIRROR = 'http://deb.debian.org/debian';

interface Source {
  types: string[];
  uris: string[];
  suites: string[];
}

/** The entries of one sources file, in either of apt's two formats. */
export function parseSources(text: string, deb822: boolean): Source[] {
  if (!deb822) {
    return text
      .split('\n')
      .map((l) => l.replace(/#.*/, '').trim())
      .filter(Boolean)
      .map((l) => l.replace(/\[[^\]]*\]\s*/, '').split(/\s+/))
      .filter((w) => w.length >= 3)
      .map(([type, uri, suite]) => ({ types: [type!], uris: [uri!], suites: [suite!] }));
  }
  return text
    .split(/\n\s*\n/)
    .map((stanza) => {
      const field = (name: string) =>
        new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(stanza.replace(/^#.*$/gm, ''))?.[1]?.trim().split(/\s+/) ?? [];
      return { types: field('Types'), uris: field('URIs'), suites: field('Suites') };
    })
    .filter((s) => s.uris.length && s.suites.length);
}

/** The host's Debian release (bookworm), when the host is Debian. */
export function hostCodename(etc = '/etc'): string | undefined {
  let osRelease: string;
  try {
    osRelease = readFileSync(join(etc, 'os-release'), 'utf8');
  } catch {
    return undefined;
  }
  if (!/^ID=debian$/m.test(osRelease)) return undefined;
  return /^VERSION_CODENAME=(\S+)$/m.exec(osRelease)?.[1];
}

/** The mirror of the host's main Debian entry (a `deb` line for the host's own release, not -security or
 *  -updates), when the host is Debian; Debian's CDN otherwise. */
export function hostMirror(etc = '/etc'): string {
  const codename = hostCodename(etc);
  if (!codename) return DEFAULT_MIRROR;
  const files: [string, boolean][] = [[join(etc, 'apt', 'sources.list'), false]];
  try {
    for (const f of readdirSync(join(etc, 'apt', 'sources.list.d')).sort()) {
      if (f.endsWith('.list') || f.endsWith('.sources'))
        files.push([join(etc, 'apt', 'sources.list.d', f), f.endsWith('.sources')]);
    }
  } catch {
    // no sources.list.d
  }
  for (const [file, deb822] of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const main = parseSources(text, deb822).find((s) => s.types.includes('deb') && s.suites.includes(codename));
    if (main) return main.uris[0]!;
  }
  return DEFAULT_MIRROR;
}
