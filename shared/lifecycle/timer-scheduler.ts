import { completeDrain } from './drain';
import { DrainCompletion, DrainScheduler } from './ports';

/**
 * TimerDrainScheduler runs drain completions on an in-process timer: for the local runner,
 * which lives as long as its process. (A Lambda is frozen between invocations, so in AWS the
 * delay is an SQS message instead.)
 */
export class TimerDrainScheduler implements DrainScheduler {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly run: (completion: DrainCompletion) => Promise<unknown>,
    private readonly onError: (completion: DrainCompletion, error: unknown) => void,
  ) {}

  async schedule(completion: DrainCompletion, delaySeconds: number): Promise<void> {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.run(completion).catch((err: unknown) => this.onError(completion, err));
    }, delaySeconds * 1000);
    timer.unref();
    this.timers.add(timer);
  }

  /** pending counts the completions not run yet. */
  get pending(): number {
    return this.timers.size;
  }

  /** cancelAll drops the pending completions (on shutdown). */
  cancelAll(): void {
    for (const timer of this.timers) clearTimeout(timer);
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
