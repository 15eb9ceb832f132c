// The live room's feature modules: live-room.js hands each server frame, by its type, to the
// modules that registered for it (see the contract at the top of live-room.js). Adding a feature
// to the room is its file exporting `roomModule` plus one line here. Modules are mounted in the
// order of their names below (a module namespace lists exports sorted), so none may rely on another.
export { roomModule as chat } from '/assets/chat.js';
export { roomModule as dropManager } from '/assets/drop-manager.js';
export { roomModule as player } from '/assets/player.js';
export { roomModule as polls } from '/assets/polls.js';
export { roomModule as presence } from '/assets/presence.js';
export { roomModule as qa } from '/assets/qa.js';
export { roomModule as roomDrops } from '/assets/room-drops.js';
export { roomModule as streamManager } from '/assets/stream-manager.js';
