import type { Context } from 'aws-lambda';
import { createRebuildHandler } from '../../../functions/rebuild/handler';
import { renderDigest } from '../../../shared/reconcile/render-digest';
import { declareService } from '../../../shared/state/catalog';
import { defaultRenderSettings } from '../../../shared/render/settings';
import { useDynalite } from '../../support/dynamo';

const dynamo = useDynalite();
const at = Date.parse('2026-11-25T12:00:00Z');
const context = (requestId: string, remainingMs: number) =>
  ({ functionName: 'rebuild', awsRequestId: requestId, getRemainingTimeInMillis: () => remainingMs }) as unknown as Context;

describe('rebuild handler', () => {
  it('takes no page when its invocation has less time left than the reserve, then rebuilds on the next tick and idles after', async () => {
    const store = await dynamo.newStore();
    for (const name of ['a', 'b', 'c']) await declareService(store, { name, inboundPort: 15000, appPort: 8080, protocol: 'http' }, defaultRenderSettings);
    const handler = createRebuildHandler({ store, settings: defaultRenderSettings }, { now: () => at, pageSize: 2 });

    const short = await handler({}, context('tick-1', 20_000));
    expect(short).toMatchObject({ outcome: 'advanced', slice: { services: 0 }, state: { current: { services: 0, slices: 1 } } });
    expect(short.state?.lease).toBeUndefined();

    const full = await handler({}, context('tick-2', 180_000));
    expect(full).toMatchObject({ outcome: 'finished', slice: { services: 3 }, state: { renderedDigest: renderDigest(defaultRenderSettings), last: { services: 3, slices: 2 } } });
    expect(await handler({}, context('tick-3', 180_000))).toMatchObject({ outcome: 'idle' });
  });
});
