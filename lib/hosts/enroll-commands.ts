// The commands the enrolment panels show, written once so the new-host page, the host
// page, the README and the walkthrough test agree on them.

/** Where a host simulated on the machine running Flotilla keeps its agent, and where to run it from. */
export type TSimulation = { checkout: string; stateRoot: string };

/** Quotes a word for sh only when it needs it (paths with spaces), so the usual command stays readable. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** On the real machine, as root: the agent keeps its state in /var/lib/flotilla-agent. */
export function enrollCommand(server: string, token: string): string {
  return `flotilla-agent enroll --server ${shellWord(server)} --token ${token}\nflotilla-agent run`;
}

/**
 * A simulated host on the machine running Flotilla, from its checkout: a state directory
 * of its own (a second host without one would overwrite the first's credential) and a
 * separate Nix store root. The last command stays in the foreground: it is the host's agent.
 */
export function simulatedHostCommands(server: string, token: string, host: string, simulation: TSimulation): string {
  const stateDir = shellWord(`${simulation.stateRoot}/${host}`);
  return [
    `cd ${shellWord(simulation.checkout)}`,
    `npx flotilla-agent enroll --server ${shellWord(server)} --token ${token} --state-dir ${stateDir}`,
    `npx flotilla-agent run --state-dir ${stateDir} --store-root ${shellWord(`${simulation.stateRoot}/${host}/store`)}`,
  ].join('\n');
}
