import { accuracy, examples, recipeFor, trainAndLoad } from '/work/main/bench/tasks/common.ts';
const a = examples('data/tasks/forgetting/a_eval.jsonl', 7);
const b = examples('data/tasks/forgetting/b_eval.jsonl', 7);
for (const pct of process.argv.slice(2)) {
  const m = await trainAndLoad(recipeFor('recipes/forgetting-attribution.yaml', 0, [`freeze.0.attribution.top_percent=${pct}`]));
  console.log(pct, 'A', accuracy(m, a), 'B', accuracy(m, b));
  m.dispose();
}
