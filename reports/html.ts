import { escapeHtml } from './escape';
import { chartSvg, type ChartSpec } from './vega';

/** A fragment of a report page that is already HTML: built only by the helpers here, which escape what they are given. */
export interface Html {
  readonly html: string;
}

const raw = (html: string): Html => ({ html });

export const text = (value: unknown): Html => raw(escapeHtml(value));

/** An element whose children are escaped text or fragments; attribute values are escaped too. */
export function el(tag: string, attrs: Record<string, string | undefined>, ...children: Array<Html | string | null | undefined | false>): Html {
  const attributes = Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${escapeHtml(v)}"`)
    .join('');
  const inner = children.map((c) => (c === null || c === undefined || c === false ? '' : typeof c === 'string' ? escapeHtml(c) : c.html)).join('');
  return raw(`<${tag}${attributes}>${inner}</${tag}>`);
}

export const join = (parts: ReadonlyArray<Html | null | undefined | false>): Html => raw(parts.filter((p): p is Html => !!p).map((p) => p.html).join(''));

/** A table with a header row; each cell is text or a fragment. */
export function table(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<Html | string | number | null>>, attrs: Record<string, string> = {}): Html {
  const cell = (c: Html | string | number | null) => el('td', {}, c === null ? '—' : typeof c === 'number' ? String(c) : c);
  return el('table', attrs, el('thead', {}, el('tr', {}, ...header.map((h) => el('th', {}, h)))), el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map(cell)))));
}

/** A chart as an inline SVG figure; `name` identifies it on the page (data-chart). The SVG comes from Vega, whose text it escapes itself. */
export async function figure(name: string, spec: ChartSpec | undefined): Promise<Html | undefined> {
  if (!spec) return undefined;
  const svg = await chartSvg(spec);
  return raw(`<figure class="chart" data-chart="${escapeHtml(name)}" aria-label="${escapeHtml(spec.title)}">${svg}</figure>`);
}

export const section = (title: string, ...children: Array<Html | null | undefined | false>): Html => el('section', {}, el('h2', {}, title), join(children));

const STYLE = `
:root{color-scheme:light}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2933;background:#f5f7fa;margin:0}
main{max-width:1080px;margin:0 auto;padding:24px 32px 48px;background:#fff;min-height:100vh;box-shadow:0 0 0 1px #e4e7eb}
.headline{font-size:20px;font-weight:600;margin:4px 0 12px;padding:12px 16px;border-radius:8px;border-left:6px solid #9aa5b1;background:#f0f4f8}
.headline.met{border-color:#3aa76d;background:#e3f9ec}.headline.not-met{border-color:#c0392b;background:#fdecea}
h1{font-size:26px;margin:8px 0 4px}h2{font-size:19px;margin:32px 0 10px;padding-bottom:4px;border-bottom:1px solid #e4e7eb}h3{font-size:16px;margin:20px 0 8px}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:8px 0}dl.meta dt{color:#616e7c}dl.meta dd{margin:0}
table{border-collapse:collapse;margin:8px 0 12px;font-size:13px}th,td{border:1px solid #e4e7eb;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f5f7fa}
.charts{display:flex;flex-wrap:wrap;gap:16px 28px}figure.chart{margin:8px 0}figure.chart svg{display:block}
.pass{color:#2d8a57;font-weight:600}.fail{color:#c0392b;font-weight:600}code{font-size:13px;background:#f0f4f8;padding:1px 4px;border-radius:3px}
footer{margin-top:40px;color:#7b8794;font-size:12px}
`;

/**
 * A whole report page: one self-contained document (no script, no external
 * resource), its first line the answer. Served with a CSP that forbids
 * scripts, so even a mistake in escaping could not run one.
 */
export function page(options: { title: string; headline: string; verdict: 'met' | 'not-met' | 'neutral'; body: Html; footer?: string }): string {
  return (
    '<!doctype html>' +
    el(
      'html',
      { lang: 'en' },
      el('head', {}, raw('<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'), el('title', {}, options.title), raw(`<style>${STYLE}</style>`)),
      el(
        'body',
        {},
        el('main', {}, el('p', { class: `headline ${options.verdict}`, id: 'headline' }, options.headline), options.body, options.footer ? el('footer', {}, options.footer) : null),
      ),
    ).html
  );
}
