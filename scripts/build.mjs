// Bundle kwb with esbuild: the CLI, the VS Code extension and the debug adapter, each one file in dist/.
import { build } from 'esbuild';
import { copyFileSync, existsSync } from 'node:fs';
import { writeLaunchSchema } from './launch-schema.mjs';

const entries = [
  { in: 'cli/main.ts', out: 'cli', banner: '#!/usr/bin/env node' },
  { in: 'extension/extension.ts', out: 'extension' },
  { in: 'extension/adapter/main.ts', out: 'debugAdapter' },
].filter((e) => existsSync(e.in));

await Promise.all(
  entries.map((e) =>
    build({
      entryPoints: [e.in],
      outfile: `dist/${e.out}.js`,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      sourcemap: 'linked',
      external: ['vscode'],
      banner: e.banner ? { js: e.banner } : undefined,
      logLevel: 'warning',
    }),
  ),
);

// kwb compiles these C helpers on the user's machine (engine/uml/cc.ts); they ship beside the bundle
for (const helper of ['xstate-shim.c', 'hw-watch-probe.c', 'net-plug.c', 'net-slirp.c'])
  copyFileSync(`engine/uml/${helper}`, `dist/${helper}`);

// the launch.json schema VS Code reads from package.json is generated from kwb's boot option table
if (await writeLaunchSchema()) console.log('package.json: launch.json schema updated from engine/options.ts');
