using System.Text;
using LightGlm.Experiments.Recipes;
using Xunit.Abstractions;

namespace LightGlm.Tests.Reliability;

public class RecipeFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void MutatedRecipesFailCleanly()
    {
        byte[] valid = Encoding.UTF8.GetBytes(Recipe.Load("paper").ToJson());
        var outcome = Mutator.Run(valid, cases: 2000, seed: 7, bytes =>
        {
            var r = Recipe.FromJson(Encoding.UTF8.GetString(bytes));
            _ = r.Get<int>("teacher.hidden_size");
        }, [typeof(InvalidDataException), typeof(KeyNotFoundException)]);
        output.WriteLine($"recipe fuzz: {outcome.Cases} cases, {outcome.Accepted} accepted, {outcome.Rejected} rejected: " +
                         string.Join(", ", outcome.ByException.Select(kv => $"{kv.Key} {kv.Value}")));
        Assert.True(outcome.Rejected > outcome.Cases / 4, $"only {outcome.Rejected} of {outcome.Cases} mutations were rejected: the mutator is too weak");
    }
}
