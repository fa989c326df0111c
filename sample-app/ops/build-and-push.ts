import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, ECSClient } from '@aws-sdk/client-ecs';
import { OperatorError, StackOutputs } from './stack';

export interface BuildPlan {
  readonly registry: string;
  readonly image: string;
  readonly platform: string;
  readonly commands: string[][];
}

/** Docker commands that build the image for the task's CPU architecture and push it, tagged, to the stack's repository. */
export function planBuildAndPush(
  repositoryUri: string,
  cpuArchitecture: string,
  tag: string,
  context: string,
): BuildPlan {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) {
    throw new OperatorError(
      `--tag must be 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-', got "${tag}".`,
    );
  }
  const platform = cpuArchitecture === 'ARM64' ? 'linux/arm64' : 'linux/amd64';
  const image = `${repositoryUri}:${tag}`;
  return {
    registry: repositoryUri.split('/')[0],
    image,
    platform,
    commands: [
      ['docker', 'build', '--platform', platform, '--tag', image, context],
      ['docker', 'push', image],
    ],
  };
}

/** The CPU architecture of the task definition the service runs now (X86_64 when it does not say). */
export async function serviceCpuArchitecture(ecs: ECSClient, outputs: StackOutputs): Promise<string> {
  const services = await ecs.send(
    new DescribeServicesCommand({ cluster: outputs.ClusterName, services: [outputs.ServiceName] }),
  );
  const taskDefinition = services.services?.[0]?.taskDefinition;
  if (!taskDefinition) throw new OperatorError(`Service ${outputs.ServiceName} has no task definition yet.`);
  const described = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition }));
  return described.taskDefinition?.runtimePlatform?.cpuArchitecture ?? 'X86_64';
}

/** User name and password for `docker login` to the registry. */
export async function registryLogin(ecr: ECRClient): Promise<{ username: string; password: string }> {
  const token = await ecr.send(new GetAuthorizationTokenCommand({}));
  const encoded = token.authorizationData?.[0]?.authorizationToken;
  if (!encoded) throw new OperatorError('ECR returned no authorization token.');
  const [username, ...rest] = Buffer.from(encoded, 'base64').toString('utf8').split(':');
  return { username, password: rest.join(':') };
}
