/**
 * Prints the readouts of synthesized templates: the monthly cost estimate (tools/cost.ts, a dated price table) and
 * the rollout timings (tools/rollout-timings.ts, each figure with its formula). `npm run demo` calls it.
 *
 *   ts-node --project scripts/tsconfig.json scripts/readouts.ts <template.json>...
 */
import * as fs from 'fs';
import * as path from 'path';
import { estimateCost, formatEstimate } from '../tools/cost';
import { formatTimings, rolloutTimings } from '../tools/rollout-timings';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: ts-node scripts/readouts.ts <template.json>...');
  process.exit(2);
}
const templates = files.map((file) => {
  if (!fs.existsSync(file)) {
    console.error(`template not found: ${file}`);
    process.exit(1);
  }
  return { name: path.basename(file, '.template.json'), template: JSON.parse(fs.readFileSync(file, 'utf8')) };
});
for (const { name, template } of templates) console.log(formatEstimate(name, estimateCost(template)));
console.log();
for (const { name, template } of templates) console.log(formatTimings(name, rolloutTimings(template)));
