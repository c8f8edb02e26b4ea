import { requestRebuild } from '../reconcile/rebuild-driver';
import { renderDigest } from '../reconcile/render-digest';
import { RenderSettings } from '../render/settings';
import { RebuildRepository, RebuildRun, RebuildState } from '../store/rebuilds';

/** RebuildReport is `GET /rebuild`: whether the stored snapshots match this deployment's rendering, and the runs. */
export interface RebuildReport {
  /** The render digest of this deployment's settings and code. */
  readonly digest: string;
  /** The digest the last finished rebuild rendered with. */
  readonly renderedDigest?: string;
  /** True when the last finished rebuild rendered with this digest and nothing is under way or asked for. */
  readonly upToDate: boolean;
  readonly current?: RebuildRun & { readonly lease?: RebuildState['lease'] };
  readonly last?: RebuildRun;
  readonly requestedAt?: string;
}

const digests = new WeakMap<RenderSettings, string>();

/** digestOf computes a settings object's render digest once. */
function digestOf(settings: RenderSettings): string {
  let digest = digests.get(settings);
  if (digest === undefined) {
    digest = renderDigest(settings);
    digests.set(settings, digest);
  }
  return digest;
}

/** rebuildReport reads where the fleet rebuild stands, against the digest of `settings`. */
export async function rebuildReport(store: RebuildRepository, settings: RenderSettings): Promise<RebuildReport> {
  const state = (await store.getRebuild())?.state ?? {};
  const digest = digestOf(settings);
  return {
    digest,
    ...(state.renderedDigest !== undefined ? { renderedDigest: state.renderedDigest } : {}),
    upToDate: state.renderedDigest === digest && !state.current && state.requestedAt === undefined,
    ...(state.current ? { current: { ...state.current, ...(state.lease ? { lease: state.lease } : {}) } } : {}),
    ...(state.last ? { last: state.last } : {}),
    ...(state.requestedAt !== undefined ? { requestedAt: state.requestedAt } : {}),
  };
}

/** startRebuild records an operator's request (`POST /rebuild`) and reports the state it left. */
export async function startRebuild(store: RebuildRepository, settings: RenderSettings, now: Date): Promise<RebuildReport> {
  await requestRebuild(store, now);
  return rebuildReport(store, settings);
}
