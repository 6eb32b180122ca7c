/**
 * Collected kinds (KindDefinition.collect, runtime/collect.sh) under every
 * shell of the matrix, with a test-only kind (`collected` in bundle.ts):
 * one call per group, emitted at its first member, and each member its own
 * line, count, failure and owed reactions.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { availableShells } from "../support/shells.js";
import { buildBundle, shq, type BundleSpec } from "./bundle.js";
import { hostRoot, statusLines, writeBundle } from "./helpers.js";

/**
 * The group's function: logs each call's keys to ROOT/calls; a key with a
 * file ROOT/want-KEY changes ("made KEY", --check "would make") and creates
 * ROOT/made-KEY; ROOT/fail-KEY makes that member fail with the file's lines
 * as output; ROOT/fail-all makes the whole call fail.
 */
function groupFunction(root: string): string {
  const r = shq(root);
  return `depc_test_group() {
  local n k
  printf '%s\\n' "$*" >>${r}/calls
  if [ -f ${r}/fail-all ]; then
    depc_error="the tool is missing"
    return 1
  fi
  n=0
  for k in "$@"; do
    n=$((n + 1))
    if [ -f ${r}/fail-"$k" ]; then
      depc_member_fail "$n" "cannot make $k" ${r}/fail-"$k"
    elif [ -f ${r}/want-"$k" ] && [ ! -f ${r}/made-"$k" ]; then
      [ "$depc_mode" = check ] || : >${r}/made-"$k"
      depc_member_change "$n" made "made $k"
    fi
  done
  return 0
}`;
}

function spec(root: string, extra: Partial<BundleSpec> = {}): BundleSpec {
  return {
    resources: [
      { kind: "collected", key: "a" },
      { kind: "file", path: `${root}/between`, content: "x\n" },
      { kind: "collected", key: "b" },
      { kind: "collected", key: "c", group: "other" },
      { kind: "collected", key: "d" },
    ],
    extra: groupFunction(root),
    ...extra,
  };
}

describe("the emitted bundle", () => {
  it("has one call per group at its first member, and a step per member naming the group and its ordinal", () => {
    const bundle = buildBundle(spec("/r"));
    const body = bundle.slice(bundle.indexOf("depc_resources() {"), bundle.indexOf("\n}\n", bundle.indexOf("depc_resources() {")));
    expect(body).toBe(
      [
        "depc_resources() {",
        "  # [1] collected a (test.ts:1:1), with [3] [5] in one call",
        "  depc_collect '1 3 5' depc_test_group 'a' 'b' 'd'",
        "  depc_step 1 collected 'a' depc_collected 1 1",
        "  # [2] file /r/between (test.ts:2:1)",
        "  depc_step 2 file '/r/between' depc_file '/r/between' '0644' '' '' '73cb3858a687a8494ca3323053016282f3dad39d42cf62ca4e79dda2aac7d9ac' depc_content_2",
        "  # [3] collected b (test.ts:3:1), in the call of [1]",
        "  depc_step 3 collected 'b' depc_collected 1 2",
        "  # [4] collected c (test.ts:4:1), with no other in one call",
        "  depc_collect '4' depc_test_group 'c'",
        "  depc_step 4 collected 'c' depc_collected 4 1",
        "  # [5] collected d (test.ts:5:1), in the call of [1]",
        "  depc_step 5 collected 'd' depc_collected 1 3",
      ].join("\n"),
    );
  });
});

describe.each(availableShells())("collected kinds under $name", (shell) => {
  it("runs each group's call once; each member reports its own change, --check says would; a second run is ok", () => {
    const root = hostRoot("collect");
    for (const k of ["a", "d"]) writeFileSync(join(root, `want-${k}`), "");
    const bundle = writeBundle(root, spec(root));

    const check = bundle.run(shell, ["--check"]);
    expect(check.status).toBe(2);
    expect(statusLines(check.stdout)).toEqual([
      "would change  collected a (made a)",
      `would change  file ${root}/between (created)`,
      "ok            collected b",
      "ok            collected c",
      "would change  collected d (made d)",
    ]);
    expect(existsSync(join(root, "made-a"))).toBe(false);

    const apply = bundle.run(shell);
    expect(apply.stderr).toBe("");
    expect(apply.status).toBe(0);
    expect(statusLines(apply.stdout)).toEqual([
      "changed       collected a (made a)",
      `changed       file ${root}/between (created)`,
      "ok            collected b",
      "ok            collected c",
      "changed       collected d (made d)",
    ]);
    expect(apply.stdout).toContain(": 5 resources: 3 changed, 2 ok, 0 failed\n");
    // check: two calls (a b d, c); apply: two more.
    expect(readFileSync(join(root, "calls"), "utf8")).toBe("a b d\nc\na b d\nc\n");

    const again = bundle.run(shell);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain(": 5 resources: 0 changed, 5 ok, 0 failed\n");
  });

  it("a member's failure is that member's failed line with the output as lines; apply stops there", () => {
    const root = hostRoot("collect-fail");
    writeFileSync(join(root, "want-a"), "");
    writeFileSync(join(root, "fail-b"), "E: first line\nsecond \x1b[31mline\n");
    const bundle = writeBundle(root, spec(root));
    const apply = bundle.run(shell);
    expect(apply.status).toBe(1);
    expect(apply.stdout.split("\n").slice(0, 5)).toEqual([
      "changed       collected a (made a)",
      `changed       file ${root}/between (created)`,
      "failed        collected b: cannot make b:",
      "    E: first line",
      "    second \x1b[31mline",
    ]);
    expect(apply.stdout).toContain(": 5 resources: 2 changed, 0 ok, 1 failed, 2 not run\n");
    // stderr: the one-line form, with the output's telling line (core.sh's depc_fail).
    expect(apply.stderr).toContain("collected b: cannot make b: second \x1b[31mline\n");

    const check = bundle.run(shell, ["--check"]);
    expect(check.status).toBe(1);
    expect(statusLines(check.stdout)).toEqual(["ok            collected a", "ok            file " + `${root}/between`, "failed        collected b: cannot make b:", "ok            collected c", "ok            collected d"]);
  });

  it("a call that fails as a whole fails its members (apply stops at the first)", () => {
    const root = hostRoot("collect-all");
    writeFileSync(join(root, "fail-all"), "");
    const bundle = writeBundle(root, spec(root));
    const check = bundle.run(shell, ["--check"]);
    expect(check.status).toBe(1);
    expect(statusLines(check.stdout)).toEqual([
      "failed        collected a: the tool is missing",
      `would change  file ${root}/between (created)`,
      "failed        collected b: the tool is missing",
      "failed        collected c: the tool is missing",
      "failed        collected d: the tool is missing",
    ]);
    const apply = bundle.run(shell);
    expect(apply.status).toBe(1);
    expect(statusLines(apply.stdout)).toEqual(["failed        collected a: the tool is missing"]);
    expect(apply.stdout).toContain(": 5 resources: 0 changed, 0 ok, 1 failed, 4 not run\n");
  });

  it("keeps owed only the reactions of members that changed, recorded before the call ran", () => {
    const root = hostRoot("collect-owe");
    writeFileSync(join(root, "want-d"), "");
    // The call itself records what is owed at the moment it runs.
    const extra = groupFunction(root).replace("  n=0\n", `  [ "$1" != a ] || cat "$depc_state_dir/owed" >${shq(root)}/owed-during\n  n=0\n`);
    const bundle = writeBundle(root, spec(root, { extra, notifications: { 0: ["command:after-a"], 2: ["command:after-b", "command:shared"], 4: ["command:after-d", "command:shared"] } }));
    const apply = bundle.run(shell);
    expect(apply.status).toBe(0);
    expect(readFileSync(join(root, "owed-during"), "utf8").split("\n").filter(Boolean).sort()).toEqual(["command:after-a", "command:after-b", "command:after-d", "command:shared"]);
    expect(readFileSync(join(bundle.state, "owed"), "utf8").split("\n").filter(Boolean).sort()).toEqual(["command:after-d", "command:shared"]);
  });
});
