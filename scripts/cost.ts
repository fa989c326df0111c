/**
 * Prints the monthly cost estimate of synthesized templates (see tools/cost.ts for the price table).
 *
 *   ts-node --project scripts/tsconfig.json scripts/cost.ts <template.json>...
 */
import * as fs from 'fs';
import * as path from 'path';
import { estimateCost, formatEstimate } from '../tools/cost';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: ts-node scripts/cost.ts <template.json>...');
  process.exit(2);
}
for (const file of files) {
  if (!fs.existsSync(file)) {
    console.error(`template not found: ${file}`);
    process.exit(1);
  }
  console.log(
    formatEstimate(path.basename(file, '.template.json'), estimateCost(JSON.parse(fs.readFileSync(file, 'utf8')))),
  );
}
