// @ts-check
/**
 * The timeline of a recorded session on its review page: an SVG with one
 * lane per participant (presence, recorded segments, gaps, speaking) and
 * the session's marks (consent, joins, pauses, end) over a time axis in the
 * viewer's zone. Clicking or dragging on it, or the arrow keys when it has
 * the focus (it is an ARIA slider), seeks the player; the marks are also a
 * list of buttons below it.
 *
 * The model (normalize, fromRecording) and the axis (ticks) are plain
 * functions, tested by testdata/timeline_test.mjs; drawTimeline needs the
 * DOM. SVG is drawn with createElementNS and attributes only (no inline
 * styles: the CSP forbids them; colours are in style.css).
 *
 * @module timeline
 */

import { has, t } from './i18n.js';
import { formatInstant, zoneOffset } from './tz.js';
import { h, newId } from './staff-dom.js';
import { parseTime } from './playclock.js';

/**
 * @typedef {{from: number, to: number}} Span
 * @typedef {{from: number, to: number, reason: string}} GapSpan
 * @typedef {{index: number, from: number, to: number, sealed?: boolean}} SegSpan sealed: recorded in a private room, sealed to the mediator
 * @typedef {{id: string, name: string, role: string, presence: Span[], segments: SegSpan[], screen: SegSpan[], gaps: GapSpan[],
 *   speaking: Span[]}} Lane screen: the segments of the participant's screen share
 * @typedef {{time: number, kind: string, label: string, participant: string}} Mark
 * @typedef {{start: number, end: number, zone: string, source: string, lanes: Lane[], marks: Mark[]}} Model
 */

/**
 * @param {any} list
 * @returns {Span[]}
 */
function spans(list) {
  /** @type {Span[]} */
  const out = [];
  for (const x of Array.isArray(list) ? list : []) {
    const from = parseTime(x?.from);
    const to = parseTime(x?.to);
    if (Number.isFinite(from) && Number.isFinite(to) && to >= from) out.push({ ...x, from, to });
  }
  return out.sort((a, b) => a.from - b.from);
}

/**
 * The model of a timeline answer (GET /api/v1/sessions/{id}/timeline):
 * times in ms, malformed entries dropped, the span widened to hold every
 * lane and mark.
 * @param {any} tl
 * @returns {Model | null} null when it spans no time
 */
export function normalize(tl) {
  /** @type {Lane[]} */
  const lanes = (tl?.lanes ?? []).map((/** @type {any} */ l) => ({
    id: String(l.participant_id ?? ''), name: String(l.name ?? ''), role: String(l.role ?? ''),
    presence: spans(l.presence),
    segments: /** @type {SegSpan[]} */ (spans(l.segments).map((s) => ({ index: Number(/** @type {any} */ (s).index), from: s.from, to: s.to, ...(/** @type {any} */ (s).sealed ? { sealed: true } : {}) }))),
    screen: /** @type {SegSpan[]} */ (spans(l.screen).map((s) => ({ index: Number(/** @type {any} */ (s).index), from: s.from, to: s.to, ...(/** @type {any} */ (s).sealed ? { sealed: true } : {}) }))),
    gaps: /** @type {GapSpan[]} */ (spans(l.gaps).map((g) => ({ from: g.from, to: g.to, reason: String(/** @type {any} */ (g).reason ?? '') }))),
    speaking: spans(l.speaking).map((s) => ({ from: s.from, to: s.to })),
  }));
  /** @type {Mark[]} */
  const marks = [];
  for (const m of tl?.marks ?? []) {
    const time = parseTime(m?.time);
    if (Number.isFinite(time)) marks.push({ time, kind: String(m.kind ?? ''), label: String(m.label ?? ''), participant: String(m.participant_id ?? '') });
  }
  marks.sort((a, b) => a.time - b.time);
  let start = parseTime(tl?.start);
  let end = parseTime(tl?.end);
  const times = [
    ...lanes.flatMap((l) => [...l.presence, ...l.segments, ...l.screen, ...l.gaps, ...l.speaking].flatMap((s) => [s.from, s.to])),
    ...marks.map((m) => m.time),
  ];
  if (times.length) {
    start = Number.isFinite(start) ? Math.min(start, ...times) : Math.min(...times);
    end = Number.isFinite(end) ? Math.max(end, ...times) : Math.max(...times);
  }
  if (!Number.isFinite(start) || !Number.isFinite(end) || end <= start) return null;
  return { start, end, zone: String(tl?.time_zone ?? 'UTC'), source: String(tl?.source ?? ''), lanes, marks };
}

/**
 * A timeline answer built from a recording listing, for when the session
 * has no timeline route (an older node): a lane per recorded participant
 * with its segments, the gaps inside them, and presence as the stretches
 * its segments cover.
 * @param {any} rec
 * @param {string} [zone]
 */
export function fromRecording(rec, zone = 'UTC') {
  const lanes = (rec?.participants ?? []).map((/** @type {any} */ p) => {
    const all = [...(p.segments ?? [])].sort((a, b) => parseTime(a.wall_start) - parseTime(b.wall_start));
    const segs = all.filter((s) => !s.stream);
    /** @type {{from: string, to: string}[]} */
    const presence = [];
    for (const s of segs) {
      const last = presence[presence.length - 1];
      if (last && parseTime(s.wall_start) - parseTime(last.to) <= 1000) last.to = s.wall_end;
      else presence.push({ from: s.wall_start, to: s.wall_end });
    }
    return {
      participant_id: p.id, name: p.name, role: p.role, presence,
      segments: segs.map((s) => ({ index: s.index, from: s.wall_start, to: s.wall_end, ...(s.sealed ? { sealed: true } : {}) })),
      screen: all.filter((s) => s.stream === 'screen').map((s) => ({ index: s.index, from: s.wall_start, to: s.wall_end, ...(s.sealed ? { sealed: true } : {}) })),
      gaps: all.flatMap((s) => (Array.isArray(s.gaps) ? s.gaps : [])),
      speaking: [],
    };
  });
  const marks = rec?.ended_at ? [{ time: rec.ended_at, kind: 'session.end', label: '' }] : [];
  return { session_id: rec?.session_id, time_zone: zone, start: rec?.started_at, end: rec?.ended_at, source: 'records', lanes, marks };
}

const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400].map((s) => s * 1000);

/**
 * The ticks of a time axis from start to end (ms), at most max of them, on
 * round wall times of zone.
 * @param {number} start
 * @param {number} end
 * @param {number} max
 * @param {string} zone
 * @returns {{step: number, ticks: number[]}}
 */
export function ticks(start, end, max, zone) {
  const span = Math.max(1, end - start);
  const step = STEPS.find((s) => Math.floor(span / s) + 1 <= Math.max(1, max)) ?? STEPS[STEPS.length - 1];
  const offset = zoneOffset(zone, start);
  const out = [];
  for (let x = Math.ceil((start + offset) / step) * step - offset; x <= end; x += step) out.push(x);
  return { step, ticks: out };
}

/**
 * A name, shortened to n characters with an ellipsis.
 * @param {string} s
 * @param {number} n
 */
export function shorten(s, n) {
  const chars = [...s];
  return chars.length <= n ? s : `${chars.slice(0, Math.max(1, n - 1)).join('')}…`;
}

// ---- Labels --------------------------------------------------------------------

/** @param {string} kind */
export function markLabel(kind) {
  return has(`staff.mark.${kind}`) ? t(`staff.mark.${kind}`) : kind;
}

/** @param {string} reason */
export function gapLabel(reason) {
  return has(`staff.gap.${reason}`) ? t(`staff.gap.${reason}`) : (reason || t('staff.gap.unknown'));
}

// ---- Drawing -------------------------------------------------------------------

const SVG = 'http://www.w3.org/2000/svg';

/**
 * Creates an SVG element with attributes and children.
 * @param {string} tag
 * @param {Record<string, string | number | null | undefined>} [attrs]
 * @param {...(Node | string | null | undefined)} children
 * @returns {SVGElement}
 */
function s(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== null && v !== undefined) node.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return /** @type {SVGElement} */ (node);
}

/**
 * A <title> for a shape: its tooltip and accessible name.
 * @param {string} text
 */
function tip(text) {
  return s('title', {}, text);
}

/** A mark kind as a CSS class name part. */
function kindClass(/** @type {string} */ kind) {
  return kind.replace(/[^a-z0-9]+/gi, '-');
}

/**
 * @typedef {object} TimelineView
 * @property {HTMLElement} element the timeline with its marks list
 * @property {(ms: number) => void} setTime moves the playhead
 * @property {() => void} destroy stops listening to resizes
 */

/**
 * Draws the timeline of model. onSeek(ms) is called when the viewer picks a
 * time: a click or drag on the lanes, a key, or a mark in the list.
 * @param {Model} model
 * @param {{viewerZone: string, onSeek: (ms: number) => void}} options
 * @returns {TimelineView}
 */
export function drawTimeline(model, { viewerZone, onSeek }) {
  const descId = newId('timeline-desc');
  const svgHolder = h('div', { class: 'tl-frame' });
  const summary = h('ul', { class: 'visually-hidden', id: descId },
    model.lanes.map((l) => h('li', { text: t('staff.timeline.laneSummary', {
      name: l.name, segments: l.segments.length, gaps: l.gaps.length }) })));
  const events = eventsList(model, viewerZone, onSeek);
  const legend = h('ul', { class: 'tl-legend', 'aria-hidden': 'true' },
    ['presence', 'segment', 'gap', 'speaking', 'mark', ...(model.lanes.some((l) => [...l.segments, ...l.screen].some((sg) => sg.sealed)) ? ['sealed'] : [])].map((k) => h('li', {},
      h('span', { class: `tl-key tl-key-${k}` }), h('span', { text: t(`staff.timeline.legend.${k}`) }))));
  const element = h('div', { class: 'timeline', 'data-testid': 'timeline', 'data-source': model.source },
    svgHolder, legend, summary, events);

  let now = model.start;
  /** @type {SVGElement | null} */
  let svg = null;
  /** @type {SVGElement | null} */
  let playhead = null;
  let geometry = { x0: 0, x1: 1 };

  const x = (/** @type {number} */ ms) => geometry.x0 + ((ms - model.start) / (model.end - model.start)) * (geometry.x1 - geometry.x0);
  const timeAt = (/** @type {number} */ px) => {
    const f = (px - geometry.x0) / Math.max(1, geometry.x1 - geometry.x0);
    return model.start + Math.min(1, Math.max(0, f)) * (model.end - model.start);
  };

  const draw = () => {
    const width = Math.max(280, Math.round(svgHolder.clientWidth || 720));
    const narrow = width < 520;
    const labelW = narrow ? 76 : 150;
    geometry = { x0: labelW + 8, x1: width - 14 };
    const axisH = 26;
    const markH = 14;
    const laneH = 40;
    const top = axisH + markH + 4;
    const height = top + Math.max(1, model.lanes.length) * laneH + 6;
    const root = s('svg', {
      viewBox: `0 0 ${width} ${height}`, width, height, class: 'tl-svg', 'data-testid': 'timeline-svg',
      tabindex: 0, role: 'slider', 'aria-label': t('staff.timeline.label'), 'aria-describedby': descId,
      'aria-valuemin': 0, 'aria-valuemax': Math.round((model.end - model.start) / 1000),
    });

    // Axis.
    const { step, ticks: marksAt } = ticks(model.start, model.end, Math.floor((geometry.x1 - geometry.x0) / (narrow ? 64 : 80)), viewerZone);
    const axis = s('g', { class: 'tl-axis', 'data-testid': 'timeline-axis', 'data-zone': viewerZone });
    for (const tk of marksAt) {
      const px = x(tk);
      axis.append(
        s('line', { x1: px, x2: px, y1: axisH - 6, y2: height - 4, class: 'tl-tick' }),
        s('text', { x: px, y: 12, class: 'tl-tick-label', 'text-anchor': 'middle', 'data-time': new Date(tk).toISOString() },
          formatInstant(tk, viewerZone, { date: false, seconds: step < 60000 })));
    }
    root.append(axis);

    // Lanes.
    model.lanes.forEach((lane, i) => {
      const y = top + i * laneH;
      const g = s('g', { class: 'tl-lane', 'data-testid': 'timeline-lane', 'data-participant-id': lane.id });
      g.append(
        s('rect', { x: geometry.x0, y: y + 2, width: geometry.x1 - geometry.x0, height: laneH - 4, class: 'tl-lane-bg' }),
        s('text', { x: 4, y: y + 17, class: 'tl-name' }, shorten(lane.name, narrow ? 9 : 18), tip(lane.name)),
        s('text', { x: 4, y: y + 32, class: 'tl-role' }, shorten(has(`role.${lane.role}`) ? t(`role.${lane.role}`) : lane.role, narrow ? 9 : 18)));
      for (const p of lane.presence) {
        g.append(s('rect', { x: x(p.from), y: y + 6, width: Math.max(1, x(p.to) - x(p.from)), height: laneH - 14, class: 'tl-presence', 'data-testid': 'timeline-presence' },
          tip(t('staff.timeline.present', { from: formatInstant(p.from, viewerZone, { date: false }), to: formatInstant(p.to, viewerZone, { date: false }) }))));
      }
      for (const sg of lane.segments) {
        g.append(s('rect', { x: x(sg.from), y: y + 9, width: Math.max(1, x(sg.to) - x(sg.from)), height: laneH - 20, class: 'tl-seg',
          'data-testid': 'timeline-segment', 'data-participant-id': lane.id, 'data-index': sg.index },
        tip(t('staff.timeline.segment', { index: sg.index, from: formatInstant(sg.from, viewerZone, { date: false }), to: formatInstant(sg.to, viewerZone, { date: false }) }))));
      }
      // Segments recorded in a private room: a band "sealed to the
      // mediator" over them (the media plays for the mediator only).
      for (const sg of [...lane.segments, ...lane.screen].filter((seg) => seg.sealed)) {
        g.append(s('rect', { x: x(sg.from), y: y + laneH - 16, width: Math.max(1, x(sg.to) - x(sg.from)), height: 6, class: 'tl-sealed',
          'data-testid': 'timeline-sealed', 'data-participant-id': lane.id, 'data-index': sg.index },
        tip(t('staff.timeline.sealed', { index: sg.index, from: formatInstant(sg.from, viewerZone, { date: false }), to: formatInstant(sg.to, viewerZone, { date: false }) }))));
      }
      // The screen share: a band across the top of the lane.
      for (const sg of lane.screen) {
        g.append(s('rect', { x: x(sg.from), y: y + 3, width: Math.max(1, x(sg.to) - x(sg.from)), height: 4, class: 'tl-screen',
          'data-testid': 'timeline-screen', 'data-participant-id': lane.id, 'data-index': sg.index },
        tip(t('staff.timeline.screen', { index: sg.index, from: formatInstant(sg.from, viewerZone, { date: false }), to: formatInstant(sg.to, viewerZone, { date: false }) }))));
      }
      for (const gp of lane.gaps) {
        g.append(s('rect', { x: x(gp.from), y: y + 6, width: Math.max(2, x(gp.to) - x(gp.from)), height: laneH - 14, class: 'tl-gap',
          'data-testid': 'timeline-gap', 'data-reason': gp.reason },
        tip(t('staff.timeline.gap', { reason: gapLabel(gp.reason), from: formatInstant(gp.from, viewerZone, { date: false }), to: formatInstant(gp.to, viewerZone, { date: false }) }))));
      }
      for (const sp of lane.speaking) {
        g.append(s('rect', { x: x(sp.from), y: y + laneH - 9, width: Math.max(1, x(sp.to) - x(sp.from)), height: 4, class: 'tl-speak', 'data-testid': 'timeline-speaking' }));
      }
      root.append(g);
    });
    if (model.lanes.length === 0) {
      root.append(s('text', { x: geometry.x0, y: top + 24, class: 'tl-role' }, t('staff.timeline.noLanes')));
    }

    // Marks.
    for (const m of model.marks) {
      const px = x(m.time);
      const who = model.lanes.find((l) => l.id === m.participant)?.name;
      root.append(s('g', { class: `tl-mark tl-mark-${kindClass(m.kind)}`, 'data-testid': 'timeline-mark', 'data-kind': m.kind },
        s('line', { x1: px, x2: px, y1: axisH + markH, y2: height - 4, class: 'tl-mark-line' }),
        s('path', { d: `M${px - 5},${axisH} L${px + 5},${axisH} L${px},${axisH + markH - 2} Z`, class: 'tl-mark-glyph' }),
        tip(`${formatInstant(m.time, viewerZone, { date: false })} · ${markLabel(m.kind)}${who ? ` · ${who}` : ''}${m.label ? ` · ${m.label}` : ''}`)));
    }

    playhead = s('line', { y1: axisH - 4, y2: height - 2, class: 'tl-playhead', 'data-testid': 'timeline-playhead' });
    root.append(playhead);
    svg?.remove();
    svg = root;
    svgHolder.append(root);
    attach(root);
    place();
  };

  const place = () => {
    if (!playhead || !svg) return;
    const px = x(now);
    playhead.setAttribute('x1', String(px));
    playhead.setAttribute('x2', String(px));
    svg.setAttribute('aria-valuenow', String(Math.round((now - model.start) / 1000)));
    svg.setAttribute('aria-valuetext', `${formatInstant(now, viewerZone)} (${viewerZone})`);
  };

  /** @param {SVGElement} root */
  const attach = (root) => {
    let dragging = false;
    const pick = (/** @type {PointerEvent} */ ev) => {
      const box = root.getBoundingClientRect();
      const scale = box.width ? Number(root.getAttribute('width')) / box.width : 1;
      const px = (ev.clientX - box.left) * scale;
      if (px < geometry.x0 - 8) return;
      onSeek(timeAt(px));
    };
    root.addEventListener('pointerdown', (ev) => {
      const pe = /** @type {PointerEvent} */ (ev);
      if (pe.button !== 0) return;
      dragging = true;
      root.setPointerCapture?.(pe.pointerId);
      pick(pe);
    });
    root.addEventListener('pointermove', (ev) => { if (dragging) pick(/** @type {PointerEvent} */ (ev)); });
    const stop = () => { dragging = false; };
    root.addEventListener('pointerup', stop);
    root.addEventListener('pointercancel', stop);
    root.addEventListener('keydown', (ev) => {
      const ke = /** @type {KeyboardEvent} */ (ev);
      const small = ke.shiftKey ? 1000 : 5000;
      /** @type {Record<string, number>} */
      const moves = { ArrowLeft: -small, ArrowDown: -small, ArrowRight: small, ArrowUp: small, PageDown: -60000, PageUp: 60000 };
      let to = null;
      if (ke.key in moves) to = now + moves[ke.key];
      else if (ke.key === 'Home') to = model.start;
      else if (ke.key === 'End') to = model.end;
      if (to === null) return;
      ke.preventDefault();
      to = Math.min(model.end, Math.max(model.start, to));
      now = to;
      place();
      onSeek(to);
    });
  };

  /** @type {ResizeObserver | null} */
  let observer = null;
  let lastWidth = 0;
  if (typeof ResizeObserver !== 'undefined') {
    observer = new ResizeObserver(() => {
      const w = Math.round(svgHolder.clientWidth);
      if (w && Math.abs(w - lastWidth) > 2) {
        lastWidth = w;
        draw();
      }
    });
    observer.observe(svgHolder);
  }
  // The first drawing waits until the holder is in the page and has a width.
  requestAnimationFrame(() => {
    lastWidth = Math.round(svgHolder.clientWidth);
    draw();
  });

  return {
    element,
    setTime(ms) {
      now = ms;
      place();
    },
    destroy() {
      observer?.disconnect();
    },
  };
}

/**
 * The marks as a list of buttons that seek to them.
 * @param {Model} model
 * @param {string} zone
 * @param {(ms: number) => void} onSeek
 */
function eventsList(model, zone, onSeek) {
  if (model.marks.length === 0) return h('p', { class: 'muted', text: t('staff.timeline.noMarks') });
  return h('details', { class: 'tl-events-box', open: model.marks.length <= 12 },
    h('summary', { text: t('staff.timeline.marks', { count: model.marks.length }) }),
    h('ol', { class: 'tl-events', 'data-testid': 'timeline-events' },
      model.marks.map((m) => {
        const who = model.lanes.find((l) => l.id === m.participant)?.name;
        return h('li', {},
          h('button', { type: 'button', class: 'linklike', 'data-testid': 'timeline-event', 'data-kind': m.kind, title: m.label || null, onclick: () => onSeek(m.time) },
            h('time', { datetime: new Date(m.time).toISOString(), class: 'mono', text: formatInstant(m.time, zone, { date: false }) }),
            ' ', h('span', { text: markLabel(m.kind) }),
            who ? h('span', { class: 'muted', text: ` · ${who}` }) : null));
      })));
}
