import { ObservabilitySpec, observabilitySchema } from '../../shared/model/spec-observability';
import { toProblems } from '../../shared/model/spec';
import { FunctionConfig, readConfig } from './config';

/**
 * What only the functions that render need beside readConfig: the mesh-wide observability
 * default, checked with the spec's own schema. Kept apart so that the xds function, which
 * renders nothing, loads no zod (docs/deploy.md, bundles).
 */

/**
 * parseObservability reads the mesh-wide observability default (MESH_OBSERVABILITY, JSON in the
 * shape of a spec's `observability`), failing the cold start with what is wrong in it.
 */
export function parseObservability(raw: string): ObservabilitySpec {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new Error(`MESH_OBSERVABILITY is not JSON: "${raw.slice(0, 100)}"`);
  }
  const parsed = observabilitySchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(`MESH_OBSERVABILITY is not a valid observability block: ${toProblems(parsed.error).map((p) => `${p.path || '(root)'}: ${p.message}`).join('; ')}`);
  }
  return parsed.data;
}

/** readRenderConfig is readConfig with the mesh-wide observability default (MESH_OBSERVABILITY) in the render settings. */
export function readRenderConfig(env: NodeJS.ProcessEnv = process.env): FunctionConfig {
  const config = readConfig(env);
  return env.MESH_OBSERVABILITY ? { ...config, render: { ...config.render, observability: parseObservability(env.MESH_OBSERVABILITY) } } : config;
}
