import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { EmfMetrics } from '../../functions/lib/emf';

type Sink = Pick<EmfMetrics, 'addMetric' | 'publishStoredMetrics' | 'singleMetric'>;

/** linesOf runs the same calls on a sink made in the given environment and returns what it wrote, timestamps blanked. */
function linesOf(env: Record<string, string>, make: () => Sink, calls: (sink: Sink) => void): string[] {
  const saved = process.env;
  const { POWERTOOLS_METRICS_DISABLED: _disabled, POWERTOOLS_DEV: _dev, ...rest } = saved;
  process.env = { ...rest, ...env }; // the test setup switches metrics off; each case says
  const lines: string[] = [];
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk).replace(/"Timestamp":\d+/, '"Timestamp":0'));
    return true;
  });
  const warn = jest.spyOn(process.stderr, 'write').mockImplementation(() => true); // Powertools' "no metrics" warning
  try {
    calls(make());
  } finally {
    out.mockRestore();
    warn.mockRestore();
    process.env = saved;
  }
  return lines;
}

describe('EmfMetrics', () => {
  it.each<[string, Record<string, string>, (sink: Sink) => void]>([
    [
      'one line for a window of counts',
      {},
      (m) => {
        m.addMetric('PollsNotModified', MetricUnit.Count, 500);
        m.addMetric('PollsAnswered', MetricUnit.Count, 3);
        m.addMetric('Nacks', MetricUnit.Count, 1);
        m.publishStoredMetrics();
      },
    ],
    ['a name added twice as an array of values', {}, (m) => (m.addMetric('Polls', MetricUnit.Count, 1), m.addMetric('Polls', MetricUnit.Count, 2), m.publishStoredMetrics())],
    ['nothing when nothing was added', {}, (m) => m.publishStoredMetrics()],
    ['nothing when POWERTOOLS_METRICS_DISABLED is true', { POWERTOOLS_METRICS_DISABLED: 'true' }, (m) => (m.addMetric('Polls', MetricUnit.Count, 1), m.publishStoredMetrics())],
    ['a line when POWERTOOLS_METRICS_DISABLED is false', { POWERTOOLS_METRICS_DISABLED: 'false' }, (m) => (m.addMetric('Polls', MetricUnit.Count, 1), m.publishStoredMetrics())],
    ['nothing in dev mode (POWERTOOLS_DEV)', { POWERTOOLS_DEV: 'true' }, (m) => (m.addMetric('Polls', MetricUnit.Count, 1), m.publishStoredMetrics())],
    ['the counts cleared once published', {}, (m) => (m.addMetric('Polls', MetricUnit.Count, 1), m.publishStoredMetrics(), m.addMetric('Nacks', MetricUnit.Count, 2), m.publishStoredMetrics())],
    ['milliseconds', {}, (m) => (m.addMetric('EventLag', MetricUnit.Milliseconds, 1200), m.publishStoredMetrics())],
    [
      'a single metric with a dimension of its own, written at once',
      {},
      (m) => {
        const single = m.singleMetric();
        single.addDimension('action', 'step');
        single.addMetric('RolloutDecisions', MetricUnit.Count, 1);
        m.addMetric('Polls', MetricUnit.Count, 1);
        m.publishStoredMetrics();
      },
    ],
    ['no single metric when switched off', { POWERTOOLS_METRICS_DISABLED: 'true' }, (m) => m.singleMetric().addMetric('RolloutDecisions', MetricUnit.Count, 1)],
  ])('writes what Powertools Metrics writes: %s', (_what, env, calls) => {
    const ours = linesOf(env, () => new EmfMetrics('EnvoyControlPlane', 'xds'), calls);
    const powertools = linesOf(env, () => new Metrics({ namespace: 'EnvoyControlPlane', serviceName: 'xds' }), calls);
    expect(ours).toEqual(powertools);
  });

  it('writes a line CloudWatch reads as EMF: namespace, the service dimension, units, values', () => {
    const lines: string[] = [];
    const emf = new EmfMetrics('EnvoyControlPlane', 'xds', { write: (l) => lines.push(l), now: () => 1_795_600_000_000, env: {} });
    emf.addMetric('PollsAnswered', MetricUnit.Count, 3);
    emf.publishStoredMetrics();
    expect(JSON.parse(lines[0]!)).toEqual({
      _aws: { Timestamp: 1_795_600_000_000, CloudWatchMetrics: [{ Namespace: 'EnvoyControlPlane', Dimensions: [['service']], Metrics: [{ Name: 'PollsAnswered', Unit: 'Count' }] }] },
      service: 'xds',
      PollsAnswered: 3,
    });
  });
});
