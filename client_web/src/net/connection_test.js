// The connection test every participant can run before the meeting and on
// demand: which transports reach the server, the round trip and its jitter
// over 20 pings, the clock offset, the microphone (with its input level) and
// the camera, audio out and back through the media server, the browser. The result is stored in the consultation's log
// (record_connection_test) and sent to the technical team's dashboard (report).

import { openSocket } from "./socket.js";
import { browserName } from "./browser_info.js";
import { checkCamera, measureMicrophone } from "../devices/media.js";
import { mediaRoundTrip } from "./media_round_trip.js";

const PINGS = 20;
const PROBE_TIMEOUT_MS = 4000;

/**
 * Whether a socket.io connection over only these transports reaches the server.
 * The probe carries no join token on purpose: the server's "unauthorized"
 * answer proves the transport carried a message both ways, and the probe never
 * joins the consultation (no second snapshot, no ghost in the presence list).
 */
export function probeTransport(transport) {
  return new Promise((resolve) => {
    const socket = openSocket({ auth: { token: "" }, transports: [transport], reconnection: false, timeout: PROBE_TIMEOUT_MS });
    const done = (ok) => {
      clearTimeout(timer);
      socket.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), PROBE_TIMEOUT_MS + 500);
    socket.on("connect", () => done(true));
    socket.on("connect_error", (error) => done(Boolean(error?.data?.code)));
  });
}

/**
 * Run every check; `onStep(name, partial)` reports progress. Resolves with the
 * result (the fields of record_connection_test, plus polling_ok).
 */
export async function runConnectionTest(session, onStep = () => {}) {
  const result = {};
  onStep("transports", result);
  result.websocket_ok = await probeTransport("websocket");
  result.polling_ok = await probeTransport("polling");
  result.transport = session.transport ?? (result.websocket_ok ? "websocket" : "polling");
  onStep("pings", result);
  const link = await session.measure(PINGS, (i, n) => onStep("pings", { ...result, progress: i / n }));
  Object.assign(result, link ?? { rtt_ms: 0, jitter_ms: 0, clock_offset_ms: 0 });
  result.reached = link !== null;
  onStep("microphone", result);
  const mic = await measureMicrophone(1500, (level) => onStep("microphone", { ...result, level }));
  result.microphone = mic.microphone;
  result.input_level = mic.level;
  onStep("camera", result);
  result.camera = await checkCamera();
  onStep("media", result);
  Object.assign(result, await mediaRoundTrip(session));
  result.browser = browserName();
  onStep("saving", result);
  const record = {
    transport: result.transport, websocket_ok: result.websocket_ok, rtt_ms: result.rtt_ms, jitter_ms: result.jitter_ms,
    clock_offset_ms: Math.max(-86_400_000, Math.min(86_400_000, result.clock_offset_ms)),
    microphone: result.microphone, camera: result.camera, input_level: result.input_level, browser: result.browser,
    media: result.media, ...(typeof result.media_rtt_ms === "number" ? { media_rtt_ms: Math.min(60_000, result.media_rtt_ms) } : {}),
  };
  session.report({
    rtt_ms: record.rtt_ms, jitter_ms: record.jitter_ms, clock_offset_ms: record.clock_offset_ms, browser: record.browser,
    microphone: record.microphone, camera: record.camera, input_level: record.input_level,
  });
  result.saved = (await session.send("record_connection_test", record)).ok;
  onStep("done", result);
  return result;
}
