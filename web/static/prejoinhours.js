// @ts-check
/**
 * The pre-join page's office hours: the organization's hours in the
 * viewer's zone beside its own ("Mon–Sat 07:00–15:00 your time (14:00–22:00
 * in Shanghai)"), and the link to choose the session's time when the
 * organizer lets the party book it.
 *
 * @module prejoinhours
 */

import { getLanguage, t } from './i18n.js';
import { $ } from './dom.js';
import { browserZone } from './tz.js';
import { dayList, hoursInZone, placeOf } from './hours.js';

/**
 * The lines of the hours in viewerZone, one per group of days.
 * @param {import('./hours.js').OfficeHours} hours
 * @param {string} viewerZone
 * @returns {string[]}
 */
export function hoursLines(hours, viewerZone) {
  return hoursInZone(hours, viewerZone).map((g) => {
    const days = dayList(g.days, getLanguage());
    if (g.org === g.viewer && g.shift === 0) return t('hours.lineSame', { days, org: g.org });
    const line = t('hours.line', { days, viewer: g.viewer, org: g.org, place: placeOf(hours.time_zone) });
    if (g.shift < 0) return `${line} ${t('hours.dayBefore')}`;
    if (g.shift > 0) return `${line} ${t('hours.dayAfter')}`;
    return line;
  });
}

/**
 * Shows the hours of the join answer, or hides their row.
 * @param {any} info the join answer
 * @param {string} invite the invite token, for the booking link
 */
export function renderOfficeHours(info, invite) {
  const hours = info?.office_hours;
  const line = $('hours-line');
  $('hours-label').hidden = !hours;
  line.hidden = !hours;
  line.replaceChildren();
  if (hours) {
    if (hours.organization) line.title = hours.organization;
    for (const text of hoursLines(hours, browserZone())) {
      const span = document.createElement('span');
      span.className = 'time-line';
      span.textContent = text;
      line.append(span);
    }
  }
  const link = /** @type {HTMLAnchorElement} */ ($('book-link'));
  const open = Boolean(info?.self_booking?.open) && info?.session?.state !== 'live';
  link.hidden = !open || !hours;
  link.textContent = t('hours.book');
  link.href = `/book/${encodeURIComponent(invite)}${location.search}`;
}
