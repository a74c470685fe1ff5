// Prints jest's totals as the plain closing line CI reads ("tests: N passed, N failed"), because
// jest's own summary ("Tests: 3 passed, 3 total") is not a format CI recognises.
'use strict';

class ClosingLineReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    process.stdout.write(`tests: ${results.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  }
}

module.exports = ClosingLineReporter;
