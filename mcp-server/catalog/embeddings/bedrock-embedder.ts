import { createAmazonBedrock } from '@ai-sdk/amazon-bedrock';
import { APICallError, embedMany, RetryError } from 'ai';
import { DataOpsError } from '../../../core/errors.js';
import { EMBEDDING_DIMENSIONS } from '../../../db/schema/catalog.js';
import type { Embedder } from './embedder-type.js';

export const TITAN_TEXT_EMBEDDINGS_V2 = 'amazon.titan-embed-text-v2:0';

export interface BedrockCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}

export interface BedrockEmbedderOptions {
  region: string;
  modelId?: string | undefined;
  baseURL?: string | undefined;
  credentials?: BedrockCredentials | undefined;
  maxRetries?: number | undefined;
  /** Titan embeds one text per request; this many requests run at once. */
  maxParallelCalls?: number | undefined;
}

// Titan V2 accepts at most 8,192 tokens and 50,000 characters; English runs about 4.7 characters a token, so
// this stays under both. A catalog description longer than this is summarised well enough by its start.
const MAX_INPUT_CHARACTERS = 30_000;

/**
 * Embeds with a Bedrock model through the AI SDK; by default Titan Text Embeddings V2 at 256 dimensions,
 * normalised by the service, so its vectors fit the catalog column as they are.
 */
export function createBedrockEmbedder(options: BedrockEmbedderOptions): Embedder {
  const modelId = options.modelId ?? TITAN_TEXT_EMBEDDINGS_V2;
  const bedrock = createAmazonBedrock({
    region: options.region,
    baseURL: options.baseURL,
    accessKeyId: options.credentials?.accessKeyId,
    secretAccessKey: options.credentials?.secretAccessKey,
    sessionToken: options.credentials?.sessionToken,
  });
  const model = bedrock.embedding(modelId);
  return {
    modelId,
    async embed(texts) {
      const vectors = texts.map(() => new Array<number>(EMBEDDING_DIMENSIONS).fill(0));
      // Titan rejects blank input, and a blank text has no meaning to place: it keeps the zero vector.
      const asked = texts.flatMap((text, position) => (text.trim() === '' ? [] : [{ text, position }]));
      if (asked.length === 0) return vectors;
      let embeddings: number[][];
      try {
        ({ embeddings } = await embedMany({
          model,
          values: asked.map(({ text }) => text.slice(0, MAX_INPUT_CHARACTERS)),
          maxRetries: options.maxRetries,
          maxParallelCalls: options.maxParallelCalls ?? 8,
          providerOptions: { bedrock: { dimensions: EMBEDDING_DIMENSIONS, normalize: true } },
        }));
      } catch (error) {
        throw unavailable(error, modelId, options.region);
      }
      asked.forEach(({ position }, i) => {
        const embedding = embeddings[i];
        if (embedding?.length !== EMBEDDING_DIMENSIONS) {
          throw new DataOpsError(
            'unavailable',
            `Bedrock model ${modelId} returned ${embedding?.length ?? 0} dimensions instead of ${EMBEDDING_DIMENSIONS}; use a model that supports ${EMBEDDING_DIMENSIONS}-dimension output`,
          );
        }
        vectors[position] = normalise(embedding);
      });
      return vectors;
    },
  };
}

// Titan already normalises when asked; doing it here too keeps the Embedder promise for any model id.
function normalise(vector: number[]): number[] {
  const norm = Math.hypot(...vector);
  return norm === 0 ? vector : vector.map((x) => x / norm);
}

/** Turns an AI SDK failure into a message an operator can act on, without the stack or the request body. */
function unavailable(error: unknown, modelId: string, region: string): DataOpsError {
  const last = RetryError.isInstance(error) ? error.lastError : error;
  const where = `Bedrock model ${modelId} in ${region}`;
  let message: string;
  if (APICallError.isInstance(last) && last.statusCode !== undefined) {
    const hint =
      last.statusCode === 401 || last.statusCode === 403
        ? 'check the AWS credentials and that access to the model is enabled for this account and region'
        : last.statusCode === 404
          ? 'check the model id and region'
          : last.statusCode === 429
            ? 'the account is being throttled; retry later or raise the quota'
            : 'retry later';
    message = `${where} refused the request (HTTP ${last.statusCode}: ${firstLine(last.message)}); ${hint}`;
  } else if (APICallError.isInstance(last)) {
    message = `${where} cannot be reached at ${origin(last.url)} (${firstLine(last.message)}); check the network and the endpoint`;
  } else {
    const detail = last instanceof Error ? last.message : String(last);
    // The SDK's own text lists its constructor options, which mean nothing to whoever configures DataOps.
    message = /SigV4 authentication requires/.test(detail)
      ? `${where} has no AWS credentials: configure them for the embedder, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`
      : `${where} failed: ${firstLine(detail)}`;
  }
  return new DataOpsError('unavailable', `Embedding is unavailable: ${message}`, { cause: error });
}

// Only the origin: the path carries the model id already, and a URL could in principle carry a presigned query.
function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'the configured endpoint';
  }
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
