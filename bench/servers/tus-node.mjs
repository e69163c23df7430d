// The peer: @tus/server with @tus/file-store, as its README sets it up, on node:http.
import { createServer } from 'node:http';
import { FileStore } from '@tus/file-store';
import { Server } from '@tus/server';

const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST || '127.0.0.1';
const directory = process.env.UPLOAD_DIR || './uploads';
const path = (process.env.TUS_PATH || '/files').replace(/\/+$/, '');

const tus = new Server({
  path,
  datastore: new FileStore({ directory }),
  // Location is "/files/<id>": the client resolves it against the URL it posted to.
  relativeLocation: true,
});

const server = createServer((req, res) => {
  tus.handle(req, res).catch((error) => {
    if (!res.headersSent) res.writeHead(500).end();
    else res.destroy(error);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, host, () => {
  const { port: actual } = server.address();
  console.log(`@tus/server listening: http://${host}:${actual}${path}`);
});
