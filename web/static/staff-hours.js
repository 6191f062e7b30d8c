// @ts-check
/**
 * The organization's office hours (/staff/hours): every staff member sees
 * them, in the organization's zone and in their own; an administrator
 * sets them (GET and PUT /api/v1/org/hours).
 *
 * @module staff-hours
 */

import { getLanguage, t } from './i18n.js';
import { COMMON_ZONES, browserZone } from './tz.js';
import { WEEKDAYS, dayList, hoursInZone, placeOf } from './hours.js';
import { announce, errorBox, field, h, loadingView, select, setMain, showError } from './staff-dom.js';
import { DEFAULT_ZONE, api, formatTime, handleError, state } from './staff-common.js';

/** Slot lengths offered, in minutes. */
const SLOT_LENGTHS = [15, 20, 30, 45, 60, 90, 120];

/** Monday first. */
const WEEK = [1, 2, 3, 4, 5, 6, 0];

export async function showHours() {
  const seq = state.seq;
  document.title = `${t('staff.hours.title')} · 跨洋 Kuayang`;
  setMain(loadingView());
  try {
    const { office_hours: hours } = await api.request('GET', '/api/v1/org/hours');
    if (seq !== state.seq) return;
    const draw = () => drawHours(hours);
    state.redraw = draw;
    draw();
  } catch (err) {
    if (seq === state.seq) handleError(err);
  }
}

/**
 * @param {import('./hours.js').OfficeHours & {updated_at?: string} | null} hours
 */
function drawHours(hours) {
  const admin = state.account?.role === 'admin';
  setMain(
    h('nav', { class: 'crumbs' }, h('a', { href: '/staff/', 'data-link': '', text: `← ${t('staff.cases.title')}` })),
    h('section', { class: 'panel', 'data-testid': 'hours', 'aria-labelledby': 'hours-heading' },
      h('h1', { id: 'hours-heading', text: t('staff.hours.title') }),
      h('p', { class: 'hint', text: t('staff.hours.intro') }),
      hours ? summary(hours) : h('p', { class: 'muted', 'data-testid': 'hours-none', text: t('staff.hours.none') }),
      admin ? null : h('p', { class: 'muted', text: t('staff.hours.readOnly') })),
    admin ? hoursForm(hours) : null);
}

/**
 * The hours as text, in the organization's zone and in the viewer's.
 * @param {import('./hours.js').OfficeHours & {updated_at?: string}} hours
 */
function summary(hours) {
  const here = browserZone();
  const rows = WEEK.map((d) => {
    const ranges = hours.weekly[WEEKDAYS[d]] ?? [];
    return [h('dt', { text: dayList([d], getLanguage()) }),
      h('dd', { 'data-testid': `hours-show-${WEEKDAYS[d]}`, text: ranges.length ? ranges.join(', ').replace(/-/g, '–') : t('staff.hours.dayClosed') })];
  });
  const theirs = here === hours.time_zone ? [] : hoursInZone(hours, here).map((g) =>
    h('span', { class: 'time-line', text: `${dayList(g.days, getLanguage())} ${g.viewer} (${g.org} ${placeOf(hours.time_zone)})` }));
  return h('div', { class: 'hours-summary', 'data-testid': 'hours-summary' },
    h('dl', { class: 'details' },
      h('dt', { text: t('staff.hours.zone') }), h('dd', { 'data-testid': 'hours-show-zone', text: hours.time_zone }),
      h('dt', { text: t('staff.hours.slot') }), h('dd', { text: t('staff.hours.minutes', { n: hours.slot_minutes }) }),
      rows,
      h('dt', { text: t('staff.hours.closed') }), h('dd', { text: hours.closed.length ? hours.closed.join(', ') : t('staff.hours.closedNone') })),
    theirs.length ? h('p', { class: 'muted' }, t('staff.hours.yours', { zone: here }), ...theirs) : null,
    hours.updated_at ? h('p', { class: 'hint' }, h('time', { datetime: hours.updated_at, text: formatTime(hours.updated_at) })) : null);
}

/**
 * The administrator's form.
 * @param {import('./hours.js').OfficeHours | null} hours
 */
function hoursForm(hours) {
  const zones = [...COMMON_ZONES];
  const current = hours?.time_zone ?? DEFAULT_ZONE;
  const here = browserZone();
  for (const z of [current, here]) if (!zones.includes(/** @type {any} */ (z))) zones.push(/** @type {any} */ (z));
  const zone = select({ name: 'zone', 'data-testid': 'hours-zone' }, zones.map((z) => /** @type {[string, string]} */ ([z, z])), current);
  const slot = select({ name: 'slot', 'data-testid': 'hours-slot' },
    SLOT_LENGTHS.map((n) => /** @type {[string, string]} */ ([String(n), t('staff.hours.minutes', { n })])), String(hours?.slot_minutes ?? 30));
  /** @type {Record<string, HTMLInputElement>} */
  const days = {};
  const dayFields = WEEK.map((d) => {
    const key = WEEKDAYS[d];
    const input = /** @type {HTMLInputElement} */ (h('input', { type: 'text', name: key, autocomplete: 'off', 'data-testid': `hours-day-${key}`,
      placeholder: '14:00-22:00', value: (hours?.weekly[key] ?? []).join(', ') }));
    days[key] = input;
    return field(dayList([d], getLanguage()), input);
  });
  const closed = /** @type {HTMLTextAreaElement} */ (h('textarea', { name: 'closed', rows: 3, 'data-testid': 'hours-closed' }));
  closed.value = (hours?.closed ?? []).join('\n');
  const submit = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'hours-save', text: t('staff.hours.save') }));
  const error = errorBox('hours-error');
  const form = h('form', { class: 'panel hours-form', 'aria-labelledby': 'hours-form-heading' },
    h('h2', { id: 'hours-form-heading', text: t('staff.hours.week') }),
    h('div', { class: 'form-row' }, field(t('staff.hours.zone'), zone), field(t('staff.hours.slot'), slot)),
    h('p', { class: 'hint', text: t('staff.hours.dayHint') }),
    h('div', { class: 'hours-days' }, dayFields),
    field(t('staff.hours.closed'), closed, t('staff.hours.closedHint')),
    h('div', { class: 'actions' }, submit),
    error);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    showError(error, '');
    /** @type {Record<string, string[]>} */
    const weekly = {};
    for (const [key, input] of Object.entries(days)) {
      const ranges = input.value.split(/[,;，；\s]+/).map((r) => r.trim().replace(/[–—]/g, '-')).filter(Boolean);
      if (ranges.length) weekly[key] = ranges;
    }
    const body = {
      time_zone: zone.value,
      slot_minutes: Number(slot.value),
      weekly,
      closed: closed.value.split(/[\s,;，；]+/).map((d) => d.trim()).filter(Boolean),
    };
    submit.disabled = true;
    try {
      const { office_hours: saved } = await api.request('PUT', '/api/v1/org/hours', body);
      state.redraw = () => drawHours(saved);
      drawHours(saved);
      announce(t('staff.hours.saved'));
      const note = h('p', { class: 'note', role: 'status', 'data-testid': 'hours-saved', text: t('staff.hours.saved') });
      document.querySelector('[data-testid="hours"]')?.append(note);
    } catch (err) {
      handleError(err, error);
      submit.disabled = false;
    }
  });
  return form;
}
