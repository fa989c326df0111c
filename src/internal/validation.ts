import { Duration, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Checks props on behalf of one construct: every error it throws starts with the construct's path and names the
 * prop, so a user with two services in one stack knows which one failed. Values that are tokens are skipped: they
 * are known only at deploy time.
 */
export class PropChecker {
  constructor(private readonly scope: IConstruct) {}

  /** Fails with `<construct path>: <message>`. */
  public fail(message: string): never {
    throw new Error(`${this.scope.node.path}: ${message}`);
  }

  /** Fails when `condition` holds. */
  public refuse(condition: boolean, message: string): void {
    if (condition) this.fail(message);
  }

  public integer(prop: string, value: number | undefined, min: number, max: number): void {
    if (!isKnown(value)) return;
    if (!Number.isInteger(value) || value! < min || value! > max) {
      this.fail(`\`${prop}\` must be an integer from ${min} to ${max}, got ${value}.`);
    }
  }

  public duration(prop: string, value: Duration | undefined, minSeconds: number, maxSeconds: number): void {
    if (value === undefined || value.isUnresolved()) return;
    const seconds = value.toSeconds({ integral: false });
    if (seconds < minSeconds || seconds > maxSeconds) {
      this.fail(
        `\`${prop}\` must be from ${describeSeconds(minSeconds)} to ${describeSeconds(maxSeconds)}, got ${value.toHumanString()}.`,
      );
    }
  }

  public wholeDays(prop: string, value: Duration | undefined, minDays: number, maxDays: number, why = ''): void {
    if (value === undefined || value.isUnresolved()) return;
    const days = value.toDays({ integral: false });
    if (!Number.isInteger(days) || days < minDays || days > maxDays) {
      const range = maxDays === Infinity ? `, at least ${minDays}` : ` from ${minDays} to ${maxDays}`;
      this.fail(`\`${prop}\` must be a whole number of days${range}${why}, got ${value.toHumanString()}.`);
    }
  }

  /** A string prop that must match `pattern` when it is known; `rule` completes "`prop` must ...". */
  public matches(prop: string, value: string | undefined, pattern: RegExp, rule: string): void {
    if (isKnown(value) && !pattern.test(value!)) {
      this.fail(`\`${prop}\` must ${rule}, got "${value}".`);
    }
  }
}

/** A value given and known at synth time (not a token). */
export function isKnown(value: unknown): boolean {
  return value !== undefined && !Token.isUnresolved(value);
}

function describeSeconds(seconds: number): string {
  if (seconds >= 86400 && seconds % 86400 === 0) return `${seconds / 86400} day${seconds === 86400 ? '' : 's'}`;
  return `${seconds} second${seconds === 1 ? '' : 's'}`;
}

/**
 * A part's props with its defaults applied: every member is required except `Optional`, the ones without a default.
 * Derived from the props interface so a new prop cannot be forgotten in the resolved shape.
 */
export type Resolved<T, Optional extends keyof T = never> = {
  readonly [K in Exclude<keyof T, Optional>]-?: NonNullable<T[K]>;
} & { readonly [K in Optional]?: T[K] };
