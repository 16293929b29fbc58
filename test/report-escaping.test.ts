import type { RolloutResult } from '../domain/rollout/result';
import { escapeHtml, escapeMarkdown, maskEmails } from '../reports/escape';
import { liftTable } from '../reports/charts/model';
import { renderRolloutMarkdown } from '../reports/rollout-markdown';
import { renderRolloutHtml } from '../reports/rollout-page';
import { parseReportName } from '../webhooks/routes/reports';

const OWNER = '<script>alert(1)</script> | ops\u0007\u202e jane.doe@example.com';
const CREATIVE = 'Run | faster <img src=x onerror=alert(2)> *now*';

/** A finished content rollout whose free text is hostile everywhere a person or a model writes it. */
function hostileResult(): RolloutResult {
  return {
    useCase: 'content-x',
    workflowId: 'rollout-content-x-1',
    plan: { useCase: 'content-x', owner: OWNER, kpi: { metric: 'ctr', targetChange: 0.1, channel: 'paid_search', market: 'DE', deadline: '2027-01-01' } } as unknown as RolloutResult['plan'],
    status: 'completed',
    failure: 'stopped:\n```\n<b>not bold</b>',
    steps: [{ step: 'kpi', status: 'passed', summary: 'a | b\nc <i>x</i>', numbers: {} }],
    content: {
      baseline: { metric: 'ctr', baseline: 0.02, target: 0.022, window: null, impressions: 1000, clicks: 20 },
      variants: [{ variantId: 'v-1', productId: 'shoe', headline: CREATIVE, description: 'd | e', status: 'accepted', attempt: 1, violations: [], model: 'm', promptHash: 'h' }],
      review: { decision: 'approve', by: 'ana@example.com', reason: '<u>fine</u> | go', variants: 1 },
      costPerAcceptedAsset: 0.001,
      experiments: [{ experimentId: 'e-1', productId: 'shoe', winner: 'v-1', decidedBy: 'posterior', rounds: 3, pBest: { 'v-1': 0.97 }, shares: { 'v-1': 1 }, arms: [{ armId: 'v-1', impressions: 100, clicks: 5 }] }],
    },
  } as unknown as RolloutResult;
}

describe('report text escaping', () => {
  it('escapes markup, pipes and control characters in Markdown, so every table row keeps its cells', () => {
    expect(escapeMarkdown('<script>x</script> | a*b*_c_ `d` [e](f)\n\u0007g')).toBe('\\<script\\>x\\</script\\> \\| a\\*b\\*\\_c\\_ \\`d\\` \\[e\\](f) g');
    expect(escapeMarkdown('# not a heading')).toBe('\\# not a heading');
    const md = renderRolloutMarkdown(hostileResult(), { html: 'http://127.0.0.1:8787/reports/rollout-content-x-1' });
    expect(md).toContain('- Owner: \\<script\\>alert(1)\\</script\\> \\| ops j•••@example.com');
    // Outside code blocks (whose text Markdown shows as is), only backslash-escaped markup is left.
    expect(md.replace(/^```\n[\s\S]*?\n```$/m, '')).not.toMatch(/(^|[^\\])<(script|img|b|i|u)\b/m);
    expect(md).not.toMatch(/jane\.doe|ana@/);
    for (const hidden of ['\u0007', '\u202e']) expect(md).not.toContain(hidden);
    // A row of the steps table and of the creatives table: the cells a pipe in the text would have split.
    const cells = (line: string) => line.split(/(?<!\\)\|/).length - 2;
    expect(cells(md.split('\n').find((l) => l.startsWith('| kpi '))!)).toBe(3);
    expect(cells(md.split('\n').find((l) => l.startsWith('| shoe '))!)).toBe(6);
    // The failure's code block cannot be closed early by a fence in the text.
    const block = md.slice(md.indexOf('## Why it stopped'));
    expect(block.match(/^```$/gm)).toHaveLength(2);
  });

  it('renders every piece of free text in the HTML page as text: no element comes of it', async () => {
    const html = await renderRolloutHtml(hostileResult());
    expect(html).not.toMatch(/<(script|img|b|i|u)\b/);
    expect(html).toContain('&lt;img src=x onerror=alert(2)&gt;');
    expect(html).toMatch(/<dd>&lt;script&gt;alert\(1\)&lt;\/script&gt; \| ops +j•••@example.com<\/dd>/);
    for (const hidden of ['\u0007', '\u202e']) expect(html).not.toContain(hidden);
    expect(html).not.toMatch(/jane\.doe|ana@/);
    // The arm's text is shown beside its id in the bandit's table.
    expect(html).toMatch(/<td><code>v-1<\/code><\/td><td>“Run \| faster &lt;img src=x onerror=alert\(2\)&gt; \*now\*” \/ “d \| e”<\/td>/);
    expect(html.indexOf('id="headline"')).toBeLessThan(html.indexOf('<h1>'));
  });

  it('escapes HTML attributes and text, and masks e-mail addresses', () => {
    expect(escapeHtml(`"'<&>`)).toBe('&quot;&#39;&lt;&amp;&gt;');
    expect(maskEmails('owner jane.doe@example.com, team growth')).toBe('owner j•••@example.com, team growth');
  });

  it('reads a report route name as workflow id and format', () => {
    expect(parseReportName('rollout-a-1')).toEqual({ workflowId: 'rollout-a-1', format: 'html' });
    expect(parseReportName('rollout-a-1.md')).toEqual({ workflowId: 'rollout-a-1', format: 'md' });
    expect(parseReportName('rollout-a.1.json')).toEqual({ workflowId: 'rollout-a.1', format: 'json' });
  });

  it("derives lift and gain from the evaluation's rank deciles", () => {
    // Deciles by ascending score, as the evaluation query numbers them; the top decile converts most.
    const calibration = Array.from({ length: 10 }, (_, i) => ({ bin: i + 1, meanPredicted: (i + 1) / 100, observedRate: (i + 1) / 100, count: 100 }));
    const rows = liftTable({ calibration });
    expect(rows[0]).toMatchObject({ decile: 1, rate: 0.1, users: 100 });
    expect(rows[0]!.lift).toBeCloseTo(0.1 / 0.055, 10);
    expect(rows[0]!.cumulativeGain).toBeCloseTo(10 / 55, 10);
    expect(rows[9]!.cumulativeGain).toBeCloseTo(1, 10);
    expect(rows[9]!.cumulativeShare).toBeCloseTo(1, 10);
  });
});
