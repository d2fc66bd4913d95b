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
