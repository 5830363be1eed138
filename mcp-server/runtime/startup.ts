import { existsSync } from 'node:fs';
import { count, eq } from 'drizzle-orm';
import { DataOpsError } from '../../core/errors.js';
import { assets, sources } from '../../db/schema/index.js';
import { demoLoadedMarker, demoSourceName, loadDemo } from '../demo/load-demo.js';
import { localAdminId } from '../governance/principals.js';
import { failInterruptedRuns } from '../pipelines/interrupted-runs.js';
import type { RuntimeConfig } from './config.js';
import { openRuntime, type Runtime } from './open-runtime.js';

/** Where a serving runtime is: opening (migrating) the catalog, loading the demo, ready, or failed to open. */
export type RuntimeState =
  | { state: 'opening' }
  | { state: 'loading'; step: string; sinceMs: number }
  | { state: 'ready' }
  | { state: 'failed'; message: string };

/** What a surface that answers at once needs: the state now, and the runtime once tools may run. */
export interface RuntimeSource {
  status(): RuntimeState;
  /**
   * The runtime once tools may run. A call waits for it at most DATAOPS_LOADING_WAIT seconds from when it was
   * made (opening the catalog included), then throws an `unavailable` error saying what is still loading.
   */
  whenReady(): Promise<Runtime>;
}

export interface StartOptions {
  /** Load the demo workspace into an empty embedded catalog, in the background. */
  demo: boolean;
  /** Who loads the demo (it needs an administrator) and whom the scheduler runs as; default the local admin. */
  as?: string;
  /** Open the catalog only once this settles (the surface has answered its client's first requests). */
  after?: Promise<unknown>;
}

export interface Startup extends RuntimeSource {
  /**
   * The runtime once the catalog is open and migrated, interrupted runs are closed and `as` is known; rejects
   * if it cannot open or `as` is not a principal.
   */
  opened: Promise<Runtime>;
  /** Resolves when startup work is over: the demo loaded (or failed to, which is logged), or there was none. */
  settled: Promise<void>;
  /**
   * Closes the runtime once startup work in progress is over (a half-loaded demo would stay half-loaded, since
   * a non-empty catalog does not load it again); a demo that has not started loading yet is skipped.
   */
  close(): Promise<void>;
}

/**
 * Opens a runtime for a serving surface without making it wait: the catalog opens and migrates, pipeline
 * runs a stopped server left `running` are marked failed, and on a first start of an empty embedded catalog
 * the demo loads in the background. The surface answers at once and asks `whenReady` before running a tool.
 */
export function startRuntime(config: RuntimeConfig, options: StartOptions): Startup {
  let state: RuntimeState = { state: 'opening' };
  // A surface that closes before the demo starts loading (a client that came and went) skips it.
  let closing = false;
  const opened = (async () => {
    await options.after;
    const runtime = await openRuntime(config, { schedulerPrincipal: options.as });
    try {
      await recoverInterruptedRuns(runtime);
      // An unknown --as fails here, before anything runs as it (the demo, the scheduler, a stdio session).
      await runtime.contextFor(options.as ?? localAdminId);
    } catch (error) {
      await runtime.close();
      throw error;
    }
    return runtime;
  })();
  opened.catch((error: unknown) => {
    state = { state: 'failed', message: error instanceof Error ? error.message : String(error) };
  });
  const settled = opened.then(
    async (runtime) => {
      if (options.demo && !closing && (await needsDemo(runtime)) && !closing) {
        const started = Date.now();
        const step = (message: string) => {
          state = { state: 'loading', step: message, sinceMs: started };
          runtime.logger.info(message);
        };
        step('loading the demo workspace');
        try {
          const summary = await loadDemo(
            { ...runtime, ctx: await runtime.contextFor(options.as ?? localAdminId) },
            step,
          );
          runtime.logger.info('demo workspace loaded', {
            assets: summary.assets,
            seconds: (Date.now() - started) / 1000,
          });
        } catch (error) {
          // The catalog still serves what it holds; the demo can be loaded again with `dataops demo`.
          runtime.logger.error('could not load the demo workspace: run `dataops demo` to try again', {
            error: String((error as Error)?.stack ?? error),
          });
        }
      }
      state = { state: 'ready' };
    },
    () => {},
  );
  return {
    opened,
    settled,
    status: () => state,
    whenReady: async () => {
      if (state.state === 'ready') return opened;
      // The default 8 s stays below the MCP Inspector's 10 s request timeout, the shortest among common
      // clients, so a client hears why instead of timing out.
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), config.env.DATAOPS_LOADING_WAIT * 1000);
      });
      const outcome = await Promise.race([settled, timedOut]).finally(() => clearTimeout(timer));
      if (outcome !== 'timeout') return opened;
      throw new DataOpsError('unavailable', loadingMessage(state));
    },
    close: async () => {
      closing = true;
      const runtime = await opened.catch(() => null);
      if (state.state === 'loading') runtime?.logger.warn('stopping once the demo workspace has finished loading');
      await settled;
      await runtime?.close();
    },
  };
}

/** What a tool called during startup answers: what is loading, for how long, and what to do. */
export function loadingMessage(state: RuntimeState): string {
  if (state.state !== 'loading') return 'DataOps is still opening the catalog: try again in a moment';
  const seconds = Math.round((Date.now() - state.sinceMs) / 1000);
  return (
    `DataOps is loading the demo workspace into a new catalog (${seconds} s so far; now: ${state.step}). ` +
    'It takes about a minute on a first start: try again shortly.'
  );
}

/**
 * The demo loads into an embedded catalog (a server catalog is shared) on a first start, when it has no
 * assets yet, and again on the start after one stopped halfway through loading it (its source is there, the
 * marker written at the end is not).
 */
async function needsDemo(runtime: Runtime): Promise<boolean> {
  const { dataDir } = runtime.storage;
  if (!dataDir || existsSync(demoLoadedMarker(dataDir))) return false;
  const [row] = await runtime.database.db.select({ n: count() }).from(assets);
  if (row!.n === 0) return true;
  const [demo] = await runtime.database.db
    .select({ id: sources.id })
    .from(sources)
    .where(eq(sources.name, demoSourceName));
  if (demo) runtime.logger.warn('finishing the demo workspace: an earlier start stopped while loading it');
  return demo !== undefined;
}

/** Closes, as failed, the pipeline runs a stopped server left `running` (see failInterruptedRuns). */
async function recoverInterruptedRuns(runtime: Runtime): Promise<void> {
  const closed = await failInterruptedRuns(runtime.database.db, new Date(), {
    embedded: runtime.storage.dataDir !== null,
  });
  if (closed > 0)
    runtime.logger.warn(
      `marked ${closed} pipeline run(s) failed: the server running them had stopped before they finished`,
    );
}
