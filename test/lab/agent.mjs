// Lab agent, one per network namespace: serves TCP and UDP on the given ports (both
// families) and runs probes it reads as JSON lines on stdin, answering JSON lines.
// A probe {id, protocol, host, port, timeoutMs, localPort?} yields {id, outcome, code}:
// `allow` (answer received), `reject` (refused/unreachable quickly), `deny` (timeout).
import net from 'node:net';
import dgram from 'node:dgram';
import readline from 'node:readline';

const ports = process.argv.slice(2).map(Number);
let pending = ports.length * 3;
const ready = () => {
  if (--pending === 0) process.stdout.write(JSON.stringify({ ready: true }) + '\n');
};
for (const port of ports) {
  net
    .createServer((s) => {
      s.on('error', () => {});
      s.end('ok');
    })
    .listen({ port, host: '::', ipv6Only: false }, ready);
  for (const type of ['udp4', 'udp6']) {
    const sock = dgram.createSocket({ type, ipv6Only: type === 'udp6' });
    sock.on('message', (msg, rinfo) => sock.send(msg, rinfo.port, rinfo.address));
    sock.on('error', () => {});
    sock.bind(port, type === 'udp4' ? '0.0.0.0' : '::', ready);
  }
}
if (ports.length === 0) process.stdout.write(JSON.stringify({ ready: true }) + '\n');

const REJECTS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EACCES', 'EPERM']);

function probeTcp(p, done) {
  const s = net.connect({ host: p.host, port: p.port });
  let data = '';
  const timer = setTimeout(() => finish('deny', 'timeout'), p.timeoutMs);
  function finish(outcome, code) {
    clearTimeout(timer);
    s.destroy();
    done(outcome, code);
    done = () => {};
  }
  s.on('data', (d) => {
    data += d;
    if (data === 'ok') finish('allow', 'ok');
  });
  s.on('error', (e) => finish(REJECTS.has(e.code) ? 'reject' : 'error', e.code));
}

function probeUdp(p, done) {
  const s = dgram.createSocket(p.host.includes(':') ? 'udp6' : 'udp4');
  const timer = setTimeout(() => finish('deny', 'timeout'), p.timeoutMs);
  function finish(outcome, code) {
    clearTimeout(timer);
    try {
      s.close();
    } catch {}
    done(outcome, code);
    done = () => {};
  }
  s.on('error', (e) => finish(REJECTS.has(e.code) ? 'reject' : 'error', e.code));
  s.on('message', () => finish('allow', 'ok'));
  s.bind(p.localPort ?? 0, () => {
    s.connect(p.port, p.host, (err) => {
      if (err) return finish('error', err.code);
      s.send(`probe ${p.id}`);
    });
  });
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const p = JSON.parse(line);
  const reply = (outcome, code) => process.stdout.write(JSON.stringify({ id: p.id, outcome, code }) + '\n');
  (p.protocol === 'tcp' ? probeTcp : probeUdp)(p, reply);
});
process.stdin.on('end', () => process.exit(0));
