/**
 * A model of how CloudWatch evaluates a metric-math alarm, for the parts of the language the construct's alarms use:
 * numbers, metric and expression ids, + - * /, comparisons, IF(condition, a, b) and FILL(x, value).
 *
 * Documented behaviour relied on (Amazon CloudWatch User Guide):
 * - "Using metric math": arithmetic and comparison operators work point by point on time series; a comparison gives
 *   1 or 0; IF(condition, trueValue, falseValue) chooses point by point; FILL(m, value) replaces missing points with
 *   value. A point missing from an operand (a metric with no datapoint in that period) is missing from the result.
 *   https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
 * - "Evaluating an alarm": an alarm goes to ALARM when `DatapointsToAlarm` of the last `EvaluationPeriods` points
 *   breach; with TreatMissingData notBreaching a missing point counts as not breaching.
 *   https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-evaluation.html
 *
 * The template's own alarm definition (its MetricDataQueries, threshold and operator) is what is evaluated, so a
 * change to the construct's alarm is a change to what this model computes.
 */

/** One value a period; undefined is a missing point. */
export type Series = (number | undefined)[];

type Token = { kind: 'num'; value: number } | { kind: 'id'; value: string } | { kind: 'op'; value: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(>=|<=|==|!=|[-+*/(),<>]))/y;
  let match: RegExpExecArray | null;
  let at = 0;
  while (at < text.length) {
    pattern.lastIndex = at;
    match = pattern.exec(text);
    if (!match || match[0].length === 0) {
      if (/^\s*$/.test(text.slice(at))) break;
      throw new Error(`unsupported metric math at ${at}: ${text.slice(at)}`);
    }
    if (match[1] !== undefined) tokens.push({ kind: 'num', value: Number(match[1]) });
    else if (match[2] !== undefined) tokens.push({ kind: 'id', value: match[2] });
    else tokens.push({ kind: 'op', value: match[3] });
    at = pattern.lastIndex;
  }
  return tokens;
}

type Node =
  | { type: 'num'; value: number }
  | { type: 'ref'; id: string }
  | { type: 'bin'; op: string; left: Node; right: Node }
  | { type: 'neg'; arg: Node }
  | { type: 'call'; name: string; args: Node[] };

function parse(text: string): Node {
  const tokens = tokenize(text);
  let i = 0;
  const peek = () => tokens[i];
  const take = (value?: string) => {
    const t = tokens[i++];
    if (!t || (value !== undefined && t.value !== value)) throw new Error(`expected ${value ?? 'a token'} in ${text}`);
    return t;
  };
  const binary = (next: () => Node, ops: string[]) => (): Node => {
    let left = next();
    while (peek()?.kind === 'op' && ops.includes(peek()!.value as string)) {
      const op = take().value as string;
      left = { type: 'bin', op, left, right: next() };
    }
    return left;
  };
  const primary = (): Node => {
    const t = take();
    if (t.kind === 'num') return { type: 'num', value: t.value };
    if (t.kind === 'op' && t.value === '(') {
      const inner = comparison();
      take(')');
      return inner;
    }
    if (t.kind === 'op' && t.value === '-') return { type: 'neg', arg: primary() };
    if (t.kind === 'id') {
      if (peek()?.value === '(') {
        take('(');
        const args: Node[] = [];
        while (peek()?.value !== ')') {
          args.push(comparison());
          if (peek()?.value === ',') take(',');
        }
        take(')');
        return { type: 'call', name: t.value.toUpperCase(), args };
      }
      return { type: 'ref', id: t.value };
    }
    throw new Error(`unexpected ${t.value} in ${text}`);
  };
  const product = binary(primary, ['*', '/']);
  const sum = binary(product, ['+', '-']);
  const comparison = binary(sum, ['>=', '<=', '>', '<', '==', '!=']);
  const tree = comparison();
  if (i !== tokens.length) throw new Error(`trailing input in ${text}`);
  return tree;
}

const ARITHMETIC: Record<string, (a: number, b: number) => number> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  '>=': (a, b) => Number(a >= b),
  '<=': (a, b) => Number(a <= b),
  '>': (a, b) => Number(a > b),
  '<': (a, b) => Number(a < b),
  '==': (a, b) => Number(a === b),
  '!=': (a, b) => Number(a !== b),
};

/** The alarm's MetricDataQueries as the template holds them. */
export interface MetricDataQuery {
  readonly Id: string;
  readonly Expression?: string;
  readonly ReturnData?: boolean;
  readonly MetricStat?: {
    readonly Metric: { readonly Namespace: string; readonly MetricName: string; readonly Dimensions?: any[] };
  };
}

/** Gives the series of a metric query (its namespace, name and dimensions as the template holds them). */
export type MetricSource = (query: MetricDataQuery) => Series;

/** The series the alarm evaluates: the query with ReturnData true (or the only one). */
export function evaluateQueries(queries: MetricDataQuery[], source: MetricSource, periods: number): Series {
  const byId = new Map(queries.map((q) => [q.Id, q]));
  const cache = new Map<string, Series>();
  const seriesOf = (id: string): Series => {
    const known = cache.get(id);
    if (known) return known;
    const query = byId.get(id);
    if (!query) throw new Error(`the expression refers to an unknown id ${id}`);
    const series = query.Expression ? evaluate(parse(query.Expression)) : source(query);
    if (series.length !== periods) throw new Error(`${id} has ${series.length} points, expected ${periods}`);
    cache.set(id, series);
    return series;
  };
  const evaluate = (node: Node): Series => {
    switch (node.type) {
      case 'num':
        return Array(periods).fill(node.value);
      case 'ref':
        return seriesOf(node.id);
      case 'neg':
        return evaluate(node.arg).map((v) => (v === undefined ? undefined : -v));
      case 'bin': {
        const [l, r] = [evaluate(node.left), evaluate(node.right)];
        return l.map((a, k) => (a === undefined || r[k] === undefined ? undefined : ARITHMETIC[node.op](a, r[k]!)));
      }
      case 'call': {
        const args = node.args.map(evaluate);
        if (node.name === 'FILL') return args[0].map((v, k) => v ?? args[1][k]);
        if (node.name === 'IF') {
          return args[0].map((c, k) => (c === undefined ? undefined : c !== 0 ? args[1][k] : args[2][k]));
        }
        throw new Error(`the model does not know the metric math function ${node.name}`);
      }
    }
  };
  const returned = queries.filter((q) => q.ReturnData !== false);
  if (returned.length !== 1) throw new Error(`an alarm returns one series, got ${returned.length}`);
  return seriesOf(returned[0].Id);
}

export interface AlarmDefinition {
  readonly Metrics: MetricDataQuery[];
  readonly Threshold: number;
  readonly ComparisonOperator: string;
  readonly EvaluationPeriods: number;
  readonly DatapointsToAlarm?: number;
  readonly TreatMissingData?: string;
}

const BREACHES: Record<string, (v: number, t: number) => boolean> = {
  GreaterThanThreshold: (v, t) => v > t,
  GreaterThanOrEqualToThreshold: (v, t) => v >= t,
  LessThanThreshold: (v, t) => v < t,
  LessThanOrEqualToThreshold: (v, t) => v <= t,
};

/**
 * The first period (1-based) at whose end the alarm is in ALARM, or undefined when it never is. Only
 * TreatMissingData notBreaching is modelled (what the construct sets).
 */
export function firstAlarmPeriod(alarm: AlarmDefinition, source: MetricSource, periods: number): number | undefined {
  if (alarm.TreatMissingData !== 'notBreaching') throw new Error('the model covers TreatMissingData notBreaching only');
  const breaches = BREACHES[alarm.ComparisonOperator];
  const series = evaluateQueries(alarm.Metrics, source, periods);
  const needed = alarm.DatapointsToAlarm ?? alarm.EvaluationPeriods;
  for (let end = 1; end <= periods; end++) {
    const window = series.slice(Math.max(0, end - alarm.EvaluationPeriods), end);
    if (window.filter((v) => v !== undefined && breaches(v, alarm.Threshold)).length >= needed) return end;
  }
  return undefined;
}
