// The ledger table the emitter writes into every bundle (runtime/ledger.sh
// reads it): one line per resource with its key, claim, flags and how it is
// removed; fields escaped so that no value ever spans lines or becomes code.
import { describe, expect, it } from "vitest";
import { Command, Directory, File, Symlink, environment } from "../../model/index.js";
import { compileValue } from "../support/inmemory.js";

const table = (bundle: string) => /\ndepc_ledger\(\) \{\n {2}cat <<'DEPC_EOF'\n([\s\S]*?)\nDEPC_EOF\n\}/.exec(bundle)?.[1]?.split("\n");

describe("the bundle's ledger table", () => {
  it("names each resource's key, claim, flags and remove call; escapes backslash, tab and newline", () => {
    const bundle = compileValue(
      environment({
        hosts: {
          h: [
            Directory({ path: "/srv/a b" }),
            File({ path: "/srv/a b/x\\y.txt", content: "x", keep: true }),
            Symlink({ path: "/srv/l", target: "/srv/a b" }),
            Command({ name: "reg", command: ["true"], creates: "/srv/r", cwd: "/srv", env: { B: "2", A: "1\t2" }, undo: ["sh", "-c", "echo a\nb", "back\\slash"] }),
            Command({ name: "plain", command: ["true"], creates: "/srv/p" }),
          ],
        },
      }),
      "prod",
    ).bundles!.get("h")!;
    expect(bundle).toContain("\nDEPC_REMOVALS=remove\n");
    expect(table(bundle)).toEqual([
      "directory\t/srv/a b\t/srv/a b\tifnew\tdepc_directory_remove\t/srv/a b",
      "file\t/srv/a b/x\\\\y.txt\t/srv/a b/x\\\\y.txt\tkeep\tdepc_file_remove\t/srv/a b/x\\\\y.txt\t0",
      "symlink\t/srv/l\t/srv/l\t-\tdepc_symlink_remove\t/srv/l",
      'command\treg\t-\t-\tdepc_command_remove\tsh -c "echo a\\\\nb" "back\\\\\\\\slash"\t/srv\t2\tA=1\\t2\tB=2\tsh\t-c\techo a\\nb\tback\\\\slash',
      "command\tplain\t-\t-\t-",
    ]);
    // Every kind's remove function is in every bundle: the host's old ledger may name any kind.
    for (const fn of ["depc_file_remove", "depc_service_remove", "depc_supervisor_program_remove", "depc_virtualenv_remove", "depc_buildout_remove", "depc_command_remove"]) {
      expect(bundle).toContain(`\n${fn}() {\n`);
    }
  });

  it("an environment with removal: report says so in every bundle", () => {
    const bundle = compileValue(environment({ removal: "report", hosts: { h: [File({ path: "/x", content: "" })] } }), "prod").bundles!.get("h")!;
    expect(bundle).toContain("\nDEPC_REMOVALS=report\n");
  });
});
