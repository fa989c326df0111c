import { Token } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import { DEFAULTS } from './defaults';
import { PropChecker } from './internal/validation';
import { EnvironmentProfile } from './profile';

/** Options for building the service's image from a local directory. */
export interface DirectoryImageOptions {
  /**
   * Path to the Dockerfile, relative to the directory.
   *
   * @default 'Dockerfile'
   */
  readonly file?: string;

  /**
   * Build arguments.
   *
   * @default - none
   */
  readonly buildArgs?: { [name: string]: string };

  /**
   * Target stage of a multi-stage Dockerfile.
   *
   * @default - the last stage
   */
  readonly target?: string;

  /**
   * Glob patterns of files left out of the build context, in addition to `.dockerignore`.
   *
   * @default - none
   */
  readonly exclude?: string[];
}

/** What the construct gives an image when it binds it. */
export interface ServiceImageBindOptions {
  /** The construct's dedicated ECR repository. */
  readonly repository: ecr.IRepository;

  /** The CPU architecture of the task definition that runs the image. */
  readonly cpuArchitecture: ecs.CpuArchitecture;
}

/** The result of binding a `ServiceImage`. */
export interface ServiceImageConfig {
  /** The image for the container definition. */
  readonly containerImage: ecs.ContainerImage;
}

const IMAGE_TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * The container image the service runs.
 */
export abstract class ServiceImage {
  /**
   * Build the image from a local directory with a Dockerfile, for the task's CPU architecture.
   *
   * The image is built and published by the CDK CLI at deploy time (no Docker engine is needed to synthesize) to the
   * CDK bootstrap repository. Its platform always matches `service.cpuArchitecture`, so an ARM64 image can never land
   * on an X86_64 task. Refused in prod, where what runs must be what the construct's repository scanned: push from
   * CI and use `fromRepositoryTag`.
   */
  public static fromDirectory(directory: string, options: DirectoryImageOptions = {}): ServiceImage {
    return new DirectoryImage(directory, options);
  }

  /**
   * Run an image that CI pushed to the construct's own ECR repository under `tag` (scanned on push, kept by the
   * lifecycle rules, tags immutable in prod). `latest` is refused in prod.
   *
   * @param tag 1 to 128 characters: letters, digits, `_`, `.` and `-`, not starting with `.` or `-`
   */
  public static fromRepositoryTag(tag: string): ServiceImage {
    return new RepositoryTagImage(tag);
  }

  /**
   * Run any ECS container image, from wherever it lives (the construct's repository scans only what is pushed to it).
   * Its architecture must match `service.cpuArchitecture`; the construct cannot check it.
   */
  public static fromContainerImage(image: ecs.ContainerImage): ServiceImage {
    return new ContainerImageWrapper(image);
  }

  /**
   * Produce the container image for the task definition.
   */
  public abstract bind(scope: Construct, options: ServiceImageBindOptions): ServiceImageConfig;

  /**
   * Checks the image's arguments on behalf of the construct, before anything is built.
   *
   * @internal
   */
  public _validate(_check: PropChecker, _profile: EnvironmentProfile): void {}
}

class DirectoryImage extends ServiceImage {
  constructor(
    private readonly directory: string,
    private readonly options: DirectoryImageOptions,
  ) {
    super();
  }

  public _validate(check: PropChecker, profile: EnvironmentProfile): void {
    check.refuse(
      profile === EnvironmentProfile.PROD,
      "`image`: ServiceImage.fromDirectory() is refused in prod: the CDK CLI would push the image to the CDK bootstrap repository, which neither scans it nor keeps its tags immutable. Build and push it to the construct's repository in CI and use ServiceImage.fromRepositoryTag(tag); to run a locally built image anyway, say so with ServiceImage.fromContainerImage(ecs.ContainerImage.fromAsset(directory)).",
    );
    check.refuse(
      typeof this.directory !== 'string' || (!Token.isUnresolved(this.directory) && this.directory.trim() === ''),
      `\`image\`: ServiceImage.fromDirectory(directory) needs a directory that holds a Dockerfile, got ${JSON.stringify(this.directory)}.`,
    );
  }

  public bind(scope: Construct, options: ServiceImageBindOptions): ServiceImageConfig {
    const platform =
      options.cpuArchitecture === ecs.CpuArchitecture.ARM64
        ? ecrAssets.Platform.LINUX_ARM64
        : ecrAssets.Platform.LINUX_AMD64;
    const asset = new ecrAssets.DockerImageAsset(scope, 'ImageAsset', {
      directory: this.directory,
      file: this.options.file ?? DEFAULTS['DirectoryImageOptions.file'],
      buildArgs: this.options.buildArgs,
      target: this.options.target,
      exclude: this.options.exclude,
      platform,
    });
    return { containerImage: ecs.ContainerImage.fromDockerImageAsset(asset) };
  }
}

class RepositoryTagImage extends ServiceImage {
  constructor(private readonly tag: string) {
    super();
  }

  public _validate(check: PropChecker, profile: EnvironmentProfile): void {
    check.refuse(
      typeof this.tag !== 'string' || (!Token.isUnresolved(this.tag) && !IMAGE_TAG_PATTERN.test(this.tag)),
      `\`image\`: ServiceImage.fromRepositoryTag(tag) needs 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-', got ${JSON.stringify(this.tag)}.`,
    );
    check.refuse(
      profile === EnvironmentProfile.PROD && this.tag === 'latest',
      '`image`: ServiceImage.fromRepositoryTag("latest") is refused in prod: a moving tag names no build, cannot be rolled back to, and the prod repository\'s tags are immutable. Use a tag that names one build, such as the git commit.',
    );
  }

  public bind(_scope: Construct, options: ServiceImageBindOptions): ServiceImageConfig {
    return { containerImage: ecs.ContainerImage.fromEcrRepository(options.repository, this.tag) };
  }
}

class ContainerImageWrapper extends ServiceImage {
  constructor(private readonly image: ecs.ContainerImage) {
    super();
  }

  public bind(): ServiceImageConfig {
    return { containerImage: this.image };
  }
}
