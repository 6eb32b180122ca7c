import { Directory, File, fromFile, Program, Service, Supervisor, VirtualEnv, component, template } from "depc";

/** How the app is kept running. */
export type Runner = "supervisor" | "systemd";

const ini = (v: { greeting: string; bind: string; port: number }) =>
  `[hello]\ngreeting = ${v.greeting}\nbind = ${v.bind}\nport = ${v.port}\n`;

/**
 * The hello WSGI app: its code, its settings file, a virtualenv for its
 * interpreter, and a supervisor program or a systemd service running it.
 * The process restarts when the code, the settings or the virtualenv change.
 */
export const hello = component({
  name: "hello",
  settings: {
    /** Where everything lives. */
    root: "/srv/hello",
    /** The address and port the app serves on. */
    bind: "127.0.0.1",
    port: 8080,
    /** What the app says. */
    greeting: "Hello, world!",
    /** The Python that makes the virtualenv. */
    python: "python3",
    runner: "supervisor" as Runner,
  },
  build(s) {
    Directory({ path: s.root });
    Directory({ path: `${s.root}/src` });
    const code = File({ path: `${s.root}/src/hello_wsgi.py`, content: fromFile("../app/hello_wsgi.py") });
    const settings = File({
      path: `${s.root}/hello.ini`,
      mode: 0o640,
      content: template(ini, { greeting: s.greeting, bind: s.bind, port: s.port }),
    });
    const venv = VirtualEnv({ path: `${s.root}/venv`, python: s.python });
    const run = {
      command: [`${s.root}/venv/bin/python`, `${s.root}/src/hello_wsgi.py`] as [string, ...string[]],
      environment: { HELLO_SETTINGS: `${s.root}/hello.ini` },
      whenChanged: [code, settings, venv],
    };
    if (s.runner === "supervisor") {
      // A supervisord of the deployment's own, run as the deploying user (no root needed).
      const supervisord = Supervisor({ flavour: "user", base: `${s.root}/supervisor` });
      Program({ supervisor: supervisord, name: "hello", directory: `${s.root}/src`, ...run });
    } else {
      Service({
        name: "hello",
        description: "hello WSGI app (deployed by depc)",
        execStart: run.command,
        environment: run.environment,
        workingDirectory: `${s.root}/src`,
        whenChanged: run.whenChanged,
      });
    }
  },
});
