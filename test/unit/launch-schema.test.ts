// The launch.json schema and the adapter's kwb command line come from the boot option table: package.json must hold
// exactly the generated schema, and every boot option a launch.json sets must reach kwb's own parser intact.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseArgs } from '../../cli/args.js';
import { bootOptions } from '../../cli/boot.js';
import { LAUNCH_OPTIONS } from '../../engine/options.js';
import { configurationAttributes, kwbBootArgs, type LaunchArguments } from '../../extension/adapter/launch.js';

const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
  contributes: { debuggers: { configurationAttributes: unknown }[] };
};

describe('launch.json schema', () => {
  it('package.json holds the schema generated from the option table (npm run build writes it)', () => {
    assert.deepEqual(pkg.contributes.debuggers[0]!.configurationAttributes, configurationAttributes());
  });

  it('lets launch.json set --bios, --timeout and --log', () => {
    const names = LAUNCH_OPTIONS.map((o) => o.name);
    for (const name of ['bios', 'timeout', 'log', 'mem', 'append', 'share']) assert.ok(names.includes(name), name);
  });

  it("passes every boot option a launch sets to kwb, in a form kwb's parser reads back", () => {
    const launch: LaunchArguments = {
      kernel: '/k/vmlinux',
      bios: '/fw/fw_dynamic.bin',
      timeout: 30,
      log: '/tmp/console.log',
      mem: '512M',
      share: ['/src', '/data:/mnt'],
      append: 'loglevel=8 nokaslr',
      engine: 'rv64',
      command: ['uname', '-a'],
    };
    const argv = kwbBootArgs(launch, 4321);
    assert.equal(argv[0], 'boot');
    const args = parseArgs(argv.slice(1), bootOptions);
    assert.deepEqual(args.options.get('kernel'), ['/k/vmlinux']);
    assert.deepEqual(args.options.get('bios'), ['/fw/fw_dynamic.bin']);
    assert.deepEqual(args.options.get('timeout'), ['30']);
    assert.deepEqual(args.options.get('log'), ['/tmp/console.log']);
    assert.deepEqual(args.options.get('mem'), ['512M']);
    assert.deepEqual(args.options.get('share'), ['/src', '/data:/mnt']);
    assert.deepEqual(args.options.get('append'), ['loglevel=8 nokaslr']);
    assert.deepEqual(args.options.get('engine'), ['rv64']);
    assert.deepEqual(args.options.get('gdb'), ['127.0.0.1:4321']);
    assert.ok(args.flags.has('wait-gdb'));
    assert.deepEqual(args.rest, ['uname', '-a']);
  });

  it("rejects a launch's out-of-range value with kwb's own one-line error", () => {
    const argv = kwbBootArgs({ kernel: '/k', mem: '99999G' }, 1);
    assert.throws(() => parseArgs(argv.slice(1), bootOptions), /--mem 99999G: more than this host's/);
  });
});
