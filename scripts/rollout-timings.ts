/**
 * Prints the rollout timings of synthesized templates (see tools/rollout-timings.ts for how each is computed).
 *
 *   ts-node --project scripts/tsconfig.json scripts/rollout-timings.ts <template.json>...
 */
import * as fs from 'fs';
import * as path from 'path';
import { formatTimings, rolloutTimings } from '../tools/rollout-timings';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: ts-node scripts/rollout-timings.ts <template.json>...');
  process.exit(2);
}
for (const file of files) {
  if (!fs.existsSync(file)) {
    console.error(`template not found: ${file}`);
    process.exit(1);
  }
  const template = JSON.parse(fs.readFileSync(file, 'utf8'));
  console.log(formatTimings(path.basename(file, '.template.json'), rolloutTimings(template)));
}
