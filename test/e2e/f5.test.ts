/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The extension in a real VS Code (code-server + headless Chromium): open the UML fixture kernel tree with no
// launch.json, click a breakpoint into newuname in kernel/sys.c, press F5, run uname in the guest console, and see
// VS Code pause there; then variables, watch, the kernel's tasks in the call stack, step, disassembly, the console
// terminal, and a clean stop.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { cacheDir } from '../../engine/cache.js';
import { FIXTURE_TIMEOUT_MS, fixtureTree } from '../helpers/fixtures.js';
import { openVsCode, type VsCode } from './codeserver.js';

const ARTIFACTS = process.env.KWB_ARTIFACTS || cacheDir('artifacts', 'e2e');

/** Line (1-based) of `text` inside the body of the syscall `name` in kernel/sys.c. */
function lineIn(tree: string, name: string, text: string): number {
  const lines = readFileSync(join(tree, 'kernel', 'sys.c'), 'utf8').split('\n');
  const start = lines.findIndex((l) => l.startsWith(`SYSCALL_DEFINE1(${name},`));
  const offset = lines.slice(start).findIndex((l) => l.includes(text));
  assert.ok(start >= 0 && offset > 0, `${text} not found in ${name}`);
  return start + offset + 1;
}

/** Processes a debug session may leave behind: the kernel, gdb, gdbserver. */
function leftovers(tree: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (
        cmd.includes(join(tree, 'linux')) ||
        cmd.includes(join(tree, 'vmlinux')) ||
        /^(\S*\/)?(gdb|gdbserver|gdb-multiarch) /.test(cmd)
      )
        found.push(`${pid} ${cmd.slice(0, 100)}`);
    } catch {
      // gone
    }
  }
  return found;
}

async function command(page: Page, name: string): Promise<void> {
  await page.keyboard.press('F1');
  await page.locator('.quick-input-widget input').fill(`>${name}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().click();
}

/** The editor line that carries the top stack frame's decoration. */
function stoppedLine(page: Page): Promise<string | undefined> {
  return page.evaluate(() => {
    const top = (
      document.querySelector('.view-overlays .debug-top-stack-frame-line')?.parentElement as HTMLElement | null
    )?.style.top;
    const rows = [...document.querySelectorAll('.margin-view-overlays > div')] as HTMLElement[];
    return rows
      .find((d) => d.style.top === top)
      ?.querySelector('.line-numbers')
      ?.textContent?.trim();
  });
}

function terminalText(page: Page): Promise<string> {
  return page.evaluate(() =>
    [...document.querySelectorAll('.xterm-rows > div')].map((r) => r.textContent ?? '').join('\n'),
  );
}

/** The CALL STACK view's thread rows: [name, state]. */
function threadRows(page: Page): Promise<[string, string][]> {
  return page.evaluate(() =>
    [...document.querySelectorAll('.debug-call-stack .monaco-list-row .thread')].map(
      (r) =>
        [r.querySelector('.name')?.textContent?.trim() ?? '', r.querySelector('.state')?.textContent?.trim() ?? ''] as [
          string,
          string,
        ],
    ),
  );
}

/** Paused at the breakpoint: the CALL STACK view shows the kernel's tasks as `pid comm`, all of them paused. The
 *  view is made taller first (the Watch pane above gives up its empty rows), and what it shows is saved as
 *  tasks.png: the README's screenshot (docs/vscode-f5.png). */
async function callStackTasks(t: { diagnostic(s: string): void }, page: Page): Promise<void> {
  const header = page.locator('.pane-header', { hasText: /^\s*Call Stack/i }).first();
  const box = (await header.boundingBox())!;
  // the sash between the Watch pane and this one sits on the header's top edge
  await page.mouse.move(box.x + box.width / 2, box.y);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2, box.y - 180, { steps: 10 });
  await page.mouse.up();
  await page.waitForTimeout(300);
  const rows = await threadRows(page);
  t.diagnostic(`call stack threads: ${rows.map(([n, s]) => `${n} (${s})`).join(', ')}`);
  assert.ok(rows.length >= 5, `threads: ${JSON.stringify(rows)}`);
  for (const [name] of rows) assert.match(name, /^\d+ \S/, `a thread that is not a task: ${JSON.stringify(rows)}`);
  assert.ok(
    rows.some(([name]) => name === '2 kthreadd'),
    JSON.stringify(rows),
  );
  for (const [, state] of rows) assert.match(state, /paused/i, JSON.stringify(rows));
  await page.screenshot({ path: join(ARTIFACTS, 'tasks.png'), clip: { x: 0, y: 0, width: 1280, height: 1000 } });
}

describe('VS Code end to end', { timeout: FIXTURE_TIMEOUT_MS }, () => {
  let tree: string;
  let vscode: VsCode | undefined;
  const vsix = join(__dirname, '..', '..', 'dist', 'kwb.vsix');
  before(() => {
    tree = fixtureTree('um');
    // F5 must work with no launch.json at all
    rmSync(join(tree, '.vscode'), { recursive: true, force: true });
    execFileSync('npm', ['run', '--silent', 'package'], {
      cwd: join(__dirname, '..', '..'),
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    assert.ok(existsSync(vsix));
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    await vscode?.close();
  });

  it('F5 in a kernel tree stops at a breakpoint clicked into newuname', async (t) => {
    vscode = await openVsCode(vsix, tree, ARTIFACTS);
    const { page } = vscode;
    try {
      await f5(t, page);
    } catch (err) {
      await page.screenshot({ path: join(ARTIFACTS, 'failure.png') }).catch(() => {});
      throw err;
    }
  });

  async function f5(t: { diagnostic(s: string): void }, page: Page): Promise<void> {
    const line = lineIn(tree, 'newuname', 'memcpy(&tmp, utsname(), sizeof(tmp));');

    // open kernel/sys.c at the line
    await page.locator('.monaco-workbench').waitFor({ timeout: 120_000 });
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input').fill('kernel/sys.c');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'sys.c' }).first().click({ timeout: 60_000 });
    await page.locator('.monaco-editor .view-lines').first().waitFor();
    await page.keyboard.press('Control+G');
    await page.keyboard.type(String(line));
    await page.keyboard.press('Enter');

    // click the gutter left of the line number
    const number = page.locator('.margin-view-overlays .line-numbers', { hasText: new RegExp(`^${line}$`) });
    await number.waitFor();
    const box = (await number.boundingBox())!;
    const margin = (await page.locator('.monaco-editor .margin').first().boundingBox())!;
    await page.mouse.click(margin.x + 8, box.y + box.height / 2);
    await page.locator('.codicon-debug-breakpoint').first().waitFor({ timeout: 10_000 });

    // F5: until the extension host has registered kwb's debugger, F5 only opens the Run view
    const t0 = Date.now();
    const toolbar = page.locator('.debug-toolbar');
    for (let i = 0; !(await toolbar.isVisible()); i++) {
      assert.ok(i < 30, 'the debug session did not start');
      await page.locator('.monaco-editor textarea').first().focus();
      await page.keyboard.press('F5');
      const picker = page.locator('.quick-input-list .monaco-list-row', { hasText: /kwb/i });
      await Promise.race([
        toolbar.waitFor({ state: 'visible', timeout: 2000 }),
        picker
          .first()
          .waitFor({ timeout: 2000 })
          .then(() => picker.first().click()),
      ]).catch(() => {});
    }

    // the guest boots in the kwb terminal; its shell's start-up already calls uname (else type it there)
    const paused = page
      .locator('.debug-call-stack .state.label')
      .filter({ hasText: /paused on breakpoint/i })
      .first();
    for (let i = 0, typed = false; !(await paused.isVisible()); i++) {
      assert.ok(i < 600, `not paused; terminal:\n${await terminalText(page)}`);
      if (!typed && /kwb: guest shell/.test(await terminalText(page))) {
        await page.locator('.terminal-wrapper .xterm').first().click();
        await page.keyboard.type('uname -r\n');
        typed = true;
      }
      await page.waitForTimeout(100);
    }
    const f5ToPaused = (Date.now() - t0) / 1000;
    t.diagnostic(`F5 to "Paused on breakpoint": ${f5ToPaused.toFixed(1)} s (goal < 10 s)`);
    const top = page.locator('.debug-call-stack .monaco-list-row', { hasText: 'newuname' }).first();
    await top.waitFor();
    assert.match((await top.innerText()).replace(/\s+/g, ' '), new RegExp(`sys\\.c ${line}`));
    assert.equal(await stoppedLine(page), String(line));
    await page.screenshot({ path: join(ARTIFACTS, 'paused.png') });

    // Variables: the local `tmp`
    await page
      .locator('.debug-variables .monaco-list-row', { hasText: /^tmp\b/ })
      .first()
      .waitFor({ timeout: 20_000 });

    // Watch: utsname()->release is the kernel's release string
    const watchHeader = page.locator('.pane-header', { hasText: /^\s*Watch/i }).first();
    await watchHeader.hover();
    await watchHeader.locator('.action-label[aria-label*="Add Expression"]').click();
    await page
      .locator('.debug-watch .monaco-inputbox input, .debug-watch .monaco-inputbox textarea')
      .first()
      .fill('utsname()->release');
    await page.keyboard.press('Enter');
    await page
      .locator('.debug-watch .monaco-list-row', { hasText: /6\.1\.\d+/ })
      .first()
      .waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'inspect.png') });

    // the call stack lists the kernel's tasks as `pid comm` (not UML's host threads), every one paused with the guest
    await callStackTasks(t, page);

    // Step over: the stopped-line marker moves
    await page.locator('.debug-toolbar .codicon-debug-step-over').first().click();
    let moved: string | undefined;
    for (let i = 0; !moved || moved === String(line); i++) {
      assert.ok(i < 200, `the stopped line did not move after step over (${moved})`);
      await page.waitForTimeout(50);
      moved = await stoppedLine(page);
    }
    assert.equal(Number(moved), line + 1);

    // Disassembly view
    await command(page, 'Open Disassembly View');
    await page
      .locator('.disassembly-view .monaco-list-row, .disassembly-view .monaco-table-tr')
      .nth(3)
      .waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'disassembly.png') });

    // go on; a command typed into the guest console terminal stops in newuname again
    await page.locator('.debug-toolbar .codicon-debug-continue').first().click();
    await page.locator('.debug-toolbar .codicon-debug-pause').first().waitFor({ timeout: 20_000 });
    await page
      .locator('.panel .action-label', { hasText: /^Terminal$/i })
      .first()
      .click()
      .catch(() => {});
    for (let i = 0; !/\/ #\s*$/m.test(await terminalText(page)); i++) {
      assert.ok(i < 300, `no shell prompt in the terminal:\n${await terminalText(page)}`);
      // the shell's own start-up may call uname again: go on until it prompts
      if (await paused.isVisible()) await page.locator('.debug-toolbar .codicon-debug-continue').first().click();
      await page.waitForTimeout(100);
    }
    assert.match(await terminalText(page), /kwb: guest shell/);
    await page.locator('.terminal-wrapper .xterm').first().click();
    await page.keyboard.type('uname -r\n');
    await paused.waitFor({ timeout: 30_000 });
    assert.match(await terminalText(page), /uname -r/);

    // restart reboots the guest (a new kernel process: a new thread name) in the same terminal, and the breakpoint
    // is hit in the new boot
    const threadName = () =>
      page
        .locator('.debug-call-stack .monaco-list-row .thread')
        .first()
        .innerText()
        .catch(() => '');
    const before = await threadName();
    await page.locator('.debug-toolbar .codicon-debug-restart').first().click();
    for (
      let i = 0;
      !((await paused.isVisible()) && (await threadName()) !== before && /\S/.test(await threadName()));
      i++
    ) {
      assert.ok(i < 600, `not paused in a new boot after restart (${before}):\n${await terminalText(page)}`);
      await page.waitForTimeout(100);
    }
    assert.match(await terminalText(page), /Run \/kwb\/init as init process/);
    const terminals = await page.evaluate(() => document.querySelectorAll('.terminal-wrapper').length);
    t.diagnostic(`terminals after restart: ${terminals}`);
    assert.equal(terminals, 1);

    // stop: nothing is left behind
    await page.locator('.debug-toolbar .codicon-debug-stop').first().click();
    await toolbar.waitFor({ state: 'hidden', timeout: 30_000 });
    for (let i = 0; leftovers(tree).length; i++) {
      assert.ok(i < 100, `left behind: ${leftovers(tree).join('; ')}`);
      await page.waitForTimeout(100);
    }
  }
});
