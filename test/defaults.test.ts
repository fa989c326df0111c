import * as fs from 'fs';
import * as path from 'path';
import { DEFAULTS } from '../src/defaults';
import { defaultDocs, expectedPhrases, renderDefaultsDoc } from '../tools/defaults-doc';

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
    for (const phrase of expectedPhrases(key)) expect(docs.get(key)).toContain(phrase);
  });

  test('every prop with a literal @default (not "- prose") has its value in the table', () => {
    const literal = [...docs.entries()].filter(([, text]) => text !== undefined && !text.startsWith('-'));
    const missing = literal.map(([key]) => key).filter((key) => !(key in DEFAULTS));
    expect(missing).toEqual([]);
  });

  test('docs/defaults.md is generated from the table and up to date', () => {
    const committed = fs.readFileSync(path.join(__dirname, '..', 'docs', 'defaults.md'), 'utf8');
    expect(committed).toEqual(renderDefaultsDoc());
  });
});
