import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createScratchDatabase, serverUrl } from './test-db.js';

export const sharedData = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/data');

/** Loads a SQL file with psql, the way its authors load it (Pagila's pg_dump needs psql for COPY … FROM stdin). */
export function loadSqlFile(url: string, file: string, stopOnError: boolean): void {
  execFileSync('psql', ['-q', '-X', '-v', `ON_ERROR_STOP=${stopOnError ? 1 : 0}`, '-d', url, '-f', file], {
    stdio: ['ignore', 'ignore', 'ignore'],
  });
}

/** Pagila and Northwind from ../shared/data/sql in scratch databases on the local Postgres server. */
export async function createSampleDatabases() {
  const pagila = await createScratchDatabase(serverUrl, 'dataops_src_pagila');
  const northwind = await createScratchDatabase(serverUrl, 'dataops_src_northwind');
  // Pagila is a pg_dump 17 dump: on 15 three statements fail (transaction_timeout, a JSON_TABLE view), so no ON_ERROR_STOP.
  loadSqlFile(pagila.url, path.join(sharedData, 'sql/pagila-schema.sql'), false);
  loadSqlFile(pagila.url, path.join(sharedData, 'sql/pagila-data.sql'), false);
  loadSqlFile(northwind.url, path.join(sharedData, 'sql/northwind.sql'), true);
  return { pagila, northwind };
}
