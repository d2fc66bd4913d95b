// The microphone and camera through getUserMedia, and the microphone's input
// level through the Web Audio AnalyserNode. Nothing is recorded or sent: the
// service carries no audio, it only learns that the devices work.

/** "ok" | "denied" | "missing" | "error", from a getUserMedia failure. */
function failure(error) {
  if (error?.name === "NotAllowedError" || error?.name === "SecurityError") return "denied";
  if (error?.name === "NotFoundError" || error?.name === "OverconstrainedError") return "missing";
  return "error";
}

/**
 * Open the microphone for `durationMs` and measure its loudest moment.
 * Resolves {microphone: "ok" | "silent" | "denied" | "missing" | "error", level: 0..1}
 * where level is the highest RMS amplitude seen (a normal voice: 0.05-0.3).
 */
export async function measureMicrophone(durationMs = 1500, onLevel = () => {}) {
  if (!navigator.mediaDevices?.getUserMedia) return { microphone: "missing", level: 0 };
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (error) {
    return { microphone: failure(error), level: 0 };
  }
  const context = new AudioContext();
  try {
    await context.resume();
    const analyser = context.createAnalyser();
    analyser.fftSize = 2048;
    context.createMediaStreamSource(stream).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    let loudest = 0;
    const until = performance.now() + durationMs;
    while (performance.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const x of samples) sum += x * x;
      const rms = Math.sqrt(sum / samples.length);
      loudest = Math.max(loudest, rms);
      onLevel(rms);
    }
    const level = Math.min(1, loudest);
    return { microphone: level > 0.001 ? "ok" : "silent", level };
  } finally {
    for (const track of stream.getTracks()) track.stop();
    await context.close();
  }
}

/** Open the camera for a moment: "ok" | "denied" | "missing" | "error". */
export async function checkCamera() {
  if (!navigator.mediaDevices?.getUserMedia) return "missing";
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ video: true });
    for (const track of stream.getTracks()) track.stop();
    return "ok";
  } catch (error) {
    return failure(error);
  }
}
