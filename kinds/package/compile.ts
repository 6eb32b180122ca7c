import { diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import type { CheckedResource, KindDefinition } from "../kind.js";

/** Debian policy 5.6.1: lower case letters, digits, + - . ; two characters at least; starts alphanumeric. Plus apt's `:ARCH`. */
const NAME = /^[a-z0-9][a-z0-9+.-]+(:[a-z0-9][a-z0-9-]*)?$/;

/** Why `name` is not a Debian package name, or undefined. */
export function packageNameProblem(name: string): string | undefined {
  if (name === "") return "it is empty";
  if (NAME.test(name)) return undefined;
  const [base = "", ...arch] = name.split(":");
  if (arch.length > 1) return "it has more than one ':' (only NAME:ARCH is allowed)";
  if (arch.length === 1 && !/^[a-z0-9][a-z0-9-]*$/.test(arch[0]!)) return `its architecture ${JSON.stringify(arch[0])} is not one (lower case letters, digits and '-')`;
  if (base.length < 2) return "it must have at least two characters";
  if (/[A-Z]/.test(base)) return "it has upper case letters (Debian package names are lower case)";
  if (!/^[a-z0-9]/.test(base)) return "it must start with a lower case letter or a digit";
  const bad = [...base].find((c) => !/[a-z0-9+.-]/.test(c))!;
  return `it contains ${JSON.stringify(bad)} (only lower case letters, digits, '+', '-' and '.' are allowed)`;
}

/** Why `version` is not a Debian version ([epoch:]upstream[-revision], deb-version(7)), or undefined. */
export function packageVersionProblem(version: string): string | undefined {
  if (version === "") return "it is empty (leave version out for any version)";
  const colon = version.indexOf(":");
  const epoch = colon < 0 ? undefined : version.slice(0, colon);
  const rest = colon < 0 ? version : version.slice(colon + 1);
  if (epoch !== undefined && !/^[0-9]+$/.test(epoch)) return `its epoch ${JSON.stringify(epoch)} is not a number`;
  const dash = rest.lastIndexOf("-");
  const upstream = dash < 0 ? rest : rest.slice(0, dash);
  const revision = dash < 0 ? undefined : rest.slice(dash + 1);
  if (revision !== undefined && !/^[A-Za-z0-9+.~]+$/.test(revision)) return `its revision ${JSON.stringify(revision)} may only hold letters, digits, '+', '.' and '~'`;
  if (!/^[0-9]/.test(upstream)) return `its upstream version ${JSON.stringify(upstream)} must start with a digit`;
  const allowed = epoch === undefined ? /^[A-Za-z0-9.+~-]+$/ : /^[A-Za-z0-9.+~:-]+$/;
  if (!allowed.test(upstream)) {
    return `its upstream version ${JSON.stringify(upstream)} may only hold letters, digits, '.', '+', '~'${revision === undefined ? "" : ", '-'"}${epoch === undefined ? "" : " and ':'"}`;
  }
  return undefined;
}

export const packageKind: KindDefinition = {
  kind: "package",
  folder: "package",
  claims: "package",
  container: false,
  runtime: { file: "package.sh", calls: [{ fn: "depc_package", params: ["packages..."] }] },
  reacts: false,
  remove: { fn: "depc_package_remove", params: ["name"] },
  diagnostics: ["packageName", "packageVersion", "packageOption"],
  // One call per host: one query, one install (see compiler/ARCHITECTURE.md, "Collected kinds").
  collect: {
    by: () => "",
    lower: (members: readonly CheckedResource[]) => ({
      call: "depc_package",
      args: { packages: members.flatMap((m) => m.lowered.args.packages as readonly string[]) },
    }),
  },
  check(model, report) {
    const { props, site } = model;
    const name = props.name;
    if (typeof name !== "string") {
      report(diagnostic("packageOption", { name: JSON.stringify(name ?? ""), field: "name", expected: "a string", value: show(name) }, site));
      return undefined;
    }
    const nameProblem = packageNameProblem(name);
    if (nameProblem !== undefined) report(diagnostic("packageName", { name: JSON.stringify(name), problem: nameProblem }, site));
    const version = props.version;
    let versionProblem: string | undefined;
    if (version !== undefined && typeof version !== "string") {
      versionProblem = "type";
      report(diagnostic("packageOption", { name: JSON.stringify(name), field: "version", expected: "a string", value: show(version) }, site));
    } else if (version !== undefined) {
      versionProblem = packageVersionProblem(version);
      if (versionProblem !== undefined) report(diagnostic("packageVersion", { name: JSON.stringify(name), version: JSON.stringify(version), problem: versionProblem }, site));
    }
    if (nameProblem !== undefined || versionProblem !== undefined) return undefined;
    return {
      model,
      key: name,
      lowered: { call: "depc_package", args: { packages: [name, (version as string | undefined) ?? ""] } },
      removal: { args: { name } },
    };
  },
};

function show(value: unknown): string {
  return value === undefined ? "undefined" : typeof value === "string" ? JSON.stringify(value) : typeof value === "object" && value !== null ? (Array.isArray(value) ? "a list" : "an object") : String(value);
}
