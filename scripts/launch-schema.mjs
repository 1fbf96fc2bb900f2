// The launch.json schema of the `kwb` debug type is derived from kwb's boot option table: this bundles
// extension/adapter/launch.ts, asks it for the configuration attributes and writes them into package.json when they
// differ (scripts/build.mjs calls it; test/unit/launch-schema.test.ts checks that package.json is up to date).
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** The configurationAttributes that extension/adapter/launch.ts derives from the option table. */
export async function configurationAttributes() {
  const out = await build({
    entryPoints: ['extension/adapter/launch.ts'],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    write: false,
    logLevel: 'warning',
  });
  const module = { exports: {} };
  new Function('module', 'exports', 'require', out.outputFiles[0].text)(
    module,
    module.exports,
    createRequire(import.meta.url),
  );
  return module.exports.configurationAttributes();
}

/** Write the schema into package.json; true when it changed. */
export async function writeLaunchSchema(file = 'package.json') {
  const text = readFileSync(file, 'utf8');
  const pkg = JSON.parse(text);
  pkg.contributes.debuggers[0].configurationAttributes = await configurationAttributes();
  // package.json is formatted as JSON.stringify writes it (Prettier's json-stringify parser)
  const updated = JSON.stringify(pkg, null, 2) + '\n';
  if (updated === text) return false;
  writeFileSync(file, updated);
  return true;
}
