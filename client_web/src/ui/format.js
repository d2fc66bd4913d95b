// Times, durations and numbers as people read them, in the interface's language.
import { currentLanguage, t } from "../i18n/index.js";

/** 65,000 ms -> "1:05"; 3,725,000 -> "1:02:05"; negative values count as 0. */
export function clock(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return `${h ? `${h}:` : ""}${mm}:${String(s).padStart(2, "0")}`;
}

/** 2,340 ms -> "2.3 s". */
export function seconds(ms, digits = 1) {
  return t("unit_seconds", { n: number(ms / 1000, digits) });
}

export function number(value, digits = 0) {
  return new Intl.NumberFormat(currentLanguage(), { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(value);
}

const timeFormats = new Map();

/** The wall-clock time of an instant in a zone ("12:04" or "12:04:09"). */
export function timeIn(ms, timeZone, withSeconds = false) {
  const cacheKey = `${currentLanguage()}|${timeZone}|${withSeconds}`;
  if (!timeFormats.has(cacheKey)) {
    timeFormats.set(cacheKey, new Intl.DateTimeFormat(currentLanguage(), {
      timeZone, hour: "2-digit", minute: "2-digit", second: withSeconds ? "2-digit" : undefined, hourCycle: "h23",
    }));
  }
  return timeFormats.get(cacheKey).format(new Date(ms));
}

export function localZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** The consultation's zone in words: Geneva time for Europe/Zurich (the rules' wording), else the zone's name. */
export function zoneLabel(tz) {
  return tz === "Europe/Zurich" ? t("geneva_time") : tz;
}

/** A day "2021-06-08" in the interface's language. */
export function dayLabel(day) {
  const [y, m, d] = day.split("-").map(Number);
  return new Intl.DateTimeFormat(currentLanguage(), { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" }).format(new Date(Date.UTC(y, m - 1, d)));
}

const dateTimeFormats = new Map();

/** An instant as a date and time in a zone ("Fri 12 Mar, 23:59"), in the interface's language. */
export function dateTimeIn(ms, timeZone) {
  const cacheKey = `${currentLanguage()}|${timeZone}`;
  if (!dateTimeFormats.has(cacheKey)) {
    dateTimeFormats.set(cacheKey, new Intl.DateTimeFormat(currentLanguage(), {
      timeZone, weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    }));
  }
  return dateTimeFormats.get(cacheKey).format(new Date(ms));
}

/** A time left, coarse enough to read at a glance: "3 d 4 h", "2 h 05 min", "4 min 09 s". */
export function durationText(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (d) return t("duration_days_hours", { d, h });
  if (h) return t("duration_hours_minutes", { h, m: String(m).padStart(2, "0") });
  return t("duration_minutes_seconds", { m, s: String(s).padStart(2, "0") });
}

/** Bytes as "12 kB" / "1.2 MB". */
export function sizeText(bytes) {
  if (bytes < 1000 * 1000) return `${number(Math.max(1, Math.round(bytes / 1000)))} kB`;
  return `${number(bytes / 1e6, 1)} MB`;
}

/** The current item's requests (the state's), in the order the floor will be given. */
export function currentRequests(state) {
  return state.current_item === null ? [] : state.queues[state.current_item] ?? [];
}

/**
 * The server's figures for the request at `index` of the current queue
 * (vcc_protocol.views.QueueView): its place and its expected wait.
 */
export function queueEntry(views, index) {
  return { place: views.queue.places[index], waitMs: views.queue.wait_s[index] * 1000 };
}

/** The server's expectations (when -> items) as item -> when, for a table by item. */
export function expectedByItem(expected) {
  const byItem = new Map();
  for (const [when, items] of Object.entries(expected)) for (const item of items) byItem.set(item, when);
  return byItem;
}

const partsFormatters = new Map();

/** The wall-clock fields of an instant in a zone: {year, month, day, hour, minute, second}. */
export function wallClock(ms, tz) {
  if (!partsFormatters.has(tz)) {
    partsFormatters.set(tz, new Intl.DateTimeFormat("en-US", {
      timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    }));
  }
  const fields = {};
  for (const part of partsFormatters.get(tz).formatToParts(new Date(ms))) {
    if (part.type !== "literal") fields[part.type] = Number(part.value);
  }
  return fields;
}

function offsetMs(tz, ms) {
  const w = wallClock(ms, tz);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(ms / 1000) * 1000;
}

/**
 * What a time typed in a form ("2021-03-12", "23:59") in a zone is, in ms since the
 * epoch, to show it in the reader's own zone before it is sent (the server reads the
 * text itself). Two passes find the offset in force at that moment.
 */
export function zonedTime(day, hhmm, tz) {
  const [y, m, d] = day.split("-").map(Number);
  const [hh, mm] = hhmm.split(":").map(Number);
  const local = Date.UTC(y, m - 1, d, hh, mm);
  return local - offsetMs(tz, local - offsetMs(tz, local));
}
