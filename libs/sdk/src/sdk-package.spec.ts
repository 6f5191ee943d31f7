import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ERROR_CODES } from '@pixmill/common';
import { importsOf } from '@pixmill/testing';
import { ERROR_CODE_STATUS } from './generated/error-codes';

const ROOT = path.resolve(__dirname, '../../..');
const SRC = __dirname;

describe('@pixmill/sdk as a package', () => {
  it('the generated types and error codes are what `npm run openapi` makes from the committed document and the registry', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'pixmill-sdk-gen-'));
    execFileSync(process.execPath, [path.join(ROOT, 'scripts/sdk-generate.mjs'), '--out', out], { cwd: ROOT, stdio: 'pipe' });
    for (const file of ['openapi.ts', 'error-codes.ts']) {
      expect({ file, text: readFileSync(path.join(SRC, 'generated', file), 'utf8') }).toEqual({ file, text: readFileSync(path.join(out, file), 'utf8') });
    }
    expect(ERROR_CODE_STATUS).toEqual(Object.fromEntries(Object.entries(ERROR_CODES).map(([code, e]) => [code, e.status])));
  });

  it('the browser entry reaches no Node built-in and nothing of the monorepo', () => {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const spec of importsOf(file)) {
        expect({ file: path.relative(SRC, file), spec, node: spec.startsWith('node:') || builtinModules.includes(spec) }).toEqual({ file: path.relative(SRC, file), spec, node: false });
        if (spec.startsWith('.')) visit(`${path.resolve(path.dirname(file), spec)}.ts`);
        else expect(['openapi-fetch', 'thumbhash']).toContain(spec);
      }
    };
    visit(path.join(SRC, 'index.ts'));
    expect(seen.size).toBeGreaterThan(4);
  });
});
