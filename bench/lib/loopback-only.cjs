// Preloaded (node --require) into peers that cannot be told which address to listen on
// (supergateway 4.0.0, server-everything's Streamable HTTP transport): a listen() given only a
// port binds 127.0.0.1 instead of every interface, so the benchmark stays on loopback.
'use strict';
const net = require('node:net');

const HOST = process.env.BENCH_LISTEN_HOST || '127.0.0.1';
const original = net.Server.prototype.listen;

net.Server.prototype.listen = function listen(...args) {
  const first = args[0];
  const isPort = (v) => typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v));
  if (isPort(first) && typeof args[1] !== 'string') {
    args.splice(1, 0, HOST);
  } else if (first && typeof first === 'object' && !Array.isArray(first) &&
             first.port !== undefined && first.host === undefined && first.path === undefined) {
    args[0] = { ...first, host: HOST };
  }
  return original.apply(this, args);
};
