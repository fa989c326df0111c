#!/usr/bin/env node
// Sums jest JSON reports into the closing line CI reads: "N passed, M failed". A missing report (a suite that did
// not run) and a report with no test count as one failure each, so a run that skipped a suite cannot pass.
const fs = require('fs');

let passed = 0;
let failed = 0;
for (const file of process.argv.slice(2)) {
  if (!fs.existsSync(file)) {
    console.error(`missing test report: ${file}`);
    failed += 1;
    continue;
  }
  const report = JSON.parse(fs.readFileSync(file, 'utf8'));
  if ((report.numPassedTests || 0) + (report.numFailedTests || 0) === 0) {
    console.error(`no tests ran: ${file}`);
    failed += 1;
  }
  passed += report.numPassedTests;
  failed += report.numFailedTests + (report.numRuntimeErrorTestSuites || 0);
  console.log(`${file}: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${report.numTotalTestSuites || 1} suites`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
