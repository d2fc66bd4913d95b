// For the webcast's tests and bench: what the public webcast page's <audio> plays
// also goes through the tone classifier (tone.js), and `ear` says what was heard when.
window.webcastEar = async () => {
  const audio = document.querySelector("[data-testid=webcast-player]");
  const ctx = new AudioContext({ sampleRate: 48000 });
  await ctx.audioWorklet.addModule("/test-media/tone.js");
  const node = new AudioWorkletNode(ctx, "tone-classifier");
  window.ear = { heard: "none", tones: [] };
  node.port.onmessage = (m) => { ear.heard = m.data.tone; ear.tones.push({ tone: m.data.tone, at: Date.now() }); };
  // When a tone was first heard at or after a moment (ms since the epoch), or null.
  ear.firstHeard = (tone, since) => (ear.tones.find((t) => t.tone === tone && t.at >= since) || {}).at || null;
  const source = ctx.createMediaElementSource(audio);
  source.connect(node);
  source.connect(ctx.destination);
};
