import Ajv2020, { ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { OPENAPI_TALLY_FILE } from './test-env';

type Json = Record<string, any>;

/** What the validator saw of one response (the parts a contract speaks of). */
export interface ObservedResponse {
  method: string;
  url: string;
  status: number;
  headers: Headers;
  text: string;
  body: unknown;
}

/** Headers whose presence is part of the contract: a response that carries one must document it. */
const CONTRACT_HEADERS = ['location', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'];

interface PathMatcher {
  template: string;
  pattern: RegExp;
}

/**
 * Checks the API's answers against the committed OpenAPI document (openapi.json, which a
 * test holds to what the API serves): the status is documented for the route, the media
 * type too, the body validates against its schema, and every contract header present is
 * documented (a required one present). Each check is tallied for the run's summary.
 */
export class OpenApiResponseValidator {
  private static shared: OpenApiResponseValidator | undefined;
  private readonly ajv: Ajv2020;
  private readonly matchers: PathMatcher[];
  private readonly compiled = new Map<string, ValidateFunction>();

  static instance(): OpenApiResponseValidator {
    return (OpenApiResponseValidator.shared ??= new OpenApiResponseValidator(
      JSON.parse(readFileSync(path.resolve(__dirname, '../../../openapi.json'), 'utf8')),
    ));
  }

  constructor(private readonly doc: Json) {
    this.ajv = new Ajv2020({ strict: false, allErrors: true, logger: false, discriminator: true });
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: 'pixmill:openapi', components: doc.components }, 'pixmill:openapi');
    // Literal paths first, so `/v1/webhook-secret/rotate` is not taken for a `{id}`.
    this.matchers = Object.keys(doc.paths)
      .sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0))
      .map((template) => ({
        template,
        pattern: new RegExp(
          `^${template
            .split(/(\{[^}]+\})/)
            .map((part) => (part.startsWith('{') ? (part === '{path}' ? '.+' : '[^/]+') : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
            .join('')}$`,
        ),
      }));
  }

  /** The problems of one response against the document; [] when it matches. Null when no route of the document is concerned. */
  check(res: ObservedResponse): string[] | null {
    const { pathname } = new URL(res.url);
    const method = res.method.toLowerCase();
    const matcher = this.matchers.find((m) => m.pattern.test(pathname) && this.doc.paths[m.template][method]);
    if (!matcher) {
      // Under /v1 every route is documented; an unknown one may only be a 404.
      if (pathname.startsWith('/v1/') && res.status !== 404) return [`${res.method} ${pathname} answered ${res.status} but no documented route matches`];
      return null;
    }
    const op = this.doc.paths[matcher.template][method];
    const where = `${res.method} ${matcher.template} → ${res.status}`;
    const documented = op.responses[String(res.status)] ?? op.responses[`${String(res.status)[0]}XX`] ?? op.responses.default;
    if (!documented) return [`${where}: status not documented (documented: ${Object.keys(op.responses).join(', ')})`];
    const response = documented.$ref ? this.resolve(documented.$ref) : documented;
    return [...this.checkHeaders(where, response, res.headers), ...this.checkBody(where, `${matcher.template} ${method} ${res.status}`, response, res)];
  }

  private checkHeaders(where: string, response: Json, headers: Headers): string[] {
    const declared = new Map(Object.entries(response.headers ?? {}).map(([name, h]) => [name.toLowerCase(), h as Json]));
    const problems: string[] = [];
    for (const name of CONTRACT_HEADERS) {
      if (headers.has(name) && !declared.has(name)) problems.push(`${where}: header ${name} is sent but not documented`);
    }
    for (const [name, header] of declared) {
      const value = headers.get(name);
      if (value === null) {
        if (header.required) problems.push(`${where}: documented required header ${name} is missing`);
        continue;
      }
      if (header.schema?.type === 'integer' && !/^\d+$/.test(value)) problems.push(`${where}: header ${name}=${value} is not an integer`);
    }
    return problems;
  }

  private checkBody(where: string, key: string, response: Json, res: ObservedResponse): string[] {
    const content: Json | undefined = response.content;
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
    if (!res.text) {
      return content && Object.values(content).some((m: Json) => m.schema) && res.method !== 'HEAD'
        ? [`${where}: empty body where ${Object.keys(content).join(', ')} is documented`]
        : [];
    }
    if (!content) return [`${where}: a ${mediaType || 'typeless'} body is sent but no content is documented`];
    const documentedType = Object.keys(content).find((t) => t === mediaType || (t.endsWith('/*') && mediaType.startsWith(t.slice(0, -1))) || t === '*/*');
    if (!documentedType) return [`${where}: content-type ${mediaType} is not documented (documented: ${Object.keys(content).join(', ')})`];
    const schema = content[documentedType].schema;
    if (!schema || !/json/.test(mediaType)) return [];
    const validate = this.validator(`${key} ${documentedType}`, schema);
    if (validate(res.body)) return [];
    return (validate.errors ?? []).slice(0, 8).map((e) => `${where}: body${e.instancePath || ''} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
  }

  private validator(key: string, schema: Json): ValidateFunction {
    let validate = this.compiled.get(key);
    if (!validate) {
      const rebased = JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"pixmill:openapi#/components/'));
      validate = this.ajv.compile(rebased);
      this.compiled.set(key, validate);
    }
    return validate;
  }

  private resolve(ref: string): Json {
    return ref
      .replace(/^#\//, '')
      .split('/')
      .reduce((node: Json, part) => node[part], this.doc);
  }
}

/** Tallies one checked response for the run's summary (test/openapi-tally.reporter.js prints it). */
export function tallyOpenApiCheck(outcome: 'checked' | 'mismatch'): void {
  appendFileSync(OPENAPI_TALLY_FILE, `${outcome}\n`);
}

/**
 * A `fetch` that checks each answer of the API against openapi.json as the HTTP client
 * does (for clients under test that bring their own HTTP, such as @pixmill/sdk).
 */
export const contractFetch: typeof fetch = async (input, init) => {
  const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
  const url = input instanceof Request ? input.url : String(input);
  const res = await fetch(input, init);
  const copy = res.clone();
  const text = await copy.text();
  let body: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json') && text) body = JSON.parse(text);
  const problems = OpenApiResponseValidator.instance().check({ method, url: res.url || url, status: res.status, headers: res.headers, text, body });
  if (problems) {
    tallyOpenApiCheck(problems.length ? 'mismatch' : 'checked');
    if (problems.length) throw new Error(`response does not match openapi.json:\n  ${problems.join('\n  ')}\nbody: ${text.slice(0, 500)}`);
  }
  return res;
};
