import { type BedrockCredentials, createBedrockEmbedder } from './bedrock-embedder.js';
import { createOfflineEmbedder } from './offline-embedder.js';

// Kept in its own module so the embedders can import it without an import cycle through this factory.
export { EMBEDDING_DIMENSIONS } from '../../../db/schema/catalog.js';

/** Turns texts into vectors for hybrid catalog search. */
export interface Embedder {
  /** Identifies the model and its settings; vectors from different model ids must never be compared. */
  readonly modelId: string;
  /**
   * One vector per text, in order. Each has EMBEDDING_DIMENSIONS entries and is L2-normalised, or is all zeros
   * when the text holds nothing the model can place (no known word, or blank).
   */
  embed(texts: string[]): Promise<number[][]>;
}

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
