// A Jest reporter that writes the run's counts and the names of its failed tests to the file named by
// NESTJS_TUS_JEST_SUMMARY. Jest's own --json output cannot be relied on for this: it serialises every
// failure's error objects and throws on one that holds a socket (a circular structure), losing the
// counts of the whole run.
const { writeFileSync } = require('node:fs');
const { relative } = require('node:path');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const file = process.env.NESTJS_TUS_JEST_SUMMARY;
    if (!file) return;
    const failures = [];
    for (const suite of results.testResults) {
      const path = relative(process.cwd(), suite.testFilePath);
      if (suite.testExecError) failures.push(`${path}: ${firstLine(suite.testExecError.message || suite.failureMessage || '')}`);
      for (const test of suite.testResults) {
        if (test.status === 'failed') failures.push(`${path}: ${test.fullName}: ${firstLine(test.failureMessages[0] ?? '')}`);
      }
    }
    writeFileSync(
      file,
      JSON.stringify({
        passed: results.numPassedTests,
        failed: results.numFailedTests,
        // A suite that failed to load runs no test, and a skipped test proves nothing: both count as failures.
        brokenSuites: results.numRuntimeErrorTestSuites,
        pending: results.numPendingTests + results.numTodoTests,
        failures,
      }),
    );
  }
}

/** The message of a failure without its stack: what was expected and received, on one line. */
const firstLine = (text) => {
  // eslint-disable-next-line no-control-regex
  const lines = text.replace(/\u001b\[[0-9;]*m/g, '').split('\n');
  const stack = lines.findIndex((line) => /^\s+at /.test(line));
  return lines.slice(0, stack === -1 ? 8 : Math.min(stack, 8)).map((line) => line.trim()).filter(Boolean).join(' | ').slice(0, 500);
};

module.exports = SummaryReporter;
