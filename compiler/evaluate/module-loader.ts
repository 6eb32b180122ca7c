import { createRequire } from "node:module";
import { dirname, isAbsolute, resolve } from "node:path";
import vm from "node:vm";
import type { TranspiledModule } from "../load/transpile.js";

/**
 * Runs the user's transpiled modules. `depc` resolves to the very stdlib
 * instance the compiler inspects; relative imports to the user's other
 * modules; anything else to Node's own resolution from the importing file
 * (a project's npm dependencies).
 */
export class ModuleLoader {
  private readonly instances = new Map<string, { exports: unknown }>();

  constructor(
    private readonly modules: ReadonlyMap<string, TranspiledModule>,
    private readonly depc: object,
  ) {}

  load(file: string): unknown {
    const cached = this.instances.get(file);
    if (cached !== undefined) return cached.exports;
    const source = this.modules.get(file);
    if (source === undefined) throw new Error(`depc: module ${file} was not transpiled`);
    const module = { exports: {} as unknown };
    this.instances.set(file, module);
    const run = vm.compileFunction(source.js, ["exports", "require", "module", "__filename", "__dirname"], {
      filename: file,
    });
    run.call(module.exports, module.exports, this.requireFrom(file), module, file, dirname(file));
    return module.exports;
  }

  private requireFrom(file: string): (specifier: string) => unknown {
    const nodeRequire = createRequire(file);
    return (specifier: string) => {
      if (specifier === "depc") return this.depc;
      if (specifier.startsWith(".") || isAbsolute(specifier)) {
        const target = this.resolveUserModule(file, specifier);
        if (target !== undefined) return this.load(target);
      }
      return nodeRequire(specifier);
    };
  }

  private resolveUserModule(from: string, specifier: string): string | undefined {
    const base = resolve(dirname(from), specifier);
    const swapped = base.replace(/\.(m|c)?js$/, ".$1ts").replace(/\.jsx$/, ".tsx");
    const candidates = [base, swapped, `${base}.ts`, `${base}.tsx`, `${base}.mts`, `${base}/index.ts`];
    return candidates.find((candidate) => this.modules.has(candidate));
  }
}
