/**
 * Dynamic sampling (DAPO): a group whose rewards are all equal has zero group-relative advantage
 * and teaches nothing, so it is dropped before the update. The paper's own runs did NOT filter
 * (RUCAIBox/CIR scripts/run/run.sh sets no such option); this is an option, off in `PAPER_RL_CONFIG`.
 */
import { groupIndices } from './advantages.js';

export interface GroupFilterResult<T> {
  kept: T[];
  metrics: Record<string, number>;
}

/**
 * Keeps the items of groups whose rewards differ by more than `tolerance`, in their original order.
 * A singleton group has no spread and is dropped too.
 */
export function filterUniformRewardGroups<T>(
  items: readonly T[],
  groupIdOf: (item: T) => string | number,
  rewardOf: (item: T) => number,
  tolerance = 0,
): GroupFilterResult<T> {
  const groups = groupIndices(items.map(groupIdOf));
  const keep = new Array<boolean>(items.length).fill(false);
  let allCorrectLike = 0;
  let allWrongLike = 0;
  let groupsKept = 0;
  let rewardMax = -Infinity;
  let rewardMin = Infinity;
  for (const item of items) {
    rewardMax = Math.max(rewardMax, rewardOf(item));
    rewardMin = Math.min(rewardMin, rewardOf(item));
  }
  for (const members of groups) {
    const rewards = members.map((index) => rewardOf(items[index]!));
    const spread = Math.max(...rewards) - Math.min(...rewards);
    if (spread > tolerance) {
      groupsKept += 1;
      for (const index of members) keep[index] = true;
    } else if (rewards[0] === rewardMax) {
      allCorrectLike += 1; // every member got the batch's best reward (all solved, for ±1 rewards)
    } else if (rewards[0] === rewardMin) {
      allWrongLike += 1;
    }
  }
  const kept = items.filter((_, index) => keep[index]);
  return {
    kept,
    metrics: {
      'sampling/groups': groups.length,
      'sampling/groupsKept': groupsKept,
      'sampling/groupsFilteredAllEqual': groups.length - groupsKept,
      'sampling/groupsAllBest': allCorrectLike,
      'sampling/groupsAllWorst': allWrongLike,
      'sampling/itemsKept': kept.length,
      'sampling/itemsFiltered': items.length - kept.length,
    },
  };
}
