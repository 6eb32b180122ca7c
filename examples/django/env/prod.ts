// Production: nginx on lb in front of two web hosts, PostgreSQL on db.
// web1 runs the migrations; web2 is deployed after it (it requires web1's schema).
import { environment } from "depc";
import { django } from "../components/django.ts";
import { loadBalancer } from "../components/load-balancer.ts";
import { postgres } from "../components/postgres.ts";

export default environment({
  hosts: {
    lb: [loadBalancer],
    web1: [django],
    web2: [django.with({ migrate: false })],
    db: [postgres],
  },
  settings: {
    django: { workers: 4 },
  },
});
