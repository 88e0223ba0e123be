using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Measurement.Observables;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Training;

namespace LearningMechanics.Tests.Training;

/// <summary>
/// The thresholds edge-of-stability judges against, on a loss that is exactly quadratic (a linear model with the MSE):
/// gradient descent is stable iff the sharpness the Hessian observable reports is below 2/η, heavy-ball momentum in
/// PyTorch's form iff it is below (2 + 2β)/η (Cohen et al. 2021). A factor-2 slip in the loss convention or the momentum
/// form would move either threshold and fail here.
/// </summary>
public class StabilityThresholdTests
{
    [Theory]
    [InlineData(OptimizerKind.Gd, 0.0)]
    [InlineData(OptimizerKind.Momentum, 0.9)]
    [InlineData(OptimizerKind.Momentum, 0.5)]
    public void TheQuadraticDivergesJustAboveItsThresholdAndConvergesJustBelow(OptimizerKind kind, double beta)
    {
        var net = new Network<double>(NetworkSpec.Parse("dense(2)", Parameterization.Standard), 3);
        var data = new Dataset(TestData.RandomMatrix(20, 3, 8), TestData.RandomMatrix(20, 2, 9));
        net.Initialize(new Rng(1));
        var start = (double[])net.Parameters.Clone();
        double sharpness = new Hessian(net, data, new MseLoss()).Sharpness(40, new Rng(2));
        double threshold = (2 + 2 * beta) / sharpness;   // the learning rate at which S = (2 + 2β)/η
        double Final(double lr)
        {
            start.CopyTo(net.Parameters, 0);
            var options = new TrainingOptions(new MseLoss(), new OptimizerSettings(kind, lr, beta), 3000, DivergenceFactor: 1e6);
            var r = new Trainer<double>(net, data, options).Run();
            return r.Status == TrainingStatus.Diverged ? double.PositiveInfinity : r.Losses[^1] - r.Losses[^2];
        }
        Assert.True(Math.Abs(Final(0.97 * threshold)) < 1e-6, "below the threshold the loss settles");
        Assert.True(double.IsPositiveInfinity(Final(1.03 * threshold)), "above the threshold GD diverges");
    }
}
