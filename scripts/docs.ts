/**
 * Writes the generated documents: docs/defaults.md (from src/defaults.ts) and docs/acknowledgements.md (from the
 * acknowledgements the construct attaches). Tests fail when either file is stale.
 *
 *   npx projen docs
 */
import * as fs from 'fs';
import * as path from 'path';
import { renderAcknowledgementsDoc } from '../tools/acknowledgements-doc';
import { renderDefaultsDoc } from '../tools/defaults-doc';

const docs = path.join(__dirname, '..', 'docs');
fs.mkdirSync(docs, { recursive: true });
for (const [file, content] of [
  ['defaults.md', renderDefaultsDoc()],
  ['acknowledgements.md', renderAcknowledgementsDoc()],
] as const) {
  fs.writeFileSync(path.join(docs, file), content);
  console.log(`wrote docs/${file}`);
}
