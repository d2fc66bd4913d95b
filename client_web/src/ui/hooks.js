import { useEffect, useLayoutEffect, useReducer, useRef, useState } from "preact/hooks";
import { onLanguageChange } from "../i18n/index.js";

/** Re-render when the session changes (state, status, presence). */
export function useSession(session) {
  const [, force] = useReducer((n) => n + 1, 0);
  useEffect(() => session.subscribe(force), [session]);
  return session;
}

/** Re-render when the user picks another language. */
export function useLanguage() {
  const [, force] = useReducer((n) => n + 1, 0);
  useEffect(() => onLanguageChange(force), []);
}

/** The server's time, refreshed every `everyMs` (timers and countdowns). */
export function useNow(session, everyMs = 1000) {
  const [now, setNow] = useState(() => session.now());
  useEffect(() => {
    const id = setInterval(() => setNow(session.now()), everyMs);
    return () => clearInterval(id);
  }, [session, everyMs]);
  return now;
}

function typingInto(target) {
  const tag = target?.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target?.isContentEditable;
}

/**
 * Single-key shortcuts ({r: fn, g: fn}) while no text field has the focus and
 * no modifier is held, so typing a reason or a conclusion never fires them.
 * The listener is attached as the panel is put on the page (a layout effect),
 * not after the next paint: a key pressed as soon as the button shows must count.
 */
export function useShortcuts(map) {
  const latest = useRef(map);
  latest.current = map;
  useLayoutEffect(() => {
    const onKey = (event) => {
      if (event.ctrlKey || event.metaKey || event.altKey || typingInto(event.target)) return;
      const action = latest.current[event.key.toLowerCase()];
      if (action) {
        event.preventDefault();
        action();
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);
}

/**
 * JSON from the node's HTTP API (`session.api.getJson(path)`), fetched on
 * mount and again, a moment later, whenever an event batch holds an event
 * `relevant(event)` accepts, or after a snapshot. Answers {data, error,
 * loading, refresh}; a refresh that is overtaken by a newer one is dropped.
 */
export function useServerData(session, path, relevant, { enabled = true, delayMs = 150 } = {}) {
  const [result, setResult] = useState({ data: null, error: null, loading: enabled });
  const latest = useRef(0);
  const timer = useRef(null);
  const relevantRef = useRef(relevant);
  relevantRef.current = relevant;
  const refresh = useRef(null);
  refresh.current = async () => {
    if (!enabled || !session.api) return;
    latest.current += 1;
    const mine = latest.current;
    const answer = await session.api.getJson(path);
    if (mine !== latest.current) return;
    setResult(answer.ok ? { data: answer.data, error: null, loading: false } : { data: null, error: answer.data?.error ?? { code: "unavailable" }, loading: false });
  };
  useEffect(() => {
    refresh.current();
    const off = session.onEvents((events) => {
      if (events !== null && !events.some((event) => relevantRef.current(event))) return;
      clearTimeout(timer.current);
      timer.current = setTimeout(() => refresh.current(), delayMs);
    });
    return () => {
      off();
      clearTimeout(timer.current);
    };
  }, [session, path, enabled]);
  return { ...result, refresh: () => refresh.current() };
}
