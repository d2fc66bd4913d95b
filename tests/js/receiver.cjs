// The stock socket.io JS client (socket.io-client 4 + socket.io-msgpack-parser 3)
// receiving Fanout broadcasts, for tests/gateway/test_fanout.py.
//
// usage: node receiver.cjs URL TRANSPORTS NAME COUNT
//   TRANSPORTS  comma-separated engine.io transports, e.g. "websocket" or "polling,websocket"
//   NAME        sent as auth {name}, so the test can find this client's sid
//   COUNT       exit 0 after this many events
// Prints one JSON object per line on stdout: {"kind": "connected"|"upgrade"|"event"|"error", ...}.
// Binary values are printed as {"$bytes": "<hex>"}. The process ends by closing its socket
// (never process.exit, which could cut off stdout written to a pipe).
"use strict";

const { io } = require("socket.io-client");
const parser = require("socket.io-msgpack-parser");

const [url, transports, name, countArg] = process.argv.slice(2);
const count = Number(countArg);

function plain(value) {
  if (Buffer.isBuffer(value)) return { $bytes: value.toString("hex") };
  if (value instanceof ArrayBuffer) return { $bytes: Buffer.from(value).toString("hex") };
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

function say(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

const socket = io(url, {
  parser,
  transports: transports.split(","),
  auth: { name },
  reconnection: false,
});

let received = 0;
// The upgrade can finish before or after the socket.io connection: listen from the engine's opening.
// "extensions": what the websocket negotiated (the ws package offers permessage-deflate, as browsers do).
const extensions = (transport) => (transport.ws && transport.ws.extensions) || "";
socket.io.on("open", () => {
  socket.io.engine.on("upgrade", (transport) => say({ kind: "upgrade", transport: transport.name, extensions: extensions(transport) }));
});
socket.on("connect", () => {
  const transport = socket.io.engine.transport;
  say({ kind: "connected", transport: transport.name, extensions: extensions(transport) });
});
socket.on("connect_error", (err) => {
  say({ kind: "error", message: String(err && err.message) });
  process.exitCode = 2;
  socket.close();
});
socket.onAny((event, ...args) => {
  say({ kind: "event", event, args: plain(args) });
  received += 1;
  if (received >= count) socket.close();
});
setTimeout(() => {
  say({ kind: "error", message: "timeout" });
  process.exitCode = 3;
  socket.close();
}, 20000).unref();
