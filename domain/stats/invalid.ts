import { NonRetryableError } from '../errors';

/** Bad input to a statistic is a caller's bug or bad data: retrying cannot fix it. */
export function invalidInput(message: string): NonRetryableError {
  return new NonRetryableError('InvalidStatisticsInput', message);
}

export function assertConfidence(confidence: number): number {
  if (!(confidence > 0 && confidence < 1)) throw invalidInput(`confidence must be strictly between 0 and 1, got ${confidence}`);
  return confidence;
}
