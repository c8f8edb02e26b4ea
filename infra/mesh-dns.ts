import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { interceptionDefaults } from '../shared/model/defaults';
import { serviceDomainOf, serviceHostnames } from '../shared/render/transparent';
import type { ControlPlane } from './control-plane';
import type { MeshService } from './mesh-service';

export interface MeshDnsProps {
  /** The control plane whose services get names: its service domain is the zone's name. */
  readonly controlPlane: ControlPlane;
  /** The VPC whose resolver answers for the names (more with `zone.addVpc`). */
  readonly vpc: ec2.IVpc;
  /** Services to name now; `addService` names more. @default - none */
  readonly services?: readonly MeshService[];
  /**
   * What every name resolves to. Transparent callers' Envoys route by Host and port, never by
   * this address; it only has to leave a host by its default route. @default '240.240.0.1'
   */
  readonly address?: string;
  /**
   * Zones for the names a spec lists outside the service domain (`interception.hostnames`,
   * such as an App Mesh virtual service name `payments.prod.local`). @default - none: such a name fails synth
   */
  readonly zones?: readonly route53.IHostedZone[];
  /** @default 300 seconds */
  readonly ttl?: Duration;
}

/**
 * MeshDns gives every service a name its callers use in transparent mode: a Route 53 private
 * hosted zone for the service domain (`mesh.internal`), associated with the VPC, with an A
 * record for `<service>.<domain>` and for each name the spec lists.
 *
 * Why a private hosted zone, with static records: the names only have to resolve, not to say
 * where the service runs (the caller's Envoy picks the endpoints from EDS), so the records never
 * change as the fleet scales: no write per task or instance event, no DNS cache going stale,
 * ECS and EC2 alike, answered by the VPC resolver with nothing on the host. Cloud Map would
 * register every endpoint a second time (the control plane already has them); Service Connect
 * aliases exist only for ECS tasks in Service Connect.
 *
 * What the names resolve to: one address from 240.0.0.0/4 (reserved, never assigned), as
 * Istio's and Kuma's DNS proxies allocate. A transparent caller's connection to it is redirected
 * into Envoy before it leaves the host. A caller outside the mesh (no redirection) sends it into
 * the VPC, which routes it nowhere: the connection times out. Such callers reach a service
 * through its external listener (`inbound.external`) behind a load balancer.
 */
export class MeshDns extends Construct {
  public readonly zone: route53.PrivateHostedZone;
  public readonly domain: string;
  public readonly address: string;
  private readonly zones: readonly route53.IHostedZone[];
  private readonly ttl: Duration;
  private readonly controlPlane: ControlPlane;
  private readonly named = new Map<string, string>();

  constructor(scope: Construct, id: string, props: MeshDnsProps) {
    super(scope, id);
    this.controlPlane = props.controlPlane;
    this.domain = serviceDomainOf(props.controlPlane.renderSettings);
    this.address = props.address ?? interceptionDefaults.serviceAddress;
    if (!/^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/.test(this.address)) {
      throw new Error(`MeshDns: address must be an IPv4 address (got '${this.address}')`);
    }
    this.zones = props.zones ?? [];
    this.ttl = props.ttl ?? Duration.seconds(300);
    this.zone = new route53.PrivateHostedZone(this, 'Zone', {
      zoneName: this.domain,
      vpc: props.vpc,
      comment: 'Names of the mesh services (transparent mode): every name resolves to one address, routed by the callers’ Envoys',
    });
    for (const service of props.services ?? []) this.addService(service);
  }

  /** addService gives a service its names: `<name>.<domain>` and every name its spec lists. */
  public addService(service: MeshService): route53.ARecord[] {
    return serviceHostnames(service.spec, this.controlPlane.renderSettings).map((hostname) => {
      const owner = this.named.get(hostname);
      if (owner !== undefined) throw new Error(`MeshDns: ${hostname} is already the name of service "${owner}"; service "${service.serviceName}" cannot have it too`);
      this.named.set(hostname, service.serviceName);
      return new route53.ARecord(this, `${service.serviceName}-${hostname}`, {
        zone: this.zoneFor(hostname, service.serviceName),
        recordName: `${hostname}.`,
        target: route53.RecordTarget.fromIpAddresses(this.address),
        ttl: this.ttl,
        comment: `mesh service ${service.serviceName}`,
      });
    });
  }

  private zoneFor(hostname: string, service: string): route53.IHostedZone {
    const within = (zoneName: string) => hostname === zoneName || hostname.endsWith(`.${zoneName}`);
    if (within(this.domain)) return this.zone;
    const found = this.zones.filter((z) => within(z.zoneName.replace(/\.$/, ''))).sort((a, b) => b.zoneName.length - a.zoneName.length)[0];
    if (!found) {
      throw new Error(
        `MeshDns: service "${service}" lists ${hostname}, which is outside ${this.domain} and every zone given; pass its zone in zones ` +
          '(route53.PrivateHostedZone, or HostedZone.fromHostedZoneAttributes for an existing one)',
      );
    }
    return found;
  }
}
