import * as fs from 'node:fs';
import * as path from 'node:path';
import { placeholders } from './placeholders';

/** Where the sidecar scripts mark a draining node: the health check fails while the file exists. */
export const defaultDrainMarker = '/tmp/envoy-draining';

export interface EntrypointSettings {
  /** Seconds to drain after SIGTERM before Envoy is stopped: the service's drainSeconds. */
  readonly drainSeconds: number;
  /** Envoy's --drain-time-s. @default drainSeconds */
  readonly envoyDrainTimeSeconds?: number;
  readonly adminPort: number;
  readonly configPath: string;
  /** @default defaultDrainMarker */
  readonly drainMarker?: string;
  /** The command that runs Envoy (`docker run … image` on EC2). @default envoy */
  readonly envoyCommand?: string;
}

/** script reads one of the sidecar scripts, without its comment lines (they would only fill the template). */
const script = (name: string) =>
  fs
    .readFileSync(path.join(__dirname, name), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && !/^\s*#/.test(line))
    .join('\n');

/** shellQuote quotes a value for bash, whatever it holds. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

const assignments = (values: Record<string, string | number>) =>
  Object.entries(values).map(([name, value]) => `${name}=${shellQuote(String(value))}`);

/**
 * envoyEntrypoint is the sidecar's entrypoint (infra/sidecar/envoy-entrypoint.sh, a real script
 * the tests run) with its settings in front: it writes the bootstrap (ECS), runs Envoy, and on
 * SIGTERM fails health checks, asks Envoy to drain its listeners gracefully, waits the drain
 * period and only then stops Envoy, so requests in flight finish.
 */
export function envoyEntrypoint(settings: EntrypointSettings): string {
  return [
    ...assignments({
      MESH_DRAIN_SECONDS: settings.drainSeconds,
      ENVOY_DRAIN_TIME_S: settings.envoyDrainTimeSeconds ?? settings.drainSeconds,
      ENVOY_ADMIN_PORT: settings.adminPort,
      ENVOY_CONFIG_PATH: settings.configPath,
      MESH_DRAIN_MARKER: settings.drainMarker ?? defaultDrainMarker,
      MESH_NODE_ID_PLACEHOLDER: placeholders.nodeId,
      MESH_ZONE_PLACEHOLDER: placeholders.zone,
      MESH_REVISION_PLACEHOLDER: placeholders.revision,
    }),
    ...(settings.envoyCommand ? assignments({ ENVOY_COMMAND: settings.envoyCommand }) : []),
    script('envoy-entrypoint.sh'),
  ].join('\n');
}

/**
 * envoyHealthCheck is the sidecar's health check (infra/sidecar/envoy-health.sh): healthy once
 * Envoy is LIVE and has applied configuration from the control plane (CDS and LDS), never
 * while draining. An Envoy whose polls are all refused is therefore unhealthy, not LIVE-looking.
 */
export function envoyHealthCheck(adminPort: number, drainMarker = defaultDrainMarker): string {
  return [...assignments({ ENVOY_ADMIN_PORT: adminPort, MESH_DRAIN_MARKER: drainMarker }), script('envoy-health.sh')].join('\n');
}

/** RedirectSettings are what mesh-redirect.sh redirects and what it leaves alone (transparent mode). */
export interface RedirectSettings {
  /** Envoy's UID: its own connections are never redirected. */
  readonly ignoredUid: number;
  readonly ignoredGid?: number;
  readonly egressPort: number;
  /** Envoy's inbound port; traffic arriving at `appPorts` goes there. */
  readonly ingressPort?: number;
  readonly appPorts: readonly number[];
  readonly egressIgnoredIps: readonly string[];
  readonly egressIgnoredPorts: readonly number[];
}

/**
 * meshRedirectScript is the redirection script (infra/sidecar/mesh-redirect.sh, a real script
 * the tests run in a network namespace) with its settings in front: `install`, `remove` or
 * `status` as its first argument.
 */
export function meshRedirectScript(settings: RedirectSettings): string {
  return [
    ...assignments({
      MESH_IGNORED_UID: settings.ignoredUid,
      MESH_IGNORED_GID: settings.ignoredGid ?? '',
      MESH_EGRESS_PORT: settings.egressPort,
      MESH_INGRESS_PORT: settings.ingressPort ?? '',
      MESH_APP_PORTS: settings.appPorts.join(','),
      MESH_EGRESS_IGNORED_IPS: settings.egressIgnoredIps.join(','),
      MESH_EGRESS_IGNORED_PORTS: settings.egressIgnoredPorts.join(','),
    }),
    script('mesh-redirect.sh'),
  ].join('\n');
}
