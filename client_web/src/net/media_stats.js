// What the technical team sees of a participant's listening connection, from the
// browser's own WebRTC statistics: the ICE state, the selected candidate pair's
// type (relay: through TURN, behind a firewall), the level of the audio received
// and the share of packets lost since the last look. Sent with the connection's
// other figures (`report`), shown live on the technical dashboard.

/** Figures of `pc` now; `previous` holds the packet counters of the last call and is updated. */
export async function linkFigures(pc, previous) {
  const stats = await pc.getStats();
  let inbound = null;
  let pairId = null;
  stats.forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "audio") inbound = s;
    if (s.type === "transport" && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
  });
  const pair = pairId ? stats.get(pairId) : null;
  const local = pair ? stats.get(pair.localCandidateId) : null;
  const figures = { ice: pc.iceConnectionState };
  if (local?.candidateType) figures.candidate = local.candidateType;
  if (inbound) {
    if (typeof inbound.audioLevel === "number") figures.audio_level = Math.min(1, Math.max(0, inbound.audioLevel));
    const received = (inbound.packetsReceived ?? 0) - (previous.received ?? 0);
    const lost = Math.max(0, (inbound.packetsLost ?? 0) - (previous.lost ?? 0));
    if (received + lost > 0) figures.packet_loss = lost / (received + lost);
    previous.received = inbound.packetsReceived ?? 0;
    previous.lost = inbound.packetsLost ?? 0;
  }
  return figures;
}
