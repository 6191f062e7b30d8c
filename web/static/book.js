// @ts-check
/**
 * The booking page (static/book.html, served at /book/{invite}): a party
 * with an invite picks a free slot of the organization's office hours for
 * a session the organizer left to be booked. Slots come from
 * POST /api/v1/booking/slots as instants in UTC and are shown in the
 * browser's zone, the organization's time beside them; picking one and
 * confirming books it (POST /api/v1/booking), and the answer's calendar
 * file can be downloaded.
 *
 * For tests: document.body.dataset.screen names the view shown.
 *
 * @module book
 */

import { LANGUAGES, detectLanguage, getLanguage, has, setLanguage, t } from './i18n.js';
import { browserZone, formatInstant } from './tz.js';
import { placeOf, slotsByDay } from './hours.js';
import { hoursLines } from './prejoinhours.js';

/** How many days of slots the page asks for. */
const DAYS = 14;

const invite = (() => {
  const m = /^\/book\/([^/]+)\/?$/.exec(location.pathname);
  try {
    return m ? decodeURIComponent(m[1]) : '';
  } catch {
    return '';
  }
})();

const viewerZone = browserZone();

/** Plain page state. */
const state = {
  /** @type {any} the slots answer */
  data: null,
  /** @type {{start: string, end: string} | null} the slot picked, not yet booked */
  picked: null,
  /** @type {any} the booking answer */
  booked: null,
  /** @type {{code: string, message: string} | null} */
  error: null,
  langFromQuery: new URLSearchParams(location.search).has('lang'),
  /** @type {string} blob URL of the calendar file */
  icsURL: '',
};

/**
 * @param {string} id
 * @returns {HTMLElement}
 */
function $(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`no #${id}`);
  return el;
}

/** @param {'loading' | 'error' | 'book' | 'done'} view */
function showView(view) {
  for (const section of document.querySelectorAll('main > section[data-view]')) {
    /** @type {HTMLElement} */ (section).hidden = section.getAttribute('data-view') !== view;
  }
  document.body.dataset.screen = view;
}

/**
 * POSTs body to path and returns the JSON answer.
 * @param {string} path
 * @param {object} body
 * @returns {Promise<any>}
 * @throws {{code: string, message: string}}
 */
async function post(path, body) {
  let res;
  try {
    res = await fetch(path, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
      cache: 'no-store', credentials: 'same-origin',
    });
  } catch (err) {
    throw { code: 'network', message: String(err) };
  }
  /** @type {any} */
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const e = data?.error;
    throw { code: typeof e?.code === 'string' ? e.code : 'internal', message: e?.message ?? `HTTP ${res.status}` };
  }
  return data;
}

/** @param {{code: string, message?: string}} err */
function errorMessage(err) {
  return has(`error.${err.code}`) ? t(`error.${err.code}`) : (err.message || t('error.unknown'));
}

/**
 * A time as people read it, in zone.
 * @param {string} iso
 * @param {string} zone
 */
function longTime(iso, zone) {
  try {
    return new Intl.DateTimeFormat(getLanguage(), {
      weekday: 'short', day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: zone,
    }).format(new Date(iso));
  } catch {
    return iso;
  }
}

/**
 * The clock time of iso in zone, HH:MM.
 * @param {string} iso
 * @param {string} zone
 */
function clock(iso, zone) {
  return formatInstant(Date.parse(iso), zone, { date: false, seconds: false });
}

/**
 * A day heading in the viewer's zone.
 * @param {string} iso an instant of that day
 */
function dayHeading(iso) {
  try {
    return new Intl.DateTimeFormat(getLanguage(), { weekday: 'long', day: 'numeric', month: 'long', timeZone: viewerZone }).format(new Date(iso));
  } catch {
    return iso.slice(0, 10);
  }
}

/** The organization's zone, or the session's when it has no hours. */
function orgZone() {
  return state.data?.office_hours?.time_zone || state.data?.session?.time_zone || 'UTC';
}

/**
 * A slot's time in both zones, for the confirmation and the done view.
 * @param {string} start
 */
function bothZones(start) {
  const zone = orgZone();
  return { time: longTime(start, viewerZone), org: longTime(start, zone), place: placeOf(zone) };
}

// ---- Rendering --------------------------------------------------------------

function translateStatic() {
  document.documentElement.lang = getLanguage();
  for (const node of document.querySelectorAll('[data-i18n]')) {
    node.textContent = t(node.getAttribute('data-i18n') ?? '');
  }
  /** @type {HTMLSelectElement} */ ($('lang-select')).value = getLanguage();
}

function render() {
  translateStatic();
  if (state.error) {
    $('error-text').textContent = errorMessage(state.error);
    $('error-code').textContent = state.error.code;
    showView('error');
    return;
  }
  if (state.booked) {
    renderDone();
    return;
  }
  if (!state.data) {
    showView('loading');
    return;
  }
  renderBook();
}

function renderBook() {
  const { session, office_hours: hours, slots } = state.data;
  document.title = `${t('book.title')} · ${session.title} · 跨洋 Kuayang`;
  const c = session.case;
  $('book-session').textContent = [session.title, c?.number, c?.title].filter(Boolean).join(' · ');
  const hoursBox = $('book-hours');
  hoursBox.replaceChildren(...(hours ? hoursLines(hours, viewerZone) : [t('book.noHours')]).map((text) => {
    const span = document.createElement('span');
    span.className = 'time-line';
    span.textContent = text;
    return span;
  }));
  if (hours?.organization) hoursBox.title = hours.organization;
  const booking = session.self_booking;
  const status = $('book-status');
  if (!booking) status.textContent = t('book.notOpen');
  else if (booking.booked_at) status.textContent = t('book.current', { time: longTime(session.scheduled_start, viewerZone) });
  else status.textContent = t('book.notBooked');
  $('book-zone').textContent = t('book.zone', { zone: viewerZone });

  const box = $('book-confirm-box');
  box.hidden = !state.picked;
  if (state.picked) {
    const b = bothZones(state.picked.start);
    const minutes = Math.round((Date.parse(state.picked.end) - Date.parse(state.picked.start)) / 60000);
    $('book-confirm-text').textContent = t('book.confirm.text', { ...b, minutes });
  }

  const list = $('slots');
  if (!booking) {
    list.replaceChildren();
  } else if (hours && slots.length === 0) {
    const p = document.createElement('p');
    p.className = 'muted';
    p.dataset.testid = 'slots-none';
    p.textContent = t('book.none', { days: DAYS });
    list.replaceChildren(p);
  } else {
    list.replaceChildren(...slotsByDay(slots, viewerZone).map(dayBlock));
  }
  showView('book');
}

/**
 * One day's slots.
 * @param {{date: string, slots: {start: string, end: string}[]}} day
 */
function dayBlock(day) {
  const zone = orgZone();
  const section = document.createElement('section');
  section.className = 'slot-day';
  section.dataset.testid = 'slot-day';
  section.dataset.date = day.date;
  const h = document.createElement('h2');
  h.textContent = dayHeading(day.slots[0].start);
  const list = document.createElement('div');
  list.className = 'slot-list';
  for (const s of day.slots) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'btn slot';
    b.dataset.testid = 'slot';
    b.dataset.start = s.start;
    b.setAttribute('aria-pressed', String(state.picked?.start === s.start));
    const mine = document.createElement('span');
    mine.className = 'slot-time';
    mine.dataset.testid = 'slot-local';
    mine.textContent = clock(s.start, viewerZone);
    b.append(mine);
    if (zone !== viewerZone) {
      const theirs = document.createElement('span');
      theirs.className = 'slot-org';
      theirs.dataset.testid = 'slot-org';
      theirs.textContent = t('book.slot.org', { time: clock(s.start, zone), place: placeOf(zone) });
      b.append(theirs);
    }
    b.addEventListener('click', () => {
      state.picked = s;
      hideError();
      render();
      /** @type {HTMLElement} */ ($('book-confirm')).focus();
    });
    list.append(b);
  }
  section.append(h, list);
  return section;
}

function renderDone() {
  const { session, invitation } = state.booked;
  const b = bothZones(session.scheduled_start);
  $('done-text').textContent = `${b.time} (${t('book.slot.org', { time: b.org, place: b.place })})`;
  const ics = /** @type {HTMLAnchorElement} */ ($('done-ics'));
  if (invitation?.ics) {
    if (state.icsURL) URL.revokeObjectURL(state.icsURL);
    state.icsURL = URL.createObjectURL(new Blob([invitation.ics], { type: 'text/calendar' }));
    ics.href = state.icsURL;
    ics.download = invitation.ics_filename || 'kuayang.ics';
  }
  ics.hidden = !invitation?.ics;
  /** @type {HTMLAnchorElement} */ ($('done-join')).href = `/join/${encodeURIComponent(invite)}${location.search}`;
  showView('done');
}

/** @param {string} text */
function showError(text) {
  const e = $('book-error');
  e.textContent = text;
  e.hidden = !text;
}

function hideError() {
  showError('');
}

// ---- Actions ----------------------------------------------------------------

async function load() {
  try {
    state.data = await post('/api/v1/booking/slots', { invite, days: DAYS });
    if (!state.langFromQuery && state.data?.participant?.language) {
      setLanguage(detectLanguage({ search: location.search, participantLanguage: state.data.participant.language }));
    }
  } catch (err) {
    state.error = /** @type {any} */ (err);
  }
  render();
}

async function confirm() {
  if (!state.picked) return;
  const button = /** @type {HTMLButtonElement} */ ($('book-confirm'));
  button.disabled = true;
  button.textContent = t('book.booking');
  try {
    state.booked = await post('/api/v1/booking', { invite, start: state.picked.start });
    state.picked = null;
    render();
  } catch (err) {
    const e = /** @type {{code: string, message: string}} */ (err);
    state.picked = null;
    if (['invite_invalid', 'invite_expired', 'invite_revoked', 'session_ended'].includes(e.code)) {
      state.error = e;
      render();
      return;
    }
    // The slots changed (taken, or passed): show the fresh ones.
    await load();
    showError(`${errorMessage(e)} (${e.code})`);
  } finally {
    button.disabled = false;
    button.textContent = t('book.confirm');
  }
}

function setup() {
  setLanguage(detectLanguage({ search: location.search, browserLanguages: navigator.languages ?? [navigator.language] }));
  const picker = /** @type {HTMLSelectElement} */ ($('lang-select'));
  for (const { code, name } of LANGUAGES) {
    const o = document.createElement('option');
    o.value = code;
    o.lang = code;
    o.textContent = name;
    picker.append(o);
  }
  picker.addEventListener('change', () => {
    setLanguage(picker.value);
    state.langFromQuery = true;
    render();
  });
  $('book-confirm').addEventListener('click', confirm);
  $('book-cancel').addEventListener('click', () => {
    state.picked = null;
    render();
  });
  $('done-change').addEventListener('click', async () => {
    state.booked = null;
    state.data = null;
    render();
    await load();
  });
  if (!invite) {
    state.error = { code: 'invite_invalid', message: '' };
    render();
    return;
  }
  render();
  load();
}

setup();
