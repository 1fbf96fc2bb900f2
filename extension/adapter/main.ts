// The debug adapter's entry: DAP over stdin/stdout (VS Code starts it as `node dist/debugAdapter.js`).
import { DebugSession } from '@vscode/debugadapter';
import { KwbDebugSession } from './session.js';

DebugSession.run(KwbDebugSession);
