import type { Warehouse } from '../warehouse/warehouse';
import { servedScores, servingView, type RegisteredVersion } from './registry';

/** The constant that keys canary buckets; a user stays in or out of the canary across checks. */
const CANARY_KEY = 'aimo-canary:';

/** SQL condition: this user is in the canary share (stable per user). */
export function inCanary(wh: Warehouse, userColumn: string, share: number): string {
  if (!(share > 0 && share < 1)) throw new Error(`canary share must be between 0 and 1, got ${share}`);
  return `${wh.dialect.unitHash(`'${CANARY_KEY}' || ${userColumn}`)} < ${share}`;
}

/**
 * Serves a share of users from the challenger and the rest from the champion,
 * in one CREATE OR REPLACE VIEW. A view cannot take bound parameters, so only
 * validated identifiers and a checked number go into its text.
 */
export async function startCanary(wh: Warehouse, useCase: string, champion: RegisteredVersion, challenger: RegisteredVersion, share: number): Promise<void> {
  const d = wh.dialect;
  const q = (c: string) => d.quote(c);
  const canary = inCanary(wh, `c.${q('user_id')}`, share);
  await wh.execute(
    d.createOrReplaceView(
      servingView(useCase),
      `SELECT c.${q('user_id')},
              CASE WHEN ${canary} AND n.${q('score')} IS NOT NULL THEN n.${q('score')} ELSE c.${q('score')} END AS ${q('score')},
              CASE WHEN ${canary} AND n.${q('score')} IS NOT NULL THEN n.${q('version_id')} ELSE c.${q('version_id')} END AS ${q('version_id')}
       FROM ${d.table(servedScores(champion))} c
       LEFT JOIN ${d.table(servedScores(challenger))} n ON n.${q('user_id')} = c.${q('user_id')}`,
    ),
  );
}
