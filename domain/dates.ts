/** Calendar arithmetic on ISO dates (YYYY-MM-DD), in UTC, without the clock. */
export function addDaysIso(date: string, days: number): string {
  const ms = Date.parse(`${date}T00:00:00Z`);
  if (Number.isNaN(ms)) throw new Error(`not an ISO date: ${date}`);
  return new Date(ms + days * 86_400_000).toISOString().slice(0, 10);
}
