import type { TestProject } from 'vitest/node';
import { createSampleDatabases } from './helpers/source-databases.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pagilaUrl: string;
    northwindUrl: string;
  }
}

/** Source databases are loaded once per run and shared read-only by every test file. */
export default async function setup(project: TestProject) {
  const { pagila, northwind } = await createSampleDatabases();
  project.provide('pagilaUrl', pagila.url);
  project.provide('northwindUrl', northwind.url);
  return async () => {
    await pagila.drop();
    await northwind.drop();
  };
}
