/**
 * Jest transformer: compiles our TypeScript with swc (decorator metadata included),
 * and compiles JavaScript from node_modules only when it is an ES module. NestJS 12
 * and several of its dependencies ship ESM only, which jest's CommonJS runtime
 * cannot load on Node 20; CommonJS files pass through untouched.
 */
const { createTransformer } = require('@swc/jest');

const swc = createTransformer({
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
});

const ESM_SYNTAX = /^\s*(import\s*[\w{*'"]|export\s+[\w{*]|export\s*\{)/m;

module.exports = {
  canInstrument: false,
  getCacheKey(src, filename, options) {
    return swc.getCacheKey(src, filename, options) + (ESM_SYNTAX.test(src) ? ':esm' : ':cjs');
  },
  process(src, filename, options) {
    if (filename.endsWith('.ts') || ESM_SYNTAX.test(src) || filename.endsWith('.mjs')) {
      return swc.process(src, filename, options);
    }
    return { code: src };
  },
};
