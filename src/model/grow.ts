/**
 * Growing a trained model deeper without changing what it computes: the new blocks go on top (after
 * the last trained one, before the final norm) with their attention and MLP output projections zero,
 * so each adds nothing to the residual stream until training moves those projections (zero-initialised
 * residual branches). Their other weights start as a fresh initialisation would, so gradients reach them
 * once the output projections leave zero. Used to compare a deeper model without pretraining it again.
 */
import { InputError } from '../core/errors.js';
import { parameterLayout } from './config.js';
import { EmbeddedPolicy, type EmbeddedPolicyOptions } from './policy.js';
import { tensorView } from './transformer.js';

export function deepenEmbeddedPolicy(source: EmbeddedPolicy, numLayers: number, options: EmbeddedPolicyOptions = {}): EmbeddedPolicy {
  const from = source.config.numLayers;
  if (!Number.isInteger(numLayers) || numLayers <= from) throw new InputError(`a deeper model needs more than the checkpoint's ${from} layers`, `layers ${numLayers}`);
  const deeper = new EmbeddedPolicy({ ...source.config, numLayers }, { ...options, tokenizer: source.tokenizer });
  const sourceTensors = new Map(parameterLayout(source.config).tensors.map((spec) => [spec.name, spec]));
  for (const spec of parameterLayout(deeper.config).tensors) {
    const trained = sourceTensors.get(spec.name);
    if (trained) tensorView(deeper.model.params, spec).set(tensorView(source.model.params, trained));
  }
  for (const layer of parameterLayout(deeper.config).layers.slice(from)) {
    tensorView(deeper.model.params, layer.oProj).fill(0);
    tensorView(deeper.model.params, layer.downProj).fill(0);
  }
  deeper.info = { ...source.info };
  return deeper;
}
