import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * Runs a command and resolves with its stdout, asynchronously: the API under test answers
 * from the jest process itself. NODE_OPTIONS is cleared so the child sees a plain Node.
 */
export async function runCommand(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<string> {
  return (await promisify(execFile)(cmd, args, { cwd, env: { ...process.env, NODE_OPTIONS: '', ...env }, maxBuffer: 16 * 1024 * 1024 })).stdout;
}

export interface PackedPackage {
  tarball: string;
  /** The paths inside the tarball. */
  files: string[];
}

/** `npm pack` of a package folder of the repository (its prepack builds it) into `destination`. */
export async function npmPack(packageDir: string, destination: string): Promise<PackedPackage> {
  const [packed] = JSON.parse(await runCommand('npm', ['pack', '--json', '--pack-destination', destination], packageDir));
  return { tarball: path.join(destination, packed.filename), files: packed.files.map((f: { path: string }) => f.path) };
}

/** A new empty folder with a package.json, the tarballs installed in it as a user would. */
export async function installTarballs(tarballs: string[], manifest: Record<string, unknown> = {}): Promise<string> {
  const app = mkdtempSync(path.join(tmpdir(), 'pixmill-packed-app-'));
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'pixmill-packed-app', private: true, ...manifest }));
  await runCommand('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...tarballs], app);
  return app;
}
