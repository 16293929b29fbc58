import type { ProductFactsReport } from '../../domain/content/results';
import type { ProductFacts } from '../../domain/content/rules';
import type { ContentPlan } from '../../domain/plan';
import type { RolloutContext } from '../../domain/rollout/context';
import { formatTable, tableRef } from '../../domain/table-ref';
import { stableJson, upsertAimoRow } from '../../store/aimo-tables';
import type { ActivityDependencies } from '../dependencies';

const REQUIRED_PRODUCT_COLUMNS = ['product_id', 'name', 'price', 'currency', 'margin', 'stock', 'allowed_claims', 'description'];

export function createProductFactsActivities({ warehouse }: ActivityDependencies) {
  const d = warehouse.dialect;
  const q = (c: string) => d.quote(c);
  return {
    /**
     * Steps 2–3 (content): the product facts the creatives are grounded in,
     * read with bound parameters and kept per rollout (aimo.content_facts).
     * A missing table, column or product is a blocking gap; stock 0 a warning.
     */
    async loadProductFacts({ ctx, plan }: { ctx: RolloutContext; plan: ContentPlan }): Promise<ProductFactsReport> {
      const table = tableRef(plan.content.productsTable, plan.sources.schema);
      const where = formatTable(table);
      if (!(await warehouse.tableExists(table))) return { facts: [], blocking: [`products: table ${where} does not exist`], warnings: [] };
      const columns = (await warehouse.columns(table)).map((c) => c.name.toLowerCase());
      const missingColumns = REQUIRED_PRODUCT_COLUMNS.filter((c) => !columns.includes(c));
      if (missingColumns.length) return { facts: [], blocking: [`products: ${where} lacks column(s) ${missingColumns.join(', ')}`], warnings: [] };
      const params = Object.fromEntries(plan.content.products.map((id, i) => [`p${i}`, id]));
      const rows = await warehouse.query<{ product_id: string; name: string | null; price: number | null; currency: string | null; margin: number | null; stock: number | null; allowed_claims: string | null; description: string | null }>(
        `SELECT ${REQUIRED_PRODUCT_COLUMNS.map(q).join(', ')} FROM ${d.table(table)}
         WHERE ${q('product_id')} IN (${plan.content.products.map((_, i) => `@p${i}`).join(', ')}) ORDER BY ${q('product_id')}`,
        params,
      );
      const blocking: string[] = [];
      const warnings: string[] = [];
      const facts: ProductFacts[] = [];
      for (const id of plan.content.products) {
        const r = rows.find((x) => x.product_id === id);
        if (!r) {
          blocking.push(`products: product ${id} is not in ${where}`);
          continue;
        }
        if (r.name === null || r.price === null || r.currency === null || r.stock === null) {
          blocking.push(`products: product ${id} lacks a name, price, currency or stock`);
          continue;
        }
        if (Number(r.stock) <= 0) warnings.push(`products: ${id} is out of stock; its ads may not claim availability`);
        facts.push({
          productId: id,
          name: r.name,
          price: Number(r.price),
          currency: r.currency,
          margin: Number(r.margin ?? 0),
          stock: Number(r.stock),
          allowedClaims: (r.allowed_claims ?? '').split('|').map((c) => c.trim()).filter(Boolean),
          description: r.description ?? '',
        });
      }
      for (const f of facts) {
        await upsertAimoRow(warehouse, 'content_facts', { workflow_id: ctx.workflowId, product_id: f.productId, use_case: ctx.useCase, facts_json: stableJson(f) });
      }
      return { facts, blocking, warnings };
    },
  };
}
