// The VS Code side of kwb: the `kwb` debug type, a configuration provider so that F5 in a built kernel tree works
// with no launch.json, and a `kwb: Build Kernel` task. The guest console is the integrated terminal the adapter
// asks for (runInTerminal), so it can be typed into.
import { join } from 'node:path';
import * as vscode from 'vscode';
import { findKernelTree } from '../engine/kernel.js';

/** The built kernel of the workspace's kernel tree (or `make O=` build directory), if any. */
function builtKernel(dir: string): { kernel: string } | undefined {
  const kernel = findKernelTree(dir)?.kernel;
  return kernel ? { kernel } : undefined;
}

class KwbConfigurationProvider implements vscode.DebugConfigurationProvider {
  /** F5 with no launch.json: boot the workspace's kernel and attach. */
  resolveDebugConfiguration(
    folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration,
  ): vscode.ProviderResult<vscode.DebugConfiguration> {
    if (!config.type && !config.request && !config.name) {
      const dir = folder?.uri.fsPath ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
      const tree = dir ? builtKernel(dir) : undefined;
      if (!tree) {
        void vscode.window.showErrorMessage(
          'kwb: no built kernel here. Build one (kwb: Build Kernel) or add a kwb launch configuration with "kernel".',
        );
        return undefined;
      }
      // the guest console terminal is what a kernel developer watches first; the debug console stays one click away
      return {
        type: 'kwb',
        request: 'launch',
        name: 'kwb: boot and debug',
        kernel: tree.kernel,
        cwd: dir,
        internalConsoleOptions: 'neverOpen',
      };
    }
    if (config.request === 'launch' && !config.kernel) {
      const dir = folder?.uri.fsPath;
      const tree = dir ? builtKernel(dir) : undefined;
      if (!tree) {
        void vscode.window.showErrorMessage(
          'kwb: set "kernel" in the launch configuration (no built kernel in the workspace)',
        );
        return undefined;
      }
      config.kernel = tree.kernel;
    }
    config.cwd ??= folder?.uri.fsPath;
    return config;
  }

  provideDebugConfigurations(
    folder: vscode.WorkspaceFolder | undefined,
  ): vscode.ProviderResult<vscode.DebugConfiguration[]> {
    const tree = folder ? builtKernel(folder.uri.fsPath) : undefined;
    return [
      {
        type: 'kwb',
        request: 'launch',
        name: 'kwb: boot and debug',
        kernel: tree?.kernel ?? '${workspaceFolder}/linux',
        stopAtEntry: false,
      },
      {
        type: 'kwb',
        request: 'attach',
        name: 'kwb: attach to a gdb stub',
        target: 'localhost:1234',
        vmlinux: '${workspaceFolder}/vmlinux',
      },
    ];
  }
}

/** `kwb build` in the workspace's tree, as a task (usable as a preLaunchTask: "kwb: build"). */
function buildTask(folder: vscode.WorkspaceFolder, kwbCli: string): vscode.Task {
  const task = new vscode.Task(
    { type: 'kwb', task: 'build' },
    folder,
    'build',
    'kwb',
    new vscode.ProcessExecution(process.execPath, [kwbCli, 'build', '--tree', folder.uri.fsPath]),
    '$gcc',
  );
  task.group = vscode.TaskGroup.Build;
  return task;
}

export function activate(context: vscode.ExtensionContext): void {
  const kwbCli = context.asAbsolutePath(join('dist', 'cli.js'));
  const provider = new KwbConfigurationProvider();
  context.subscriptions.push(
    vscode.debug.registerDebugConfigurationProvider('kwb', provider),
    vscode.debug.registerDebugConfigurationProvider(
      'kwb',
      provider,
      vscode.DebugConfigurationProviderTriggerKind.Dynamic,
    ),
    vscode.tasks.registerTaskProvider('kwb', {
      provideTasks: () => (vscode.workspace.workspaceFolders ?? []).map((f) => buildTask(f, kwbCli)),
      resolveTask: (task) => {
        const folder =
          task.scope && typeof task.scope === 'object' ? task.scope : vscode.workspace.workspaceFolders?.[0];
        return folder ? buildTask(folder, kwbCli) : undefined;
      },
    }),
    vscode.commands.registerCommand('kwb.build', async () => {
      const folder = vscode.workspace.workspaceFolders?.[0];
      if (folder) await vscode.tasks.executeTask(buildTask(folder, kwbCli));
    }),
  );
}

export function deactivate(): void {}
