import { IN_FLIGHT_PHASES } from '@/lib/deployments/schemas';

/** Sent and not yet final: the host is working on it (lib/deployments/schemas.ts lists the phases). */
export const isInFlightPhase = (phase: string) => (IN_FLIGHT_PHASES as readonly string[]).includes(phase);
