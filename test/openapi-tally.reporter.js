/**
 * Prints how many API responses of the run were checked against openapi.json by the
 * e2e HTTP client (libs/testing), and how many did not match (each failed its test).
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

class OpenApiTallyReporter {
  onRunComplete() {
    const runId = process.env.PIXMILL_TEST_RUN_ID ?? 'local';
    const file = path.join(os.tmpdir(), `pixmill-openapi-tally-${runId}.log`);
    if (!fs.existsSync(file)) return;
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
    fs.rmSync(file, { force: true });
    const mismatches = lines.filter((l) => l === 'mismatch').length;
    process.stdout.write(`\nOpenAPI: ${lines.length} responses checked against openapi.json, ${mismatches} mismatch${mismatches === 1 ? '' : 'es'}\n`);
  }
}

module.exports = OpenApiTallyReporter;
