import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { importsOf } from '@pixmill/testing';

const ROOT = path.resolve(__dirname, '../../..');
const readJson = (file: string) => JSON.parse(readFileSync(path.join(ROOT, file), 'utf8'));

describe('@pixmill/cli as a package', () => {
  const cli = readJson('apps/cli/package.json');

  it('imports only Node built-ins, its own files and the dependencies it declares (the tarball installs nothing else)', () => {
    const src = path.join(ROOT, 'apps/cli/src');
    const outside = readdirSync(src)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))
      .flatMap((f) => importsOf(path.join(src, f)).map((spec) => ({ file: f, spec })))
      .filter(({ spec }) => !spec.startsWith('.') && !spec.startsWith('node:') && !builtinModules.includes(spec))
      .filter(({ spec }) => !Object.keys(cli.dependencies).some((dep) => spec === dep || spec.startsWith(`${dep}/`)));
    expect(outside).toEqual([]);
  });

  it('depends on the SDK version in the repository, and on the versions the repository runs its tests with', () => {
    const root = readJson('package.json');
    const { '@pixmill/sdk': sdk, ...libraries } = cli.dependencies as Record<string, string>;
    expect(sdk).toBe(readJson('libs/sdk/package.json').version);
    for (const [name, version] of Object.entries(libraries)) expect({ name, version }).toEqual({ name, version: root.dependencies[name] });
    expect(cli.bin).toEqual({ pixmill: 'bin/pixmill.js' });
  });
});
