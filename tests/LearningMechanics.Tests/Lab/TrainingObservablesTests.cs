using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Lab;
using LearningMechanics.Lab.Observables;
using LearningMechanics.Numerics;
using LearningMechanics.Training;

namespace LearningMechanics.Tests.Lab;

/// <summary>The observable registry behind <c>lmech train --observe</c>: names, parsing, fresh instances, and a run with all.</summary>
public class TrainingObservablesTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), $"lmech-observe-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, true);
    }

    [Fact]
    public void TheRegistryListsEveryObservableOnceInTheDocumentedOrder()
    {
        Assert.Equal(["accuracy", "test", "ntk", "ntk-top", "sharpness", "trace", "density", "weights", "cka", "nfa", "collapse",
            "conservation"], TrainingObservables.Names);
        foreach (var name in TrainingObservables.Names)
        {
            var a = TrainingObservables.Create(name);
            Assert.Equal(name, a.Name);
            Assert.NotSame(a, TrainingObservables.Create(name));   // observables keep per-run state
        }
    }

    [Fact]
    public void ParseIsCaseInsensitiveKeepsOrderDropsRepeatsAndNamesTheAllowedOnes()
    {
        Assert.Equal(["trace", "ntk"], TrainingObservables.Parse(" Trace , NTK,trace"));
        Assert.Empty(TrainingObservables.Parse("  "));
        var e = Assert.Throws<BadInputException>(() => TrainingObservables.Parse("ntk,hessian-magic"));
        Assert.Equal($"Unknown observable 'hessian-magic'. Allowed: {string.Join(", ", TrainingObservables.Names)}.", e.Message);
        Assert.Throws<BadInputException>(() => TrainingObservables.Create("hessian-magic"));
    }

    private TrainingJob Job(IReadOnlyList<string> observe, bool withTest = true)
    {
        var all = Synthetic.GaussianMixture(80, 6, 3, 1.0, new Rng(3));
        var spec = NetworkSpec.Parse("dense(12)-relu-dense(12)-relu-dense(3)", Parameterization.Standard, 2, 0);
        return new TrainingJob(spec, all.Take(40), new CrossEntropyLoss(), new OptimizerSettings(OptimizerKind.Adam, 0.01), 12,
            Test: withTest ? all.Subset([.. Enumerable.Range(40, 40)]) : null, Observe: observe, ObserveEvery: 4, OutDir: dir);
    }

    [Fact]
    public void EveryObservableFillsItsColumnsAtEveryObservation()
    {
        var run = TrainingRun.Run(Job(TrainingObservables.Names));
        var table = run.Output.Tables["observables"];
        var columns = table.Columns.Select(c => c.Name).ToList();
        Assert.Equal("step", columns[0]);
        var steps = (double[])table.Columns[0].Values;
        Assert.Equal([0.0, 4, 8], steps[..3]);
        Assert.Equal(12, steps[^1]);   // the trained network is observed too
        Assert.All(table.Columns, c => Assert.Equal(steps.Length, c.Values.Length));
        string[] expected =
        [
            "train_accuracy", "test_loss", "test_accuracy", "ntk_distance", "ntk_alignment", "ntk_top1", "ntk_top3", "sharpness",
            "hessian_trace",
            "hessian_trace_se", "hessian_mean_eigenvalue", "layer0_top_sv", "cka_to_init", "nfa_cosine", "nfa_pearson", "nc1", "nc4",
            "conservation_drift",
        ];
        Assert.Empty(expected.Except(columns));
        // ntk-top: the kernel's three leading eigenvalues, in order and positive (Θ̂ is PSD and, on the 40 probe points, full rank).
        double[] Col(string name) => (double[])table.Columns.Single(c => c.Name == name).Values;
        Assert.All(Enumerable.Range(0, steps.Length), i => Assert.True(Col("ntk_top1")[i] >= Col("ntk_top2")[i]
            && Col("ntk_top2")[i] >= Col("ntk_top3")[i] && Col("ntk_top3")[i] > 0));
        // At the first observation the distances from it are zero.
        Assert.Equal(0, ((double[])table.Columns.Single(c => c.Name == "ntk_distance").Values)[0], 12);
        Assert.Equal(1, ((double[])table.Columns.Single(c => c.Name == "cka_to_init").Values)[0], 12);
        // The observables' own plots come after the per-column lines, density before the weight spectra.
        var titles = run.Output.Plots.Select(p => p.Title).ToList();
        int density = titles.FindIndex(t => t.StartsWith("Hessian spectral density", StringComparison.Ordinal));
        int spectrum = titles.FindIndex(t => t.StartsWith("Final spectrum of", StringComparison.Ordinal));
        Assert.True(density > titles.IndexOf("conservation drift") && spectrum > density, string.Join(" | ", titles));
    }

    [Fact]
    public void AnObservableTheJobCannotFeedIsBadInputBeforeTraining()
    {
        var e = Assert.Throws<BadInputException>(() => TrainingRun.Run(Job(["ntk", "test"], withTest: false)));
        Assert.Contains("'test' needs test data", e.Message);
        Assert.False(Directory.Exists(dir));
    }
}
