/**
 * A TcpStream over one of v86's in-browser TCP connections: what the preview's HTTP client
 * speaks to a published port with.
 */
import type { TcpEvents, TcpStream } from '../preview/http-client';
import type { V86TcpConnection } from './v86-internals';

export function tcpStreamOf(connection: V86TcpConnection): TcpStream {
  deliverDataWithFin(connection);
  let open = true;
  const listeners: Partial<TcpEvents> = {};
  const closed = () => {
    if (!open) return;
    open = false;
    listeners.close?.();
  };
  connection.on('connect', () => listeners.connect?.());
  // v86 hands out a view of its receive buffer, reused for the next frame: copy it.
  connection.on('data', (bytes: Uint8Array) => listeners.data?.(bytes.slice()));
  connection.on('shutdown', () => listeners.end?.());
  connection.on('close', closed);
  return {
    write: (bytes) => void (open && connection.write(bytes)),
    close: () => {
      if (!open) return;
      connection.close();
      // After our FIN the peer's ACK releases the connection without another event.
      if (connection.state === 'closed' || connection.state === 'last-ack' || connection.state === 'syn-sent') closed();
    },
    on: (event, listener) => void (listeners[event] = listener),
  };
}

/**
 * v86's TCP drops the payload of a segment that also carries FIN (it only counts the FIN),
 * and Linux often sends a response's last bytes that way: deliver them before the FIN.
 */
function deliverDataWithFin(connection: V86TcpConnection): void {
  const process = connection.process.bind(connection);
  connection.process = (packet) => {
    const data = packet.tcp_data;
    if (packet.tcp.fin && data?.length && connection.ack === packet.tcp.seq && connection.state === 'established') {
      connection.ack += data.length;
      connection.emit('data', data);
    }
    process(packet);
  };
}
