// The part of js-yaml (which ships no types) that kwb uses.
declare module 'js-yaml' {
  export function load(text: string, options?: { filename?: string }): unknown;
}
