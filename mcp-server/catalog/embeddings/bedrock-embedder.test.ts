import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DataOpsError } from '../../../core/errors.js';
import { TITAN_TEXT_EMBEDDINGS_V2 } from './bedrock-embedder.js';
import { createEmbedder, EMBEDDING_DIMENSIONS } from './embedder.js';

interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  body: { inputText: string; dimensions: number; normalize: boolean };
}

const credentials = { accessKeyId: 'AKIDSTANDIN', secretAccessKey: 'stand-in-secret', sessionToken: 'stand-in-token' };
const servers: Server[] = [];

afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A stand-in for the Bedrock runtime's InvokeModel route, answering like Titan Text Embeddings V2. */
async function startStandIn(
  answer: (request: Received) => { status: number; body: unknown },
): Promise<{ baseURL: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
    });
    req.on('end', () => {
      const request = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        rawBody: text,
        body: JSON.parse(text),
      };
      received.push(request);
      const { status, body } = answer(request);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { baseURL: `http://127.0.0.1:${port}`, received };
}

/**
 * Checks an AWS Signature V4 the way the service does, written from the AWS specification rather than taken
 * from the SDK, so a signing mistake in the request (wrong path encoding, unsigned body) fails the test.
 */
function signatureIsValid({ method, path, headers, rawBody }: Received, secretAccessKey: string): boolean {
  const match =
    /^AWS4-HMAC-SHA256 Credential=[^/]+\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      String(headers.authorization),
    );
  if (!match) return false;
  const [, date, region, service, signedHeaders, signature] = match as unknown as string[];
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
  const canonicalRequest = [
    method,
    // Outside S3, each path segment is URI-encoded a second time.
    path.split('/').map(encodeURIComponent).join('/'),
    '',
    ...signedHeaders!.split(';').map((name) => `${name}:${String(headers[name]).trim().replace(/\s+/g, ' ')}`),
    '',
    signedHeaders,
    sha256(rawBody),
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', headers['x-amz-date'], scope, sha256(canonicalRequest)].join('\n');
  let key: Buffer = createHmac('sha256', `AWS4${secretAccessKey}`).update(date!).digest();
  for (const part of [region!, service!, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  return createHmac('sha256', key).update(stringToSign).digest('hex') === signature;
}

/** Titan-shaped answer: a unit vector along the axis given by the text's length, so answers are told apart. */
function titan({ body }: Received) {
  const embedding = Array.from({ length: body.dimensions }, (_, i) => (i === body.inputText.length ? 1 : 0));
  return { status: 200, body: { embedding, inputTextTokenCount: body.inputText.split(' ').length } };
}

describe('bedrock embedder', () => {
  it('calls InvokeModel for Titan V2 at 256 dimensions, signed, and returns the vectors in order', async () => {
    const { baseURL, received } = await startStandIn(titan);
    const embedder = createEmbedder({ provider: 'bedrock', region: 'us-gov-west-1', baseURL, credentials });
    expect(embedder.modelId).toBe(TITAN_TEXT_EMBEDDINGS_V2);

    const vectors = await embedder.embed(['contract spend', '', 'vendor payments by month']);

    expect(vectors.map((vector) => vector.length)).toEqual([256, 256, 256]);
    expect(vectors.map((vector) => vector.indexOf(1))).toEqual([14, -1, 24]);
    expect(vectors[1]!.every((x) => x === 0)).toBe(true);
    // The blank text never reaches Bedrock, which would reject it.
    expect(received).toHaveLength(2);
    const sorted = [...received].sort((a, b) => a.body.inputText.localeCompare(b.body.inputText));
    expect(sorted.map(({ body }) => body)).toEqual([
      { inputText: 'contract spend', dimensions: EMBEDDING_DIMENSIONS, normalize: true },
      { inputText: 'vendor payments by month', dimensions: EMBEDDING_DIMENSIONS, normalize: true },
    ]);
    for (const request of received) {
      expect(request.method).toBe('POST');
      expect(decodeURIComponent(request.path)).toBe('/model/amazon.titan-embed-text-v2:0/invoke');
      expect(request.headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDSTANDIN\/\d{8}\/us-gov-west-1\/bedrock\/aws4_request, SignedHeaders=\S+, Signature=[0-9a-f]{64}$/,
      );
      expect(request.headers['x-amz-security-token']).toBe('stand-in-token');
      expect(request.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
      expect(signatureIsValid(request, credentials.secretAccessKey)).toBe(true);
      expect(signatureIsValid({ ...request, rawBody: '{}' }, credentials.secretAccessKey)).toBe(false);
    }
  });

  it('returns nothing for no texts without calling Bedrock', async () => {
    const { baseURL, received } = await startStandIn(titan);
    const embedder = createEmbedder({ provider: 'bedrock', region: 'us-east-1', baseURL, credentials });
    expect(await embedder.embed([])).toEqual([]);
    expect(received).toHaveLength(0);
  });

  it('explains a refusal (403) as unavailable, naming what to check, without a stack or the secret', async () => {
    // Like Bedrock, the stand-in refuses a request whose signature does not match the account's secret.
    const { baseURL } = await startStandIn((request) =>
      signatureIsValid(request, credentials.secretAccessKey)
        ? titan(request)
        : {
            status: 403,
            body: { message: 'The request signature we calculated does not match the signature you provided.' },
          },
    );
    const wrongSecret = { ...credentials, secretAccessKey: 'not-the-secret' };
    const embedder = createEmbedder({
      provider: 'bedrock',
      region: 'us-east-1',
      baseURL,
      credentials: wrongSecret,
      maxRetries: 0,
    });
    const error = await embedder.embed(['contract spend']).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DataOpsError);
    expect(error).toMatchObject({ code: 'unavailable' });
    const { message } = error as DataOpsError;
    expect(message).toBe(
      'Embedding is unavailable: Bedrock model amazon.titan-embed-text-v2:0 in us-east-1 refused the request ' +
        '(HTTP 403: The request signature we calculated does not match the signature you provided.); ' +
        'check the AWS credentials and that access to the model is enabled for this account and region',
    );
    expect(message).not.toContain(wrongSecret.secretAccessKey);
  });

  it('explains a refused connection as unavailable, naming the endpoint', async () => {
    const { baseURL } = await startStandIn(titan);
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
    const embedder = createEmbedder({ provider: 'bedrock', region: 'us-east-1', baseURL, credentials, maxRetries: 0 });
    await expect(embedder.embed(['contract spend'])).rejects.toMatchObject({
      code: 'unavailable',
      message: expect.stringMatching(
        new RegExp(`^Embedding is unavailable: .* cannot be reached at ${baseURL} \\(.*\\)`),
      ),
    });
  });

  it('says which credentials are missing when none are configured', async () => {
    for (const name of [
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SESSION_TOKEN',
      'AWS_BEARER_TOKEN_BEDROCK',
    ]) {
      vi.stubEnv(name, undefined);
    }
    const { baseURL, received } = await startStandIn(titan);
    const embedder = createEmbedder({ provider: 'bedrock', region: 'us-east-1', baseURL, maxRetries: 0 });
    await expect(embedder.embed(['contract'])).rejects.toMatchObject({
      code: 'unavailable',
      message: expect.stringContaining(
        'has no AWS credentials: configure them for the embedder, or set AWS_ACCESS_KEY_ID',
      ),
    });
    expect(received).toHaveLength(0);
  });

  it('normalises vectors from a model that does not', async () => {
    const embedding = [3, 4, ...new Array(EMBEDDING_DIMENSIONS - 2).fill(0)];
    const { baseURL } = await startStandIn(() => ({ status: 200, body: { embedding, inputTextTokenCount: 1 } }));
    const embedder = createEmbedder({ provider: 'bedrock', region: 'us-east-1', baseURL, credentials });
    const [vector] = await embedder.embed(['contract']);
    expect(vector!.slice(0, 3)).toEqual([0.6, 0.8, 0]);
  });

  it('refuses a model that answers with another width', async () => {
    const { baseURL } = await startStandIn(() => ({
      status: 200,
      body: { embedding: [1, 0], inputTextTokenCount: 1 },
    }));
    const embedder = createEmbedder({ provider: 'bedrock', region: 'us-east-1', baseURL, credentials });
    await expect(embedder.embed(['contract'])).rejects.toThrow(/returned 2 dimensions instead of 256/);
  });
});
