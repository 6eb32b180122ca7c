// The smallest useful deployment: a directory, a config file rendered from
// typed values, a static page, and a "current" link, on two hosts.
import { environment } from "depc";
import { site } from "../site.ts";

export default environment({
  hosts: {
    web1: site({ root: "/srv/hello", greeting: "Hello from web1", port: 8080 }),
    web2: { address: "web2.example.com", user: "deploy", components: site({ root: "/srv/hello", greeting: "Hello from web2", port: 8081 }) },
  },
});
