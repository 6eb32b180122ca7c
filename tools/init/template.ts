import { modelTsconfigOptions } from "../../compiler/load/model-options.js";

/**
 * The files `depc init` writes. They live here as strings, not as template
 * files, so that they ship inside `dist/` with the compiler and nothing
 * has to find them at run time. test/compiler/init.test.ts builds and
 * applies what they make.
 */
export interface TemplateOptions {
  /** The project's package name: `[a-z0-9][a-z0-9._-]*`, so safe in paths and string literals. */
  readonly name: string;
  /** The `depc` dependency's version range or spec (`^0.1.0`, `file:vendor/depc-0.1.0.tgz`). */
  readonly depcSpec: string;
  /** Version ranges of the project's dev dependencies: `typescript` (the one depc checks with) and `@types/node`. */
  readonly devDependencies: Readonly<Record<string, string>>;
}

/** Project-relative path → content, in the order they are written and listed. */
export function templateFiles(options: TemplateOptions): ReadonlyMap<string, string> {
  const { name } = options;
  return new Map([
    ["package.json", packageJson(options)],
    ["tsconfig.json", tsconfig],
    [".gitignore", "build/\nnode_modules/\n"],
    ["depc", launcher],
    ["README.md", readme(name)],
    ["components/app.ts", app(name)],
    ["env/dev.ts", dev(name)],
  ]);
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** Files `depc init` makes executable (mode 0755). */
export const executableFiles: ReadonlySet<string> = new Set(["depc"]);

// ./depc: the project's depc without npx (npx alone takes most of a second to
// start, more than a no-op deploy). It runs node_modules/depc/bin/depc.js with
// node, found relative to this script, wherever it is run from.
const launcher = `#!/bin/sh
# This project's depc (node_modules/depc), started without npx's own start-up cost:
#   ./depc build env/dev    ./depc deploy env/prod
case $0 in */*) here=\${0%/*} ;; *) here=. ;; esac
exec node "$here/node_modules/depc/bin/depc.js" "$@"
`;

// The scripts cover every environment (env/*.ts), also those added later;
// the shell that runs npm scripts expands the pattern.
const packageJson = ({ name, depcSpec, devDependencies }: TemplateOptions) =>
  json({
    name,
    version: "0.0.0",
    private: true,
    description: "A deployment described with depc",
    type: "module",
    scripts: {
      check: "depc check env/*.ts",
      build: "depc build env/*.ts",
      // npm run deploy -- env/prod: deploy and plan take one environment.
      deploy: "depc deploy",
      plan: "depc plan",
    },
    dependencies: { depc: depcSpec },
    devDependencies,
  });

// For editors and `tsc --noEmit`: exactly the options depc type-checks a
// model with (depc itself does not read this file).
const tsconfig = json({
  compilerOptions: modelTsconfigOptions,
  include: ["**/*.ts"],
  exclude: ["node_modules", "build"],
});

const app = (name: string) => `// A component: a unit of deployment with typed settings. Its settings'
// types come from the defaults below; an environment (env/*.ts) may override
// any of them, and a misspelt or mistyped override fails \`depc check\`.
import { component, Directory, File, template } from "depc";

export const app = component({
  name: "app",
  settings: {
    /** Where the app lives on the host (absolute). */
    root: "/srv/${name}",
    /** The port the app listens on. */
    port: 8080,
    /** Shown on the start page. */
    greeting: "Hello from depc",
  },
  build(s, ctx) {
    Directory({ path: s.root, mode: 0o755 });
    // A config file rendered from typed values; mode 0640 keeps it from other users.
    File({
      path: \`\${s.root}/app.ini\`,
      mode: 0o640,
      content: template((v: { port: number; host: string }) => \`[app]\\nport = \${v.port}\\nhost = \${v.host}\\n\`, {
        port: s.port,
        host: ctx.host.name,
      }),
    });
    File({ path: \`\${s.root}/index.html\`, content: \`<h1>\${s.greeting}</h1>\\n\` });
  },
});
`;

const dev = (name: string) => `// The development environment: one host, this machine. \`depc build env/dev\`
// writes build/dev/localhost.sh; \`sh build/dev/localhost.sh\` applies it here.
import { environment } from "depc";
import { app } from "../components/app.ts";

export default environment({
  hosts: {
    localhost: [app],
  },
  settings: {
    // Below /tmp while you try things out: no root needed, nothing else touched.
    // Production environments (env/prod.ts) keep the default root or set their own.
    app: { root: "/tmp/depc-${name}", port: 8081 },
  },
});
`;

const readme = (name: string) => `# ${name}

A deployment described with depc: a typed TypeScript model compiled into
one POSIX shell script per host.

## Layout

- \`components/\` — reusable units with typed settings (\`components/app.ts\`).
- \`env/\` — environments: which hosts run which components, and the settings
  that differ there. \`env/dev.ts\` has one host, \`localhost\`, deploying below
  \`/tmp/depc-${name}\`.
- \`build/\` — what \`depc build\` writes (ignored by git).
- \`vendor/\` — depc itself, as a package file, when \`depc init\` put it there:
  \`npm install\` installs it from there. Commit it with the project.

## Use

\`\`\`sh
npm install                      # installs depc, TypeScript and Node's type declarations
npm run check                    # type-check and validate every environment (env/*.ts); writes nothing
npx tsc --noEmit                 # the same type-check as depc's, as your editor sees it
./depc check env/dev             # one environment
./depc build env/dev             # writes build/dev/localhost.sh and build/dev/manifest.json
./depc inspect env/dev           # hosts, components, settings and where each came from
sh build/dev/localhost.sh --check   # what would change here, with diffs; changes nothing
sh build/dev/localhost.sh           # apply
\`\`\`

A second \`sh build/dev/localhost.sh\` reports no changes: bundles converge.

\`./depc\` runs this project's depc (\`node_modules/depc\`) directly: \`npx depc\`
works too, but npx alone takes most of a second to start, longer than a
no-op deploy. \`npm run deploy -- env/prod\` and \`npm run plan -- env/prod\`
are there for habit (npm costs a little start-up time as well).

A bundle needs only \`sh\` on the host. To deploy elsewhere, add hosts to an
environment (a new \`env/prod.ts\` can reuse the same components with other
settings), build it, copy \`build/prod/<host>.sh\` to each host and run it with
\`sh\` there.

## Next steps

- Change a setting for one environment in its \`settings\`, or for one host with
  \`app.with({ port: 9000 })\` in its host list.
- \`./depc graph env/dev --format mermaid\` draws the dependency graph.
`;
