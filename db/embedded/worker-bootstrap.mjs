// A worker thread starts as plain Node: register tsx's loader first, then load the TypeScript entry it was given.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
