// Production: a load balancer, two application servers and a database.
import { environment } from "depc";
import { app } from "../components/app.ts";
import { haproxy } from "../components/haproxy.ts";
import { postgres } from "../components/postgres.ts";

export default environment({
  hosts: {
    lb1: { address: "lb1.example.com", components: [haproxy] },
    app1: { address: "app1.example.com", components: [app] },
    app2: { address: "app2.example.com", components: [app.with({ workers: 8 })] },
    db1: { address: "db1.example.com", components: [postgres] },
  },
  settings: {
    app: { workers: 4 },
    postgres: { sharedBuffersMb: 2048 },
  },
});
