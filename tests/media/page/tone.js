// An AudioWorklet that says what the page hears, every 20 ms: "440" (a delegate's
// fake microphone), "880" (an interpreter's) or "silent". Goertzel power at the two
// frequencies against the window's whole energy, so a mix of both reads as the louder.
class ToneClassifier extends AudioWorkletProcessor {
  constructor() {
    super();
    this.window = Math.round(sampleRate / 50);
    this.samples = new Float32Array(this.window);
    this.filled = 0;
    this.last = null;
  }
  power(freq) {
    const k = 2 * Math.cos((2 * Math.PI * freq) / sampleRate);
    let s1 = 0, s2 = 0;
    for (let i = 0; i < this.window; i++) {
      const s0 = this.samples[i] + k * s1 - s2;
      s2 = s1; s1 = s0;
    }
    return (s1 * s1 + s2 * s2 - k * s1 * s2) / (this.window * this.window / 4);
  }
  process(inputs) {
    const input = inputs[0] && inputs[0][0];
    if (!input) return true;
    for (let i = 0; i < input.length; i++) {
      this.samples[this.filled++] = input[i];
      if (this.filled === this.window) {
        this.filled = 0;
        let energy = 0;
        for (let j = 0; j < this.window; j++) energy += this.samples[j] * this.samples[j];
        const rms = Math.sqrt(energy / this.window);
        let tone = "silent";
        if (rms > 0.01) {
          const p440 = this.power(440), p880 = this.power(880), total = 2 * rms * rms;
          if (p440 > 0.3 * total && p440 >= p880) tone = "440";
          else if (p880 > 0.3 * total) tone = "880";
          else tone = "other";
        }
        if (tone !== this.last) {
          this.last = tone;
          this.port.postMessage({ tone, rms });
        }
      }
    }
    return true;
  }
}
registerProcessor("tone-classifier", ToneClassifier);
