// Answers to the user's own actions: a refused command says why, in words.
import { t } from "../i18n/index.js";

const listeners = new Set();
let notices = [];
let counter = 0;

/** Localised text for the error codes a person meets often; the server's sentence otherwise. */
export function errorText(error) {
  const key = `error_${error.code}`;
  const localised = t(key);
  return localised === key ? error.message : localised;
}

export function notify(text, kind = "error") {
  counter += 1;
  const notice = { id: counter, text, kind };
  notices = [...notices.slice(-3), notice];
  for (const listener of listeners) listener(notices);
  // A message from the technical team stays until it is dismissed; the rest fade.
  if (kind !== "message") setTimeout(() => dismiss(notice.id), kind === "error" ? 9000 : 4000);
}

export function dismiss(id) {
  notices = notices.filter((n) => n.id !== id);
  for (const listener of listeners) listener(notices);
}

export function onNotices(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The words of the button that sends each command, to name a pending or dropped action. */
const ACTION_LABEL = {
  request_floor: "request_floor", withdraw_floor_request: "withdraw", go_live: "go_live", yield_floor: "yield",
  grant_floor: "grant", revoke_grant: "revoke_grant", end_speech: "end_speech", override_tail: "override_tail",
  close_speakers_list: "close_list", reopen_speakers_list: "reopen_list", take_up_item: "take_up",
  open_sitting: "open_sitting", close_sitting: "close_sitting", propose_conclusion: "propose_conclusion",
  record_consensus: "record_consensus", point_to_correspondence: "point_to_correspondence", move_floor_request: "move",
  propose_package: "propose_package", pull_from_package: "pull", approve_package: "approve_package",
};

export function actionName(type, fields = {}) {
  if (type === "block_item" && fields.kind) return t(`block_${fields.kind}`);
  if (type === "request_floor" && fields.point_of_order) return t("raise_point_of_order");
  return ACTION_LABEL[type] ? t(ACTION_LABEL[type]) : type.replaceAll("_", " ");
}

/** Send a person's action and tell them if it was refused or not sent. Resolves with the answer. */
export async function act(session, type, fields = {}) {
  const answer = await session.perform(type, fields);
  if (answer.ok) return answer;
  if (answer.error.code === "not_sent") notify(t(answer.error.unsure ? "pending_dropped_unsure" : "pending_dropped", { action: actionName(type, fields) }), "info");
  else notify(errorText(answer.error));
  return answer;
}
