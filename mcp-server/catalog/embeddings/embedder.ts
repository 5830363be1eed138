import { type BedrockCredentials, createBedrockEmbedder } from './bedrock-embedder.js';
import type { Embedder } from './embedder-type.js';
import { createOfflineEmbedder } from './offline-embedder.js';

// Defined with the table, where the vector column's size is fixed.
export { EMBEDDING_DIMENSIONS } from '../../../db/schema/catalog.js';

export type EmbedderConfig =
  | {
      provider: 'offline';
      /** Another word-vector file built by scripts/build-embeddings.ts; the shipped one by default. */
      vectorsPath?: string;
    }
  | {
      provider: 'bedrock';
      region: string;
      /** Defaults to Amazon Titan Text Embeddings V2. */
      modelId?: string;
      /** A Bedrock runtime endpoint other than the region's public one (VPC endpoint, GovCloud, a test stand-in). */
      baseURL?: string;
      /** Without them the AWS SDK convention applies: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN. */
      credentials?: BedrockCredentials;
      /** Retries per text on throttling or network errors; the AI SDK's default is 2. */
      maxRetries?: number;
    };

/** Creates the embedder a deployment is configured for. */
export function createEmbedder(config: EmbedderConfig): Embedder {
  switch (config.provider) {
    case 'offline':
      return createOfflineEmbedder({ vectorsPath: config.vectorsPath });
    case 'bedrock':
      return createBedrockEmbedder(config);
  }
}
