/**
 * EvaluationGate lets at most `limit` streams of a server work (ask the core, send) at once,
 * first come first served. A change wakes every stream of a service together: unbounded, all of
 * them would advance in lockstep through each await of the core and the first response would go
 * out about when the last does; through the gate the first streams are answered, and their
 * memory freed, while the rest wait their turn. The total work is the same.
 */
export class EvaluationGate {
  private running = 0;
  private waiting: (() => void)[] = [];
  private head = 0;

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`EvaluationGate limit must be a whole number above 0, got ${limit}`);
  }

  /** run does `work` once a place is free, and frees it when the work settles. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running < this.limit) this.running++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  /** How many wait for a place now (for tests and metrics). */
  get queued(): number {
    return this.waiting.length - this.head;
  }

  private release(): void {
    if (this.head < this.waiting.length) {
      // The place passes to the next in line, still counted as running.
      const next = this.waiting[this.head++]!;
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting = this.waiting.slice(this.head);
        this.head = 0;
      }
      next();
    } else this.running--;
  }
}
