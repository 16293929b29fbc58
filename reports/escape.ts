/**
 * Free text in reports (owners, reasons, creative text, plan names) comes
 * from people and models: it is escaped for the format it lands in, so markup
 * in it shows as text and never runs or breaks a table.
 */

// C0 and C1 controls, the Unicode line separators and the bidirectional overrides: they hide or reorder text, or break lines in a table cell.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
// The same but for tab and newline, which HTML text (a <pre> block) keeps.
// eslint-disable-next-line no-control-regex
const CONTROL_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for HTML element content and quoted attribute values. */
export function escapeHtml(text: unknown): string {
  return String(text ?? '')
    .replace(CONTROL_BUT_LINES, ' ')
    .replace(/[&<>"']/g, (c) => HTML_ENTITIES[c]!);
}

/**
 * Text for one line of Markdown, a table cell included: emphasis, code,
 * links, HTML and pipes are backslash-escaped, and so is a heading or list
 * marker it starts with.
 */
export function escapeMarkdown(text: unknown): string {
  return String(text ?? '')
    .replace(CONTROL, ' ')
    .replace(/\s+/g, ' ')
    .replace(/[\\`*_[\]<>|~&]/g, (c) => `\\${c}`)
    .replace(/^([#+-])/, '\\$1');
}

/** Text inside a fenced code block: only a fence could end it early. */
export function escapeMarkdownBlock(text: unknown): string {
  return String(text ?? '').replace(CONTROL_BUT_LINES, ' ').replace(/`{3,}/g, (run) => "'".repeat(run.length));
}

/** An identifier in a Markdown code span: a backtick or pipe would end the span or the cell. */
export function markdownCode(text: unknown): string {
  return `\`${String(text ?? '').replace(CONTROL, ' ').replace(/[`|]/g, '_')}\``;
}

/**
 * E-mail addresses in free text (a plan owner is often one) are shown as
 * their first letter and domain: a report is read by more people than the
 * plan's authors, and the address is personal data.
 */
export function maskEmails(text: string): string {
  return text.replace(/([A-Za-z0-9])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})/g, '$1•••@$2');
}
