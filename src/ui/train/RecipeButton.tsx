/** The recipe for bigger hardware: these settings and this data as a transformers + peft script, an accelerate config and an axolotl YAML. */
import { saveRecipe } from '../../state';
import type { TrainConfig } from '../../state/trainOptions';
import { ActionButton } from '../parts/ActionButton';

export function RecipeButton({ name, config, busy, primary = false }: { name: string; config: TrainConfig; busy: string | null; primary?: boolean }) {
  return (
    <ActionButton
      variant={primary ? 'primary' : 'secondary'}
      blocker={busy ?? (config.objective === 'dpo' ? 'The GPU recipe is for supervised runs: a DPO run has none yet (TRL’s DPOTrainer takes the same pairs).' : null)}
      data-testid="recipe-download"
      title="A Python script (transformers + peft, one or several GPUs with accelerate) and an axolotl config with this run's data, template, masking and hyperparameters"
      onClick={() => void saveRecipe(name, config)}
    >
      Recipe for GPUs (zip)
    </ActionButton>
  );
}
