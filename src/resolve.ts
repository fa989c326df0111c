import { Construct } from 'constructs';
import { ACU_MEMORY_BYTES } from './database/aurora';
import { checkConnectionBudget, instanceMemoryBytes } from './database/capacity';
import { checkRotationOutlastsRollout } from './database/credential-rotation';
import { ResolvedDatabase, resolveDatabase } from './database/database';
import { defaultsFor, DEFAULTS } from './defaults';
import { isKnown, PropChecker } from './internal/validation';
import { ResolvedLoadBalancer, resolveLoadBalancer } from './load-balancer/load-balancer';
import { ResolvedLogging, resolveLogging } from './logging';
import { ResolvedMigrations, resolveMigrations } from './migration-gate/migration-gate';
import { ResolvedMonitoring, resolveMonitoring } from './monitoring/monitoring';
import { ResolvedNetwork, resolveNetwork } from './network';
import { EnvironmentProfile } from './profile';
import { FargateWebServiceWithDatabaseProps } from './props';
import { ResolvedRepository, resolveRepository } from './repository';
import { ResolvedScaling, resolveScaling } from './scaling';
import { ResolvedContainer, resolveContainer } from './service/container';
import { ResolvedRollout, resolveRollout } from './service/rollout';
import { ResolvedService, resolveService } from './service/service';
import { ServiceImage } from './service-image';

/** Every part's slice of the props, resolved and checked. */
export interface ResolvedParts {
  readonly profile: EnvironmentProfile;
  readonly image: ServiceImage;
  readonly logging: ResolvedLogging;
  readonly network: ResolvedNetwork;
  readonly repository: ResolvedRepository;
  readonly database: ResolvedDatabase;
  readonly loadBalancer: ResolvedLoadBalancer;
  readonly container: ResolvedContainer;
  readonly service: ResolvedService;
  readonly rollout: ResolvedRollout;
  readonly scaling: ResolvedScaling;
  readonly migrations?: ResolvedMigrations;
  readonly monitoring: ResolvedMonitoring;
  readonly outputs: boolean;
}

/**
 * Resolves every part before anything is built, so a failed check leaves nothing half-built. Each part resolves its
 * own slice; what one part needs of another is passed explicitly.
 */
export function resolveParts(scope: Construct, props: FargateWebServiceWithDatabaseProps): ResolvedParts {
  const check = new PropChecker(scope);
  check.refuse(
    !props.image,
    '`image` is required: use ServiceImage.fromDirectory(), ServiceImage.fromRepositoryTag() or ServiceImage.fromContainerImage().',
  );
  const profile = props.profile ?? DEFAULTS['FargateWebServiceWithDatabaseProps.profile'];
  check.refuse(
    !Object.values(EnvironmentProfile).includes(profile),
    `\`profile\` must be one of ${Object.values(EnvironmentProfile).join(', ')}, got "${profile}".`,
  );
  props.image._validate(check, profile);
  const defaults = defaultsFor(profile);

  const rollout = resolveRollout(
    check,
    scope,
    props.service?.deploymentAlarms,
    props.service?.rolloutStrategy,
    defaults,
  );
  const scaling = resolveScaling(check, props.scaling, defaults, {
    trafficShiftingStrategy: rollout.strategy.shiftsTraffic ? String(props.service?.rolloutStrategy) : undefined,
  });
  const loadBalancer = resolveLoadBalancer(check, scope, props.loadBalancer, defaults, profile);
  const container = resolveContainer(check, scope, props.container, defaults, {
    healthCheckPath: loadBalancer.healthCheck.path,
  });
  const service = resolveService(check, props.service, defaults, { profile, healthCheck: loadBalancer.healthCheck });
  const database = resolveDatabase(check, props.database, defaults, profile);
  const network = resolveNetwork(check, scope, props.network, defaults, {
    multiAzDatabase: database.multiAz,
    internetFacingLoadBalancer: loadBalancer.internetFacing,
  });
  const migrations = resolveMigrations(check, props.migrations, defaults, {
    containerEnvironment: container.environment,
  });
  // Behind a proxy the app has no password: nothing is redeployed after a rotation.
  if (!database.proxy) {
    checkRotationOutlastsRollout(check, {
      rotation: database.rotation,
      strategy: String(props.service?.rolloutStrategy ?? defaults['ServiceOptions.rolloutStrategy']),
      bakeMinutes: rollout.strategy.bakeMinutes,
      migrationMinutes: migrations && !migrations.timeout.isUnresolved() ? migrations.timeout.toMinutes() : undefined,
    });
  }
  const capacity = databaseCapacity(database);
  checkConnectionBudget(check, {
    maxCapacity: scaling.maxCapacity,
    poolSize: container.databasePoolSize,
    migrationTask: migrations !== undefined,
    rotation: database.rotation._schedule !== undefined,
    reserve: defaults['Fixed.databaseConnectionReserve'],
    ...capacity,
    proxyMaxConnectionsPercent: database.proxy?.maxConnectionsPercent,
  });
  return {
    profile,
    image: props.image,
    logging: resolveLogging(props.logs, defaults, profile),
    network,
    repository: resolveRepository(check, props.repository, defaults, profile),
    database,
    loadBalancer,
    container,
    service,
    rollout,
    scaling,
    migrations,
    monitoring: resolveMonitoring(check, props.monitoring, defaults, {
      databaseMemoryBytes: capacity.memoryBytes,
      // Aurora storage grows by itself: no free-storage alarm.
      databaseStorageGiB: database.engine.kind === 'instance' ? database.allocatedStorage : undefined,
      capacity: scaling,
    }),
    outputs: props.outputs ?? defaults['FargateWebServiceWithDatabaseProps.outputs'],
  };
}

/** The memory that sets the database's `max_connections`, and how the messages name it. */
function databaseCapacity(database: ResolvedDatabase): {
  memoryBytes?: number;
  capacitySource: string;
  moreCapacity: string;
} {
  const engine = database.engine;
  if (engine.kind === 'serverless') {
    return {
      memoryBytes: isKnown(engine.maxCapacity) ? engine.maxCapacity * ACU_MEMORY_BYTES : undefined,
      capacitySource: `\`database.engine\` maxCapacity ${engine.maxCapacity} ACUs`,
      moreCapacity: "raise the engine's maxCapacity",
    };
  }
  return {
    memoryBytes: instanceMemoryBytes(database.instanceType),
    capacitySource: `\`database.instanceType\` ${database.instanceType}`,
    moreCapacity: 'choose a larger `database.instanceType`',
  };
}
