// The small chat protocol every peer speaks, the same as Cohort's room (proto/ws): {"type":"hello"}
// first, {"type":"chat.send","text"} in, {"type":"chat.message",seq,id,from,text,ts} out to everyone
// (the sender included), with the same fields Cohort sends, so the bytes per delivery are alike.
let seq = 0;

export const hello = () => JSON.stringify({ type: 'hello', seq, messages: [] });

// The message to broadcast for one client frame, or null when it is not a valid chat.send.
export function chatMessage(fromId, raw) {
  let m;
  try { m = JSON.parse(raw); } catch { return null; }
  if (m?.type !== 'chat.send' || typeof m.text !== 'string' || !m.text.trim() || m.text.length > 500) return null;
  seq += 1;
  return {
    type: 'chat.message', seq, id: `p-${seq}`,
    from: { id: fromId, name: `Attendee ${fromId}`, role: 'registrant' },
    text: m.text.trim(), ts: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
}

// The line tests/bench/run waits for (the same form as Cohort's).
export const announce = (port) => console.log(`listening on http://127.0.0.1:${port}`);
