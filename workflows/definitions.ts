import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Search attributes aimo sets on its workflows so the UI's list can filter by
 * use case, step and status. They are registered on the server at start-up.
 */
export const USE_CASE = defineSearchAttributeKey('AimoUseCase', SearchAttributeType.KEYWORD);
export const STEP = defineSearchAttributeKey('AimoStep', SearchAttributeType.KEYWORD);
export const STATUS = defineSearchAttributeKey('AimoStatus', SearchAttributeType.KEYWORD);

export const AIMO_SEARCH_ATTRIBUTES = [USE_CASE, STEP, STATUS] as const;
