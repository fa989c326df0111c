import { Annotations, CfnResource, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct, IConstruct } from 'constructs';
import { ProfileDefaults } from './defaults';
import { Acknowledgements, inCompliancePacks, providerFunctionOf } from './internal/acknowledge';
import { acknowledgeInlinePolicies } from './internal/functions';
import { isKnown, PropChecker, Resolved } from './internal/validation';
import { LogGroupFactory } from './logging';
import { NetworkOptions } from './props';

export type ResolvedNetwork = Resolved<
  Omit<NetworkOptions, 'vpc' | 'taskSubnets' | 'databaseSubnets' | 'taskEgressOutsideApp'>
> & {
  readonly vpc?: ec2.IVpc;
  readonly taskSubnets: ec2.SubnetSelection;
  readonly databaseSubnets: ec2.SubnetSelection;
  /** Tasks in public subnets need a public IP to reach ECR, CloudWatch Logs and Secrets Manager. */
  readonly assignPublicIp: boolean;
  /** For a given VPC: what the egress check needs, run once the app is complete. */
  readonly taskEgress?: TaskEgressCheck;
};

/** The service endpoints tasks in subnets without a default route need. */
const REQUIRED_ENDPOINTS = ['ecr.api', 'ecr.dkr', 'logs', 'secretsmanager', 's3'];

/**
 * A new VPC per the profile, or the given one checked for what the construct can know at synth time: the task
 * subnets have egress (a default route, or the endpoints tasks need) and the database subnets span 2 AZs.
 */
export function resolveNetwork(
  check: PropChecker,
  scope: Construct,
  props: NetworkOptions | undefined,
  defaults: ProfileDefaults,
  inputs: { readonly multiAzDatabase: boolean; readonly internetFacingLoadBalancer: boolean },
): ResolvedNetwork {
  const n = props ?? {};
  if (n.vpc) {
    for (const name of ['maxAzs', 'natGateways', 'flowLogs'] as const) {
      check.refuse(
        n[name] !== undefined,
        `\`network.${name}\` applies only to a VPC the construct creates; it cannot be combined with \`network.vpc\`. Configure the given VPC instead.`,
      );
    }
    const egressOutsideApp = n.taskEgressOutsideApp ?? defaults['NetworkOptions.taskEgressOutsideApp'];
    return resolveGivenVpc(check, scope, n.vpc, n.taskSubnets, n.databaseSubnets, { ...inputs, egressOutsideApp });
  }
  check.refuse(
    n.taskSubnets !== undefined || n.databaseSubnets !== undefined || n.taskEgressOutsideApp !== undefined,
    '`network.taskSubnets`, `network.databaseSubnets` and `network.taskEgressOutsideApp` describe a given `network.vpc`; the VPC the construct creates places its subnets and routes itself.',
  );
  check.integer('network.maxAzs', n.maxAzs, 2, 6);
  const maxAzs = n.maxAzs ?? defaults['NetworkOptions.maxAzs'];
  const natDefault = defaults['NetworkOptions.natGateways'];
  const natGateways = n.natGateways ?? (natDefault === 'one per AZ' ? maxAzs : natDefault);
  check.integer('network.natGateways', natGateways, 0, isKnown(maxAzs) ? maxAzs : 6);
  return {
    maxAzs,
    natGateways,
    flowLogs: n.flowLogs ?? defaults['NetworkOptions.flowLogs'],
    taskSubnets: { subnetType: natGateways > 0 ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PUBLIC },
    assignPublicIp: natGateways === 0,
    databaseSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
  };
}

function resolveGivenVpc(
  check: PropChecker,
  scope: Construct,
  vpc: ec2.IVpc,
  taskSelection: ec2.SubnetSelection | undefined,
  databaseSelection: ec2.SubnetSelection | undefined,
  inputs: {
    readonly multiAzDatabase: boolean;
    readonly internetFacingLoadBalancer: boolean;
    readonly egressOutsideApp: boolean;
  },
): ResolvedNetwork {
  check.refuse(
    inputs.internetFacingLoadBalancer && vpc.publicSubnets.length === 0,
    '`loadBalancer.internetFacing` needs public subnets, and `network.vpc` has none; add public subnets or set `loadBalancer.internetFacing: false`.',
  );
  const taskSubnets: ec2.SubnetSelection =
    taskSelection ??
    (vpc.privateSubnets.length > 0
      ? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }
      : vpc.publicSubnets.length > 0
        ? { subnetType: ec2.SubnetType.PUBLIC }
        : { subnetType: ec2.SubnetType.PRIVATE_ISOLATED });
  const selectedTaskSubnets = selectOrExplain(check, vpc, taskSubnets, 'network.taskSubnets');
  const publicIds = new Set(vpc.publicSubnets.map((s) => s.subnetId));
  const isolatedIds = new Set(vpc.isolatedSubnets.map((s) => s.subnetId));
  const inPublic = selectedTaskSubnets.filter((s) => publicIds.has(s.subnetId));
  check.refuse(
    inPublic.length > 0 && inPublic.length !== selectedTaskSubnets.length,
    '`network.taskSubnets` must be all public or all private subnets, got a mix.',
  );
  // Whether the task subnets have egress is judged on the finished app (node.addValidation): endpoints and routes
  // added after the construct count too.
  const taskEgress = {
    subnets: selectedTaskSubnets,
    publicIds,
    isolatedIds,
    egressOutsideApp: inputs.egressOutsideApp,
  };

  const dbSelection =
    databaseSelection ??
    (vpc.isolatedSubnets.length > 0
      ? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }
      : { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
  if (!databaseSelection && vpc.isolatedSubnets.length === 0) {
    Annotations.of(scope).addWarningV2(
      'cdk-fargate-web-service-with-database:databaseNotIsolated',
      'The given VPC has no isolated subnets, so the database is placed in its private subnets. Isolated subnets (no route to the internet) are safer; select them with `network.databaseSubnets`.',
    );
  }
  const dbSubnets = selectOrExplain(check, vpc, dbSelection, 'network.databaseSubnets');
  const azs = new Set(dbSubnets.map((s) => s.availabilityZone));
  check.refuse(
    azs.size < 2,
    `\`network.databaseSubnets\` must span at least 2 Availability Zones${inputs.multiAzDatabase ? ' for a Multi-AZ database (`database.multiAz`)' : ' (an RDS subnet group needs two)'}, got ${azs.size}.`,
  );
  return {
    vpc,
    maxAzs: vpc.availabilityZones.length,
    natGateways: 0,
    flowLogs: false,
    taskSubnets,
    assignPublicIp: inPublic.length > 0,
    databaseSubnets: dbSelection,
    taskEgress,
  };
}

/** What the egress check of a given VPC needs. */
interface TaskEgressCheck {
  readonly subnets: ec2.ISubnet[];
  readonly publicIds: Set<string>;
  readonly isolatedIds: Set<string>;
  readonly egressOutsideApp: boolean;
}

/**
 * The task subnets of a given VPC have egress: a default route, or the endpoints tasks need. Run as a validation of
 * the finished app, once; returns the errors (a warning when the construct cannot see the routes, or is told they
 * are outside the app).
 */
function validateTaskEgress(scope: Construct, vpc: ec2.IVpc, egress: TaskEgressCheck): string[] {
  const constructs = Stack.of(scope).node.root.node.findAll();
  const routed = routeTablesWithDefaultRoute(constructs);
  // Subnets made in this app show their route tables; imported ones (fromLookup, fromVpcAttributes) do not.
  const visible = (s: ec2.ISubnet): s is ec2.Subnet => s instanceof ec2.Subnet;
  const withoutRoute = egress.subnets.filter(
    (s) =>
      (egress.isolatedIds.has(s.subnetId) || (visible(s) && !egress.publicIds.has(s.subnetId))) &&
      !(visible(s) && routed.has(s.routeTable.routeTableId)),
  );
  const missing = withoutRoute.length > 0 ? missingEndpoints(scope, constructs, vpc) : [];
  if (missing.length === 0) return [];
  const problem =
    '`network.taskSubnets` select subnets without egress (no NAT or internet gateway route): tasks could not pull their image, write logs or read their secrets';
  if (egress.egressOutsideApp || !withoutRoute.every(visible)) {
    const why = egress.egressOutsideApp
      ? '`network.taskEgressOutsideApp` says they do'
      : "the construct cannot see an imported VPC's route tables";
    Annotations.of(scope).addWarningV2(
      'cdk-fargate-web-service-with-database:taskEgressNotSeen',
      `${problem}, unless they reach ${missing.join(', ')} through routes or endpoints outside this app (${why}).`,
    );
    return [];
  }
  return [
    `${problem}. Use subnets with a NAT route, add VPC endpoints for ${missing.join(', ')}, or set \`network.taskEgressOutsideApp: true\` if they reach them in a way this app cannot see.`,
  ];
}

function selectOrExplain(check: PropChecker, vpc: ec2.IVpc, selection: ec2.SubnetSelection, prop: string) {
  let subnets: ec2.ISubnet[] = [];
  try {
    subnets = vpc.selectSubnets(selection).subnets;
  } catch (e) {
    check.fail(`\`${prop}\` selects no subnets of \`network.vpc\`: ${(e as Error).message}`);
  }
  check.refuse(subnets.length === 0, `\`${prop}\` selects no subnets of \`network.vpc\`.`);
  return subnets;
}

/** Route tables (in this app) with a default route: through a NAT or internet gateway, or anything else. */
function routeTablesWithDefaultRoute(constructs: IConstruct[]): Set<string> {
  return new Set(
    constructs
      .filter(
        (c): c is ec2.CfnRoute =>
          c instanceof ec2.CfnRoute &&
          (c.destinationCidrBlock === '0.0.0.0/0' || c.destinationIpv6CidrBlock === '::/0'),
      )
      .map((c) => c.routeTableId),
  );
}

function missingEndpoints(scope: Construct, constructs: IConstruct[], vpc: ec2.IVpc): string[] {
  const stack = Stack.of(scope);
  const serviceNames = constructs
    .filter((c): c is ec2.CfnVPCEndpoint => c instanceof ec2.CfnVPCEndpoint && c.vpcId === vpc.vpcId)
    .map((c) => JSON.stringify(stack.resolve(c.serviceName)));
  return REQUIRED_ENDPOINTS.filter((suffix) => !serviceNames.some((name) => name.includes(`.${suffix}"`)));
}

/**
 * Creates the VPC, or returns the given one.
 *
 * A new VPC has public subnets (load balancer, NAT gateways), private-with-egress subnets when there are NAT
 * gateways (tasks) and isolated subnets (database). Without NAT gateways the tasks run in the public subnets.
 */
export function createNetwork(
  scope: Construct,
  network: ResolvedNetwork,
  inputs: { readonly logGroups: LogGroupFactory; readonly acks: Acknowledgements },
): { readonly vpc: ec2.IVpc; readonly flowLog?: ec2.FlowLog } {
  if (network.vpc) {
    const { vpc, taskEgress } = network;
    if (taskEgress) scope.node.addValidation({ validate: () => validateTaskEgress(scope, vpc, taskEgress) });
    return { vpc };
  }

  const subnetConfiguration: ec2.SubnetConfiguration[] = [
    // Nothing launched here gets a public IP unless it asks for one (the dev profile's tasks do).
    { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
    { name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
  ];
  if (network.natGateways > 0) {
    subnetConfiguration.splice(1, 0, { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 });
  }
  const vpc = new ec2.Vpc(scope, 'Vpc', {
    maxAzs: network.maxAzs,
    natGateways: network.natGateways,
    subnetConfiguration,
    restrictDefaultSecurityGroup: true,
  });
  const { acks } = inputs;
  for (const subnet of vpc.publicSubnets) {
    for (const route of subnet.node.findAll().filter((c) => c instanceof ec2.CfnRoute)) {
      acks.acknowledge(route, {
        rules: inCompliancePacks('VPCNoUnrestrictedRouteToIGW'),
        reason:
          'Public subnets route to the internet gateway by definition: they hold the internet-facing load balancer and the NAT gateways, nothing else in prod.',
      });
    }
  }
  const restrictDefaultSg = vpc.node
    .findAll()
    .find((c): c is CfnResource => c instanceof CfnResource && c.cfnResourceType === 'Custom::VpcRestrictDefaultSG');
  if (restrictDefaultSg) {
    acks.acknowledge(providerFunctionOf(restrictDefaultSg), {
      rules: ['lambda_inside_vpc_check'],
      reason:
        'A CDK-owned provider function that only calls the EC2 API to remove the default security group rules; it needs no VPC access.',
    });
  }
  let flowLog: ec2.FlowLog | undefined;
  if (network.flowLogs) {
    const logGroup = inputs.logGroups.createLogGroup(scope, 'FlowLogs');
    flowLog = vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(logGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
    acknowledgeInlinePolicies(acks, flowLog);
  }
  return { vpc, flowLog };
}
