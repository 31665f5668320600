#!/usr/bin/env node
// A link latency for the lab: TCP forwarders that hold every chunk for half the round-trip time in
// each direction, in front of the lab's own forwarders (this kernel has no netem). Kept apart from
// the lab scripts: it only reads hosts.json and listens on other ports of the hosts' loopback
// addresses, so the lab itself is unchanged and a client chooses the delayed path by port.
//
// Usage: node test/lab/latency.mjs RTT_MS PORT [HOSTS_JSON]
//   Forwards <address>:PORT to <address>:<port> of every host in HOSTS_JSON (default: the current
//   instance's), adding RTT_MS of round-trip time, until it is stopped (SIGTERM). Prints "ready"
//   once every listener is up, and stops when its standard input ends (its parent went away).
//   Each time a client sends after having received (a round trip the link cost it, the SSH
//   handshake included) it prints "turns <host> 1".
//   Both legs set TCP_NODELAY, as the lab's forwarders do.
import { readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { setTimeout } from 'node:timers';
import { join } from 'node:path';

const [rttArg, portArg, hostsArg] = process.argv.slice(2);
const rttMs = Number(rttArg);
const port = Number(portArg);
if (!Number.isFinite(rttMs) || rttMs < 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
  console.error('usage: latency.mjs RTT_MS PORT [HOSTS_JSON]');
  process.exit(2);
}
const state = process.env.OTOPI_LAB_STATE ?? `/var/lib/otopi-lab/${process.env.OTOPI_LAB_NAME ?? 'lab'}`;
const hosts = JSON.parse(readFileSync(hostsArg ?? join(state, 'hosts.json'), 'utf8'));
const oneWayMs = rttMs / 2;

/**
 * Writes what `from` sends to `to`, each chunk `oneWayMs` after it arrived, in order. `turn` is
 * called for each chunk with its direction, to count round trips.
 */
function delayed(from, to, turn) {
  const queue = [];
  let timer;
  const flush = () => {
    timer = undefined;
    const now = performance.now();
    while (queue.length > 0 && queue[0].due <= now + 0.2) to.write(queue.shift().data);
    if (queue.length > 0) timer = setTimeout(flush, queue[0].due - now);
    else if (from.readableEnded) to.end();
  };
  from.on('data', (data) => {
    turn();
    if (oneWayMs === 0) return void to.write(data);
    queue.push({ due: performance.now() + oneWayMs, data });
    if (timer === undefined) timer = setTimeout(flush, oneWayMs);
  });
  from.on('end', () => {
    if (queue.length === 0) to.end();
  });
}

let listening = 0;
for (const host of hosts) {
  const server = createServer({ noDelay: true }, (client) => {
    const upstream = createConnection({ host: host.address, port: host.port, noDelay: true });
    // A round trip: the client sends after it has received (it waited for the host). Printed as
    // "turns <host> 1" each time, so a connection kept open (a ControlMaster) is counted too.
    let last = 'down';
    delayed(client, upstream, () => {
      if (last === 'down') console.log(`turns ${host.name} 1`);
      last = 'up';
    });
    delayed(upstream, client, () => {
      last = 'down';
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', () => setTimeout(close, oneWayMs + 5));
    upstream.on('error', close).on('close', () => setTimeout(close, oneWayMs + 5));
  });
  server.on('error', (error) => {
    console.error(`latency: ${host.address}:${port}: ${error.message}`);
    process.exit(1);
  });
  server.listen(port, host.address, () => {
    listening += 1;
    if (listening === hosts.length) console.log('ready');
  });
}
process.on('SIGTERM', () => process.exit(0));
// Started with a pipe on stdin (as the benchmark does), it also stops when its parent goes away.
if (!process.stdin.isTTY) process.stdin.on('end', () => process.exit(0)).resume();
