/** Reported in every Status; bump with the agent's package version. */
export const AGENT_VERSION = '0.1.0';
