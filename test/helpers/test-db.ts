import { createDb, type Database } from '../../db/create-db.js';
import { createScratchDatabase, localServerUrl } from '../../db/scratch-database.js';

export { createScratchDatabase };

/**
 * A fresh, migrated catalog database for one test file: an in-memory PGlite by default, or a new
 * database on the server named by DATAOPS_TEST_DATABASE_URL (dropped on close). `.ci/run` runs the
 * suite once each way.
 */
export async function createTestDb(): Promise<Database> {
  const serverUrl = process.env.DATAOPS_TEST_DATABASE_URL;
  if (!serverUrl) return createDb({ target: 'memory://' });
  const { url, drop } = await createScratchDatabase(serverUrl, 'dataops_test');
  const database = await createDb({ target: url });
  return {
    ...database,
    close: async () => {
      await database.close();
      await drop();
    },
  };
}

export const serverUrl = process.env.DATAOPS_TEST_DATABASE_URL ?? localServerUrl;
