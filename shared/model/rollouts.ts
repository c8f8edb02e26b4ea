import { ServiceSpec } from './spec';
import { RolloutSpec } from './spec-rollout';
import { contentVersion } from '../envoy/version';
import { DeclaredRollout } from './rollout-state';

/** rolloutId names a rollout: `<caller>/<service>` when declared on a dependency, `<service>` when on the service. */
export function rolloutId(owner: string, service: string): string {
  return owner === service ? service : `${owner}/${service}`;
}

/** declaredRollouts lists the rollouts a spec declares: its own (every caller's traffic to it) and its dependencies'. */
export function declaredRollouts(spec: ServiceSpec): DeclaredRollout[] {
  const found: DeclaredRollout[] = [];
  if (spec.rollout) found.push({ id: rolloutId(spec.name, spec.name), owner: spec.name, service: spec.name, specHash: contentVersion(spec.rollout) });
  for (const dep of spec.dependencies) {
    if (dep.rollout) found.push({ id: rolloutId(spec.name, dep.service), owner: spec.name, service: dep.service, specHash: contentVersion(dep.rollout) });
  }
  return found;
}

/** rolloutSpecOf finds the rollout a state follows in its owner's current spec, if it is still there. */
export function rolloutSpecOf(owner: ServiceSpec | undefined, service: string): RolloutSpec | undefined {
  if (!owner) return undefined;
  if (owner.name === service) return owner.rollout;
  return owner.dependencies.find((d) => d.service === service)?.rollout;
}
