/**
 * Writes jest's aggregated results as JSON (the same shape as `jest --json`) to
 * .ci/jest-results.json on every run, so CI reads the outcome from a file while
 * running exactly `npm test`.
 */
const fs = require('node:fs');
const path = require('node:path');

class ResultsFileReporter {
  constructor(globalConfig) {
    this.file = path.join(globalConfig.rootDir, '.ci', 'jest-results.json');
  }

  onRunComplete(_contexts, results) {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const { numTotalTests, numPassedTests, numFailedTests, numPendingTests, numTotalTestSuites, numFailedTestSuites, numRuntimeErrorTestSuites, success, startTime } = results;
    const failures = results.testResults.flatMap((s) =>
      s.testExecError
        ? [{ suite: path.relative(process.cwd(), s.testFilePath), error: String(s.testExecError.message).slice(0, 500) }]
        : s.testResults.filter((t) => t.status === 'failed').map((t) => ({ suite: path.relative(process.cwd(), s.testFilePath), test: t.fullName })),
    );
    fs.writeFileSync(
      this.file,
      JSON.stringify({ numTotalTests, numPassedTests, numFailedTests, numPendingTests, numTotalTestSuites, numFailedTestSuites, numRuntimeErrorTestSuites, success, startTime, failures }, null, 2),
    );
  }
}

module.exports = ResultsFileReporter;
