import { readFileSync } from 'node:fs';
import path from 'node:path';
import { HttpClient, OpenApiResponseValidator, RunningApi, startApi } from '@pixmill/testing';

const COMMITTED = path.resolve(__dirname, '../../openapi.json');

describe('OpenAPI contract', () => {
  let api: RunningApi;
  let http: HttpClient;

  beforeAll(async () => {
    api = await startApi();
    http = new HttpClient(api.baseUrl);
  });
  afterAll(() => api.close());

  it('the committed openapi.json is the document the API serves (`npm run openapi` writes it)', async () => {
    const served = await http.get('/openapi.json');
    expect(served.status).toBe(200);
    const committed = JSON.parse(readFileSync(COMMITTED, 'utf8'));
    // toEqual names the first paths that differ; the message says how to mend it.
    expect({ hint: 'run `npm run openapi` and commit openapi.json', doc: committed }).toEqual({
      hint: 'run `npm run openapi` and commit openapi.json',
      doc: served.body,
    });
  });

  it('is OpenAPI 3.1: nullable fields admit null as a type, so a job before its end validates', () => {
    const doc = JSON.parse(readFileSync(COMMITTED, 'utf8'));
    expect(doc.openapi).toBe('3.1.0');
    expect(JSON.stringify(doc)).not.toContain('"nullable"');
    expect(doc.components.schemas.JobDto.properties.error).toEqual({ oneOf: [{ $ref: '#/components/schemas/JobErrorDto' }, { type: 'null' }] });
  });
});
