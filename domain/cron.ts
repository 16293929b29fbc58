import { Cron } from 'croner';

/**
 * Whether Temporal's schedules can run on this cron expression: five fields
 * (minute hour day-of-month month day-of-week) or six with seconds first,
 * names and macros as croner and Temporal both read them. Parsed, never
 * scheduled: the job is created paused and stopped at once.
 */
export function isCron(text: string): boolean {
  const fields = text.trim().split(/\s+/);
  if (text.trim().startsWith('@')) return /^@(yearly|annually|monthly|weekly|daily|hourly)$/.test(text.trim());
  if (fields.length < 5 || fields.length > 6) return false;
  try {
    new Cron(text, { paused: true }).stop();
    return true;
  } catch {
    return false;
  }
}
