// A port that is taken must stop `npm start` with a sentence, not an EADDRINUSE stack
// trace while the worker and PostgreSQL go on running behind it.
import net from 'node:net';

export class PortUnavailable extends Error {
  constructor(port: number, hostname: string | undefined, code: string | undefined) {
    const where = hostname ? `${hostname}:${port}` : `port ${port}`;
    super(
      code === 'EACCES'
        ? `Cannot listen on ${where}: permission denied (ports below 1024 need root). Set PORT to another port.`
        : `Cannot listen on ${where}: it is already in use (another Flotilla, or another server?). Stop that one, or set PORT to a free port.`,
    );
    this.name = 'PortUnavailable';
  }
}

/** The listen errors a person can fix (a taken or privileged port) as PortUnavailable; others as they are. */
export function explainListenError(error: unknown, port: number, hostname?: string): unknown {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'EADDRINUSE' || code === 'EACCES' ? new PortUnavailable(port, hostname, code) : error;
}

/**
 * Listens on the port for a moment, before anything slow starts, so a taken port is
 * reported in a second rather than after the build and the database. The real listen
 * can still lose a race; startServer reports that the same way.
 */
export async function assertPortFree(port: number, hostname?: string): Promise<void> {
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (error) => reject(explainListenError(error, port, hostname)));
    probe.listen({ port, host: hostname, exclusive: true }, () => probe.close(() => resolve()));
  });
}
