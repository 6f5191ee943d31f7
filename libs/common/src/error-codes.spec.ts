import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import * as common from './index';
import { DomainException } from './domain.exception';
import { ERROR_CODES, ErrorCode, errorStatus, failedJobStatus, isErrorCode, isRetryableCode } from './error-codes';

const ROOT = path.resolve(__dirname, '../../..');
const CODES = Object.keys(ERROR_CODES) as ErrorCode[];

/** The .ts sources of apps/ and libs/, without tests; apps/web is a browser client whose own codes (network_error, canceled) the API never answers. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'dist' || full === path.join(ROOT, 'apps', 'web') ? [] : sourceFiles(full);
    return entry.name.endsWith('.ts') && !/\.(spec|e2e-spec|int-spec)\.ts$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

interface CodeUse {
  where: string;
  code: string;
}

function extendsDomainException(node: ts.Node): boolean {
  for (let n: ts.Node | undefined = node.parent; n; n = n.parent) {
    if (ts.isClassLike(n)) {
      return !!n.heritageClauses?.some((h) => h.token === ts.SyntaxKind.ExtendsKeyword && h.types.some((t) => t.expression.getText() === 'DomainException'));
    }
  }
  return false;
}

const LOG_METHODS = new Set(['log', 'warn', 'error', 'info', 'debug', 'verbose', 'fatal', 'trace', 'inc']);

/**
 * A `code` in a log line (`logger.warn({ msg, code, … })`) or in a metric's labels
 * (`metrics.afterCommitFailures.inc({ action, code })`) names a tolerated fault for operators, not an answer.
 */
function inLogLine(property: ts.PropertyAssignment): boolean {
  const call = property.parent.parent;
  return ts.isCallExpression(call) && ts.isPropertyAccessExpression(call.expression) && LOG_METHODS.has(call.expression.name.text);
}

/**
 * Every place the sources give a code as a literal: the first argument of `new DomainException(…)`
 * and of `super(…)` in a class that extends it, and a `code: '…'` property outside log lines (the
 * problem filter's own problems, an HttpException body, a failure written to a job row).
 */
function literalCodes(file: string): CodeUse[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const uses: CodeUse[] = [];
  const at = (node: ts.Node) => `${path.relative(ROOT, file)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
  const literal = (node: ts.Node | undefined): string | undefined => {
    if (!node) return undefined;
    // A cast does not make a literal any less a code: `'x' as ErrorCode` is still checked.
    while (ts.isAsExpression(node) || ts.isTypeAssertionExpression(node) || ts.isSatisfiesExpression(node) || ts.isParenthesizedExpression(node)) {
      node = node.expression;
    }
    if (ts.isStringLiteralLike(node)) return node.text;
    if (ts.isNumericLiteral(node)) return node.text; // the former (status, code, …) form: a status is no code
    return undefined;
  };
  const visit = (node: ts.Node): void => {
    let code: string | undefined;
    if (ts.isNewExpression(node) && node.expression.getText() === 'DomainException') code = literal(node.arguments?.[0]);
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.SuperKeyword && extendsDomainException(node)) {
      code = literal(node.arguments[0]);
    }
    if (ts.isPropertyAssignment(node) && node.name.getText() === 'code' && !inLogLine(node)) code = literal(node.initializer);
    if (code !== undefined) uses.push({ where: at(node), code });
    ts.forEachChild(node, visit);
  };
  visit(source);
  return uses;
}

describe('the error-code registry', () => {
  it('gives every code a snake_case name, an error status, a title and a retry decision', () => {
    expect(CODES.length).toBeGreaterThan(15);
    for (const code of CODES) {
      const { status, title, retryable } = ERROR_CODES[code];
      expect({ code, snake: /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/.test(code) }).toEqual({ code, snake: true });
      expect({ code, status: Number.isInteger(status) && status >= 400 && status <= 599 }).toEqual({ code, status: true });
      expect({ code, title: title.trim().length > 0 }).toEqual({ code, title: true });
      expect({ code, retryable: typeof retryable }).toEqual({ code, retryable: 'boolean' });
    }
  });

  it('agrees with the status table of SPEC §3', () => {
    const spec: Record<number, ErrorCode[]> = {
      400: ['validation_failed'],
      401: ['unauthorized', 'invalid_credentials'],
      403: ['storage_quota_exceeded'],
      404: ['not_found'],
      409: ['email_taken', 'idempotency_conflict'],
      413: ['file_too_large'],
      415: ['unsupported_media_type'],
      422: ['image_corrupt', 'image_too_large'],
      429: ['rate_limited', 'daily_quota_exceeded'],
      503: ['unavailable'],
    };
    for (const [status, codes] of Object.entries(spec)) {
      for (const code of codes) expect({ code, status: errorStatus(code) }).toEqual({ code, status: Number(status) });
    }
  });

  it('lets the worker retry faults of the service, never bad input', () => {
    for (const code of ['image_corrupt', 'image_too_large', 'spec_not_applicable', 'unsupported_media_type', 'validation_failed']) {
      expect({ code, retryable: isRetryableCode(code) }).toEqual({ code, retryable: false });
    }
    for (const code of ['unavailable', 'internal_error']) expect({ code, retryable: isRetryableCode(code) }).toEqual({ code, retryable: true });
    // An error nobody registered is not known to be permanent.
    expect(isRetryableCode('no_such_code')).toBe(true);
  });

  it('answers a failed job with its code’s status, 500 for a code it does not know', () => {
    expect(failedJobStatus('image_corrupt')).toBe(422);
    expect(failedJobStatus('unsupported_media_type')).toBe(415);
    expect(failedJobStatus('validation_failed')).toBe(400);
    expect(failedJobStatus('internal_error')).toBe(500);
    expect(failedJobStatus('no_such_code')).toBe(500);
    expect(isErrorCode('no_such_code')).toBe(false);
    expect(isErrorCode('toString')).toBe(false);
  });

  it('is where every DomainException exported by @pixmill/common takes its code and status', () => {
    const classes = Object.entries(common).filter(
      ([, value]) => typeof value === 'function' && value.prototype instanceof DomainException,
    ) as Array<[string, new (...args: unknown[]) => DomainException]>;
    expect(classes.length).toBeGreaterThan(10);
    for (const [name, Exception] of classes) {
      const e = new Exception();
      expect({ name, known: isErrorCode(e.code) }).toEqual({ name, known: true });
      expect({ name, status: e.status }).toEqual({ name, status: ERROR_CODES[e.code].status });
    }
  });

  it('refuses a code that is not registered', () => {
    expect(() => new DomainException('no_such_code' as ErrorCode, 'x')).toThrow(/not a registered error code/);
  });

  it('holds every code the sources give as a literal (a new code needs its entry)', () => {
    const uses = ['apps', 'libs'].flatMap((dir) => sourceFiles(path.join(ROOT, dir))).flatMap(literalCodes);
    const found = new Set(uses.map((u) => u.code));
    // The scan itself still sees the codes of subclasses, direct throws and the filter.
    expect([...found]).toEqual(expect.arrayContaining(['validation_failed', 'spec_not_applicable', 'invalid_signature', 'job_canceled', 'body_too_large']));
    expect(uses.filter((u) => !isErrorCode(u.code))).toEqual([]);
  });
});
