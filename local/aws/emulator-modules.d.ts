// kinesalite and dynalite ship no types; each exports a factory of a node:http server.
declare module 'kinesalite' {
  import type { Server } from 'node:http';
  function kinesalite(options?: { createStreamMs?: number; deleteStreamMs?: number; updateStreamMs?: number; shardLimit?: number }): Server;
  export = kinesalite;
}

declare module 'dynalite' {
  import type { Server } from 'node:http';
  function dynalite(options?: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }): Server;
  export = dynalite;
}
