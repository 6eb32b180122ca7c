import { component, Directory, File } from "depc";
import { appBackend } from "./keys.ts";

export const haproxy = component({
  name: "haproxy",
  settings: { port: 80, maxconn: 2000 },
  build(s, ctx) {
    // Every app backend in the environment, in host order: the config changes when one is added.
    const backends = ctx.require(appBackend);
    Directory({ path: "/etc/haproxy" });
    File({
      path: "/etc/haproxy/haproxy.cfg",
      content: [
        "global",
        `    maxconn ${s.maxconn}`,
        "",
        "frontend web",
        `    bind *:${s.port}`,
        "    default_backend apps",
        "",
        "backend apps",
        "    balance roundrobin",
        ...backends.map((b) => `    server ${b.name} ${b.host}:${b.port} check`),
        "",
      ].join("\n"),
    });
  },
});
