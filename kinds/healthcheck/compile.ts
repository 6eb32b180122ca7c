import { diagnostic, show } from "../../compiler/diagnostics/diagnostic.js";
import type { KindDefinition } from "../kind.js";
import { HEALTH_DIAGNOSTICS, checkHealth } from "./probe.js";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export const healthcheckKind: KindDefinition = {
  kind: "healthcheck",
  folder: "healthcheck",
  // Its name: two checks of one host named alike would be one line in reports.
  claims: "health-check",
  container: false,
  runtime: {
    file: "healthcheck.sh",
    calls: [{ fn: "depc_healthcheck", params: ["name", "shown", "health..."] }],
  },
  reacts: false,
  diagnostics: ["invalidHealthCheckName", ...HEALTH_DIAGNOSTICS],
  check(model, report) {
    const { props, site } = model;
    const name = props.name;
    if (typeof name !== "string" || !NAME.test(name)) {
      report(diagnostic("invalidHealthCheckName", { name: show(name) }, site));
      return undefined;
    }
    const health = checkHealth(`HealthCheck ${JSON.stringify(name)}`, props, site, report, ["name", "after", "before", "keep"]);
    if (health === undefined) return undefined;
    return {
      model,
      key: name,
      lowered: { call: "depc_healthcheck", args: { name, shown: health.shown, health: health.words } },
      // A check leaves nothing on the host.
      removal: {},
    };
  },
};
