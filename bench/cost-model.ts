import { BenchReport, BenchRow } from './harness';
import { bootstrapDefaults } from '../shared/bootstrap/envoy-bootstrap';
import { defaultRenderSettings } from '../shared/render/settings';
import { pollSizes, PollSizes, wireOverhead } from './request-size';

/**
 * (Over 350 lines on purpose: the prices, the assumptions, the model and the document it writes
 * are read and updated together, and splitting them would scatter one calculation.)
 *
 * The cost model: monthly AWS cost per 1,000 Envoys, computed from the benchmark's measured
 * figures (handler time, reads per cache miss, stored item sizes, node-status writes per Envoy,
 * DynamoDB operations per lifecycle event) and the unit prices and assumptions below, written
 * out so they can be updated. `costDocument` is pure: results in, markdown out.
 */

/** Public on-demand prices, us-east-1. Update `asOf` with them. */
export const unitPrices = {
  asOf: '2026-11-25',
  region: 'us-east-1',
  lambdaArmPerGbSecond: 0.0000133334,
  lambdaPerMillionRequests: 0.2,
  functionUrlPerMillionRequests: 0,
  httpApiPerMillionRequests: 1.0,
  restApiPerMillionRequests: 3.5,
  dynamoPerMillionReadUnits: 0.125,
  dynamoPerMillionWriteUnits: 0.625,
  eventBridgeAwsServiceEventsPerMillion: 0,
  eventBridgeCustomEventsPerMillion: 1.0,
  sqsPerMillionRequests: 0.4,
  logsIngestionPerGb: 0.5,
  fargateArmPerVcpuHour: 0.03238,
  fargateArmPerGbHour: 0.00356,
  nlbPerHour: 0.0225,
  nlbPerNlcuHour: 0.006,
  /** NAT gateway data processing, both directions, whatever the destination (AWS services in the region too). */
  natGatewayPerGb: 0.045,
  natGatewayPerHour: 0.045,
  /** Between zones of a region, charged in each direction. */
  crossAzPerGbEachWay: 0.01,
  /** A public IPv4 address, in use or not. */
  publicIpv4PerHour: 0.005,
} as const;

/**
 * PollRoute is how polls leave a node's subnet for the function URL, which is reachable only
 * on its public, dual-stack endpoint (function URLs have no PrivateLink endpoint):
 * - `nat-gateway`: private subnets, IPv4 through a NAT gateway (the example's layout): every
 *   byte pays NAT data processing;
 * - `ipv6-egress`: dual-stack private subnets with an egress-only internet gateway, the xDS
 *   cluster resolving the host to IPv6 (`pollOverIpv6` on the sidecar helpers): no charge;
 * - `public-ipv4`: nodes in public subnets with their own public IPv4 address: the address costs.
 */
export type PollRoute = 'nat-gateway' | 'ipv6-egress' | 'public-ipv4';

export interface CostAssumptions {
  readonly envoys: number;
  /** The EDS and RDS refresh_delay (render settings), seconds. */
  readonly refreshDelayS: number;
  /** LDS and CDS refresh delays of the generated bootstrap, seconds. */
  readonly ldsRefreshS: number;
  readonly cdsRefreshS: number;
  /** EDS clusters per Envoy (one EDS poll each per refresh). */
  readonly dependenciesPerEnvoy: number;
  /** RDS subscriptions per Envoy: one per HTTP dependency listener. */
  readonly routesPerEnvoy: number;
  /** How many Envoys share one service (and so one SNAPSHOT item). */
  readonly envoysPerService: number;
  /** Task replacements per Envoy per day (deploys, scaling, spot). */
  readonly replacementsPerEnvoyPerDay: number;
  /** Lifecycle events reaching the handler per replacement (RUNNING, the stopping states, STOPPED). */
  readonly eventsPerReplacement: number;
  /** xds function memory (infra/front-door.ts). */
  readonly xdsMemoryMb: number;
  readonly lifecycleMemoryMb: number;
  /** DynamoDB BatchGetItem latency added to a poll that misses the cache, ms (in-region p50). */
  readonly dynamoReadLatencyMs: number;
  /** Warm containers kept per unit of mean concurrency (arrivals are bursty). */
  readonly containersPerConcurrency: number;
  /**
   * CloudWatch Logs bytes per xds invocation. Was ~650 (Lambda's START/END/REPORT lines and one
   * EMF line per poll); the stack now sets the system log level to WARN and the xds function
   * publishes one EMF line per container per minute, so a successful poll writes no log line.
   */
  readonly logBytesPerInvocation: number;
  readonly snapshotCacheTtlS: number;
  /** How the polls leave the VPC (see PollRoute). */
  readonly pollRoute: PollRoute;
  /** Share of nodes whose NAT gateway is in another zone (one NAT gateway for several zones). */
  readonly crossAzShare: number;
}

export const defaultAssumptions: CostAssumptions = {
  envoys: 1000,
  // The deployed default, read where the functions read it: one value for render, bootstrap and model.
  refreshDelayS: parseSeconds(defaultRenderSettings.refreshDelay),
  ldsRefreshS: parseSeconds(bootstrapDefaults.ldsRefreshDelay),
  cdsRefreshS: parseSeconds(bootstrapDefaults.cdsRefreshDelay),
  dependenciesPerEnvoy: 10,
  routesPerEnvoy: 10,
  envoysPerService: 10,
  replacementsPerEnvoyPerDay: 1,
  eventsPerReplacement: 6,
  xdsMemoryMb: 512,
  lifecycleMemoryMb: 512,
  dynamoReadLatencyMs: 5,
  containersPerConcurrency: 2,
  logBytesPerInvocation: 0,
  snapshotCacheTtlS: 2,
  pollRoute: 'nat-gateway',
  crossAzShare: 0,
};

const secondsPerMonth = 30 * 24 * 3600;

function parseSeconds(duration: string): number {
  const match = /^(\d+(?:\.\d+)?)s$/.exec(duration);
  if (!match) throw new Error(`refresh delay "${duration}" is not in seconds`);
  return Number(match[1]);
}

/**
 * withRoutesInline is the model with `routeDelivery: 'inline'`: no RDS subscriptions, and LDS
 * polled at the EDS/RDS refresh delay (the generated bootstrap does so: ldsRefreshDelayOf), so
 * route changes arrive as soon as they would over RDS.
 */
export function withRoutesInline(a: CostAssumptions): CostAssumptions {
  return { ...a, routesPerEnvoy: 0, ldsRefreshS: Math.min(a.ldsRefreshS, a.refreshDelayS) };
}

/** The measured figures the model uses, picked out of a report by row name and params. */
export interface MeasuredInputs {
  readonly handler304P50Ms: number;
  readonly handler304P99Ms: number;
  readonly readsPerMissedPoll: number;
  readonly snapshotItemBytes: number;
  readonly edsItemBytes: number;
  readonly nodeStatusWritesPerEnvoyHour: number;
  readonly nodeStatusItemBytes: number;
  readonly eventReads: number;
  readonly eventWrites: number;
  readonly eventP50Ms: number;
  readonly eventFleetSize: number;
  readonly xdsInitMs: number;
  /** One steady-state poll on the wire, request and 304 together, as Envoy 1.36 sends it (bench/request-size.ts). */
  readonly pollWireBytes: number;
}

function rows(report: BenchReport, suite: string): BenchRow[] {
  return report.suites.find((s) => s.name === suite)?.rows ?? [];
}

function metric(report: BenchReport, suite: string, name: string, key: string, params: Record<string, number> = {}): number {
  const candidates = rows(report, suite).filter(
    (r) => r.name.startsWith(name) && Object.entries(params).every(([k, v]) => r.params[k] === v),
  );
  const row = candidates[candidates.length - 1];
  const value = row?.metrics[key];
  if (value === undefined || !Number.isFinite(value)) throw new Error(`bench results have no ${suite} / ${name} / ${key}`);
  return value;
}

/** handler304Rows are the xds suite's rows of a 304 poll's handler time (minimal node, and Envoy's real node when measured). */
function handler304Rows(report: BenchReport): BenchRow[] {
  const found = rows(report, 'xds').filter((r) => r.name.startsWith('poll 304 ') && r.metrics.p50_ms !== undefined);
  if (found.length === 0) throw new Error('bench results have no xds / poll 304 rows');
  return found;
}

export function measuredInputs(report: BenchReport): MeasuredInputs {
  const lifecycleSizes = rows(report, 'lifecycle').map((r) => Number(r.params.services));
  const fleet = Math.max(...lifecycleSizes);
  const perEvent = (key: string) =>
    (metric(report, 'lifecycle', 'ecs task RUNNING', key, { services: fleet }) +
      metric(report, 'lifecycle', 'ecs task STOPPED', key, { services: fleet })) /
    2;
  const snapshotRows = rows(report, 'xds').filter((r) => r.name.startsWith('stored SNAPSHOT'));
  const edsRows = rows(report, 'xds').filter((r) => r.name.startsWith('stored EDS'));
  return {
    // The slowest 304 measured: with Envoy 1.36's whole node in the request where the report has that row.
    handler304P50Ms: Math.max(...handler304Rows(report).map((r) => r.metrics.p50_ms!)),
    handler304P99Ms: Math.max(...handler304Rows(report).map((r) => r.metrics.p99_ms!)),
    readsPerMissedPoll: metric(report, 'xds', 'DynamoDB operations per poll, cold cache', 'reads_per_poll'),
    snapshotItemBytes: snapshotRows[0]?.metrics.item_bytes ?? NaN,
    edsItemBytes: edsRows[0]?.metrics.item_bytes ?? NaN,
    nodeStatusWritesPerEnvoyHour: metric(report, 'xds', 'node status per Envoy', 'node_status_writes_per_hour'),
    nodeStatusItemBytes: metric(report, 'xds', 'node status per Envoy', 'node_status_item_bytes'),
    eventReads: perEvent('reads_per_event'),
    eventWrites: perEvent('writes_per_event'),
    eventP50Ms: perEvent('p50_ms'),
    eventFleetSize: fleet,
    xdsInitMs: metric(report, 'cold-start', 'bundle and init of functions/xds', 'init_p50_ms'),
    pollWireBytes: pollSizes().pollWireBytes,
  };
}

export interface CostBreakdown {
  readonly pollsPerSecond: number;
  readonly containers: number;
  readonly missRatio: number;
  readonly readUnitsPerPoll: number;
  readonly billedMsPerPoll: number;
  readonly monthly: {
    readonly frontDoor: number;
    readonly lambdaRequests: number;
    readonly lambdaDuration: number;
    readonly dynamoReads: number;
    readonly dynamoWrites: number;
    readonly eventBridge: number;
    readonly lifecycleLambda: number;
    readonly logs: number;
    /** Moving the polls out of the VPC to the function URL (see PollRoute). */
    readonly dataTransfer: number;
  };
  /** Poll traffic, GB a month, both directions. */
  readonly pollGbPerMonth: number;
  readonly total: number;
  readonly totalWithoutLogs: number;
}

/** readUnits is what reading an item costs with eventually consistent reads: half a unit per 4 KB. */
const readUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 4096)) * 0.5;
const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));

/**
 * monthlyCost. Polls: per Envoy, each subscription polls every 1.5x its refresh delay on average
 * (ENVOY-REST.md: 1-2x after the previous poll completes). Cache: each container reads an item
 * at most once per TTL; with an item polled at rate λ in a container (Poisson), a poll finds it
 * stale with probability 1/(1+λ·TTL). A poll reads its service's SNAPSHOT and, for EDS, the named
 * EDS item (one BatchGetItem, measured: `readsPerMissedPoll`); the read units follow the
 * measured stored item sizes. Containers: mean concurrency (Little's law: polls/s × billed
 * duration) times `containersPerConcurrency`, at least one.
 */
export function monthlyCost(m: MeasuredInputs, a: CostAssumptions, front: 'functionUrl' | 'httpApi' | 'restApi' = 'functionUrl'): CostBreakdown {
  const p = unitPrices;
  const perEnvoy = {
    eds: a.dependenciesPerEnvoy / (1.5 * a.refreshDelayS),
    rds: a.routesPerEnvoy / (1.5 * a.refreshDelayS),
    cds: 1 / (1.5 * a.cdsRefreshS),
    lds: 1 / (1.5 * a.ldsRefreshS),
  };
  const envoyPollsPerSecond = perEnvoy.eds + perEnvoy.rds + perEnvoy.cds + perEnvoy.lds;
  const pollsPerSecond = a.envoys * envoyPollsPerSecond;

  // Containers, from a first guess of duration (a hit's billed ms), refined once.
  const services = Math.max(1, a.envoys / a.envoysPerService);
  const hitMs = Math.max(1, Math.ceil(m.handler304P50Ms));
  const missMs = Math.max(1, Math.ceil(m.handler304P50Ms + a.dynamoReadLatencyMs));
  const cacheFor = (containers: number) => {
    // SNAPSHOT of a service: polled by its Envoys' every poll. EDS of a service: by its callers' EDS polls.
    const snapshotRate = (pollsPerSecond / services) / containers;
    const edsRate = (a.envoys * perEnvoy.eds) / services / containers;
    const stale = (rate: number) => 1 / (1 + rate * a.snapshotCacheTtlS);
    const snapshotStale = stale(snapshotRate);
    const edsStale = stale(edsRate);
    const edsShare = perEnvoy.eds / envoyPollsPerSecond;
    const missRatio = Math.min(1, (1 - edsShare) * snapshotStale + edsShare * (1 - (1 - snapshotStale) * (1 - edsStale))) * m.readsPerMissedPoll;
    const readUnitsPerPoll = snapshotStale * readUnits(m.snapshotItemBytes) + edsShare * edsStale * readUnits(m.edsItemBytes);
    return { missRatio, readUnitsPerPoll };
  };
  let containers = Math.max(1, Math.ceil(pollsPerSecond * (hitMs / 1000) * a.containersPerConcurrency));
  let cache = cacheFor(containers);
  const billed = (miss: number) => (1 - miss) * hitMs + miss * missMs;
  containers = Math.max(1, Math.ceil(pollsPerSecond * (billed(cache.missRatio) / 1000) * a.containersPerConcurrency));
  cache = cacheFor(containers);
  const billedMsPerPoll = billed(cache.missRatio);

  const pollsPerMonth = pollsPerSecond * secondsPerMonth;
  const perMillion = (count: number, price: number) => (count / 1e6) * price;
  const frontPrice = front === 'functionUrl' ? p.functionUrlPerMillionRequests : front === 'httpApi' ? p.httpApiPerMillionRequests : p.restApiPerMillionRequests;

  const eventsPerMonth = a.envoys * a.replacementsPerEnvoyPerDay * a.eventsPerReplacement * 30;
  const nodeStatusWrites = a.envoys * m.nodeStatusWritesPerEnvoyHour * 24 * 30;
  // Lifecycle: reads are strongly consistent and small (1 unit); writes of endpoint, counter and EDS items.
  const eventWriteUnits = m.eventWrites * writeUnits(m.edsItemBytes);
  const monthly = {
    frontDoor: perMillion(pollsPerMonth, frontPrice),
    lambdaRequests: perMillion(pollsPerMonth + eventsPerMonth, p.lambdaPerMillionRequests),
    lambdaDuration: pollsPerMonth * (billedMsPerPoll / 1000) * (a.xdsMemoryMb / 1024) * p.lambdaArmPerGbSecond,
    dynamoReads: perMillion(pollsPerMonth * cache.readUnitsPerPoll + eventsPerMonth * m.eventReads, p.dynamoPerMillionReadUnits),
    dynamoWrites: perMillion(nodeStatusWrites * writeUnits(m.nodeStatusItemBytes) + eventsPerMonth * eventWriteUnits, p.dynamoPerMillionWriteUnits),
    eventBridge: perMillion(eventsPerMonth, p.eventBridgeAwsServiceEventsPerMillion),
    lifecycleLambda: eventsPerMonth * (Math.ceil(m.eventP50Ms) / 1000) * (a.lifecycleMemoryMb / 1024) * p.lambdaArmPerGbSecond,
    logs: ((pollsPerMonth * a.logBytesPerInvocation) / 2 ** 30) * p.logsIngestionPerGb,
    dataTransfer: dataTransferMonthly(pollsPerMonth * m.pollWireBytes / 2 ** 30, a),
  };
  const total = Object.values(monthly).reduce((s, v) => s + v, 0);
  return {
    pollsPerSecond,
    pollGbPerMonth: (pollsPerMonth * m.pollWireBytes) / 2 ** 30,
    containers,
    missRatio: cache.missRatio,
    readUnitsPerPoll: cache.readUnitsPerPoll,
    billedMsPerPoll,
    monthly,
    total,
    totalWithoutLogs: total - monthly.logs,
  };
}

/**
 * dataTransferMonthly prices a month of poll traffic on its route. Hourly NAT gateway charges are
 * left out: the gateway is there for everything else the subnet reaches; only the bytes the polls
 * add are the control plane's.
 */
export function dataTransferMonthly(gb: number, a: Pick<CostAssumptions, 'pollRoute' | 'crossAzShare' | 'envoys'>): number {
  const p = unitPrices;
  switch (a.pollRoute) {
    case 'nat-gateway':
      return gb * (p.natGatewayPerGb + a.crossAzShare * 2 * p.crossAzPerGbEachWay);
    case 'ipv6-egress':
      return 0;
    case 'public-ipv4':
      return a.envoys * (secondsPerMonth / 3600) * p.publicIpv4PerHour;
  }
}

/**
 * The push tier's measured figures, for its column of the comparison. From the push suite
 * (bench/suites/push.ts), at the largest stream count measured: the server's CPU per push (its
 * ACK and the node-status writes included; clients and table in a child process) and its heap
 * per stream (only with --expose-gc). From the change-feed suite (bench/suites/change-feed.ts),
 * per server: the read units of one idle log Query (one per tick, whatever the services), the
 * log and refresh read units one change adds (the larger of the churn rows: an upper bound,
 * as at low rates a change fits in a Query's minimum unit), and the sweep's read units per
 * item it re-reads (eventually consistent, a snapshot item of the bench).
 */
export interface PushMeasuredInputs {
  readonly streamsMeasured: number;
  readonly cpuUsPerPush: number;
  readonly heapKibPerStream: number | undefined;
  readonly logReadUnitsPerTick: number;
  readonly logReadUnitsPerChange: number;
  readonly refreshReadUnitsPerChange: number;
  readonly sweepReadUnitsPerItem: number;
  /** The service counts of the change feed's idle rows, smallest to largest. */
  readonly feedServicesMeasured: readonly number[];
}

/** idleFeed is one server's idle change-feed reads with `services` services with streams: log read units per tick, sweep read units per second. */
export function idleFeed(report: BenchReport, services: number): { logReadUnitsPerTick: number; sweepReadUnitsPerS: number } {
  const idle = (key: string) => metric(report, 'change-feed', 'DynamoDB reads per second per server, idle', key, { services });
  return { logReadUnitsPerTick: idle('log_read_units_per_s') / idle('log_requests_per_s'), sweepReadUnitsPerS: idle('sweep_read_units_per_s') };
}

export function pushMeasuredInputs(report: BenchReport): PushMeasuredInputs {
  const cpuRows = rows(report, 'push').filter((r) => r.name.startsWith('server CPU per push'));
  const streams = Math.max(...cpuRows.map((r) => Number(r.params.streams)));
  const heap = rows(report, 'push').find((r) => r.name.startsWith('server heap per stream') && r.params.streams === streams);
  const idleRows = rows(report, 'change-feed').filter((r) => r.name.includes(', idle'));
  const feedServices = idleRows.map((r) => Number(r.params.services)).sort((x, y) => x - y);
  const largest = Math.max(...feedServices);
  const { logReadUnitsPerTick, sweepReadUnitsPerS } = idleFeed(report, largest);
  const churnRows = rows(report, 'change-feed').filter((r) => r.name.startsWith('change feed under churn'));
  if (churnRows.length === 0 || idleRows.length === 0) throw new Error('bench results have no change-feed rows');
  const perChange = (f: (r: BenchRow) => number) => Math.max(...churnRows.map((r) => f(r) / Number(r.params.changes_per_s)));
  return {
    streamsMeasured: streams,
    cpuUsPerPush: metric(report, 'push', 'server CPU per push', 'cpu_us_per_push', { streams }),
    heapKibPerStream: heap?.metrics.kib,
    logReadUnitsPerTick,
    // What a churn row's Queries read beyond their idle minimum, per change.
    logReadUnitsPerChange: perChange((r) => r.metrics.log_read_units_per_s! - r.metrics.log_requests_per_s! * logReadUnitsPerTick),
    refreshReadUnitsPerChange: perChange((r) => r.metrics.refresh_read_units_per_s!),
    // The idle sweep reads one snapshot per service (one stream each), once a sweep interval (60 s in the suite).
    sweepReadUnitsPerItem: (sweepReadUnitsPerS * 60) / largest,
    feedServicesMeasured: feedServices,
  };
}

/** How the push tier is deployed (infra/xds-server.ts) and used, for the comparison. */
export interface PushAssumptions {
  /** The tick at which a server reads the change log, s (CHANGE_CHECK_MS). */
  readonly changeCheckS: number;
  /** The safety sweep's interval, s (CHANGE_SWEEP_MS): every item a server's streams use re-read. */
  readonly sweepS: number;
  /**
   * Change records per lifecycle event: each rewrites at most its service's EDS assignment, one
   * record (an upper bound: a stale or ignored event writes none).
   */
  readonly changesPerEvent: number;
  /** Fargate task size and streams per task (XdsServer's cpu, memoryLimitMiB, targetStreamsPerTask). */
  readonly taskVcpu: number;
  readonly taskGb: number;
  readonly streamsPerTask: number;
  readonly minTasks: number;
  /** Zones the tasks spread over: with a cross-zone NLB, (zones-1)/zones of the stream bytes cross zones. */
  readonly zones: number;
  /**
   * Secrets still come over the IAM-authenticated REST tier (the certificate a stream presents
   * is fetched there): two SDS subscriptions per Envoy polled this often, s. Certificates live
   * 24 h and renew at 12 h, so minutes are plenty.
   */
  readonly sdsRefreshS: number;
  /** Bytes of one EDS push (10 endpoints) on the wire, and of a stream's start (the node once, then the full config). */
  readonly pushBytes: number;
  readonly streamStartBytes: number;
  /** Stream (re)starts per Envoy per day: its own replacement, a deploy of the push tier, scaling moves. */
  readonly streamStartsPerEnvoyPerDay: number;
  /** Endpoint changes per replacement a caller's Envoy is pushed (one added, one removed). */
  readonly changesPerReplacement: number;
  /** gRPC keepalive, both directions: a PING and its ACK every 30 s, TLS framed. */
  readonly keepaliveBytesPerMinute: number;
}

export const defaultPushAssumptions: PushAssumptions = {
  changeCheckS: 0.5,
  sweepS: 60,
  changesPerEvent: 1,
  taskVcpu: 0.5,
  taskGb: 1,
  streamsPerTask: 2000,
  minTasks: 2,
  zones: 2,
  sdsRefreshS: 300,
  pushBytes: 3000,
  streamStartBytes: 90_000,
  streamStartsPerEnvoyPerDay: 2,
  changesPerReplacement: 2,
  keepaliveBytesPerMinute: 4 * 46,
};

/** NLB capacity units: one is 100,000 active TCP flows, 800 new flows a second, or 1 GB processed an hour, whichever is most. */
const nlcuOf = (activeFlows: number, newFlowsPerSecond: number, gbPerHour: number) => Math.max(activeFlows / 100_000, newFlowsPerSecond / 800, gbPerHour);

export interface PushCostBreakdown {
  readonly tasks: number;
  readonly servicesPerTask: number;
  /** Items a task's sweep re-reads: the snapshots of the services it holds and the EDS items their streams subscribe to. */
  readonly sweepItemsPerTask: number;
  /** Change records a month (lifecycle events × changesPerEvent). */
  readonly changesPerMonth: number;
  readonly monthly: {
    readonly fargate: number;
    readonly loadBalancer: number;
    /** The change log: each task's Query per tick, and what each change adds to them. */
    readonly changeLog: number;
    /** Each task reading each changed item (an upper bound: only tasks holding a subscriber do). */
    readonly changeRefresh: number;
    /** Each task re-reading every item its streams use once a sweep interval. */
    readonly sweep: number;
    readonly nodeStatusWrites: number;
    /** What both tiers pay alike: lifecycle events (Lambda, DynamoDB). */
    readonly lifecycle: number;
    /** SDS over the REST tier: Lambda, DynamoDB reads and the NAT bytes of those polls. */
    readonly restSds: number;
    /** Stream bytes between zones (cross-zone NLB); inside the VPC, no NAT. */
    readonly dataTransfer: number;
  };
  readonly streamGbPerMonth: number;
  readonly total: number;
}

/**
 * pushMonthlyCost prices the push tier for `a.envoys` Envoys: Fargate tasks (at least two, one
 * per `streamsPerTask` streams), the NLB (hours and capacity units), the change feed's reads
 * (each task: one log Query per tick, flat in services; for each change, its share of the log
 * and a read of the changed item, every task as an upper bound; and once a sweep interval every
 * item its streams use: with streams spread at random, a task holds a service's Envoys with
 * probability 1-(1-1/tasks)^envoysPerService, and reads its SNAPSHOT and its dependencies' EDS
 * items, at most every service's), node-status writes and lifecycle work as the REST tier has
 * them (the change record each rendered write appends is priced through the lifecycle suite's
 * measured writes per event, which count it from a run with the change log on), SDS polls over
 * REST, and stream bytes.
 */
export function pushMonthlyCost(m: MeasuredInputs, pm: PushMeasuredInputs, a: CostAssumptions, pa: PushAssumptions = defaultPushAssumptions): PushCostBreakdown {
  const p = unitPrices;
  const hours = secondsPerMonth / 3600;
  const tasks = Math.max(pa.minTasks, Math.ceil(a.envoys / pa.streamsPerTask));
  const services = Math.max(1, a.envoys / a.envoysPerService);
  const servicesPerTask = services * (1 - (1 - 1 / tasks) ** Math.min(a.envoys, a.envoysPerService));
  const edsItemsPerTask = Math.min(services, servicesPerTask * a.dependenciesPerEnvoy);
  const sweepItemsPerTask = servicesPerTask + edsItemsPerTask;
  const sweepReadUnitsPerTask = servicesPerTask * readUnits(m.snapshotItemBytes) + edsItemsPerTask * readUnits(m.edsItemBytes);
  const perMillion = (count: number, price: number) => (count / 1e6) * price;

  // Shared with the REST tier: lifecycle events, and node status (an upper bound: a stream reports only on pushes).
  const events = a.envoys * a.replacementsPerEnvoyPerDay * a.eventsPerReplacement * 30;
  const changes = events * pa.changesPerEvent;
  const rest = monthlyCost(m, a);
  const lifecycle =
    rest.monthly.lifecycleLambda +
    rest.monthly.eventBridge +
    perMillion(events, p.lambdaPerMillionRequests) +
    perMillion(events * m.eventWrites * writeUnits(m.edsItemBytes), p.dynamoPerMillionWriteUnits) +
    perMillion(events * m.eventReads, p.dynamoPerMillionReadUnits);
  // SDS over REST: the REST model with only two subscriptions per Envoy, at the SDS refresh.
  const sds = monthlyCost(m, { ...a, dependenciesPerEnvoy: 2, routesPerEnvoy: 0, refreshDelayS: pa.sdsRefreshS, ldsRefreshS: Infinity, cdsRefreshS: Infinity, replacementsPerEnvoyPerDay: 0 });
  const restSds = sds.monthly.lambdaRequests + sds.monthly.lambdaDuration + sds.monthly.dynamoReads + sds.monthly.dataTransfer;

  const pushesPerEnvoyPerDay = a.dependenciesPerEnvoy * a.envoysPerService * a.replacementsPerEnvoyPerDay * pa.changesPerReplacement;
  const bytesPerEnvoyPerMonth =
    30 * (pushesPerEnvoyPerDay * pa.pushBytes + pa.streamStartsPerEnvoyPerDay * pa.streamStartBytes) + (secondsPerMonth / 60) * pa.keepaliveBytesPerMinute;
  const streamGb = (a.envoys * bytesPerEnvoyPerMonth) / 2 ** 30;
  const newFlowsPerSecond = (a.envoys * pa.streamStartsPerEnvoyPerDay) / 86_400;
  const monthly = {
    fargate: tasks * hours * (pa.taskVcpu * p.fargateArmPerVcpuHour + pa.taskGb * p.fargateArmPerGbHour),
    loadBalancer: hours * (p.nlbPerHour + p.nlbPerNlcuHour * nlcuOf(a.envoys, newFlowsPerSecond, streamGb / hours)),
    changeLog: perMillion(tasks * ((secondsPerMonth / pa.changeCheckS) * pm.logReadUnitsPerTick + changes * pm.logReadUnitsPerChange), p.dynamoPerMillionReadUnits),
    changeRefresh: perMillion(tasks * changes * pm.refreshReadUnitsPerChange, p.dynamoPerMillionReadUnits),
    sweep: perMillion(tasks * (secondsPerMonth / pa.sweepS) * sweepReadUnitsPerTask, p.dynamoPerMillionReadUnits),
    nodeStatusWrites: perMillion(a.envoys * m.nodeStatusWritesPerEnvoyHour * 24 * 30 * writeUnits(m.nodeStatusItemBytes), p.dynamoPerMillionWriteUnits),
    lifecycle,
    restSds,
    dataTransfer: streamGb * ((pa.zones - 1) / pa.zones) * 2 * p.crossAzPerGbEachWay,
  };
  return { tasks, servicesPerTask, sweepItemsPerTask, changesPerMonth: changes, monthly, streamGbPerMonth: streamGb, total: Object.values(monthly).reduce((sum, v) => sum + v, 0) };
}

/**
 * pushCheaperRange finds the fleet sizes (to 1%, from 10 to 10 million Envoys) at which the push
 * tier costs less than REST polling: from the first size where it does to the last, or
 * undefined when it never does. `to` is undefined when push stays cheaper up to 10 million.
 */
export function pushCheaperRange(
  m: MeasuredInputs,
  pm: PushMeasuredInputs,
  a: CostAssumptions,
  pa: PushAssumptions = defaultPushAssumptions,
): { from: number; to: number | undefined } | undefined {
  const cheaper = (n: number) => pushMonthlyCost(m, pm, { ...a, envoys: n }, pa).total < monthlyCost(m, { ...a, envoys: n }).total;
  let from: number | undefined;
  let last: number | undefined;
  for (let n = 10; n <= 1e7; n = Math.ceil(n * 1.01)) {
    if (cheaper(n)) {
      from ??= n;
      last = n;
    } else if (from !== undefined) {
      return { from, to: last };
    }
  }
  return from === undefined ? undefined : { from, to: undefined };
}

const usd = (n: number) => (n >= 100 ? `$${n.toFixed(0)}` : n >= 1 ? `$${n.toFixed(2)}` : `$${n.toFixed(3)}`);
const fmt = (n: number, digits = 2) => Number(n.toFixed(digits)).toLocaleString('en-US');

/** costDocument renders docs/cost.md from a full benchmark report. */
export function costDocument(report: BenchReport, assumptions: CostAssumptions = defaultAssumptions): string {
  const m = measuredInputs(report);
  const base = monthlyCost(m, assumptions);
  const delays = [5, 10, 30, 60];
  const byDelay = delays.map((d) => ({ d, c: monthlyCost(m, { ...assumptions, refreshDelayS: d }) }));
  const churns = [0.1, 1, 10];
  const byChurn = churns.map((r) => ({ r, c: monthlyCost(m, { ...assumptions, replacementsPerEnvoyPerDay: r }) }));
  const ttls = [1, 2, 5, 10];
  const byTtl = ttls.map((t) => ({ t, c: monthlyCost(m, { ...assumptions, snapshotCacheTtlS: t }) }));
  const http = monthlyCost(m, assumptions, 'httpApi');
  const rest = monthlyCost(m, assumptions, 'restApi');
  const a = assumptions;
  const p = unitPrices;
  const line = (label: string, value: number, how: string) => `| ${label} | ${usd(value)} | ${how} |`;
  return [
    '# Cost per 1,000 Envoys',
    '',
    '<!-- Generated by `npm run bench` (bench/cost-model.ts) from bench/results.json. Do not edit by hand. -->',
    '',
    `Monthly AWS cost of the control plane for ${fmt(a.envoys, 0)} Envoys, computed by [bench/cost-model.ts](../bench/cost-model.ts) from`,
    `the figures in [bench/results.json](../bench/results.json) (measured ${report.generatedAt.slice(0, 10)} on ${report.machine.cpu} x${report.machine.cores}, Node ${report.machine.node})`,
    'and the unit prices and assumptions below. Change them there and rerun `npm run bench`.',
    '',
    `## At a ${a.refreshDelayS} s refresh delay: ${usd(base.total)} a month (${usd(base.totalWithoutLogs)} without CloudWatch Logs)`,
    '',
    '| line | per month | how |',
    '| --- | --- | --- |',
    line('Front door (Lambda function URL, AWS_IAM)', base.monthly.frontDoor, 'no charge beyond the invocation'),
    line('Lambda requests', base.monthly.lambdaRequests, `${fmt(base.pollsPerSecond, 0)} polls/s + lifecycle events, $${p.lambdaPerMillionRequests} per million`),
    line('Lambda duration (xds)', base.monthly.lambdaDuration, `${fmt(base.billedMsPerPoll, 2)} billed ms per poll (1 ms on a cache hit, + ${a.dynamoReadLatencyMs} ms on a miss) at ${a.xdsMemoryMb} MB`),
    line('DynamoDB reads', base.monthly.dynamoReads, `${fmt(base.readUnitsPerPoll, 4)} read units per poll (cache TTL ${a.snapshotCacheTtlS} s, ${base.containers} containers) + ${fmt(m.eventReads, 1)} per event`),
    line('DynamoDB writes', base.monthly.dynamoWrites, `${fmt(m.nodeStatusWritesPerEnvoyHour, 0)} node-status writes per Envoy-hour + ${fmt(m.eventWrites, 1)} per event`),
    line('EventBridge', base.monthly.eventBridge, 'ECS and EC2 state changes are AWS service events on the default bus: free'),
    line('Lambda duration (lifecycle)', base.monthly.lifecycleLambda, `${fmt(m.eventP50Ms, 0)} ms per event (measured on dynalite, so an upper bound)`),
    line('CloudWatch Logs', base.monthly.logs, `${a.logBytesPerInvocation} bytes per poll (platform lines at WARN; one EMF line per container per minute, negligible) at $${p.logsIngestionPerGb}/GB`),
    line(
      'Data transfer (polls through a NAT gateway)',
      base.monthly.dataTransfer,
      `${fmt(base.pollGbPerMonth, 0)} GB of polls (${fmt(m.pollWireBytes, 0)} bytes each on the wire) at $${p.natGatewayPerGb}/GB NAT processing; see "Data transfer"`,
    ),
    '',
    'Where the money goes: **bytes, then requests**. Through a NAT gateway, the poll traffic costs more than everything',
    'else together (next section); routed over IPv6 it costs nothing. Then requests: Envoy\u2019s REST subscriptions poll every EDS cluster and every RDS route',
    'configuration separately, so an Envoy with 10 HTTP dependencies makes about',
    `${fmt(base.pollsPerSecond / a.envoys, 2)} polls/s at a ${a.refreshDelayS} s refresh. Each poll costs one Lambda request ($0.20/M) and, unless`,
    'log output is cut, about as much again in CloudWatch Logs ingestion. DynamoDB is small because the cache answers',
    'most polls and the items are gzipped below 4 KB.',
    '',
    ...dataTransferSection(m, a, base),
    '## By refresh delay (EDS and RDS; LDS and CDS stay at the bootstrap\u2019s defaults)',
    '',
    '| refresh delay | polls/s | containers | DynamoDB requests per poll | total / month | without logs |',
    '| --- | --- | --- | --- | --- | --- |',
    ...byDelay.map(({ d, c }) => `| ${d} s | ${fmt(c.pollsPerSecond, 0)} | ${c.containers} | ${fmt(c.missRatio, 3)} | ${usd(c.total)} | ${usd(c.totalWithoutLogs)} |`),
    '',
    ...routeDeliverySection(report, m, a),
    '## By snapshot cache TTL (SNAPSHOT_CACHE_TTL_MS)',
    '',
    'A longer TTL saves reads but delays changes by up to the TTL on top of the refresh delay (see the convergence suite).',
    '',
    '| TTL | DynamoDB requests per poll | DynamoDB reads / month | total / month |',
    '| --- | --- | --- | --- |',
    ...byTtl.map(({ t, c }) => `| ${t} s | ${fmt(c.missRatio, 3)} | ${usd(c.monthly.dynamoReads)} | ${usd(c.total)} |`),
    '',
    `## Levers: what each change would save (each alone, from the ${a.refreshDelayS} s baseline)`,
    '',
    '| change | total / month | saves |',
    '| --- | --- | --- |',
    ...levers(m, a).map(([what, total]) => `| ${what} | ${usd(total)} | ${usd(base.total - total)} |`),
    '',
    '## By churn (task replacements per Envoy per day)',
    '',
    '| replacements / Envoy / day | lifecycle events / month | total / month |',
    '| --- | --- | --- |',
    ...byChurn.map(({ r, c }) => `| ${r} | ${fmt(a.envoys * r * a.eventsPerReplacement * 30, 0)} | ${usd(c.total)} |`),
    '',
    `Lifecycle work is per event and does not grow with the fleet: measured at ${fmt(m.eventFleetSize, 0)} services,`,
    `an ECS RUNNING or STOPPED event costs ${fmt(m.eventReads, 1)} reads and ${fmt(m.eventWrites, 1)} writes. Churn barely moves the total.`,
    '',
    '## Front door options',
    '',
    '| front door | front door / month | total / month |',
    '| --- | --- | --- |',
    `| Lambda function URL (AWS_IAM), deployed | ${usd(base.monthly.frontDoor)} | ${usd(base.total)} |`,
    `| API Gateway HTTP API ($${p.httpApiPerMillionRequests}/M, first 300M) | ${usd(http.monthly.frontDoor)} | ${usd(http.total)} |`,
    `| API Gateway REST API ($${p.restApiPerMillionRequests}/M) | ${usd(rest.monthly.frontDoor)} | ${usd(rest.total)} |`,
    '',
    'The function URL adds nothing per request; an HTTP API would cost five times the Lambda requests.',
    '',
    ...pushSection(report, m, a),
    '## Unit prices (public, on demand, ' + `${p.region}, as of ${p.asOf}; update \`unitPrices\` in bench/cost-model.ts)`,
    '',
    '| item | price |',
    '| --- | --- |',
    `| Lambda arm64 duration | $${p.lambdaArmPerGbSecond} per GB-second |`,
    `| Lambda requests | $${p.lambdaPerMillionRequests} per million |`,
    `| Lambda function URL | no charge |`,
    `| API Gateway HTTP API | $${p.httpApiPerMillionRequests} per million (first 300 million) |`,
    `| API Gateway REST API | $${p.restApiPerMillionRequests} per million (first 333 million) |`,
    `| DynamoDB on-demand reads | $${p.dynamoPerMillionReadUnits} per million read request units (since the November 2024 price cut) |`,
    `| DynamoDB on-demand writes | $${p.dynamoPerMillionWriteUnits} per million write request units |`,
    `| EventBridge, AWS service events on the default bus | free (custom events $${p.eventBridgeCustomEventsPerMillion} per million) |`,
    `| SQS standard | $${p.sqsPerMillionRequests} per million requests (drain queue; negligible here) |`,
    `| CloudWatch Logs ingestion (EMF metrics too) | $${p.logsIngestionPerGb} per GB |`,
    `| Fargate arm64 | $${p.fargateArmPerVcpuHour} per vCPU-hour, $${p.fargateArmPerGbHour} per GB-hour |`,
    `| Network Load Balancer | $${p.nlbPerHour} per hour + $${p.nlbPerNlcuHour} per NLCU-hour |`,
    `| NAT gateway | $${p.natGatewayPerHour} per hour + $${p.natGatewayPerGb} per GB processed (both directions, AWS destinations included) |`,
    `| data transfer between zones | $${p.crossAzPerGbEachWay} per GB in each direction |`,
    `| public IPv4 address | $${p.publicIpv4PerHour} per hour |`,
    '| egress-only internet gateway (IPv6) | no charge |',
    '',
    '## Measured inputs (from bench/results.json)',
    '',
    '| input | value | row |',
    '| --- | --- | --- |',
    `| xds handler time, 304, p50 / p99 | ${m.handler304P50Ms} / ${m.handler304P99Ms} ms | xds: poll 304 (in-process, warm cache) |`,
    `| DynamoDB requests per poll that misses the cache | ${m.readsPerMissedPoll} | xds: DynamoDB operations per poll, cold cache |`,
    `| stored SNAPSHOT item, 10 dependencies | ${m.snapshotItemBytes} bytes | xds: stored SNAPSHOT item |`,
    `| stored EDS item, 10 endpoints | ${m.edsItemBytes} bytes | xds: stored EDS item |`,
    `| node-status writes per Envoy-hour (steady state) | ${m.nodeStatusWritesPerEnvoyHour}, items of ${m.nodeStatusItemBytes} bytes | xds: node status per Envoy |`,
    `| reads / writes per lifecycle event (mean of ECS RUNNING and STOPPED, ${fmt(m.eventFleetSize, 0)} services) | ${fmt(m.eventReads, 2)} / ${fmt(m.eventWrites, 2)} | lifecycle |`,
    `| lifecycle handler time per event, p50 | ${fmt(m.eventP50Ms, 1)} ms | lifecycle |`,
    `| xds bundle init (cold start) | ${m.xdsInitMs} ms | cold-start (a few containers a day: negligible) |`,
    `| one poll on the wire, request + 304 | ${fmt(m.pollWireBytes, 0)} bytes | bench/request-size.ts: the DiscoveryRequest Envoy 1.36 sends, plus headers (see "Data transfer") |`,
    '',
    '## Assumptions',
    '',
    '| assumption | value | why |',
    '| --- | --- | --- |',
    `| Envoys | ${fmt(a.envoys, 0)} | the unit of this model |`,
    `| EDS and RDS refresh delay | ${a.refreshDelayS} s | render settings\u2019 \`refreshDelay\`, the deployed default (shared/render/settings.ts) |`,
    `| LDS / CDS refresh delay | ${a.ldsRefreshS} s / ${a.cdsRefreshS} s | the generated bootstrap\u2019s defaults (shared/bootstrap) |`,
    '| polls per subscription | one per 1.5 refresh delays | Envoy waits 1-2x refresh_delay after a poll completes (ENVOY-REST.md) |',
    `| dependencies (EDS clusters) per Envoy | ${a.dependenciesPerEnvoy} | |`,
    `| RDS subscriptions per Envoy | ${a.routesPerEnvoy} | one per HTTP dependency listener |`,
    `| Envoys per service | ${a.envoysPerService} | they share one SNAPSHOT item |`,
    `| task replacements per Envoy per day | ${a.replacementsPerEnvoyPerDay} | deploys and scaling |`,
    `| lifecycle events per replacement | ${a.eventsPerReplacement} | RUNNING (and health), DEACTIVATING, STOPPING, DEPROVISIONING, STOPPED |`,
    `| xds / lifecycle memory | ${a.xdsMemoryMb} / ${a.lifecycleMemoryMb} MB | infra/front-door.ts, infra/lifecycle-pipeline.ts |`,
    `| snapshot cache TTL | ${a.snapshotCacheTtlS} s | SNAPSHOT_CACHE_TTL_MS |`,
    `| route of the polls | ${a.pollRoute}, ${fmt(a.crossAzShare * 100, 0)}% of nodes across zones from their NAT gateway | private subnets behind a NAT gateway per zone (the example has one for two zones: 50%) |`,
    `| DynamoDB read latency on a miss | ${a.dynamoReadLatencyMs} ms | in-region BatchGetItem p50; Lambda bills whole ms |`,
    `| warm containers per unit of mean concurrency | ${a.containersPerConcurrency} | bursty arrivals keep more containers than the mean needs |`,
    '| read units | 0.5 per started 4 KB per item | eventually consistent BatchGetItem |',
    '| write units | 1 per started 1 KB | on-demand |',
    `| log bytes per invocation | ${a.logBytesPerInvocation} | was ~650 (START/END/REPORT + an EMF line per poll); 0 since platform logs are at WARN and metrics are aggregated per minute |`,
    '',
    '**Cache hits and containers.** Each Lambda container has its own cache, so what counts is how often one container',
    'sees the same item within a TTL: an item polled at λ per second in a container is read with probability',
    '1/(1+λ·TTL) per poll. More containers (a bigger fleet or slower handlers) split the polls and lower λ per',
    'container; a small fleet spread over many containers gains little from the cache. The benchmark\u2019s',
    '`reads_per_poll_one_envoy` (one Envoy alone in a container) is the worst case: nearly every poll reads.',
    '',
    '**Cutting the bill.** In order of effect: a longer EDS/RDS refresh delay (cost is almost linear in its inverse);',
    'serving routes inline in LDS instead of RDS (`routeDelivery: \'inline\'`, see "Route delivery"). Already applied: Lambda\u2019s platform log lines at WARN,',
    'poll counts aggregated into one EMF line per minute, node-status liveness every 5 min.',
    '',
  ].join('\n');
}

/**
 * routeDeliverySection: the REST tier's two biggest levers side by side, the refresh delay and
 * routes inline in LDS, on both routes out of the VPC, and what inline routes cost in listener
 * updates under spec churn (the route-delivery suite), when the report has it.
 */
function routeDeliverySection(report: BenchReport, m: MeasuredInputs, a: CostAssumptions): string[] {
  const delays = [5, 10, 30, 60];
  const cost = (d: number, inline: boolean, pollRoute: PollRoute) => {
    const at = { ...a, refreshDelayS: d, pollRoute };
    return monthlyCost(m, inline ? withRoutesInline(at) : at).total;
  };
  const churn = (mode: string) => rows(report, 'route-delivery').find((r) => r.name.startsWith('spec churn: listener') && r.params.route_delivery === mode);
  const rds = churn('rds');
  const inline = churn('inline');
  const byKind = rows(report, 'route-delivery').filter((r) => r.name.startsWith('spec churn by kind') && r.params.route_delivery === 'inline');
  const rdsKind = (kind: unknown) => rows(report, 'route-delivery').find((r) => r.name.startsWith('spec churn by kind') && r.params.route_delivery === 'rds' && r.params.kind === kind);
  const pct = (x: number | undefined) => (x === undefined ? 'n/a' : `${fmt(x * 100, 0)} %`);
  return [
    '## Route delivery: RDS or routes inline in LDS, by refresh delay',
    '',
    'Each HTTP dependency is one RDS subscription, so over RDS an Envoy with 10 HTTP dependencies polls RDS 10 times per',
    'refresh. `routeDelivery: \'inline\'` (ControlPlane prop; `npm start -- --routes inline`) serves each route',
    'configuration inside its listener instead: no RDS polls, and the generated bootstrap polls LDS at the refresh delay, so',
    `route changes arrive as fast. Per ${fmt(a.envoys, 0)} Envoys a month (the deployed default is ${a.refreshDelayS} s, routes over RDS, through a NAT gateway):`,
    '',
    '| EDS/RDS refresh | over RDS, NAT gateway (today) | inline, NAT gateway | over RDS, IPv6 | inline, IPv6 |',
    '| --- | --- | --- | --- | --- |',
    ...delays.map((d) => `| ${d} s | ${usd(cost(d, false, 'nat-gateway'))} | ${usd(cost(d, true, 'nat-gateway'))} | ${usd(cost(d, false, 'ipv6-egress'))} | ${usd(cost(d, true, 'ipv6-egress'))} |`),
    '',
    ...(rds && inline
      ? [
          'The price is drains. A route configuration inline is part of its listener, so a change to it is a listener change,',
          'and Envoy drains the listener\u2019s connections on every Envoy of the service. Measured on a generated mesh of',
          `${fmt(Number(inline.params.services), 0)} services with ${inline.params.dependencies_per_service} dependencies each, under ${fmt(inline.metrics.changes!, 0)} typical spec changes`,
          '(bench/suites/route-delivery.ts: the mix of changes is written there):',
          '',
          '| | over RDS | inline |',
          '| --- | --- | --- |',
          `| spec changes that update some Envoy\u2019s listeners | ${pct(rds.metrics.lds_update_share)} | ${pct(inline.metrics.lds_update_share)} |`,
          `| listeners drained per spec change | ${fmt(rds.metrics.listeners_drained_per_change!, 2)} | ${fmt(inline.metrics.listeners_drained_per_change!, 2)} |`,
          `| LDS of a service, bytes (JSON) | ${fmt(rds.metrics.lds_bytes_per_service!, 0)} | ${fmt(inline.metrics.lds_bytes_per_service!, 0)} |`,
          '',
          '| kind of change | updates listeners over RDS | inline |',
          '| --- | --- | --- |',
          ...byKind.map((r) => `| ${r.params.kind} | ${pct(rdsKind(r.params.kind)?.metrics.lds_update_share)} | ${pct(r.metrics.lds_update_share)} |`),
          '',
          'Over RDS, listeners change only when a dependency comes or goes, or a TCP dependency\u2019s policy changes (its split',
          'and idle timeout live in the TCP proxy). Inline, canary steps and timeout changes drain too. So inline routes suit',
          'meshes whose routes rarely change (no canaries driven by weights) and whose clients reconnect cheaply; a mesh that',
          'moves canary weights often is better served by a longer refresh delay, IPv6 egress, or the push tier.',
          '',
        ]
      : ['(The route-delivery suite was not in this report: run `npm run bench -- --only route-delivery`.)', '']),
  ];
}

/** levers recomputes the model with one change each, to show what moves the total. */
function levers(m: MeasuredInputs, a: CostAssumptions): [string, number][] {
  const perHour = m.nodeStatusWritesPerEnvoyHour;
  return [
    ['node-status liveness every 25 min instead of every 5 min (NODE_STATUS_LIVENESS_MS)', monthlyCost({ ...m, nodeStatusWritesPerEnvoyHour: perHour / 5 }, a).total],
    ['node-status item under 1 KB (1 write unit instead of ' + Math.ceil(m.nodeStatusItemBytes / 1024) + ')', monthlyCost({ ...m, nodeStatusItemBytes: 1000 }, a).total],
    ['routes inline in LDS (`routeDelivery: \'inline\'`: no RDS polls, LDS at the refresh delay)', monthlyCost(m, withRoutesInline(a)).total],
    ['snapshot cache TTL 5 s instead of 2 s', monthlyCost(m, { ...a, snapshotCacheTtlS: 5 }).total],
    [`EDS/RDS refresh 30 s instead of ${a.refreshDelayS} s`, monthlyCost(m, { ...a, refreshDelayS: 30 }).total],
    ['polls over IPv6 (egress-only internet gateway) instead of the NAT gateway', monthlyCost(m, { ...a, pollRoute: 'ipv6-egress' }).total],
  ];
}

/**
 * dataTransferSection: what one poll weighs, and what moving the polls out of the VPC costs on
 * each route. Function URLs have no PrivateLink endpoint, so private subnets reach them through a
 * NAT gateway unless they have IPv6 egress; function URLs are dual-stack (IPv4 and IPv6).
 */
function dataTransferSection(m: MeasuredInputs, a: CostAssumptions, base: CostBreakdown): string[] {
  const sizes: PollSizes = pollSizes();
  const routes: [string, CostAssumptions][] = [
    ['NAT gateway in the node\u2019s zone (default of this model)', { ...a, pollRoute: 'nat-gateway', crossAzShare: 0 }],
    ['one NAT gateway for two zones (the example app: half the nodes cross zones)', { ...a, pollRoute: 'nat-gateway', crossAzShare: 0.5 }],
    ['public subnets, a public IPv4 address per node', { ...a, pollRoute: 'public-ipv4' }],
    ['IPv6 through an egress-only internet gateway (`pollOverIpv6`)', { ...a, pollRoute: 'ipv6-egress' }],
  ];
  return [
    '## Data transfer: every poll carries Envoy\u2019s whole node',
    '',
    'Envoy\u2019s REST client copies the whole local node into every DiscoveryRequest, and the node lists every compiled-in',
    `extension with its config types. Built as Envoy 1.36 sends it (bench/request-size.ts, from Envoy\u2019s own extension list):`,
    '',
    '| what | bytes |',
    '| --- | --- |',
    `| node (${fmt(sizes.extensions, 0)} extension entries, one per category of each extension) | ${fmt(sizes.nodeBytes, 0)} |`,
    `| DiscoveryRequest body, CDS (wildcard) · EDS (one cluster) | ${fmt(sizes.cdsBodyBytes, 0)} · ${fmt(sizes.edsBodyBytes, 0)} |`,
    `| request headers with SigV4 and the session token (estimate) · 304 answer · TLS records | ${wireOverhead.requestHeaderBytes} · ${wireOverhead.response304Bytes} · ${2 * wireOverhead.tlsRecordBytes} |`,
    `| **one steady-state poll on the wire** | **${fmt(sizes.pollWireBytes, 0)}** |`,
    `| the same poll with the minimal node the benchmarks use | ${fmt(sizes.minimalPollWireBytes, 0)} |`,
    '',
    `At ${fmt(base.pollsPerSecond / a.envoys, 2)} polls/s per Envoy that is ${fmt(base.pollGbPerMonth / a.envoys, 0)} GB per Envoy a month, ${fmt(base.pollGbPerMonth, 0)} GB for ${fmt(a.envoys, 0)} Envoys.`,
    'Almost all of it is the request: a 304 answer is a few hundred bytes. Envoy has no setting to leave the node out',
    'of REST polls (gRPC has `set_node_on_first_message_only`), so the route decides the price:',
    '',
    '| route of the polls | data transfer / month | total / month |',
    '| --- | --- | --- |',
    ...routes.map(([what, as]) => {
      const c = monthlyCost(m, as);
      return `| ${what} | ${usd(c.monthly.dataTransfer)} | ${usd(c.total)} |`;
    }),
    '',
    '**The cheapest route is IPv6.** Lambda function URLs are dual-stack (IPv4 and IPv6; AWS Lambda developer guide,',
    '"Lambda function URLs") and have no PrivateLink endpoint, so traffic from private subnets leaves the VPC either way.',
    'An egress-only internet gateway has no hourly or per-GB charge; give the subnets IPv6 (dual-stack VPC, a `::/0` route',
    'to the egress-only gateway) and set `pollOverIpv6: true` on `addMeshSidecar` / `addMeshUserData`, which makes the xDS',
    'cluster resolve the front door with `dns_lookup_family: AUTO` (IPv6 when there is an AAAA record). Only where IPv6',
    'egress exists: Envoy does not fall back to IPv4 when the IPv6 connect fails. ECS tasks get IPv6 addresses in',
    'dual-stack subnets once the account setting `dualStackIPv6` is on. Public subnets avoid NAT processing but pay',
    `$${unitPrices.publicIpv4PerHour} an hour per public IPv4 address. The NAT gateway\u2019s hourly charge is not counted: it serves the subnet anyway.`,
    'A longer refresh delay shrinks the bytes in proportion, like the requests.',
    '',
  ];
}

/**
 * pushSection compares the two tiers at 100 to 100,000 Envoys, per 1,000 Envoys a month: REST
 * polling (through a NAT gateway, the model's default, and over IPv6) against the push tier as
 * infra/xds-server.ts deploys it, with the break-even, what the push tier's money goes to, and
 * the levers that move it.
 */
function pushSection(report: BenchReport, m: MeasuredInputs, a: CostAssumptions, pa: PushAssumptions = defaultPushAssumptions): string[] {
  const pm = pushMeasuredInputs(report);
  const fleets = [100, 1000, 10_000, 100_000];
  const per1000 = (total: number, n: number) => usd((total / n) * 1000);
  const at = fleets.map((n) => {
    const as = { ...a, envoys: n };
    return { n, rest: monthlyCost(m, as), rest6: monthlyCost(m, { ...as, pollRoute: 'ipv6-egress' }), push: pushMonthlyCost(m, pm, as, pa) };
  });
  const range = (route: PollRoute) => {
    const r = pushCheaperRange(m, pm, { ...a, pollRoute: route }, pa);
    if (!r) return 'at no fleet size up to 10 million';
    return r.to === undefined ? `from about ${fmt(r.from, 0)} Envoys on` : `from about ${fmt(r.from, 0)} to about ${fmt(r.to, 0)} Envoys`;
  };
  const k = pushMonthlyCost(m, pm, a, pa);
  const heap = pm.heapKibPerStream;
  const largest = at[at.length - 1]!;
  const big = { ...a, envoys: largest.n };
  const perTaskLog = ((secondsPerMonth / pa.changeCheckS) * pm.logReadUnitsPerTick * unitPrices.dynamoPerMillionReadUnits) / 1e6;
  const ipv6Range = pushCheaperRange(m, pm, { ...a, pollRoute: 'ipv6-egress' }, pa);
  const floor = pushMonthlyCost(m, pm, { ...a, envoys: 1 }, pa);
  const tenMinuteSweep = pushMonthlyCost(m, pm, big, { ...pa, sweepS: 600 });
  // The per-tick polling the log replaced is the sweep made every tick.
  const polling = pushMonthlyCost(m, pm, big, { ...pa, sweepS: pa.changeCheckS });
  const idleLogUnits = pm.feedServicesMeasured.map((n) => idleFeed(report, n).logReadUnitsPerTick);
  const lifecycleSuite = report.suites.find((x) => x.name === 'lifecycle');
  const lifecycleDate = lifecycleSuite?.measuredAt ?? report.generatedAt;
  const cpuSecondsPerTaskChange = (pm.cpuUsPerPush * pa.streamsPerTask) / 1e6;
  const labels: Record<keyof PushCostBreakdown['monthly'], string> = {
    fargate: 'Fargate',
    loadBalancer: 'NLB',
    changeLog: 'change log',
    changeRefresh: 'changed items',
    sweep: 'sweep',
    nodeStatusWrites: 'node status',
    lifecycle: 'lifecycle',
    restSds: 'SDS over REST',
    dataTransfer: 'data transfer',
  };
  const costliest = (c: PushCostBreakdown) => {
    const [key, value] = (Object.entries(c.monthly) as [keyof PushCostBreakdown['monthly'], number][]).sort((x, y) => y[1] - x[1])[0]!;
    return `${labels[key]} (${usd(value)})`;
  };
  const line = (label: string, value: number, how: string) => `| ${label} | ${usd(value)} | ${how} |`;
  const p = unitPrices;
  return [
    '## REST or push: per 1,000 Envoys a month, by fleet size',
    '',
    'The push tier (ADS over gRPC on Fargate behind an NLB, [deploy.md](deploy.md#the-push-tier-ads-over-grpc-on-fargate)) against REST polling at the',
    `${a.refreshDelayS} s refresh above. Push figures from the push suite (${fmt(pm.streamsMeasured, 0)} streams on one server), the change-feed suite`,
    `(reads per server at ${pm.feedServicesMeasured.map((n) => fmt(n, 0)).join(', ')} services, idle and under churn) and the same measured DynamoDB items; tasks of ${pa.taskVcpu} vCPU / ${pa.taskGb} GB, ${fmt(pa.streamsPerTask, 0)} streams each (the autoscaling target), at least ${pa.minTasks}.`,
    '',
    '| Envoys | REST via NAT, total | REST via NAT / 1,000 | REST via IPv6 / 1,000 | push, total | push / 1,000 | push tasks | push: largest line |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...at.map(({ n, rest, rest6, push }) =>
      `| ${fmt(n, 0)} | ${usd(rest.total)} | ${per1000(rest.total, n)} | ${per1000(rest6.total, n)} | ${usd(push.total)} | ${per1000(push.total, n)} | ${push.tasks} | ${costliest(push)} |`,
    ),
    '',
    `**Break-even.** Against REST through a NAT gateway, push costs less ${range('nat-gateway')}: a stream sends`,
    'Envoy\u2019s 56 KB node once, a REST poll sends it every time, and NAT processing charges every byte. Against REST over',
    `IPv6 (no per-byte charge), push costs less ${range('ipv6-egress')}. Below that the tier\u2019s floor costs more than the polls: ${pa.minTasks} tasks`,
    `and the NLB come to ${usd(floor.monthly.fargate + floor.monthly.loadBalancer)} a month for any fleet.${
      ipv6Range?.to === undefined
        ? ` Above it, what push pays per Envoy (node-status writes, SDS over REST, one task per ${fmt(pa.streamsPerTask, 0)} streams, the sweep) stays below a REST Envoy\u2019s polls`
        : ` Beyond ${fmt(ipv6Range.to, 0)}, push\u2019s per-Envoy lines outgrow the polls`
    }; at ${fmt(largest.n, 0)} Envoys the largest push line is ${costliest(largest.push)}.`,
    '',
    `### The push tier at ${fmt(a.envoys, 0)} Envoys: ${usd(k.total)} a month`,
    '',
    '| line | per month | how |',
    '| --- | --- | --- |',
    line('Fargate (arm64)', k.monthly.fargate, `${k.tasks} tasks of ${pa.taskVcpu} vCPU / ${pa.taskGb} GB all month`),
    line('Network Load Balancer', k.monthly.loadBalancer, `$${p.nlbPerHour}/h + capacity units (${fmt(a.envoys, 0)} active flows of 100,000 per NLCU)`),
    line(
      'DynamoDB reads: change log',
      k.monthly.changeLog,
      `each task: one consistent Query every ${pa.changeCheckS} s (${fmt(pm.logReadUnitsPerTick, 1)} read unit idle, measured), + ${fmt(pm.logReadUnitsPerChange, 2)} unit per change (${fmt(k.changesPerMonth, 0)} changes: ${pa.changesPerEvent} per lifecycle event)`,
    ),
    line(
      'DynamoDB reads: changed items',
      k.monthly.changeRefresh,
      `each task reads each changed item, ${fmt(pm.refreshReadUnitsPerChange, 2)} unit per change (measured; an upper bound: only tasks holding a subscriber read it)`,
    ),
    line(
      'DynamoDB reads: sweep',
      k.monthly.sweep,
      `each task re-reads every ${pa.sweepS} s the items its streams use: SNAPSHOTs of the ${fmt(k.servicesPerTask, 0)} services it holds (of ${fmt(a.envoys / a.envoysPerService, 0)}) and their dependencies\u2019 EDS items, ${fmt(k.sweepItemsPerTask, 0)} items`,
    ),
    line('DynamoDB writes: node status', k.monthly.nodeStatusWrites, 'as REST (an upper bound: a stream reports on pushes only)'),
    line('Lifecycle events', k.monthly.lifecycle, 'the same pipeline as REST'),
    line('SDS over REST', k.monthly.restSds, `2 secrets per Envoy polled every ${pa.sdsRefreshS} s over the IAM-authenticated REST tier (Lambda, DynamoDB, NAT bytes)`),
    line('Data transfer', k.monthly.dataTransfer, `${fmt(k.streamGbPerMonth, 1)} GB of streams (pushes, keepalives, one node per stream start), ${fmt(((pa.zones - 1) / pa.zones) * 100, 0)}% across zones; inside the VPC, no NAT`),
    '',
    `**The change feed** is the push tier\u2019s REST-poll equivalent. Its idle cost is flat: each task reads the change log once per`,
    `${pa.changeCheckS} s tick, ${fmt(secondsPerMonth / pa.changeCheckS, 0)} Queries a month of ${fmt(pm.logReadUnitsPerTick, 1)} read unit, ${usd(perTaskLog)} per task whatever the number of services`,
    `(the change-feed suite measures ${idleLogUnits.map((u) => fmt(u, 2)).join(', ')} unit per tick at ${pm.feedServicesMeasured.map((n) => fmt(n, 0)).join(', ')} services). Changes add per task their`,
    `share of the log and a read of the changed item (${fmt(pm.logReadUnitsPerChange + pm.refreshReadUnitsPerChange, 2)} unit, from the churn rows). The sweep is the one term that`,
    `grows with services: at ${fmt(largest.n, 0)} Envoys each of ${largest.push.tasks} tasks holds ${fmt(largest.push.servicesPerTask, 0)} services and re-reads ${fmt(largest.push.sweepItemsPerTask, 0)} items every ${pa.sweepS} s`,
    `(${fmt(pm.sweepReadUnitsPerItem, 2)} unit each), ${usd(largest.push.monthly.sweep)} a month in all, against change log ${usd(largest.push.monthly.changeLog)} and changed items`,
    `${usd(largest.push.monthly.changeRefresh)}. Reading those items every tick, as servers did before the log, would cost ${usd(polling.monthly.sweep)}. A ${fmt(600 / 60, 0)}-minute`,
    `sweep (CHANGE_SWEEP_MS; it only bounds how long a lost record goes unnoticed) brings ${fmt(largest.n, 0)} Envoys to ${usd(tenMinuteSweep.total)} (${per1000(tenMinuteSweep.total, largest.n)} per 1,000).`,
    '',
    `**Capacity per task.** Measured at ${fmt(pm.streamsMeasured, 0)} streams, clients and table in a child process: ${heap === undefined ? 'heap per stream not measured (run with --expose-gc)' : `${fmt(heap, 1)} KiB of server heap per stream, so ${fmt(pa.streamsPerTask, 0)} streams take about ${fmt((heap * pa.streamsPerTask) / 1024, 0)} MiB of the task\u2019s ${fmt(pa.taskGb * 1024, 0)}`};`,
    `${fmt(pm.cpuUsPerPush, 1)} \u00b5s of server CPU per push (its ACK and node-status writes included), so a change seen by all ${fmt(pa.streamsPerTask, 0)} streams of a task`,
    `costs ${fmt(cpuSecondsPerTaskChange, 2)} s of CPU, ${fmt(cpuSecondsPerTaskChange / pa.taskVcpu, 2)} s of its ${pa.taskVcpu} vCPU. Autoscaling on CPU covers a fleet whose changes reach many streams at once.`,
    '',
    '| push assumption | value |',
    '| --- | --- |',
    `| change log tick · sweep interval | ${pa.changeCheckS} s (CHANGE_CHECK_MS) · ${pa.sweepS} s (CHANGE_SWEEP_MS) |`,
    `| change records per lifecycle event | ${pa.changesPerEvent} (its service\u2019s EDS assignment). The record\u2019s own write (about 100 bytes, one write unit) is priced through the lifecycle suite\u2019s measured writes per event: a run with the change log counts it (rows of ${lifecycleDate.slice(0, 10)}) |`,
    `| SDS refresh over REST | ${pa.sdsRefreshS} s |`,
    `| bytes of one EDS push · of a stream start (node once, full config) | ${fmt(pa.pushBytes, 0)} · ${fmt(pa.streamStartBytes, 0)} (estimates) |`,
    `| stream starts per Envoy per day | ${pa.streamStartsPerEnvoyPerDay} (its replacement, a deploy of the tier) |`,
    `| endpoint changes pushed per replacement of a dependency’s task | ${pa.changesPerReplacement} |`,
    `| keepalive bytes per minute | ${pa.keepaliveBytesPerMinute} (PING and ACK each way every 30 s, TLS framed) |`,
    `| zones | ${pa.zones} (cross-zone NLB: ${fmt(((pa.zones - 1) / pa.zones) * 100, 0)}% of stream bytes cross zones) |`,
    '',
  ];
}
