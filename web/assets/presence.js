// "N here" in the chat panel's head (live.html #chat-presence), a feature module of the room
// (live-room.js): the count from hello, then each presence frame; blank once the room stopped.
export const roomModule = { mount: mountPresence };

function mountPresence(room) {
  const presence = document.getElementById('chat-presence');
  const show = (count) => { presence.textContent = Number.isFinite(count) ? `${count} here` : ''; };
  room.on('hello', (hello) => show(hello.presence));
  room.on('presence', (frame) => show(frame.count));
  room.onStatus((state) => { if (state === 'stopped') show(NaN); });
}
