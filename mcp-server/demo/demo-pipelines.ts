import { assetUrn } from '../catalog/urn.js';
import type { ServiceContext } from '../context.js';
import { addPipelineTest } from '../pipelines/pipeline-tests.js';
import { listPipelines } from '../pipelines/store.js';
import { suggestPipeline } from '../pipelines/suggest/suggest.js';

/** The goal the README's examples use; the demo builds it the way `pipelines_suggest` does. */
export const demoPipelineGoal = 'monthly contract spend by vendor';

const demoUrn = (namespace: string, name: string) => assetUrn('postgres', 'demo', namespace, name);

/**
 * Saves the demo's pipeline, "monthly contract spend by vendor", as `pipelines_suggest` proposes it, with a
 * pipeline test of paid invoices adding up per vendor and month, so `dataops pipelines export-dbt` and
 * `pipelines_deploy` work on a fresh demo. It is not deployed: a prod run would publish a data product into
 * the demo's catalog. Loading the demo again keeps the pipeline that is there.
 */
export async function loadDemoPipelines(ctx: ServiceContext): Promise<{ created: string[] }> {
  const existing = await listPipelines(ctx, 1000);
  if (existing.some((p) => p.name === demoPipelineGoal)) return { created: [] };
  const suggested = await suggestPipeline(ctx, { goal: demoPipelineGoal });
  const { nodes } = suggested.graph;
  const source = (urn: string) => nodes.find((n) => n.type === 'source_dataset' && n.data.config.urn === urn)?.id;
  const payments = source(demoUrn('contracts', 'payments'));
  const contracts = source(demoUrn('contracts', 'contracts'));
  const vendors = source(demoUrn('contracts', 'vendors'));
  const output = nodes.find((n) => n.type === 'destination_table')?.id;
  if (suggested.pipeline && payments && contracts && vendors && output) {
    await addPipelineTest(ctx, suggested.pipeline.id, {
      name: 'paid invoices add up per vendor and month',
      inputs: {
        [payments]: [
          { payment_id: 1, contract_id: 10, paid_on: '2026-03-05', amount: 100, status: 'Paid' },
          { payment_id: 2, contract_id: 10, paid_on: '2026-03-20', amount: '50.50', status: 'Paid' },
          { payment_id: 3, contract_id: 10, paid_on: '2026-04-02', amount: 70, status: 'Paid' },
          { payment_id: 4, contract_id: 10, paid_on: null, amount: 999, status: 'Pending' },
        ],
        [contracts]: [{ contract_id: 10, vendor_id: 7 }],
        [vendors]: [{ vendor_id: 7, legal_name: 'Acme Federal' }],
      },
      expect: {
        [output]: [
          { vendor_id: 7, legal_name: 'Acme Federal', month: '2026-03-01', spend: 150.5 },
          { vendor_id: 7, legal_name: 'Acme Federal', month: '2026-04-01', spend: 70 },
        ],
      },
    });
  }
  return { created: suggested.pipeline ? [suggested.pipeline.name] : [] };
}
