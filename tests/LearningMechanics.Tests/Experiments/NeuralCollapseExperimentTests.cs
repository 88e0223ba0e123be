using LearningMechanics.Experiments;
using LearningMechanics.Lab;

namespace LearningMechanics.Tests.Experiments;

/// <summary>What <c>neural-collapse</c> says when there is no terminal phase to measure: every claim inconclusive, with the
/// reason, instead of a verdict on a network that never fit its data or diverged.</summary>
public class NeuralCollapseExperimentTests
{
    private static ExperimentOutput Run(params (string Key, string Value)[] settings)
    {
        var experiment = new NeuralCollapseExperiment();
        var overrides = new Dictionary<string, string> { ["per_class"] = "3", ["width"] = "16", ["seeds"] = "2", ["records"] = "4" };
        foreach (var (k, v) in settings) overrides[k] = v;
        return experiment.Run(new RunContext(RunMode.Quick, 7, new Settings(experiment.Settings, RunMode.Quick, overrides)));
    }

    [Fact]
    public void TooFewStepsForFullAccuracyLeaveEveryClaimInconclusive()
    {
        var output = Run(("steps", "12"), ("lr", "0.001"));
        Assert.Equal(4, output.Claims.Count);
        Assert.All(output.Claims, c => Assert.Equal(Verdict.Inconclusive, c.Verdict));
        Assert.All(output.Claims, c => Assert.Contains("did not reach 100 % training accuracy", c.Note));
    }

    [Fact]
    public void ADivergingNetworkIsReportedNotJudged()
    {
        var output = Run(("steps", "200"), ("lr", "1000"));
        Assert.All(output.Claims, c => Assert.Equal(Verdict.Inconclusive, c.Verdict));
        Assert.All(output.Claims, c => Assert.Contains("stopped early", c.Note));
    }
}
