import { z } from 'zod';
import { durationToMs } from './duration';

/**
 * How aimo refuses input: every problem by its path, unknown fields named
 * with the closest known one ("approval.beforeExperimnet: unknown field; did
 * you mean beforeExperiment?"), so a typo never silently means a default.
 */
export function describeIssues(schema: z.ZodType, issues: readonly z.core.$ZodIssue[], root = '(input)'): string[] {
  return issues.flatMap((issue) => {
    const at = issue.path.map(String);
    if (issue.code !== 'unrecognized_keys') return [`${at.length ? at.join('.') : root}: ${issue.message}`];
    const known = knownKeys(schema, issue.path);
    return issue.keys.map((key) => {
      const suggestion = closest(key, known);
      return `${[...at, key].join('.')}: unknown field${suggestion ? `; did you mean ${suggestion}?` : known.length ? `; known fields here: ${known.join(', ')}` : ''}`;
    });
  });
}

/** The keys an object schema declares at a path, looking through optional, default, pipe and union wrappers. */
function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let node: z.ZodType | undefined = schema;
  for (const segment of path) {
    node = node ? childOf(unwrap(node), segment) : undefined;
  }
  const target = node ? unwrap(node) : undefined;
  return target instanceof z.ZodObject ? Object.keys(target.shape) : [];
}

function childOf(node: z.ZodType, segment: PropertyKey): z.ZodType | undefined {
  if (node instanceof z.ZodObject) return (node.shape as Record<string, z.ZodType>)[String(segment)];
  if (node instanceof z.ZodArray) return node.element as z.ZodType;
  if (node instanceof z.ZodRecord) return node.valueType as z.ZodType;
  return undefined;
}

function unwrap(node: z.ZodType): z.ZodType {
  let current = node;
  for (let i = 0; i < 10; i++) {
    if (current instanceof z.ZodOptional || current instanceof z.ZodNullable || current instanceof z.ZodDefault || current instanceof z.ZodPrefault || current instanceof z.ZodReadonly) {
      current = current.unwrap() as z.ZodType;
    } else if (current instanceof z.ZodPipe) {
      current = current.in as z.ZodType;
    } else break;
  }
  return current;
}

/** The known key a typo most likely meant: at most a third of its letters off. */
export function closest(key: string, known: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (!best || distance < best.distance) best = { key: candidate, distance };
  }
  return best && best.distance <= Math.max(1, Math.floor(best.key.length / 3)) ? best.key : undefined;
}

/** Edits between two words, a swap of neighbours counting as one (tabel → table). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** Control characters (newlines and tabs included) never reach an audit row, a log line or a report. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * Free text people write (an owner, a reason): trimmed, control characters
 * replaced by spaces, and at most `max` characters. Renderers still escape it.
 */
export function freeText(options: { min?: number; max: number; what: string }) {
  return z
    .string({ message: `${options.what}: use text` })
    .transform((text) => text.replace(CONTROL, ' ').replace(/\s+/g, ' ').trim())
    .pipe(
      z
        .string()
        .min(options.min ?? 0, options.min === 1 ? `say ${options.what}` : `give ${options.what} of at least ${options.min ?? 0} characters`)
        .max(options.max, `${options.what} may have at most ${options.max} characters`),
    );
}

/** A real calendar day written as YYYY-MM-DD: 2026-13-45 and 2026-02-30 are refused. */
export const calendarDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'use an ISO date, e.g. 2026-03-31')
  .refine((text) => {
    const day = new Date(`${text}T00:00:00Z`);
    return !Number.isNaN(day.getTime()) && day.toISOString().slice(0, 10) === text;
  }, 'not a day of the calendar: use an ISO date such as 2026-03-31');

const DURATION = /^\d+(\.\d+)?\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?)$/;

/** A duration as people write it ("14 days", "30 seconds", "6h"), longer than zero and at most `max`. */
export function boundedDuration(max: string) {
  const maxMs = durationToMs(max);
  return z
    .string()
    .regex(DURATION, 'use a duration such as "14 days", "30 seconds" or "6h"')
    .refine((text) => !DURATION.test(text) || durationToMs(text) > 0, 'use a duration longer than zero')
    .refine((text) => !DURATION.test(text) || durationToMs(text) <= maxMs, `use a duration of at most ${max}`);
}
