// Pull deployment (docs/pull.md): each host runs depc's pull agent, which
// applies the bundles `depc publish` signed into a store. Deploy this once by
// push (`depc deploy examples/pull/env/prod`) to install the agents; from then
// on `depc publish` is enough. The key is the publisher's public key (its
// private half signs manifests: `depc publish --sign-key`).
import { environment, File, PullAgent } from "depc";

const publisherKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKUPKkA7S4XljCDzPcA1io8cjtuwjqmcpRFkm5mmZ2fY publisher@ci";
const store = "https://deploy.example.com/prod/";

// Every five minutes from a systemd timer, each host at a random moment of the five.
const pull = PullAgent({ store, publisherKey });
// A host without systemd: cron every ten minutes; age decrypts bundles that hold secrets.
const pullByCron = PullAgent({ store, publisherKey, scheduler: "cron", every: 600, decrypt: true });

const motd = (text: string) => File({ path: "/etc/motd", content: `${text}\n` });

export default environment({
  hosts: {
    web1: [pull, motd("web1: deployed by pull")],
    db1: [pull, motd("db1: deployed by pull")],
    legacy1: [pullByCron, motd("legacy1: deployed by pull, from cron")],
  },
});
