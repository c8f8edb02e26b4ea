import { SnapshotItem } from '../store/records';
import { adsResource, adsSnapshotForms, adsVersion } from '../render/ads-forms';
import { adsNodeMetadata } from '../render/settings';
import { DiscoveryNode } from './request';

/**
 * isAdsNode tells an Envoy on the push tier (its resources' RDS, EDS and SDS config sources
 * should say ADS) from one that polls over REST. The node says so in its bootstrap's metadata,
 * `"mesh.xds": "ads"`, which the ADS bootstrap sets. The signal is the node's, never the
 * transport's: whichever tier answers, the same node is served the same bytes and versions.
 */
export function isAdsNode(node: DiscoveryNode | undefined): boolean {
  return node?.metadata?.[adsNodeMetadata.key] === adsNodeMetadata.value;
}

/** Per stored snapshot (the cache's objects are never mutated once read), its ADS forms, derived once. */
const derived = new WeakMap<SnapshotItem, SnapshotItem>();

/**
 * adsSnapshotOf is a stored snapshot with its resources in their ADS forms (render/ads-forms.ts)
 * and their versions. Derived once per stored item, so every stream of a push sends the same
 * objects, and the codec encodes each once.
 */
export function adsSnapshotOf(stored: SnapshotItem): SnapshotItem {
  let ads = derived.get(stored);
  if (!ads) {
    const { proxyless: _proxyless, ...rest } = stored;
    ads = {
      ...rest,
      ...adsSnapshotForms(stored.resources, stored.versions),
      // Retiring clusters (make before break for removals) are served in the same forms as the current ones.
      ...(stored.retiringClusters ? { retiringClusters: stored.retiringClusters.map((r) => ({ ...r, resource: adsResource(r.resource), version: adsVersion(r.version) })) } : {}),
    };
    derived.set(stored, ads);
  }
  return ads;
}
