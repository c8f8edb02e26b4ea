import { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricWindow } from '../../functions/lib/telemetry';

describe('MetricWindow', () => {
  it('publishes one aggregated line per window instead of one per invocation', () => {
    const metrics = new Metrics({ namespace: 'Test', serviceName: 'xds' });
    const added = jest.spyOn(metrics, 'addMetric');
    const published = jest.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => metrics);
    let now = 0;
    const window = new MetricWindow(metrics, 60_000, () => now);

    for (let i = 0; i < 500; i++) window.count('PollsNotModified');
    window.count('PollsAnswered', 3);
    now = 59_999;
    expect(window.flushIfDue()).toBe(false);
    expect(published).not.toHaveBeenCalled();

    now = 60_000;
    expect(window.flushIfDue()).toBe(true);
    expect(added.mock.calls).toEqual([
      ['PollsNotModified', 'Count', 500],
      ['PollsAnswered', 'Count', 3],
    ]);
    expect(published).toHaveBeenCalledTimes(1);

    now = 130_000;
    expect(window.flushIfDue()).toBe(false); // nothing counted since: no empty line
  });
});
