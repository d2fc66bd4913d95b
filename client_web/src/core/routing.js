// The listener routing every client follows (core/interpretation.py route):
// a listener whose channel is the floor language hears the floor itself,
// never the booth (that booth is silent, or would echo the speaker). A booth
// relaying the floor-language booth is in effect working from the floor.
//
// `route` returns the same fields as the core's Route, with the provenance and
// warning in English exactly as the core words them (tests/js_fold compares
// them), plus the structured `chain` and `warningOf` that the UI words in the
// listener's own language.

export const LANGUAGES = ["ar", "zh", "en", "fr", "ru", "es"];
export const CHANNELS = ["floor", ...LANGUAGES];
export const LANGUAGE_NAMES = { ar: "Arabic", zh: "Chinese", en: "English", fr: "French", ru: "Russian", es: "Spanish" };

/** The booths a booth's output comes through, nearest first: [] when it works from the floor. */
export function relayChain(state, language) {
  const chain = [];
  let source = state.booths[language].source;
  while (source !== "floor" && !chain.includes(source) && source !== language) {
    chain.push(source);
    source = state.booths[source].source;
  }
  return chain;
}

function boothWarning(state, language, own) {
  if (state.speech === null) return null;
  const booth = state.booths[language];
  if (!booth.mic_open) return { language, own, kind: "muted" };
  if (booth.handover_requested_by !== null) return { language, own, kind: "handover" };
  return null;
}

function warningText(warning) {
  if (warning === null) return null;
  const name = LANGUAGE_NAMES[warning.language];
  const which = warning.own ? `the ${name} booth` : `the relay source, the ${name} booth,`;
  return warning.kind === "muted" ? `Warning: ${which} is muted.` : `Warning: ${which} is in a handover.`;
}

/** What a listener who selected `channel` should hear. */
export function route(state, channel) {
  const floor = state.floor_language;
  if (channel === "floor") {
    return made(channel, "floor", floor ? `Floor (${LANGUAGE_NAMES[floor]})` : "Floor", 0, [], null);
  }
  if (channel === floor) {
    return made(channel, "floor", `${LANGUAGE_NAMES[channel]}: the speaker's own language, from the floor`, 0, [], null);
  }
  const name = LANGUAGE_NAMES[channel];
  let chain = relayChain(state, channel);
  if (chain.includes(floor)) chain = chain.slice(0, chain.indexOf(floor));
  if (!chain.length) {
    return made(channel, channel, `${name}, interpreted from the floor`, 0, [], boothWarning(state, channel, true));
  }
  const provenance = `${name}, relay of ${LANGUAGE_NAMES[chain[0]]}` + chain.slice(1).map((x) => ` (relay of ${LANGUAGE_NAMES[x]})`).join("");
  let warning = boothWarning(state, channel, true);
  for (const source of chain) warning = warning ?? boothWarning(state, source, false);
  return made(channel, channel, provenance, chain.length, chain, warning);
}

function made(channel, play, provenance, relayDepth, chain, warningOf) {
  return { channel, play, provenance, relay_depth: relayDepth, warning: warningText(warningOf), chain, warningOf };
}
