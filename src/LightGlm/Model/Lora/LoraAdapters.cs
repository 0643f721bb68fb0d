// LoRA adapters over a frozen model: y = x·Wᵀ + (α/r)·(x·Aᵀ)·Bᵀ per adapted linear map; A and B live in an arena of
// their own (weights, gradients and — in the trainer — AdamW moments), so the base needs no gradient or optimizer state.
using System.Text.Json.Nodes;
using LightGlm.IO;
using LightGlm.Model.Checkpoints;
using LightGlm.Model.Ops;

namespace LightGlm.Model.Lora;

/// <summary>Where one adapter lives in the arena: A (r, In) at <paramref name="A"/>, B (Out, r) at <paramref name="B"/>.</summary>
public readonly record struct LoraSlot(int A, int B, int In, int Out)
{
    public bool IsEmpty => Out == 0;
}

/// <summary>
/// The adapters of one model (Hu et al. 2021, "LoRA"). Attach with <see cref="GlmModel.AttachLora"/>: the blocks then add
/// each adapter's term after their linear maps, the backward adds into <see cref="Grads"/> only (the base's gradients are
/// not computed), and a <c>Trainer</c> made afterwards steps these tensors instead of the model's. Init as PEFT: A ~
/// U(−1/√in, 1/√in) (kaiming_uniform with a = √5), B = 0, so an attached adapter starts as the identity.
/// <see cref="MergeInto"/> folds W += (α/r)·B·A into the base weights: the result is an ordinary model.
/// </summary>
public sealed class LoraAdapters
{
    /// <summary>The file of a training checkpoint that holds the adapters (TrainingCheckpoint).</summary>
    public const string CheckpointFile = "lora.safetensors";

    public ModelConfig Config { get; }
    public LoraOptions Options { get; }
    public int Rank => Options.Rank;
    public float Scale => Options.Scale;
    /// <summary>Every A and B, named <see cref="TensorNames.LoraA"/>/<see cref="TensorNames.LoraB"/> of the module.</summary>
    public IReadOnlyList<ParameterTensor> Tensors => _tensors;
    public float[] Weights { get; }
    public float[] Grads { get; }

    readonly List<ParameterTensor> _tensors = [];
    readonly LoraSlot[,] _slots;  // [block, target]
    float[] _u = [], _g = [];     // (N, r) scratch: x·Aᵀ and dy·B of the map being run (one micro-batch at a time)

    public LoraAdapters(ModelConfig config, LoraOptions options, ulong seed = 1)
    {
        var p = options.Problems();
        if (p.Count > 0) throw new ArgumentException("invalid LoRA options: " + string.Join("; ", p));
        if (options.ParameterCount(config) > Array.MaxLength)
            throw new ArgumentException($"LoRA rank {options.Rank}: {options.ParameterCount(config):N0} adapter parameters do not fit one arena");
        Config = config;
        Options = options;
        _slots = new LoraSlot[config.L, 4];
        int offset = 0;
        int Add(string name, int layer, int rows, int cols)
        {
            var t = new ParameterTensor(name, offset, [rows, cols], layer, NoDecay: false);
            _tensors.Add(t);
            checked { offset += t.Length; }
            return t.Offset;
        }
        int r = options.Rank;
        for (int i = 0; i < config.L; i++)
            foreach (var target in options.Targets)
            {
                var (inDim, outDim) = LoraOptions.Shape(config, target);
                string module = Module(i, target);
                int a = Add(TensorNames.LoraA(module), i, r, inDim);
                int b = Add(TensorNames.LoraB(module), i, outDim, r);
                _slots[i, (int)target] = new LoraSlot(a, b, inDim, outDim);
            }
        Weights = new float[offset];
        Grads = new float[offset];
        Initialise(seed);
    }

    /// <summary>The module a target of block <paramref name="i"/> is (its adapter's name without .lora_A/B.weight).</summary>
    public static string Module(int i, LoraTarget t) => t switch
    {
        LoraTarget.Qkv => TensorNames.QkvModule(i), LoraTarget.O => TensorNames.OModule(i),
        LoraTarget.GateUp => TensorNames.GateUpModule(i), _ => TensorNames.DownModule(i),
    };

    public LoraSlot Slot(int block, LoraTarget t) => _slots[block, (int)t];

    /// <summary>A ~ U(−1/√in, 1/√in), B = 0 (deterministic in <paramref name="seed"/>).</summary>
    public void Initialise(ulong seed)
    {
        var rng = new Rng(seed);
        Array.Clear(Weights);
        foreach (var s in _slots)
        {
            if (s.IsEmpty) continue;
            double bound = 1 / Math.Sqrt(s.In);
            var a = Weights.AsSpan(s.A, Rank * s.In);
            for (int i = 0; i < a.Length; i++) a[i] = (float)((2 * rng.NextDouble() - 1) * bound);
        }
    }

    TensorView W(int offset, int length) => new(Weights, offset, length);
    TensorView G(int offset, int length) => new(Grads, offset, length);

    (TensorView U, TensorView G) Scratch(int n)
    {
        int len = n * Rank;
        if (_u.Length < len) { _u = new float[len]; _g = new float[len]; } // grows once to the largest micro-batch
        return (new TensorView(_u, 0, len), new TensorView(_g, 0, len));
    }

    /// <summary>y (N, Out) += s·(x·Aᵀ)·Bᵀ with x (N, In), s = α/r: the adapter's term, added after the base map y = x·Wᵀ + b.</summary>
    internal void Forward(int block, LoraTarget target, TensorView y, TensorView x, int N)
    {
        var s = _slots[block, (int)target];
        if (s.IsEmpty) return;
        int r = Rank;
        var (u, _) = Scratch(N);
        Gemm.NT(u, x, W(s.A, r * s.In), N, r, s.In, accumulate: false);                            // u (N, r) = x·Aᵀ
        Gemm.NT(y, u, W(s.B, s.Out * r), N, s.Out, r, accumulate: true, alpha: Scale);             // y += s·u·Bᵀ
    }

    /// <summary>
    /// Inverts y += s·(x·Aᵀ)·Bᵀ given dy (N, Out): u = x·Aᵀ again (N·In·r flops — cheaper than keeping it per block),
    /// dB (Out, r) += s·dyᵀ·u; g = dy·B (N, r); dA (r, In) += s·gᵀ·x; dx (N, In) += s·g·A (dx already holds dy·W).
    /// </summary>
    internal void Backward(int block, LoraTarget target, TensorView dx, TensorView dy, TensorView x, int N)
    {
        var s = _slots[block, (int)target];
        if (s.IsEmpty) return;
        int r = Rank;
        var (u, g) = Scratch(N);
        var a = W(s.A, r * s.In);
        var b = W(s.B, s.Out * r);
        Gemm.NT(u, x, a, N, r, s.In, accumulate: false);                                           // u = x·Aᵀ
        Gemm.TN(G(s.B, s.Out * r), dy, u, s.Out, r, N, accumulate: true, alpha: Scale);            // dB += s·dyᵀ·u
        Gemm.NN(g, dy, b, N, r, s.Out, accumulate: false);                                         // g = dy·B
        Gemm.TN(G(s.A, r * s.In), g, x, r, s.In, N, accumulate: true, alpha: Scale);               // dA += s·gᵀ·x
        Gemm.NN(dx, g, a, N, s.In, r, accumulate: true, alpha: Scale);                             // dx += s·g·A
    }

    /// <summary>W += s·B·A for every adapter, into <paramref name="model"/>'s base weights (fused q|k|v and gate|up
    /// are adjacent in the arena, so one GEMM per adapter).</summary>
    public void MergeInto(GlmModel model)
    {
        if (model.Config.ModelJson() != Config.ModelJson()) throw new ArgumentException("these adapters were made for a model of another config");
        for (int i = 0; i < Config.L; i++)
        {
            var o = model.Layout.Blocks[i];
            foreach (var t in Options.Targets)
            {
                var s = _slots[i, (int)t];
                int w = t switch { LoraTarget.Qkv => o.Qkv, LoraTarget.O => o.O, LoraTarget.GateUp => o.GateUp, _ => o.Down };
                Gemm.NN(model.W(w, s.Out * s.In), W(s.B, s.Out * Rank), W(s.A, Rank * s.In), s.Out, s.In, Rank, accumulate: true, alpha: Scale);
            }
        }
    }

    /// <summary>
    /// rows (count, In) += s·B[r0 .. r0 + count)·A: rows [r0, r0 + count) of one adapted map's update, added to those rows
    /// of its base (fused q|k|v and gate|up rows numbered as in the arena). How a frozen base's merged copy is written
    /// row block by row block (<see cref="FrozenMerge"/>). A map without an adapter adds nothing.
    /// </summary>
    public void AddDelta(int block, LoraTarget target, int r0, int count, Span<float> rows)
    {
        var s = _slots[block, (int)target];
        if (s.IsEmpty || count == 0) return;
        if (r0 < 0 || r0 + count > s.Out) throw new ArgumentOutOfRangeException(nameof(r0), $"rows [{r0}, {r0 + count}) outside the map's {s.Out}");
        Kernels.Gemm.Sgemm(false, false, count, s.In, Rank, Scale, Weights.AsSpan(s.B + r0 * Rank, count * Rank), Rank,
            Weights.AsSpan(s.A, Rank * s.In), s.In, 1f, rows[..(count * s.In)], s.In);
    }

    /// <summary>rank, alpha and targets, as the safetensors metadata of a checkpoint's <see cref="CheckpointFile"/>.</summary>
    public Dictionary<string, string> Metadata() => new()
    {
        ["format"] = "pt", ["lora_rank"] = Rank.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["lora_alpha"] = Options.Alpha.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        ["lora_targets"] = string.Join(",", TargetModules()),
    };

    IEnumerable<string> TargetModules() => Options.Targets.Select(t => Module(0, t)[TensorNames.Layer(0).Length..].Split('.')[^1]);

    /// <summary>The adapters (and, with <paramref name="prefix"/>, an arena of the same layout) as safetensors tensors.</summary>
    public List<TensorToWrite> ToWrite(float[]? arena = null, string prefix = "") => SafeTensorsWriter.FromArena(_tensors, arena ?? Weights, prefix);

    /// <summary>Reads an arena of this layout from <paramref name="f"/> (names with <paramref name="prefix"/>): every tensor
    /// present with its shape, or an error naming what differs (another rank or other targets).</summary>
    /// <param name="checkSettings">Also require the file's metadata (a checkpoint's) to name this α and these targets.</param>
    public void Read(SafeTensorsFile f, float[] arena, string prefix = "", bool checkSettings = false)
    {
        var problems = new List<string>();
        if (checkSettings)
            foreach (var (k, v) in Metadata())
                if (k != "format" && (!f.Metadata.TryGetValue(k, out var got) || got != v)) problems.Add($"{k} = {(got ?? "(absent)")}, this run has {v}");
        foreach (var t in _tensors)
        {
            if (!f.Tensors.TryGetValue(prefix + t.Name, out var e)) { problems.Add($"tensor '{prefix + t.Name}' {t.ShapeText} is missing"); continue; }
            if (!e.Shape.SequenceEqual(t.Shape.Select(d => (long)d))) { problems.Add($"tensor '{e.Name}' has shape {e.ShapeText}, rank {Rank} needs {t.ShapeText}"); continue; }
            f.ReadFloat32(e.Name, arena, t.Offset);
        }
        if (problems.Count > 0)
            throw new InvalidDataException($"{f.Path}: does not hold these LoRA adapters (rank {Rank}, targets {string.Join(",", TargetModules())}):\n  - " +
                                           string.Join("\n  - ", problems.Take(10)));
    }

    /// <summary>
    /// Writes the adapters alone as a PEFT adapter directory: adapter_model.safetensors (names base_model.model.MODULE.lora_A/B.weight)
    /// and adapter_config.json (r, lora_alpha, target_modules). The fused modules are qkv_proj and gate_up_proj (Phi-3's
    /// names); a model with separate q/k/v maps takes our qkv adapter as three adapters sharing A with B split by rows.
    /// </summary>
    public void SaveAdapters(string dir)
    {
        Directory.CreateDirectory(dir);
        SafeTensorsWriter.Write(Path.Combine(dir, "adapter_model.safetensors"), ToWrite(prefix: "base_model.model."), new Dictionary<string, string> { ["format"] = "pt" });
        var cfg = new JsonObject
        {
            ["peft_type"] = "LORA", ["task_type"] = "CAUSAL_LM", ["r"] = Rank, ["lora_alpha"] = Options.Alpha, ["lora_dropout"] = 0.0,
            ["bias"] = "none", ["fan_in_fan_out"] = false, ["init_lora_weights"] = true,
            ["target_modules"] = new JsonArray([.. TargetModules().Select(m => (JsonNode)m)]),
        };
        AtomicFile.WriteAllText(Path.Combine(dir, "adapter_config.json"), cfg.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    }
}
