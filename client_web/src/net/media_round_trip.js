// The connection test's round trip through the media server: a tone the page
// makes itself (no microphone needed) goes to Janus and comes straight back on
// the same connection (the server's EchoTest handle; signalling through vcc's
// socket, like every other media connection). It proves what a delegate needs to
// be heard: ICE connects through this network, and audio goes out and back.

import { iceServers } from "./ice_servers.js";

const ICE_TIMEOUT_MS = 8000;
const AUDIO_TIMEOUT_MS = 5000;
/** RMS of the returned tone above which it counts as back (the tone is sent at about 0.2). */
const BACK_LEVEL = 0.02;

function waitFor(check, timeoutMs) {
  return new Promise((resolve) => {
    const until = performance.now() + timeoutMs;
    const look = () => {
      if (check()) resolve(true);
      else if (performance.now() > until) resolve(false);
      else setTimeout(look, 10);
    };
    look();
  });
}

/** Resolves {media: "ok" | "failed" | "unavailable", media_rtt_ms?, ice}. */
export async function mediaRoundTrip(session) {
  const context = new AudioContext();
  const pc = new RTCPeerConnection({ iceServers: await iceServers(session) });
  const audio = new Audio();
  try {
    await context.resume();
    const tone = context.createOscillator();
    tone.frequency.value = 660;
    const gain = context.createGain();
    gain.gain.value = 0;
    const out = context.createMediaStreamDestination();
    tone.connect(gain).connect(out);
    tone.start();
    out.stream.getTracks().forEach((track) => pc.addTrack(track, out.stream));
    const back = new Promise((resolve) => { pc.ontrack = (ev) => resolve(ev.track); });
    pc.onicecandidate = (ev) => {
      const c = ev.candidate;
      session.media({ op: "ice", stream: "echo", candidate: c ? c.candidate : null, sdp_mid: c ? c.sdpMid : null, sdp_mline_index: c ? c.sdpMLineIndex : null });
    };
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const answer = await session.media({ op: "echo", sdp: offer.sdp });
    if (!answer.ok) return { media: answer.error.code === "media_unavailable" ? "unavailable" : "failed", ice: pc.iceConnectionState };
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
    const connected = await waitFor(() => ["connected", "completed"].includes(pc.iceConnectionState), ICE_TIMEOUT_MS);
    if (!connected) return { media: "failed", ice: pc.iceConnectionState };
    const track = await back;
    // Chromium feeds a remote track to Web Audio only while a media element plays it: a quiet beep.
    audio.srcObject = new MediaStream([track]);
    audio.volume = 0.1;
    await audio.play().catch(() => {});
    const analyser = context.createAnalyser();
    analyser.fftSize = 1024;
    context.createMediaStreamSource(new MediaStream([track])).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    const level = () => {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const x of samples) sum += x * x;
      return Math.sqrt(sum / samples.length);
    };
    // Silence first, so that what comes back is the tone sent from now on.
    const sentAt = performance.now();
    gain.gain.value = 0.3;
    const heard = await waitFor(() => level() > BACK_LEVEL, AUDIO_TIMEOUT_MS);
    if (!heard) return { media: "failed", ice: pc.iceConnectionState };
    return { media: "ok", media_rtt_ms: Math.round(performance.now() - sentAt), ice: pc.iceConnectionState };
  } finally {
    audio.srcObject = null;
    pc.close();
    context.close();
  }
}
