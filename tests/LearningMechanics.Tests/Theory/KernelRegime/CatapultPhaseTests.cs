using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Measurement.Observables;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.KernelRegime;
using LearningMechanics.Training;

namespace LearningMechanics.Tests.Theory.KernelRegime;

/// <summary>The catapult bounds in this project's loss convention: the uv-model map against real GD steps, and its phases.</summary>
public class CatapultPhaseTests
{
    [Fact]
    public void UvStepIsOneGdStepOfAOneHiddenLayerLinearNetwork()
    {
        // f = (σ_w/√n)vᵀ(σ_w/√d)Ux with σ_b = 0 is the uv model: κ = c²‖x‖², c = σ_w²/√(nd). Narrow (n = 4) so that the
        // η²κf² terms are visible; y = 0 and η = 1.7·η_crit, inside the catapult window.
        const int n = 4, d = 3;
        const double sw2 = 2;
        var net = new Network<double>(NetworkSpec.Parse($"dense({n})-linear-dense(1)", Parameterization.Ntk, sw2, 0), d);
        net.Initialize(new Rng(3));
        var x = Matrix.FromRows([[1.5, -0.7, 2.0]]);
        var data = new Dataset(x, new Matrix(1, 1));
        double kappa = sw2 * sw2 * x.Data.Sum(v => v * v) / (n * d);
        double f0 = Trainer<double>.Predict(net, x)[0, 0], lambda0 = new EmpiricalNtk(net, 1).Compute(x)[0, 0];
        double eta = 1.7 * CatapultPhase.LinearThreshold(1, lambda0);
        new Trainer<double>(net, data, new TrainingOptions(new MseLoss(), new OptimizerSettings(OptimizerKind.Gd, eta), 1)).Run();
        var (f1, lambda1) = CatapultPhase.UvStep(f0, lambda0, eta, kappa);
        double fNet = Trainer<double>.Predict(net, x)[0, 0], lambdaNet = new EmpiricalNtk(net, 1).Compute(x)[0, 0];
        Assert.True(Math.Abs(4 * eta * eta * kappa * f0 * f0) > 1e-3, "the nonlinear term must matter in this test");
        Assert.Equal(f1, fNet, 1e-10 * Math.Abs(f0));
        Assert.Equal(lambda1, lambdaNet, 1e-10 * lambda0);
    }

    [Theory]
    [InlineData(0.45, false)]
    [InlineData(0.75, false)]
    [InlineData(0.975, false)]
    [InlineData(1.025, true)]
    [InlineData(1.5, true)]
    public void UvMapCatapultsBelowItsMaximumAndDivergesAbove(double fractionOfMaximum, bool diverges)
    {
        // Wide uv model (κ = 1/n, n = 10⁶), λ₀ = 1, N = 1: η_crit = 1. Below η_max = 2η_crit the loss returns to ~0 with
        // η·λ < 1 (in the lazy region again); above, λ grows with |f| and the run blows up.
        const double kappa = 1e-6;
        double eta = fractionOfMaximum * CatapultPhase.UvModelMaximum * CatapultPhase.LinearThreshold(1, 1.0), f = 1, lambda = 1;
        int t = 0;
        for (; t < 10000 && Math.Abs(f) < 1e6 && Math.Abs(f) > 1e-8; t++) (f, lambda) = CatapultPhase.UvStep(f, lambda, eta, kappa);
        Assert.Equal(diverges, !(Math.Abs(f) <= 1e-8));
        if (!diverges) Assert.True(eta * lambda < 1, $"after the catapult η·λ = {eta * lambda} must be below the linear threshold 1");
    }

    [Fact]
    public void LinearThresholdIsTheLinearisedDynamicsThreshold()
    {
        var theta = Matrix.FromRows([[2.0, 0.5, 0.1], [0.5, 1.0, 0.2], [0.1, 0.2, 0.7]]);
        double lambdaMax = Lapack.SymmetricEigen(theta).Values[^1];
        Assert.Equal(new KernelDynamics(theta).MaxStableLearningRate, CatapultPhase.LinearThreshold(3, lambdaMax), 1e-12);
        Assert.Throws<BadInputException>(() => CatapultPhase.LinearThreshold(3, 0));
    }

    [Theory]
    [InlineData("relu", 6.0)]
    [InlineData("tanh", 2.0)]
    [InlineData("linear", 2.0)]
    [InlineData("abs", double.NaN)]
    public void MaximumRatioFollowsTheActivationClass(string activation, double expected)
    {
        double? ratio = CatapultPhase.MaximumRatio(Activation.Parse(activation));
        Assert.Equal(expected, ratio ?? double.NaN);
    }
}
