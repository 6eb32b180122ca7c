// Staging: everything on one host. Its nginx faces the world (no load balancer),
// and the site's database is on the same host.
import { environment } from "depc";
import { django } from "../components/django.ts";
import { postgres } from "../components/postgres.ts";

export default environment({
  hosts: {
    staging: [postgres, django],
  },
  settings: {
    django: { allowedHosts: ["staging.sprint.example.com"] },
  },
});
