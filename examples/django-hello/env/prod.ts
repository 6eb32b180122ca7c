// Production: two hosts; web2 runs the app under systemd instead of supervisord.
import { environment } from "depc";
import { hello } from "../components/hello.ts";

export default environment({
  hosts: {
    web1: { address: "web1.example.com", components: [hello] },
    web2: { address: "web2.example.com", components: [hello.with({ runner: "systemd" })] },
  },
  settings: {
    hello: { bind: "0.0.0.0", greeting: "Hello from production" },
  },
});
