/** A number for a step summary: four significant digits, or n/a when there is none. */
export function formatNumber(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? 'n/a' : Number(value.toPrecision(4)).toString();
}

/** A relative change as a signed percentage, e.g. -15 %. */
export function formatChange(change: number): string {
  return `${change > 0 ? '+' : ''}${Math.round(change * 1000) / 10} %`;
}

export const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

export const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;

/** A count in groups of three digits, e.g. 27 517, as messages for people print it. */
export function groupDigits(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
}
