// Staging: the same components on two hosts; the app and its database share one.
import { environment } from "depc";
import { app } from "../components/app.ts";
import { haproxy } from "../components/haproxy.ts";
import { postgres } from "../components/postgres.ts";

export default environment({
  hosts: {
    "staging-lb": [haproxy],
    "staging-app": [postgres, app],
  },
  settings: {
    app: { release: "2026.11.2-rc1" },
  },
});
