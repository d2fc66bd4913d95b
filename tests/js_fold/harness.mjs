// Runs the browser's fold under node on event logs made by the Python core (see
// test_js_fold.py). Reads one JSON request on stdin, writes one JSON answer on stdout.
//
// {mode: "log", events, batches: [{upto, views}]}
//   -> [{state, views}]: folding events[0..upto) from the client's initial state and
//   taking each batch's views update as the client does, after each batch.
// {mode: "locales"} -> {language: {key: message}} (a message: text, or {plural form: text})

import { readFileSync } from "node:fs";
import { apply, applyViews, initialState, understands } from "../../client_web/src/core/fold.js";
import { MESSAGES } from "../../client_web/src/i18n/messages.js";

const request = JSON.parse(readFileSync(0, "utf-8"));

function runLog({ events, batches }) {
  const state = initialState();
  let views = null;
  const answers = [];
  let applied = 0;
  for (const { upto, views: update } of batches) {
    for (; applied < upto; applied += 1) {
      if (!understands(events[applied])) throw new Error(`the client does not understand ${events[applied].type}`);
      apply(state, events[applied]);
    }
    views = applyViews(views, update);
    answers.push({ state: JSON.parse(JSON.stringify(state)), views });
  }
  return answers;
}

let answer;
if (request.mode === "log") answer = runLog(request);
else if (request.mode === "locales") answer = MESSAGES;
else throw new Error(`unknown mode ${request.mode}`);
process.stdout.write(JSON.stringify(answer));
