/**
 * The engine owns every tensor: the backend, the loaded model and its tokenizer.
 * The worker dispatcher and the in-process client both drive it through `handle`,
 * so the UI never knows where compute runs.
 */
import { initBackend, whileTraining } from '../backend/backend';
import { takeXnnFailure } from '../backend/xnnStatus';
import { chatTemplateOf, renderChat } from '../data/chatTemplate';
import { checkTokenizerFitsModel, tokenizerFromJson, type Tokenizer } from '../data/tokenizer';
import { outOfMemory } from '../backend/outOfMemory';
import { checkCheckpoint, loadModel } from '../model/checkpoint';
import { tinyConfig } from '../model/tinyConfig';
import { modelFingerprint } from '../model/fingerprint';
import { eosTokenIds, FAMILY_NAMES, parseConfig, type ModelConfig } from '../model/config';
import type { ForwardContext } from '../model/forward';
import { decodingLayout, disposeModel, toDecoding, toTraining } from '../model/decodeLayout';
import { fusedKernelsOn } from '../model/fused';
import { countParams, initRandomData, paramsFromData } from '../model/params';
import { deleteCachedModel, listCachedModels } from '../hub/cachedModels';
import { cacheStorageCache, downloadModel } from '../hub/hub';
import type {
  BackendInfo,
  EngineEvent,
  ExportedFile,
  GenerateParams,
  GenerateResult,
  ModelInfo,
  ModelSource,
  ParamsOf,
  RequestKind,
  ResultOf,
  TokenizerSource,
} from '../protocol/protocol';
import type { JobContext } from '../protocol/rpc';
import { generateText } from '../eval/generateText';
import { TrainingHost } from './training';
import { memoryCheckpointStore, type CheckpointStore } from '../train/checkpointStore';
import { modelFilesFromList } from './modelFiles';
import { RunModels, type OpenModel } from './runModels';
import { exportFiles, importAdapterFiles, type ExportSource } from './exports';
import { evaluateExamples } from '../eval/batchEval';
import { evaluateArc } from '../eval/arc';

export interface EngineEnv {
  wasmPaths: string | Record<string, string>;
  /** Where training checkpoints go: OPFS in the worker; memory (the default) in tests and the CLI. */
  checkpoints?: CheckpointStore;
  /** The bundled Pythia tokenizer.json, for models that come without one. */
  bundledTokenizer: () => Promise<unknown>;
  /** Events not tied to a request. */
  emit: (e: EngineEvent) => void;
}

export type JobHooks = JobContext<EngineEvent>;

interface Loaded {
  ctx: ForwardContext;
  tokenizer: Tokenizer;
  /** The tokenizer as exports write it (files for model folders, metadata for GGUF). */
  exportSource: ExportSource;
  /** The model's own tokenizer (null: the bundled one). */
  tokenizerSource: TokenizerSource | null;
  info: ModelInfo;
}

/** Requests that only flip a flag or do arithmetic run beside a queued job (pausing a run must not wait for it to end). */
export const engineSerial = (kind: RequestKind): boolean => kind !== 'controlTraining' && kind !== 'estimateTraining';

export class Engine {
  private backend: BackendInfo | null = null;
  private model: Loaded | null = null;
  private readonly training: TrainingHost;
  private readonly runModels: RunModels;
  private readonly checkpoints: CheckpointStore;

  constructor(private readonly env: EngineEnv) {
    this.checkpoints = env.checkpoints ?? memoryCheckpointStore();
    this.training = new TrainingHost(this.checkpoints);
    this.runModels = new RunModels(this.checkpoints);
  }

  /** Typed dispatch: `kind` fixes params and result. */
  handle<K extends RequestKind>(kind: K, params: ParamsOf<K>, hooks: JobHooks): Promise<ResultOf<K>> {
    const jobs: { [P in RequestKind]: (p: ParamsOf<P>, h: JobHooks) => Promise<ResultOf<P>> } = {
      init: (p) => this.init(p.backend),
      loadModel: (p, h) => this.loadModel(p.source, h),
      generate: (p, h) => this.generate(p, h),
      train: (p, h) => {
        this.runModels.forget(p.runId); // its checkpoints are about to change
        return whileTraining(() => this.training.train(this.trainingModel(), this.backend!, p, h));
      },
      controlTraining: async (p) => ({ accepted: this.training.control(p.runId, p.action) }),
      estimateTraining: async (p) => this.training.estimate(this.requireModel(), this.backend!, p.config, p.trainExamples, p.seqLen),
      deleteRun: async (p) => {
        this.runModels.forget(p.runId);
        await this.training.deleteRun(p.runId);
        return null;
      },
      evaluate: (p, h) => this.evaluate(p, h),
      loadedModel: async () => this.model?.info ?? null,
      modelTokenizer: async () => this.model?.tokenizerSource ?? null,
      exportRun: async (p) => {
        const { exportSource } = this.requireModel();
        const [files] = await this.eachModel([p.ref], (ctx) => exportFiles(ctx, p, exportSource), true);
        return { files };
      },
      importAdapter: async (p) => {
        this.runModels.forget(p.runId);
        return importAdapterFiles(this.checkpoints, p.runId, p.files, this.requireModel().ctx.config);
      },
      arc: (p, h) => this.arc(p, h),
      listCachedModels: async () => {
        const cache = cacheStorageCache();
        const estimate = await globalThis.navigator?.storage?.estimate?.().catch(() => null);
        return { models: cache ? await listCachedModels(cache) : [], usage: estimate?.quota ? { usage: estimate.usage ?? 0, quota: estimate.quota } : null };
      },
      deleteCachedModel: async (p) => {
        const cache = cacheStorageCache();
        if (cache) await deleteCachedModel(cache, p.key);
        return null;
      },
    };
    // Any job can meet the end of the backend's memory: one message says so (backend/outOfMemory.ts).
    // An XNNPACK failure is only printed (xnnStatus.ts): a job that met one fails, never answers with garbage.
    return (jobs[kind] as (p: ParamsOf<K>, h: JobHooks) => Promise<ResultOf<K>>)(params, hooks)
      .then((r) => {
        const xnn = takeXnnFailure();
        if (xnn) throw xnn;
        return r;
      })
      .catch((e: unknown) => {
        const cause = takeXnnFailure() ?? e; // a printed XNNPACK failure is the first thing that went wrong
        throw outOfMemory(cause, this.backend?.name ?? null) ?? cause;
      });
  }

  async init(choice: ParamsOf<'init'>['backend']): Promise<BackendInfo> {
    this.unloadModel(); // tensors belong to the backend they were made on
    this.backend = await initBackend(choice, {
      wasmPaths: this.env.wasmPaths,
      onDeviceLost: (message) => this.env.emit({ type: 'deviceLost', message }),
    });
    return this.backend;
  }

  private unloadModel(): void {
    this.runModels.clear();
    this.training.discardTrainer();
    if (this.model) disposeModel(this.model.ctx);
    this.model = null;
  }

  private requireBackend(): void {
    if (!this.backend) throw new Error('the compute backend is not started yet: wait for it, or reload the page');
  }

  async loadModel(source: ModelSource, hooks: JobHooks): Promise<ModelInfo> {
    this.requireBackend();
    const progress = (stage: 'download' | 'read' | 'upload', file: string | null, loaded: number, total: number | null) =>
      hooks.emit({ type: 'progress', requestId: hooks.requestId, stage, file, loaded, total });

    let configJson: unknown;
    let shards: ArrayBuffer[] = [];
    let shardNames: string[] = [];
    let tokenizerJson: unknown | null = null;
    let tokenizerConfig: unknown | null = null;
    let generationConfig: unknown | null = null;
    let label: string;
    let fileBytes = 0;
    let fromCache = false;
    if (source.kind === 'hub') {
      const d = await downloadModel(source.repo, {
        endpoint: source.endpoint,
        revision: source.revision,
        signal: hooks.signal,
        cache: cacheStorageCache(),
        onProgress: (p) => progress('download', p.file, p.overallLoaded, p.overallTotal),
      });
      configJson = d.config;
      shards = d.weights;
      shardNames = d.weightFiles;
      tokenizerJson = d.tokenizerJson;
      tokenizerConfig = d.tokenizerConfig;
      generationConfig = d.generationConfig;
      fileBytes = shards.reduce((n, s) => n + s.byteLength, 0);
      fromCache = d.fromCache;
      label = d.revision === 'main' ? d.repo : `${d.repo}@${d.revision}`;
    } else if (source.kind === 'files') {
      const files = modelFilesFromList(source.files);
      configJson = files.config;
      shards = files.shards;
      shardNames = files.shardNames;
      tokenizerJson = files.tokenizerJson;
      tokenizerConfig = files.tokenizerConfig;
      generationConfig = files.generationConfig;
      fileBytes = files.bytes;
      label = 'local files';
    } else {
      const { hiddenSize: C, numLayers: L, numHeads: H, seed } = source.spec;
      label = `tiny random ${FAMILY_NAMES[source.spec.family ?? 'gpt_neox']} (${L} layers, hidden ${C}, ${H} heads, seed ${seed})`;
    }
    if (hooks.signal.aborted) throw new DOMException('cancelled', 'AbortError');

    const tokJson = tokenizerJson ?? (await this.env.bundledTokenizer());
    // Checked before any weight goes to the device, so that a refusal leaves the loaded model as it was.
    const config = source.kind === 'random' ? tinyConfig(source.spec) : parseConfig(configJson);
    checkTokenizerFitsModel(tokJson, config.vocabSize, tokenizerJson ? 'model' : 'bundled');
    // Generation stops at any end token config.json or generation_config.json names (an id past the vocabulary is no token).
    const stopTokenIds = [...eosTokenIds(configJson), ...eosTokenIds(generationConfig)].filter((id) => id < config.vocabSize);
    const tokenizer = tokenizerFromJson(tokJson, tokenizerConfig, { stopTokenIds });
    const asFile = (name: string, v: unknown): ExportedFile => ({ name, bytes: new TextEncoder().encode(JSON.stringify(v)) });
    const exportSource: ExportSource = {
      files: [
        asFile('tokenizer.json', tokJson),
        ...(tokenizerConfig ? [asFile('tokenizer_config.json', tokenizerConfig)] : []),
        ...(generationConfig ? [asFile('generation_config.json', generationConfig)] : []),
      ],
      source: { json: tokJson, config: tokenizerConfig ?? null, encode: tokenizer.encode },
      eosToken: tokenizer.decode([tokenizer.eosTokenId]),
    };
    progress('upload', null, 0, null);
    if (source.kind !== 'random') checkCheckpoint(config, shards, shardNames);
    const fingerprint = await modelFingerprint(source.kind === 'random' ? source.spec : configJson, shards);
    // The old model and any trainer go before the new weights arrive, so the two never share the
    // memory (twice a 410m's 1.6 GB would not fit the WASM heap); every check that can refuse ran above.
    this.unloadModel();
    let loaded: { config: ModelConfig; params: ForwardContext['params']; warnings: string[] };
    if (source.kind === 'random') {
      loaded = { config, params: paramsFromData(config, initRandomData(config, source.spec.seed)), warnings: [] };
    } else {
      loaded = loadModel(configJson, shards, shardNames);
    }
    const paramCount = countParams(loaded.config);
    const info: ModelInfo = {
      label,
      source: source.kind,
      config: loaded.config,
      paramCount,
      deviceBytes: paramCount * 4,
      fileBytes,
      tokenizer: tokenizerJson ? 'model' : 'bundled',
      chatTemplate: chatTemplateOf(tokenizerConfig) !== null,
      fromCache,
      warnings: loaded.warnings,
      fingerprint,
    };
    const tokenizerSource = tokenizerJson ? { tokenizerJson, tokenizerConfig } : null;
    this.model = { ctx: { params: loaded.params, config: loaded.config }, tokenizer, exportSource, tokenizerSource, info };
    return info;
  }

  private requireModel(): Loaded {
    if (!this.model) throw new Error('no model is loaded: load one in the Model panel first');
    return this.model;
  }

  /**
   * The base model laid out for decoding (model/decodeLayout.ts): with Wᵀ copies where they fit,
   * else Wᵀ in place of each block matrix. A paused run's trainer holds W, so then W stays.
   */
  private decodingContext(): ForwardContext {
    const { ctx } = this.requireModel();
    const target = decodingLayout(ctx.config, this.backend?.name ?? 'cpu', fusedKernelsOn());
    return toDecoding(ctx, target === 'decode' && this.training.holdsModel() ? 'plain' : target);
  }

  /** The base model with every W in place, as training and exports read it. */
  private trainingModel(): Loaded {
    const model = this.requireModel();
    toTraining(model.ctx);
    return model;
  }

  /** Runs `job` on each model in turn, each opened only while its job runs; `forExport` needs every W in place. */
  private async eachModel<T>(models: ParamsOf<'evaluate'>['models'], job: (ctx: ForwardContext, index: number) => Promise<T>, forExport = false): Promise<T[]> {
    if (models.length === 0) throw new Error('choose at least one model to evaluate');
    const out: T[] = [];
    for (let i = 0; i < models.length; i++) {
      const base = forExport ? this.trainingModel().ctx : this.decodingContext();
      const open: OpenModel = await this.runModels.open(models[i], base, this.training.liveRun());
      try {
        out.push(await job(open.ctx, i));
      } finally {
        open.release();
      }
    }
    return out;
  }

  async generate(params: GenerateParams, hooks: JobHooks): Promise<GenerateResult> {
    const model = this.requireModel();
    const prompt = params.chat ? this.chatPrompt(params.prompt) : params.prompt;
    const [result] = await this.eachModel([params.model ?? { kind: 'base' }], (ctx) =>
      generateText(ctx, model.tokenizer, { ...params, prompt }, {
        signal: hooks.signal,
        onDelta: (delta, tokenCount) => hooks.emit({ type: 'token', requestId: hooks.requestId, delta, tokenCount }),
      }),
    );
    // A stopped run is a cancelled request like any other (CancelledError on the client); its text was already streamed.
    if (result.reason === 'cancelled') throw new DOMException('cancelled', 'AbortError');
    return result;
  }

  /** The prompt as one user turn of the loaded model's chat template, with the assistant's turn opened. */
  private chatPrompt(text: string): string {
    const template = chatTemplateOf(this.requireModel().tokenizerSource?.tokenizerConfig ?? null);
    if (!template) throw new Error('the loaded model has no chat template: untick "Chat", or load an instruct model (…-Instruct, Qwen3)');
    return renderChat(template, [{ role: 'user', content: text }], true);
  }

  async evaluate(p: ParamsOf<'evaluate'>, hooks: JobHooks): Promise<ResultOf<'evaluate'>> {
    const { tokenizer } = this.requireModel();
    if (p.examples.length === 0) throw new Error('no examples to evaluate: the test split is empty');
    const outputs = await this.eachModel(p.models, (ctx, model) =>
      evaluateExamples(ctx, tokenizer, p.examples, {
        sampling: p.sampling,
        tokenize: p.tokenize,
        signal: hooks.signal,
        onRow: (index, output) => hooks.emit({ type: 'evalRow', requestId: hooks.requestId, model, index, output }),
      }),
    );
    return { outputs };
  }

  async arc(p: ParamsOf<'arc'>, hooks: JobHooks): Promise<ResultOf<'arc'>> {
    const { tokenizer } = this.requireModel();
    const results = await this.eachModel(p.models, async (ctx, model) => {
      const r = await evaluateArc(ctx, tokenizer, p.docs, {
        signal: hooks.signal,
        onProgress: (done, total) => hooks.emit({ type: 'arcProgress', requestId: hooks.requestId, model, done, total }),
      });
      return { acc: r.acc, acc_norm: r.acc_norm, n: r.n };
    });
    return { results };
  }
}
