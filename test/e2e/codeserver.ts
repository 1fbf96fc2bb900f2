// A real VS Code for end-to-end tests: code-server 4.100.3 (installed offline by scripts/setup-e2e.sh into kwb's
// cache) with kwb's .vsix installed into private dirs, driven by playwright-core in Debian's headless Chromium.
// One server per run, started in its own process group and killed as a group.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheDir } from '../../engine/cache.js';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const VERSION = '4.100.3';
export const CODE_SERVER_DIR = process.env.KWB_E2E_DIR || cacheDir('code-server');

/** Install code-server on first use (a few minutes, npm registry and Debian only), like the fixture kernels. */
export function ensureCodeServer(): string {
  if (!existsSync(join(CODE_SERVER_DIR, `.kwb-ready-${VERSION}`))) {
    execFileSync('bash', [join(__dirname, '..', '..', 'scripts', 'setup-e2e.sh')], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  }
  return join(CODE_SERVER_DIR, 'node_modules', '.bin', 'code-server');
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface VsCode {
  page: Page;
  port: number;
  close(): Promise<void>;
}

export async function openVsCode(vsix: string, workspace: string, logDir: string): Promise<VsCode> {
  const bin = ensureCodeServer();
  const tmp = mkdtempSync(join(tmpdir(), 'kwb-e2e-'));
  mkdirSync(join(tmp, 'data', 'User'), { recursive: true });
  mkdirSync(logDir, { recursive: true });
  writeFileSync(join(tmp, 'config.yaml'), 'auth: none\ncert: false\n');
  writeFileSync(
    join(tmp, 'data', 'User', 'settings.json'),
    JSON.stringify({
      'workbench.startupEditor': 'none', // the welcome walkthrough swallows clicks
      'workbench.colorTheme': 'Default Dark Modern',
      'telemetry.telemetryLevel': 'off',
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'git.enabled': false,
      'debug.toolBarLocation': 'floating',
      'terminal.integrated.gpuAcceleration': 'off', // DOM rows, so the test can read the terminal
      'files.watcherExclude': { '**': true }, // a kernel tree has ~80k files; nothing here needs watching
      'search.followSymlinks': false,
      'editor.minimap.enabled': false,
    }),
  );
  const args = [
    '--config',
    join(tmp, 'config.yaml'),
    '--extensions-dir',
    join(tmp, 'ext'),
    '--user-data-dir',
    join(tmp, 'data'),
  ];
  execFileSync(bin, [...args, '--install-extension', vsix], { stdio: ['ignore', 'ignore', 'inherit'] });
  const port = await freePort();
  const server: ChildProcess = spawn(
    bin,
    [
      ...args,
      '--auth',
      'none',
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      workspace,
    ],
    // its IPC sockets go to our temp dir, which goes away with it
    {
      detached: true,
      env: { ...process.env, TMPDIR: tmp },
      stdio: ['ignore', openSync(join(logDir, 'code-server.log'), 'w'), openSync(join(logDir, 'code-server.err'), 'w')],
    },
  );
  const killServer = async () => {
    const exited = new Promise((r) => server.once('exit', r));
    try {
      process.kill(-server.pid!, 'SIGTERM'); // the whole group: server, extension host, the debug adapter, watchers
    } catch {
      // gone
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    try {
      process.kill(-server.pid!, 'SIGKILL');
    } catch {
      // gone
    }
    rmSync(tmp, { recursive: true, force: true });
  };
  let browser: BrowserContext | undefined;
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
      } catch {
        // not listening yet
      }
      if (i > 600) throw new Error('code-server did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    browser = await chromium.launchPersistentContext(join(tmp, 'chromium'), {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      viewport: { width: 1600, height: 1000 },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const page = browser.pages()[0] ?? (await browser.newPage());
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
    return {
      page,
      port,
      close: async () => {
        await browser?.close().catch(() => {});
        await killServer();
      },
    };
  } catch (err) {
    await browser?.close().catch(() => {});
    await killServer();
    throw err;
  }
}
