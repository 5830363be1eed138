import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { dataProducts } from '../../../db/schema/index.js';
import { dataProductSchema } from '../../catalog/schemas.js';
import { defineTool, fenceUntrusted, readOnly } from '../../tool.js';
import { loadPipeline } from '../store.js';
import { readProductDocumentation } from './product-docs.js';

export const pipelinesDocs = defineTool({
  name: 'pipelines_docs',
  title: "Documentation of a pipeline's data products",
  description:
    'Documentation of the data products a pipeline published: a data dictionary (each column with its type, marking and ' +
    'origin) and a changelog, as markdown and as data.',
  input: z
    .object({
      pipeline: z.string().min(1).max(200).describe('Pipeline id or name'),
    })
    .strict(),
  output: z.object({
    pipeline: z.object({ id: z.string(), name: z.string() }),
    products: z.array(
      dataProductSchema.extend({
        urn: z.string(),
        qualifiedName: z.string(),
        classification: z.string(),
        markdown: z.string(),
      }),
    ),
  }),
  annotations: readOnly,
  handler: async ({ pipeline }, ctx) => {
    const found = await loadPipeline(ctx, pipeline);
    const rows = await ctx.db
      .select({ assetId: dataProducts.assetId })
      .from(dataProducts)
      .where(eq(dataProducts.pipelineId, found.id))
      .orderBy(dataProducts.nodeId);
    const products = [];
    for (const row of rows) {
      const doc = await readProductDocumentation(ctx, row.assetId);
      if (!doc) continue;
      const { domain: _domain, description: _description, owner: _owner, ...shown } = doc;
      products.push(shown);
    }
    return { pipeline: { id: found.id, name: found.name }, products };
  },
  render: (o) =>
    o.products.length
      ? o.products.map((p) => fenceUntrusted(p.markdown)).join('\n\n')
      : `Pipeline ${fenceUntrusted(o.pipeline.name)} has published no data product you may see; a production run publishes its destination tables.`,
});
