import { describe, expect, it } from 'vitest';
import { loadRecipe, parseRecipe } from '../../src/recipe/index.ts';
import { parsePath } from '../../src/recipe/overrides.ts';
import { errorLines, VALID } from './helpers.ts';

const MINIMAL = 'test/fixtures/recipes/minimal.yaml';
const load = (...overrides: string[]) => loadRecipe(MINIMAL, { overrides });

describe('--set overrides', () => {
  it('parses values as YAML scalars and flow collections', () => {
    const r = load('trainer.optimizer.lr=1e-3', 'trainer.optimizer.betas=[0.9,0.95]', 'backend=cpu', 'model.init.config.tied_embeddings=false');
    expect(r.trainer.optimizer.lr).toBe(1e-3);
    expect(r.trainer.optimizer.betas).toEqual([0.9, 0.95]);
    expect(r.backend).toBe('cpu');
    expect(r.model.init.config?.tied_embeddings).toBe(false);
  });

  it('creates fields the file leaves to their defaults, and sections it omits', () => {
    const r = load('checkpoint.every=5', 'sample={prompt: hi}', 'run.name=sweep-3');
    expect(r.checkpoint).toEqual({ every: 5, keep: 3 });
    expect(r.sample?.prompt).toBe('hi');
    expect(r.run).toMatchObject({ name: 'sweep-3', out_dir: 'runs/sweep-3' });
  });

  it('addresses list items as [i] or .i, and replaces whole lists', () => {
    expect(load('gradients[0]={kind: clip, max_norm: 1}', 'gradients.0.max_norm=2').gradients).toEqual([{ kind: 'clip', max_norm: 2 }]);
    expect(load('trainer.optimizer.betas[1]=0.95').trainer.optimizer.betas).toEqual([0.9, 0.95]);
    const withClip = `${VALID}gradients: [{ kind: clip, max_norm: 1 }]\n`;
    expect(parseRecipe(withClip, 'r.yaml', { overrides: ['gradients=[]'] }).gradients).toEqual([]);
  });

  it('applies later overrides over earlier ones', () => {
    expect(load('trainer.steps=5', 'trainer.steps=7').trainer.steps).toBe(7);
  });

  it('locates a bad value at its --set, after the file errors', () => {
    const text = VALID.replace('batch_size: 2', 'batch_size: -2');
    expect(errorLines(() => parseRecipe(text, 'r.yaml', { overrides: ['trainer.steps=abc', 'trainer.optimizer.betas=[0.9,1]'] }))).toEqual([
      'r.yaml:9:3: trainer.batch_size: must be > 0, got -2',
      '--set trainer.steps=abc: trainer.steps: expected number, got string "abc"',
      '--set trainer.optimizer.betas=[0.9,1]: trainer.optimizer.betas.1: must be < 1, got 1',
    ]);
  });

  it('blames the --set that created a section for what that section lacks', () => {
    expect(errorLines(() => load('sample.top_k=3'))).toEqual(['--set sample.top_k=3: sample.prompt: missing required field']);
  });

  it('refuses a path the schema does not have, with a suggestion', () => {
    const sets = ['trainer.optimzer.lr=3', 'trainer.schedule.banana=1', 'gradients.x=1', 'trainer.optimizer.betas[2]=0.5'];
    expect(errorLines(() => load(...sets))).toEqual([
      '--set trainer.optimzer.lr=3: trainer.optimzer: unknown key; did you mean "optimizer"?',
      '--set trainer.schedule.banana=1: trainer.schedule.banana: unknown key; valid keys: kind, warmup_steps, min_lr_ratio',
      '--set gradients.x=1: gradients.x: unknown key; nothing is allowed here',
      '--set trainer.optimizer.betas[2]=0.5: trainer.optimizer.betas.2: no such list item',
    ]);
  });

  it('refuses malformed overrides, bad YAML values and tags', () => {
    expect(errorLines(() => load('trainer.steps', '=3', 'a..b=1', 'trainer.steps=[1,', 'run.name=!!js/function x'))).toEqual([
      '--set trainer.steps: expected path=value, e.g. --set trainer.optimizer.lr=1e-3 or --set gradients[0].max_norm=1',
      '--set =3: expected path=value, e.g. --set trainer.optimizer.lr=1e-3 or --set gradients[0].max_norm=1',
      '--set a..b=1: expected path=value, e.g. --set trainer.optimizer.lr=1e-3 or --set gradients[0].max_norm=1',
      expect.stringMatching(/^--set trainer.steps=\[1,: trainer.steps: value is not valid YAML: /),
      '--set run.name=!!js/function x: run.name: tag !!js/function is refused: a recipe is data, so tags that could execute code are refused (only core YAML tags are allowed)',
    ]);
  });

  it('refuses writes that would leave a gap in a list or go through a scalar', () => {
    expect(errorLines(() => load('gradients[2].kind=clip'))).toEqual([
      '--set gradients[2].kind=clip: gradients.2.kind: cannot set: gradients has 0 items; index 2 would leave a gap',
    ]);
    expect(errorLines(() => parseRecipe(`run: 5\n${VALID}`, 'r.yaml', { overrides: ['run.seed=1'] }))).toEqual([
      'r.yaml:1:1: run: expected mapping, got number 5',
      '--set run.seed=1: run.seed: cannot set: run is number 5, not a mapping',
    ]);
  });
});

describe('parsePath', () => {
  it('reads keys, dotted indices and bracketed indices', () => {
    expect(parsePath('trainer.optimizer.lr')).toEqual(['trainer', 'optimizer', 'lr']);
    expect(parsePath('gradients[0].max_norm')).toEqual(['gradients', 0, 'max_norm']);
    expect(parsePath('gradients.0.max_norm')).toEqual(['gradients', 0, 'max_norm']);
    expect(parsePath('a[1][2]')).toEqual(['a', 1, 2]);
  });

  it('refuses empty segments and stray brackets', () => {
    for (const bad of ['', 'a.', '.a', 'a..b', 'a[x]', 'a[1', '[0]']) expect(parsePath(bad), bad).toBeUndefined();
  });
});
