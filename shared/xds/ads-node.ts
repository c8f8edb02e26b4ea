import { SnapshotItem } from '../store/records';
import { ServedForms } from '../model/node-status';
import { AdsFormOptions, adsResource, adsSnapshotForms, adsVersion } from '../render/ads-forms';
import { adsNodeMetadata, restSdsNodeMetadata } from '../render/settings';
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

/**
 * adsFormsOf is which ADS forms an ADS node is served: `ads-rest-sds` when its metadata also
 * says `"mesh.sds": "rest"` (the push tier in AWS: its SDS stays on the REST tier), `ads` otherwise.
 */
export function adsFormsOf(node: DiscoveryNode | undefined): 'ads' | 'ads-rest-sds' {
  return node?.metadata?.[restSdsNodeMetadata.key] === restSdsNodeMetadata.value ? 'ads-rest-sds' : 'ads';
}

/** Per stored snapshot (the cache's objects are never mutated once read), its ADS forms, derived once per kind. */
const derived = { ads: new WeakMap<SnapshotItem, SnapshotItem>(), 'ads-rest-sds': new WeakMap<SnapshotItem, SnapshotItem>() };

/**
 * adsSnapshotOf is a stored snapshot with its resources in their ADS forms (render/ads-forms.ts)
 * and their versions. Derived once per stored item, so every stream of a push sends the same
 * objects, and the codec encodes each once.
 */
export function adsSnapshotOf(stored: SnapshotItem, forms: 'ads' | 'ads-rest-sds' = 'ads'): SnapshotItem {
  let ads = derived[forms].get(stored);
  if (!ads) {
    const options: AdsFormOptions = forms === 'ads-rest-sds' ? { sds: 'rest' } : {};
    const { proxyless: _proxyless, ...rest } = stored;
    ads = {
      ...rest,
      ...adsSnapshotForms(stored.resources, stored.versions, options),
      // Retiring clusters (make before break for removals) are served in the same forms as the current ones.
      ...(stored.retiringClusters
        ? { retiringClusters: stored.retiringClusters.map((r) => ({ ...r, resource: adsResource(r.resource, options), version: adsVersion(r.version, options) })) }
        : {}),
    };
    derived[forms].set(stored, ads);
  }
  return ads;
}

/** isAdsForms tells the ADS forms, either kind, from the REST and proxyless ones. */
export function isAdsForms(forms: ServedForms | undefined): forms is 'ads' | 'ads-rest-sds' {
  return forms === 'ads' || forms === 'ads-rest-sds';
}
