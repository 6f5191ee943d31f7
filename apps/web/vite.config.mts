import { defineConfig } from 'vitest/config';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import react from '@vitejs/plugin-react';
import type { Plugin } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));
const api = process.env.PIXMILL_API_URL ?? 'http://localhost:3000';
/**
 * What the dev server passes to the API: every path the console calls or links to that the API
 * answers. `/account` and `/images/…` are the console's own screens, so only the API's account
 * pages (the links of its mails) and the public `/i/{imageId}` URLs go through, matched exactly.
 */
const API_PATHS = ['/v1/', '/files/', '^/i/', '^/account/(verify-email|reset-password)', '/docs', '/openapi.'];

/** Writes .br and .gz beside each text asset; the API serves them to browsers that accept them. */
function precompress(): Plugin {
  return {
    name: 'pixmill-precompress',
    apply: 'build',
    writeBundle(options) {
      const dir = `${options.dir}/assets`;
      for (const name of readdirSync(dir).filter((n) => /\.(js|css|svg)$/.test(n))) {
        const body = readFileSync(`${dir}/${name}`);
        writeFileSync(`${dir}/${name}.br`, brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
        writeFileSync(`${dir}/${name}.gz`, gzipSync(body, { level: 9 }));
      }
    },
  };
}

// The console is built to dist/web, which the API serves at / (apps/api/src/web).
export default defineConfig({
  root: here,
  base: '/',
  // @vitejs/plugin-react 6 is the line for Vite 8: JSX through Vite's own oxc transform, with React
  // Fast Refresh under `npm run dev:web` (decision 054).
  plugins: [react(), precompress()],
  // The console talks to the API through the SDK's browser entry, compiled from its sources.
  resolve: { alias: { '@pixmill/sdk': `${here}../../libs/sdk/src/index.ts` } },
  build: {
    outDir: `${here}../../dist/web`,
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    // No inline <script> or data: module: the CSP allows only 'self' scripts.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    rollupOptions: {
      // TanStack Query's "use client" markers mean nothing to a client-only bundle.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  // `npm run dev:web`: Vite on :5173 with hot reload; the API's paths proxied to it.
  server: {
    port: 5173,
    proxy: Object.fromEntries(API_PATHS.map((p) => [p, api])),
  },
  test: {
    root: here,
    environment: 'jsdom',
    include: ['src/**/*.test.tsx', 'src/**/*.test.ts'],
    setupFiles: ['src/test/setup.ts'],
    // .ci/run adds these counts to jest's in its final line.
    reporters: ['default', 'json'],
    outputFile: { json: `${here}../../.ci/vitest-results.json` },
  },
});
