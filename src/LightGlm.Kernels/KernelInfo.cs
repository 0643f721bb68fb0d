// Identifies the kernels assembly (used by smoke tests and diagnostics).
namespace LightGlm.Kernels;

/// <summary>Identifies the kernels assembly.</summary>
public static class KernelInfo { public const string Name = "LightGlm.Kernels"; }
