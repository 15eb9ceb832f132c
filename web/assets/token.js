// Registrant tokens are kept in localStorage, one per webinar, so the room page works without the token in the URL.
const key = (webinarId) => `cohort.token.${webinarId}`;

export function storeToken(webinarId, token) {
  try { localStorage.setItem(key(webinarId), token); } catch { /* storage disabled: the link still works */ }
}

export function loadToken(webinarId) {
  try { return localStorage.getItem(key(webinarId)); } catch { return null; }
}

export function forgetToken(webinarId) {
  try { localStorage.removeItem(key(webinarId)); } catch { /* nothing stored */ }
}
