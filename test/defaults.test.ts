import * as fs from 'fs';
import * as path from 'path';
import { DEFAULTS } from '../src/defaults';
import { defaultDocs, expectedPhrases, renderDefaultsDoc, statesDefault } from '../tools/defaults-doc';

// The defaults live in one table (src/defaults.ts). The props' @default docs and docs/defaults.md are checked
// against it here, so a changed default cannot leave its documentation behind.
describe('defaults table', () => {
  const docs = defaultDocs();
  const propKeys = Object.keys(DEFAULTS).filter((key) => !key.startsWith('Fixed.'));

  test.each(propKeys)('%s names a documented optional prop', (key) => {
    expect(docs.has(key)).toBe(true);
    expect(docs.get(key)).toBeDefined();
  });

  test.each(propKeys)('the @default of %s states the table value per profile', (key) => {
    for (const phrase of expectedPhrases(key)) {
      expect([docs.get(key), statesDefault(docs.get(key), phrase)]).toEqual([docs.get(key), true]);
    }
  });

  test('every prop with a literal @default (not "- prose") has its value in the table', () => {
    const literal = [...docs.entries()].filter(([, text]) => text !== undefined && !text.startsWith('-'));
    // A member of a value type (not a prop) documents its own default where it is resolved.
    const valueTypes = ['DatabaseVariableNames.', 'LibpqVariablesOptions.'];
    const missing = literal
      .map(([key]) => key)
      .filter((key) => !(key in DEFAULTS) && !valueTypes.some((prefix) => key.startsWith(prefix)));
    expect(missing).toEqual([]);
  });

  test.each([
    ['3000', '300', false],
    ['30000', '3000', false],
    ['- 100 for dev, 200 for prod', '10 for dev', false],
    ["- '/tmp2' for dev", "'/tmp' for dev", false],
    ['3000', '3000', true],
    ['ecs.CpuArchitecture.X86_64', 'CpuArchitecture.X86_64', true],
    ['ecs.CpuArchitecture.X86_64', 'CpuArchitecture.X86', false],
    ["'1000' (the node user); never root", "'1000'", true],
    ['- 10 for dev, 100 for prod', '10 for dev', true],
  ])('a @default of "%s" states "%s": %s (whole values, never substrings)', (text, phrase, expected) => {
    expect(statesDefault(text, phrase)).toBe(expected);
  });

  test('docs/defaults.md is generated from the table and up to date', () => {
    const committed = fs.readFileSync(path.join(__dirname, '..', 'docs', 'defaults.md'), 'utf8');
    expect(committed).toEqual(renderDefaultsDoc());
  });
});
