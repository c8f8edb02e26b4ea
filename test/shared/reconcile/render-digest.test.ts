import { renderDigest } from '../../../shared/reconcile/render-digest';
import { RenderSettings, defaultRenderSettings } from '../../../shared/render/settings';

describe('renderDigest', () => {
  it('is the same for the same settings, whatever the order of their fields', () => {
    const reordered = Object.fromEntries(Object.entries(defaultRenderSettings).reverse()) as unknown as RenderSettings;
    expect(renderDigest(reordered)).toBe(renderDigest(defaultRenderSettings));
  });

  it.each<[string, Partial<RenderSettings>]>([
    ['route delivery', { routeDelivery: 'inline' }],
    ['refresh delay', { refreshDelay: '30s' }],
    ['observability default', { observability: { metrics: { enabled: true } } }],
    ['system CA path', { systemCaBundlePath: '/etc/ssl/certs/ca-bundle.crt' }],
    ['egress policy', { egress: 'allow-all' }],
  ])('changes with the %s', (_name, change) => {
    expect(renderDigest({ ...defaultRenderSettings, ...change })).not.toBe(renderDigest(defaultRenderSettings));
  });
});
