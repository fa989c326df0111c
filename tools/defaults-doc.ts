/**
 * The defaults table (src/defaults.ts) as documentation: what each `@default` in the props must say, and the
 * generated docs/defaults.md. Used by test/defaults.test.ts and scripts/docs.ts.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as ts from 'typescript';
import { ByProfile, DEFAULTS } from '../src/defaults';

const SRC = path.join(__dirname, '..', 'src');

/** A default value as the docs write it: code where it is code (`Duration.days(7)`), a literal otherwise. */
export function describeDefault(value: unknown): string {
  if (value === undefined) return 'none';
  if (typeof value === 'string') {
    if (Object.values(RemovalPolicy).includes(value as RemovalPolicy)) return `RemovalPolicy.${value.toUpperCase()}`;
    if (value === 'dev' || value === 'prod') return `EnvironmentProfile.${value.toUpperCase()}`;
    return value.includes(' ') ? value : `'${value}'`;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(describeDefault).join(', ')}]`;
  if (value instanceof Duration) return value.toString();
  if (value instanceof ec2.InstanceType) return `db.${value}`;
  if (value === ecs.CpuArchitecture.X86_64) return 'CpuArchitecture.X86_64';
  if (value === ecs.CpuArchitecture.ARM64) return 'CpuArchitecture.ARM64';
  if (value instanceof rds.PostgresEngineVersion) return `PostgresEngineVersion.VER_${value.postgresMajorVersion}`;
  if (value instanceof rds.AuroraPostgresEngineVersion) {
    return `AuroraPostgresEngineVersion.VER_${value.auroraPostgresFullVersion.replace('.', '_')}`;
  }
  const own = (value as object).toString();
  if (own !== '[object Object]') return own;
  throw new Error(`no description for the default ${JSON.stringify(value)}`);
}

/** Log retention is a number enum, tag mutability a string enum: describe them by name. */
export function describeEntry(key: string, value: unknown): string {
  if (key === 'LoggingOptions.retention') return `RetentionDays.${logs.RetentionDays[value as number]}`;
  if (key === 'RepositoryOptions.imageTagMutability') return `TagMutability.${value}`;
  return describeDefault(value);
}

/** The phrases a prop's `@default` must contain for the table entry `key`. */
export function expectedPhrases(key: string): string[] {
  const value = (DEFAULTS as Record<string, unknown>)[key];
  if (value instanceof ByProfile) {
    return [`${describeEntry(key, value.dev)} for dev`, `${describeEntry(key, value.prod)} for prod`];
  }
  return [describeEntry(key, value)];
}

/**
 * Whether a `@default` text states `phrase` as a whole: a literal default is the phrase itself (prose may follow a
 * space or a semicolon); in prose (`- ...`) the phrase stands between word boundaries. `3000` does not state `300`,
 * nor `10 for dev` `100 for dev`.
 */
export function statesDefault(text: string | undefined, phrase: string): boolean {
  if (text === undefined) return false;
  if (!text.startsWith('-')) {
    // A literal may name the module it comes from (`ecs.CpuArchitecture.X86_64`).
    const literal = text.replace(/^[a-z][a-z0-9]*\.(?=[A-Z])/, '');
    return literal === phrase || literal.startsWith(`${phrase} `) || literal.startsWith(`${phrase};`);
  }
  const escaped = phrase.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\w.'"])${escaped}($|[^\\w'"])`).test(text);
}

/** `@default` text of every member of every exported interface in src/, by `Interface.member`. */
export function defaultDocs(): Map<string, string | undefined> {
  const docs = new Map<string, string | undefined>();
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.lambda.ts')) files.push(full);
    }
  };
  walk(SRC);
  for (const file of files) {
    const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    source.forEachChild((node) => {
      if (!ts.isInterfaceDeclaration(node)) return;
      const exported = node.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
      if (!exported) return;
      for (const member of node.members) {
        if (!ts.isPropertySignature(member) || !member.questionToken) continue;
        const tag = ts.getJSDocTags(member).find((t) => t.tagName.text === 'default');
        const text = typeof tag?.comment === 'string' ? tag.comment : ts.getTextOfJSDocComment(tag?.comment);
        docs.set(`${node.name.text}.${member.name.getText(source)}`, text?.replace(/\s+/g, ' ').replace(/`/g, ''));
      }
    });
  }
  return docs;
}

/** docs/defaults.md: the table, rendered. */
export function renderDefaultsDoc(): string {
  const lines = [
    '# Defaults',
    '',
    '<!-- Generated from src/defaults.ts by `npx projen docs`; test/defaults.test.ts fails when it is stale. -->',
    '',
    'Every default the construct applies, from the one table in `src/defaults.ts`. A prop you set always wins.',
    'Rows named `Fixed.*` are values the construct uses where no prop exists.',
    '',
    '| setting | dev | prod |',
    '| --- | --- | --- |',
  ];
  for (const [key, value] of Object.entries(DEFAULTS)) {
    const [dev, prod] =
      value instanceof ByProfile
        ? [describeEntry(key, value.dev), describeEntry(key, value.prod)]
        : [describeEntry(key, value), describeEntry(key, value)];
    lines.push(`| \`${key}\` | \`${dev}\` | ${dev === prod ? 'same' : `\`${prod}\``} |`);
  }
  return `${lines.join('\n')}\n`;
}
