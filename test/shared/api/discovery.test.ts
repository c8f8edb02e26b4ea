import { discoveryBodyLimitBytes, handleDiscovery, refusalResponse, typeNameFromPath } from '../../../shared/api/discovery';
import { RefusalKind, XdsRefusal, refusalKinds } from '../../../shared/xds/refusal';
import { SnapshotCache } from '../../../shared/xds/snapshot-cache';
import { useDynalite } from '../../support/dynamo';

const dynalite = useDynalite();

describe('the REST adapter of the xDS core', () => {
  it.each<[RefusalKind, number]>([
    ['bad-request', 400],
    ['unauthenticated', 401],
    ['refused', 403],
    ['not-found', 404],
    ['unavailable', 503],
  ])('maps a %s refusal to HTTP %i with the message as the error', (kind, status) => {
    const answer = refusalResponse(new XdsRefusal(kind, `because ${kind}`));
    expect(answer).toMatchObject({ status, body: { error: `because ${kind}` } });
  });

  it('maps every kind of refusal', () => {
    for (const kind of refusalKinds) expect(refusalResponse(new XdsRefusal(kind, 'x')).status).toBeGreaterThanOrEqual(400);
  });

  it('tells a caller refused as unavailable to retry in a second, and passes details on', () => {
    expect(refusalResponse(new XdsRefusal('unavailable', 'later')).headers).toEqual({ 'retry-after': '1' });
    expect(refusalResponse(new XdsRefusal('bad-request', 'bad', { problems: [] })).body).toEqual({ error: 'bad', details: { problems: [] } });
  });

  it.each([
    ['/v3/discovery:clusters', 'clusters'],
    ['/v3/discovery:secrets', 'secrets'],
    ['/v3/discovery:nothing', undefined],
    ['/v2/discovery:clusters', undefined],
  ])('reads the type of %s as %s', (path, type) => {
    expect(typeNameFromPath(path)).toBe(type);
  });

  it.each<[string, string, string, string, number]>([
    ['a path that names no type', 'POST', '/v3/discovery:nothing', '{}', 404],
    ['a method other than POST', 'GET', '/v3/discovery:clusters', '{}', 405],
    ['a body that is not JSON', 'POST', '/v3/discovery:clusters', '{', 400],
    ['a body that is not an object', 'POST', '/v3/discovery:clusters', '[]', 400],
    ['a body over the limit', 'POST', '/v3/discovery:clusters', ' '.repeat(discoveryBodyLimitBytes + 1), 413],
    ['a node of an undeclared service', 'POST', '/v3/discovery:clusters', '{"node":{"id":"n","cluster":"nobody"}}', 404],
  ])('answers %s with its status', async (_what, method, path, body, status) => {
    const cache = new SnapshotCache(await dynalite.newStore(), { ttlMs: 0 });
    const answer = await handleDiscovery({ cache }, { method, path, query: {}, headers: {}, body });
    expect(answer.status).toBe(status);
    expect(answer.body).toEqual(expect.objectContaining({ error: expect.any(String) }));
  });
});
