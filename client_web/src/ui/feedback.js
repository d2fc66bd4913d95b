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

/** Send a command and tell the user if it was refused. Resolves with the answer. */
export async function act(session, type, fields = {}) {
  const answer = await session.send(type, fields);
  if (!answer.ok) notify(errorText(answer.error));
  return answer;
}
