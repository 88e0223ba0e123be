using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Training;

namespace LearningMechanics.Tests.Training;

public class TrainingTests
{
    private static (Network<double>, Dataset) Small(string param = "sp")
    {
        var net = new Network<double>(
            NetworkSpec.Parse("dense(32)-relu-dense(32)-relu-dense(1)", ParameterizationNames.Parse(param), 2, 0), 4);
        net.Initialize(new Rng(1));
        return (net, Teacher.Label(TestData.RandomMatrix(64, 4, 2), "dense(8)-tanh-dense(1)", new Rng(3)));
    }

    [Fact]
    public void GradientDescentReducesTheTrainingLoss()
    {
        var (net, data) = Small();
        var r = new Trainer<double>(net, data, new TrainingOptions(new MseLoss(), new OptimizerSettings(OptimizerKind.Gd, 0.1), 200)).Run();
        Assert.Equal(TrainingStatus.Completed, r.Status);
        Assert.Equal(200, r.Losses.Count);
        Assert.True(r.FinalLoss < 0.2 * r.Losses[0], $"loss {r.Losses[0]} → {r.FinalLoss}");
    }

    [Fact]
    public void AHugeLearningRateIsRecordedAsDivergedWithItsStep()
    {
        var (net, data) = Small();
        var r = new Trainer<double>(net, data, new TrainingOptions(new MseLoss(), new OptimizerSettings(OptimizerKind.Gd, 50), 500)).Run();
        Assert.Equal(TrainingStatus.Diverged, r.Status);
        Assert.Equal("diverged", r.StatusText);
        Assert.NotNull(r.DivergedAt);
        Assert.True(r.DivergedAt < 500);
        Assert.Contains("diverged", r.Note);
        Assert.Null(r.FinalLoss);
    }

    [Fact]
    public void TrainingStopsAtTheTargetLoss()
    {
        var (net, data) = Small();
        var r = new Trainer<double>(net, data,
            new TrainingOptions(new MseLoss(), new OptimizerSettings(OptimizerKind.Adam, 0.01), 5000, TargetLoss: 1e-2)).Run();
        Assert.Equal(TrainingStatus.TargetReached, r.Status);
        Assert.True(r.Losses[^1] <= 1e-2 && r.Losses.Count < 5000);
    }

    [Fact]
    public void Float32TrainingTracksFloat64()
    {
        var spec = NetworkSpec.Parse("dense(32)-tanh-dense(32)-tanh-dense(1)", Parameterization.Ntk);
        var n64 = new Network<double>(spec, 4);
        var n32 = new Network<float>(spec, 4);
        n64.Initialize(new Rng(1)); n32.Initialize(new Rng(1));
        var data = Teacher.Label(TestData.RandomMatrix(64, 4, 2), "dense(8)-tanh-dense(1)", new Rng(3));
        var o = new TrainingOptions(new MseLoss(), new OptimizerSettings(OptimizerKind.Sgd, 0.5), 50, 16, Seed: 4);
        var a = new Trainer<double>(n64, data, o).Run();
        var b = new Trainer<float>(n32, data, o).Run();
        for (int t = 0; t < 50; t++)
            Assert.True(Math.Abs(a.Losses[t] - b.Losses[t]) < 1e-4 * a.Losses[t] + 1e-6, $"step {t}: {a.Losses[t]} vs {b.Losses[t]}");
    }

    [Fact]
    public void MiniBatchesCoverEveryPointOncePerEpoch()
    {
        var (net, data) = Small();
        var seen = new List<int>();
        new Trainer<double>(net, data, new TrainingOptions(new MseLoss(), new OptimizerSettings(OptimizerKind.Sgd, 0.01), 8, 16, Seed: 2))
            .Run(s => seen.AddRange(s.BatchRows));
        Assert.Equal(Enumerable.Range(0, 64), seen.Take(64).Order());
        Assert.Equal(Enumerable.Range(0, 64), seen.Skip(64).Order());
        Assert.NotEqual(seen.Take(64), seen.Skip(64));
    }

    [Fact]
    public void SchedulesHaveTheirDefiningValues()
    {
        Assert.Equal(1, LearningRateSchedule.Parse("constant").Factor(50, 100));
        Assert.Equal(0.5, LearningRateSchedule.Parse("cosine").Factor(50, 100), 1e-12);
        Assert.Equal(0.25, LearningRateSchedule.Parse("step(10,0.5)").Factor(25, 100), 1e-12);
        var w = LearningRateSchedule.Parse("warmup(10)+cosine");
        Assert.Equal(0.1, w.Factor(0, 110), 1e-12);
        Assert.Equal(1, w.Factor(10, 110), 1e-12);
        Assert.Equal("warmup(10)+cosine", w.ToString());
        Assert.Throws<BadInputException>(() => LearningRateSchedule.Parse("step(0,2)"));
        Assert.Throws<BadInputException>(() => LearningRateSchedule.Parse("exponential"));
    }

    [Fact]
    public void MismatchedDataAndBadSettingsAreRejectedWithTheirValues()
    {
        var (net, data) = Small();
        var opt = new OptimizerSettings(OptimizerKind.Sgd, 0.1);
        Assert.Contains("features", Assert.Throws<BadInputException>(() =>
            new Trainer<double>(net, new Dataset(new Matrix(4, 3), new Matrix(4, 1)), new TrainingOptions(new MseLoss(), opt, 1))).Message);
        Assert.Contains("outputs", Assert.Throws<BadInputException>(() =>
            new Trainer<double>(net, new Dataset(new Matrix(4, 4), new Matrix(4, 2)), new TrainingOptions(new MseLoss(), opt, 1))).Message);
        Assert.Contains("Batch size 100", Assert.Throws<BadInputException>(() =>
            new Trainer<double>(net, data, new TrainingOptions(new MseLoss(), opt, 1, 100))).Message);
        Assert.Contains("-1", Assert.Throws<BadInputException>(() =>
            new Trainer<double>(net, data, new TrainingOptions(new MseLoss(), opt with { LearningRate = -1 }, 1))).Message);
        var nan = data.X.Clone(); nan[3, 1] = double.NaN;
        Assert.Contains("row 3", Assert.Throws<BadInputException>(() =>
            new Trainer<double>(net, data with { X = nan }, new TrainingOptions(new MseLoss(), opt, 1))).Message);
    }

    /// <summary>The hidden-weight factor (depth-μP's block rate) scales the steps of the hidden weights alone, for SGD,
    /// momentum and Adam: every step is linear in its rate, so the hidden tensors move by exactly f times as far.</summary>
    [Theory]
    [InlineData(OptimizerKind.Sgd)]
    [InlineData(OptimizerKind.Momentum)]
    [InlineData(OptimizerKind.Adam)]
    public void TheHiddenFactorScalesOnlyTheHiddenWeights(OptimizerKind kind)
    {
        var net = new Network<double>(NetworkSpec.Parse("dense(6)-relu-dense(6)-relu-dense(6)-relu-dense(2)"), 3);
        net.Initialize(new Rng(5));
        var grad = TestData.RandomMatrix(1, net.ParameterCount, 6).Data;
        double[] Moves(double factor)
        {
            var theta = (double[])net.Parameters.Clone();
            var opt = new Optimizer<double>(net, new OptimizerSettings(kind, 0.01, HiddenFactor: factor));
            opt.Step(theta, grad, 0.01);
            opt.Step(theta, grad, 0.01);
            return [.. theta.Zip(net.Parameters, (a, b) => a - b)];
        }
        var plain = Moves(1);
        var scaled = Moves(0.25);
        foreach (var t in net.Tensors)
            for (int i = t.Offset; i < t.Offset + t.Length; i++)
                Assert.Equal(t.Role == ParameterRole.HiddenWeight ? 0.25 * plain[i] : plain[i], scaled[i], 1e-15);
        Assert.Contains(net.Tensors, t => t.Role == ParameterRole.HiddenWeight);
        Assert.Contains("-1", Assert.Throws<BadInputException>(() =>
            new Optimizer<double>(net, new OptimizerSettings(kind, 0.01, HiddenFactor: -1))).Message);
    }
}
