/**
 * The simulated calendar. Days are counted from the dataset's first day.
 * Activity is drawn per user and chunk of CHUNK_DAYS days: every random
 * draw of a session or an order is keyed by (user, chunk, candidate), so a
 * day's rows depend only on the seed, the options and the day — never on
 * how long the period is or in which pieces it was generated. That is what
 * lets a day be appended later and come out exactly as a longer generation
 * would have made it. A piece of work never crosses a chunk boundary.
 */
export const CHUNK_DAYS = 30;

/** Campaign flights run back to back, FLIGHT_DAYS each, from the first day (two flights split the default 90 days) */
export const FLIGHT_DAYS = 45;

/** Days [fromDay, toDay) inside one chunk */
export interface DayPiece {
  readonly chunk: number;
  readonly fromDay: number;
  readonly toDay: number;
}

/** The days [fromDay, toDay) cut at chunk boundaries, in order */
export function piecesOf(fromDay: number, toDay: number): DayPiece[] {
  const pieces: DayPiece[] = [];
  for (let day = fromDay; day < toDay; ) {
    const chunk = Math.floor(day / CHUNK_DAYS);
    const end = Math.min(toDay, (chunk + 1) * CHUNK_DAYS);
    pieces.push({ chunk, fromDay: day, toDay: end });
    day = end;
  }
  return pieces;
}

/** Days from one ISO date to another (negative when `toIso` comes first) */
export function daysBetween(fromIso: string, toIso: string): number {
  return Math.round((Date.parse(`${toIso}T00:00:00Z`) - Date.parse(`${fromIso}T00:00:00Z`)) / 86_400_000);
}
