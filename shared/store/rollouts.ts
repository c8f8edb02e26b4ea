import { DeclaredRollout, RolloutState } from '../model/rollout-state';

export type { DeclaredRollout } from '../model/rollout-state';

/** StoredRollout is a rollout's state with the revision a conditional write compares. */
export interface StoredRollout {
  readonly state: RolloutState;
  readonly revision: number;
}

/**
 * RolloutRepository keeps the state of every rollout (`ROLLOUTS / ROLLOUT#<id>`): one partition,
 * so the controller finds all of them with one Query, whatever the number of services.
 */
export interface RolloutRepository {
  /**
   * registerRollouts records the rollouts a committed spec declares: a new one, or one whose
   * spec changed (another hash), starts over before its first step; an unchanged one is left
   * as it is.
   */
  registerRollouts(declared: readonly DeclaredRollout[], now: Date): Promise<void>;
  listRollouts(): Promise<StoredRollout[]>;
  /** putRollout writes a state if the stored one is still at `revision` (false: someone else moved it first). */
  putRollout(state: RolloutState, revision: number): Promise<boolean>;
}
