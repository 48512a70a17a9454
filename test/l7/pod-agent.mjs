// L7 lab agent, one per network namespace. Arguments: `http=80,8080` (HTTP servers that
// answer `ok <method> <path> from <client address>`), `tcp=443` (TCP servers answering
// `ok`). Reads commands as JSON lines on stdin and answers JSON lines:
//   {id, op:'http', host, port, method, path, headers?, timeoutMs}   → {id, status, body} | {id, error}
//   {id, op:'tcp', host, port, timeoutMs}                             → {id, outcome: allow|reject|deny}
//   {id, op:'dns', server, name, proto:'udp'|'tcp', timeoutMs}        → {id, rcode, addresses} | {id, error}
//   {id, op:'load', host, port, method, path, durationMs, close}      → {id, ok, failed, errors}
import http from 'node:http';
import net from 'node:net';
import dgram from 'node:dgram';
import readline from 'node:readline';

const servers = [];
for (const arg of process.argv.slice(2)) {
  const [kind, list] = arg.split('=');
  for (const port of list.split(',').map(Number)) {
    if (kind === 'http') {
      const s = http.createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          const body = `ok ${req.method} ${req.url} from ${req.socket.remoteAddress}`;
          res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
          res.end(body);
        });
      });
      s.keepAliveTimeout = 65_000;
      servers.push(new Promise((r) => s.listen(port, '0.0.0.0', r)));
    } else if (kind === 'tcp') {
      const s = net.createServer((c) => {
        c.on('error', () => {});
        c.end('ok');
      });
      servers.push(new Promise((r) => s.listen(port, '0.0.0.0', r)));
    }
  }
}
await Promise.all(servers);
process.stdout.write(JSON.stringify({ ready: true }) + '\n');

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });

function request(c, agent) {
  return new Promise((resolve) => {
    const req = http.request({ host: c.host, port: c.port, method: c.method, path: c.path, headers: c.headers ?? {}, agent, timeout: c.timeoutMs ?? 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', (e) => resolve({ error: e.code ?? e.message }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e) => resolve({ error: e.code ?? e.message }));
    req.end(c.method === 'POST' ? '{}' : undefined);
  });
}

function tcp(c) {
  return new Promise((resolve) => {
    const s = net.connect({ host: c.host, port: c.port });
    let data = '';
    const done = (outcome) => {
      clearTimeout(t);
      s.destroy();
      resolve({ outcome });
    };
    const t = setTimeout(() => done('deny'), c.timeoutMs ?? 1000);
    s.on('data', (d) => {
      data += d;
      if (data === 'ok') done('allow');
    });
    s.on('error', (e) => done(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET'].includes(e.code) ? 'reject' : `error ${e.code}`));
  });
}

function dnsQuery(name, id) {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  return Buffer.concat([Buffer.from([id >> 8, id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}

function parseAnswer(buf) {
  const rcode = buf[3] & 15;
  const qd = buf.readUInt16BE(4);
  const an = buf.readUInt16BE(6);
  let o = 12;
  const skipName = () => {
    while (buf[o] !== 0) {
      if ((buf[o] & 0xc0) === 0xc0) {
        o += 2;
        return;
      }
      o += buf[o] + 1;
    }
    o++;
  };
  for (let i = 0; i < qd; i++) {
    skipName();
    o += 4;
  }
  const addresses = [];
  for (let i = 0; i < an; i++) {
    skipName();
    const type = buf.readUInt16BE(o);
    const len = buf.readUInt16BE(o + 8);
    if (type === 1 && len === 4) addresses.push([...buf.subarray(o + 10, o + 14)].join('.'));
    o += 10 + len;
  }
  return { rcode, addresses };
}

function dns(c) {
  const id = Math.floor(Math.random() * 65535);
  const q = dnsQuery(c.name, id);
  return new Promise((resolve) => {
    const t = setTimeout(() => finish({ error: 'timeout' }), c.timeoutMs ?? 2000);
    let finish;
    if (c.proto === 'tcp') {
      const s = net.connect({ host: c.server, port: 53 }, () => s.write(Buffer.concat([Buffer.from([q.length >> 8, q.length & 255]), q])));
      let buf = Buffer.alloc(0);
      finish = (r) => {
        clearTimeout(t);
        s.destroy();
        resolve(r);
      };
      s.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) finish(parseAnswer(buf.subarray(2)));
      });
      s.on('error', (e) => finish({ error: e.code }));
    } else {
      const s = dgram.createSocket('udp4');
      finish = (r) => {
        clearTimeout(t);
        s.close();
        resolve(r);
      };
      s.on('message', (m) => finish(parseAnswer(m)));
      s.on('error', (e) => finish({ error: e.code }));
      s.send(q, 53, c.server);
    }
  });
}

async function load(c) {
  const agent = c.close ? new http.Agent({ keepAlive: false }) : new http.Agent({ keepAlive: true, maxSockets: 1 });
  const end = Date.now() + c.durationMs;
  let ok = 0;
  let failed = 0;
  const errors = {};
  while (Date.now() < end) {
    const r = await request({ ...c, timeoutMs: 5000 }, agent);
    if (r.status === 200) ok++;
    else {
      failed++;
      const key = r.error ?? `status ${r.status}`;
      errors[key] = (errors[key] ?? 0) + 1;
    }
  }
  agent.destroy();
  return { ok, failed, errors };
}

const ops = { http: (c) => request(c, c.keepAlive ? keepAlive : undefined), tcp, dns, load };
readline.createInterface({ input: process.stdin }).on('line', async (line) => {
  const c = JSON.parse(line);
  const r = await ops[c.op](c);
  process.stdout.write(JSON.stringify({ id: c.id, ...r }) + '\n');
});
process.stdin.on('end', () => process.exit(0));
