/**
 * At most `limit` tasks at a time, the rest queued in arrival order. The
 * warehouse adapters use it so that the worker can take every activity the
 * server hands it (no slot cap: schedule-to-start stays what the SDK gives)
 * while the warehouse itself sees no more concurrent queries than it serves
 * well.
 */
export class ConcurrencyLimit {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!(Number.isInteger(limit) && limit >= 1)) throw new Error(`a concurrency limit must be a whole number of at least 1, got ${limit}`);
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      // The slot passes straight to the next in line, so a late arrival cannot overtake it.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
