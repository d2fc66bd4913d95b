// The technical team's dashboard, all live: every connection with its
// transport (long-polling flags a firewall), round trip, jitter, clock offset,
// browser and devices; help requests; the time to floor of every speech as a
// list and a histogram; who is here, from which states and regions.
import { html } from "../html.js";
import { t } from "../../i18n/index.js";
import { useNow } from "../hooks.js";
import { useState } from "preact/hooks";
import { act, errorText, notify } from "../feedback.js";
import { number, seconds, timeIn, localZone } from "../format.js";
import { delegationName, participantName, roleName } from "../names.js";
/**
 * "120 participants from 42 states, 23 speakers": the connected participants (this
 * node's presence list), the member states they come from (by the server's
 * `member_state` of each class), the delegations that have spoken; the same by
 * region; and the registered delegations nobody has connected for.
 */
function attendance(state, views, presence) {
  const connected = new Set(presence.map((c) => c.participant).filter((id) => state.participants[id]));
  const delegationsPresent = new Set();
  const byRegion = new Map();
  for (const id of connected) {
    const delegation = state.delegations[state.participants[id].delegation];
    if (!delegation) continue;
    delegationsPresent.add(delegation.id);
    const region = delegation.region || "—";
    const row = byRegion.get(region) ?? { region, participants: 0, delegations: new Set() };
    row.participants += 1;
    row.delegations.add(delegation.id);
    byRegion.set(region, row);
  }
  const states = [...delegationsPresent].filter((id) => views.allowed[state.delegations[id].cls].member_state);
  const speakers = new Set(state.speeches.map((s) => s.delegation));
  if (state.speech) speakers.add(state.speech.delegation);
  const absent = Object.values(state.delegations).filter((d) => !delegationsPresent.has(d.id)).map((d) => d.name).sort();
  return {
    participants: connected.size,
    absent,
    states: states.length,
    speakers: speakers.size,
    byRegion: [...byRegion.values()]
      .map((r) => ({ region: r.region, participants: r.participants, delegations: r.delegations.size }))
      .sort((a, b) => a.region.localeCompare(b.region)),
  };
}

function Attendance({ state, views, presence }) {
  const a = attendance(state, views, presence);
  return html`<section class="card" aria-labelledby="att-h">
    <h2 id="att-h">${t("attendance")}</h2>
    <p class="headline" data-testid="attendance">${t("attendance_line", {
      participants: t("att_participants", { n: a.participants }), states: t("att_states", { n: a.states }), speakers: t("att_speakers", { n: a.speakers }),
    })}</p>
    <div class="table-wrap"><table>
      <thead><tr><th>${t("region")}</th><th>${t("participants")}</th><th>${t("delegations")}</th></tr></thead>
      <tbody>${a.byRegion.map((r) => html`<tr key=${r.region}><th scope="row">${r.region}</th><td>${r.participants}</td><td>${r.delegations}</td></tr>`)}</tbody>
    </table></div>
    <details class="absent" data-testid="absent">
      <summary>${t("delegations_absent", { n: a.absent.length, total: Object.keys(state.delegations).length })}</summary>
      <p class="small">${a.absent.join(", ")}</p>
    </details>
  </section>`;
}

function Connections({ state, presence }) {
  const rows = [...presence].sort((a, b) => (a.transport === "polling" ? -1 : 0) - (b.transport === "polling" ? -1 : 0) || String(a.participant).localeCompare(String(b.participant)));
  const polling = presence.filter((c) => c.transport === "polling").length;
  // "+ 0" avoids showing "-0" for an offset that rounds to nothing.
  const fmt = (v, digits = 0) => (typeof v === "number" ? number(Number(v.toFixed(digits)) + 0, digits) : "—");
  return html`<section class="card wide" aria-labelledby="conn-h">
    <h2 id="conn-h">${t("connections")} <span class="count">${presence.length}</span></h2>
    ${polling ? html`<p class="warning">${t("polling_warning", { n: polling })}</p>` : null}
    <div class="table-wrap"><table class="connections" data-testid="connections">
      <thead><tr><th>${t("participant")}</th><th>${t("role")}</th><th>${t("transport")}</th><th>${t("connected_since")}</th>
        <th>${t("rtt")}</th><th>${t("jitter")}</th><th>${t("clock_offset")}</th><th>${t("browser")}</th><th>${t("microphone")}</th><th>${t("camera")}</th><th>${t("input_level")}</th>
        <th>${t("ice")}</th><th>${t("candidate")}</th><th>${t("audio_level")}</th><th>${t("packet_loss")}</th></tr></thead>
      <tbody>${rows.map((c) => {
        const p = state.participants[c.participant];
        return html`<tr key=${c.conn} class=${c.transport === "polling" ? "alarm" : ""} data-participant=${c.participant}>
          <th scope="row">${participantName(state, c.participant)}${p?.delegation ? html`<br /><bdi class="muted small">${delegationName(state, p.delegation)}</bdi>` : null}</th>
          <td>${roleName(c.role)}</td>
          <td>${c.transport === "polling" ? html`<span class="tag tag-alarm" title=${t("polling_hint")}>${t("transport_polling")}</span>` : c.transport}</td>
          <td>${c.connected_at ? timeIn(c.connected_at * 1000, localZone()) : "—"}</td>
          <td>${fmt(c.rtt_ms)}</td><td>${fmt(c.jitter_ms, 1)}</td><td>${fmt(c.clock_offset_ms)}</td>
          <td>${c.browser ?? "—"}</td><td>${c.microphone ? t(`device_${c.microphone}`) : "—"}</td><td>${c.camera ? t(`device_${c.camera}`) : "—"}</td>
          <td>${typeof c.input_level === "number" ? html`<meter min="0" max="0.5" value=${c.input_level}></meter>` : "—"}</td>
          <td data-testid="ice" class=${c.ice === "failed" || c.ice === "disconnected" ? "alarm" : ""}>${c.ice ?? "—"}</td>
          <td data-testid="candidate">${c.candidate ? html`<span class=${c.candidate === "relay" ? "tag" : ""} title=${t(`candidate_${c.candidate}`)}>${c.candidate}</span>` : "—"}</td>
          <td data-testid="audio-level" data-level=${c.audio_level}>${typeof c.audio_level === "number" ? html`<meter min="0" max="0.5" value=${c.audio_level}></meter>` : "—"}</td>
          <td data-testid="packet-loss" class=${c.packet_loss > 0.05 ? "alarm" : ""}>${typeof c.packet_loss === "number" ? `${fmt(c.packet_loss * 100, 1)} %` : "—"}</td>
        </tr>`;
      })}</tbody>
    </table></div>
  </section>`;
}

/** A message shown at once on every screen of one participant (not recorded). */
function MessageForm({ session, participant }) {
  const [text, setText] = useState("");
  const send = async (event) => {
    event.preventDefault();
    const answer = await session.notifyParticipant(participant, text.trim());
    if (answer.ok) {
      setText("");
      notify(t("message_sent"), "info");
    } else notify(errorText(answer.error));
  };
  return html`<form class="row message-form" onSubmit=${send}>
    <label><span class="sr-only">${t("message_to", { name: participantName(session.state, participant) })}</span>
      <input data-testid="message-text" maxlength="1000" placeholder=${t("message_placeholder")} value=${text} onInput=${(e) => setText(e.currentTarget.value)} /></label>
    <button class="small secondary" type="submit" disabled=${!text.trim()}>${t("send_message")}</button>
  </form>`;
}

function HelpRequests({ session }) {
  const { state } = session;
  const requests = Object.entries(state.help_requests).sort((a, b) => a[1].at - b[1].at);
  return html`<section class="card" aria-labelledby="helpq-h">
    <h2 id="helpq-h">${t("help_requests")} <span class=${`count ${requests.length ? "hot" : ""}`}>${requests.length}</span></h2>
    ${requests.length === 0 ? html`<p class="muted">${t("no_help_requests")}</p>` : null}
    <ul class="help-list" data-testid="help-requests">${requests.map(([participant, r]) => {
      const p = state.participants[participant];
      const contact = p?.contact;
      return html`<li key=${participant}><strong>${participantName(state, participant)}</strong>
        ${p?.delegation ? html` <bdi class="muted">${delegationName(state, p.delegation)}</bdi>` : null}
        <span class="muted small"> · ${timeIn(r.at, localZone())}</span>
        ${r.message ? html`<p>${r.message}</p>` : null}
        ${contact ? html`<p class="small">${t("contact")}: ${contact}</p>` : null}
        <div class="row">
          <${MessageForm} session=${session} participant=${participant} />
          <button class="small" data-testid="resolve-help" onClick=${() => act(session, "resolve_help", { participant })}>${t("resolve")}</button>
        </div></li>`;
    })}</ul>
  </section>`;
}

function TimeToFloor({ state, views }) {
  const speeches = state.speeches;
  const ttf = views.time_to_floor;
  const most = Math.max(1, ...ttf.histogram.map((b) => b.count));
  return html`<section class="card" aria-labelledby="ttf-h">
    <h2 id="ttf-h">${t("time_to_floor")} <span class="count">${speeches.length}</span></h2>
    ${speeches.length ? html`<p data-testid="ttf-summary">${t("ttf_summary", {
      median: seconds(ttf.median_ms), p90: seconds(ttf.p90_ms), under: ttf.under_goal, n: ttf.count,
    })}</p>` : html`<p class="muted">${t("no_speeches")}</p>`}
    <div class="histogram" role="img" aria-label=${t("ttf_histogram")} data-testid="ttf-histogram">
      ${ttf.histogram.map((b) => html`<div class=${`hbar ${b.end !== null && b.end * 1000 <= ttf.goal_ms ? "good" : ""}`} key=${b.start}>
        <span class="hcount">${b.count}</span>
        <span class="hfill" style=${`height:${(b.count / most) * 100}%`}></span>
        <span class="hlabel">${b.end === null ? `≥${b.start}` : `${b.start}–${b.end}`} s</span></div>`)}
    </div>
    <div class="table-wrap scroll"><table data-testid="speeches">
      <thead><tr><th>${t("delegation")}</th><th>${t("item")}</th><th>${t("time_to_floor")}</th><th>${t("duration")}</th></tr></thead>
      <tbody>${[...speeches].reverse().map((s, i) => html`<tr key=${i} class=${s.time_to_floor_ms < ttf.goal_ms ? "" : "slow"}>
        <th scope="row"><bdi>${delegationName(state, s.delegation)}</bdi></th><td>${s.item}</td>
        <td data-testid="ttf-value">${seconds(s.time_to_floor_ms)}</td><td>${seconds(s.duration_ms, 0)}</td></tr>`)}</tbody>
    </table></div>
  </section>`;
}

function ConnectionTests({ state }) {
  const tests = Object.entries(state.connection_tests).sort((a, b) => b[1].at - a[1].at);
  return html`<section class="card" aria-labelledby="ctests-h">
    <h2 id="ctests-h">${t("connection_tests")} <span class="count">${tests.length}</span></h2>
    <div class="table-wrap scroll"><table data-testid="connection-tests">
      <thead><tr><th>${t("participant")}</th><th>${t("websocket")}</th><th>${t("rtt")}</th><th>${t("microphone")}</th><th>${t("camera")}</th><th>${t("browser")}</th></tr></thead>
      <tbody>${tests.map(([participant, r]) => html`<tr key=${participant} class=${r.websocket_ok ? "" : "alarm"}>
        <th scope="row">${participantName(state, participant)}</th>
        <td>${r.websocket_ok ? t("ok") : t("blocked")}</td><td>${typeof r.rtt_ms === "number" ? number(r.rtt_ms) : "—"}</td>
        <td>${r.microphone ? t(`device_${r.microphone}`) : "—"}${typeof r.input_level === "number" ? ` (${number(r.input_level * 100)}%)` : ""}</td>
        <td>${r.camera ? t(`device_${r.camera}`) : "—"}</td><td>${r.browser ?? "—"}</td></tr>`)}</tbody>
    </table></div>
  </section>`;
}

export function TechnicalView({ session }) {
  const { state } = session;
  useNow(session, 5000);
  return html`<div class="grid tech-grid">
    <${Attendance} state=${state} views=${session.views} presence=${session.presence} />
    <${HelpRequests} session=${session} />
    <${TimeToFloor} state=${state} views=${session.views} />
    <${ConnectionTests} state=${state} />
    <${Connections} state=${state} presence=${session.presence} />
  </div>`;
}
