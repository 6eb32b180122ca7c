import { component, Directory, File } from "depc";
import { database } from "./keys.ts";

export const postgres = component({
  name: "postgres",
  settings: {
    /** Major version; decides the config directory. */
    version: 15,
    port: 5432,
    database: "webapp",
    user: "webapp",
    /** Memory for shared buffers, in MB. */
    sharedBuffersMb: 128,
  },
  build(s, ctx) {
    ctx.provide(database, { host: ctx.host.address, port: s.port, name: s.database, user: s.user });
    const confd = `/etc/postgresql/${s.version}/main/conf.d`;
    Directory({ path: confd });
    File({
      path: `${confd}/depc.conf`,
      content: [`port = ${s.port}`, `listen_addresses = '*'`, `shared_buffers = ${s.sharedBuffersMb}MB`, ""].join("\n"),
    });
  },
});
