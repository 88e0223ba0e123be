using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Measurement.Observables;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Training;

namespace LearningMechanics.Tests.Measurement.Observables;

/// <summary>
/// B_simple's two parts against an independent route: the network's batched backward pass over every batch of size 2
/// drawn without replacement from 7 examples. Their mean squared gradient is |G|² + (N − B)/(B(N − 1))·tr Σ (the variance
/// of a sample mean without replacement), and the full batch's gradient is G.
/// </summary>
public class GradientNoiseScaleTests
{
    [Theory]
    [InlineData("mse")]
    [InlineData("ce")]
    public void TraceAndSignalMatchTheBatchGradientsOfEveryPair(string lossName)
    {
        const int n = 7;
        var net = new Network<double>(NetworkSpec.Parse("dense(5)-tanh-dense(3)"), 4);
        net.Initialize(new Rng(3));
        var x = TestData.RandomMatrix(n, 4, 4);
        var data = lossName == "ce"
            ? Dataset.Classification(x, [0, 1, 2, 0, 1, 2, 1], 3, "toy")
            : new Dataset(x, TestData.RandomMatrix(n, 3, 5));
        var loss = Loss.Parse(lossName);
        var (bSimple, trace, norm2) = new GradientNoiseScale(net, data, loss).Measure();
        double[] BatchGradient(int[] rows)
        {
            var sub = data.Subset(rows);
            var ws = net.CreateWorkspace(rows.Length);
            var dOut = new double[rows.Length * 3];
            loss.Evaluate<double>(net.Forward(sub.X.Data, ws), sub.Y.Data, rows.Length, dOut);
            var g = new double[net.ParameterCount];
            net.Backward(ws, dOut, g);
            return g;
        }
        var full = BatchGradient([.. Enumerable.Range(0, n)]);
        Assert.Equal(full.Sum(v => v * v), norm2, 1e-12 * Math.Max(1, norm2));
        var pairs = (from i in Enumerable.Range(0, n) from j in Enumerable.Range(i + 1, n - i - 1) select new[] { i, j }).ToList();
        double meanSquare = pairs.Average(r => BatchGradient(r).Sum(v => v * v));
        Assert.Equal(meanSquare, norm2 + (n - 2.0) / (2 * (n - 1.0)) * trace, 1e-10 * meanSquare);
        Assert.Equal(trace / norm2, bSimple, 1e-12 * bSimple);
        Assert.True(trace > 0 && norm2 > 0);
    }
}
