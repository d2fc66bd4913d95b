// A delegate's browser, reduced to its protocol: join with a token, fold the
// snapshot's queue, raise the hand, and print what it saw as one JSON line.
// Usage: node delegate.mjs URL TOKEN
import { io } from "socket.io-client";
import parser from "socket.io-msgpack-parser";

const [url, token] = process.argv.slice(2);
const socket = io(url, { parser, auth: { token }, transports: ["websocket"], reconnection: false });
const seen = { welcome: null, snapshotSeq: null, batches: [], ack: null };
const fail = (why) => { console.log(JSON.stringify({ error: String(why) })); process.exit(1); };
setTimeout(() => fail("timed out"), 10000);

socket.on("connect_error", (err) => fail(`refused: ${err.message} ${JSON.stringify(err.data)}`));
socket.on("welcome", (data) => { seen.welcome = data; });
// The ack and the batch may arrive in either order: finish when both are in.
const finishWhenDone = () => {
  if (seen.ack && (!seen.ack.ok || seen.batches.some((b) => b.types.includes("floor_requested")))) finish();
};
socket.on("events", (batch) => {
  seen.batches.push({ first: batch.first, last: batch.last, types: batch.events.map((e) => e.type) });
  finishWhenDone();
});
socket.on("snapshot", async (snap) => {
  seen.snapshotSeq = snap.seq;
  seen.ack = await socket.emitWithAck("command", { type: "request_floor", id: "js-1" });
  finishWhenDone();
});

function finish() {
  console.log(JSON.stringify(seen));
  socket.close();
  process.exit(0);
}
