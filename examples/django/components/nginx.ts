import { Command, File, Package, type Resource } from "depc";

/**
 * nginx from the OS package with a main config that depc owns whole (no
 * `sites-enabled/default` to remove), and a reload when that config changes.
 * `server` is the text of the `http { }` block's own part: upstreams and servers.
 * Call it inside a component's build; it declares its resources there.
 */
export function nginx(server: string): { pkg: Resource; config: Resource } {
  const pkg = Package({ name: "nginx" });
  const config = File({
    path: "/etc/nginx/nginx.conf",
    content: [
      "# Written by depc (examples/django): the whole nginx config.",
      "user www-data;",
      "worker_processes auto;",
      "pid /run/nginx.pid;",
      "events { worker_connections 768; }",
      "http {",
      "    include /etc/nginx/mime.types;",
      "    default_type application/octet-stream;",
      "    sendfile on;",
      "    access_log /var/log/nginx/access.log;",
      "    error_log /var/log/nginx/error.log;",
      "",
      server.replace(/^(?=.)/gm, "    ").trimEnd(),
      "}",
      "",
    ].join("\n"),
    // The package puts its own nginx.conf in place first (a dpkg conffile), then this replaces it.
    after: [pkg],
  });
  // The package's own nginx.service: a reload (graceful) when the config changed; `nginx -t`
  // runs first, so a broken config fails the deployment and leaves the old one serving.
  Command({ name: "nginx-reload", command: ["sh", "-c", "nginx -t -q && systemctl reload-or-restart nginx"], whenChanged: [config] });
  return { pkg, config };
}
