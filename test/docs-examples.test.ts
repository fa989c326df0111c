import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

// Every TypeScript block in the README and docs/ must compile as written, strict, against the library (imported by
// its package name, as a user imports it). A broken example fails here, not in a user's editor.
const ROOT = path.join(__dirname, '..');
const OUT = path.join(ROOT, 'test-reports', 'examples');

interface Example {
  readonly source: string;
  readonly line: number;
  readonly code: string;
}

function examplesIn(file: string): Example[] {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const found: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i])) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    found.push({ source: path.relative(ROOT, file), line: i + 2, code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return found;
}

const docs = [
  path.join(ROOT, 'README.md'),
  ...fs
    .readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => path.join(ROOT, 'docs', f)),
];
const examples = docs.flatMap(examplesIn);

describe('documentation examples', () => {
  test('the README and docs hold TypeScript examples', () => {
    expect(examples.map((e) => e.source)).toEqual(
      expect.arrayContaining(['README.md', 'docs/observability.md', 'docs/policy.md']),
    );
  });

  test('every TypeScript example compiles, strict, against the library', () => {
    fs.rmSync(OUT, { recursive: true, force: true });
    fs.mkdirSync(OUT, { recursive: true });
    const files = examples.map((example, i) => {
      const file = path.join(OUT, `example-${i}.ts`);
      // Each example is its own module, as a user's bin/app.ts is.
      fs.writeFileSync(file, `${example.code}\nexport {};\n`);
      return file;
    });
    const program = ts.createProgram(files, {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      esModuleInterop: true,
      skipLibCheck: true,
      types: ['node'],
      baseUrl: ROOT,
      paths: { 'cdk-fargate-web-service-with-database': ['src/index.ts'] },
    });
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file && files.includes(path.resolve(d.file.fileName)))
      .map((d) => {
        const example = examples[files.indexOf(path.resolve(d.file!.fileName))];
        const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
        return `${example.source}:${example.line + line}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
      });
    expect(problems).toEqual([]);
  });
});
