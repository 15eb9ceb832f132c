// The page behind the unsubscribe link in every email. Opening the link changes nothing (mail
// scanners open links); the button posts the signed link to the API, as one-click clients do.
import { request, errorOf, NetworkError } from '/assets/api.js';

const $ = (id) => document.getElementById(id);

$('unsubscribe').addEventListener('click', async () => {
  const button = $('unsubscribe');
  button.disabled = true;
  try {
    const res = await request('POST', `/api/unsubscribe${location.search}`);
    if (res.status === 200) {
      $('result').textContent = 'Done: you will get no more reminders or drop notices for this series.';
      button.hidden = true;
      return;
    }
    $('result').textContent = errorOf(res.data).message || `The server said ${res.status}.`;
  } catch (err) {
    $('result').textContent = err instanceof NetworkError ? 'Could not reach the server; try again.' : String(err);
  }
  button.disabled = false;
});
