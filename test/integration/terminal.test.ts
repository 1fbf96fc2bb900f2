// Interactive `kwb boot` in a real terminal (tmux): raw mode, Ctrl-C reaches the guest (not kwb), poweroff ends
// kwb with 0, and the terminal is left as it was; Ctrl-A x leaves a guest that will not stop by itself.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { FIXTURE_TIMEOUT_MS, umlKernel } from '../helpers/fixtures.js';
import { CLI, Sandbox, until } from '../helpers/kwb.js';

const tmux = (...args: string[]) =>
  execFileSync('tmux', ['-L', `kwb-test-${process.pid}`, ...args], { encoding: 'utf8' });

describe('interactive console', { timeout: FIXTURE_TIMEOUT_MS }, () => {
  const box = new Sandbox();
  before(() => umlKernel());
  after(async () => {
    try {
      tmux('kill-server');
    } catch {
      // already gone
    }
    // the panes' shells (whose command lines name the sandbox) go away with the server
    await until(() => box.leftovers().processes.length === 0, 'the tmux server to exit', 10_000).catch(() => {});
    assert.deepEqual(box.leftovers(), { files: [], processes: [] });
    box.dispose();
  });

  function session(name: string): { screen: () => string; keys: (...k: string[]) => void } {
    const env = Object.entries(box.env())
      .filter(([k]) => ['TMPDIR', 'KWB_RUNTIME_DIR', 'PATH', 'HOME'].includes(k))
      .map(([k, v]) => `${k}=${v}`);
    // after kwb: its status and the terminal's settings, then keep the pane open for reading
    const script = `env ${env.join(' ')} ${process.execPath} ${CLI} boot --kernel ${umlKernel()}; echo "EXITED rc=$?"; echo "TTY $(stty -a | tr ' ;' '\\n\\n' | grep -xE -- '-?(icanon|echo|isig)' | tr '\\n' ' ')"; sleep 600`;
    tmux('new-session', '-d', '-s', name, '-x', '150', '-y', '50', 'sh', '-c', script);
    return {
      screen: () => tmux('capture-pane', '-p', '-t', name, '-S', '-200'),
      keys: (...k: string[]) => void tmux('send-keys', '-t', name, ...k),
    };
  }

  it('passes keys through raw, Ctrl-C to the guest, and restores the terminal after poweroff', async () => {
    const s = session('raw');
    await until(
      () => /kwb: guest shell/.test(s.screen()) && /^\/ #\s*$/m.test(s.screen()),
      'the guest shell prompt',
      60_000,
    );
    s.keys('sleep 300', 'Enter');
    await until(() => /sleep 300\n/.test(s.screen()), 'the command to start');
    s.keys('C-c');
    // like a person: type the next command once the prompt is back (the tty drops input typed during the ^C)
    await until(
      () => /^\^C\s*\n\/ #\s*$/m.test(s.screen()) || /\^C\n\/ #/.test(s.screen()),
      'the prompt after Ctrl-C',
      30_000,
    );
    s.keys('echo after ctrl-c $((6*7))', 'Enter');
    await until(() => /^after ctrl-c 42$/m.test(s.screen()), 'the shell to survive Ctrl-C', 30_000);
    s.keys('poweroff', 'Enter');
    await until(() => /EXITED rc=\d+/.test(s.screen()), 'kwb to exit', 30_000);
    assert.match(s.screen(), /EXITED rc=0/);
    // the terminal is back in cooked mode with echo and signals
    await until(() => /^TTY /m.test(s.screen()), 'stty output');
    assert.match(s.screen(), /^TTY isig icanon echo\s*$/m);
  });

  it('leaves with Ctrl-A x', async () => {
    const s = session('escape');
    await until(() => /^\/ #\s*$/m.test(s.screen()), 'the guest shell prompt', 60_000);
    s.keys('C-a', 'x');
    await until(() => /EXITED rc=\d+/.test(s.screen()), 'kwb to exit', 30_000);
    assert.match(s.screen(), /kwb: left with Ctrl-A x/);
    assert.match(s.screen(), /EXITED rc=122/);
    await until(() => /^TTY /m.test(s.screen()), 'stty output');
    assert.match(s.screen(), /^TTY isig icanon echo\s*$/m);
  });
});
