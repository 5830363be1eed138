import { z } from 'zod';
import { classificationLevels } from '../../../db/schema/types.js';
import { additive, defineTool, fenceUntrusted } from '../../tool.js';
import { maxUploadBytes, maxUploadRows, uploadFile } from './uploads.js';

export const pipelinesUpload = defineTool({
  name: 'pipelines_upload',
  title: 'Upload a file for a pipeline',
  description:
    `Upload a small CSV, TSV, JSON, NDJSON or Parquet file (at most ${maxUploadBytes} bytes and ${maxUploadRows} rows) for a ` +
    'pipeline. Returns an upload id for a source_upload node ({upload: <id>}). Parquet goes as base64 (encoding: base64). ' +
    "Marked with a classification (default U) up to your clearance. The pipeline's owner or a steward.",
  input: z
    .object({
      pipeline: z.string().min(1).max(200).describe('The pipeline id or name'),
      name: z.string().min(1).max(200).describe('The file name, e.g. targets.csv; its extension tells the format'),
      content: z
        .string()
        .min(1)
        .max(Math.ceil((maxUploadBytes * 4) / 3) + 4)
        .describe('The file: text as is, or base64'),
      encoding: z.enum(['text', 'base64']).default('text'),
      format: z.enum(['csv', 'tsv', 'json', 'ndjson', 'parquet']).optional().describe('When the name does not tell'),
      classification: z.enum(classificationLevels).optional(),
    })
    .strict(),
  output: z.object({
    uploadId: z.string(),
    name: z.string(),
    format: z.string(),
    bytes: z.number(),
    rows: z.number(),
    classification: z.string(),
    columns: z.array(z.object({ name: z.string(), type: z.string() })),
  }),
  annotations: additive,
  handler: (input, ctx) => uploadFile(ctx, input),
  render: (u) =>
    `Uploaded ${fenceUntrusted(u.name)} (${u.format}, ${u.bytes} bytes, ${u.rows} rows, marked ${u.classification}) as ${u.uploadId}: ` +
    `${u.columns.map((c) => `${fenceUntrusted(c.name)} ${c.type}`).join(', ')}. Add a source_upload node with config {upload: "${u.uploadId}"}.`,
});
