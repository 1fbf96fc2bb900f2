// kwb's one command-line parser: every command declares its options in a table; `-h`/`--help` is understood by
// all of them; anything else is a usage error (exit 2) with one line that says what to do. Messages carry no
// "kwb CMD:" prefix: cli/main.ts adds it once.
import { BOOT_OPTIONS, optionHelp, type BootOption, type BootOptionName } from '../engine/options.js';
import { KwbError } from '../engine/results.js';

export interface OptionSpec {
  /** Takes a value (`--mem 256M` or `--mem=256M`); otherwise a flag. */
  value?: string;
  /** May be given more than once (values collected in order). */
  repeat?: boolean;
  /** The only values allowed. */
  choices?: readonly string[];
  /** Range or form check, run as the value is read. */
  check?: (text: string) => void;
  help: string;
}

export type OptionTable = Record<string, OptionSpec>;

export interface ParsedArgs {
  options: Map<string, string[]>;
  flags: Set<string>;
  /** Words after `--`. */
  rest: string[];
  /** `-h` or `--help` was given (before any `--`). */
  help: boolean;
}

/** The boot options (engine/options.ts) as a parser table, less those a command does not take. */
export function bootOptionTable(except: readonly BootOptionName[] = []): OptionTable {
  const table: OptionTable = {};
  for (const o of BOOT_OPTIONS as readonly BootOption[]) {
    if ((except as readonly string[]).includes(o.name)) continue;
    table[o.name] = {
      value: o.kind === 'flag' ? undefined : o.value,
      repeat: o.kind === 'list',
      choices: o.choices,
      check: o.check,
      help: optionHelp(o),
    };
  }
  return table;
}

export function parseArgs(argv: string[], table: OptionTable): ParsedArgs {
  const options = new Map<string, string[]>();
  const flags = new Set<string>();
  const rest: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') {
      rest.push(...argv.slice(i + 1));
      break;
    }
    if (word === '-h' || word === '--help') {
      help = true;
      continue;
    }
    if (!word.startsWith('--')) throw new KwbError(`unexpected argument '${word}'; put the guest command after '--'`);
    const eq = word.indexOf('=');
    const name = word.slice(2, eq < 0 ? undefined : eq);
    const spec = table[name];
    if (!spec) throw new KwbError(`unknown option --${name}`);
    if (!spec.value) {
      if (eq >= 0) throw new KwbError(`--${name} takes no value`);
      flags.add(name);
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = word.slice(eq + 1);
    else if (i + 1 < argv.length && argv[i + 1] !== '--') value = argv[++i];
    if (value === undefined || value === '') throw new KwbError(`--${name} needs a value (${spec.value})`);
    const list = options.get(name) ?? [];
    if (list.length && !spec.repeat) throw new KwbError(`--${name} given twice`);
    if (spec.choices && !spec.choices.includes(value))
      throw new KwbError(`--${name} ${value}: use ${spec.choices.join(' or ')}`);
    spec.check?.(value);
    list.push(value);
    options.set(name, list);
  }
  return { options, flags, rest, help };
}

export function one(args: ParsedArgs, name: string): string | undefined {
  return args.options.get(name)?.[0];
}

export function helpText(usage: string, table: OptionTable): string {
  const lines = [`usage: ${usage}`, ''];
  for (const [name, spec] of Object.entries(table)) {
    const left = `  --${name}${spec.value ? ` ${spec.value}` : ''}`;
    lines.push(`${left.padEnd(30)} ${spec.help}`);
  }
  lines.push(`${'  -h, --help'.padEnd(30)} show this help`);
  return lines.join('\n');
}
