import { z } from 'zod';
import { type LoadedUpload, loadUploads } from '../uploads/upload-access.js';
import { defineNode } from './node-module.js';

export const sourceUpload = defineNode({
  type: 'source_upload',
  config: z.object({ upload: z.string().uuid().describe('The upload id pipelines_upload returned') }).strict(),
  label: 'Uploaded file',
  category: 'source',
  inputs: [],
  help: 'Reads the rows of a CSV, JSON or Parquet file uploaded with pipelines_upload.',
  docs: {
    summary:
      "Reads the rows of a CSV, TSV, JSON, NDJSON or Parquet file of at most 1 MB and 20,000 rows (a Parquet file's declared row count is checked before any row is read), sent with pipelines_upload, read by the files connector's readers and kept with the pipeline under the uploader's marking. A pipeline runs inside a source database, so one with an upload also reads a dataset or a query to join or combine it with.",
    fields: { upload: 'The upload id pipelines_upload returned.' },
    example: { upload: '2f1c7a52-5d43-4c4e-9a43-0b7e0d6b2a11' },
  },
  async preload(ctx, nodes) {
    const id = (node: (typeof nodes)[number]) => String((node.data.config as { upload?: unknown }).upload);
    const uploads = await loadUploads(ctx, nodes.map(id));
    const found = new Map<string, LoadedUpload>();
    for (const node of nodes) {
      const upload = uploads.get(id(node));
      if (upload) found.set(node.id, upload);
    }
    return found;
  },
  analyze(a, _upstream, { loaded, fail }) {
    const upload = loaded as LoadedUpload | undefined;
    if (!upload) {
      // Worded the same whether the upload does not exist or is marked above the caller's clearance.
      fail(`no upload ${a.config.upload}: upload the file with pipelines_upload and use the id it returns`);
      return false;
    }
    a.upload = upload;
    a.marking = upload.classification;
    a.columns = upload.columns.map((c) => ({
      name: c.name,
      type: c.type,
      sensitivity: null,
      classification: upload.classification,
      tags: [],
    }));
    return undefined;
  },
  compile(node, { d }) {
    // The rows travel as one JSON literal, each column cast to the type its reader found (one of the
    // types uploads/uploads.ts allows, never text a user wrote).
    const q = d.quote;
    const rows = d.literal(JSON.stringify(node.upload!.rows));
    const list = node.upload!.columns.map((c, i) =>
      c.type === 'json' ? `(r.v -> ${i})::json as ${q(c.name)}` : `(r.v ->> ${i})::${c.type} as ${q(c.name)}`,
    );
    return `select ${list.join(', ')} from jsonb_array_elements(${rows}::jsonb) as r(v)`;
  },
  trace: (node) => ({ origin: 'computed', node: node.node.id, expression: null }),
});
