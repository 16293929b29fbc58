import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ApprovalDecision } from './approval';
import type { RolloutStatus } from './status';

/**
 * Search attributes aimo sets on its workflows so the UI's list can filter by
 * use case, step and status. They are registered on the server at start-up.
 */
export const USE_CASE = defineSearchAttributeKey('AimoUseCase', SearchAttributeType.KEYWORD);
export const STEP = defineSearchAttributeKey('AimoStep', SearchAttributeType.KEYWORD);
export const STATUS = defineSearchAttributeKey('AimoStatus', SearchAttributeType.KEYWORD);

export const AIMO_SEARCH_ATTRIBUTES = [USE_CASE, STEP, STATUS] as const;

/** Workflow type names, for clients that start workflows by name (webhooks, schedules, CLI). */
export const WORKFLOW_TYPES = {
  rollout: 'rollout',
  retrain: 'retrain',
  drift: 'driftCheck',
  jumps: 'jumpCheck',
  rollback: 'rollback',
  retention: 'retention',
  seed: 'seedWarehouse',
  marketDay: 'marketDay',
} as const;

/** Approve or reject the gate a rollout waits at; the validator refuses malformed decisions. */
export const approvalUpdate = defineUpdate<{ accepted: true; gate: string }, [ApprovalDecision]>('approval');

/** The current step and every finished step's outcome and key numbers. */
export const statusQuery = defineQuery<RolloutStatus>('status');

/** Workflow ids that say what they are, e.g. rollout-paid-search-cac-2026-11-28. */
export function rolloutWorkflowId(useCase: string, suffix: string): string {
  return `rollout-${useCase}-${suffix}`;
}
