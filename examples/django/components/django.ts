import {
  Command,
  component,
  CronJob,
  Directory,
  File,
  fromDirectory,
  Group,
  Logrotate,
  Package,
  Program,
  secret,
  secretText,
  Supervisor,
  Tree,
  User,
} from "depc";
import { database, schema, webBackend } from "./keys.ts";
import { nginx } from "./nginx.ts";

/**
 * The sprint site on a web host: Django and gunicorn from the OS packages, the
 * project's code (../app) shipped as a `Tree`, its settings with the secrets,
 * migrations and collectstatic when the code changes, gunicorn under the
 * system's supervisord as the service user, nginx serving the static files and
 * proxying the rest to gunicorn, a cron job clearing expired sessions and log
 * rotation for the site's log.
 */
export const django = component({
  name: "django",
  settings: {
    /** Where the site lives: `app/` (the code), `static/` (collected static files). */
    root: "/srv/sprint",
    /** The service user gunicorn, the migrations and the cron job run as. */
    user: "sprint",
    /** gunicorn's port on 127.0.0.1 (nginx on this host proxies to it). */
    gunicornPort: 8000,
    workers: 2,
    /** nginx's port on this host: what the load balancer (or the world, on a single host) talks to. */
    port: 80,
    /** Host names Django answers for (ALLOWED_HOSTS). */
    allowedHosts: ["sprint.example.com"],
    /**
     * Run the migrations on this host. Exactly one web host of an environment
     * should: the others are deployed after it (they require its `schema`).
     */
    migrate: true,
    /** The nightly `clearsessions` cron job. */
    clearSessions: true,
    secretKey: secret("django.secret_key"),
    dbPassword: secret("db.password"),
  },
  build(s, ctx) {
    const db = ctx.requireOne(database);
    // Optional: a single host (staging) has no load balancer, and nobody waits for its schema.
    ctx.provide(webBackend, { name: ctx.host.name, host: ctx.host.address, port: s.port }, { optional: true });
    if (!s.migrate) ctx.requireOne(schema);

    // What the site runs on, from the OS packages; what needs a package is ordered after it.
    const python = [Package({ name: "python3-django" }), Package({ name: "python3-psycopg2" })];
    const gunicorn = Package({ name: "gunicorn" });
    const supervisor = Package({ name: "supervisor" });
    const cron = Package({ name: "cron" });
    const logrotate = Package({ name: "logrotate" });

    const group = Group({ name: s.user });
    User({ name: s.user, group: s.user, home: s.root, createHome: false, shell: "/usr/sbin/nologin", comment: "sprint site" });
    const app = `${s.root}/app`;
    const ini = "/etc/sprint/sprint.ini";
    const log = "/var/log/sprint";
    // Python never writes __pycache__ into the shipped tree (the Tree would remove it again).
    const env = { SPRINT_SETTINGS: ini, PYTHONDONTWRITEBYTECODE: "1" };

    Directory({ path: s.root });
    // The code, byte for byte, owned by root: the service user reads it and cannot change it.
    const code = Tree({ path: app, source: fromDirectory("../app"), exclude: ["__pycache__"] });
    Directory({ path: `${s.root}/static`, owner: s.user, group: s.user });
    Directory({ path: log, owner: s.user, group: s.user, mode: 0o750 });
    Directory({ path: "/etc/sprint" });
    const settings = File({
      path: ini,
      owner: "root",
      group: s.user,
      mode: 0o640,
      content: secretText`[site]
secret_key = ${s.secretKey}
allowed_hosts = ${s.allowedHosts.join(" ")}
static_root = ${s.root}/static
log_file = ${log}/sprint.log

[database]
name = ${db.name}
user = ${db.user}
password = ${s.dbPassword}
host = ${db.host}
port = ${db.port}
`,
      after: [group],
    });

    // manage.py as the service user (its log file stays the user's), in the code's directory.
    const manage = (...args: [string, ...string[]]) => ["runuser", "-u", s.user, "--", "python3", "manage.py", ...args] as [string, ...string[]];
    // Migrations when the code or the settings (the database) changed; static files when the code did.
    const migrations = s.migrate ? [Command({ name: "migrate", command: manage("migrate", "--noinput"), cwd: app, env, whenChanged: [code, settings], after: python })] : [];
    if (s.migrate) ctx.provide(schema, { host: ctx.host.name }, { optional: true });
    const statics = Command({ name: "collectstatic", command: manage("collectstatic", "--noinput"), cwd: app, env, whenChanged: [code], after: python });

    // gunicorn under the system's supervisord, "cold": stopped before the code or the
    // settings change, started again after (with the migrations done), so it never
    // serves a half-updated tree; once per deployment that changes anything.
    const supervisord = Supervisor({ flavour: "system", after: [supervisor] });
    Program({
      supervisor: supervisord,
      name: "sprint",
      command: ["/usr/bin/gunicorn", "--bind", `127.0.0.1:${s.gunicornPort}`, "--workers", String(s.workers), "sprint.wsgi"],
      directory: app,
      user: s.user,
      environment: env,
      stopasgroup: true,
      cold: true,
      whenChanged: [code, settings],
      after: [gunicorn, ...migrations, statics],
    });

    nginx(
      [
        "server {",
        `    listen ${s.port} default_server;`,
        `    location /static/ { alias ${s.root}/static/; }`,
        "    location / {",
        `        proxy_pass http://127.0.0.1:${s.gunicornPort};`,
        "        proxy_set_header Host $host;",
        "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "    }",
        "}",
      ].join("\n"),
    );

    if (s.clearSessions) {
      CronJob({
        name: "sprint-clearsessions",
        schedule: "17 3 * * *",
        user: s.user,
        command: `cd ${app} && SPRINT_SETTINGS=${ini} PYTHONDONTWRITEBYTECODE=1 python3 manage.py clearsessions`,
        after: [cron],
      });
    }
    // copytruncate: gunicorn's workers keep the log open; no signal needed.
    Logrotate({ name: "sprint", paths: [`${log}/*.log`], frequency: "daily", rotate: 14, compress: true, copytruncate: true, su: [s.user, s.user], after: [logrotate] });
  },
});
