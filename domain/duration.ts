const UNIT_MS: Record<string, number> = {
  ms: 1, millisecond: 1, milliseconds: 1,
  s: 1000, sec: 1000, secs: 1000, second: 1000, seconds: 1000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hr: 3_600_000, hrs: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
  w: 604_800_000, week: 604_800_000, weeks: 604_800_000,
};

/** Milliseconds of a duration as plans write them ("14 days", "30 seconds", "6h"). */
export function durationToMs(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/.exec(text.trim());
  const unit = match ? UNIT_MS[match[2]!] : undefined;
  if (!match || unit === undefined) throw new Error(`not a duration: ${JSON.stringify(text)}`);
  return Math.round(Number(match[1]) * unit);
}
