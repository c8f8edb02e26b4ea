import { completeDrain } from './drain';
import { DrainCompletion, DrainScheduler } from './ports';

/**
 * TimerDrainScheduler runs drain completions on an in-process timer: for the local runner,
 * which lives as long as its process. (A Lambda is frozen between invocations, so in AWS the
 * delay is an SQS message instead.)
 */
export class TimerDrainScheduler implements DrainScheduler {
  /** Pending timers, each with what marks its completion finished if it is cancelled. */
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  /** Completions scheduled and not finished yet: waiting on their timer, or running. */
  private readonly unfinished = new Set<Promise<void>>();

  constructor(
    private readonly run: (completion: DrainCompletion) => Promise<unknown>,
    private readonly onError: (completion: DrainCompletion, error: unknown) => void,
  ) {}

  async schedule(completion: DrainCompletion, delaySeconds: number): Promise<void> {
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const done = () => {
      this.unfinished.delete(finished);
      finish();
    };
    this.unfinished.add(finished);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.run(completion)
        .catch((err: unknown) => this.onError(completion, err))
        .finally(done);
    }, delaySeconds * 1000);
    timer.unref();
    this.timers.set(timer, done);
  }

  /** pending counts the completions not run yet. */
  get pending(): number {
    return this.timers.size;
  }

  /**
   * settled resolves once every completion scheduled so far has run (or was cancelled): what
   * a caller waits on, instead of polling the table against a wall-clock budget.
   */
  async settled(): Promise<void> {
    while (this.unfinished.size > 0) await Promise.all([...this.unfinished]);
  }

  /** cancelAll drops the pending completions (on shutdown). */
  cancelAll(): void {
    for (const [timer, done] of this.timers) {
      clearTimeout(timer);
      done();
    }
    this.timers.clear();
  }
}

/**
 * timerDrainScheduler is the local runner's scheduler: it runs completeDrain (complete the
 * hook, remove the endpoint) on a timer, reporting failures through `onError`.
 */
export function timerDrainScheduler(
  deps: Parameters<typeof completeDrain>[0],
  onError: (completion: DrainCompletion, error: unknown) => void,
): TimerDrainScheduler {
  return new TimerDrainScheduler((completion) => completeDrain(deps, completion), onError);
}
