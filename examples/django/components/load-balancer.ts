import { component } from "depc";
import { webBackend } from "./keys.ts";
import { nginx } from "./nginx.ts";

/** nginx in front of every web host of the environment, round robin. */
export const loadBalancer = component({
  name: "loadBalancer",
  settings: {
    /** The site's name: nginx's `server_name` (Django's ALLOWED_HOSTS must match it). */
    serverName: "sprint.example.com",
    port: 80,
  },
  build(s, ctx) {
    // Every web host, in host order: a new one changes the config, and nginx reloads.
    const backends = ctx.require(webBackend);
    nginx(
      [
        "upstream sprint {",
        ...backends.map((b) => `    server ${b.host}:${b.port};  # ${b.name}`),
        "}",
        "server {",
        `    listen ${s.port} default_server;`,
        `    server_name ${s.serverName};`,
        "    location / {",
        "        proxy_pass http://sprint;",
        "        proxy_set_header Host $host;",
        "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "    }",
        "}",
      ].join("\n"),
    );
  },
});
