import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { ServiceImage } from '../src';
import { FIXTURE_APP, onlyResource, synth } from './helpers';

/** Platforms of the Docker image assets in the stack's asset manifest. */
function assetPlatforms(stack: Stack): string[] {
  const assembly = (stack.node.root as App).synth();
  const manifestFile = assembly.getStackByName(stack.stackName).dependencies.find((a) => a.id.endsWith('.assets'));
  const manifest = JSON.parse(fs.readFileSync(path.resolve(assembly.directory, (manifestFile as any).file), 'utf8'));
  return Object.values<any>(manifest.dockerImages).map((image) => image.source.platform);
}

describe('ServiceImage', () => {
  test.each([
    [ecs.CpuArchitecture.X86_64, 'X86_64', 'linux/amd64'],
    [ecs.CpuArchitecture.ARM64, 'ARM64', 'linux/arm64'],
  ])('fromDirectory builds for the task architecture %s', (cpuArchitecture, taskArch, platform) => {
    const { stack, template } = synth({ image: ServiceImage.fromDirectory(FIXTURE_APP), service: { cpuArchitecture } });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', { RuntimePlatform: { CpuArchitecture: taskArch } });
    expect(assetPlatforms(stack)).toEqual([platform]);
  });

  test('fromRepositoryTag runs the tag from the construct repository', () => {
    const { template, construct, stack } = synth({ image: ServiceImage.fromRepositoryTag('git-3f2a9c1') });
    const image = onlyResource(template, 'AWS::ECS::TaskDefinition').props.ContainerDefinitions[0].Image;
    const repoId = stack.getLogicalId(construct.repository.node.defaultChild as any);
    expect(JSON.stringify(image)).toContain(repoId);
    expect(JSON.stringify(image)).toContain(':git-3f2a9c1');
  });

  test('fromContainerImage runs any image', () => {
    const { template } = synth({
      image: ServiceImage.fromContainerImage(ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:1.27')),
    });
    const image = onlyResource(template, 'AWS::ECS::TaskDefinition').props.ContainerDefinitions[0].Image;
    expect(image).toBe('public.ecr.aws/nginx/nginx:1.27');
  });
});
