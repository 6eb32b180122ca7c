// Development: this machine, as whoever runs the bundle; files in /tmp.
import { environment } from "depc";
import { hello } from "../components/hello.ts";

export default environment({
  hosts: {
    localhost: [hello],
  },
  settings: {
    hello: { root: "/tmp/depc-django-hello", port: 8765, greeting: "Hello from dev" },
  },
});
