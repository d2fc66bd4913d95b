// Runs the browser's fold and rules under node on event logs made by the
// Python core (see test_js_fold.py). Reads one JSON request on stdin, writes
// one JSON answer on stdout.
//
// {mode: "log", events, checkpoints: [{upto, now, delegations}]}
//   -> [{state, positions: {delegation: [n, ms] | null}, routes: {channel: Route}, forecast}]
//   folding events[0..upto) from the client's initial state at each checkpoint.
// {mode: "routes", states: [snapshot, ...]} -> [{channel: Route}, ...]
// {mode: "locales"} -> {language: {key: message}} (a message: text, or {plural form: text})
// {mode: "pages", texts: [[title, document, comments, way_forward], ...]} -> [pages, ...] (textPages)

import { readFileSync } from "node:fs";
import { apply, initialState, understands } from "../../client_web/src/core/fold.js";
import { queuePosition } from "../../client_web/src/core/floor.js";
import { CHANNELS, route } from "../../client_web/src/core/routing.js";
import { forecast } from "../../client_web/src/core/forecast.js";
import { MESSAGES } from "../../client_web/src/i18n/messages.js";
import { textPages } from "../../client_web/src/core/preparation.js";

const request = JSON.parse(readFileSync(0, "utf-8"));

function routes(state) {
  const out = {};
  for (const channel of CHANNELS) {
    const { play, provenance, relay_depth, warning } = route(state, channel);
    out[channel] = { channel, play, provenance, relay_depth, warning };
  }
  return out;
}

function runLog({ events, checkpoints }) {
  const state = initialState();
  const answers = [];
  let applied = 0;
  for (const { upto, now, delegations } of checkpoints) {
    for (; applied < upto; applied += 1) {
      if (!understands(events[applied])) throw new Error(`the client does not understand ${events[applied].type}`);
      apply(state, events[applied]);
    }
    const positions = {};
    const pointOfOrderPositions = {};
    for (const delegation of delegations) {
      positions[delegation] = queuePosition(state, delegation, now);
      pointOfOrderPositions[delegation] = queuePosition(state, delegation, now, true);
    }
    answers.push({
      state: JSON.parse(JSON.stringify(state)),
      positions,
      point_of_order_positions: pointOfOrderPositions,
      routes: state.created ? routes(state) : null,
      forecast: state.created ? forecast(state, now) : null,
    });
  }
  return answers;
}

let answer;
if (request.mode === "log") answer = runLog(request);
else if (request.mode === "routes") answer = request.states.map(routes);
else if (request.mode === "locales") answer = MESSAGES;
else if (request.mode === "pages") answer = request.texts.map((parts) => textPages(...parts));
else throw new Error(`unknown mode ${request.mode}`);
process.stdout.write(JSON.stringify(answer));
