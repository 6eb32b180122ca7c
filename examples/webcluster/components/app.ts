import { component, Directory, File, Symlink } from "depc";
import { appBackend, database } from "./keys.ts";

export const app = component({
  name: "app",
  settings: {
    port: 8080,
    workers: 2,
    root: "/srv/webapp",
    release: "2026.11.1",
  },
  build(s, ctx) {
    const db = ctx.requireOne(database);
    ctx.provide(appBackend, { name: ctx.host.name, host: ctx.host.address, port: s.port });
    const release = `${s.root}/releases/${s.release}`;
    Directory({ path: s.root });
    Directory({ path: release });
    File({
      path: `${release}/app.ini`,
      mode: 0o640,
      content: [
        "[server]",
        `port = ${s.port}`,
        `workers = ${s.workers}`,
        "",
        "[database]",
        `url = postgresql://${db.user}@${db.host}:${db.port}/${db.name}`,
        "",
      ].join("\n"),
    });
    Symlink({ path: `${s.root}/current`, target: `releases/${s.release}` });
  },
});
