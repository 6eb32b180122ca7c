import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/build.js";
import { repoRoot } from "../support/project.js";

// examples/django builds (placeholder secrets: no key needed). Deployed for real by
// test/e2e/django.test.ts; here what the build decides: hosts, order, waves.
const build = (env: string) => compile(`examples/django/env/${env}`, { cwd: repoRoot, cacheDir: false, placeholderSecrets: true });

describe("examples/django builds", () => {
  it("prod: db first, then web1 (it migrates), web2 after it, lb last", async () => {
    const result = await build("prod");
    expect(result.diagnostics).toEqual([]);
    expect(result.manifest!.hosts.map((h) => [h.name, h.after])).toEqual([
      ["lb", ["web1", "web2"]],
      ["web1", ["db"]],
      ["web2", ["web1", "db"]],
      ["db", []],
    ]);
    const web2 = result.environment!.hosts.find((h) => h.name === "web2")!;
    expect(web2.resources.some((r) => r.kind === "command" && r.props.name === "migrate")).toBe(false);
  });

  it("staging: PostgreSQL and the site on one host; every Package in one install before what needs it", async () => {
    // The site requires the database on the same host (django after postgres) and both have
    // Packages: collected into one call, that was a dependency cycle.
    const result = await build("staging");
    expect(result.diagnostics).toEqual([]);
    const bundle = result.bundles!.get("staging")!;
    const steps = [...bundle.matchAll(/^ {2}# \[(\d+)\] (\S+) (\S+)/gm)].map((m) => `${m[2]} ${m[3]}`);
    const packages = steps.filter((s) => s.startsWith("package "));
    expect(packages.sort()).toEqual(["package cron", "package gunicorn", "package logrotate", "package nginx", "package postgresql", "package python3-django", "package python3-psycopg2", "package supervisor"]);
    // One call for all of them, before the database is configured and before the site's migrations.
    expect(bundle.match(/^ {2}depc_collect .* depc_package /gm)).toHaveLength(1);
    const at = (step: string) => steps.indexOf(step);
    for (const p of packages) {
      expect(at(p)).toBeLessThan(at("file /etc/postgresql/15/main/pg_hba.conf"));
      expect(at(p)).toBeLessThan(at("command migrate"));
    }
    expect(at("command postgres-database-sprint")).toBeLessThan(at("command migrate"));
  });
});
