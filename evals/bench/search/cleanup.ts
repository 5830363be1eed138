/**
 * Scratch databases and directories to remove however the benchmark ends: normally, on an error, or on
 * Ctrl-C. Each entry runs once; failures are reported, not thrown, so one bad drop does not keep others.
 */
const pending = new Map<string, () => Promise<void>>();

export function onCleanup(label: string, work: () => Promise<void>): () => Promise<void> {
  pending.set(label, work);
  return async () => {
    if (!pending.delete(label)) return;
    await runOne(label, work);
  };
}

async function runOne(label: string, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    console.error(`cleanup of ${label} failed: ${(error as Error).message}`);
  }
}

/** Runs every pending cleanup, newest first (connections close before their database is dropped). */
export async function cleanupAll(): Promise<void> {
  const entries = [...pending.entries()].reverse();
  pending.clear();
  for (const [label, work] of entries) await runOne(label, work);
}

let interrupted = false;

/** True once Ctrl-C or SIGTERM arrived: the figures are partial and must not replace the last results. */
export function wasInterrupted(): boolean {
  return interrupted;
}

export function cleanupOnSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      interrupted = true;
      console.error(`\n${signal}: cleaning up scratch databases...`);
      void cleanupAll().finally(() => process.exit(130));
    });
  }
}
