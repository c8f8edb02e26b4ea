import { BenchContext, BenchRow, BenchSuite, percentile, round } from '../harness';
import { startLocalControlPlane, LocalControlPlane } from '../../local/server';
import { functionUrlEvent, lambdaContext } from '../../local/lambda-invoke';
import { EnvoyPoller, Transport } from '../../test/support/envoy-poller';
import { ecsTaskEvent } from '../../test/support/ecs-events';
import { defaults } from '../../shared/config';
import { defaultRenderSettings } from '../../shared/render/settings';

/**
 * Convergence: how long after a lifecycle event every Envoy holds the new endpoints. N
 * simulated Envoys poll as Envoy's REST subscriptions do (the next poll 1-2x refresh_delay
 * after the previous one completes, ENVOY-REST.md) against the local control plane in
 * process; a burst of ECS task events is posted, and each poller's time to its first poll
 * carrying the new EDS version is recorded, from the moment the burst was applied (the POST
 * returned; how long applying it took is reported beside). Refresh delays are scaled down (100-400 ms) and
 * the snapshot cache TTL is scaled with them, at the deployed ratio (TTL 2 s for an EDS
 * refresh of 10 s); results are given in ms and in units of the refresh delay, which is what
 * carries over to real delays. Expected: at most 2 delays + one TTL + the event's handling.
 */

/** The deployed ratio of cache TTL to EDS refresh delay: SNAPSHOT_CACHE_TTL_MS over the render settings' refreshDelay. */
const ttlPerDelay = defaults.snapshotCacheTtlMs / (1000 * Number(defaultRenderSettings.refreshDelay.replace(/s$/, '')));

export const suite: BenchSuite = {
  name: 'convergence',
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const full = ctx.scale === 'full';
    const delays = full ? [100, 200, 400] : [50];
    const pollers = full ? 30 : 3;
    const bursts = full ? 4 : 1;
    const eventsPerBurst = 5;
    const rows: BenchRow[] = [];
    for (const delayMs of delays) {
      const cp = await startLocalControlPlane({
        port: 0,
        config: { snapshotCacheTtlMs: Math.round(delayMs * ttlPerDelay), nodeStatusMinWriteGapMs: 50 },
      });
      try {
        rows.push(await converge(ctx, cp, { delayMs, pollers, bursts, eventsPerBurst }));
      } finally {
        await cp.close();
      }
    }
    return rows;
  },
};

interface Plan {
  readonly delayMs: number;
  readonly pollers: number;
  readonly bursts: number;
  readonly eventsPerBurst: number;
}

async function converge(ctx: BenchContext, cp: LocalControlPlane, plan: Plan): Promise<BenchRow> {
  const { delayMs } = plan;
  await declare(cp.url, { name: 'backend', inboundPort: 15000, appPort: 8080, protocol: 'http' });
  await declare(cp.url, {
    name: 'frontend',
    inboundPort: 15000,
    appPort: 8080,
    protocol: 'http',
    dependencies: [{ service: 'backend', localPort: 20000 }],
  });
  await postEvents(cp.url, [ecsTaskEvent({ ecsService: 'backend', ip: '10.0.0.1', version: 1 })]);

  const transport = inProcessTransport(cp);
  const envoys = Array.from(
    { length: plan.pollers },
    (_, i) => new EnvoyPoller({ nodeId: `frontend-${i}`, service: 'frontend', zone: 'us-east-1a', transport }),
  );
  const edsVersion = (p: EnvoyPoller) => p.version('endpoints', ['backend']);

  // Every poller has the first version before anything is measured.
  for (const p of envoys) await p.pollOnce();
  for (const p of envoys) if (!edsVersion(p)) await p.pollOnce();

  // Envoy's schedule: poll, then wait 1-2x refresh_delay from the end of the poll.
  let target = '';
  let postedAt = 0n;
  const seen = new Map<EnvoyPoller, number>();
  let running = true;
  const loops = envoys.map(async (p) => {
    await sleep(Math.random() * delayMs);
    while (running) {
      await p.pollOnce();
      if (target && !seen.has(p) && edsVersion(p) === target) seen.set(p, Number(process.hrtime.bigint() - postedAt) / 1e6);
      await sleep(delayMs * (1 + Math.random()));
    }
  });

  const samples: number[] = [];
  const allConverged: number[] = [];
  const applied: number[] = [];
  let timedOut = 0;
  let taskVersion = 2;
  try {
    for (let b = 0; b < plan.bursts; b++) {
      seen.clear();
      target = '';
      postedAt = process.hrtime.bigint();
      const burst = Array.from({ length: plan.eventsPerBurst }, (_, e) =>
        ecsTaskEvent({ ecsService: 'backend', taskId: `task${b}x${e}`, ip: `10.1.${b}.${e + 1}`, version: taskVersion++ }),
      );
      await postEvents(cp.url, burst);
      const appliedMs = Number(process.hrtime.bigint() - postedAt) / 1e6;
      applied.push(appliedMs);
      const assignment = (await cp.runtime.store.getEndpointAssignments(['backend'])).get('backend');
      if (!assignment) throw new Error('no EDS item for backend after the burst');
      target = assignment.version;
      // Pollers that already polled between the POST and reading the target are caught here.
      for (const p of envoys) if (!seen.has(p) && edsVersion(p) === target) seen.set(p, Number(process.hrtime.bigint() - postedAt) / 1e6);
      const deadline = Date.now() + 4 * delayMs + 2000;
      while (seen.size < envoys.length && Date.now() < deadline) await sleep(5);
      timedOut += envoys.length - seen.size;
      // Measured from the moment the events were applied (the POST returned).
      const afterApply = [...seen.values()].map((ms) => Math.max(0, ms - appliedMs));
      samples.push(...afterApply);
      if (seen.size === envoys.length) allConverged.push(Math.max(...afterApply));
      await sleep(delayMs);
    }
  } finally {
    running = false;
    await Promise.all(loops);
  }
  samples.sort((a, b) => a - b);
  applied.sort((a, b) => a - b);
  allConverged.sort((a, b) => a - b);
  const maxMs = allConverged.length > 0 ? allConverged[allConverged.length - 1]! : NaN;
  ctx.log(`refresh ${delayMs} ms: every poller converged within ${round(maxMs, 1)} ms`);
  return {
    name: 'event \u2192 every poller on the new EDS version',
    params: { refresh_delay_ms: delayMs, cache_ttl_ms: Math.round(delayMs * ttlPerDelay), pollers: plan.pollers, bursts: plan.bursts },
    metrics: {
      apply_burst_p50_ms: round(percentile(applied, 50), 1),
      p50_ms: round(percentile(samples, 50), 1),
      p99_ms: round(percentile(samples, 99), 1),
      max_ms: round(maxMs, 1),
      p50_delays: round(percentile(samples, 50) / delayMs, 2),
      max_delays: round(maxMs / delayMs, 2),
      not_converged: timedOut,
    },
  };
}

/** inProcessTransport hands each poll to the xDS Lambda handler as a function URL event, without HTTP. */
function inProcessTransport(cp: LocalControlPlane): Transport {
  return async (path, body) => {
    const event = functionUrlEvent({
      method: 'POST',
      url: new URL(`http://local${path}`),
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      sourceIp: '127.0.0.1',
    });
    const result = await cp.xds(event, lambdaContext('xds'));
    const out = typeof result === 'string' ? { statusCode: 200, body: result } : result;
    return { status: out.statusCode ?? 200, body: out.body ? (JSON.parse(out.body) as unknown) : undefined };
  };
}

async function declare(url: string, spec: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${url}/services/${String(spec.name)}`, { method: 'PUT', body: JSON.stringify(spec) });
  if (res.status >= 300) throw new Error(`declaring ${String(spec.name)}: ${res.status} ${await res.text()}`);
}

async function postEvents(url: string, events: unknown[]): Promise<void> {
  const res = await fetch(`${url}/events`, { method: 'POST', body: JSON.stringify(events) });
  if (res.status !== 200) throw new Error(`posting events: ${res.status} ${await res.text()}`);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
