import { Command, component, File, Package, secret } from "depc";
import { database } from "./keys.ts";
import { postgresDatabase } from "./pg-database.ts";

/** PostgreSQL from the OS package, reachable by the web hosts, with the site's role and database. */
export const postgres = component({
  name: "postgres",
  settings: {
    /** Major version of the OS package (bookworm: 15); decides the config directory. */
    version: 15,
    port: 5432,
    database: "sprint",
    user: "sprint",
    /** The role's password: a depc secret (`depc secrets edit prod`). */
    password: secret("db.password"),
  },
  build(s, ctx) {
    ctx.provide(database, { host: ctx.host.address, port: s.port, name: s.database, user: s.user });
    const pkg = Package({ name: "postgresql" });
    const etc = `/etc/postgresql/${s.version}/main`;
    const conf = File({ path: `${etc}/conf.d/sprint.conf`, content: `listen_addresses = '*'\nport = ${s.port}\n`, after: [pkg] });
    // The whole pg_hba.conf: local superuser by peer, the site's role with a password from the hosts'
    // own subnets (samenet: no list of web hosts here, which would make db wait for them).
    const hba = File({
      path: `${etc}/pg_hba.conf`,
      owner: "postgres",
      group: "postgres",
      mode: 0o640,
      content: [
        "# Written by depc (examples/django).",
        "local   all             postgres                                peer",
        "local   all             all                                     peer",
        "host    all             all             127.0.0.1/32            scram-sha-256",
        `host    ${s.database}    ${s.user}    samenet    scram-sha-256`,
        "",
      ].join("\n"),
      after: [pkg],
    });
    // listen_addresses needs a restart, not a reload; only when a config file changed.
    const restart = Command({ name: "postgresql-restart", command: ["systemctl", "restart", `postgresql@${s.version}-main`], whenChanged: [conf, hba] });
    postgresDatabase({ name: s.database, owner: s.user, password: s.password, after: [restart] });
  },
});
