import { diagnostic, show } from "../../compiler/diagnostics/diagnostic.js";
import { checkPath, wellFormed } from "../checks.js";
import { checkFlag, checkId, checkPrincipalName } from "../group/compile.js";
import type { KindDefinition } from "../kind.js";

export const userKind: KindDefinition = {
  kind: "user",
  folder: "user",
  claims: "user",
  container: false,
  runtime: {
    file: "user.sh",
    calls: [{ fn: "depc_user", params: ["name", "system", "createhome", "managed", "home", "shell", "uid", "group", "groups", "comment"] }],
  },
  reacts: false,
  provides: "user",
  // Its primary and supplementary groups: a Group of the host named there is made first.
  references: { group: "group", groups: "group" },
  remove: { fn: "depc_user_remove", params: ["name"] },
  diagnostics: ["invalidPrincipalName", "principalIdRange", "userOption"],
  check(model, report) {
    const { props, site } = model;
    const name = checkPrincipalName("User", props.name, site, report);
    if (name === undefined) return undefined;
    let ok = true;
    const bad = (field: string, problem: string) => {
      ok = false;
      report(diagnostic("userOption", { name: JSON.stringify(name), field, problem }, site));
    };
    const managed: string[] = [];
    const system = checkFlag(props.system, true, (found) => bad("system", `must be true or false, not ${found}`));
    const createHome = checkFlag(props.createHome, false, (found) => bad("createHome", `must be true or false, not ${found}`));
    let home = "";
    if (props.home !== undefined) {
      const checked = checkPath("user", props.home, site, report);
      if (checked === undefined) ok = false;
      else if (/[:\n]/.test(checked)) bad("home", `${show(checked)} cannot hold ':' (the passwd field separator)`);
      else {
        home = checked;
        managed.push("home");
      }
    }
    let shell = "";
    if (props.shell !== undefined) {
      if (typeof props.shell !== "string" || !/^\/[^:\u0000-\u001f\u007f]*$/.test(props.shell) || !wellFormed(props.shell)) bad("shell", `${show(props.shell)} must be an absolute path without ':' or control characters`);
      else {
        shell = props.shell;
        managed.push("shell");
      }
    }
    const uid = checkId("User", name, "uid", props.uid, site, report);
    if (uid === undefined) ok = false;
    else if (uid !== "") managed.push("uid");
    let group = "";
    if (props.group !== undefined) {
      if (typeof props.group === "number") {
        const gid = checkId("User", name, "group", props.group, site, report);
        if (gid === undefined) ok = false;
        else {
        group = gid;
        managed.push("group");
      }
      } else if (checkPrincipalName("Group", props.group, site, () => bad("group", `${show(props.group)} is not a group name or gid`)) !== undefined) {
        {
        group = props.group as string;
        managed.push("group");
      }
      }
    }
    let groups = "";
    if (props.groups !== undefined) {
      if (!Array.isArray(props.groups)) bad("groups", `must be a list of group names, not ${show(props.groups)}`);
      else {
        const names: string[] = [];
        props.groups.forEach((g: unknown, index: number) => {
          if (checkPrincipalName("Group", g, site, () => bad(`groups[${index}]`, `${show(g)} is not a group name`)) !== undefined && !names.includes(g as string)) names.push(g as string);
        });
        groups = names.sort().join(",");
        managed.push("groups");
      }
    }
    let comment = "";
    if (props.comment !== undefined) {
      if (typeof props.comment !== "string" || /[:\u0000-\u001f\u007f]/.test(props.comment) || !wellFormed(props.comment)) bad("comment", `${show(props.comment)} must be text without ':' or control characters`);
      else {
        comment = props.comment;
        managed.push("comment");
      }
    }
    if (!ok || system === undefined || createHome === undefined || uid === undefined) return undefined;
    return {
      model,
      key: name,
      lowered: {
        call: "depc_user",
        args: { name, system: system ? "1" : "0", createhome: createHome ? "1" : "0", managed: managed.join(","), home, shell, uid, group, groups, comment },
      },
      removal: { args: { name } },
    };
  },
};
