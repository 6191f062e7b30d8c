// @ts-check
/**
 * Tiny string table of the browser client in Chinese, English and Italian.
 *
 * The language is chosen, first match wins, from the ?lang= query
 * parameter, the participant's language in the join answer, and the
 * browser's languages; English is the fallback. This module has no DOM
 * dependency beyond what callers pass in.
 *
 * @module i18n
 */

/** @typedef {'zh-CN' | 'en' | 'it'} Lang */

/** Languages offered in the picker, in display order. */
export const LANGUAGES = /** @type {const} */ ([
  { code: 'zh-CN', name: '中文' },
  { code: 'en', name: 'English' },
  { code: 'it', name: 'Italiano' },
]);

/** @type {Record<Lang, Record<string, string>>} */
const STRINGS = {
  'en': {
    'language': 'Language',
    'loading': 'Loading your invitation…',
    'field.case': 'Case',
    'field.you': 'You',
    'field.scheduled': 'Scheduled',
    'time.local': '{time} (your time)',
    'time.organizer': '{time} ({zone}, organizer)',
    'device.camera': 'Camera',
    'device.microphone': 'Microphone',
    'device.none': 'None',
    'device.unnamed': 'Device {n}',
    'mic.level': 'Microphone level',
    'media.starting': 'Starting camera and microphone…',
    'media.audioOnly': 'No camera available: you will join with audio only.',
    'media.videoOnly': 'No microphone available: others will not hear you.',
    'media.none': 'No camera or microphone available: you can join to watch and listen only.',
    'media.denied': 'Camera and microphone access was refused. Allow it in the browser settings, or join to watch and listen only.',
    'consent.text': 'This session is recorded by the server as evidence for the case. I consent to the online procedure and to the recording.',
    'join': 'Join',
    'joining': 'Joining…',
    'recording': 'Recording',
    'you': '{name} (you)',
    'control.mute': 'Mute microphone',
    'control.unmute': 'Unmute microphone',
    'control.cameraOff': 'Turn camera off',
    'control.cameraOn': 'Turn camera on',
    'control.leave': 'Leave',
    'indicator.muted': 'Microphone off',
    'indicator.cameraOff': 'Camera off',
    'sound.enable': 'Click to enable sound',
    'waiting': 'Waiting for the others to join…',
    'status.reconnecting': 'Connection lost. Reconnecting…',
    'status.reconnected': 'Reconnected.',
    'left.title': 'You have left the session.',
    'left.rejoin': 'Rejoin',
    'closed.replaced': 'You joined this session from another window or device.',
    'closed.session_ended': 'The session has ended.',
    'closed.shutdown': 'The server is restarting. Please rejoin in a moment.',
    'error.title': 'Unable to continue',
    'error.code': 'Error code',
    'error.invite_invalid': 'This invite link is not valid. Check that you opened the complete link.',
    'error.invite_expired': 'This invite link has expired. Ask the organizer for a new one.',
    'error.invite_revoked': 'This invite link has been withdrawn. Ask the organizer for a new one.',
    'error.bad_request': 'The request was refused.',
    'error.token_invalid': 'The join request was refused. Please reload the page.',
    'error.token_expired': 'The join request expired. Please try again.',
    'error.token_used': 'The join request was already used. Please try again.',
    'error.consent_required': 'Consent is required to join this recorded session.',
    'error.session_ended': 'The session has ended.',
    'error.recording_unavailable': 'This session is recorded, and the recording cannot start right now. Please try again in a moment.',
    'error.unsupported_version': 'This page is out of date. Please reload it.',
    'error.network': 'Cannot reach the server. Check your internet connection.',
    'error.join_timeout': 'Joining took too long. Please try again.',
    'error.internal': 'The server had a problem. Please try again.',
    'error.webrtc': 'Your browser could not set up the video connection.',
    'error.unknown': 'An unexpected error occurred.',
    'role.party': 'Party',
    'role.mediator': 'Mediator',
    'role.notary': 'Notary',
    'role.judge': 'Judge',
    'role.interpreter': 'Interpreter',
    'role.clerk': 'Clerk',
    'role.observer': 'Observer',
    'role.admin': 'Administrator',
    'kind.mediation': 'Mediation',
    'kind.notarization': 'Notarization',
    'kind.hearing': 'Hearing',
    'kind.evidence_collection': 'Evidence collection',
  },
  'zh-CN': {
    'language': '语言',
    'loading': '正在加载邀请…',
    'field.case': '案件',
    'field.you': '您的身份',
    'field.scheduled': '预定时间',
    'time.local': '{time}（您的当地时间）',
    'time.organizer': '{time}（{zone}，组织方时间）',
    'device.camera': '摄像头',
    'device.microphone': '麦克风',
    'device.none': '不使用',
    'device.unnamed': '设备 {n}',
    'mic.level': '麦克风音量',
    'media.starting': '正在启动摄像头和麦克风…',
    'media.audioOnly': '未检测到摄像头：您将仅以语音加入。',
    'media.videoOnly': '未检测到麦克风：其他人将听不到您的声音。',
    'media.none': '未检测到摄像头和麦克风：您只能观看和收听。',
    'media.denied': '摄像头和麦克风权限被拒绝。请在浏览器设置中允许，或仅以观看和收听方式加入。',
    'consent.text': '本次会议将由服务器录像，作为本案证据。我同意以在线方式办理，并同意录像。',
    'join': '加入会议',
    'joining': '正在加入…',
    'recording': '录制中',
    'you': '{name}（我）',
    'control.mute': '关闭麦克风',
    'control.unmute': '打开麦克风',
    'control.cameraOff': '关闭摄像头',
    'control.cameraOn': '打开摄像头',
    'control.leave': '离开',
    'indicator.muted': '麦克风已关闭',
    'indicator.cameraOff': '摄像头已关闭',
    'sound.enable': '点击开启声音',
    'waiting': '正在等待其他人加入…',
    'status.reconnecting': '连接中断，正在重新连接…',
    'status.reconnected': '已重新连接。',
    'left.title': '您已离开会议。',
    'left.rejoin': '重新加入',
    'closed.replaced': '您已在其他窗口或设备上加入本次会议。',
    'closed.session_ended': '会议已结束。',
    'closed.shutdown': '服务器正在重启，请稍后重新加入。',
    'error.title': '无法继续',
    'error.code': '错误代码',
    'error.invite_invalid': '邀请链接无效，请确认您打开的是完整链接。',
    'error.invite_expired': '邀请链接已过期，请联系组织方重新发送。',
    'error.invite_revoked': '邀请链接已被撤销，请联系组织方重新发送。',
    'error.bad_request': '请求被拒绝。',
    'error.token_invalid': '加入请求被拒绝，请刷新页面。',
    'error.token_expired': '加入请求已过期，请重试。',
    'error.token_used': '加入请求已被使用，请重试。',
    'error.consent_required': '本次会议全程录像，须同意后方可加入。',
    'error.session_ended': '会议已结束。',
    'error.recording_unavailable': '本会议需要录像，但录像暂时无法开始。请稍后再试。',
    'error.unsupported_version': '页面版本过旧，请刷新页面。',
    'error.network': '无法连接服务器，请检查网络。',
    'error.join_timeout': '加入超时，请重试。',
    'error.internal': '服务器出现问题，请重试。',
    'error.webrtc': '您的浏览器无法建立视频连接。',
    'error.unknown': '发生未知错误。',
    'role.party': '当事人',
    'role.mediator': '调解员',
    'role.notary': '公证员',
    'role.judge': '法官',
    'role.interpreter': '翻译',
    'role.clerk': '书记员',
    'role.observer': '旁听人',
    'role.admin': '管理员',
    'kind.mediation': '调解',
    'kind.notarization': '公证',
    'kind.hearing': '庭审',
    'kind.evidence_collection': '证据保全',
  },
  'it': {
    'language': 'Lingua',
    'loading': 'Caricamento dell\'invito…',
    'field.case': 'Pratica',
    'field.you': 'Tu',
    'field.scheduled': 'Orario previsto',
    'time.local': '{time} (ora locale)',
    'time.organizer': '{time} ({zone}, organizzatore)',
    'device.camera': 'Videocamera',
    'device.microphone': 'Microfono',
    'device.none': 'Nessuno',
    'device.unnamed': 'Dispositivo {n}',
    'mic.level': 'Livello del microfono',
    'media.starting': 'Avvio di videocamera e microfono…',
    'media.audioOnly': 'Nessuna videocamera disponibile: parteciperai solo con l\'audio.',
    'media.videoOnly': 'Nessun microfono disponibile: gli altri non ti sentiranno.',
    'media.none': 'Nessuna videocamera né microfono disponibile: potrai solo guardare e ascoltare.',
    'media.denied': 'L\'accesso a videocamera e microfono è stato negato. Consentilo nelle impostazioni del browser, oppure partecipa solo per guardare e ascoltare.',
    'consent.text': 'Questa sessione viene registrata dal server come prova per la pratica. Acconsento alla procedura online e alla registrazione.',
    'join': 'Partecipa',
    'joining': 'Connessione…',
    'recording': 'Registrazione in corso',
    'you': '{name} (tu)',
    'control.mute': 'Disattiva microfono',
    'control.unmute': 'Attiva microfono',
    'control.cameraOff': 'Disattiva videocamera',
    'control.cameraOn': 'Attiva videocamera',
    'control.leave': 'Esci',
    'indicator.muted': 'Microfono disattivato',
    'indicator.cameraOff': 'Videocamera disattivata',
    'sound.enable': 'Clicca per attivare l\'audio',
    'waiting': 'In attesa degli altri partecipanti…',
    'status.reconnecting': 'Connessione persa. Riconnessione in corso…',
    'status.reconnected': 'Riconnesso.',
    'left.title': 'Hai lasciato la sessione.',
    'left.rejoin': 'Rientra',
    'closed.replaced': 'Sei entrato in questa sessione da un\'altra finestra o da un altro dispositivo.',
    'closed.session_ended': 'La sessione è terminata.',
    'closed.shutdown': 'Il server si sta riavviando. Rientra tra poco.',
    'error.title': 'Impossibile continuare',
    'error.code': 'Codice di errore',
    'error.invite_invalid': 'Il link di invito non è valido. Verifica di aver aperto il link completo.',
    'error.invite_expired': 'Il link di invito è scaduto. Chiedine uno nuovo all\'organizzatore.',
    'error.invite_revoked': 'Il link di invito è stato revocato. Chiedine uno nuovo all\'organizzatore.',
    'error.bad_request': 'La richiesta è stata rifiutata.',
    'error.token_invalid': 'La richiesta di accesso è stata rifiutata. Ricarica la pagina.',
    'error.token_expired': 'La richiesta di accesso è scaduta. Riprova.',
    'error.token_used': 'La richiesta di accesso è già stata usata. Riprova.',
    'error.consent_required': 'Per partecipare a questa sessione registrata è necessario il consenso.',
    'error.session_ended': 'La sessione è terminata.',
    'error.recording_unavailable': 'Questa sessione è registrata e la registrazione non può iniziare in questo momento. Riprova tra poco.',
    'error.unsupported_version': 'Questa pagina non è aggiornata. Ricaricala.',
    'error.network': 'Impossibile raggiungere il server. Controlla la connessione a internet.',
    'error.join_timeout': 'L\'accesso ha richiesto troppo tempo. Riprova.',
    'error.internal': 'Il server ha avuto un problema. Riprova.',
    'error.webrtc': 'Il browser non è riuscito a stabilire la connessione video.',
    'error.unknown': 'Si è verificato un errore imprevisto.',
    'role.party': 'Parte',
    'role.mediator': 'Mediatore',
    'role.notary': 'Notaio',
    'role.judge': 'Giudice',
    'role.interpreter': 'Interprete',
    'role.clerk': 'Cancelliere',
    'role.observer': 'Osservatore',
    'role.admin': 'Amministratore',
    'kind.mediation': 'Mediazione',
    'kind.notarization': 'Autenticazione notarile',
    'kind.hearing': 'Udienza',
    'kind.evidence_collection': 'Acquisizione di prove',
  },
};

/** @type {Lang} */
let current = 'en';

/**
 * Maps a BCP 47 tag to a supported language, or returns null.
 * Every Chinese variant maps to zh-CN, the only Chinese table.
 * @param {string | null | undefined} tag
 * @returns {Lang | null}
 */
export function normalize(tag) {
  if (!tag) return null;
  const primary = tag.trim().toLowerCase().split(/[-_]/)[0];
  switch (primary) {
    case 'zh': return 'zh-CN';
    case 'en': return 'en';
    case 'it': return 'it';
    default: return null;
  }
}

/**
 * Chooses the language: ?lang= first, then the participant's language,
 * then the browser's preferences, then English.
 * @param {{search?: string, participantLanguage?: string, browserLanguages?: readonly string[]}} sources
 * @returns {Lang}
 */
export function detectLanguage({ search = '', participantLanguage, browserLanguages = [] }) {
  const fromQuery = normalize(new URLSearchParams(search).get('lang'));
  if (fromQuery) return fromQuery;
  const fromParticipant = normalize(participantLanguage);
  if (fromParticipant) return fromParticipant;
  for (const tag of browserLanguages) {
    const lang = normalize(tag);
    if (lang) return lang;
  }
  return 'en';
}

/**
 * Sets the current language; unsupported tags fall back to English.
 * @param {string} tag
 * @returns {Lang} the language now in use
 */
export function setLanguage(tag) {
  current = normalize(tag) ?? 'en';
  return current;
}

/** @returns {Lang} the language in use */
export function getLanguage() {
  return current;
}

/**
 * Returns the string for key in the current language, with {name}
 * placeholders replaced from vars. Falls back to English, then to the key.
 * @param {string} key
 * @param {Record<string, string | number>} [vars]
 * @returns {string}
 */
export function t(key, vars = {}) {
  const text = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

/**
 * Adds strings to the table, e.g. those of the staff pages, which the join
 * page does not load. Existing keys are replaced.
 * @param {Partial<Record<Lang, Record<string, string>>>} tables
 */
export function addStrings(tables) {
  for (const [lang, strings] of Object.entries(tables)) {
    const code = normalize(lang);
    if (code && strings) Object.assign(STRINGS[code], strings);
  }
}

/**
 * Reports whether key has a translation (in English at least).
 * @param {string} key
 * @returns {boolean}
 */
export function has(key) {
  return key in STRINGS.en;
}
