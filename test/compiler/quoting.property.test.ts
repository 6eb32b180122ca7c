/**
 * Property: user data (file content, paths, link targets) reaches the host
 * byte for byte and never runs as shell code, under every shell of the matrix.
 *
 * Each case builds an environment in memory with the stdlib factories, emits
 * it with modelOf + emitEnvironment (no type-check), writes one bundle per
 * shell into a fresh temp dir and runs apply, apply again and --check there.
 * Every payload is laced with canaries (`$(touch CANARY)`, backquotes, quote
 * breakouts, here-document delimiters, ...) and the canary must never exist.
 *
 * On failure the case's temp dir is kept and the message names the shell,
 * the bundle and the case. Knobs: DEPC_PROPERTY_RUNS (default 40),
 * DEPC_PROPERTY_SEED to replay a run.
 */
import { spawn } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { emitEnvironment } from "../../compiler/build.js";
import { modelOf } from "../../compiler/evaluate/evaluate.js";
import { Directory, environment, File, Symlink } from "../../model/index.js";
import type { Placeable } from "../../model/index.js";
import { availableShells, type Shell } from "../support/shells.js";

const RUNS = Number(process.env.DEPC_PROPERTY_RUNS ?? 40);
/** Shrinking runs every shell per step: stop shrinking this long after the first failure. */
const SHRINK_BUDGET_MS = Number(process.env.DEPC_PROPERTY_SHRINK_MS ?? 60_000);
const SEED = process.env.DEPC_PROPERTY_SEED === undefined ? undefined : Number(process.env.DEPC_PROPERTY_SEED);

/** Every case lives below this dir; so does the absolute canary. */
const SUITE_ROOT = mkdtempSync(join(tmpdir(), "depc-quoting-"));
const CANARY = join(SUITE_ROOT, "CANARY");
/** Relative canary: a `touch CANARY` run in the shell's working directory. */
const REL_CANARY = "CANARY";
let keptFailures = 0;

afterAll(() => {
  if (keptFailures === 0) rmSync(SUITE_ROOT, { recursive: true, force: true });
  else console.error(`quoting property: failing cases kept under ${SUITE_ROOT}`);
});

const utf8 = (s: string) => Buffer.from(s, "utf8");
const utf8Length = (s: string) => Buffer.byteLength(s, "utf8");

// ---- arbitraries ----

/** Shell-dangerous fragments that are not themselves canaries. */
const DANGER = [
  "'", '"', "$", "$(", ")", "`", "\\", "\\\\", "\n", "\r", "\r\n", "\t", " ", "  ",
  "DEPC_EOF", "\nDEPC_EOF\n", "DEPC_EOF_1", "\nDEPC_EOF_1\n", "EOF", "'DEPC_EOF'",
  "%", "%s", "%%", "%b", "%d", "%n", "%1$s", "\\c", "\\n", "\\0", "\\101", "\\x41", "\\u0041",
  "-", "--", "-n", "-e", "-E", "--help", "\n-n\n",
  "*", "?", "[", "]", "[!a]", "~", "~root", "#", "!", "{", "}", ";", "&", "&&", "|", "||", "<", ">", "<<", ">&2",
  "${", "${x:-y}", "$1", "$@", "$*", "$$", "$?", "$((1+1))", "IFS=", "\u00e9", "\u20ac", "\u{1F389}", "e\u0301",
  "\u00a0", "\u200f", "\u202e", "\u2028", "\ufeff", "\u0085", "\u0000", "\u007f", "\u001b[31m",
];

/** Fragments that create the canary if they are ever run. */
const CANARIES = [
  `$(touch ${CANARY})`,
  `\`touch ${CANARY}\``,
  `'; touch ${CANARY}; '`,
  `"; touch ${CANARY}; "`,
  `'$(touch ${CANARY})'`,
  `"$(touch ${CANARY})"`,
  `\\'$(touch ${CANARY})\\'`,
  `\ntouch ${CANARY}\n`,
  `\nDEPC_EOF\ntouch ${CANARY}\n`,
  `\nDEPC_EOF_1\ntouch ${CANARY}\n`,
  `\n}\ntouch ${CANARY}\n{\n`,
  `'\ntouch ${CANARY} #`,
  `\r\ntouch ${CANARY}\r\n`,
  `;touch ${CANARY};`,
  `|touch ${CANARY}|`,
  `&& touch ${CANARY} &&`,
  `$((0))$(touch ${CANARY})`,
  `-e touch ${CANARY}`,
  `$(touch ${REL_CANARY})`,
  `\`touch ${REL_CANARY}\``,
];

/** Canaries that fit in one path segment (no `/`, no control characters). */
const SEGMENT_CANARIES = [`$(touch ${REL_CANARY})`, `\`touch ${REL_CANARY}\``, `';touch ${REL_CANARY};'`, `";touch ${REL_CANARY};"`];

const piece = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...DANGER) },
  { weight: 3, arbitrary: fc.string({ unit: "grapheme", maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme-ascii", maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom(...CANARIES) },
);

/** Concatenated pieces with at least one canary somewhere and a biased ending. */
const lacedText = (maxPieces: number) =>
  fc
    .tuple(
      fc.array(piece, { maxLength: maxPieces }),
      fc.constantFrom(...CANARIES),
      fc.nat(),
      fc.constantFrom("", "", "\n", "\n\n", "DEPC_EOF", "\nDEPC_EOF", "\\", "'", "\r", "-"),
    )
    .map(([pieces, canary, at, ending]) => {
      const all = [...pieces];
      all.splice(at % (all.length + 1), 0, canary);
      return all.join("") + ending;
    });

const textContent: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: lacedText(30) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 200 }).map((s) => `${s}$(touch ${CANARY})`) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 200 }).map((s) => `\`touch ${CANARY}\`${s}`) },
  { weight: 1, arbitrary: fc.constantFrom("", "\n", "DEPC_EOF", "DEPC_EOF\n", "-n", "%", "\\", "'") },
);

const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);

const binaryContent: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 600 }) },
  { weight: 1, arbitrary: fc.constant(ALL_BYTES) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 4000, maxLength: 9000 }) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.uint8Array({ maxLength: 100 }), lacedText(10), fc.uint8Array({ maxLength: 20 }))
      .map(([a, t, b]) => new Uint8Array(Buffer.concat([a, utf8(t), Uint8Array.of(0), b]))),
  },
);

const content: fc.Arbitrary<string | Uint8Array> = fc.oneof({ weight: 3, arbitrary: textContent }, { weight: 2, arbitrary: binaryContent });

const SEGMENT_DANGER = DANGER.filter((d) => !/[\u0000-\u001f\u007f/]/.test(d));

const validSegment = (s: string) =>
  s !== "" && s !== "." && s !== ".." && !s.includes("/") && !/[\u0000-\u001f\u007f]/.test(s) && !/\p{Surrogate}/u.test(s) && utf8Length(s) <= 100;

const segment: fc.Arbitrary<string> = fc
  .oneof(
    {
      weight: 4,
      arbitrary: fc
        .array(fc.oneof(fc.constantFrom(...SEGMENT_DANGER), fc.constantFrom(...SEGMENT_CANARIES), fc.string({ unit: "grapheme", maxLength: 4 })), {
          minLength: 1,
          maxLength: 10,
        })
        .map((parts) => parts.join("")),
    },
    { weight: 2, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 }) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 30 }) },
    { weight: 1, arbitrary: fc.constantFrom("-", "--", "-rf", "-n", " ", " lead", "trail ", "*", "~", "DEPC_EOF", ".hidden", "...", "\u00a0") },
  )
  // control characters are rejected by the compiler with a diagnostic (tested elsewhere)
  .map((s) => s.replace(/[\u0000-\u001f\u007f/]/g, ""))
  .filter(validSegment);

const linkTarget: fc.Arbitrary<string> = fc
  .oneof(
    { weight: 4, arbitrary: lacedText(8) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 60 }) },
    { weight: 1, arbitrary: fc.constantFrom("-", "--", "-n", "\n", "x\n", "x\n\n", "'", "..", "../..", "/", "DEPC_EOF", " ") },
  )
  .map((t) => t.replace(/\u0000/g, ""))
  .filter((t) => t !== "" && utf8Length(t) <= 200);

interface Case {
  readonly files: readonly (string | Uint8Array)[];
  readonly links: readonly string[];
  /** Unique names: [0] is a directory, then one per file, then one per link. */
  readonly names: readonly string[];
}

const MAX_FILES = 6;
const MAX_LINKS = 3;

const caseArb: fc.Arbitrary<Case> = fc.record({
  files: fc.array(content, { minLength: 1, maxLength: MAX_FILES }),
  links: fc.array(linkTarget, { minLength: 1, maxLength: MAX_LINKS }),
  names: fc.uniqueArray(segment, { minLength: 1 + MAX_FILES + MAX_LINKS, maxLength: 1 + MAX_FILES + MAX_LINKS, selector: (s) => utf8(s).toString("hex") }),
});

/** Always run first: a kitchen sink, and regressions found by this property. */
const EXAMPLES: Case[] = [
  {
    files: [DANGER.join(""), ALL_BYTES, CANARIES.join("DEPC_EOF\n"), "", "-n", "no newline $(touch CANARY)"],
    links: ["x\n\n", `-n $(touch ${CANARY})`, "DEPC_EOF\n'\"`\\"],
    names: ["-rf", "a b", "'", '"', "$(touch CANARY)", "`touch CANARY`", "\\", "\u00e9\u20ac\u{1F389}", "*", "DEPC_EOF"],
  },
  // A leading U+FEFF (byte order mark) must be kept: TextDecoder drops it unless ignoreBOM is set.
  {
    files: [`\ufeff$(touch ${CANARY})`, "\ufeff[section]\nkey = value\n"],
    links: ["-"],
    names: ["-", "!", " ", '"', "'", "#", "0", "\\101", "-rf", "`"],
  },
  // dash 0.5.12 drops the first byte ≥ 0x80 that follows a proper prefix of the here-document
  // delimiter at the start of a line: "D\u00e4nemark" under <<'DEPC_EOF' comes out as "D\xa4nemark".
  {
    files: ["D\u00e4nemark\nDEPC_EOF\u00e9\nDEP\u{1F389}\n", `DEPC_EOF\u{1F192}$(touch ${CANARY})`],
    links: ["D\u00e4nemark"],
    names: ["d", "D\u00e4nemark", "DEPC_EOF\u00e9", "f3", "f4", "f5", "f6", "l1", "l2", "l3"],
  },
];

// ---- building and running ----

interface Layout {
  readonly dir: string;
  readonly files: { path: string; bytes: Buffer }[];
  readonly links: { path: string; target: Buffer }[];
}

/** Paths under root: even files at the top, odd ones and odd links inside the oddly named directory. */
function layout(c: Case, root: string): { layout: Layout; components: Placeable[] } {
  const dir = `${root}/${c.names[0]}`;
  const components: Placeable[] = [Directory({ path: dir })];
  const files = c.files.map((data, i) => {
    const path = `${i % 2 === 0 ? root : dir}/${c.names[1 + i]}`;
    components.push(File({ path, content: data }));
    return { path, bytes: typeof data === "string" ? utf8(data) : Buffer.from(data) };
  });
  const links = c.links.map((target, i) => {
    const path = `${i % 2 === 0 ? dir : root}/${c.names[1 + MAX_FILES + i]}`;
    components.push(Symlink({ path, target }));
    return { path, target: utf8(target) };
  });
  return { layout: { dir, files, links }, components };
}

function bundleFor(components: Placeable[]): string {
  const env = environment({ name: "quoting", hosts: { target: components } });
  const model = modelOf(env, { defaultName: "quoting" });
  if (!model.ok) throw new Error(`modelOf failed: ${JSON.stringify(model.diagnostics, null, 2)}`);
  const emitted = emitEnvironment(model.environment, { projectRoot: SUITE_ROOT, sourcesDigest: "sha256:property" });
  if (!emitted.ok || emitted.bundles === undefined) {
    throw new Error(`the compiler rejected a valid model:\n${emitted.diagnostics.map((d) => JSON.stringify(d)).join("\n")}`);
  }
  const text = emitted.bundles.get("target");
  if (text === undefined) throw new Error("no bundle for host 'target'");
  return text;
}

interface Run {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Async twin of shells.ts' runScript, so the shells of one case run side by side. */
function run(shell: Shell, script: string, args: readonly string[], cwd: string): Promise<Run> {
  const [command, ...leading] = shell.argv;
  return new Promise((resolve, reject) => {
    const child = spawn(command!, [...leading, script, ...args], {
      cwd,
      // Each shell's run has its own state directory: the host lock would make parallel runs collide.
      env: { ...process.env, TMPDIR: cwd, DEPC_STATE_DIR: join(cwd, "state"), ...shell.env },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 60_000,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (status, signal) =>
      resolve({ status, signal, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") }),
    );
  });
}

const slug = (name: string) => name.replace(/[^A-Za-z0-9]+/g, "-");

function describeCase(c: Case): string {
  const show = (v: string | Uint8Array) => (typeof v === "string" ? JSON.stringify(v) : `bytes(${Buffer.from(v).toString("hex")})`);
  return [
    `names: ${JSON.stringify(c.names)}`,
    ...c.files.map((f, i) => `file ${i}: ${show(f)}`),
    ...c.links.map((l, i) => `link ${i}: ${JSON.stringify(l)}`),
  ].join("\n");
}

const showRun = (label: string, r: Run) =>
  `--- ${label}: exit ${r.status}${r.signal ? ` (signal ${r.signal})` : ""}\n--- stdout:\n${r.stdout}--- stderr:\n${r.stderr}`;

/** Runs one case under one shell; returns a problem description or undefined. */
async function checkShell(shell: Shell, c: Case, caseDir: string): Promise<string | undefined> {
  const work = join(caseDir, slug(shell.name));
  const root = join(work, "t");
  mkdirSync(root, { recursive: true });
  const { layout: l, components } = layout(c, root);
  const bundle = join(caseDir, `${slug(shell.name)}.sh`);
  writeFileSync(bundle, bundleFor(components), { mode: 0o700 });
  const problems: string[] = [];
  const runs: string[] = [];

  const first = await run(shell, bundle, [], work);
  runs.push(showRun("apply", first));
  if (first.status !== 0) problems.push(`first apply exited ${first.status}, expected 0`);
  for (const f of l.files) {
    if (!existsSync(f.path)) {
      problems.push(`file missing: ${JSON.stringify(f.path)}`);
      continue;
    }
    const got = readFileSync(f.path);
    if (!got.equals(f.bytes)) {
      problems.push(`file ${JSON.stringify(f.path)}: bytes differ\n  expected ${f.bytes.toString("hex")}\n  got      ${got.toString("hex")}`);
    }
  }
  for (const k of l.links) {
    let got: Buffer | undefined;
    try {
      if (lstatSync(k.path).isSymbolicLink()) got = readlinkSync(k.path, { encoding: "buffer" });
    } catch {
      got = undefined;
    }
    if (got === undefined) problems.push(`link missing or not a link: ${JSON.stringify(k.path)}`);
    else if (!got.equals(k.target)) {
      problems.push(`link ${JSON.stringify(k.path)}: target differs\n  expected ${k.target.toString("hex")}\n  got      ${got.toString("hex")}`);
    }
  }

  if (problems.length === 0) {
    const second = await run(shell, bundle, [], work);
    runs.push(showRun("second apply", second));
    if (second.status !== 0) problems.push(`second apply exited ${second.status}, expected 0`);
    if (/^changed\s/m.test(second.stdout)) problems.push("second apply reported a change");
    const check = await run(shell, bundle, ["--check"], work);
    runs.push(showRun("--check after apply", check));
    if (check.status !== 0) problems.push(`--check after apply exited ${check.status}, expected 0`);
    if (/^would change\s/m.test(check.stdout)) problems.push("--check after apply reported a pending change");
  }

  if (existsSync(CANARY)) problems.push(`CANARY EXECUTED: ${CANARY} exists (user data ran as code)`);
  if (existsSync(join(work, REL_CANARY))) problems.push(`CANARY EXECUTED: ${join(work, REL_CANARY)} exists (user data ran as code)`);
  if (problems.length === 0) return undefined;
  return [`shell: ${shell.name}`, `bundle: ${bundle}`, `work dir: ${work}`, ...problems.map((p) => `- ${p}`), ...runs].join("\n");
}

const shells = availableShells();

describe("quoting: user data arrives byte-exact and never executes", () => {
  it.skipIf(shells.length === 0)(
    `files, paths and link targets survive every shell (${shells.map((s) => s.name).join(", ")})`,
    async () => {
      let counter = 0;
      let firstFailureAt: number | undefined;
      await fc.assert(
        fc.asyncProperty(caseArb, async (c) => {
          // Past the budget, every further shrink candidate "passes": fast-check stops and reports the smallest failure so far.
          if (firstFailureAt !== undefined && Date.now() - firstFailureAt > SHRINK_BUDGET_MS) return;
          const caseDir = join(SUITE_ROOT, `case-${String(++counter).padStart(4, "0")}`);
          mkdirSync(caseDir);
          const results = await Promise.all(shells.map((shell) => checkShell(shell, c, caseDir)));
          const failures = results.filter((r): r is string => r !== undefined);
          if (existsSync(CANARY)) rmSync(CANARY); // one canary must not poison the shrunk cases
          if (failures.length > 0) {
            firstFailureAt ??= Date.now();
            keptFailures++;
            throw new Error(`case kept in ${caseDir}\n${describeCase(c)}\n\n${failures.join("\n\n")}`);
          }
          rmSync(caseDir, { recursive: true, force: true });
        }),
        { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }), endOnFailure: false, examples: EXAMPLES.map((c) => [c] as [Case]) },
      );
      expect(existsSync(CANARY)).toBe(false);
    },
    600_000,
  );
});
