using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Measurement.Observables;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.SolvableModels;
using LearningMechanics.Training;

namespace LearningMechanics.Tests.Measurement.Observables;

/// <summary>
/// Mode strengths of deep linear networks (Saxe et al. 2014) against explicit matrix products, the decoupled balanced
/// initialisation against its definition, and a network trained by the library's GD against the one-mode recursion.
/// </summary>
public class LinearModesTests
{
    private static readonly double[] S = [3, 1.5, 0.5];

    private static LinearTeacher Teacher() => LinearTeacher.Whitened(6, 4, S, new Rng(5));

    [Fact]
    public void TheTaskIsWhitenedWithTheChosenSpectrum()
    {
        var t = Teacher();
        var x = t.Data.X;
        int p = x.Rows;
        var sxx = Matrix.Multiply(x, x, Transpose.Yes, Transpose.No);
        var syx = Matrix.Multiply(t.Data.Y, x, Transpose.Yes, Transpose.No);
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(0, Enumerable.Range(0, p).Sum(r => x[r, i]), 1e-12);
            for (int j = 0; j < 6; j++) Assert.Equal(i == j ? 1 : 0, sxx[i, j] / p, 1e-12);
        }
        for (int o = 0; o < 4; o++)
            for (int j = 0; j < 6; j++)
                Assert.Equal(Enumerable.Range(0, S.Length).Sum(a => t.OutputModes[o, a] * S[a] * t.InputModes[j, a]), syx[o, j] / p, 1e-12);
    }

    [Fact]
    public void StrengthsAreTheProjectedProduct()
    {
        var t = Teacher();
        var net = new Network<double>(NetworkSpec.Parse("dense(7)-dense(5)-dense(4)", Parameterization.Ntk, 1.7, 0.1), 6);
        net.Initialize(new Rng(3));
        var product = Matrix.Multiply(net.EffectiveWeight(2), Matrix.Multiply(net.EffectiveWeight(1), net.EffectiveWeight(0)));
        var u = new double[S.Length];
        new LinearModes(net, t.OutputModes, t.InputModes).Measure(u);
        for (int a = 0; a < S.Length; a++)
        {
            double expected = 0;
            for (int o = 0; o < 4; o++) for (int j = 0; j < 6; j++) expected += t.OutputModes[o, a] * product[o, j] * t.InputModes[j, a];
            Assert.Equal(expected, u[a], 1e-12);
        }
    }

    [Fact]
    public void NonlinearNetworksAreRefused()
    {
        var t = Teacher();
        var net = new Network<double>(NetworkSpec.Parse("dense(7)-relu-dense(4)"), 6);
        Assert.Throws<BadInputException>(() => new LinearModes(net, t.OutputModes, t.InputModes));
    }

    [Fact]
    public void DecoupledInitialisationIsBalancedAndDiagonal()
    {
        var t = Teacher();
        var net = new Network<double>(NetworkSpec.Parse("dense(8)-dense(8)-dense(4)", Parameterization.Ntk, 2, 0), 6);
        new LinearModes(net, t.OutputModes, t.InputModes).InitializeDecoupled(1e-3, new Rng(9));
        var w = Enumerable.Range(0, 3).Select(net.EffectiveWeight).ToArray();
        var product = Matrix.Multiply(w[2], Matrix.Multiply(w[1], w[0]));
        // W₃W₂W₁ = U·u₀·Vᵀ: every mode at u₀ and no coupling between modes.
        for (int a = 0; a < S.Length; a++)
            for (int b = 0; b < S.Length; b++)
            {
                double m = 0;
                for (int o = 0; o < 4; o++) for (int j = 0; j < 6; j++) m += t.OutputModes[o, a] * product[o, j] * t.InputModes[j, b];
                Assert.Equal(a == b ? 1e-3 : 0, m, 1e-15);
            }
        // Balanced: W_{l+1}ᵀW_{l+1} = W_lW_lᵀ.
        for (int l = 0; l < 2; l++)
        {
            var left = Matrix.Multiply(w[l + 1], w[l + 1], Transpose.Yes, Transpose.No);
            var right = Matrix.Multiply(w[l], w[l], Transpose.No, Transpose.Yes);
            for (int i = 0; i < left.Data.Length; i++) Assert.Equal(left.Data[i], right.Data[i], 1e-14);
        }
    }

    /// <summary>
    /// A decoupled depth-3 network trained by the library's full-batch GD on the mean squared error follows, mode by mode,
    /// the one-dimensional recursion a ← a + η·a²(s − a³), η the rate of L = ½E‖y − ŷ‖² (our loss: (2/d_out)·L).
    /// </summary>
    [Fact]
    public void TrainedDecoupledNetworkFollowsTheModeRecursion()
    {
        var t = Teacher();
        var net = new Network<double>(NetworkSpec.Parse("dense(8)-dense(8)-dense(4)", Parameterization.Standard, 1, 0), 6);
        var modes = new LinearModes(net, t.OutputModes, t.InputModes);
        modes.InitializeDecoupled(0.05, new Rng(9));
        const double eta = 0.02;
        // Stop half-way to the smallest mode's half-time: the largest is learned by then (its half-time is ~40× shorter).
        int steps = (int)(0.5 * DeepLinearModes.HalfTime(3, S[2], 0.05) / eta);
        var gd = new OptimizerSettings(OptimizerKind.Gd, eta * 4 / 2);
        new Trainer<double>(net, t.Data, new TrainingOptions(new MseLoss(), gd, steps)).Run();
        var u = new double[S.Length];
        modes.Measure(u);
        for (int a = 0; a < S.Length; a++)
        {
            double expected = 0.05;
            for (int k = 0; k < steps; k++) expected = DeepLinearModes.GdStep(3, S[a], expected, eta);
            Assert.Equal(expected, u[a], 1e-9);
        }
        Assert.True(u[0] > 0.9 * S[0] && u[2] < 0.5 * S[2], $"the largest mode is learned first: u = {string.Join(", ", u)}");
    }
}
