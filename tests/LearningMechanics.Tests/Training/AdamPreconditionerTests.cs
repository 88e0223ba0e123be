using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Measurement.Observables;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Training;

namespace LearningMechanics.Tests.Training;

/// <summary>
/// Adam's preconditioned sharpness (Cohen et al. 2022): the preconditioner P reproduces Adam's actual step as −η·P⁻¹m (so the
/// threshold (2 + 2β₁)/((1 − β₁)η) applies to λ_max(P⁻¹H)), and Lanczos on P^{−1/2}HP^{−1/2} gives the dense eigenvalue.
/// </summary>
public class AdamPreconditionerTests
{
    /// <summary>Two steps with known gradients: m after step k is Σ β₁^{k−j}(1 − β₁)g_j, and θ moves by exactly −η·P⁻¹m
    /// (μP's per-tensor Adam factors and a hidden-layer factor included).</summary>
    [Fact]
    public void AdamsStepIsMinusEtaTimesTheInversePreconditionerTimesTheFirstMoment()
    {
        var net = new Network<double>(NetworkSpec.Parse("dense(6)-tanh-dense(6)-tanh-dense(2)", Parameterization.MuP), 3);
        net.Initialize(new Rng(3));
        var settings = new OptimizerSettings(OptimizerKind.Adam, 0.01, Beta1: 0.9, Beta2: 0.99, Epsilon: 1e-3, HiddenFactor: 0.5);
        var opt = new Optimizer<double>(net, settings);
        int n = net.ParameterCount;
        var rng = new Rng(4);
        var m = new double[n];
        var p = new double[n];
        for (int step = 0; step < 3; step++)
        {
            var g = new double[n];
            rng.FillGaussian(g);
            for (int i = 0; i < n; i++) g[i] *= 1 + i % 5;
            opt.AdamPreconditioner(g, p);
            for (int i = 0; i < n; i++) m[i] = settings.Beta1 * m[i] + (1 - settings.Beta1) * g[i];
            var before = (double[])net.Parameters.Clone();
            opt.Step(net.Parameters, g, settings.LearningRate);
            for (int i = 0; i < n; i++)
                Assert.Equal(-settings.LearningRate * m[i] / p[i], net.Parameters[i] - before[i], 1e-12 * Math.Abs(before[i]) + 1e-15);
        }
    }

    [Fact]
    public void PreconditionedSharpnessIsTheTopEigenvalueOfTheDenseScaledHessian()
    {
        var net = new Network<double>(NetworkSpec.Parse("dense(5)-tanh-dense(2)", Parameterization.Standard), 3);
        var data = new Dataset(TestData.RandomMatrix(12, 3, 8), TestData.RandomMatrix(12, 2, 9));
        net.Initialize(new Rng(1));
        var hessian = new Hessian(net, data, new MseLoss());
        int n = hessian.Dimension;
        var diagonal = new double[n];
        var rng = new Rng(5);
        for (int i = 0; i < n; i++) diagonal[i] = 0.05 + rng.NextDouble();
        var h = hessian.Full();
        var scaled = new Matrix(n, n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) scaled[i, j] = h[i, j] / Math.Sqrt(diagonal[i] * diagonal[j]);
        double dense = Lapack.SymmetricEigen(scaled).Values.Max();
        double lanczos = hessian.PreconditionedSharpness(diagonal, n, new Rng(6));
        Assert.Equal(dense, lanczos, 1e-8 * Math.Abs(dense));
        Assert.NotEqual(hessian.Sharpness(n, new Rng(6)), lanczos, 1e-3);
    }
}
