// Preloaded (node --import) by tests that prove a command loads no tensor backend: any
// import of @tensorflow/* fails loudly, naming what was imported.
import { register } from 'node:module';

const hook = `
export async function resolve(specifier, context, next) {
  if (specifier.startsWith('@tensorflow/')) throw new Error('forbidden import of ' + specifier + ' (this path must not load a tensor backend)');
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);
