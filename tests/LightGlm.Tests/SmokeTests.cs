namespace LightGlm.Tests;

public class SmokeTests
{
    [Fact]
    public void LibraryAssemblyLoads() => Assert.Equal("LightGlm", typeof(LightGlm.Kernels.KernelInfo).Assembly.GetName().Name![..8]);
}
