import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterUniformRewardGroups } from './dynamic-sampling.js';

interface Item {
  group: string;
  reward: number;
}
const filter = (items: Item[], tolerance?: number) =>
  filterUniformRewardGroups(items, (item) => item.group, (item) => item.reward, tolerance);

test('drops all-equal and singleton groups, keeps mixed ones in order, counts both', () => {
  const items: Item[] = [
    { group: 'mixed', reward: 1 },
    { group: 'solved', reward: 1 },
    { group: 'mixed', reward: -1 },
    { group: 'failed', reward: -1 },
    { group: 'solved', reward: 1 },
    { group: 'failed', reward: -1 },
    { group: 'alone', reward: 1 },
  ];
  const { kept, metrics } = filter(items);
  assert.deepEqual(kept, [items[0], items[2]]);
  assert.deepEqual(metrics, {
    'sampling/groups': 4,
    'sampling/groupsKept': 1,
    'sampling/groupsFilteredAllEqual': 3,
    'sampling/groupsAllBest': 2, // solved and alone
    'sampling/groupsAllWorst': 1,
    'sampling/itemsKept': 2,
    'sampling/itemsFiltered': 5,
  });
});

test('tolerance treats near-equal rewards as equal', () => {
  const items = [
    { group: 'g', reward: 0.5 },
    { group: 'g', reward: 0.5 + 1e-12 },
  ];
  assert.equal(filter(items).kept.length, 2);
  assert.equal(filter(items, 1e-9).kept.length, 0);
});

test('an empty batch stays empty', () => {
  assert.deepEqual(filter([]).kept, []);
});
