// The participant's microphone into the mix the procedure put them in, as real
// audio. The server holds the Janus handle and decides who is heard (a grant
// opens the microphone, a yield closes it); the page only connects its
// microphone when it is in a mix, through vcc's socket (`media` op `publish`),
// so it can never open itself. After the media server restarted (`media_reset`)
// it connects again by itself.

import { iceServers } from "./ice_servers.js";

/** Whether the procedure has put this participant in the floor mix: the chair, the
 * requester of their delegation's open request on the current item, and the designated
 * speakers of a delegation on the list, granted or speaking (vcc.media.desired, floor_members). */
export function inFloorMix(state, me) {
  if (!state || !me.record) return false;
  if (me.record.role === "chair") return true;
  if (me.record.role !== "delegate") return false;
  if (state.speech?.participant === me.participant) return true;
  const queue = state.current_item === null ? [] : state.queues[String(state.current_item)] ?? [];
  if (queue.some((r) => r.participant === me.participant)) return true;
  if (!me.record.designated_speaker) return false;
  const onList = [...queue.map((r) => r.delegation), state.grant?.delegation, state.speech?.delegation];
  return onList.includes(me.delegation);
}

export class Publishing {
  /** `onStatus(status)`: "off", "connecting", "connected", "unavailable" (with the server's message) or "denied". */
  constructor(session, onStatus) {
    this.session = session;
    this.onStatus = onStatus;
    this.wanted = false;
    this.pc = null;
    this.mic = null;
    this.connecting = null;
    this.unsubscribe = session.onMediaReset(() => this.wanted && this.reconnect());
  }

  async want(on) {
    if (on === this.wanted) return;
    this.wanted = on;
    if (this.connecting) await this.connecting;
    if (on) await this.reconnect();
    else {
      this.close();
      this.onStatus({ status: "off" });
    }
  }

  reconnect() {
    this.connecting = this.connect().finally(() => { this.connecting = null; });
    return this.connecting;
  }

  async connect() {
    this.close();
    if (!this.wanted) return;
    this.onStatus({ status: "connecting" });
    const servers = await iceServers(this.session);
    if (!this.wanted) return;
    try {
      // Voice as it is: the mix and the booths want the speaker's level, not a browser's guess at it.
      this.mic = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: false, autoGainControl: false } });
    } catch {
      this.onStatus({ status: "denied" });
      return;
    }
    const pc = new RTCPeerConnection({ iceServers: servers });
    this.pc = pc;
    this.mic.getTracks().forEach((track) => pc.addTrack(track, this.mic));
    pc.onicecandidate = (ev) => {
      const c = ev.candidate;
      this.session.media({ op: "ice", stream: "publish", candidate: c ? c.candidate : null, sdp_mid: c ? c.sdpMid : null, sdp_mline_index: c ? c.sdpMLineIndex : null });
    };
    pc.onconnectionstatechange = () => {
      if (pc !== this.pc) return;
      if (pc.connectionState === "connected") this.onStatus({ status: "connected" });
      if (pc.connectionState === "failed") this.onStatus({ status: "unavailable", message: "" });
    };
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const answer = await this.session.media({ op: "publish", sdp: offer.sdp });
    if (pc !== this.pc) return;
    if (!answer.ok) {
      this.onStatus({ status: "unavailable", message: answer.error.message });
      return;
    }
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
  }

  close() {
    this.pc?.close();
    this.pc = null;
    this.mic?.getTracks().forEach((track) => track.stop());
    this.mic = null;
  }

  dispose() {
    this.unsubscribe();
    this.wanted = false;
    this.close();
  }
}
