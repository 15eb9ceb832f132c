// Bun.serve (uWebSockets) pub/sub: every socket subscribes to one topic; server.publish builds the
// frame once and hands it to every subscriber. Run: bun bun_server.mjs (PORT, default a free one).
import { hello, chatMessage, announce } from './chat.mjs';

let nextId = 0;
const server = Bun.serve({
  hostname: '127.0.0.1',
  port: Number(process.env.PORT ?? 0),
  fetch(req, srv) {
    if (srv.upgrade(req, { data: { id: ++nextId } })) return undefined;
    return new Response('chat peer\n');
  },
  websocket: {
    idleTimeout: 960,
    open(ws) { ws.subscribe('room'); ws.send(hello()); },
    message(ws, raw) {
      const msg = chatMessage(ws.data.id, String(raw));
      if (msg) server.publish('room', JSON.stringify(msg));
    },
  },
});
announce(server.port);
