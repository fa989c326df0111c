import { Duration } from 'aws-cdk-lib';
import { PropChecker } from '../internal/validation';

/** Automatic rotation of the database credentials by Secrets Manager. */
export class CredentialRotation {
  /**
   * Rotate every `schedule`, 1 to 1000 days.
   */
  public static every(schedule: Duration): CredentialRotation {
    return new CredentialRotation(`CredentialRotation.every(${schedule})`, schedule);
  }

  /** No automatic rotation. */
  public static disabled(): CredentialRotation {
    return new CredentialRotation('CredentialRotation.disabled()');
  }

  private constructor(
    private readonly description: string,
    /** @internal */
    public readonly _schedule?: Duration,
  ) {}

  /** How this choice was made, as code. */
  public toString(): string {
    return this.description;
  }
}

/**
 * After a rotation, the redeploy must be able to finish before the next rotation changes the previous login: a
 * schedule that is not longer than the longest rollout the strategy allows (bake times and migrations) is refused.
 */
export function checkRotationOutlastsRollout(
  check: PropChecker,
  inputs: {
    readonly rotation: CredentialRotation;
    readonly strategy: string;
    readonly bakeMinutes: number;
    readonly migrationMinutes?: number;
  },
): void {
  const schedule = inputs.rotation._schedule;
  if (!schedule || schedule.isUnresolved()) return;
  const scheduleMinutes = schedule.toMinutes();
  const rolloutMinutes = inputs.bakeMinutes + (inputs.migrationMinutes ?? 0);
  check.refuse(
    rolloutMinutes > 0 && scheduleMinutes <= rolloutMinutes,
    `\`database.rotation\` ${inputs.rotation} is shorter than the longest rollout \`service.rolloutStrategy\` ${inputs.strategy} allows (${inputs.bakeMinutes} minutes of bake time${inputs.migrationMinutes ? ` and ${inputs.migrationMinutes} minutes of migrations` : ''}, more than ${scheduleMinutes}): the redeploy after one rotation could still run at the next. Rotate less often, or shorten the bake times.`,
  );
}
