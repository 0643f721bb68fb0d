// LoRA settings (Hu et al. 2021): rank r, scale α/r, and which of a block's linear maps get adapters.
namespace LightGlm.Model.Lora;

/// <summary>The linear maps of a block an adapter can sit on. q|k|v and gate|up are fused in our arena (one GEMM each),
/// so each fused map gets one adapter — ChatGLM's own fusion (query_key_value, dense_h_to_4h), Phi-3's names.</summary>
public enum LoraTarget { Qkv, O, GateUp, Down }

/// <param name="Rank">r ≥ 1: A is (r, in), B is (out, r).</param>
/// <param name="Alpha">The update is (α/r)·B·A. Default α = r (scale 1): PEFT's LoraConfig defaults are r = 8,
/// lora_alpha = 8; we keep α = r when the rank changes, so a new rank does not also change the update's scale.</param>
/// <param name="Attention">Adapters on q|k|v and o_proj.</param>
/// <param name="Mlp">Adapters on gate|up and down_proj.</param>
public sealed record LoraOptions(int Rank, double Alpha, bool Attention = true, bool Mlp = true)
{
    /// <summary>The choices of <c>--lora-targets</c> / <c>hybrid.lora_targets</c>.</summary>
    public static readonly string[] TargetNames = ["attention", "mlp"];

    public static LoraOptions Create(int rank, double? alpha = null, IEnumerable<string>? targets = null)
    {
        var t = (targets ?? TargetNames).ToList();
        var o = new LoraOptions(rank, alpha ?? rank, t.Contains("attention"), t.Contains("mlp"));
        var unknown = t.Where(x => !TargetNames.Contains(x)).ToList();
        var p = o.Problems();
        if (unknown.Count > 0) p.Add($"LoRA targets '{string.Join(",", unknown)}' unknown; choose from {string.Join(", ", TargetNames)}");
        if (p.Count > 0) throw new ArgumentException(string.Join("; ", p));
        return o;
    }

    /// <summary>α/r, the factor of B·A.</summary>
    public float Scale => (float)(Alpha / Rank);

    public IEnumerable<LoraTarget> Targets =>
        (Attention ? new[] { LoraTarget.Qkv, LoraTarget.O } : []).Concat(Mlp ? new[] { LoraTarget.GateUp, LoraTarget.Down } : []);

    /// <summary>The adapted maps for messages: "q|k|v, o_proj, gate|up, down_proj".</summary>
    public string TargetText => string.Join(", ", Targets.Select(t => t switch
    {
        LoraTarget.Qkv => "q|k|v", LoraTarget.O => "o_proj", LoraTarget.GateUp => "gate|up", _ => "down_proj",
    }));

    public List<string> Problems()
    {
        var p = new List<string>();
        if (Rank < 1) p.Add($"LoRA rank {Rank} must be >= 1");
        if (!(Alpha > 0) || !double.IsFinite(Alpha)) p.Add($"LoRA alpha {Alpha} must be a finite number > 0");
        if (!Attention && !Mlp) p.Add("LoRA needs at least one target (attention, mlp)");
        return p;
    }

    /// <summary>(in, out) of a target's linear map in a model of config <paramref name="c"/>.</summary>
    public static (int In, int Out) Shape(ModelConfig c, LoraTarget t) => t switch
    {
        LoraTarget.Qkv => (c.C, c.QkvDim),
        LoraTarget.O => (c.H * c.D, c.C),
        LoraTarget.GateUp => (c.C, 2 * c.F),
        _ => (c.F, c.C),
    };

    /// <summary>Adapter parameters for config <paramref name="c"/>: L · Σ_targets r·(in + out), without building anything
    /// (the memory estimate of a 6B model uses it).</summary>
    public long ParameterCount(ModelConfig c) =>
        (long)c.L * Targets.Sum(t => { var (i, o) = Shape(c, t); return (long)Rank * (i + o); });
}
