// The iceServers of the page's RTCPeerConnections: the TURN server the service
// names (coturn on TCP/TLS 443, for networks that let nothing else out), with a
// credential of a few hours made for this participant. Asked once an hour.

const KEEP_MS = 3_600_000;
const known = new WeakMap();

export async function iceServers(session) {
  const cached = known.get(session);
  if (cached && Date.now() - cached.at < KEEP_MS) return cached.servers;
  const answer = await session.media({ op: "ice_servers" });
  const servers = answer.ok ? answer.ice_servers : [];
  if (answer.ok) known.set(session, { servers, at: Date.now() });
  return servers;
}
