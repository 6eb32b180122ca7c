/**
 * The compiler options of a deployment model, as tsconfig.json spells them.
 * depc type-checks every model with these, whatever the project's tsconfig
 * says: a model must mean the same on every machine. `depc init` writes the
 * same options into the project's tsconfig.json, so that an editor and
 * `tsc --noEmit` see what depc sees (test/compiler/init.test.ts keeps
 * them equal). Plain data: reading it must not load TypeScript.
 */
export const modelTsconfigOptions = {
  target: "ES2022",
  lib: ["ES2022"],
  module: "preserve",
  moduleResolution: "bundler",
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  allowImportingTsExtensions: true,
  resolveJsonModule: true,
  esModuleInterop: true,
  isolatedModules: true,
  forceConsistentCasingInFileNames: true,
  /**
   * Node's declarations, so models may `import fs from "node:fs"`. depc adds
   * them when the project has `@types/node` installed (and only then:
   * `tsc` would fail on a `types` entry it cannot find).
   */
  types: ["node"],
} as const;
