// Enrolment request and answer: part of the wire protocol (lib/agents/protocol.ts), the
// one module the agent imports. Re-exported here for the server side.
export { ZEnrollRequest, ZEnrollResponse } from './protocol';
