/**
 * What every service of the agent is: a `start()`/`stop()` object that reports its own health. The
 * Agent (agent/daemon/agent.ts) starts them in one ordered table and stops them in reverse.
 */

export type ComponentState = 'ok' | 'degraded' | 'down' | 'disabled';

/** One line of `/health`: each service reports its own. */
export interface ComponentHealth {
  state: ComponentState;
  /** Why it is not ok, in words a user understands. */
  detail?: string;
  [extra: string]: unknown;
}

/** A feature of the agent: constructors only assign fields; timers and processes start in start(). */
export interface Service {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): ComponentHealth;
}
