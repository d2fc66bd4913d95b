// The channel a listener hears, as real audio. One WebRTC connection per page;
// its signalling goes through vcc's socket (`media` messages) and the server
// holds the Janus handle, so the page can ask for a channel, never more.
// Changing channel is a `switch` on the same connection (no renegotiation);
// after the media server restarted (`media_reset`) the page connects again.
// Every few seconds its figures (ICE, candidate type, level, loss) go to the
// technical team with the connection's report.
import { iceServers } from "./ice_servers.js";
import { linkFigures } from "./media_stats.js";

const FIGURES_EVERY_MS = 3000;

export class Listening {
  /** `onStatus(status)`: "connecting", "playing" or "unavailable" (with the server's message);
   * `onLevel(level)`: the level of the audio received, 0..1, with each look at the figures. */
  constructor(session, onStatus, onLevel = () => {}) {
    this.session = session;
    this.onStatus = onStatus;
    this.onLevel = onLevel;
    this.channel = null;
    this.pc = null;
    this.audio = null;
    this.connecting = null;
    this.figures = null;
    this.unsubscribe = session.onMediaReset(() => this.reconnect());
  }

  async choose(channel) {
    const previous = this.channel;
    this.channel = channel;
    if (this.connecting) await this.connecting;
    if (this.pc && previous !== null && this.pc.connectionState !== "failed" && this.pc.connectionState !== "closed") {
      if (previous === channel) return;
      const answer = await this.session.media({ op: "switch", channel });
      if (answer.ok) return;
    }
    await this.reconnect();
  }

  reconnect() {
    this.connecting = this.connect().finally(() => { this.connecting = null; });
    return this.connecting;
  }

  async connect() {
    if (this.channel === null) return;
    this.close();
    this.onStatus({ status: "connecting" });
    const offer = await this.session.media({ op: "listen", channel: this.channel });
    if (!offer.ok) {
      this.onStatus({ status: "unavailable", message: offer.error.message });
      return;
    }
    const pc = new RTCPeerConnection({ iceServers: await iceServers(this.session) });
    this.pc = pc;
    pc.onicecandidate = (ev) => {
      const c = ev.candidate;
      this.session.media({ op: "ice", stream: "listen", candidate: c ? c.candidate : null, sdp_mid: c ? c.sdpMid : null, sdp_mline_index: c ? c.sdpMLineIndex : null });
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === "connected") this.onStatus({ status: "playing" });
      if (pc.connectionState === "failed") this.onStatus({ status: "unavailable", message: "" });
    };
    pc.oniceconnectionstatechange = () => this.session.report({ ice: pc.iceConnectionState });
    const counters = {};
    this.figures = setInterval(() => {
      linkFigures(pc, counters).then((figures) => {
        if (this.pc !== pc) return;
        this.session.report(figures);
        if (typeof figures.audio_level === "number") this.onLevel(figures.audio_level);
      }, () => {});
    }, FIGURES_EVERY_MS);
    pc.ontrack = (ev) => {
      this.audio = new Audio();
      this.audio.srcObject = new MediaStream([ev.track]);
      this.audio.play().catch(() => this.onStatus({ status: "blocked" }));
    };
    await pc.setRemoteDescription({ type: "offer", sdp: offer.sdp });
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    const started = await this.session.media({ op: "answer", sdp: answer.sdp });
    if (!started.ok) this.onStatus({ status: "unavailable", message: started.error.message });
  }

  /** Play again after the browser blocked playback without a click. */
  resume() {
    this.audio?.play().then(() => this.onStatus({ status: "playing" }));
  }

  close() {
    clearInterval(this.figures);
    this.figures = null;
    this.pc?.close();
    this.pc = null;
    if (this.audio) this.audio.srcObject = null;
    this.audio = null;
  }

  dispose() {
    this.unsubscribe();
    this.close();
  }
}
