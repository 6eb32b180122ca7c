// DEPC_TRACE=1: the critical path of a deploy as `+0.123s event` lines on
// stderr, in seconds since the process started (performance's time origin),
// to find where a deploy's time goes (issue 11's figures). Off (the default),
// trace() is an empty function: nothing is formatted.
//
// Events name hosts (from the manifest: plain names) and depc's own steps,
// never bytes from a host.

const enabled = process.env.DEPC_TRACE === "1";

const write = (event: string) => process.stderr.write(`+${(performance.now() / 1000).toFixed(3)}s ${event}\n`);

/** Writes one trace line when DEPC_TRACE=1. */
export const trace: (event: string) => void = enabled ? write : () => {};

/** Whether DEPC_TRACE=1 (for events whose text costs something to make). */
export const tracing = enabled;

if (enabled) {
  // Node's own start, as offsets from the same origin: the part before any of depc's code ran.
  const t = performance.nodeTiming;
  process.stderr.write(`+${(t.bootstrapComplete / 1000).toFixed(3)}s node bootstrapped (V8 started +${(t.v8Start / 1000).toFixed(3)}s)\n`);
  write("deploy commands loaded");
  process.on("exit", (code) => write(`exit ${code}`));
}
