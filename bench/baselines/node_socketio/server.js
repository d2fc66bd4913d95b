"use strict";
// Baseline: Node socket.io 4 with socket.io-msgpack-parser, nothing tuned.
//
// Every client joins one room; a broadcast is io.to(room).emit(event, payload).
// The payload and the pacing mirror bench/_common.py (bench_payload, paced):
// keep them in step so that every baseline sends the same bytes.
//
//   node server.js --port 8080
//
// Control (same on every baseline):
//   POST /bench/broadcast?count=&rate=&size=  broadcasts, answers when done
//   GET  /bench/info                          {pid, clients}

const http = require("node:http");
const { performance } = require("node:perf_hooks");
const { Server } = require("socket.io");
const parser = require("socket.io-msgpack-parser");

const EVENT = "bench";
const ROOM = "bench";
const PAYLOAD_OVERHEAD = 24; // msgpack bytes of {ts, seq, pad} without the padding
const MAX_COUNT = 100000;
const MAX_RATE = 10000;
const MAX_SIZE = 65536;

function argValue(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

// Send times must be comparable with Python's time.time() to the
// microsecond. Date.now() has millisecond steps, so wall time is
// performance.now() plus an offset taken at the instant Date.now() ticks
// (a spin of at most 1 ms), refreshed on every GET /bench/info so that a
// slewing system clock cannot drift away from it during a long run.
let wallOffsetMs = 0;
function calibrateClock() {
  const start = Date.now();
  let now = start;
  while (now === start) now = Date.now();
  wallOffsetMs = now - performance.now();
}
function wallSeconds() {
  return (wallOffsetMs + performance.now()) / 1000;
}

function payload(seq, size) {
  return { ts: wallSeconds(), seq, pad: "x".repeat(Math.max(0, size - PAYLOAD_OVERHEAD)) };
}

function parseBroadcast(query) {
  const count = Number(query.get("count") ?? "1");
  const rate = Number(query.get("rate") ?? "10");
  const size = Number(query.get("size") ?? "230");
  if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) throw new Error(`count must be in 1..${MAX_COUNT}`);
  if (!(rate > 0 && rate <= MAX_RATE)) throw new Error(`rate must be in (0, ${MAX_RATE}]`);
  if (!Number.isInteger(size) || size < PAYLOAD_OVERHEAD || size > MAX_SIZE) {
    throw new Error(`size must be in ${PAYLOAD_OVERHEAD}..${MAX_SIZE}`);
  }
  return { count, rate, size };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Message i is due at start + i/rate; a server that falls behind sends the
// overdue ones back to back instead of drifting to a lower rate.
async function paced({ count, rate, size }, io) {
  const start = performance.now();
  for (let seq = 0; seq < count; seq++) {
    const delay = start + (seq * 1000) / rate - performance.now();
    if (delay > 0) await sleep(delay);
    io.to(ROOM).emit(EVENT, payload(seq, size));
  }
  return (performance.now() - start) / 1000;
}

function reply(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function main() {
  const port = Number(argValue("--port", "8080"));
  let clients = 0;

  // Created before the socket.io Server: engine.io wraps the listeners it
  // finds, answers /socket.io/ itself and hands everything else to this one.
  const httpServer = http.createServer((req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    if (req.method === "GET" && url.pathname === "/bench/info") {
      calibrateClock();
      reply(res, 200, { pid: process.pid, clients, impl: `node ${process.version} socket.io ${require("socket.io/package.json").version}` });
    } else if (req.method === "POST" && url.pathname === "/bench/broadcast") {
      let spec;
      try {
        spec = parseBroadcast(url.searchParams);
      } catch (err) {
        reply(res, 400, { error: err.message });
        return;
      }
      req.resume();
      paced(spec, io).then((seconds) => reply(res, 200, { sent: spec.count, seconds }));
    } else {
      reply(res, 404, { error: "not found" });
    }
  });
  const io = new Server(httpServer, { parser, serveClient: false });

  io.on("connection", (socket) => {
    clients += 1;
    socket.join(ROOM);
    socket.on("disconnect", () => {
      clients -= 1;
    });
  });

  calibrateClock();
  httpServer.listen(port, "127.0.0.1");
  process.on("SIGTERM", () => process.exit(0));
}

main();
