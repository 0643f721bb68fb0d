// The Hugging Face architectures we import and export, and how to tell them apart from a config.json.
using System.Text.Json.Nodes;

namespace LightGlm.Interop;

/// <summary>THUDM's ChatGLM2/ChatGLM3/GLM-4 remote code (model_type "chatglm"), transformers' LLaMA and Qwen2.</summary>
public enum HfArchitecture { ChatGlm, Llama, Qwen2 }

public static class HfArchitectures
{
    public static string FormatName(this HfArchitecture a) => a switch
    {
        HfArchitecture.ChatGlm => "hf-chatglm", HfArchitecture.Llama => "hf-llama", _ => "hf-qwen2",
    };

    public static HfArchitecture ParseFormat(string format) => format.ToLowerInvariant() switch
    {
        "hf-chatglm" or "chatglm" or "glm4" or "hf-glm4" => HfArchitecture.ChatGlm,
        "hf-llama" or "llama" => HfArchitecture.Llama,
        "hf-qwen2" or "qwen2" => HfArchitecture.Qwen2,
        _ => throw new FormatException($"--format '{format}' is not one we write; use hf-llama, hf-chatglm or hf-qwen2"),
    };

    /// <summary>Which architecture a config.json describes; errors name model_type/architectures and what we take.</summary>
    public static HfArchitecture Detect(JsonObject cfg, string source)
    {
        string type = cfg["model_type"]?.GetValue<string>() ?? "";
        string archs = cfg["architectures"] is JsonArray a ? string.Join(", ", a.Select(x => x?.GetValue<string>())) : "";
        switch (type)
        {
            case "chatglm":
                if (cfg.ContainsKey("position_encoding_2d") || cfg.ContainsKey("inner_hidden_size"))
                    throw new InvalidDataException($"{source}: this is ChatGLM-6B (v1: 2D positions, GeLU, LayerNorm), which we do not import; ChatGLM2/3 and GLM-4 are supported");
                return HfArchitecture.ChatGlm;
            case "llama": return HfArchitecture.Llama;
            case "qwen2": return HfArchitecture.Qwen2;
            case "lightglm":
                throw new InvalidDataException($"{source}: model_type 'lightglm' is already a LightGlm model directory; use it directly (no import needed)");
            default:
                throw new InvalidDataException($"{source}: unknown architecture (model_type = '{type}', architectures = [{archs}]); " +
                    "we import model_type chatglm (ChatGLM2/3, GLM-4 remote code), llama and qwen2");
        }
    }
}
