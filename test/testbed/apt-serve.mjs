// Serves one directory read-only over HTTP for the test bed's apt repository (apt.ts).
//
//   node apt-serve.mjs DIR ADDRESS
//
// Listens on ADDRESS at a free port, prints "listening PORT", and exits when its stdin
// closes (the test process ended, however it ended). Only files directly in DIR: a
// flat apt repository has no subdirectories.
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

const [dir, address] = process.argv.slice(2);
const server = createServer((req, res) => {
  // apt's names of .deb files hold '%3a' for an epoch's ':'; the request may or may not escape it.
  const raw = new URL(req.url, 'http://x').pathname.replace(/^\/(\.\/)?/, '');
  let name = '';
  let size = -1;
  for (const candidate of [safeDecode(raw), raw]) {
    if (size >= 0 || !/^[A-Za-z0-9][A-Za-z0-9._+~%-]*$/.test(candidate)) continue;
    try {
      const st = statSync(join(dir, candidate));
      if (st.isFile()) [name, size] = [candidate, st.size];
    } catch {
      // missing: 404 below
    }
  }
  if (size < 0 || (req.method !== 'GET' && req.method !== 'HEAD')) {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
  if (req.method === 'HEAD') res.end();
  else createReadStream(join(dir, name)).pipe(res);
});
function safeDecode(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

server.listen(0, address, () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
