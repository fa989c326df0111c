import { Duration } from 'aws-cdk-lib';

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
