import { EvaluationGate } from '../../server/evaluation-gate';

describe('EvaluationGate', () => {
  it('runs at most its limit of works at once, the others in the order they came, and passes on failures', async () => {
    const gate = new EvaluationGate(2);
    const releases: (() => void)[] = [];
    const started: number[] = [];
    let running = 0;
    let most = 0;
    const works = Array.from({ length: 6 }, (_, i) =>
      gate.run(async () => {
        started.push(i);
        most = Math.max(most, ++running);
        await new Promise<void>((resolve) => releases.push(resolve));
        running--;
        if (i === 3) throw new Error('work 3 failed');
        return i;
      }),
    );
    const settled = Promise.allSettled(works);
    for (let spin = 0; releases.length < 2 && spin < 100; spin++) await Promise.resolve();
    expect(gate.queued).toBe(4);
    for (let done = 0; done < 6; done++) {
      for (let spin = 0; releases.length === 0 && spin < 100; spin++) await Promise.resolve();
      releases.shift()!();
    }
    const results = await settled;
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(most).toBe(2);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([0, 1, 2, 'work 3 failed', 4, 5]);
    expect(await gate.run(async () => 'free again')).toBe('free again');
  });

  it('refuses a limit below one', () => {
    expect(() => new EvaluationGate(0)).toThrow(/above 0/);
  });
});
