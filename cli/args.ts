// A small, strict command-line parser: every command declares its options in a table; anything else is a usage
// error with one line that says what to do.
import { KwbError } from '../engine/results.js';

export interface OptionSpec {
  /** Takes a value (`--mem 256M` or `--mem=256M`); otherwise a flag. */
  value?: string;
  /** May be given more than once (values collected in order). */
  repeat?: boolean;
  help: string;
}

export type OptionTable = Record<string, OptionSpec>;

export interface ParsedArgs {
  options: Map<string, string[]>;
  flags: Set<string>;
  /** Words after `--`. */
  rest: string[];
}

export function parseArgs(command: string, argv: string[], table: OptionTable, positionals = false): ParsedArgs {
  const options = new Map<string, string[]>();
  const flags = new Set<string>();
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') {
      rest.push(...argv.slice(i + 1));
      break;
    }
    if (!word.startsWith('--')) {
      if (positionals) {
        rest.push(word);
        continue;
      }
      throw new KwbError(
        `kwb ${command}: unexpected argument '${word}'; put the guest command after '--' (see kwb ${command} --help)`,
      );
    }
    const eq = word.indexOf('=');
    const name = word.slice(2, eq < 0 ? undefined : eq);
    const spec = table[name];
    if (!spec) throw new KwbError(`kwb ${command}: unknown option --${name} (see kwb ${command} --help)`);
    if (!spec.value) {
      if (eq >= 0) throw new KwbError(`kwb ${command}: --${name} takes no value`);
      flags.add(name);
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = word.slice(eq + 1);
    else if (i + 1 < argv.length && argv[i + 1] !== '--') value = argv[++i];
    if (value === undefined || value === '')
      throw new KwbError(`kwb ${command}: --${name} needs a value (${spec.value})`);
    const list = options.get(name) ?? [];
    if (list.length && !spec.repeat) throw new KwbError(`kwb ${command}: --${name} given twice`);
    list.push(value);
    options.set(name, list);
  }
  return { options, flags, rest };
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
  return lines.join('\n');
}
