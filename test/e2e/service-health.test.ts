// End-to-end: a Service's health check and crash-loop detection against real
// systemd (PID 1 in a systemd-nspawn container of the test bed), bundles run
// by the host's /bin/sh (dash) and busybox sh. Issue 11: a `Restart=always`
// service that dies after it started never makes `systemctl start` fail, so
// depc reported it started. Needs root (see test/testbed/README.md): skipped
// with a message elsewhere, a failure in CI.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { environment, Service } from "../../model/index.js";
import { compileValue } from "../support/inmemory.js";
import { Testbed, testbedPrerequisites, type ExecResult } from "../testbed/index.js";

const pre = testbedPrerequisites({ systemd: true });
if (!pre.ok) {
  if (process.env.CI === "true") throw new Error(`test bed prerequisites missing in CI:\n  ${pre.missing.join("\n  ")}\n${pre.howTo}`);
  console.warn(`[service health e2e] skipping: ${pre.missing.join("; ")}.\n${pre.howTo}`);
}

let bed: Testbed;

beforeAll(async () => {
  if (!pre.ok) return;
  bed = await Testbed.start({ hosts: [{ name: "sd", systemd: true }] });
}, 600_000);

afterAll(async () => {
  await bed?.stop();
}, 120_000);

async function run(shell: string, bundle: string, tag: string): Promise<ExecResult> {
  const file = `/root/health-${tag}.sh`;
  const put = await bed.exec("sd", `cat > ${file}`, { input: bundle });
  expect(put.code, put.stderr).toBe(0);
  return bed.exec("sd", `${shell} ${file} --state-dir /root/state-${tag}`);
}

/** Timings and pids vary. */
const plain = (text: string) => text.replace(/ in [0-9]+\.[0-9]s/g, " in Ns").replace(/pid [0-9]+/g, "pid N").replace(/after [0-9]+ restarts/g, "after N restarts");

for (const [tag, shell] of [
  ["dash", "sh"],
  ["busybox", "busybox sh"],
] as const) {
  describe.skipIf(!pre.ok)(`Service health on a real systemd host, bundle run by ${shell}`, () => {
    const bundle = (...services: Parameters<typeof Service>[0][]) => compileValue(environment({ hosts: { sd: services.map((s) => Service(s)) } }), `health-${tag}`).bundles!.get("sd")!;

    it("a Restart=always service that dies 2 s after it starts fails its first run, and the next", async () => {
      const b = bundle({ name: `loop-${tag}`, execStart: ["/bin/sh", "-c", "echo serving; sleep 2; echo 'lost the database'; exit 1"], restart: "always" });
      for (const attempt of [1, 2]) {
        const t0 = Date.now();
        const r = await run(shell, b, tag);
        expect(r.code, `run ${attempt}\n${r.stdout}${r.stderr}`).toBe(1);
        const failed = plain(r.stdout.split("\n").find((l) => l.startsWith("failed"))!);
        expect(failed).toMatch(
          new RegExp(`^failed        service loop-${tag}\\.service: loop-${tag}\\.service did not stay up: it was active as pid N, then [a-z]+ as pid N after N restarts by systemd within 3s; its last journal lines:$`),
        );
        expect(r.stdout).toContain("    lost the database\n");
        expect(Date.now() - t0).toBeLessThan(20_000);
      }
      await bed.exec("sd", `systemctl stop loop-${tag}.service`);
    }, 120_000);

    it("a health check passes after the start (its result on the line); a failing one fails the run with its output", async () => {
      const ok = bundle({ name: `ok-${tag}`, execStart: ["/bin/sh", "-c", "touch /run/ok-ready; exec sleep 1000"], health: { command: ["/bin/sh", "-c", "test -e /run/ok-ready"] }, stableSeconds: 1 });
      const good = await run(shell, ok, `${tag}-ok`);
      expect(good.code, good.stdout + good.stderr).toBe(0);
      expect(plain(good.stdout)).toMatch(new RegExp(`changed       service ok-${tag}\\.service \\(unit created, enable, daemon-reload, start; health passed: \\d+ attempts? in Ns\\)\\n`));

      const bad = bundle({ name: `bad-${tag}`, execStart: ["/bin/sleep", "1000"], health: { command: ["/bin/sh", "-c", "echo 'not ready: no /run/bad-ready' >&2; exit 1"], retries: 2, interval: 0 } });
      const r = await run(shell, bad, `${tag}-bad`);
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(plain(r.stdout)).toContain(
        `failed        service bad-${tag}.service: health check of bad-${tag}.service failed after 2 attempts in Ns: /bin/sh -c "echo 'not ready: no /run/bad-ready' >&2; exit 1" exited with status 1:\n    not ready: no /run/bad-ready\n`,
      );
      // The restart stays owed: the next run restarts and checks again.
      const pid = (await bed.exec("sd", `systemctl show -p MainPID --value bad-${tag}.service`)).stdout.trim();
      const again = await run(shell, bad, `${tag}-bad`);
      expect(again.code).toBe(1);
      expect(again.stdout).toContain(`failed        service bad-${tag}.service: health check of bad-${tag}.service failed after 2 attempts`);
      expect((await bed.exec("sd", `systemctl show -p MainPID --value bad-${tag}.service`)).stdout.trim()).not.toBe(pid);
      await bed.exec("sd", `systemctl stop ok-${tag}.service bad-${tag}.service`);
    }, 120_000);
  });
}
